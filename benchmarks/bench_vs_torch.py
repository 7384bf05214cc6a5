"""Ember vs PyTorch on the CPU, each framework in its own process: training steps, inference, MNIST.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_vs_torch.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_vs_torch.py --mnist --json out.json

Why separate processes: torch's OpenMP pool and NumPy's OpenBLAS pool both busy-wait after a call, so in one
process each framework's threads spin against the other's and torch's LeNet step measured up to 3× slower
than alone. Here the parent imports neither framework; it starts one child per (framework, model, round),
``python benchmarks/bench_vs_torch.py --worker FRAMEWORK MODEL``, which builds the model, times it and
prints one line of JSON. The pairs alternate (Ember first in rounds 1, 3, ..., torch first in rounds 2, 4,
...) so both meet the same background load, and each ratio is taken within one round's pair. Reported: the
median over rounds, and the spread (min–max) over rounds.

Every child gets ``--threads`` threads (default 2): OMP/OPENBLAS/MKL_NUM_THREADS in its environment, and
``torch.set_num_threads`` / ``ember.set_num_threads``. float32 throughout. The command unsets
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE because on the build machine they halve NumPy's GEMM speed (torch
does not use OpenBLAS); the script warns when they are set.

Models (the same architecture in both frameworks; same initial weights are not needed for timing):

- ``lenet5``: modern LeNet-5 (ember.models.LeNet5), 1×28×28, batch 128;
- ``resnet20``: CIFAR ResNet-20 with option-A shortcuts (ember.models.resnet20), 3×32×32, batch 128;
- ``vgg_small``: 64-64-M-128-128-M-256-256-M, each conv 3×3 + BatchNorm + ReLU, then flatten 256·4·4 →
  Linear 256 → ReLU → Linear 10; 3×32×32, batch 128;
- ``char_lm``: one-hot characters (vocabulary 100) → LSTM 256 → Linear (ember.models.CharLM), 35 steps,
  batch 32, gradient-norm clipping at 1.0.

``--models`` also takes ``char_lm_gru`` and ``char_lm_rnn`` (the same char-LM with the other cells), and
``--convs`` adds conv2d forward + backward alone on seven shapes (ResNet-20's and VGG-small's among them).

A training step is forward, cross-entropy, backward, (clipping,) SGD with momentum 0.9 and weight decay
5e-4; ``--warmup`` untimed steps, then the median of ``--steps`` timed ones. The CNNs also report
inference throughput: eval mode, no_grad, batch 256, images per second (median of ``--steps`` forwards).

``--mnist`` adds MNIST time-to-99 %: the recipe of ``ember train lenet5 --dataset mnist`` (55,000 training
images after holding out 5,000, per-channel standardisation fitted on them, batch 128 reshuffled each
epoch, SGD Nesterov momentum 0.9, weight decay 5e-4, OneCycleLR to 0.1, 5 epochs), written as the same
plain loop in both frameworks on the same NumPy arrays (read from the IDX files in ~/.cache/ember/MNIST/raw;
``python -c "import ember.data.datasets as d; d.MNIST(download=True)"`` fetches them). Reported: wall
seconds from the first step until the test accuracy, measured after each epoch, first reaches 99 %
(evaluation included, data loading not).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("ember", "torch")
MODELS = ("lenet5", "resnet20", "vgg_small", "char_lm")
EXTRA_MODELS = ("char_lm_gru", "char_lm_rnn")  # only with --models: the other recurrent cells
CELLS = {"char_lm": "lstm", "char_lm_gru": "gru", "char_lm_rnn": "rnn"}
TITLES = {
    "lenet5": "LeNet-5, 28×28, batch 128",
    "resnet20": "CIFAR ResNet-20, 32×32, batch 128",
    "vgg_small": "VGG-small (64-64-M-128-128-M-256-256-M, BN), 32×32, batch 128",
    "char_lm": "char-LM, LSTM 256, vocab 100, 35 steps, batch 32, clip 1.0",
    "char_lm_gru": "char-LM, GRU 256, vocab 100, 35 steps, batch 32, clip 1.0",
    "char_lm_rnn": "char-LM, RNN (tanh) 256, vocab 100, 35 steps, batch 32, clip 1.0",
}
# --convs: conv2d forward + backward alone, (N, C, H, O, K, stride, padding): ResNet-20's three stages and its
# stride-2 entry, VGG-small's first stage, and the earlier benchmark's wide and 1×1 cases.
CONV_CASES = ((128, 16, 32, 16, 3, 1, 1), (128, 32, 16, 32, 3, 1, 1), (128, 64, 8, 64, 3, 1, 1),
              (128, 16, 32, 32, 3, 2, 1), (128, 64, 32, 64, 3, 1, 1), (64, 32, 32, 32, 3, 1, 1),
              (64, 64, 16, 64, 1, 1, 0))
IMAGE_SHAPES = {"lenet5": (1, 28, 28), "resnet20": (3, 32, 32), "vgg_small": (3, 32, 32)}
BATCH, INFER_BATCH = 128, 256
VOCAB, HIDDEN, SEQ, LM_BATCH, CLIP = 100, 256, 35, 32, 1.0
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MNIST_TARGET = 0.99


# ---- the worker: one framework, in this process only ----------------------------------------------------

def import_framework(name, threads):
    """Import ``name`` (ember from this checkout, not whatever is installed) with ``threads`` threads."""
    if name == "ember":
        sys.path.insert(0, ROOT)
        import ember as lib

        lib.set_num_threads(threads)
        lib.manual_seed(0)
    else:
        import torch as lib

        lib.set_num_threads(threads)
        lib.manual_seed(0)
    return lib


def torch_models(torch):
    """The torch twins of Ember's models, written out (torchvision is not importable here)."""
    tnn, F = torch.nn, torch.nn.functional

    def lenet5():
        return tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))

    class BasicBlock(tnn.Module):
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), option A: x[:, :, ::s, ::s], zero channels."""

        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.stride, self.extra = stride, planes - inplanes

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            identity = x[:, :, :: self.stride, :: self.stride] if self.stride != 1 else x
            if self.extra:
                identity = F.pad(identity, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
            return self.relu(out + identity)

    class ResNet20(tnn.Module):
        def __init__(self, n=3):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(16)
            self.relu = tnn.ReLU(inplace=True)
            blocks, inplanes = [], 16
            for planes, stride in ((16, 1), (32, 2), (64, 2)):
                for i in range(n):
                    blocks.append(BasicBlock(inplanes, planes, stride if i == 0 else 1))
                    inplanes = planes
            self.blocks = tnn.Sequential(*blocks)
            self.fc = tnn.Linear(64, 10)

        def forward(self, x):
            x = self.blocks(self.relu(self.bn1(self.conv1(x))))
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    class CharLM(tnn.Module):
        def __init__(self, cell):
            super().__init__()
            self.rnn = {"lstm": tnn.LSTM, "gru": tnn.GRU, "rnn": tnn.RNN}[cell](VOCAB, HIDDEN, batch_first=True)
            self.decoder = tnn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            out, state = self.rnn(F.one_hot(tokens, VOCAB).float())
            return self.decoder(out), state

    return {"lenet5": lenet5, "resnet20": ResNet20, **{m: lambda c=c: CharLM(c) for m, c in CELLS.items()}}


def vgg_small(nn):
    """64-64-M-128-128-M-256-256-M (3×3 conv + BN + ReLU), flatten, 4096 → 256 → 10; ``nn`` is either library's."""
    layers, channels = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            channels = v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 4 * 4, 256), nn.ReLU(inplace=True), nn.Linear(256, 10))


