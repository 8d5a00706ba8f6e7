#!/usr/bin/env python
"""The least a job can cost on Ray Data here: a process that imports Ray (and nothing of ours), starts a local
instance as `landmark_predict --engine ray` starts it, sends N rows through an actor pool of the command's shape
whose model class hands each batch back unchanged, and shuts the instance down. No model class, ours or any other,
can make `--engine ray` faster than this on the same machine; `bench/ray_engine.py` times it beside the command.

    python bench/ray_floor.py [--n 600] [--batch-size 32]"""
import argparse, math
import ray

ACTOR_CPUS = 0.75  # a copy of `landmark_classifier.predict.ACTOR_CPUS` (importing it would import torch); tests/test_bench.py keeps them equal

class Unchanged:
    "A model class that does no work: each batch of rows back as it came."
    def __call__(self, batch:dict) -> dict: return batch

def floor_job(n:int, batch_size:int) -> int:
    "Rows that came back from a Ray Data job of `n` rows through one `Unchanged` actor per CPU, in blocks of `batch_size`."
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, _system_config={'enable_metrics_collection': False})
    try:
        actors = max(1, int(ray.cluster_resources().get('CPU', 1)))
        rows = ray.data.from_items([{'path': f'{i:04d}.jpg'} for i in range(n)], override_num_blocks=max(1, math.ceil(n/batch_size)))
        done = rows.map_batches(Unchanged, batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=ACTOR_CPUS)
        return sum(len(b['path']) for b in done.iter_batches(batch_format='numpy', batch_size=None))
    finally: ray.shutdown()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=600)
    ap.add_argument('--batch-size', type=int, default=32)
    a = ap.parse_args()
    got = floor_job(a.n, a.batch_size)
    if got != a.n: raise SystemExit(f'ray_floor: {got} rows came back of {a.n}')
    print(got)

if __name__ == '__main__': main()
