#!/usr/bin/env python
"""The open-set table on real photos: train on some classes of a folder, hold the others out as landmarks the model
must refuse, and measure every candidate confidence of `landmark_classifier.openset`, then enrol each held-out landmark
from a few of its training photos. The folder is a parameter: the project ships no photos.

    python bench/open_set.py PATH/TO/PHOTOS --hold-out 08,09 --seconds 320 --everyday PATH/TO/EVERYDAY --out bench/OPEN_SET.md
"""
import argparse, datetime, platform, shlex, shutil, sys, tempfile, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shown import shown_command
from landmark_classifier import __version__
from landmark_classifier.data import check_dataset, display_name, find_image_files, stratified_split
from landmark_classifier.export import image_to_tensor, predictor_from_checkpoint
from landmark_classifier.enroll import enroll
from landmark_classifier.images import read_image
from landmark_classifier.learner import TRANSFER_PHOTO_RECIPE, train_landmarks
from landmark_classifier.openset import OPEN_SCORES, open_scores, open_set_report, threshold_for_recall

def split_classes(photos:Path, hold_out:list, work:Path) -> tuple:
    "A copy of `photos` without the held-out classes, and {held-out class: (train photos, test photos)}."
    classes = check_dataset(photos).classes
    held = [c for c in classes if any(c.startswith(h) for h in hold_out)]
    for split in ('train', 'test'):
        for c in classes:
            if c not in held: shutil.copytree(photos/split/c, work/'known'/split/c)
    return work/'known', {c: (find_image_files(photos/'train'/c), find_image_files(photos/'test'/c)) for c in held}

@torch.no_grad()
def logits_and_embeddings(pred, paths:list) -> tuple:
    "([N, C] logits, [N, D] unit embeddings) of each photo, through the predictor as an export runs it."
    logits, embeddings = zip(*(pred.logits_and_embedding(image_to_tensor(read_image(p), min_side=pred.resize, max_side=2*pred.resize)) for p in paths))
    return torch.cat(logits), torch.cat(embeddings)

def photo_scores(pred, paths:list) -> tuple:
    "({score: [N] confidences}, [N] predicted class) of each photo, through the predictor as an export runs it."
    logits, embeddings = logits_and_embeddings(pred, paths)
    return open_scores(logits, embeddings, pred.gallery, pred.gallery_labels, float(pred.temperature)), logits.argmax(1)

@torch.no_grad()
def tagged(pred, paths:list) -> tuple:
    "([N] top class, [N] whether the confidence clears the threshold) of each photo."
    probs, confidence = zip(*(pred.scores(image_to_tensor(read_image(p), min_side=pred.resize, max_side=2*pred.resize)) for p in paths))
    return torch.cat(probs).argmax(1), torch.cat(confidence) >= pred.threshold

def train_without(photos:Path, hold_out:list, seconds:float, work:Path) -> tuple:
    "(known dataset root, {held-out class: (train, test photos)}, the run's result, its predictor, known classes, [(train photo, label)]): TRANSFER_PHOTO_RECIPE trained in `work` on the other classes."
    known_root, held = split_classes(photos, hold_out, work)
    res = train_landmarks(str(known_root), model='transfer', out=str(work/'run'), progress=False, **dict(TRANSFER_PHOTO_RECIPE, max_seconds=seconds, cache=True))
    pred = predictor_from_checkpoint(work/'run'/'best.pt')
    classes = check_dataset(known_root).classes
    items = [(p, label) for label, c in enumerate(classes) for p in find_image_files(known_root/'train'/c)]
    return known_root, held, res, pred, classes, items

