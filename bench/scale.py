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
from landmark_classifier.export import (ModelFileError, predictor_from_checkpoint, export_torchscript, export_onnx, load_predictor, image_to_tensor)
from landmark_classifier.quantize import quantize_onnx
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
    mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
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

def batch_rates(fns:dict, trials:int, batch_size:int=32) -> dict:
    "{name: photos/s on batches already cut to the input squares}, median of `trials` rounds that interleave the runtimes, each after a pause."
    x = {k: torch.rand(batch_size, 3, fn.resize, fn.resize) for k, fn in fns.items()}; out = {k: [] for k in fns}
    with torch.no_grad():
        for k, fn in fns.items(): fn(x[k]); fn(x[k])
        for _ in range(trials):
            for k, fn in fns.items():
                time.sleep(0.3); fn(x[k])
                t0 = time.perf_counter(); [fn(x[k]) for _ in range(3)]; out[k].append(3*batch_size/(time.perf_counter() - t0))
    return {k: statistics.median(v) for k, v in out.items()}

def _pass_rate(fn, items:list, trials:int) -> float:
    "Items a second of one process calling `fn` on each of `items`: median of `trials` passes."
    rates = []
    for _ in range(trials):
        t0 = time.perf_counter(); [fn(x) for x in items]; rates.append(len(items)/(time.perf_counter() - t0))
    return statistics.median(rates)

def decode_rate(folder:Path, side:int, trials:int) -> float:
    "photos/s of one process decoding the folder to `side`-pixel squares as `landmark_predict`'s workers do (median of `trials` passes)."
    from landmark_classifier.predict import PhotoSquares
    ds = PhotoSquares(sorted(folder.glob('*.jpg')), side)
    return _pass_rate(ds.__getitem__, range(len(ds)), trials)

def entropy_decode_rate(folder:Path, trials:int) -> float:
    "photos/s of one process decoding the folder's JPEGs, already in memory, at 1/8 scale and nothing else: the cost no reduced-scale decoding removes."
    def decode(data):
        with Image.open(io.BytesIO(data)) as im: im.draft('RGB', (1, 1)); im.load()
    return _pass_rate(decode, [p.read_bytes() for p in sorted(folder.glob('*.jpg'))], trials)

TS_OPTIMISED, TS_FUSED = 'TorchScript, frozen and optimised', 'TorchScript, frozen and fused by oneDNN Graph'
def torchscript_runtimes(path:Path) -> dict:
    "The two runtimes `load_predictor` offers for a TorchScript export; onednn is left out where its fuser cannot take the model."
    out = {TS_OPTIMISED: load_predictor(path, runtime='torchscript')}
    with contextlib.suppress(ModelFileError): out[TS_FUSED] = load_predictor(path, runtime='onednn')
    return out

