#!/usr/bin/env python
"""Render README.md from nbs/index.ipynb without Quarto.

`nbdev_readme` processes the notebooks with nbdev and then asks Quarto to render the index as GitHub markdown;
Quarto cannot be installed everywhere (CI, offline machines). This script runs the same nbdev processors on the
index notebook and renders the processed cells itself: markdown as it is, code in fenced blocks, text outputs
indented, images saved under README_files/. `--check` exits 1 when README.md is out of step with the notebook.
"""
import argparse, base64, difflib, shutil, sys, tempfile
from pathlib import Path

from execnb.nbio import read_nb
from nbdev.config import get_config
from nbdev.processors import FilterDefaults


def _front_matter(src):
    "title and description from a processed notebook's raw front-matter cell."
    meta = {}
    for line in src.strip().strip('-').strip().splitlines():
        if ':' in line:
            k, v = line.split(':', 1); meta[k.strip()] = v.strip().strip('"\'')
    return meta

def _outputs(cell, img_dir, idx):
    out, n_img = [], 0
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream':
            out.append(''.join(o['text']))
            continue
        data = o.get('data', {})
        mime = next((m for m in ('image/png', 'image/jpeg') if m in data), None)
        if mime:
            n_img += 1
            name = f'cell-{idx}-output-{n_img}.' + mime.split('/')[1].replace('jpeg', 'jpg')
            img_dir.mkdir(parents=True, exist_ok=True)
            (img_dir/name).write_bytes(base64.b64decode(''.join(data[mime])))
            out.append(('image', f'README_files/figure-commonmark/{name}'))
        elif 'text/markdown' in data: out.append(('md', ''.join(data['text/markdown'])))
        elif 'text/plain' in data: out.append(''.join(data['text/plain']))
    return out

def render(nb_path, img_dir):
    nb = read_nb(nb_path)
    FilterDefaults()(nb)
    parts, title, desc = [], None, None
    for idx, cell in enumerate(nb.cells):
        src = cell.source
        if cell.cell_type == 'raw' and src.strip().startswith('---'):
            meta = _front_matter(src); title, desc = meta.get('title'), meta.get('description')
            continue
        if cell.cell_type == 'markdown': parts.append(src.strip())
        elif cell.cell_type == 'code':
            if src.strip(): parts.append(f'``` python\n{src.strip()}\n```')
            for o in _outputs(cell, img_dir, idx):
                if isinstance(o, tuple): parts.append(f'![]({o[1]})' if o[0] == 'image' else o[1].strip())
                elif o.strip(): parts.append('\n'.join('    ' + l if l.strip() else '' for l in o.rstrip().splitlines()))
    head = ([f'# {title}'] if title else []) + ([f'> {desc}'] if desc else [])
    return '\n\n'.join(head + parts) + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='exit 1 if README.md differs from what index.ipynb renders to')
    args = ap.parse_args()
    cfg = get_config()
    root, nb_path = cfg.config_path, cfg.nbs_path/cfg.readme_nb
    with tempfile.TemporaryDirectory() as tmp:
        img_dir = Path(tmp)/'figure-commonmark'
        text = render(nb_path, img_dir)
        readme, files = root/'README.md', root/'README_files'/'figure-commonmark'
        if args.check:
            old = readme.read_text() if readme.exists() else ''
            stale = old != text
            new_imgs = {p.name: p.read_bytes() for p in img_dir.iterdir()} if img_dir.exists() else {}
            old_imgs = {p.name: p.read_bytes() for p in files.iterdir()} if files.exists() else {}
            if stale: sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), 'README.md', 'rendered from index.ipynb'))
            if new_imgs != old_imgs: print(f'README_files differ from the images in index.ipynb: committed {sorted(old_imgs)}, rendered {sorted(new_imgs)}'); stale = True
            if stale: print('\nREADME.md is out of step with nbs/index.ipynb: run `python tools/make_readme.py` and commit.'); sys.exit(1)
            print('README.md is in step with nbs/index.ipynb'); return
        readme.write_text(text)
        if files.exists(): shutil.rmtree(files)
        if img_dir.exists(): shutil.copytree(img_dir, files)
        print(f'wrote {readme}' + (f' and {len(list(files.iterdir()))} image(s) in {files}' if files.exists() else ''))

if __name__ == '__main__': main()
