"""Ember vs PyTorch on the same work, in one run: the LeNet-5 training step and conv2d forward+backward.

Run it with this machine's OpenBLAS workaround switched off for this command only (it halves NumPy's GEMM
speed and does not touch torch):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_core.py

torch is limited to as many threads as NumPy's BLAS uses (all cores unless OMP/OPENBLAS_NUM_THREADS say
otherwise). Each case reports the median of several timed repetitions after warm-up, and the ratio
Ember time / torch time (below 1 means Ember is faster). Ember and torch run in turns (blocks of calls),
so both meet the same background load.
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F


def median_times(fns, repeat, block=5):
    """Median seconds per call of each function.

    The functions take turns in blocks of ``block`` timed calls, so that all of them meet the same
    background load; each block starts with one untimed call, because the other framework's worker
    threads may still be spinning from its last call (OpenBLAS and OpenMP both busy-wait a while).
    """
    times = [[] for _ in fns]
    for _ in range(max(1, repeat // block)):
        for fn, ts in zip(fns, times):
            fn()
            for _ in range(block):
                start = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


def match_threads():
    """Give torch as many threads as NumPy's BLAS gets, print the versions and threads, and warn when the
    OpenBLAS variables that halve NumPy's GEMM speed are set. Returns the thread count."""
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    ignored = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    print(f"numpy {np.__version__}, torch {torch.__version__}, {threads} threads"
          + (f"; WARNING: {', '.join(ignored)} set (NumPy GEMMs run slow)" if ignored else ""))
    return threads


def lenet(m):
    """The modern LeNet-5 of the core issue, built from module namespace ``m`` (ember.nn or torch.nn)."""
    return m.Sequential(
        m.Conv2d(1, 6, 5, padding=2), m.ReLU(), m.MaxPool2d(2),
        m.Conv2d(6, 16, 5), m.ReLU(), m.MaxPool2d(2),
        m.Flatten(), m.Linear(400, 120), m.ReLU(), m.Linear(120, 84), m.ReLU(), m.Linear(84, 10),
    )


def lenet_step_case(batch, repeat):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    lr = 0.01

    t_model = lenet(torch.nn)
    e_model = lenet(nn)
    e_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    ex, ey = ember.from_numpy(x), ember.from_numpy(y)
    t_params, e_params = list(t_model.parameters()), list(e_model.parameters())

    def torch_step():
        for p in t_params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(t_model(tx), ty)
        loss.backward()
        with torch.no_grad():
            for p in t_params:
                p -= lr * p.grad

    def ember_step():
        for p in e_params:
            p.grad = None
        loss = F.cross_entropy(e_model(ex), ey)
        loss.backward()
        for p in e_params:  # plain SGD, written inline on the arrays
            p.array -= lr * p.grad.array

    return median_times([ember_step, torch_step], repeat)


def conv_case(n, c, h, o, k, stride, padding, repeat):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, h)).astype(np.float32)
    w = (rng.standard_normal((o, c, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    with torch.no_grad():
        g = torch.nn.functional.conv2d(tx, tw, tb, stride, padding)
    up = rng.standard_normal(tuple(g.shape)).astype(np.float32)
    tup = torch.from_numpy(up)

    def torch_fb():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, stride, padding).backward(tup)

    def ember_fb():
        ex.grad = ew.grad = eb.grad = None
        F.conv2d(ex, ew, eb, stride, padding).backward(up)

    return median_times([ember_fb, torch_fb], repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed repetitions per case (median reported)")
    args = parser.parse_args()
    match_threads()
    print(f"{'case':<52} {'ember ms':>9} {'torch ms':>9} {'ratio':>6}")

    def report(name, times):
        e, t = times
        print(f"{name:<52} {e * 1e3:9.2f} {t * 1e3:9.2f} {e / t:6.2f}")

    report("LeNet-5 train step, batch 128 (fwd+bwd+SGD)", lenet_step_case(128, args.repeat))
    for n, c, h, o, k, s, p in [
        (64, 3, 32, 32, 3, 1, 1),
        (64, 32, 32, 32, 3, 1, 1),
        (64, 32, 16, 64, 3, 2, 1),
        (64, 64, 8, 128, 3, 1, 1),
        (64, 64, 16, 64, 1, 1, 0),
    ]:
        report(f"conv2d fwd+bwd x({n},{c},{h},{h}) w({o},{c},{k},{k}) s{s} p{p}",
               conv_case(n, c, h, o, k, s, p, max(5, args.repeat // 3)))


if __name__ == "__main__":
    main()