def photo_latency(fns:dict, trials:int, reps:int=20) -> dict:
    "{name: median ms for one 480x640 photo}: medians of `reps` calls a round, median of `trials` rounds that interleave the runtimes."
    one = torch.rand(1, 3, 480, 640); out = {k: [] for k in fns}
    with torch.no_grad():
        for fn in fns.values(): fn(one); fn(one)
        for _ in range(trials):
            for k, fn in fns.items():
                time.sleep(0.3); fn(one)  # thread pools still spinning after the previous runtime (ONNX Runtime, OpenMP) would steal its cores
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
    mod, dec = batch_rates({'chosen': chosen}, trials)['chosen'], decode_rate(folder, chosen.resize, trials)
    floor = entropy_decode_rate(folder, trials)
    cores = os.cpu_count(); bound = cores/(cores/mod + 1/dec)  # core-seconds a photo: the model's on all cores, plus its decoding
    floor_bound = cores/(cores/mod + 1/floor)
    now, was = statistics.median(rates['now']), statistics.median(rates['0.4.0']) if rates['0.4.0'] else float('nan')
    fns = {'TorchScript file of 0.4.0 (scripted)': before.load_predictor(old) if before else None,
           **torchscript_runtimes(new), 'ONNX Runtime': load_predictor(new, runtime='onnxruntime')}
    fns = {k: v for k, v in fns.items() if v is not None}
    one_choice = load_predictor(new).runtime
    ms = photo_latency(fns, trials)
    base = ms.get('TorchScript file of 0.4.0 (scripted)', float('nan'))
    chosen_one = ms[{'onnxruntime': 'ONNX Runtime', 'torchscript': TS_OPTIMISED, 'onednn': TS_FUSED}[one_choice]]
    ts_best = min((k for k in (TS_OPTIMISED, TS_FUSED) if k in ms), key=ms.get)
    lines = [f'{n} full-size photos (800x600 JPEGs) through `landmark_predict`, model loading included, in this process; '
             f"0.4.0's code (`git show {BEFORE}`) and today's alternate, {trials} trials each.", '',
             '| what | photos/s | ratio |', '|---|---|---|',
             f'| `landmark_predict` of 0.4.0 (its TorchScript file, decoding in the loop) | {was:.0f} | 1.00x |',
             f'| `landmark_predict` now ({chosen.runtime}, chosen for batches; {_quiet(lambda: __import__("landmark_classifier.predict", fromlist=["x"]).default_workers())} decoding processes) | {now:.0f} | {now/was:.2f}x |',
             f'| the model alone on {chosen.runtime}, batches of 32 already at {chosen.resize} px | {mod:.0f} | now at {now/mod:.0%} of it |',
             f'| decoding alone, one process (reduced-scale JPEG decoding, centre square at {chosen.resize} px) | {dec:.0f} | |',
             f'| the most {cores} cores can do: each photo costs the model {1e3*cores/mod:.2f} core-ms and its decoding {1e3/dec:.2f} | {bound:.0f} | now at {now/bound:.0%} of it |',
             f'| the floor of decoding, one process: the JPEG decoded at 1/8 scale from memory, nothing else (its entropy decoding, which no scale reduces) | {floor:.0f} | |', '',
             f'Decoding a photo takes {1e3/dec:.2f} core-ms beside the model\'s {1e3*cores/mod:.2f}, and the model alone already uses all {cores} cores, so on this machine '
             f'a folder can reach at most {bound/mod:.0%} of the model-alone rate; `landmark_predict` reaches {now/mod:.0%}. '
             f'Even a decoder that did nothing but the floor ({1e3/floor:.2f} core-ms a photo) would leave {cores} cores at most {floor_bound/mod:.0%} of it.', '',
             f'One 480x640 photo (median of 20 calls a round, median of {trials} rounds); `load_predictor` chose **{one_choice}** for one photo here.', '',
             '| runtime | ms | against 0.4.0 |', '|---|---|---|']
    lines += [f'| {k} | {v:.2f} | {base/v:.2f}x |' for k, v in ms.items()]
    lines += ['', f"Chosen runtime against 0.4.0's TorchScript: {base/chosen_one:.2f}x. TorchScript (its faster runtime here, {ts_best}) against ONNX Runtime: "
              f"{ms[ts_best]/ms['ONNX Runtime']:.2f}x the time."]
    lines += ['', shard_check(new, folder, tmp), '', int8_table(pred, new, checkpoint, tmp, trials, quick)]
    return '\n'.join(lines)

def shard_check(model:Path, folder:Path, tmp:Path) -> str:
    "Two shards of the folder, each into its own file, merged: the same bytes as one unsharded run?"
    from landmark_classifier.predict import merge_predictions
    whole, merged = io.StringIO(), io.StringIO()
    _quiet(lambda: run_predict(str(model), [str(folder)], format='csv', out=whole, err=io.StringIO()))
    for i in range(2): _quiet(lambda: run_predict(str(model), [str(folder)], shard=f'{i}/2', output=str(tmp/'parts'/'{i}-of-{n}.csv')))
    _quiet(lambda: merge_predictions([str(tmp/'parts'/f'{i}-of-2.csv') for i in range(2)], out=merged, err=io.StringIO()))
    rows = [len((tmp/'parts'/f'{i}-of-2.csv').read_text().splitlines()) - 1 for i in range(2)]
    same = merged.getvalue() == whole.getvalue()
    return (f"Two shards (`--shard 0/2`, `--shard 1/2`, {rows[0]} and {rows[1]} rows) merged by `landmark_merge`: "
            f"{'the same bytes as' if same else 'NOT the same as'} one unsharded run ({len(whole.getvalue().splitlines()) - 1} rows). "
            'A shard killed half-way and resumed is tested in `nbs/12_predict.ipynb`.')

INT8 = {  # name: settings of `quantize_onnx` beside the calibration pictures
    'QDQ, per-channel int8 weights, uint8 activations (`quantize_onnx`)': {},
    'QOperator (fused QLinearConv), per-channel': dict(quant_format='QOperator'),
    'QDQ, depthwise convolutions left in float32': dict(keep_depthwise_float=True),
    'QDQ, int8 activations (s8s8)': dict(activation_type='QInt8'),
}

