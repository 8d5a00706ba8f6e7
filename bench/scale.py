#!/usr/bin/env python
"""Inference at photo-service scale, each figure a ratio measured in the same run (medians of at least 5 trials):

- a folder of full-size photos (800x600 JPEGs) through `landmark_predict`'s code against the code of 0.4.0, the
  release before it (git `BEFORE`), and against the model alone on the runtime it chose;
- one 480x640 photo: the chosen runtime against 0.4.0's TorchScript file, and TorchScript against ONNX Runtime;
- int8 variants of the model against the fastest float32 runtime: speed and test accuracy.

    python bench/scale.py CHECKPOINT [--photos FOLDER] [--trials 5]

CHECKPOINT is a `train_landmarks` best.pt (bench/run uses MobileNetV2's); accuracy is measured on its own data's test split.
FOLDER holds full-size photos to crop the 600 from (default: synthetic drawings at 800 px)."""
import argparse, contextlib, importlib.util, io, os, random, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path

import torch
from PIL import Image, ImageOps

from landmark_classifier.data import find_image_files
from landmark_classifier.images import read_image
from landmark_classifier.synthetic import make_synthetic_landmarks
from landmark_classifier.export import (predictor_from_checkpoint, export_torchscript, export_onnx, load_predictor, image_to_tensor,
                                        quantize_onnx)
from landmark_classifier.predict import run_predict

HERE = Path(__file__).resolve().parent
BEFORE = 'cad4c86'  # 0.4.0: the last commit before inference at scale (issue 15)

def full_size_photos(dest:Path, n:int=600, source=None, seed:int=0) -> Path:
    "`n` JPEGs of 800x600 (or 600x800): random crops of the images under `source`, resized, some mirrored, at quality 85-95."
    dest.mkdir(parents=True, exist_ok=True)
    if len(list(dest.glob('*.jpg'))) >= n: return dest
    srcs = find_image_files(Path(source)) if source else find_image_files(make_synthetic_landmarks(n_classes=10, n_train=3, n_test=1, size=800)/'train')
    rng, ims = random.Random(seed), [read_image(p) for p in srcs]
    for i in range(n):
        im = ims[i % len(ims)]; w, h = im.size; s = rng.uniform(0.75, 1.0)
        cw, ch = int(w*s), int(h*s); l, t = rng.randint(0, w - cw), rng.randint(0, h - ch)
        out = im.crop((l, t, l + cw, t + ch)).resize((800, 600) if w >= h else (600, 800), Image.BICUBIC)
        (ImageOps.mirror(out) if rng.random() < .5 else out).save(dest/f'{i:04d}.jpg', quality=rng.choice([85, 90, 95]))
    return dest

def before_module():
    "landmark_classifier/export.py as it was in 0.4.0, loaded beside today's package (its relative imports resolve to today's modules), or None without git."
    try: text = subprocess.run(['git', 'show', f'{BEFORE}:landmark_classifier/export.py'], cwd=HERE, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError): return None
    path = Path(tempfile.mkdtemp())/'export_040.py'; path.write_text(text)
    spec = importlib.util.spec_from_file_location('landmark_classifier.export_040', path)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def _quiet(fn):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): return fn()

def folder_rates(before, old_model:Path, new_model:Path, folder:Path, trials:int) -> dict:
    "{'0.4.0': [photos/s], 'now': [photos/s]}: the whole command in this process (model loading included), trials alternating."
    n = len(find_image_files(folder)) or len(list(folder.glob('*.jpg')))
    rates = {'0.4.0': [], 'now': []}
    _quiet(lambda: run_predict(str(new_model), [str(folder)], format='csv', out=io.StringIO(), err=io.StringIO()))  # the runtime choice, made once and stored
    for _ in range(trials):
        for name in rates:
            if name == '0.4.0' and before is None: continue
            run = before.run_predict if name == '0.4.0' else run_predict
            model = old_model if name == '0.4.0' else new_model
            t0 = time.perf_counter(); code = _quiet(lambda: run(str(model), [str(folder)], format='csv', out=io.StringIO(), err=io.StringIO()))
            rates[name].append(n/(time.perf_counter() - t0)); assert code == 0, f'{name} failed on {folder}'
    return rates

def model_alone(predictor, batch_size:int, trials:int) -> list:
    "photos/s of the predictor on batches already cut to its input squares, as `landmark_predict` feeds it."
    x = torch.rand(batch_size, 3, predictor.resize, predictor.resize)
    predictor(x); predictor(x)
    out = []
    for _ in range(trials):
        t0 = time.perf_counter(); [predictor(x) for _ in range(3)]; out.append(3*batch_size/(time.perf_counter() - t0))
    return out

