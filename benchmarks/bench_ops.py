"""Ember alone: one training step of the CNNs in issue 11, and the ops of a ResNet-20 step at its shapes.

For the engine work (sharding, fewer copies, fusion): before/after timings of the same process, not a
comparison with torch (that lives in the process-separated benchmark). Run with this machine's OpenBLAS
workaround switched off for this command only:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ops.py [--steps resnet20 lenet5 vgg]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ops.py --ops
    python benchmarks/bench_ops.py --profile resnet20      # cProfile of a few steps, top functions

Every figure is a median over ``--repeat`` timed calls after two warm-up calls, printed with the fastest
and slowest call so that the load from other processes on a shared machine shows.
"""

import argparse
import cProfile
import pstats
import statistics
import time

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import models


def vgg_small(m):
    """The issue's VGG-small: 64-64-M-128-128-M-256-256-M, each conv followed by BN and ReLU, then GAP + fc."""
    layers, c = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, "M"):
        if v == "M":
            layers.append(m.MaxPool2d(2))
        else:
            layers += [m.Conv2d(c, v, 3, padding=1, bias=False), m.BatchNorm2d(v), m.ReLU(inplace=True)]
            c = v
    return m.Sequential(*layers, m.AdaptiveAvgPool2d(1), m.Flatten(), m.Linear(c, 10))


def build(name):
    """(model, x, y) for one of the step cases: batch 128, float32, 10 classes."""
    rng = np.random.default_rng(0)
    if name == "lenet5":
        model, shape = models.create("lenet5"), (128, 1, 28, 28)
    elif name == "resnet20":
        model, shape = models.create("resnet20"), (128, 3, 32, 32)
    elif name == "resnet20b":
        model, shape = models.create("resnet20", shortcut="B"), (128, 3, 32, 32)
    elif name == "vgg":
        model, shape = vgg_small(nn), (128, 3, 32, 32)
    else:
        raise SystemExit(f"unknown case {name!r}")
    x = ember.from_numpy(rng.standard_normal(shape).astype(np.float32))
    y = ember.from_numpy(rng.integers(0, 10, shape[0]))
    return model, x, y


def step_fn(name):
    model, x, y = build(name)
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def timed(fn, repeat):
    """Median, fastest and slowest wall time, and the median CPU time of the process (all threads: less
    disturbed by other processes than the wall time on a shared machine)."""
    fn()
    fn()
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def report(label, fn, repeat):
    med, lo, hi, cpu = timed(fn, repeat)
    print(f"{label:<44} {med * 1e3:8.2f} ms  ({lo * 1e3:.2f}–{hi * 1e3:.2f})  cpu {cpu * 1e3:8.2f} ms", flush=True)


def op_cases():
    """(label, function) for the forward + backward of each op at a ResNet-20 shape (batch 128)."""
    rng = np.random.default_rng(0)

    def t(*shape, grad=True):
        return ember.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)

    cases = []
    for c, o, h, stride in ((16, 16, 32, 1), (16, 32, 32, 2), (32, 32, 16, 1), (64, 64, 8, 1)):
        x, w = t(128, c, h, h), t(o, c, 3, 3)
        oh = h // stride
        up = rng.standard_normal((128, o, oh, oh)).astype(np.float32)
        cases.append((f"conv3x3 {c}->{o} {h}x{h} s{stride} fwd", lambda x=x, w=w, s=stride: F.conv2d(x, w, None, s, 1)))
        cases.append((f"conv3x3 {c}->{o} {h}x{h} s{stride} fwd+bwd",
                      lambda x=x, w=w, s=stride, up=up: F.conv2d(x, w, None, s, 1).backward(up)))
    x, w = t(128, 16, 32, 32), t(32, 16, 1, 1)
    up = rng.standard_normal((128, 32, 16, 16)).astype(np.float32)
    cases.append(("conv1x1 16->32 32x32 s2 fwd+bwd", lambda x=x, w=w, up=up: F.conv2d(x, w, None, 2, 0).backward(up)))
    for c, h in ((16, 32), (64, 8)):
        bn = nn.BatchNorm2d(c)
        x = t(128, c, h, h)
        up = rng.standard_normal((128, c, h, h)).astype(np.float32)
        cases.append((f"batchnorm {c}x{h}x{h} fwd", lambda bn=bn, x=x: bn(x)))
        cases.append((f"batchnorm {c}x{h}x{h} fwd+bwd", lambda bn=bn, x=x, up=up: bn(x).backward(up)))
        cases.append((f"relu {c}x{h}x{h} fwd+bwd", lambda x=x, up=up: F.relu(x).backward(up)))
        cases.append((f"bn+relu {c}x{h}x{h} fwd+bwd", lambda bn=bn, x=x, up=up: F.relu(bn(x)).backward(up)))
    x = t(128, 64, 32, 32)
    up = rng.standard_normal((128, 64, 16, 16)).astype(np.float32)
    cases.append(("maxpool2 64x32x32 fwd+bwd", lambda x=x, up=up: F.max_pool2d(x, 2).backward(up)))
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="*", default=None, help="lenet5 resnet20 resnet20b vgg")
    parser.add_argument("--ops", action="store_true", help="time the ops at ResNet-20 shapes")
    parser.add_argument("--profile", default=None, help="cProfile a few steps of this case")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="ember.set_num_threads(n) first")
    args = parser.parse_args()
    if args.threads is not None:
        ember.set_num_threads(args.threads)
    print(f"numpy {np.__version__}, ember threads {ember.get_num_threads()}")
    if args.profile:
        step = step_fn(args.profile)
        step()
        step()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            step()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    if args.ops:
        for label, fn in op_cases():
            report(label, fn, args.repeat)
    for name in args.steps if args.steps is not None else ([] if args.ops else ["lenet5", "resnet20"]):
        report(f"{name} step (batch 128)", step_fn(name), args.repeat)


if __name__ == "__main__":
    main()
