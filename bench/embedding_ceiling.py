#!/usr/bin/env python
"""How far the embeddings of the photo recipe can go on the open world: train on some classes of a folder, hold the
others out, and measure post-hoc confidences beyond the library's five, and enrollment with every training photo of
the new landmarks instead of a few (its ceiling). The folder is a parameter: the project ships no photos.

    python bench/embedding_ceiling.py PATH/TO/PHOTOS --hold-out 08,09 --hold-out 00,05 --seconds 320 --out bench/EMBEDDING_CEILING.md
"""
import argparse, datetime, platform, sys, tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from open_set import logits_and_embeddings, train_without
from shown import shown_command
from landmark_classifier import __version__
from landmark_classifier.data import display_name, find_image_files
from landmark_classifier.openset import auroc, class_prototypes, fpr_at_recall

def mahalanobis(gallery:torch.Tensor, labels:torch.Tensor, queries:torch.Tensor, shrink:float=0.1) -> torch.Tensor:
    "Minus the smallest Mahalanobis distance to a class mean, one covariance shared by the classes (shrunk toward its mean variance), on centred unit embeddings."
    centre = gallery.mean(0)
    gallery, queries = F.normalize(gallery - centre, dim=1), F.normalize(queries - centre, dim=1)
    means = torch.stack([gallery[labels == c].mean(0) for c in labels.unique()])
    spread = gallery - means[labels]
    cov = spread.T @ spread/len(spread)
    cov = (1 - shrink)*cov + shrink*cov.diagonal().mean()*torch.eye(len(cov))
    precision = torch.linalg.inv(cov.double()).float()
    diff = queries[:, None] - means[None]
    return -torch.einsum('ncd,de,nce->nc', diff, precision, diff).min(1).values

def confidences(logits:torch.Tensor, embeddings:torch.Tensor, gallery:torch.Tensor, labels:torch.Tensor) -> dict:
    "{name: [N] confidence}: the library's `nearest` and the candidates it does not ship."
    cos = embeddings @ gallery.T
    centre = gallery.mean(0)
    centred = F.normalize(embeddings - centre, dim=1) @ F.normalize(gallery - centre, dim=1).T
    return {'energy': logits.logsumexp(1), '`nearest` (the export\'s)': cos.max(1).values, '5th nearest': cos.topk(5, 1).values[:, -1],
            'nearest, centred': centred.max(1).values, 'Mahalanobis, centred': mahalanobis(gallery, labels, embeddings)}

def enrolled_right(gallery:torch.Tensor, labels:torch.Tensor, new:dict, tests:dict, shots:int|None, generator) -> tuple:
    "(prototype, 1-nearest) share of the new landmarks' test photos named right among all classes, given `shots` photos of each (None: all)."
    extra, extra_labels, base = [], [], int(labels.max()) + 1
    for i, c in enumerate(new):
        pick = torch.randperm(len(new[c]), generator=generator)[:shots] if shots else torch.arange(len(new[c]))
        extra.append(new[c][pick])
        extra_labels += [base + i]*len(pick)
    g, y = torch.cat([gallery, *extra]), torch.cat([labels, torch.tensor(extra_labels)])
    q = torch.cat(list(tests.values()))
    want = torch.cat([torch.full((len(t),), base + i) for i, t in enumerate(tests.values())])
    protos = class_prototypes(g, y, base + len(new))
    return ((q @ protos.T).argmax(1) == want).float().mean().item(), (y[(q @ g.T).argmax(1)] == want).float().mean().item()

