"""LeNet-5 on real MNIST, Ember vs PyTorch: the same recipe, the same threads, full epochs.

Recipe (the default of `ember train lenet5 --dataset mnist`): 55,000 training images (5,000 held out for
validation, as the CLI does), per-channel standardisation fitted on them, batch 128 reshuffled every
epoch, SGD with Nesterov momentum 0.9 and weight decay 5e-4, OneCycleLR peaking at 0.1, 5 epochs.
Both frameworks get the same standardised float32 arrays and the same batch order, and run the same
plain loop; test accuracy is measured after every epoch, outside the timed region. Prints per-epoch
accuracy and training seconds for each, and the ratio of the times to first reach 99.0% test accuracy.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mnist.py
"""

import argparse
import time

import numpy as np
import torch

import ember
import ember.nn.functional as F
from ember import optim
from ember.data.datasets import MNIST
from ember.models import LeNet5

from bench_core import match_threads

TARGET = 0.99


def load(val_size=5000, seed=0):
    train, test = MNIST(train=True, download=True), MNIST(train=False, download=True)
    order = np.random.default_rng(seed).permutation(len(train.data))
    train_idx = order[val_size:]
    x = train.data[train_idx].astype(np.float32) / 255
    mean, std = x.mean(), x.std()
    x_train = ((x - mean) / std)[:, None]
    x_test = ((test.data.astype(np.float32) / 255 - mean) / std)[:, None]
    return x_train, train.targets[train_idx].astype(np.int64), x_test, test.targets.astype(np.int64)


def batches(n, batch_size, epoch, seed=0):
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[k : k + batch_size] for k in range(0, n, batch_size)]


def run_ember(data, epochs, batch_size):
    x_train, y_train, x_test, y_test = data
    ember.manual_seed(0)
    model = LeNet5()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = len(batches(len(x_train), batch_size, 0))
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * steps)
    results, total = [], 0.0
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for idx in batches(len(x_train), batch_size, epoch):
            loss = F.cross_entropy(model(ember.from_numpy(x_train[idx])), ember.from_numpy(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        total += time.perf_counter() - start
        model.eval()
        with ember.no_grad():
            correct = sum(int((model(ember.from_numpy(x_test[k : k + 1000])).argmax(1).numpy() == y_test[k : k + 1000]).sum())
                          for k in range(0, len(x_test), 1000))
        results.append((correct / len(x_test), total))
    return results


def run_torch(data, epochs, batch_size):
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    torch.manual_seed(0)
    tnn = torch.nn
    model = tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = len(batches(len(x_train), batch_size, 0))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * steps)
    results, total = [], 0.0
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for idx in batches(len(x_train), batch_size, epoch):
            idx = torch.from_numpy(idx)
            loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        total += time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = int((model(x_test).argmax(1) == y_test).sum())
        results.append((correct / len(x_test), total))
    return results


def time_to_target(results):
    return next((seconds for accuracy, seconds in results if accuracy >= TARGET), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    match_threads()
    data = load()
    runs = {"ember": run_ember(data, args.epochs, args.batch_size), "torch": run_torch(data, args.epochs, args.batch_size)}
    print(f"{'epoch':>5} " + " ".join(f"{name + ' test acc':>15} {name + ' train s':>13}" for name in runs))
    for epoch in range(args.epochs):
        print(f"{epoch + 1:>5} " + " ".join(f"{r[epoch][0]:15.4f} {r[epoch][1]:13.1f}" for r in runs.values()))
    times = {name: time_to_target(r) for name, r in runs.items()}
    for name, t in times.items():
        print(f"{name}: time to {TARGET:.1%} test accuracy: " + (f"{t:.1f} s" if t is not None else "not reached"))
    if None not in times.values():
        print(f"time-to-{TARGET:.0%} ratio Ember/torch: {times['ember'] / times['torch']:.2f}")
    per_epoch = {name: r[-1][1] / len(r) for name, r in runs.items()}
    print(f"seconds per epoch: ember {per_epoch['ember']:.1f}, torch {per_epoch['torch']:.1f}, "
          f"ratio {per_epoch['ember'] / per_epoch['torch']:.2f}")


if __name__ == "__main__":
    main()
