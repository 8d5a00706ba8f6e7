#!/usr/bin/env python
"""`landmark_predict --engine ray` against the local command on one machine, both in the same run (trials alternate;
medians): photos/s of the whole command, Ray's start-up included, and photos/s once the rows flow (the local command's
own rate, model loading excluded, against Ray's rate after its first rows).

    python bench/ray_engine.py CHECKPOINT [--photos FOLDER] [--n 600] [--trials 5]

CHECKPOINT is a `train_landmarks` best.pt; FOLDER holds full-size photos to crop the n from (default: synthetic drawings)."""
import argparse, re, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import full_size_photos
from landmark_classifier.export import export_torchscript, predictor_from_checkpoint

def _run(cmd:list) -> tuple:
    "(wall seconds of the whole command, its stderr)."
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0: raise RuntimeError(f'{" ".join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}')
    return wall, r.stderr

def ray_rates(model:Path, folder:Path, n:int, trials:int) -> dict:
    "{'local whole', 'ray whole', 'local flowing', 'ray flowing'}: lists of photos/s, one a trial."
    rates = {k: [] for k in ('local whole', 'ray whole', 'local flowing', 'ray flowing')}
    base = ['landmark_predict', str(model), str(folder), '--format', 'csv']
    for _ in range(trials):
        wall, err = _run(base)
        rates['local whole'].append(n/wall)
        rates['local flowing'].append(float(re.search(r'photos in [\d.]+ s, (\d+) a second', err).group(1)))
        wall, err = _run(base + ['--engine', 'ray'])
        rates['ray whole'].append(n/wall)
        flowing = re.search(r'then (\d+) a second', err)  # absent when every row came in the first batch (a tiny job)
        rates['ray flowing'].append(float(flowing.group(1)) if flowing else float('nan'))
    return rates

def ray_section(checkpoint, trials:int=5, photos=None, n:int=600) -> str:
    "The markdown of the Ray section."
    tmp = Path(tempfile.mkdtemp())
    model = export_torchscript(predictor_from_checkpoint(checkpoint).eval(), tmp/'model.pt')
    folder = full_size_photos(tmp/'photos', n, photos)
    r = {k: statistics.median(v) for k, v in ray_rates(model, folder, n, trials).items()}
    return '\n'.join([f'{n} full-size photos (800x600 JPEGs) through `landmark_predict`, locally and with `--engine ray` (a local Ray instance the command starts and stops), '
                      f'each command in its own process, {trials} trials each, alternating; medians.', '',
                      '| what | local (photos/s) | Ray (photos/s) | ratio |', '|---|---|---|---|',
                      f"| the whole command, start-up included (Python, the model, and for Ray its instance and workers) | {r['local whole']:.0f} | {r['ray whole']:.1f} | {r['ray whole']/r['local whole']:.2f}x |",
                      f"| once rows flow: the local command's own rate against Ray's after its first rows | {r['local flowing']:.0f} | {r['ray flowing']:.0f} | {r['ray flowing']/r['local flowing']:.2f}x |"])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('checkpoint')
    ap.add_argument('--photos', default=None, help='a folder of full-size photos to crop from (default: synthetic drawings at 800 px)')
    ap.add_argument('--n', type=int, default=600)
    ap.add_argument('--trials', type=int, default=5)
    a = ap.parse_args()
    print(ray_section(a.checkpoint, a.trials, a.photos, a.n))

if __name__ == '__main__': main()