def open_set_table(photos:Path, hold_out:list, seconds:float, everyday:Path|None, shots:int) -> str:
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        known_root, held, res, pred, classes, items = train_without(photos, hold_out, seconds, work)
        valid = stratified_split(items, TRANSFER_PHOTO_RECIPE['valid_size'], 42)[1]  # the split train_landmarks validated on
        test = [(p, label) for label, c in enumerate(classes) for p in find_image_files(known_root/'test'/c)]
        valid_scores, _ = photo_scores(pred, [p for p, _ in valid])
        test_scores, test_pred = photo_scores(pred, [p for p, _ in test])
        unknown_scores, _ = photo_scores(pred, [p for c in held for p in held[c][1]])
        everyday_scores = photo_scores(pred, find_image_files(everyday))[0] if everyday else None
        right = test_pred == torch.tensor([label for _, label in test])
        rows = ['| confidence | AUROC | FPR at 95% recall | known tagged right | unknown landmarks tagged | everyday photos tagged | GAP |', '|---|---|---|---|---|---|---|']
        for name in OPEN_SCORES:
            threshold = pred.threshold if name == pred.score else threshold_for_recall(valid_scores[name], 0.95)
            r = open_set_report(test_scores[name], right, unknown_scores[name], threshold)
            every = f"{int((everyday_scores[name] >= threshold).sum())} of {len(everyday_scores[name])}" if everyday else '-'
            mark = " (the export's)" if name == pred.score else ''
            rows.append(f"| `{name}`{mark} | {r['auroc']:.3f} | {r['fpr95']:.1%} | {r['known_tagged_right']:.1%} "
                        f"| {r['unknown_tagged']:.1%} | {every} | {r['gap']:.3f} |")
        new = work/'new'
        for c, (train_photos, _) in held.items():
            (new/c).mkdir(parents=True)
            for p in train_photos[:shots]: shutil.copy(p, new/c)
        t0 = time.perf_counter()
        bigger = enroll(pred, new)
        enroll_seconds = time.perf_counter() - t0
        held_test = [(p, display_name(c)) for c, (_, tests) in held.items() for p in tests]
        top, known = tagged(bigger, [p for p, _ in held_test])
        new_right = sum(bool(k) and display_name(bigger.class_names[t]) == name for t, k, (_, name) in zip(top.tolist(), known.tolist(), held_test))/len(held_test)
        after, _ = tagged(bigger, [p for p, _ in test])
        before = right.float().mean().item()
        known_after = (after == torch.tensor([label for _, label in test])).float().mean().item()
    lines = [f"Trained on {len(classes)} classes ({res.test.accuracy:.1%} closed-set test accuracy, {res.seconds:.0f} s), held out: {', '.join(display_name(c) for c in held)}. "
             f"Thresholds: the export's own for `{pred.score}`, the others fitted to keep 95% of the validation photos.", '', *rows, '',
             f"Enrollment of the held-out landmarks from {shots} training photos each, in {enroll_seconds:.1f} s: {new_right:.1%} of their test photos tagged right; "
             f"the known landmarks' test accuracy {before:.1%} before, {known_after:.1%} after."]
    return '\n'.join(lines)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('photos', help='a dataset folder of real photos in our layout (train/ and test/ of NN.Class_Name/*.jpg)')
    ap.add_argument('--hold-out', default='08,09', help='classes held out as unknown landmarks: prefixes of their folder names, separated by commas')
    ap.add_argument('--seconds', type=float, default=320., help='training budget (max_seconds) of the transfer recipe')
    ap.add_argument('--everyday', default=None, help='a folder of everyday photos of no landmark (people, pets, food, streets)')
    ap.add_argument('--shots', type=int, default=10, help='training photos of each held-out landmark that enrollment sees')
    ap.add_argument('--out', default='bench/OPEN_SET.md', help='markdown file to write')
    a = ap.parse_args()
    table = open_set_table(Path(a.photos), a.hold_out.split(','), a.seconds, Path(a.everyday) if a.everyday else None, a.shots)
    command = shown_command(sys.argv[1:], {a.photos: 'PHOTOS', a.everyday: 'EVERYDAY'})  # folders outside the repository, named by their role
    everyday = f', EVERYDAY for a folder of {len(find_image_files(Path(a.everyday)))} everyday photos of no landmark' if a.everyday else ''
    head = (f'<!-- written by: python bench/open_set.py {command} -->\n'
            f'`{Path(a.photos).name}`, TRANSFER_PHOTO_RECIPE for {a.seconds:.0f} s; landmark_classifier {__version__}, {platform.processor() or platform.machine()}, '
            f'{datetime.date.today()}. PHOTOS stands for the folder of photos{everyday}.\n\n')
    Path(a.out).write_text(head + table + '\n')
    print(head + table)

if __name__ == '__main__': main()
