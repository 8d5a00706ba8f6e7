"""The layout rules of the notebooks and the modules they generate (issue "Chapters a reader can trust"): chapters are read in
order, so no module imports a later chapter's module nor another module's private names; modules stay small; exported cells
are the size of fastcore's; the app's notebook is the last chapter."""
import ast, json, re, statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb') if re.match(r'\d\d[a-z]?_', p.name))  # 09a_ sits between 09_ and 10_
LIB = ROOT/'landmark_classifier'

def _source(cell) -> str: return ''.join(cell['source'])

def _default_exp(nb_path) -> str:
    for cell in json.loads(nb_path.read_text())['cells']:
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', _source(cell), re.M)
        if m: return m.group(1)
    raise AssertionError(f'{nb_path.name} has no default_exp')

def chapter_order() -> dict:
    "{module: chapter number}, from the notebooks' numbers and their `default_exp`."
    return {_default_exp(p): p.name.split('_')[0] for p in NBS}  # '09' < '09a' < '10'

def library_imports(module:str) -> list:
    "(imported module, [names]) for every import of a library module in `module`'s source, at any depth."
    out = []
    for node in ast.walk(ast.parse((LIB/f'{module}.py').read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module.startswith('landmark_classifier') or node.level):
            name = node.module.split('.')[-1] if node.module != 'landmark_classifier' else None
            out.append((name, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name.split('.')[-1], []) for a in node.names if a.name.startswith('landmark_classifier.')]
    return out

def test_imports_run_from_earlier_chapters_to_later_ones():
    order = chapter_order()
    later, private = [], []
    for mod in order:
        for imported, names in library_imports(mod):
            if imported is None: continue  # `from landmark_classifier import __version__`
            if order[imported] > order[mod]: later.append(f'{mod} (chapter {order[mod]}) imports {imported} (chapter {order[imported]})')
            private += [f'{mod} imports {imported}.{n}' for n in names if n.startswith('_')]
    assert not later, later
    assert not private, private

def test_modules_stay_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in LIB.glob('*.py') if p.name != '_modidx.py'}
    assert max(sizes.values()) <= 600, sizes

def exported_cell_sizes() -> list:
    "Lines of code (blank lines and `#|` directives not counted) of every exported code cell of the numbered notebooks."
    sizes = []
    for p in NBS:
        for cell in json.loads(p.read_text())['cells']:
            lines = _source(cell).splitlines()
            if cell['cell_type'] == 'code' and any(re.match(r'#\|\s*export', l) for l in lines):
                sizes.append(sum(1 for l in lines if l.strip() and not l.startswith('#|')))
    return sizes

def test_exported_cells_are_short():
    assert statistics.median(exported_cell_sizes()) <= 10

def test_the_app_is_the_last_chapter():
    assert _default_exp(NBS[-1]) == 'app', NBS[-1].name

def joined_statements() -> list:
    "'module:line' of every `;` that joins two statements in the library (a `;` inside a string is not a token)."
    import io, tokenize
    found = []
    for path in sorted(LIB.glob('*.py')):
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type == tokenize.OP and tok.string == ';': found.append(f'{path.name}:{tok.start[0]}')
    return found

def test_one_statement_a_line():
    "As the anchors write (fastcore: 7 in 6,333 lines; nbdev: none): no statements joined with `;` in the library."
    assert joined_statements() == []
