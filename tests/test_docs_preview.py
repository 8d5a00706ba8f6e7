"The docs: every notebook processes as the docs build does, and the offline preview shows the API pages in a browser."
import os, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get('LANDMARK_ARTIFACTS', ROOT/'tests'/'artifacts'))

@pytest.fixture(scope='module')
def preview():
    r = subprocess.run([sys.executable, 'tools/preview_docs.py'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return ROOT/'_preview'

def test_every_notebook_processes_and_renders(preview):
    pages = {p.name for p in preview.glob('*.html')}
    chapters = sorted(p.stem.split('_', 1)[1] for p in (ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb'))
    assert {'index.html'} | {f'{c}.html' for c in chapters} <= pages, pages
    for page, symbols in {'loaders': ('get_data_loaders', 'DecodedCache'), 'images': ('read_image',), 'synthetic': ('make_synthetic_landmarks',),
                          'data': ('download_landmarks', 'check_dataset'), 'scratch': ('LandmarkCNN',), 'transfer': ('transfer_model',),
                          'learner': ('train_landmarks', 'recipe_command'), 'core': ('parse_cli_args',)}.items():
        text = (preview/f'{page}.html').read_text()
        for symbol in symbols: assert symbol in text, (page, symbol)

@pytest.mark.skipif(not shutil.which('chromium'), reason='no chromium on this machine (apt-get install chromium)')
def test_preview_opens_in_a_browser(preview):
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'), args=['--no-sandbox', '--disable-gpu', '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1200, 'height': 900})
        page.goto((preview/'index.html').as_uri())
        assert page.locator('#lc-sidebar a').count() == 1 + len(list((ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb')))
        page.click('#lc-sidebar >> text=Loaders')
        page.wait_for_selector('text=get_data_loaders')
        page.screenshot(path=str(ARTIFACTS/'docs_data.png'))
        page.click('#lc-sidebar >> text=Export and inference')
        page.wait_for_selector('text=predict_image')
        page.screenshot(path=str(ARTIFACTS/'docs_export.png'))
        browser.close()