def build_model(framework, lib, name):
    if name == "vgg_small":
        return vgg_small(lib.nn)
    if framework == "torch":
        return torch_models(lib)[name]()
    from ember import models

    if name in CELLS:
        return models.CharLM(VOCAB, hidden_size=HIDDEN, cell=CELLS[name])
    return models.create(name, num_classes=10)  # lenet5: 1×28×28; resnet20: 3×32×32 (their defaults)


def timed_ms(fn, warmup, steps):
    """Run ``fn`` ``warmup`` times untimed, then ``steps`` times; returns every timed call in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def time_model(framework, lib, name, warmup, steps):
    """Training-step times (and inference times for the CNNs) of model ``name`` in ``lib``."""
    import numpy as np

    rng = np.random.default_rng(0)
    model = build_model(framework, lib, name)
    params = list(model.parameters())
    opt = lib.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    cross_entropy, clip = lib.nn.functional.cross_entropy, lib.nn.utils.clip_grad_norm_
    if name in CELLS:
        tokens = rng.integers(0, VOCAB, (LM_BATCH, SEQ + 1))
        x, y = lib.from_numpy(tokens[:, :-1].copy()), lib.from_numpy(tokens[:, 1:].copy())
        classes = VOCAB
    else:
        x = lib.from_numpy(rng.standard_normal((BATCH, *IMAGE_SHAPES[name])).astype(np.float32))
        y = lib.from_numpy(rng.integers(0, 10, BATCH))
        classes = 10
    out_dtype = []

    def train_step():
        opt.zero_grad()
        out = model(x)
        if isinstance(out, tuple):  # the char-LM returns (logits, state)
            out = out[0]
        loss = cross_entropy(out.reshape(-1, classes), y.reshape(-1))
        loss.backward()
        if name in CELLS:
            clip(params, CLIP)
        opt.step()
        out_dtype[:] = [str(out.dtype), str(loss.dtype)]

    model.train()
    result = {"train_ms": timed_ms(train_step, warmup, steps), "dtypes": out_dtype}
    if name in IMAGE_SHAPES:
        xi = lib.from_numpy(rng.standard_normal((INFER_BATCH, *IMAGE_SHAPES[name])).astype(np.float32))
        model.eval()

        def infer():
            with lib.no_grad():
                model(xi)

        result["infer_ms"] = timed_ms(infer, max(1, warmup), steps)
        result["infer_images_per_s"] = INFER_BATCH / (statistics.median(result["infer_ms"]) / 1e3)
    result["train_ms_median"] = statistics.median(result["train_ms"])
    return result


def time_convs(lib, warmup, steps):
    """conv2d forward + backward (input, weight and bias gradients) for each of CONV_CASES, median ms."""
    import numpy as np

    rng, cases = np.random.default_rng(0), {}
    for n, c, h, o, k, stride, padding in CONV_CASES:
        x, w, b = (lib.from_numpy(a).requires_grad_() for a in (
            rng.standard_normal((n, c, h, h)).astype(np.float32),
            (rng.standard_normal((o, c, k, k)) * 0.1).astype(np.float32), rng.standard_normal(o).astype(np.float32)))

        def step():
            x.grad = w.grad = b.grad = None
            lib.nn.functional.conv2d(x, w, b, stride, padding).sum().backward()

        label = f"x({n},{c},{h},{h}) w({o},{c},{k},{k}) s{stride} p{padding}"
        cases[label] = statistics.median(timed_ms(step, warmup, steps))
    return {"conv_ms": cases}


def read_idx(path):
    """An IDX file (MNIST's format) as a NumPy array: magic (2 zero bytes, dtype, ndim), big-endian dims, data."""
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist_arrays(root, val_size=5000, seed=0):
    """Standardised float32 (N, 1, 28, 28) train/test images and int64 labels, the CLI's split sizes."""
    import numpy as np

    images = read_idx(os.path.join(root, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(root, "train-labels-idx1-ubyte")).astype(np.int64)
    test_x = read_idx(os.path.join(root, "t10k-images-idx3-ubyte"))
    test_y = read_idx(os.path.join(root, "t10k-labels-idx1-ubyte")).astype(np.int64)
    train_idx = np.random.default_rng(seed).permutation(len(images))[val_size:]
    x = images[train_idx].astype(np.float32) / 255
    mean, std = x.mean(), x.std()  # one channel: per-channel statistics are these two numbers
    x_test = (test_x.astype(np.float32) / 255 - mean) / std
    return ((x - mean) / std)[:, None], labels[train_idx], x_test[:, None].astype(np.float32), test_y


def mnist_run(framework, lib, root, epochs, batch_size=128):
    """Train LeNet-5 with the CLI's recipe; per epoch: test accuracy, wall seconds, training seconds."""
    import numpy as np

    x_train, y_train, x_test, y_test = mnist_arrays(root)
    model = build_model(framework, lib, "lenet5")
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = -(-len(x_train) // batch_size)  # the last, partial batch is kept (DataLoader's drop_last=False)
    sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * steps)
    cross_entropy = lib.nn.functional.cross_entropy
    history, train_seconds, start = [], 0.0, time.perf_counter()
    for epoch in range(epochs):
        model.train()
        epoch_start = time.perf_counter()
        order = np.random.default_rng([0, epoch]).permutation(len(x_train))
        for k in range(0, len(order), batch_size):
            idx = order[k: k + batch_size]
            loss = cross_entropy(model(lib.from_numpy(x_train[idx])), lib.from_numpy(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        train_seconds += time.perf_counter() - epoch_start
        model.eval()
        correct = 0
        with lib.no_grad():
            for k in range(0, len(x_test), 1000):
                pred = model(lib.from_numpy(x_test[k: k + 1000])).argmax(1).numpy()
                correct += int((pred == y_test[k: k + 1000]).sum())
        history.append({"epoch": epoch + 1, "test_accuracy": correct / len(x_test),
                        "wall_s": time.perf_counter() - start, "train_s": train_seconds})
    reached = next((h for h in history if h["test_accuracy"] >= MNIST_TARGET), None)
    return {"history": history, "time_to_target_s": reached["wall_s"] if reached else None,
            "epoch_reached": reached["epoch"] if reached else None}


def describe(framework, lib):
    """Versions, BLAS and threads in effect in this process."""
    import numpy as np

    info = {"framework": framework, "numpy": np.__version__, "python": platform.python_version()}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dict mode; say so rather than guess
        info["numpy_blas"] = "unknown"
    if framework == "ember":
        info.update(ember=os.path.dirname(lib.__file__), threads=lib.get_num_threads())
    else:
        config = lib.__config__.show()
        blas = next((p.split("=", 1)[1] for p in config.replace(",", "\n").split() if p.startswith("BLAS_INFO=")), "?")
        info.update(torch=lib.__version__, torch_blas=blas, threads=lib.get_num_threads())
    info["env"] = {v: os.environ.get(v) for v in THREAD_VARS + SLOW_BLAS_VARS if os.environ.get(v) is not None}
    return info


def worker(args):
    lib = import_framework(args.framework, args.threads)
    if args.model == "info":
        result = describe(args.framework, lib)
    elif args.model == "convs":
        result = time_convs(lib, args.warmup, args.steps)
    elif args.model == "mnist":
        result = mnist_run(args.framework, lib, args.mnist_root, args.mnist_epochs)
    else:
        result = time_model(args.framework, lib, args.model, args.warmup, args.steps)
    result.update(framework=args.framework, model=args.model, threads=args.threads)
    print(json.dumps(result))


# ---- the parent: start the children, alternate, summarise -----------------------------------------------

def child_env(threads):
    env = dict(os.environ)
    env.update({v: str(threads) for v in THREAD_VARS})
    return env


def run_child(framework, model, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, model, "--threads", str(args.threads),
           "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--mnist-root", args.mnist_root, "--mnist-epochs", str(args.mnist_epochs)]
    proc = subprocess.run(cmd, env=child_env(args.threads), capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"{framework} {model} worker failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_report(info, args):
    """The lines that say where and how the figures were measured."""
    e, t = info["ember"], info["torch"]
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    lines = [
        f"Machine: {cpu_model()}, {cores} logical CPUs ({usable} usable), {platform.system()} {platform.release()}",
        f"Python {e['python']}, NumPy {e['numpy']} ({e['numpy_blas']}), torch {t['torch']} (BLAS {t['torch_blas']})",
        f"Ember from {e['ember']}",
        f"Threads: Ember/NumPy BLAS {e['threads']}, torch {t['threads']} (asked {args.threads}; "
        + ", ".join(f"{v}={args.threads}" for v in THREAD_VARS) + "); float32; each framework in its own process, "
        f"{args.rounds} alternating round(s), {args.warmup} warm-up + {args.steps} timed steps each",
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    lines.append(f"Load average (1 min) before the run: {load:.2f}")
    if load > 0.5:  # two busy OpenMP threads on a busy core stall at every barrier: torch suffers most
        lines.append(f"WARNING: the machine is busy (load {load:.2f}): timings will be noisy and torch's OpenMP "
                     "threads are slowed most; rerun on a quiet machine for figures to publish.")
    slow = [v for v in SLOW_BLAS_VARS if v in os.environ]
    if slow:
        lines.append("WARNING: " + ", ".join(f"{v}={os.environ[v]}" for v in slow) + " is set: NumPy's OpenBLAS "
                     "GEMMs run at about half speed on the build machine. Run as "
                     "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_vs_torch.py`.")
    return lines


def spread(values, fmt):
    """'median (min–max)' of ``values``, or the one value when there is one; ``fmt`` 'ms' picks the decimals
    by size (one below 100 ms, none above)."""
    def show(v):
        return ("{:.1f}" if v < 100 else "{:.0f}").format(v) if fmt == "ms" else fmt.format(v)

    med = show(statistics.median(values))
    if len(values) == 1:
        return med
    return f"{med} ({show(min(values))}–{show(max(values))})"


def pairs(runs, model, key):
    """Per round: (ember value, torch value) of ``key`` (a field name, or a function of the run) for ``model``."""
    by_round = {}
    for r in runs:
        value = key(r) if callable(key) else r.get(key)
        if r["model"] == model and value is not None:
            by_round.setdefault(r["round"], {})[r["framework"]] = value
    return [(v["ember"], v["torch"]) for _, v in sorted(by_round.items()) if len(v) == 2]


def tables(runs, models):
    """Markdown tables: training ms, inference images/s and (when run) MNIST time-to-99 %."""
    out = []
    trained = [m for m in models if pairs(runs, m, "train_ms_median")]
    if trained:
        out += ([""] if out else []) + ["Training step (forward, loss, backward, SGD momentum 0.9 + weight decay 5e-4): median ms per step; "
                "median over rounds (min–max). Ember/torch is the time ratio within each round: below 1, Ember is "
                "faster.", "", "| model | Ember ms | torch ms | Ember/torch |", "|---|---|---|---|"]
    for m in trained:
        p = pairs(runs, m, "train_ms_median")
        if p:
            e, t = zip(*p)
            out.append(f"| {TITLES[m]} | {spread(e, 'ms')} | {spread(t, 'ms')} | "
                       f"{spread([a / b for a, b in p], '{:.2f}')} |")
    cnns = [m for m in models if m in IMAGE_SHAPES and pairs(runs, m, "infer_images_per_s")]
    if cnns:
        out += ([""] if out else []) + [f"Inference (eval mode, no_grad, batch {INFER_BATCH}): images per second, median over rounds "
                "(min–max); Ember/torch is the time ratio (torch's images/s over Ember's).", "",
                "| model | Ember images/s | torch images/s | Ember/torch |", "|---|---|---|---|"]
        for m in cnns:
            p = pairs(runs, m, "infer_images_per_s")
            e, t = zip(*p)
            out.append(f"| {TITLES[m].split(', batch')[0]} | {spread(e, '{:.0f}')} | {spread(t, '{:.0f}')} | "
                       f"{spread([b / a for a, b in p], '{:.2f}')} |")
    convs = [r for r in runs if r["model"] == "convs"]
    if convs:
        out += ([""] if out else []) + ["conv2d forward + backward alone (sum of the output as the loss): median ms, median over rounds "
                "(min–max).", "", "| input, weight, stride, padding | Ember ms | torch ms | Ember/torch |",
                "|---|---|---|---|"]
        for label in convs[0]["conv_ms"]:
            p = pairs(convs, "convs", lambda r: r["conv_ms"][label])
            e, t = zip(*p)
            out.append(f"| {label} | {spread(e, 'ms')} | {spread(t, 'ms')} | {spread([a / b for a, b in p], '{:.2f}')} |")
    mnist = [r for r in runs if r["model"] == "mnist"]
    if mnist:
        out += ([""] if out else []) + [f"MNIST, LeNet-5 with `ember train lenet5 --dataset mnist`'s recipe: wall seconds until the test "
                f"accuracy (after each epoch) first reaches {MNIST_TARGET * 100:g} %.", "",
                "| framework | time to 99 % (s) | epoch reached | seconds per epoch (training) | final test accuracy |",
                "|---|---|---|---|---|"]
        for fw in FRAMEWORKS:
            rs = [r for r in mnist if r["framework"] == fw]
            reached = [r["time_to_target_s"] for r in rs if r["time_to_target_s"] is not None]
            epochs = [r["epoch_reached"] for r in rs if r["epoch_reached"] is not None]
            per_epoch = [r["history"][-1]["train_s"] / len(r["history"]) for r in rs]
            final = [r["history"][-1]["test_accuracy"] for r in rs]
            out.append(f"| {'Ember' if fw == 'ember' else 'torch'} | "
                       f"{spread(reached, '{:.1f}') if reached else 'not reached'} | "
                       f"{', '.join(str(e) for e in epochs) or '–'} | {spread(per_epoch, '{:.1f}')} | "
                       f"{spread(final, '{:.4f}')} |")
        p = pairs(runs, "mnist", "time_to_target_s")
        if p:
            out += ["", f"Time-to-99 % ratio Ember/torch: {spread([a / b for a, b in p], '{:.2f}')} "
                    f"({len(p)} round(s) where both reached it)."]
    return out


def write_json(path, payload):
    """Write ``payload`` to ``path`` atomically (a temporary name in the same folder, then a rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".bench-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "MODEL"),
                        help="internal: run one framework on one model (or 'info', 'convs', 'mnist') and print JSON")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS + EXTRA_MODELS,
                        help="none: only --mnist or --convs")
    parser.add_argument("--convs", action="store_true", help="also conv2d forward+backward alone, per shape")
    parser.add_argument("--rounds", type=int, default=3, help="alternating Ember/torch process pairs per model")
    parser.add_argument("--threads", type=int, default=2, help="threads for each framework")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per process (the median is used)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--mnist", action="store_true", help="also MNIST time-to-99 %% (minutes per round)")
    parser.add_argument("--mnist-epochs", type=int, default=5)
    parser.add_argument("--mnist-root", default=os.path.expanduser("~/.cache/ember/MNIST/raw"),
                        help="folder with MNIST's four IDX files")
    parser.add_argument("--json", metavar="OUT", help="also write every raw timing to this JSON file")
    args = parser.parse_args(argv)
    if min(args.rounds, args.threads, args.steps) < 1 or args.warmup < 0:
        parser.error("--rounds, --threads and --steps must be at least 1, --warmup at least 0")
    if args.worker:
        args.framework, args.model = args.worker
        workers = MODELS + EXTRA_MODELS + ("info", "convs", "mnist")
        if args.framework not in FRAMEWORKS or args.model not in workers:
            parser.error(f"--worker: framework in {FRAMEWORKS}, model in {workers}")
        return worker(args)
    if args.mnist and not os.path.exists(os.path.join(args.mnist_root, "t10k-labels-idx1-ubyte")):
        parser.error(f"--mnist: no MNIST IDX files in {args.mnist_root}; fetch them with "
                     "python -c \"import ember.data.datasets as d; d.MNIST(download=True)\" or pass --mnist-root")

    info = {fw: run_child(fw, "info", args) for fw in FRAMEWORKS}
    header = machine_report(info, args)
    print("\n".join(header), flush=True)
    runs = []
    jobs = list(args.models) + (["convs"] if args.convs else []) + (["mnist"] if args.mnist else [])
    for rnd in range(args.rounds):
        order = FRAMEWORKS if rnd % 2 == 0 else FRAMEWORKS[::-1]
        for model in jobs:
            for fw in order:
                result = run_child(fw, model, args)
                result["round"] = rnd
                result["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
                runs.append(result)
                if model == "mnist":
                    seconds = result["time_to_target_s"]
                    shown = "99 % not reached" if seconds is None else f"{seconds:.1f} s to 99 %"
                else:
                    shown = "done" if model == "convs" else f"{result['train_ms_median']:.1f} ms/step"
                print(f"  round {rnd + 1}/{args.rounds} {fw:<5} {model:<9} {shown}", file=sys.stderr, flush=True)
                if any("float32" not in d for d in result.get("dtypes", ())):
                    print(f"WARNING: {fw} {model} computed in {result['dtypes']}, not float32", flush=True)
    print("\n" + "\n".join(tables(runs, args.models)), flush=True)
    if hasattr(os, "getloadavg"):
        print(f"\nLoad average (1 min) after the run: {os.getloadavg()[0]:.2f}")
    if args.json:
        write_json(args.json, {"machine": header, "info": info, "settings": vars(args), "runs": runs})
        print(f"\nraw timings: {args.json}")


if __name__ == "__main__":
    main()
