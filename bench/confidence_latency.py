#!/usr/bin/env python
"""What the open-set confidence costs one photo: the same network exported twice, with its gallery (the `nearest`
confidence, as `train_landmarks` exports it) and without (the top probability), each opened on its fastest runtime,
one 480x640 photo through `scores`; `median_latency_ms`: 20 calls a round, rounds alternating in order, the median of all.

    python bench/confidence_latency.py CHECKPOINT [--rounds 7]

CHECKPOINT is a `train_landmarks` best.pt whose meta says open_score 'nearest'."""
import argparse, tempfile
from pathlib import Path

from landmark_classifier import __version__
from landmark_classifier.export import (Predictor, export_torchscript, image_to_tensor, load_predictor, median_latency_ms, predictor_arguments,
                                        predictor_from_checkpoint)
from landmark_classifier.synthetic import make_synthetic_landmarks
from landmark_classifier.data import find_image_files
from landmark_classifier.images import read_image

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('checkpoint')
    ap.add_argument('--rounds', type=int, default=7)
    a = ap.parse_args()
    pred = predictor_from_checkpoint(a.checkpoint).eval()
    plain = Predictor(pred.model, **dict(predictor_arguments(pred), gallery=None, score='msp'))
    tmp = Path(tempfile.mkdtemp())
    opened = {f'nearest, gallery of {len(pred.gallery)}': load_predictor(export_torchscript(pred, tmp/'nearest.pt')),
              'top probability, no gallery': load_predictor(export_torchscript(plain, tmp/'msp.pt'))}
    photo = read_image(find_image_files(make_synthetic_landmarks(n_classes=2, n_train=1, n_test=1, size=800)/'test')[0]).resize((640, 480))
    ms = median_latency_ms({k: p.scores for k, p in opened.items()}, image_to_tensor(photo), reps=20, rounds=a.rounds)  # the library's timer
    (near, n_ms), (top, t_ms) = ms.items()
    print(f'landmark_classifier {__version__}; one 480x640 photo, `scores` on the fastest runtime ({", ".join(f"{k}: {p.runtime}" for k, p in opened.items())}):')
    print(f'{near}: {n_ms:.2f} ms; {top}: {t_ms:.2f} ms; ratio {n_ms/t_ms:.3f}')

if __name__ == '__main__': main()