class _PT2EInt8(torch.nn.Module):
    "PyTorch's x86 int8 quantiser (PT2E, from torchao) on the network, compiled by inductor; the predictor's preprocessing and softmax around it."
    def __init__(self, pred, calib:list):
        super().__init__()
        from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e, convert_pt2e
        import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq
        self.pred, self.resize = pred, pred.resize
        q = xiq.X86InductorQuantizer(); q.set_global(xiq.get_default_x86_inductor_quantization_config())
        m = prepare_pt2e(torch.export.export(pred.model, (torch.rand(2, 3, pred.size, pred.size),), dynamic_shapes={'x': {0: torch.export.Dim.AUTO}}).module(), q)
        with torch.no_grad():
            for p in calib: m(pred.preprocess(image_to_tensor(read_image(p)).float()/255))
        self.net = torch.compile(convert_pt2e(m))
    def forward(self, x): return torch.softmax(self.net(self.pred.preprocess(x))/self.pred.temperature, 1)

def int8_table(pred, new:Path, checkpoint, tmp:Path, trials:int, quick:bool) -> str:
    "int8 variants against the fastest float32 runtime: one-photo latency, batch throughput, test accuracy."
    data = Path(torch.load(checkpoint, map_location='cpu', weights_only=True)['meta']['data'])
    onnx32 = export_onnx(pred, tmp/'m.onnx')
    calib = find_image_files(data/'train')[::max(1, len(find_image_files(data/'train'))//(20 if quick else 200))]
    xs, ys = test_items(pred, data)
    if quick: xs, ys = xs[:20], ys[:20]
    fp32 = {**torchscript_runtimes(new), 'ONNX Runtime float32': load_predictor(onnx32)}
    q = {}
    for name, kw in INT8.items():
        try: q[name] = load_predictor(quantize_onnx(onnx32, calib, tmp/f'q{len(q)}.onnx', **kw))
        except Exception as e: q[name] = e
    if not quick:
        name = "PyTorch's x86 quantiser (PT2E, torchao), compiled by inductor"
        try: q[name] = _PT2EInt8(pred, calib)
        except ImportError: q[name] = ImportError('needs torchao: pip install torchao')
        except Exception as e: q[name] = e
    ok = {**fp32, **{k: v for k, v in q.items() if not isinstance(v, Exception)}}
    ms = photo_latency(ok, trials)
    thr = batch_rates(ok, trials)
    acc = {k: accuracy(fn, xs, ys) for k, fn in ok.items()}
    best, bestb = min(fp32, key=ms.get), max(fp32, key=thr.get)  # the fastest float32 runtime for one photo, and on batches
    rows = ['| runtime | one photo (ms) | against the fastest float32 | batches of 32 (photos/s) | against the fastest float32 | test accuracy | points lost |', '|---|---|---|---|---|---|---|']
    for k in ok: rows.append(f'| {k} | {ms[k]:.2f} | {ms[best]/ms[k]:.2f}x | {thr[k]:.0f} | {thr[k]/thr[bestb]:.2f}x | {acc[k]:.1%} | {100*(acc[best] - acc[k]):+.1f} |')
    rows += [f'| {k} | failed: {type(v).__name__}: {str(v).splitlines()[0][:80]} | | | | | |' for k, v in q.items() if isinstance(v, Exception)]
    ok8 = [k for k in ok if k not in fp32]
    meets = [k for k in ok8 if min(ms[best]/ms[k], thr[k]/thr[bestb]) >= 1.5 and acc[best] - acc[k] <= 0.01]
    top = max(ok8, key=lambda k: thr[k]/thr[bestb]) if ok8 else None
    verdict = (f"Meets the bar: {', '.join(meets)}." if meets else
               f"No int8 variant meets the bar, so the deployed model stays float32. The best, {top}, is {thr[top]/thr[bestb]:.2f}x on batches and "
               f"{ms[best]/ms[top]:.2f}x for one photo, and loses {100*(acc[best] - acc[top]):.1f} points. "
               + (f"Leaving the depthwise convolutions in float32 gives {thr[dw]/thr[bestb]:.2f}x on batches. " if (dw := 'QDQ, depthwise convolutions left in float32') in thr else '')
               if top else 'No int8 variant ran.')
    return '\n'.join([f'int8 on this model, against the fastest float32 runtime for one photo ({best}) and on batches ({bestb}); accuracy on the {len(ys)} test photos of `{data.name}`, '
                      f'calibrated on {len(calib)} of its training photos. The bar: 1.5x the speed with at most 1 point lost.', ''] + rows + ['', verdict])

if __name__ == '__main__': main()
