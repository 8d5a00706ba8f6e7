#!/usr/bin/env python
"""Does a threshold fitted on photos the tagger must refuse also refuse other unknown landmarks? Train on some classes
of a folder of photos, give every photo of some other classes as `--distractors` (every other one fits the threshold,
as `landmark_demo` does, the rest measure it), hold further classes out as the unknown landmarks, and compare the
threshold fitted on the known validation photos alone with the one fitted on the distractors too. The folder is a
parameter: the project ships no photos.

    python bench/distractors.py PATH/TO/PHOTOS --distractors 06,07 --hold-out 08,09 --out bench/DISTRACTORS.md
"""
import argparse, datetime, json, platform, subprocess, sys, tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shown import shown_command, shown_path
from landmark_classifier import __version__
from landmark_classifier.data import check_dataset, display_name, find_image_files
from landmark_classifier.demo import hold_out_classes, link_or_copy
from landmark_classifier.export import load_predictor
from landmark_classifier.predict import predict_files

def distractor_folder(photos:Path, classes:str, work:Path) -> tuple:
    "(the dataset without `classes`, a flat folder of every photo of `classes`, train and test) as hard links."
    data, _ = hold_out_classes(photos, classes, work/'data')
    left = {p.name for p in (data/'train').iterdir()}
    folder = work/'distractors'
    folder.mkdir()
    for split in ('train', 'test'):
        for c in sorted(p for p in (photos/split).iterdir() if p.is_dir() and p.name not in left):
            for p in find_image_files(c): link_or_copy(p, folder/f'{split}_{c.name}_{p.name}')
    return data, folder

def confidences(pred, photos:list) -> tuple:
    "([N] confidences, [N] top names) of `photos`, as `landmark_predict` reads them."
    rows = [r for _, r in predict_files(pred, photos, k=1, batch_size=32, num_workers=1)]
    return torch.tensor([r.confidence for r in rows]), [r.top[0][0] for r in rows]

def table(report:Path, known:list, held:list, measured:list) -> tuple:
    "The markdown rows of both thresholds, and the run's calibration record."
    cal = json.loads((report/'transfer'/'metrics.json').read_text())['calibration']
    pred = load_predictor(report/'models'/'transfer.pt', batch_size=32)
    known_conf, named = confidences(pred, known)
    right = torch.tensor([n == display_name(p.parent.name) for n, p in zip(named, known)])
    held_conf, _ = confidences(pred, held)
    measured_conf, _ = confidences(pred, measured)
    rows = []
    for name, t in (('fitted on the known validation photos', cal['recall_threshold']), ('raised on the distractors (the export\'s)', cal['threshold'])):
        rows.append(f"| {name} | {t:.4f} | {((known_conf >= t) & right).float().mean():.1%} | {(held_conf >= t).float().mean():.1%} | {(measured_conf >= t).float().mean():.1%} |")
    return rows, cal, right.float().mean().item()

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('photos', type=Path, help='A folder of photos in the dataset layout (train/ and test/ of NN.Class_Name/*.jpg)')
    p.add_argument('--distractors', default='06,07', help='Classes whose photos are the distractors, as --hold-out takes them')
    p.add_argument('--hold-out', default='08,09', help='Classes kept out of training as the unknown landmarks')
    p.add_argument('--budget', type=float, default=600., help="landmark_demo's budget in seconds")
    p.add_argument('--out', type=Path, default=Path('bench/DISTRACTORS.md'))
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix='distractors_'))
    data, folder = distractor_folder(args.photos, args.distractors, work)
    report = work/'report'
    subprocess.run(['landmark_demo', '--data', str(data), '--hold-out', args.hold_out, '--distractors', str(folder), '--out', str(report), '--budget', str(args.budget)], check=True)
    known = find_image_files(report/'known_classes'/'test')
    trained = set(check_dataset(report/'known_classes').classes)
    held = [p for c in check_dataset(data).classes if c not in trained for p in find_image_files(data/'test'/c)]  # the held-out classes' test photos
    measured = find_image_files(folder)[1::2]  # the half landmark_demo did not fit on
    rows, cal, closed = table(report, known, held, measured)
    command = shown_command(['python', 'bench/distractors.py', str(args.photos), '--distractors', args.distractors, '--hold-out', args.hold_out, '--budget', f'{args.budget:g}', '--out', shown_path(args.out, 'OUT')], {args.photos: 'PHOTOS'})
    text = f"""# A threshold fitted on distractors, on real photos

Made by `{command}` with landmark_classifier {__version__} on {datetime.date.today()}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads.
PHOTOS is a folder of real photos in the dataset layout (the project ships none). `landmark_demo` trains on the classes
left after removing `{args.distractors}` (the distractors: every photo of them, every other one fitting the threshold,
the rest measured) and `{args.hold_out}` (held out: landmarks no threshold saw). Figures of the transfer model's export,
at each threshold, on {len(known)} known test photos, {len(held)} held-out test photos and
{len(measured)} measured distractors. Closed-set accuracy {closed:.1%}.

| threshold | value | known photos tagged right | held-out landmarks tagged | distractor landmarks tagged |
|---|---|---|---|---|
""" + '\n'.join(rows) + f"""

Training fitted the raised threshold on {cal['distractors']} distractor photos: {cal['distractors_tagged_before']:.1%} of them cleared the
first threshold, {cal['distractors_tagged']:.1%} clear the raised one, which {cal['valid_recall']:.1%} of the validation photos still reach
(it is never raised past 90%).
"""
    args.out.write_text(text)
    print(text)

if __name__ == '__main__': main()
