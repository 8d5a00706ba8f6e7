#!/usr/bin/env python
"""Training throughput of `fit` against a minimal hand-written PyTorch loop.

Same model (LandmarkCNN), same data and loaders, same batch size, same device. Each trial is one epoch: a training
pass and a validation pass, timed end to end. Trials alternate between the two (fit, loop, fit, loop, ...) so that
drift in the machine's speed hits both alike; the ratio is of the medians. Usage:

    python bench/fit_vs_loop.py [--trials 5] [--size 64] [--batch-size 64] [--device cpu]
"""
import argparse, statistics, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from landmark_classifier.synthetic import make_synthetic_landmarks
from landmark_classifier.loaders import get_data_loaders
from landmark_classifier.scratch import LandmarkCNN
from landmark_classifier.train import fit, get_device

def minimal_epoch(model, dls, opt, device):
    "The loop a PyTorch tutorial writes: no checkpoints, no schedules, no records."
    model.train()
    for xb, yb in dls['train']:
        xb, yb = xb.to(device), yb.to(device)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval(); correct = 0
    with torch.no_grad():
        for xb, yb in dls['valid']:
            correct += (model(xb.to(device)).argmax(1) == yb.to(device)).sum().item()
    return correct

def fit_and_loop_rates(dls, classes:int, device, trials:int=5, report=print) -> tuple:
    "(fit images/s, minimal loop images/s, images an epoch): one epoch of each per trial, alternating, after a warm-up round; medians."
    n = len(dls['train'])*dls['train'].batch_size  # drop_last
    def timed(fn):
        t0 = time.perf_counter(); fn()
        if device.type == 'cuda': torch.cuda.synchronize()
        return time.perf_counter() - t0
    fit_t, loop_t = [], []
    for trial in range(trials + 1):  # the first round warms up both and is not counted
        torch.manual_seed(0); m = LandmarkCNN(classes)
        t_fit = timed(lambda: fit(m, dls, epochs=1, lr=1e-3, scheduler=None, progress=False, device=str(device)))
        torch.manual_seed(0); m = LandmarkCNN(classes).to(device); opt = torch.optim.Adam(m.parameters(), 1e-3, weight_decay=1e-3)
        t_loop = timed(lambda: minimal_epoch(m, dls, opt, device))
        if trial: fit_t.append(t_fit); loop_t.append(t_loop)
        if report: report(f'trial {trial}{" (warm-up)" if not trial else ""}: fit {n/t_fit:7.1f} img/s   minimal loop {n/t_loop:7.1f} img/s')
    return n/statistics.median(fit_t), n/statistics.median(loop_t), n

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--trials', type=int, default=5)
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--classes', type=int, default=10)
    ap.add_argument('--device', default=None)
    ap.add_argument('--workers', type=int, default=0)
    args = ap.parse_args()
    device = get_device(args.device)
    root = make_synthetic_landmarks(Path(tempfile.gettempdir())/f'bench_fit_{args.classes}c', n_classes=args.classes, n_train=80, n_test=5, size=max(64, args.size))
    dls = get_data_loaders(root, batch_size=args.batch_size, size=args.size, num_workers=args.workers)
    f, l, n_train = fit_and_loop_rates(dls, args.classes, device, args.trials)
    print(f'\n{device}, LandmarkCNN at {args.size} px, batch {args.batch_size}, {n_train} training images per epoch, median of {args.trials}')
    print(f'fit: {f:.1f} img/s   minimal loop: {l:.1f} img/s   ratio fit/loop: {f/l:.3f}')

if __name__ == '__main__': main()
