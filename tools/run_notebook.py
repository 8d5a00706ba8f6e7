#!/usr/bin/env python
"""Run a notebook top to bottom and store its outputs, so that every figure in it comes from the code beside it.

    python tools/run_notebook.py nbs/11_export.ipynb            # every cell but the slow ones, which keep their outputs
    python tools/run_notebook.py nbs/10_learner.ipynb --slow     # the slow cells too (full training runs)

Cells marked `#| eval: false` never run. A cell that raises stops the run and nothing is written. The notebook runs in
`nbs/` (as `nbdev_test` runs it), with matplotlib's inline backend; run `nbdev_clean` afterwards."""
import argparse, os, re, sys
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def flags(cell) -> set:
    "The `#| ...` directive words of a cell."
    return {w for l in cell.source.splitlines() if l.startswith('#|') for w in re.split(r'[\s:]+', l[2:].strip()) if w}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='+', help='Notebooks to run')
    p.add_argument('--slow', action='store_true', help='Run the `#| slow` cells too')
    args = p.parse_args()
    for path in [Path(p).resolve() for p in args.notebooks]:
        nb = read_nb(path)
        os.chdir(path.resolve().parent)
        shell = CaptureShell(); shell.run_cell('%matplotlib inline')
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != 'code': continue
            f = flags(cell)
            if ('eval' in f and 'false' in f) or ('slow' in f and not args.slow): continue
            cell.outputs = []  # execnb keeps a cell's old outputs when the new run prints nothing
            shell.cell(cell)
            if shell.exc: sys.exit(f'{path}: cell {i} raised {shell.exc!r}; nothing written')
        write_nb(nb, path)
        print(f'{path}: ran and saved')

if __name__ == '__main__': main()