def ceiling_rows(photos:Path, hold_out:list, seconds:float, shots:int) -> tuple:
    "({confidence: (AUROC, FPR at 95% recall)}, {'few', 'every': (prototype, 1-nearest) right}, closed-set accuracy, held-out names, {held-out class: training photos}) of one split, trained here."
    with tempfile.TemporaryDirectory() as d:
        known_root, held, res, pred, classes, train = train_without(photos, hold_out, seconds, Path(d))
        _, gallery = logits_and_embeddings(pred, [p for p, _ in train])
        labels = torch.tensor([label for _, label in train])
        known_logits, known_emb = logits_and_embeddings(pred, [p for c in classes for p in find_image_files(known_root/'test'/c)])
        held_logits, held_emb = logits_and_embeddings(pred, [p for c in held for p in held[c][1]])
        known_scores = confidences(known_logits, known_emb, gallery, labels)
        held_scores = confidences(held_logits, held_emb, gallery, labels)
        scores = {name: (float(auroc(known_scores[name], held_scores[name])), float(fpr_at_recall(known_scores[name], held_scores[name]))) for name in known_scores}
        new = {c: logits_and_embeddings(pred, held[c][0])[1] for c in held}
        tests = {c: logits_and_embeddings(pred, held[c][1])[1] for c in held}
        generator = torch.Generator().manual_seed(0)
        few = [enrolled_right(gallery, labels, new, tests, shots, generator) for _ in range(5)]
        enrol = dict(few=tuple(sum(f[i] for f in few)/len(few) for i in range(2)), every=enrolled_right(gallery, labels, new, tests, None, generator))
        return scores, enrol, res.test.accuracy, [display_name(c) for c in held], {c: len(v) for c, v in new.items()}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('photos', help='a dataset folder of real photos in our layout (train/ and test/ of NN.Class_Name/*.jpg)')
    ap.add_argument('--hold-out', action='append', help='classes held out together as unknown landmarks: prefixes of their folder names, separated by commas; repeat for more splits')
    ap.add_argument('--seconds', type=float, default=320., help='training budget (max_seconds) of the transfer recipe, for each split')
    ap.add_argument('--shots', type=int, default=10, help='training photos of each held-out landmark that few-shot enrollment sees (averaged over 5 draws)')
    ap.add_argument('--out', default='bench/EMBEDDING_CEILING.md', help='markdown file to write')
    a = ap.parse_args()
    splits = [ceiling_rows(Path(a.photos), h.split(','), a.seconds, a.shots) for h in (a.hold_out or ['08,09'])]
    heads = [' and '.join(s[3]) for s in splits]
    rows = ['| confidence | ' + ' | '.join(f'AUROC, FPR at 95% recall: {h} held out' for h in heads) + ' |', '|---|' + '---|'*len(splits)]
    for name in splits[0][0]:
        rows.append(f'| {name} | ' + ' | '.join(f'{s[0][name][0]:.3f}, {s[0][name][1]:.1%}' for s in splits) + ' |')
    rows += ['', '| enrolled from | ' + ' | '.join(f'{h}: prototype, 1-nearest' for h in heads) + ' |', '|---|' + '---|'*len(splits)]
    rows.append(f'| {a.shots} photos each (5 draws) | ' + ' | '.join(f"{s[1]['few'][0]:.1%}, {s[1]['few'][1]:.1%}" for s in splits) + ' |')
    rows.append('| every training photo (' + ', '.join(str(n) for n in splits[0][4].values()) + ') | ' + ' | '.join(f"{s[1]['every'][0]:.1%}, {s[1]['every'][1]:.1%}" for s in splits) + ' |')
    closed = ', '.join(f'{s[2]:.1%} ({h} held out)' for s, h in zip(splits, heads))
    head = (f'<!-- written by: python bench/embedding_ceiling.py {shown_command(sys.argv[1:], {a.photos: "PHOTOS"})} -->\n'
            f'`{Path(a.photos).name}`, TRANSFER_PHOTO_RECIPE for {a.seconds:.0f} s a split; landmark_classifier {__version__}, {platform.processor() or platform.machine()}, '
            f'{datetime.date.today()}. PHOTOS stands for the folder of photos. Closed-set test accuracy: {closed}.\n\n'
            'Known test photos against the held-out landmarks\' test photos; every confidence reads the embedding the export computes '
            '(the gallery here is every training photo of the known classes). Enrollment names a new landmark\'s test photos among all the classes '
            'by the nearest class prototype or the nearest photo, with no threshold; the row with every training photo shows where more photos '
            'of a landmark would take these two rules.\n\n')
    Path(a.out).write_text(head + '\n'.join(rows) + '\n')
    print(head + '\n'.join(rows))

if __name__ == '__main__': main()
