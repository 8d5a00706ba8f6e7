#!/usr/bin/env python
"""Inference speed of one exported landmark model in every format, as ratios against eager PyTorch in the same run.

Single-image latency (one 480x640 photo tensor, median of the per-round medians of 5 rounds of 20 calls) and batch
throughput (batches of 32 at 480x640, median of 5 rounds). Usage:

    python bench/export_latency.py [CHECKPOINT]   # default: a LandmarkCNN at 64 px with random weights
"""
import statistics, sys, tempfile, time, warnings
from pathlib import Path

import torch

from landmark_classifier.export import Predictor, predictor_from_checkpoint, export_torchscript, export_pt2, export_onnx, load_predictor
from landmark_classifier.scratch import LandmarkCNN

def timed(fn, x, calls):
    t0 = time.perf_counter()
    for _ in range(calls): fn(x)
    return (time.perf_counter() - t0)/calls

def main():
    warnings.simplefilter('ignore')
    if len(sys.argv) > 1: pred, what = predictor_from_checkpoint(sys.argv[1]), sys.argv[1]
    else:
        torch.manual_seed(0); pred, what = Predictor(LandmarkCNN(50).eval(), [str(i) for i in range(50)], size=64), 'LandmarkCNN (random weights), 64 px'
    pred.eval(); tmp = Path(tempfile.mkdtemp())
    fns = {'eager': pred}
    fns['TorchScript'] = load_predictor(export_torchscript(pred, tmp/'m.pt'))
    fns['torch.export (.pt2)'] = load_predictor(export_pt2(pred, tmp/'m.pt2'))
    try: fns['ONNX Runtime'] = load_predictor(export_onnx(pred, tmp/'m.onnx'))
    except ImportError as e: print(f'skipping ONNX: {e}')
    one, batch = torch.rand(1, 3, 480, 640), torch.rand(32, 3, 480, 640)
    lat, thr = {}, {}
    with torch.no_grad():
        for name, fn in fns.items(): fn(one); fn(batch)  # warm-up
        for r in range(5):  # rounds interleave the formats, so that drift in the machine's speed hits all alike
            for name, fn in fns.items():
                lat.setdefault(name, []).append(timed(fn, one, 20))
                thr.setdefault(name, []).append(32/timed(fn, batch, 2))
    base_l, base_t = statistics.median(lat['eager']), statistics.median(thr['eager'])
    print(f'{what}; torch {torch.__version__}, {torch.get_num_threads()} threads; medians of 5 rounds\n')
    print(f"| format | single image (ms) | speed-up | batch of 32 (img/s) | speed-up |\n|---|---|---|---|---|")
    for name in fns:
        l, t = statistics.median(lat[name]), statistics.median(thr[name])
        print(f'| {name} | {l*1e3:.2f} | {base_l/l:.2f}x | {t:.0f} | {t/base_t:.2f}x |')

if __name__ == '__main__': main()