def photo_latency(fns:dict, trials:int, reps:int=20) -> dict:
    "{name: median ms for one 480x640 photo}: medians of `reps` calls a round, median of `trials` rounds that interleave the runtimes."
    one = torch.rand(1, 3, 480, 640); out = {k: [] for k in fns}
    with torch.no_grad():
        for fn in fns.values(): fn(one); fn(one)
        for _ in range(trials):
            for k, fn in fns.items():
                times = []
                for _ in range(reps): t0 = time.perf_counter(); fn(one); times.append(1e3*(time.perf_counter() - t0))
                out[k].append(statistics.median(times))
    return {k: statistics.median(v) for k, v in out.items()}

def test_items(pred, data:Path) -> tuple:
    "Decoded test pictures of the checkpoint's own data, as tensors, and their labels in the predictor's class order."
    classes = list(pred.class_names)
    items = [(p, classes.index(d.name)) for d in sorted((data/'test').iterdir()) if d.name in classes for p in find_image_files(d)]
    return [image_to_tensor(read_image(p)) for p, _ in items], torch.tensor([c for _, c in items])

def accuracy(fn, xs, ys) -> float:
    with torch.no_grad(): return (torch.cat([fn(x) for x in xs]).argmax(1) == ys).float().mean().item()

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('checkpoint'); ap.add_argument('--photos', default=None); ap.add_argument('--trials', type=int, default=5)
    ap.add_argument('--n', type=int, default=600, help='full-size photos in the folder (default 600)')
    args = ap.parse_args(argv)
    print(scale_section(args.checkpoint, args.trials, args.photos, args.n))

def scale_section(checkpoint, trials:int=5, photos=None, n:int=600, quick:bool=False) -> str:
    "The markdown of the inference-at-scale section."
    warnings.simplefilter('ignore')
    pred = predictor_from_checkpoint(checkpoint).eval(); tmp = Path(tempfile.mkdtemp()); before = before_module()
    new = export_torchscript(pred, tmp/'model.pt')
    old = before.export_torchscript(pred, tmp/'model_040.pt') if before else None
    folder = full_size_photos(tmp/'photos', n, photos)
    rates = folder_rates(before, old, new, folder, trials)
    chosen = load_predictor(new, batch_size=32)
    alone = model_alone(chosen, 32, trials)
    now, was, mod = statistics.median(rates['now']), statistics.median(rates['0.4.0']) if rates['0.4.0'] else float('nan'), statistics.median(alone)
    fns = {'TorchScript file of 0.4.0 (scripted)': before.load_predictor(old) if before else None,
           'TorchScript, frozen and optimised': load_predictor(new, runtime='torchscript'), 'ONNX Runtime': load_predictor(new, runtime='onnxruntime')}
    fns = {k: v for k, v in fns.items() if v is not None}
    one_choice = load_predictor(new).runtime
    ms = photo_latency(fns, trials)
    base = ms.get('TorchScript file of 0.4.0 (scripted)', float('nan'))
    chosen_one = ms['ONNX Runtime' if one_choice == 'onnxruntime' else 'TorchScript, frozen and optimised']
    lines = [f'{n} full-size photos (800x600 JPEGs) through `landmark_predict`, model loading included, in this process; '
             f"0.4.0's code (`git show {BEFORE}`) and today's alternate, {trials} trials each.", '',
             '| what | photos/s | ratio |', '|---|---|---|',
             f'| `landmark_predict` of 0.4.0 (its TorchScript file, decoding in the loop) | {was:.0f} | 1.00x |',
             f'| `landmark_predict` now ({chosen.runtime}, chosen for batches; {_quiet(lambda: __import__("landmark_classifier.predict", fromlist=["x"]).default_workers())} decoding process) | {now:.0f} | {now/was:.2f}x |',
             f'| the model alone on {chosen.runtime}, batches of 32 already at {chosen.resize} px | {mod:.0f} | now at {now/mod:.0%} of it |', '',
             f'One 480x640 photo (median of 20 calls a round, median of {trials} rounds); `load_predictor` chose **{one_choice}** for one photo here.', '',
             '| runtime | ms | against 0.4.0 |', '|---|---|---|']
    lines += [f'| {k} | {v:.2f} | {base/v:.2f}x |' for k, v in ms.items()]
    lines += ['', f"Chosen runtime against 0.4.0's TorchScript: {base/chosen_one:.2f}x. TorchScript against ONNX Runtime: "
              f"{ms['TorchScript, frozen and optimised']/ms['ONNX Runtime']:.2f}x the time."]
    lines += ['', int8_table(pred, new, checkpoint, tmp, trials, quick)]
    return '\n'.join(lines)

