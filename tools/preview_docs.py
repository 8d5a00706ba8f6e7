#!/usr/bin/env python
"""Process every notebook as the docs build does, then render the result to HTML without Quarto.

`nbdev_docs` runs nbdev's processors on the notebooks (into _proc/) and hands them to Quarto. Quarto is not on every
machine, so this script runs the same processing step (`nbdev.serve.proc_nbs`, which fails loudly on a notebook that
does not process) and renders each processed notebook with nbconvert into _preview/, with the sidebar of
nbs/sidebar.yml on every page. Open _preview/index.html in a browser. `--check` only processes.
"""
import argparse, html, re, shutil, sys
from pathlib import Path

import yaml
from nbdev.config import get_config
from nbdev.serve import proc_nbs

def _pages(cfg):
    side = yaml.safe_load((cfg.nbs_path/'sidebar.yml').read_text())
    return [c for c in side['website']['sidebar']['contents'] if isinstance(c, str)]

def _title(nb_path):
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'raw' and 'title:' in c.source:
            m = re.search(r'title:\s*"?([^"\n]+)"?', c.source)
            if m: return m.group(1)
        if c.cell_type == 'markdown':
            m = re.match(r'#\s+(.+)', c.source)
            if m: return m.group(1)
    return nb_path.stem

def render(cache:Path, out:Path, pages:list, lib:str):
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    exporter = HTMLExporter(template_name='lab')
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, enabled=True), enabled=True)
    out.mkdir(parents=True, exist_ok=True)
    titles = {p: _title(cache/p) for p in pages}
    def html_name(p): return 'index.html' if p == 'index.ipynb' else re.sub(r'^\d+[a-zA-Z0-9]*_', '', Path(p).stem) + '.html'  # as nbdev names pages: 09a_openset -> openset.html
    for p in pages:
        nb = nbformat.read(cache/p, as_version=4)
        nb.cells = [c for c in nb.cells if not (c.cell_type == 'raw' and c.source.strip().startswith('---'))]
        for c in nb.cells:  # what Quarto does with `#| echo: false`: show the output, not the code
            if c.cell_type == 'code' and re.search(r'^#\|\s*echo:\s*false', c.source, re.M): c.metadata.setdefault('tags', []).append('remove_input')
            if c.cell_type == 'markdown': c.source = re.sub(r'\{target="_blank"[^}]*\}', '', c.source)
            for o in c.get('outputs', []):
                if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = re.sub(r'\{target="_blank"[^}]*\}', '', o['data']['text/markdown'])
        body, _ = exporter.from_notebook_node(nb)
        nav = ''.join(f'<li{" class=active" if q == p else ""}><a href="{html_name(q)}">{html.escape(titles[q])}</a></li>' for q in pages)
        sidebar = (f'<nav id="lc-sidebar"><h3>{html.escape(lib)}</h3><ul>{nav}</ul></nav>'
                   '<style>#lc-sidebar{position:fixed;left:0;top:0;bottom:0;width:210px;padding:12px;background:#f6f8fa;border-right:1px solid #ddd;overflow:auto;font-family:sans-serif;font-size:14px}'
                   '#lc-sidebar ul{list-style:none;padding:0}#lc-sidebar li{margin:6px 0}#lc-sidebar li.active a{font-weight:bold}body{margin-left:240px!important}</style>')
        body = body.replace('<body', '<body data-page="' + html.escape(p) + '"', 1)
        body = re.sub(r'(<body[^>]*>)', r'\1' + sidebar.replace('\\', '\\\\'), body, count=1)
        (out/html_name(p)).write_text(body)
    return [out/html_name(p) for p in pages]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='only process the notebooks (what CI checks)')
    ap.add_argument('--out', default='_preview', help='folder for the HTML pages')
    args = ap.parse_args()
    cfg = get_config()
    cache = proc_nbs(cfg.nbs_path, n_workers=0, force=True)
    pages = _pages(cfg)
    missing = [p for p in pages if not (cache/p).exists()]
    if missing: sys.exit(f'processing left no output for {missing}')
    print(f'processed {len(pages)} notebooks into {cache}')
    if args.check: return
    files = render(cache, cfg.config_path/args.out, pages, cfg.lib_name)
    print(f'wrote {len(files)} pages: open {files[0]}')

if __name__ == '__main__': main()
