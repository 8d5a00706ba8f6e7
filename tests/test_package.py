"What cannot live in a notebook: the installed package, its metadata, its documentation and the README."
import configparser, dataclasses, importlib, inspect, re, subprocess, sys
from pathlib import Path

import pytest
from fastcore.docments import docments

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(f'landmark_classifier.{p.stem}' for p in (ROOT/'landmark_classifier').glob('*.py') if not p.stem.startswith('_'))

def test_version_matches_settings():
    import landmark_classifier
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    assert landmark_classifier.__version__ == cfg['DEFAULT']['version']

def _public(mod):
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isfunction(obj) or inspect.isclass(obj): yield name, obj

@pytest.mark.parametrize('modname', MODULES)
def test_public_api_is_documented(modname):
    "Every exported function and class has a docstring, and every parameter a docment (they feed show_doc and the CLI help)."
    mod = importlib.import_module(modname)
    missing = []
    for name, obj in _public(mod):
        if not inspect.getdoc(obj): missing.append(f'{name}: no docstring')
        target = obj.__init__ if inspect.isclass(obj) else obj
        if inspect.isclass(obj) and target is object.__init__: continue
        try: sig = inspect.signature(target)
        except (TypeError, ValueError): continue
        params = [p for p in sig.parameters if p not in ('self', 'cls') and sig.parameters[p].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
        if not params or (inspect.isclass(obj) and target.__qualname__.split('.')[0] != obj.__name__): continue
        docs = docments(obj if dataclasses.is_dataclass(obj) else target)
        if dataclasses.is_dataclass(obj): docs.update({f.name: f.metadata['help'] for f in dataclasses.fields(obj) if f.metadata.get('help')})  # fields made with `option`
        missing += [f'{name}({p}): no docment' for p in params if not docs.get(p)]
    assert not missing, '\n'.join(missing)

def test_readme_in_step_with_index():
    r = subprocess.run([sys.executable, 'tools/make_readme.py', '--check'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

def test_ci_runs_the_readme_line():
    "The README's install-and-test line is the one .ci/run extracts and runs."
    readme = (ROOT/'README.md').read_text()
    lines = [l for l in readme.splitlines() if l.startswith('pip install -e ".[dev]" && ')]
    assert len(lines) == 1, lines
    assert 'nbdev_test' in lines[0] and 'pytest' in lines[0] and 'timeout' in lines[0]
    assert 'pip install -e ".[offline]" && landmark_demo' in readme  # the main job comes first

def test_min_python_holds():
    "settings.ini's min_python is what the code needs: vermin, which reads the code for the language and library features it uses, finds none of a later version."
    cfg = configparser.ConfigParser()
    cfg.read(ROOT/'settings.ini')
    target = cfg['DEFAULT']['min_python']
    vermin = Path(sys.executable).with_name('vermin')
    r = subprocess.run([str(vermin), '--no-tips', '--violations', f'-t={target}-', str(ROOT/'landmark_classifier')], capture_output=True, text=True)
    assert 'Minimum required versions' in r.stdout, r.stdout + r.stderr  # it did read the code
    assert 'Target versions not met' not in r.stdout, f'min_python = {target}, but the code needs more:\n{r.stdout}'

MACHINE_PATH = re.compile(r'/work/|\.\./shared\b|/home/[a-z]|/root/|/Users/[A-Za-z]|/tmp/')  # folders of one machine, and its temporary files

def test_no_committed_file_names_a_path_outside_the_repo():
    "Commands, tables and notebook outputs name folders outside the repository by their role (PHOTOS, MOBILENET, <tmp>), never as one machine's path."
    files = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        path = ROOT/name
        if path.suffix in ('.png', '.jpg', '.jpeg', '.ico') or not path.is_file(): continue
        for n, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
            if MACHINE_PATH.search(line) and name != 'tests/test_package.py': found.append(f'{name}:{n}: {line.strip()[:120]}')
    assert not found, 'paths of one machine in committed files:\n' + '\n'.join(found)

def test_a_fork_gets_ci_and_docs():
    "nbdev's two GitHub workflows: the test one runs .ci/run (the README's line after the nbdev checks), the docs one publishes the site."
    test = (ROOT/'.github'/'workflows'/'test.yaml').read_text()
    assert 'run: bash .ci/run' in test and "python-version: '3.11'" in test
    assert 'fastai/workflows/quarto-ghp' in (ROOT/'.github'/'workflows'/'deploy.yaml').read_text()
