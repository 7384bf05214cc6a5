"""Ember on NumPy vs Ember on CuPy (``EMBER_BACKEND=cupy``): the same training steps, the same numbers?

Every op reaches arrays through ``ember.backend.xp``, so the whole framework should run on a GPU by
switching that one handle. This script runs a few training steps in two fresh interpreters, one per
backend, from the same seeded initial weights and data, and prints per case the losses of both, their
largest relative difference, and the milliseconds per step. A case that raises on a backend is reported
with its error instead (that is the point: it finds what does not yet run there).

    python benchmarks/bench_backend.py                 # needs cupy and a GPU for the second column
"""

import json
import os
import subprocess
import sys
import time

CASES = ("lenet5", "resnet20", "vgg11_bn", "googlenet", "lstm_char_lm", "gru_char_lm_embedding")
STEPS = 5


def _to_host(a):
    return a.get() if hasattr(a, "get") else a


def run_case(name):
    """Train ``name`` for STEPS steps on this interpreter's backend; returns losses and ms per step."""
    import numpy as np

    import ember
    from ember import models, nn
    from ember.nn import functional as F

    rng = np.random.default_rng(0)
    ember.manual_seed(0)
    if name.endswith("char_lm") or name.endswith("char_lm_embedding"):
        model = models.CharLM(28, hidden_size=256, cell=name.split("_")[0], num_layers=2,
                              embedding_dim=32 if name.endswith("embedding") else None)
        x = ember.tensor(rng.integers(0, 28, (32, 35)))
        y = ember.tensor(rng.integers(0, 28, (32, 35)))
        loss_of = lambda: model.loss(model(x)[0], y)  # noqa: E731
    else:
        model = models.create(name, num_classes=10, in_channels=1, input_size=28)
        x = ember.tensor(rng.standard_normal((128, 1, 28, 28)).astype(np.float32))
        y = ember.tensor(rng.integers(0, 10, 128))
        loss_of = lambda: F.cross_entropy(model(x), y)  # noqa: E731
    # The same initial weights on both backends: drawn here with NumPy, then moved to the backend.
    for p in model.parameters():
        p.array = ember.backend.xp.asarray(rng.uniform(-0.1, 0.1, p.shape).astype(np.float32))
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses, times = [], []
    for _ in range(STEPS):
        start = time.perf_counter()
        loss = loss_of()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        value = float(_to_host(loss.array))  # also waits for the GPU to finish the step
        times.append(time.perf_counter() - start)
        losses.append(value)
    return {"losses": losses, "ms": 1e3 * sorted(times[1:])[len(times[1:]) // 2]}


def child(backend):
    results = {}
    for name in CASES:
        try:
            results[name] = run_case(name)
        except Exception as error:  # report and go on: which cases run on this backend is the question
            results[name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"}
    print(json.dumps(results))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(os.environ.get("EMBER_BACKEND", "numpy"))
    outputs = {}
    for backend in ("numpy", "cupy"):
        env = dict(os.environ, EMBER_BACKEND=backend)
        proc = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{backend}: failed to start\n{proc.stderr[-2000:]}")
            outputs[backend] = {}
            continue
        outputs[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{'case':<22} {'numpy ms':>9} {'cupy ms':>9}  {'max rel. loss diff':>18}  notes")
    for name in CASES:
        a, b = outputs["numpy"].get(name, {}), outputs["cupy"].get(name, {})
        note = "; ".join(f"{k}: {r['error']}" for k, r in (("numpy", a), ("cupy", b)) if "error" in r)
        if "losses" in a and "losses" in b:
            diff = max(abs(u - v) / max(abs(u), 1e-12) for u, v in zip(a["losses"], b["losses"]))
            print(f"{name:<22} {a['ms']:9.2f} {b['ms']:9.2f}  {diff:18.2e}  losses {a['losses'][0]:.4f} -> "
                  f"{a['losses'][-1]:.4f} {note}")
        else:
            print(f"{name:<22} {a.get('ms', float('nan')):9.2f} {b.get('ms', float('nan')):9.2f}  {'':>18}  {note}")


if __name__ == "__main__":
    main()
