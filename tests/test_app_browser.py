"The app as a person uses it: Voila serves it on 127.0.0.1, headless Chromium uploads a photo and reads the landmarks."
import os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
ARTIFACTS = Path(os.environ.get('LANDMARK_ARTIFACTS', ROOT/'tests'/'artifacts'))

if not CHROMIUM:
    if os.environ.get('CI'): raise RuntimeError('CI needs Debian chromium for the browser test: apt-get install -y chromium')
    pytest.skip('no chromium on this machine (apt-get install chromium)', allow_module_level=True)
playwright = pytest.importorskip('playwright.sync_api')

HANG_GUARD = 600  # seconds: every wait here only ends one for a page or a process that never comes; on busy cores things come later, never this late

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def served(tmp_path_factory):
    "An exported model and `landmark_app` serving it on 127.0.0.1."
    from landmark_classifier.testing import make_shapes
    from landmark_classifier.learner import train_landmarks, SHAPES_RECIPE
    from landmark_classifier.export import predictor_from_checkpoint, export_torchscript
    tmp = tmp_path_factory.mktemp('app')
    shapes = make_shapes(tmp/'shapes', n_train=120, n_test=10, size=32, n_classes=6)  # a model that has learned: its answers differ from photo to photo; two shapes kept back to teach it
    run = train_landmarks(str(shapes), out=str(tmp/'run'), **SHAPES_RECIPE)
    assert run.test.accuracy >= 0.9, run
    model = export_torchscript(predictor_from_checkpoint(tmp/'run'/'best.pt'), tmp/'model.pt')
    photo = sorted((shapes/'test'/'04.Ring').iterdir())[0]
    port = _free_port()
    log = open(tmp/'voila.log', 'w')
    exe = shutil.which('landmark_app', path=str(Path(sys.executable).parent)) or shutil.which('landmark_app')
    proc = subprocess.Popen([exe, str(model), '--port', str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + HANG_GUARD
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=5).status == 200: break
        except OSError: time.sleep(0.5)
        if proc.poll() is not None: break
    else: proc.kill(); pytest.fail('voila did not start: ' + (tmp/'voila.log').read_text()[-2000:])
    if proc.poll() is not None: pytest.fail('landmark_app exited: ' + (tmp/'voila.log').read_text()[-2000:])
    yield dict(url=url, photo=photo, model=model, tmp=tmp, proc=proc, port=port)
    if proc.poll() is None: proc.kill(); proc.wait()

def _labels(page): return [t.strip() for t in page.locator('.widget-label').all_inner_texts()]

def test_upload_classify_in_a_browser(served):
    url, photo, model, tmp = served['url'], served['photo'], served['model'], served['tmp']
    from landmark_classifier.export import load_predictor, predict_image
    expected = predict_image(load_predictor(model), photo)  # what the page must show, computed here from the same file
    assert expected.top[0][0] == 'Ring', expected
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu', '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1000, 'height': 800})
        page.goto(url, timeout=HANG_GUARD*1000)
        page.wait_for_selector('.widget-upload', timeout=HANG_GUARD*1000)
        with page.expect_file_chooser() as chooser: page.click('.widget-upload >> nth=0')
        chooser.value.set_files(str(photo))
        page.click('button:has-text("Classify")')
        page.wait_for_function("() => [...document.querySelectorAll('.widget-label')].filter(e => /^\\d+\\.\\d%$/.test(e.innerText.trim())).length == 5", timeout=HANG_GUARD*1000)
        percents = [t for t in _labels(page) if t.endswith('%') and t[:-1].replace('.', '').isdigit()]
        assert percents == [f'{p:.1%}' for _, p in expected.top]  # the five probabilities, most probable first
        names = [t for t in _labels(page) if t in {n for n, _ in expected.top}]
        assert names == [n for n, _ in expected.top], _labels(page)  # the five landmarks, in the same order
        page.screenshot(path=str(ARTIFACTS/'app.png'), full_page=True)
        # a text file gives one readable line, no traceback
        notes = tmp/'notes.txt'; notes.write_text('not a photo')
        with page.expect_file_chooser() as chooser: page.click('.widget-upload >> nth=0')
        chooser.value.set_files(str(notes))
        page.click('button:has-text("Classify")')
        page.wait_for_selector('text=Cannot classify notes.txt', timeout=HANG_GUARD*1000)
        assert 'Traceback' not in page.content()
        page.screenshot(path=str(ARTIFACTS/'app_error.png'), full_page=True)
        browser.close()
    assert (ARTIFACTS/'app.png').stat().st_size > 1000

