#!/usr/bin/env python
"""GPU checks of the training engine, run on a CUDA machine: fit with AMP and channels_last, checkpoints written on
the GPU, resume on the GPU, and the checkpoints copied to $OUT for loading on a CPU machine.

    OUT=/some/folder python bench/gpu_check.py
"""
import json, os, shutil, tempfile, time
from pathlib import Path

import torch

from landmark_classifier.synthetic import make_synthetic_landmarks
from landmark_classifier.loaders import get_data_loaders
from landmark_classifier.scratch import LandmarkCNN
from landmark_classifier.train import fit, evaluate, autocast_dtype

out = Path(os.environ.get('OUT', 'gpu_check_out')); out.mkdir(parents=True, exist_ok=True)
assert torch.cuda.is_available(), 'no CUDA device'
work = Path(tempfile.mkdtemp())  # the synthetic set and the run, thrown away with the machine
dev = torch.device('cuda')
report = {'device': torch.cuda.get_device_name(0), 'torch': torch.__version__, 'amp_dtype': str(autocast_dtype(dev))}
t0 = time.perf_counter()
root = make_synthetic_landmarks(work/'synthetic', n_classes=10, n_train=60, n_test=10, size=128, n_workers=16)
report['generate_s'] = round(time.perf_counter() - t0, 1)
dls = get_data_loaders(root, batch_size=64, size=224, num_workers=8)
torch.manual_seed(0); m = LandmarkCNN(10)
h = fit(m, dls, epochs=3, lr=3e-3, scheduler='onecycle', out=work/'run', progress=False, stop_after=2)
report['channels_last'] = m.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
report['history_first_session'] = [{k: round(v, 4) for k, v in r.items()} for r in h]
# resume on the GPU for the last epoch
torch.manual_seed(0); m2 = LandmarkCNN(10)
h2 = fit(m2, dls, epochs=3, lr=3e-3, scheduler='onecycle', out=work/'run', resume=work/'run'/'last.pt', progress=False)
report['history_resumed'] = [{k: round(v, 4) for k, v in r.items()} for r in h2]
ck = torch.load(work/'run'/'last.pt', map_location='cpu', weights_only=True)
report['checkpoint_devices'] = sorted({str(v.device) for v in ck['model'].values()})
report['test'] = repr(evaluate(m2, dls['test']))
for f in ('best.pt', 'last.pt'): shutil.copy(work/'run'/f, out/f'gpu_{f}')
(out/'gpu_check.json').write_text(json.dumps(report, indent=1))
print(json.dumps(report, indent=1))
