"""Where one training step goes: ember.profiler's op and layer tables for a model from the zoo.

    python benchmarks/profile_step.py resnet20              # batch 128, 3x32x32, SGD momentum + weight decay
    python benchmarks/profile_step.py lenet5 --batch 128 --rows 20 --trace lenet.json

Runs ``--warmup`` unprofiled steps (first calls allocate and fill caches), then ``--rounds`` rounds of one
unprofiled and one profiled step (alternating, so both see the same load). For the median profiled step it
prints the op table (sorted by self CPU time), the forward/backward split per op, and the layer table (sorted
by each layer's own forward + backward time). Ember only: no torch in this process.
"""

import argparse
import time

import ember
import ember.nn as nn
import ember.optim as optim
from ember import models, profiler

SHAPES = {"lenet5": (1, 28, 28), "lenet5_classic": (1, 32, 32)}  # everything else: CIFAR's 3x32x32


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="resnet20")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3, help="unprofiled and profiled steps, alternating")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rows", type=int, default=15)
    parser.add_argument("--shapes", action="store_true", help="split rows by input shapes")
    parser.add_argument("--trace", default=None, help="write a Chrome trace here")
    args = parser.parse_args(argv)

    ember.manual_seed(0)
    kwargs = {"num_classes": 10}
    model = models.create(args.model, **kwargs)
    shape = SHAPES.get(args.model, (3, 32, 32))
    x, y = ember.randn(args.batch, *shape), ember.randint(0, 10, (args.batch,))
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)

    def step():
        loss = criterion(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    plain, profiled = [], []
    for _ in range(args.rounds):  # alternate, so both see the same load
        start = time.perf_counter()
        step()
        plain.append(time.perf_counter() - start)
        with profiler.profile(record_shapes=args.shapes) as prof:
            start = time.perf_counter()
            with profiler.record_function("train_step"):
                step()
            profiled.append((time.perf_counter() - start, prof))
    profiled.sort(key=lambda p: p[0])
    seconds, prof = profiled[len(profiled) // 2]  # the tables of the median profiled step
    print(f"{args.model}, batch {args.batch}, input {shape}, {args.rounds} alternating rounds: one step "
          f"{min(plain) * 1e3:.1f}-{max(plain) * 1e3:.1f} ms unprofiled, {profiled[0][0] * 1e3:.1f}-"
          f"{profiled[-1][0] * 1e3:.1f} ms profiled; tables of the median profiled step ({seconds * 1e3:.1f} ms)\n")
    print(prof.key_averages(group_by_input_shape=args.shapes).table(sort_by="self_cpu_time_total",
                                                                    row_limit=args.rows))
    print(prof.key_averages(group_by="op").table(sort_by="total", row_limit=args.rows))
    print(prof.layer_table(sort_by="self_total", row_limit=args.rows))
    if args.trace:
        prof.export_chrome_trace(args.trace)
        print(f"Chrome trace: {args.trace}")


if __name__ == "__main__":
    main()
