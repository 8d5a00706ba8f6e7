"The app as a person uses it: Voila serves it on 127.0.0.1, headless Chromium uploads a photo and reads the landmarks."
import os, shutil, socket, subprocess, sys, time, urllib.request, warnings
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
ARTIFACTS = Path(os.environ.get('LANDMARK_ARTIFACTS', ROOT/'tests'/'artifacts'))

if not CHROMIUM:
    if os.environ.get('CI'): raise RuntimeError('CI needs Debian chromium for the browser test: apt-get install -y chromium')
    pytest.skip('no chromium on this machine (apt-get install chromium)', allow_module_level=True)
playwright = pytest.importorskip('playwright.sync_api')

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def served(tmp_path_factory):
    "An exported model and `landmark_app` serving it on 127.0.0.1."
    from landmark_classifier.synthetic import make_synthetic_landmarks
    from landmark_classifier.export import Predictor, export_torchscript
    from landmark_classifier.scratch import LandmarkCNN
    tmp = tmp_path_factory.mktemp('app')
    torch.manual_seed(0)
    names = [f'{i:02d}.Landmark_{i}' for i in range(7)]
    model = export_torchscript(Predictor(LandmarkCNN(len(names)), names, size=64), tmp/'model.pt')
    photos = make_synthetic_landmarks(tmp/'photos', n_classes=2, n_train=1, n_test=1, size=128)
    port = _free_port()
    log = open(tmp/'voila.log', 'w')
    exe = shutil.which('landmark_app', path=str(Path(sys.executable).parent)) or shutil.which('landmark_app')
    proc = subprocess.Popen([exe, str(model), '--port', str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=5).status == 200: break
        except OSError: time.sleep(0.5)
        if proc.poll() is not None: break
    else: proc.kill(); pytest.fail('voila did not start: ' + (tmp/'voila.log').read_text()[-2000:])
    if proc.poll() is not None: pytest.fail('landmark_app exited: ' + (tmp/'voila.log').read_text()[-2000:])
    yield url, sorted(photos.rglob('*.jpg'))[0], tmp
    proc.terminate()
    try: proc.wait(10)
    except subprocess.TimeoutExpired: proc.kill()

def _labels(page): return [t.strip() for t in page.locator('.widget-label').all_inner_texts()]

def test_upload_classify_in_a_browser(served):
    url, photo, tmp = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu', '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1000, 'height': 800})
        page.goto(url, timeout=120_000)
        page.wait_for_selector('.widget-upload', timeout=120_000)
        with page.expect_file_chooser() as chooser: page.click('.widget-upload')
        chooser.value.set_files(str(photo))
        page.click('button:has-text("Classify")')
        page.wait_for_function("() => [...document.querySelectorAll('.widget-label')].filter(e => /^\\d+\\.\\d%$/.test(e.innerText.trim())).length == 5", timeout=60_000)
        percents = [t for t in _labels(page) if t.endswith('%') and t[:-1].replace('.', '').isdigit()]
        assert len(percents) == 5
        assert abs(sum(float(t[:-1]) for t in percents) - 100) < 100  # probabilities, not garbage
        names = [t for t in _labels(page) if t.startswith('Landmark ')]
        assert len(names) == 5, _labels(page)
        page.screenshot(path=str(ARTIFACTS/'app.png'), full_page=True)
        # a text file gives one readable line, no traceback
        notes = tmp/'notes.txt'; notes.write_text('not a photo')
        with page.expect_file_chooser() as chooser: page.click('.widget-upload')
        chooser.value.set_files(str(notes))
        page.click('button:has-text("Classify")')
        page.wait_for_selector('text=Cannot classify notes.txt', timeout=30_000)
        assert 'Traceback' not in page.content()
        page.screenshot(path=str(ARTIFACTS/'app_error.png'), full_page=True)
        browser.close()
    assert (ARTIFACTS/'app.png').stat().st_size > 1000
