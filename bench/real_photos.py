#!/usr/bin/env python
"""Each recipe on a folder of real photos at equal wall time: one `landmark_train` run each, one after the other, the
same training budget for all, and a markdown table of the test accuracy each reached with the command that ran it.
The folder is a parameter: the project ships no photos.

    python bench/real_photos.py PATH/TO/PHOTOS --seconds 250 --out bench/REAL_PHOTOS.md
    bench/run --photos PATH/TO/PHOTOS          # the same table as a section of bench/RESULTS.md
"""
import argparse, datetime, platform, shlex, sys, tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scratch_recipes import run_variant
from shown import shown_command

from landmark_classifier import __version__
from landmark_classifier.learner import CPU_RECIPE, TRANSFER_CPU_RECIPE, TRANSFER_PHOTO_RECIPE

RECIPES = {  # name: (model, recipe, multiple of the common budget)
    'CPU_RECIPE': ('scratch', CPU_RECIPE, 1.),
    'CPU_RECIPE, 0.8x the time': ('scratch', CPU_RECIPE, .8),
    'TRANSFER_PHOTO_RECIPE': ('transfer', TRANSFER_PHOTO_RECIPE, 1.),
    'TRANSFER_PHOTO_RECIPE, 1.2x the time': ('transfer', TRANSFER_PHOTO_RECIPE, 1.2),
    'TRANSFER_PHOTO_RECIPE, head on features': ('transfer', dict(TRANSFER_PHOTO_RECIPE, head_on_features=True, freeze_epochs=8), 1.),
    'TRANSFER_PHOTO_RECIPE, every layer fine-tuned': ('transfer', dict(TRANSFER_PHOTO_RECIPE, frozen_stride=0), 1.),
    'TRANSFER_CPU_RECIPE': ('transfer', TRANSFER_CPU_RECIPE, 1.),
    'CPU_RECIPE at 64 px': ('scratch', dict(CPU_RECIPE, size=64), 1.),
}

def real_photo_table(photos:str, seconds:float, only:str='') -> str:
    "Train every recipe (or those named in `only`, separated by semicolons) on `photos` for `seconds` each (or the multiple a row names); the markdown table."
    rows = ['| recipe | model | size | test accuracy | top-5 | epochs | training time | command |', '|---|---|---|---|---|---|---|---|']
    with tempfile.TemporaryDirectory() as work:
        for name, (model, recipe, times) in RECIPES.items():
            if only and name not in only.split(';'): continue
            m = run_variant(name.replace(',', ''), dict(recipe, data=str(photos), model=model, max_seconds=seconds*times, cache=True), Path(work))
            print(f"{name}: {m['test_accuracy']:.1%} ({m['schedule_plan']})", flush=True)
            rows.append(f"| `{name}` | {model} | {recipe['size']} px | {m['test_accuracy']:.1%} | {m['test_top5']:.1%} | {m['epochs']} "
                        f"| {m['train_seconds']:.0f} s | `{m['command'].replace(str(photos), 'PHOTOS')}` |")
    return '\n'.join(rows)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('photos', help='a dataset folder of real photos in our layout (train/ and test/ of NN.Class_Name/*.jpg)')
    ap.add_argument('--seconds', type=float, default=250., help='training budget of each run (max_seconds)')
    ap.add_argument('--out', default='bench/REAL_PHOTOS.md', help='markdown file to write')
    ap.add_argument('--only', default='', help='recipe names separated by semicolons (default: all)')
    a = ap.parse_args()
    table = real_photo_table(a.photos, a.seconds, a.only)
    command = shown_command(sys.argv[1:], {a.photos: 'PHOTOS'})
    head = (f'<!-- written by: python bench/real_photos.py {command} -->\n'
            f'`{Path(a.photos).name}`, {a.seconds:.0f} s of training for each recipe (or the multiple its name gives), one run at a time, with the cache; landmark_classifier '
            f'{__version__}, {platform.processor() or platform.machine()}, {datetime.date.today()}. PHOTOS stands for the folder.\n\n')
    Path(a.out).write_text(head + table + '\n'); print(f'written to {a.out}')

if __name__ == '__main__': main()
