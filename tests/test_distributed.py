"""`landmark_train` under `torchrun --nproc_per_node=2` on the CPU (gloo): it learns as one process does with the same
global batch, rank 0 alone writes files, and its checkpoint resumes in a single process."""
import json, os, random, shutil, subprocess, sys
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

COLOURS = {'disc': (220, 60, 60), 'square': (60, 200, 60), 'triangle': (60, 80, 220), 'cross': (230, 220, 60)}

def make_shapes(root:Path, n_train=200, n_test=25, size=32, seed=0) -> Path:
    "A small synthetic set in the Udacity layout that a scratch CNN learns in seconds: four shapes, each roughly its own colour, at random places and sizes."
    rng = random.Random(seed)
    def draw(kind):
        img = Image.new('RGB', (size, size), tuple(rng.randrange(256) for _ in range(3)))
        d, r = ImageDraw.Draw(img), rng.uniform(0.25, 0.4)*size
        cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
        col = tuple(min(255, max(0, int(c + rng.gauss(0, 40)))) for c in COLOURS[kind])
        if kind == 'disc': d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
        elif kind == 'square': d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=col)
        elif kind == 'triangle': d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=col)
        else: d.rectangle([cx - r, cy - r/3, cx + r, cy + r/3], fill=col); d.rectangle([cx - r/3, cy - r, cx + r/3, cy + r], fill=col)
        return img
    for split, n in (('train', n_train), ('test', n_test)):
        for i, kind in enumerate(COLOURS):
            folder = root/split/f'{i:02d}.{kind.title()}'; folder.mkdir(parents=True, exist_ok=True)
            for j in range(n): draw(kind).save(folder/f'{j:03d}.png')
    return root

def _cmd(exe:str) -> list: return [shutil.which(exe) or exe]

HANG_GUARD = 3000  # seconds: only ends a job that hangs (ranks out of step wait on each other for ever); busy cores make a job slower, never this slow

def run(args:list, cwd:Path, nproc:int=1, **env):
    "Run landmark_train in one process, or under torchrun with `nproc` processes; fail the test with its output if it fails."
    cmd = _cmd('landmark_train') + args
    if nproc > 1: cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}'] + cmd
    env = {**os.environ, 'OMP_NUM_THREADS': '1', **env}
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=HANG_GUARD)
    assert r.returncode == 0, f'{" ".join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ddp')
    data = make_shapes(tmp/'shapes')
    common = ['--data', str(data), '--size', '32', '--batch-size', '32', '--epochs', '8', '--lr', '3e-3', '--scheduler', 'onecycle',
              '--weight-decay', '1e-4', '--dropout', '0.1', '--num-workers', '0']
    one = run(common + ['--threads', '1', '--out', str(tmp/'one')], tmp)
    two = run(common + ['--out', str(tmp/'two')], tmp, nproc=2)
    half = run(common + ['--out', str(tmp/'half'), '--stop-after', '4'], tmp, nproc=2)
    return dict(tmp=tmp, common=common, one=one, two=two, half=half)

def history(folder:Path) -> list:
    "The run's per-epoch records, without their timings."
    return [{k: v for k, v in r.items() if k != 'seconds'} for r in json.loads((folder/'history.json').read_text())]

def test_two_processes_learn_like_one(runs):
    one, two = history(runs['tmp']/'one'), history(runs['tmp']/'two')
    assert len(one) == len(two) == 8
    a1, a2 = one[-1]['valid_acc'], two[-1]['valid_acc']
    print(f'final valid accuracy: 1 process {a1:.1%}, 2 processes {a2:.1%}')
    assert a1 > 0.8 and a2 > 0.8, 'both runs should learn the shapes'
    assert abs(a1 - a2) <= 0.02, f'1 process {a1:.1%} vs 2 processes {a2:.1%}: more than 2 points apart'
    assert runs['two'].stdout.count('test accuracy:') == 1  # one report, from rank 0

