"""`landmark_predict --engine ray` on Ray Data: a simulated two-node cluster where both nodes make rows, an actor
SIGKILLed mid-job without a photo lost or doubled, Parquet rows, the one line without Ray, and no Ray process left
behind. Each test starts its own Ray and stops it."""
import io, json, os, shutil, signal, subprocess, sys
from pathlib import Path

import psutil
import pytest

ray = pytest.importorskip('ray')
import ray.cluster_utils
import torch

from landmark_classifier.export import export_torchscript, predictor_from_checkpoint
from landmark_classifier.learner import train_landmarks
from landmark_classifier.predict import BatchPredictor, _ray_dataset, _ray_rows, iter_image_paths, run_predict
from landmark_classifier.testing import make_shapes

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module: its classes travel by value

def _ray_processes() -> list:
    "Ray's own processes (raylet, GCS, workers) running on this machine, as psutil sees them."
    marks = ('raylet', 'gcs_server', 'ray::', 'default_worker.py')
    found = []
    for p in psutil.process_iter(['cmdline']):
        line = ' '.join(p.info['cmdline'] or [])
        if any(m in line for m in marks): found.append(p)
    return found

@pytest.fixture(scope='module')
def job(tmp_path_factory):
    "(model, folder of photos with broken files mixed in, the local command's rows by path)."
    tmp = tmp_path_factory.mktemp('ray')
    root = make_shapes(tmp/'shapes', n_train=60, n_test=12, size=32)
    train_landmarks(root, epochs=2, size=32, batch_size=32, lr=5e-3, out=tmp/'run', num_workers=0, progress=False)
    model = export_torchscript(predictor_from_checkpoint(tmp/'run'/'best.pt'), tmp/'model.pt', with_onnx=False)
    photos = tmp/'photos'
    shutil.copytree(root/'test', photos)
    (photos/'broken.jpg').write_bytes(b'not a photo')
    (photos/'empty.png').write_bytes(b'')
    out = io.StringIO()
    assert run_predict(str(model), [str(photos)], format='json', out=out, err=io.StringIO()) == 1
    return model, photos, {r['path']: r for r in map(json.loads, out.getvalue().splitlines())}

def _same_rows(rows:list, local:dict):
    "Each photo once, with the local command's label and probabilities."
    assert sorted(r['path'] for r in rows) == sorted(local)
    for r in rows:
        assert (r['label'], r['known']) == (local[r['path']]['label'], local[r['path']]['known'])
        for got, want in zip(r['top'], local[r['path']]['top']): assert got['landmark'] == want['landmark'] and abs(got['probability'] - want['probability']) <= 1e-5

class NodeBatchPredictor(BatchPredictor):
    "Rows that also say which node made them."
    def __call__(self, batch):
        cols = super().__call__(batch)
        cols['node'] = [ray.get_runtime_context().get_node_id()]*len(cols['path'])
        return cols

class KilledOnceBatchPredictor(BatchPredictor):
    "The first actor to reach its second batch kills its own process with SIGKILL, once in the whole job (a marker file decides)."
    def __init__(self, marker, **kw):
        super().__init__(**kw)
        self.marker, self.calls = marker, 0
    def __call__(self, batch):
        self.calls += 1
        if self.calls == 2:
            try: os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError: pass
            else: os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(batch)

def _rows_of(model_class, arguments:dict, photos:Path, batch_size:int=8) -> list:
    "Every row of a job run through `_ray_rows`, as the command runs it, read back as dicts."
    data = _ray_dataset(ray, [str(photos)], batch_size)
    rows = _ray_rows(ray, data, model_class, arguments, batch_size)
    return [r for r in rows.take_all()]

def test_command_rows_equal_local(job, tmp_path):
    model, photos, local = job
    out, err = io.StringIO(), io.StringIO()
    assert run_predict(str(model), [str(photos)], format='json', engine='ray', out=out, err=err) == 1  # 1: some photos unreadable, as locally
    _same_rows([json.loads(l) for l in out.getvalue().splitlines()], local)
    assert 'broken.jpg' in err.getvalue() and 'empty.png' in err.getvalue()
    assert run_predict(str(model), [str(photos)], engine='ray', output=str(tmp_path/'rows.parquet'), err=io.StringIO()) == 1
    import pyarrow.parquet as pq
    table = pq.read_table(tmp_path/'rows.parquet').to_pylist()
    assert sorted(r['path'] for r in table) == sorted(local)
    assert all(r['label'] == local[r['path']]['label'] for r in table)
    assert not ray.is_initialized()  # the command stopped the instance it started

def test_two_nodes_both_make_rows(job):
    model, photos, local = job
    cluster = ray.cluster_utils.Cluster(initialize_head=True, head_node_args={'num_cpus': 1})
    try:
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False)
        rows = _rows_of(NodeBatchPredictor, dict(model=str(model), k=5, threads=1), photos)
        good = [r for r in rows if not r['error']]
        assert len({r['node'] for r in good}) == 2  # both nodes classified photos
        assert sorted(r['path'] for r in good) == sorted(local)
        for r in good: assert r['label'] == local[r['path']]['label'] and abs(r['probability1'] - local[r['path']]['top'][0]['probability']) <= 1e-5
    finally:
        ray.shutdown()
        cluster.shutdown()

def test_actor_killed_mid_job(job, tmp_path):
    model, photos, local = job
    ray.init(num_cpus=2, log_to_driver=False)
    try:
        rows = _rows_of(KilledOnceBatchPredictor, dict(marker=str(tmp_path/'killed'), model=str(model), k=5, threads=1), photos, batch_size=4)
    finally: ray.shutdown()
    assert (tmp_path/'killed').exists()  # an actor did die
    paths = [r['path'] for r in rows if not r['error']]
    assert sorted(paths) == sorted(local)  # every photo exactly once
    assert len(paths) == len(set(paths))

def test_actors_run_what_the_command_timed(job, tmp_path, monkeypatch):
    "The command times the runtimes once, at one thread as each actor runs: no actor measures them again in its own cache."
    model, photos, _ = job
    monkeypatch.setenv('LANDMARK_CACHE', str(tmp_path/'cache'))  # the actors inherit it: a cache no one has timed in
    assert run_predict(str(model), [str(photos)], format='json', engine='ray', out=io.StringIO(), err=io.StringIO()) == 1
    timed = [json.loads(p.read_text())['machine'] for p in (tmp_path/'cache'/'runtimes').glob('*.json')]
    assert len(timed) == 1, timed  # the driver's one measurement; actors that timed again would add theirs
    assert '|1 threads|' in timed[0]

def test_without_ray_one_line(job, monkeypatch):
    model, photos, _ = job
    monkeypatch.setitem(sys.modules, 'ray', None)  # `import ray` now fails as it does where Ray is not installed
    err = io.StringIO()
    assert run_predict(str(model), [str(photos)], engine='ray', err=err, out=io.StringIO()) == 2
    assert err.getvalue().strip().splitlines() == ['landmark_predict: error: --engine ray needs Ray: pip install "landmark_classifier[ray]"']

def test_no_ray_process_left():
    "Runs last in this file: every Ray process the tests above started has stopped."
    assert not ray.is_initialized()
    gone, alive = psutil.wait_procs(_ray_processes(), timeout=600)  # they exit on their own after shutdown; a process that never does stays in `alive`
    assert alive == [], [' '.join(p.cmdline()) for p in alive]
