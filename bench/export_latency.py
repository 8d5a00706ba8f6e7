#!/usr/bin/env python
"""Inference speed of one exported landmark model in every format, as ratios against eager PyTorch in the same run.

Single-image latency (one 480x640 photo tensor, median of the per-round medians of 5 rounds of 20 calls) and batch
throughput (batches of 32 at 480x640, median of 5 rounds); see `time_runtimes`. Usage:

    python bench/export_latency.py [CHECKPOINT]   # default: a LandmarkCNN at 64 px with random weights
"""
import statistics, sys, tempfile, time, warnings
from pathlib import Path

import torch

from landmark_classifier.export import Predictor, predictor_from_checkpoint, export_torchscript, export_pt2, export_onnx, load_predictor
from landmark_classifier.scratch import LandmarkCNN

def time_runtimes(fns:dict, trials:int=5, one=None, batch=None) -> tuple[dict, dict]:
    """({name: single-image latency in s}, {name: batch throughput in img/s}), medians over `trials` rounds that
    interleave the runtimes, so that drift hits all alike. Latency in a round is the median of 20 calls; each runtime
    starts its turn after a 0.3 s pause, because thread pools still spinning after the previous runtime (OpenMP,
    ONNX Runtime) would steal its cores."""
    one = torch.rand(1, 3, 480, 640) if one is None else one
    batch = torch.rand(32, 3, 480, 640) if batch is None else batch
    def timed(f):
        t0 = time.perf_counter(); f(); return time.perf_counter() - t0
    lat, thr = {}, {}
    with torch.no_grad():
        for fn in fns.values(): fn(one); fn(batch)  # warm-up
        for _ in range(trials):
            for name, fn in fns.items():
                time.sleep(0.3); fn(one)
                lat.setdefault(name, []).append(statistics.median([timed(lambda: fn(one)) for _ in range(20)]))
                time.sleep(0.3); fn(batch)
                thr.setdefault(name, []).append(len(batch)/(timed(lambda: [fn(batch) for _ in range(2)])/2))
    return {k: statistics.median(v) for k, v in lat.items()}, {k: statistics.median(v) for k, v in thr.items()}

def main():
    warnings.simplefilter('ignore')
    if len(sys.argv) > 1: pred, what = predictor_from_checkpoint(sys.argv[1]), sys.argv[1]
    else:
        torch.manual_seed(0); pred, what = Predictor(LandmarkCNN(50).eval(), [str(i) for i in range(50)], size=64), 'LandmarkCNN (random weights), 64 px'
    pred.eval(); tmp = Path(tempfile.mkdtemp())
    fns = {'eager': pred}
    fns['TorchScript'] = load_predictor(export_torchscript(pred, tmp/'m.pt'), runtime='torchscript')
    fns['TorchScript, oneDNN Graph fused'] = load_predictor(tmp/'m.pt', runtime='onednn')
    fns['torch.export (.pt2)'] = load_predictor(export_pt2(pred, tmp/'m.pt2'))
    try: fns['ONNX Runtime'] = load_predictor(export_onnx(pred, tmp/'m.onnx'))
    except ImportError as e: print(f'skipping ONNX: {e}')
    lat, thr = time_runtimes(fns)
    print(f'{what}; torch {torch.__version__}, {torch.get_num_threads()} threads; medians of 5 rounds\n')
    print("| format | single image (ms) | speed-up | batch of 32 (img/s) | speed-up |\n|---|---|---|---|---|")
    for name in fns:
        print(f"| {name} | {lat[name]*1e3:.2f} | {lat['eager']/lat[name]:.2f}x | {thr[name]:.0f} | {thr[name]/thr['eager']:.2f}x |")

if __name__ == '__main__': main()
