#!/usr/bin/env python
"""A metric-learning head against today's softmax head, on the open-set protocol: train MobileNetV2 with
`TRANSFER_PHOTO_RECIPE` on the classes of PHOTOS not held out, once with its linear head and once with a CosFace head
(the cosine between the features and each class's weight vector, times a scale, with an additive margin on the target
class in training), for the same budget; then measure on each what the library's open-set path reads, the gallery of
unit embeddings: the `nearest` confidence (AUROC and FPR at 95% recall against the held-out landmarks, and held-out
photos tagged at the threshold that keeps 95% of the validation photos) and enrollment of each held-out landmark from
10 of its training photos (nearest class prototype, mean of 5 draws). The head is swapped in for the run only (the
library ships the linear head): this script is the measurement behind that choice.

    python bench/cosine_head.py PHOTOS --hold-out 08,09 --seconds 320 --out bench/COSINE_HEAD.md
"""
import argparse, datetime, json, platform, sys, tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shown import shown_command
from landmark_classifier import __version__
import landmark_classifier.learner as learner
import landmark_classifier.transfer as transfer
from landmark_classifier.data import check_dataset, find_image_files, stratified_split
from landmark_classifier.demo import hold_out_classes
from landmark_classifier.export import image_to_tensor, predictor_from_checkpoint
from landmark_classifier.images import read_image
from landmark_classifier.openset import auroc, fpr_at_recall, threshold_for_recall

SCALE, MARGIN = 16., 0.2  # CosFace's s and m, as its paper sets them for face identities

class CosineHead(nn.Linear):
    "SCALE times the cosine between the features and each class's weight vector."
    def forward(self, x): return SCALE*F.linear(F.normalize(x, dim=1), F.normalize(self.weight, dim=1))

def _cosine_head(model, num_classes):
    name = transfer.head_name(model)
    parent, _, attr = name.rpartition('.')
    setattr(model.get_submodule(parent) if parent else model, attr, CosineHead(model.get_submodule(name).in_features, num_classes))

def _cosface_loss(label_smoothing=0.0):
    def loss(logits, y):
        if y.ndim == 1: logits = logits - SCALE*MARGIN*F.one_hot(y, logits.shape[1])  # the margin on the target class; mixed targets get none
        return F.cross_entropy(logits, y, label_smoothing=label_smoothing)
    return loss

def train(known:Path, out:Path, seconds:float, head:str) -> Path:
    "Train the recipe with the linear head or the CosFace head; the best checkpoint's path."
    saved = transfer._replace_head, learner.get_loss
    if head == 'cosface': transfer._replace_head, learner.get_loss = _cosine_head, _cosface_loss
    try: learner.train_landmarks(str(known), model='transfer', out=str(out), progress=False, **dict(learner.TRANSFER_PHOTO_RECIPE, max_seconds=seconds))
    finally: transfer._replace_head, learner.get_loss = saved
    return out/'best.pt'

@torch.no_grad()
def embeddings(checkpoint:Path, paths:list) -> torch.Tensor:
    "[N, D] unit embeddings of the photos, as the exported predictor computes them (the head does not enter them)."
    pred = predictor_from_checkpoint(checkpoint).eval()
    return torch.cat([pred.embed(image_to_tensor(read_image(p), min_side=pred.resize, max_side=2*pred.resize)) for p in paths])

def measure(checkpoint:Path, split:dict) -> dict:
    "The open-set and enrollment figures of one run."
    e = {k: embeddings(checkpoint, [p for p, _ in v]) for k, v in split.items()}
    y = {k: torch.tensor([label for _, label in v]) for k, v in split.items()}
    nearest = lambda q: (q @ e['train'].T).max(1).values
    known, unknown = nearest(e['test']), nearest(e['held_test'])
    threshold = threshold_for_recall(nearest(e['valid']), 0.95)
    g = torch.Generator().manual_seed(0)
    n_known = int(y['train'].max()) + 1
    right = []
    for _ in range(5):
        protos = [F.normalize(e['train'][y['train'] == c].mean(0), dim=0) for c in range(n_known)]
        for c in y['held_train'].unique().tolist():
            idx = torch.nonzero(y['held_train'] == c).flatten()
            protos.append(F.normalize(e['held_train'][idx[torch.randperm(len(idx), generator=g)[:10]]].mean(0), dim=0))
        guess = (e['held_test'] @ torch.stack(protos).T).argmax(1)
        right.append((guess == y['held_test'] + n_known).float().mean().item())
    return dict(auroc=auroc(known, unknown), fpr95=fpr_at_recall(known, unknown), tagged=(unknown >= threshold).float().mean().item(), enrolled=sum(right)/len(right))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('photos')
    ap.add_argument('--hold-out', default='08,09', help='classes held out as unknown landmarks, as `landmark_demo --hold-out` takes them: numbers or names')
    ap.add_argument('--seconds', type=float, default=320.)
    ap.add_argument('--out', default='bench/COSINE_HEAD.md')
    a = ap.parse_args()
    photos = Path(a.photos)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        known_root, _ = hold_out_classes(photos, a.hold_out, work/'known')  # the library's split, as `landmark_demo --hold-out` makes it
        known_classes = check_dataset(known_root).classes
        held = [c for c in check_dataset(photos).classes if c not in known_classes]
        items = [(p, i) for i, c in enumerate(known_classes) for p in find_image_files(photos/'train'/c)]
        train_items, valid_items = stratified_split(items, learner.TRANSFER_PHOTO_RECIPE['valid_size'], 42)
        split = dict(train=train_items, valid=valid_items, test=[(p, i) for i, c in enumerate(known_classes) for p in find_image_files(photos/'test'/c)],
                     held_train=[(p, i) for i, c in enumerate(held) for p in find_image_files(photos/'train'/c)],
                     held_test=[(p, i) for i, c in enumerate(held) for p in find_image_files(photos/'test'/c)])
        rows = []
        for head in ('linear', 'cosface'):
            ck = train(known_root, work/head, a.seconds, head)
            m = measure(ck, split)
            acc = json.loads((work/head/'metrics.json').read_text())['test_accuracy']
            print(head, m, acc, flush=True)
            rows.append(f"| {head} | {acc:.1%} | {m['auroc']:.3f} | {m['fpr95']:.1%} | {m['tagged']:.1%} | {m['enrolled']:.1%} |")
    text = '\n'.join([f'<!-- written by: python bench/cosine_head.py {shown_command(sys.argv[1:], {a.photos: "PHOTOS"})} -->',
                      f'`{photos.name}`, held out: {", ".join(held)}; TRANSFER_PHOTO_RECIPE for {a.seconds:.0f} s a head; CosFace s={SCALE:.0f}, m={MARGIN}; '
                      f'landmark_classifier {__version__}, {platform.processor() or platform.machine()}, {datetime.date.today()}.', '',
                      '| head | closed-set test accuracy | AUROC, `nearest` | FPR at 95% recall | held-out photos tagged | enrolled from 10 photos, right |',
                      '|---|---|---|---|---|---|', *rows])
    Path(a.out).write_text(text + '\n')
    print(text)

if __name__ == '__main__': main()