INT8 = {  # name: keyword arguments of onnxruntime.quantization.quantize_static beside the calibration reader
    'QDQ, per-channel int8 weights, uint8 activations (`quantize_onnx`)': {},
    'QOperator (fused QLinearConv), per-channel': dict(quant_format='QOperator'),
    'QDQ, depthwise convolutions left in float32': dict(exclude_depthwise=True),
    'QDQ, int8 activations (s8s8)': dict(activation_type='QInt8'),
}

def _quantize_variant(onnx32:Path, dest:Path, calib:list, quant_format='QDQ', activation_type='QUInt8', exclude_depthwise=False) -> Path:
    "Static int8 as `quantize_onnx` does it, with one setting changed."
    import onnx
    from onnxruntime.quantization import quantize_static, CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from landmark_classifier.export import _calibration_reader
    pre = dest.with_suffix('.pre.onnx'); _quiet(lambda: quant_pre_process(str(onnx32), str(pre), skip_symbolic_shape=True))
    g = onnx.load(str(pre)).graph
    dw = [nd.name for nd in g.node if nd.op_type == 'Conv' and any(a.name == 'group' and a.i > 1 for a in nd.attribute)] if exclude_depthwise else []
    _quiet(lambda: quantize_static(str(pre), str(dest), _calibration_reader(calib), quant_format=getattr(QuantFormat, quant_format), per_channel=True,
                                   activation_type=getattr(QuantType, activation_type), weight_type=QuantType.QInt8, nodes_to_exclude=dw,
                                   op_types_to_quantize=['Conv', 'Gemm', 'MatMul', 'Add', 'GlobalAveragePool'], calibrate_method=CalibrationMethod.Percentile))
    return dest

def int8_table(pred, new:Path, checkpoint, tmp:Path, trials:int, quick:bool) -> str:
    "int8 variants against the fastest float32 runtime: one-photo latency, batch throughput, test accuracy."
    data = Path(torch.load(checkpoint, map_location='cpu', weights_only=True)['meta']['data'])
    onnx32 = export_onnx(pred, tmp/'m.onnx')
    calib = find_image_files(data/'train')[::max(1, len(find_image_files(data/'train'))//(20 if quick else 200))]
    xs, ys = test_items(pred, data)
    if quick: xs, ys = xs[:20], ys[:20]
    fp32 = {'TorchScript, frozen and optimised': load_predictor(new, runtime='torchscript'), 'ONNX Runtime float32': load_predictor(onnx32)}
    q = {}
    for name, kw in INT8.items():
        try: q[name] = load_predictor(_quantize_variant(onnx32, tmp/f'q{len(q)}.onnx', calib, **kw))
        except Exception as e: q[name] = e
    ok = {**fp32, **{k: v for k, v in q.items() if not isinstance(v, Exception)}}
    ms = photo_latency(ok, trials)
    thr = {k: statistics.median(model_alone(fn, 32, trials)) for k, fn in ok.items()}
    acc = {k: accuracy(fn, xs, ys) for k, fn in ok.items()}
    best = min(fp32, key=ms.get)
    rows = ['| runtime | one photo (ms) | against the fastest float32 | batches of 32 (photos/s) | against it | test accuracy | points lost |', '|---|---|---|---|---|---|---|']
    for k in ok: rows.append(f'| {k} | {ms[k]:.2f} | {ms[best]/ms[k]:.2f}x | {thr[k]:.0f} | {thr[k]/thr[best]:.2f}x | {acc[k]:.1%} | {100*(acc[best] - acc[k]):+.1f} |')
    rows += [f'| {k} | failed: {type(v).__name__}: {str(v).splitlines()[0][:80]} | | | | | |' for k, v in q.items() if isinstance(v, Exception)]
    return '\n'.join([f'int8 on this model, against the fastest float32 runtime for one photo ({best}); accuracy on the {len(ys)} test photos of `{data.name}`, '
                      f'calibrated on {len(calib)} of its training photos. The bar: 1.5x the speed with at most 1 point lost.', ''] + rows)

if __name__ == '__main__': main()
