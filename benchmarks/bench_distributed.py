"""Data-parallel scaling: training images/s with 1, 2, ... processes on this machine.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --nproc 1 2 4 8 16 --models lenet5 resnet20 --rounds 3

Every configuration trains the same model on the same global batch (``--batch``; each of N processes takes
batch / N samples, as ``ember train --nproc N`` does): one process on one thread (the reference of one
core), one process on every core with Ember's threads,
N processes share the cores (cores / N threads each, bound to their own cores by Open MPI) and average their
gradients with DistributedDataParallel. The configurations alternate, round after round, each in its own
processes; the table gives the median images/s over the rounds with min–max, and the speed-up over one
process. Random data of MNIST's or CIFAR-10's shape: the data loader is not what is measured.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SHAPES = {"lenet5": (1, 28), "resnet20": (3, 32), "vgg_small": (3, 32)}


def worker(model_name, batch, steps, warmup):
    """One configuration, in every process it runs on: prints rank 0's images/s as JSON."""
    import numpy as np

    import ember
    import ember.distributed as dist
    from ember import nn

    if os.environ.get("EMBER_BENCH_THREADS"):  # the one-thread reference row
        ember.set_num_threads(int(os.environ["EMBER_BENCH_THREADS"]))
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    channels, size = SHAPES[model_name]
    ember.manual_seed(0)
    model = ember.models.create(model_name, num_classes=10, in_channels=channels, input_size=size)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    share = batch // world
    data = np.random.default_rng(rank)
    x = ember.tensor(data.standard_normal((share, channels, size, size)).astype(np.float32))
    y = ember.tensor(data.integers(0, 10, share))

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"images_per_s": batch * steps / seconds, "threads": ember.get_num_threads()}))


def run_configuration(model, nproc, args, threads=None):
    from ember.distributed.launch import mpirun_command

    program = [sys.executable, os.path.abspath(__file__), "--worker", model, str(args.batch), str(args.steps),
               str(args.warmup)]
    command = program if nproc == 1 else mpirun_command(nproc, program)
    env = dict(os.environ, PYTHONPATH=ROOT, **({"EMBER_BENCH_THREADS": str(threads)} if threads else {}))
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{model} on {nproc} processes failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lenet5", "resnet20"], choices=sorted(SHAPES))
    parser.add_argument("--nproc", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch", type=int, default=128, help="global batch (each process gets batch / N)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        model, batch, steps, warmup = args.worker
        return worker(model, int(batch), int(steps), int(warmup))
    print(f"{os.cpu_count()} cores; global batch {args.batch}; {args.steps} timed steps; {args.rounds} rounds; "
          f"OPENBLAS_CORETYPE {'set' if 'OPENBLAS_CORETYPE' in os.environ else 'unset'}")
    # (processes, threads): one process on one core for reference, then each --nproc on every core
    configurations = [(1, 1)] + [(n, None) for n in args.nproc]
    for model in args.models:
        results = {c: [] for c in configurations}
        threads = {}
        for _ in range(args.rounds):
            for c in configurations:  # alternate the configurations within each round
                got = run_configuration(model, c[0], args, c[1])
                results[c].append(got["images_per_s"])
                threads[c] = got["threads"]
        base = statistics.median(results[(1, None)] if (1, None) in results else results[configurations[0]])
        print(f"\n{model}: processes x threads | images/s median (min-max) | vs 1 process on every core")
        for c in configurations:
            rates = results[c]
            median = statistics.median(rates)
            print(f"  {c[0]:>2} x {threads[c]:<2} | {median:8.0f} ({min(rates):.0f}-{max(rates):.0f}) | {median / base:.2f}")


if __name__ == "__main__":
    main()
