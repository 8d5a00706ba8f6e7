#!/usr/bin/env python
"""What the scratch CNN reaches in a few minutes of CPU: the same time budget for each variant of a base recipe, one
`landmark_train` run each, one after the other (never two at once: the budget is wall-clock time), and a markdown
table of the test accuracy each reached, the epochs its schedule was planned for, and the command that ran it.

    python bench/scratch_recipes.py --data synthetic --seconds 240 --out bench/SCRATCH.md
    python bench/scratch_recipes.py --data PATH/TO/PHOTOS --seconds 250 --out FILE --only base,size32
    python bench/scratch_recipes.py --levers --seconds 240 --out bench/SCRATCH_LEVERS.md

Each variant changes one or two settings of the base recipe (`BASE`: `CPU_RECIPE` as it was in version 0.2.0, before
these measurements chose the current one); the table says which. With `--levers` the base is today's `CPU_RECIPE`
and the variants are the levers tried on top of it (width, depth, mixup), plus flip at test time, which needs no
run of its own: it is the base run's model evaluated on each test photo and its mirror image, probabilities averaged.
"""
import argparse, datetime, json, platform, shlex, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shown import shown_command
from landmark_classifier import __version__
from landmark_classifier.learner import CPU_RECIPE, recipe_command

BASE = dict(batch_size=64, valid_size=0.2, dropout=0.4, opt='adam', lr=3e-3, weight_decay=1e-4, scheduler='onecycle', size=64)  # CPU_RECIPE of 0.2.0

VARIANTS = {  # name: (what changes, the arguments it changes)
    'size64': ('64 px', dict(size=64)),
    'size48': ('48 px', dict(size=48)),
    'size32': ('32 px', dict(size=32)),
    'size32_dropout': ('32 px, dropout 0.1', dict(size=32, dropout=0.1)),
    'size32_smoothing': ('32 px, label smoothing 0.1', dict(size=32, label_smoothing=0.1)),
    'size32_lr': ('32 px, peak rate 6e-3', dict(size=32, lr=6e-3)),
}

LEVERS = {  # on top of today's CPU_RECIPE
    'cpu_recipe': ('`CPU_RECIPE`', {}),
    'wide': ('1.5x the channels', dict(width=1.5)),
    'shallow': ('one block a stage', dict(depth=1)),
    'mixup': ('mixup 0.2', dict(mixup=0.2)),
}

def flip_accuracy(run:Path) -> float:
    "Test accuracy of a run's best model with flip at test time: probabilities of each photo and its mirror image averaged."
    import torch
    from landmark_classifier.export import predictor_from_checkpoint
    from landmark_classifier.loaders import get_data_loaders
    from landmark_classifier.train import loader_logits
    m = json.loads((run/'metrics.json').read_text()); model = predictor_from_checkpoint(run/'best.pt').model
    test = get_data_loaders(m['data'], size=m['size'], stats=m['stats'], num_workers=0)['test']
    class Flipped(torch.nn.Module):
        def __init__(self, net): super().__init__(); self.net = net
        def forward(self, x): return self.net(x.flip(3))
    (a, y), (b, _) = loader_logits(model, test), loader_logits(Flipped(model), test)
    return ((a.softmax(1) + b.softmax(1)).argmax(1) == y).float().mean().item()

def run_variant(name:str, args:dict, work:Path) -> dict:
    "Train one variant with `landmark_train`; its metrics, with the command and its wall time."
    folder = work/'_'.join(name.split())  # one word: the command is split on spaces
    cmd = recipe_command(args, out=str(folder))
    t0 = time.perf_counter()
    r = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
    if r.returncode: sys.exit(f'{name} failed:\n{r.stderr[-2000:]}')
    m = json.loads((folder/'metrics.json').read_text())
    return dict(m, command=cmd.replace(str(work), 'runs'), wall=time.perf_counter() - t0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='synthetic', help="'synthetic' or a dataset folder in our layout")
    ap.add_argument('--seconds', type=float, default=240., help='time budget of each run (max_seconds)')
    ap.add_argument('--out', default='bench/SCRATCH.md', help='markdown file to write')
    ap.add_argument('--only', default='', help='comma-separated variant names (default: all)')
    ap.add_argument('--levers', action='store_true', help="levers on top of today's CPU_RECIPE instead of the 0.2.0 variants")
    a = ap.parse_args()
    variants = LEVERS if a.levers else VARIANTS
    names = [n for n in variants if not a.only or n in a.only.split(',')]
    base = dict(CPU_RECIPE, max_seconds=a.seconds, data=a.data, model='scratch') if a.levers else dict(BASE, epochs=200, max_seconds=a.seconds, data=a.data, model='scratch', cache=True)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            what, change = variants[name]
            m = run_variant(name, dict(base, **change), Path(work))
            print(f"{name}: {m['test_accuracy']:.1%} ({m['schedule_plan']})", flush=True)
            rows.append(f"| {what} | {m['test_accuracy']:.1%} | {m['test_top5']:.1%} | {m['epochs']} | {m['train_seconds']:.0f} s | `{m['command']}` |")
            if a.levers and name == 'cpu_recipe':
                acc = flip_accuracy(Path(work)/name)
                print(f'{name} with flip at test time: {acc:.1%}', flush=True)
                rows.append(f"| `CPU_RECIPE`, flip at test time (the run above) | {acc:.1%} | | | | the run above, each test photo and its mirror image |")
    data = a.data if a.data == 'synthetic' else Path(a.data).name
    command = shown_command(sys.argv[1:], {a.data: 'PHOTOS'})
    text = '\n'.join([f'<!-- written by: python bench/scratch_recipes.py {command} -->',
                      f'Scratch CNN on `{data}`, {a.seconds:.0f} s of training each, one run at a time; landmark_classifier {__version__}, '
                      f'{platform.processor() or platform.machine()}, {datetime.date.today()}. Base: '
                      + ("today's `CPU_RECIPE`" if a.levers else '`CPU_RECIPE` of 0.2.0 with the cache') + ', its one-cycle schedule planned to the budget.', '',
                      '| variant | test accuracy | top-5 | epochs planned and run | training time | command |', '|---|---|---|---|---|---|', *rows])
    Path(a.out).write_text(text + '\n'); print(f'written to {a.out}')

if __name__ == '__main__': main()