def test_rank_zero_alone_writes(runs):
    tmp = runs['tmp']
    made = sorted(p.name for p in tmp.iterdir())
    assert made == ['half', 'one', 'shapes', 'two'], made  # nothing beside the two report folders: no stray rank-1 files
    assert sorted(p.name for p in (tmp/'two').iterdir()) == sorted(p.name for p in (tmp/'one').iterdir())
    assert not list((tmp/'two').glob('.*.tmp'))

def test_checkpoint_valid_accuracy_is_the_whole_valid_set(runs):
    "The valid accuracy the two ranks reported together is what the saved model scores on the whole validation split."
    from landmark_classifier.loaders import get_data_loaders
    from landmark_classifier.export import predictor_from_checkpoint
    from landmark_classifier.scratch import LandmarkCNN
    from landmark_classifier.train import evaluate, load_checkpoint
    tmp = runs['tmp']; ck = load_checkpoint(tmp/'two'/'last.pt')
    dls = get_data_loaders(tmp/'shapes', batch_size=32, size=32, num_workers=0, stats=tuple(tuple(v) for v in ck['meta']['stats']))
    model = LandmarkCNN(4, 0.1); model.load_state_dict(ck['model'])
    res = evaluate(model, dls['valid'], 'cpu')
    assert abs(res.accuracy - ck['history'][-1]['valid_acc']) < 1e-6
    assert abs(res.loss - ck['history'][-1]['valid_loss']) < 1e-4
    assert len(ck['rng_ranks']) == 2

def test_two_process_checkpoint_resumes_in_one(runs):
    "A 2-process run stopped after 4 of its 8 epochs finishes in one process, on the same schedule."
    tmp = runs['tmp']
    assert [rec['epoch'] for rec in history(tmp/'half')] == [1, 2, 3, 4]
    assert history(tmp/'half') == history(tmp/'two')[:4]  # the same run as far as it went: 2-process runs are reproducible
    r = run(runs['common'] + ['--threads', '1', '--out', str(tmp/'half'), '--resume', str(tmp/'half'/'last.pt')], tmp)
    h = history(tmp/'half')
    assert [rec['epoch'] for rec in h] == list(range(1, 9))
    assert abs(h[-1]['lr'] - history(tmp/'two')[-1]['lr']) < 1e-9  # the one-cycle schedule carried on where it stopped
    assert h[-1]['valid_acc'] > 0.8
    assert r.stdout.strip().splitlines()[-1].startswith('test accuracy: ')

def test_ranks_share_a_fresh_synthetic_set(tmp_path):
    """Two ranks asking for the default synthetic set and its decoded cache on an empty cache: rank 0 makes them while rank 1
    waits (`main_first`), and both train on the same files. A rank that did not wait, or a rank 0 that did not release it,
    leaves the ranks' collective calls out of step: the job fails, or hangs until `HANG_GUARD`."""
    cache = tmp_path/'cache'
    r = run(['--data', 'synthetic', '--size', '32', '--batch-size', '32', '--epochs', '1', '--limit', '128', '--cache',
             '--num-workers', '0', '--out', str(tmp_path/'run')], tmp_path, nproc=2, LANDMARK_CACHE=str(cache))
    assert r.stdout.count('test accuracy:') == 1
    sets = [p for p in (cache/'data').iterdir()]
    assert [p.name for p in sets] == ['synthetic_50c_100tr_25te_200none_128px_seed0_v2'], sets  # one set, no partial copies left
    assert json.loads((sets[0]/'.synthetic.json').read_text())['n_train'] == 100
    assert sum(1 for _ in sets[0].rglob('*.jpg')) == 50*(100 + 25) + 200  # the classes' pictures and the no_landmark/ ones
    decoded, stats = list((cache/'decoded').iterdir()), list((cache/'stats').iterdir())
    assert len(decoded) == 1 and sorted(f.name for f in decoded[0].iterdir()) == ['filled.npy', 'images.npy'], decoded  # one decoded cache
    assert len(stats) == 1 and stats[0].suffix == '.json', stats  # one set of statistics
