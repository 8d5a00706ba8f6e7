#!/usr/bin/env python
"""`landmark_predict --engine ray` against the local command on one machine, both in the same run (trials alternate;
medians): photos/s of the whole command, Ray's start-up included, and photos/s once the rows flow (the local command's
own rate, model loading excluded, against Ray's rate after its first rows). Beside them, the floor: the same number of
rows through a Ray Data job whose model class does nothing (`bench/ray_floor.py`), the most any model class could reach
here with start-up included. Then the rows themselves, with two unreadable files mixed in: Ray's against the local command's.

    python bench/ray_engine.py CHECKPOINT [--photos FOLDER] [--n 600] [--trials 5]

CHECKPOINT is a `train_landmarks` best.pt; FOLDER holds full-size photos to crop the n from (default: synthetic drawings)."""
import argparse, json, re, statistics, subprocess, sys, tempfile, time
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
    "{'local whole', 'ray whole', 'local flowing', 'ray flowing', 'floor whole'}: lists of photos/s, one a trial."
    rates = {k: [] for k in ('local whole', 'ray whole', 'local flowing', 'ray flowing', 'floor whole')}
    base = ['landmark_predict', str(model), str(folder), '--format', 'csv']
    for _ in range(trials):
        wall, _err = _run([sys.executable, str(HERE/'ray_floor.py'), '--n', str(n)])
        rates['floor whole'].append(n/wall)
        wall, err = _run(base)
        rates['local whole'].append(n/wall)
        rates['local flowing'].append(float(re.search(r'photos in [\d.]+ s, (\d+) a second', err).group(1)))
        wall, err = _run(base + ['--engine', 'ray'])
        rates['ray whole'].append(n/wall)
        flowing = re.search(r'then (\d+) a second', err)  # absent when every row came in the first batch (a tiny job)
        rates['ray flowing'].append(float(flowing.group(1)) if flowing else float('nan'))
    return rates

def _json_rows(cmd:list) -> tuple:
    "(exit status, [row] in the order written, stderr) of a `landmark_predict --format json` command."
    r = subprocess.run(cmd + ['--format', 'json'], capture_output=True, text=True)
    return r.returncode, [json.loads(line) for line in r.stdout.splitlines()], r.stderr

def rows_check(model:Path, folder:Path) -> str:
    "One line: Ray's rows against the local command's on `folder` with two unreadable files added, or what differs."
    (folder/'broken.jpg').write_bytes(b'not a photo')
    (folder/'empty.jpg').write_bytes(b'')
    code_local, local_rows, err_local = _json_rows(['landmark_predict', str(model), str(folder)])
    code_ray, ray_rows, err_ray = _json_rows(['landmark_predict', str(model), str(folder), '--engine', 'ray'])
    local, on_ray = {r['path']: r for r in local_rows}, {r['path']: r for r in ray_rows}
    once = sorted(r['path'] for r in ray_rows) == sorted(local)  # from the rows as written: a photo Ray wrote twice shows here
    named = all(name in err for name in ('broken.jpg', 'empty.jpg') for err in (err_local, err_ray))
    same = once and all(on_ray[p]['label'] == local[p]['label'] and on_ray[p]['known'] == local[p]['known'] for p in local)
    gap = max((abs(a['probability'] - b['probability']) for p in local for a, b in zip(on_ray.get(p, {}).get('top', []), local[p]['top'])), default=float('nan'))
    verdict = 'the same' if same and named and gap <= 1e-5 and (code_local, code_ray) == (1, 1) else '**not the same**'
    return (f'Rows, with 2 unreadable files mixed in: {verdict}. The local command gave {len(local_rows)} rows, Ray {len(ray_rows)} '
            f'(each photo once: {"yes" if once else "no"}); labels and `known` equal: {"yes" if same else "no"}; '
            f'largest probability difference {gap:.1e}; both named the unreadable files: {"yes" if named else "no"}; exit status {code_local} locally, {code_ray} on Ray.')

def ray_section(checkpoint, trials:int=5, photos=None, n:int=600) -> str:
    "The markdown of the Ray section."
    tmp = Path(tempfile.mkdtemp())
    model = export_torchscript(predictor_from_checkpoint(checkpoint).eval(), tmp/'model.pt')
    folder = full_size_photos(tmp/'photos', n, photos)
    r = {k: statistics.median(v) for k, v in ray_rates(model, folder, n, trials).items()}
    rows = rows_check(model, folder)
    return '\n'.join([f'{n} full-size photos (800x600 JPEGs) through `landmark_predict`, locally and with `--engine ray` (a local Ray instance the command starts and stops), '
                      f'each command in its own process, {trials} trials each, alternating; medians.', '',
                      '| what | local (photos/s) | Ray (photos/s) | ratio |', '|---|---|---|---|',
                      f"| the whole command, start-up included (Python, the model, and for Ray its instance and workers) | {r['local whole']:.0f} | {r['ray whole']:.1f} | {r['ray whole']/r['local whole']:.2f}x |",
                      f"| once rows flow: the local command's own rate against Ray's after its first rows | {r['local flowing']:.0f} | {r['ray flowing']:.0f} | {r['ray flowing']/r['local flowing']:.2f}x |",
                      f"| the floor, start-up included: the same rows through a Ray Data job whose model class does nothing (`bench/ray_floor.py`) | {r['local whole']:.0f} | {r['floor whole']:.1f} | {r['floor whole']/r['local whole']:.2f}x |",
                      '', 'No model class can make the whole command on Ray faster than the floor: what is left above it is Ray starting its instance, its workers and '
                      'the job, which the local command does not do.', '', rows])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('checkpoint')
    ap.add_argument('--photos', default=None, help='a folder of full-size photos to crop from (default: synthetic drawings at 800 px)')
    ap.add_argument('--n', type=int, default=600)
    ap.add_argument('--trials', type=int, default=5)
    a = ap.parse_args()
    print(ray_section(a.checkpoint, a.trials, a.photos, a.n))

if __name__ == '__main__': main()
