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
    assert {'index.html', 'data.html', 'train.html', 'scratch.html', 'transfer.html', 'export.html', 'app.html', 'demo.html'} <= pages
    data = (preview/'data.html').read_text()
    for symbol in ('get_data_loaders', 'read_image', 'make_synthetic_landmarks', 'download_landmarks'): assert symbol in data
    assert 'LandmarkCNN' in (preview/'scratch.html').read_text() and 'transfer_model' in (preview/'transfer.html').read_text()

@pytest.mark.skipif(not shutil.which('chromium'), reason='no chromium on this machine (apt-get install chromium)')
def test_preview_opens_in_a_browser(preview):
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'), args=['--no-sandbox', '--disable-gpu', '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1200, 'height': 900})
        page.goto((preview/'index.html').as_uri())
        assert page.locator('#lc-sidebar a').count() == 8
        page.click('#lc-sidebar >> text=Data')
        page.wait_for_selector('text=get_data_loaders')
        page.screenshot(path=str(ARTIFACTS/'docs_data.png'))
        page.click('#lc-sidebar >> text=Export and inference')
        page.wait_for_selector('text=predict_image')
        page.screenshot(path=str(ARTIFACTS/'docs_export.png'))
        browser.close()
