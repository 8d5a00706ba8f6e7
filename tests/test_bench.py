"""`bench/run` works end to end (a `--quick` smoke run: tiny sizes, one trial) and keeps other machines' sections."""
import subprocess, sys
from pathlib import Path

import pytest

from landmark_classifier import __version__

BENCH = Path(__file__).resolve().parents[1]/'bench'/'run'
HANG_GUARD = 3000  # seconds: only ends a run that hangs. A --quick run takes about 2 minutes on two idle cores and several times that on busy ones; a tighter limit would fail a busy machine's run that had nothing wrong

def test_bench_run_quick_writes_its_section_and_keeps_others(tmp_path):
    out = tmp_path/'RESULTS.md'
    other = '<!-- bench/run: some-other-machine -->\n## Some other machine\n\nits figures\n<!-- end some-other-machine -->\n'
    out.write_text('# Benchmark results\n\n' + other)
    r = subprocess.run([sys.executable, str(BENCH), '--quick', '--out', str(out)], capture_output=True, text=True, timeout=HANG_GUARD)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = out.read_text()
    assert other in text  # another machine's section is kept as it was
    for heading in ('### Training', '### Loader', '### Inference on the CPU', '### Inference at scale', '### On Ray Data, one machine', '### GPU'):
        assert heading in text, heading
    for row in ('minimal PyTorch loop (baseline)', 'cache, later epochs', 'ONNX Runtime int8', 'torch.export (.pt2)',
                '`landmark_predict` of 0.4.0', 'the model alone on', 'TorchScript file of 0.4.0 (scripted)', 'QOperator (fused QLinearConv)',
                'TorchScript, oneDNN Graph fused', 'TorchScript, frozen and fused by oneDNN Graph', 'the floor of decoding',
                'the whole command, start-up included', 'the floor, start-up included'):
        assert row in text, row
    assert 'Rows, with 2 unreadable files mixed in: the same.' in text  # Ray's rows are the local command's
    assert f'by landmark_classifier {__version__} with `bench/run --quick --out' in text  # the version and the command that made it
    assert "of this machine's float32 matrix-multiply rate" in text  # fit's training FLOP/s against the machine's
    r2 = subprocess.run([sys.executable, str(BENCH), '--quick', '--out', str(out), '--skip', 'training,loader,inference,scale,ray'],
                        capture_output=True, text=True, timeout=HANG_GUARD)
    assert r2.returncode == 0
    again = out.read_text()
    assert again.count('<!-- bench/run: ') == 2 and other in again  # its own section replaced, not added twice
    assert '### Loader' not in again

def test_bench_run_refuses_fewer_than_five_trials():
    r = subprocess.run([sys.executable, str(BENCH), '--trials', '3'], capture_output=True, text=True)
    assert r.returncode == 2 and 'at least 5' in r.stderr

def test_bench_real_photo_section_trains_every_recipe_on_the_folder(tmp_path):
    "`--photos PATH` adds a table with one row per recipe, trained on that folder, with the command that trained it."
    from landmark_classifier.testing import make_shapes
    photos = make_shapes(tmp_path/'photos', n_train=12, n_test=3, size=32)
    out = tmp_path/'RESULTS.md'
    r = subprocess.run([sys.executable, str(BENCH), '--quick', '--out', str(out), '--skip', 'training,loader,inference,scale,ray,gpu',
                        '--photos', str(photos), '--photo-seconds', '3'], capture_output=True, text=True, timeout=HANG_GUARD)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = out.read_text()
    assert '### Real photos: each recipe at equal wall time (3 s of training), on `photos`' in text
    rows = [l for l in text.splitlines() if l.startswith('| `')]
    sys.path.insert(0, str(BENCH.parent)); from real_photos import RECIPES
    assert [l.split(' | ')[0] for l in rows] == [f'| `{name}`' for name in RECIPES]
    for row, (model, recipe, times) in zip(rows, RECIPES.values()):  # each row trained on the folder, for its multiple of the budget
        assert '--data PHOTOS' in row and f'--max-seconds {3.0*times} ' in row and f'--model {model} ' in row, row

def test_ray_floor_reserves_what_the_command_reserves():
    "`bench/ray_floor.py` keeps its own copy of the actors' CPU share, so as not to import torch: the copy must be the command's."
    pytest.importorskip('ray')
    sys.path.insert(0, str(BENCH.parent))
    import ray_floor
    from landmark_classifier.predict import ACTOR_CPUS
    assert ray_floor.ACTOR_CPUS == ACTOR_CPUS