def _percents(page) -> list: return [t for t in _labels(page) if t.endswith('%') and t[:-1].replace('.', '').isdigit()]

def test_teach_it_a_landmark_in_a_browser(served):
    "Ten photos of a shape the model never saw and a name, in the panel; then an unseen photo of it gets the answer the taught model gives; then the taught model is saved."
    import shutil
    from landmark_classifier.testing import make_shapes
    from landmark_classifier.enroll import enroll, predictor_from_export
    from landmark_classifier.export import load_predictor, predict_image
    url, model, tmp = served['url'], served['model'], served['tmp']
    eight = make_shapes(tmp/'eight', n_train=10, n_test=4, size=32, seed=1)
    photos = sorted((eight/'train'/'06.Diamond').iterdir())
    unseen = sorted((eight/'test'/'06.Diamond').iterdir())[0]
    (tmp/'teach'/'Diamond').mkdir(parents=True)
    for p in photos: shutil.copy(p, tmp/'teach'/'Diamond')
    expected = predict_image(enroll(predictor_from_export(model), tmp/'teach'), unseen)  # what the page must show once taught
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu', '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1000, 'height': 900})
        page.goto(url, timeout=HANG_GUARD*1000)
        page.wait_for_selector('.widget-upload', timeout=HANG_GUARD*1000)
        page.fill('.widget-text input >> nth=0', 'Diamond')
        with page.expect_file_chooser() as chooser: page.click('.widget-upload >> nth=1')
        chooser.value.set_files([str(f) for f in photos])
        page.click('button:has-text("Teach it this landmark")')
        page.wait_for_selector(f'text=Learned Diamond from {len(photos)} photos', timeout=HANG_GUARD*1000)
        with page.expect_file_chooser() as chooser: page.click('.widget-upload >> nth=0')
        chooser.value.set_files(str(unseen))
        page.click('button:has-text("Classify")')
        page.wait_for_function("() => [...document.querySelectorAll('.widget-label')].filter(e => /^\\d+\\.\\d%$/.test(e.innerText.trim())).length == 5", timeout=HANG_GUARD*1000)
        assert _percents(page) == [f'{q:.1%}' for _, q in expected.top]
        assert [t for t in _labels(page) if t in {n for n, _ in expected.top}] == [n for n, _ in expected.top], _labels(page)
        assert 'Diamond' in [n for n, _ in expected.top]  # the new landmark is among the answers
        page.screenshot(path=str(ARTIFACTS/'app_taught.png'), full_page=True)
        page.click('button:has-text("Save the model")')
        page.wait_for_selector('text=Saved', timeout=HANG_GUARD*1000)
        browser.close()
    assert load_predictor(tmp/'model-taught.pt').class_names[-1] == '06.Diamond'

@pytest.mark.parametrize('how', ['SIGTERM'])
def test_stopping_the_command_stops_voila_and_its_kernels(served, how):
    "After the page was used (a kernel is running), stopping `landmark_app` leaves no child process and closes the port."
    import psutil, signal
    proc = served['proc']
    children = psutil.Process(proc.pid).children(recursive=True)
    assert any('voila' in ' '.join(c.cmdline()) for c in children) and any('ipykernel' in ' '.join(c.cmdline()) for c in children), children
    proc.send_signal(getattr(signal, how))
    assert proc.wait(HANG_GUARD) == 0
    gone, alive = psutil.wait_procs(children, timeout=HANG_GUARD)
    assert not alive, [c.cmdline() for c in alive]
    with socket.socket() as s: assert s.connect_ex(('127.0.0.1', served['port'])) != 0
