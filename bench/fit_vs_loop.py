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

from landmark_classifier.data import get_data_loaders, make_synthetic_landmarks
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
    n_train = len(dls['train'].dataset) // args.batch_size * args.batch_size  # drop_last
    fit_t, loop_t = [], []
    for trial in range(args.trials + 1):  # the first round warms up both and is not counted
        torch.manual_seed(0); m = LandmarkCNN(args.classes).to(device)
        t0 = time.perf_counter(); fit(m, dls, epochs=1, lr=1e-3, scheduler=None, progress=False, device=str(device))
        if device.type == 'cuda': torch.cuda.synchronize()
        t_fit = time.perf_counter() - t0
        torch.manual_seed(0); m = LandmarkCNN(args.classes).to(device); opt = torch.optim.Adam(m.parameters(), 1e-3, weight_decay=1e-3)
        t0 = time.perf_counter(); minimal_epoch(m, dls, opt, device)
        if device.type == 'cuda': torch.cuda.synchronize()
        t_loop = time.perf_counter() - t0
        if trial: fit_t.append(t_fit); loop_t.append(t_loop)
        print(f'trial {trial}{" (warm-up)" if not trial else ""}: fit {n_train/t_fit:7.1f} img/s   minimal loop {n_train/t_loop:7.1f} img/s')
    f, l = n_train/statistics.median(fit_t), n_train/statistics.median(loop_t)
    print(f'\n{device}, LandmarkCNN at {args.size} px, batch {args.batch_size}, {n_train} training images per epoch, median of {args.trials}')
    print(f'fit: {f:.1f} img/s   minimal loop: {l:.1f} img/s   ratio fit/loop: {f/l:.3f}')

if __name__ == '__main__': main()
