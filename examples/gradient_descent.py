"""Gradient descent on the notes' two functions (seeds/002), run by Ember's autograd and ``optim.SGD``.

    python examples/gradient_descent.py                 the numbers
    python examples/gradient_descent.py --plot gd.png   and the paths (needs matplotlib)

1. f(x) = x² from x₀ = 10. The gradient is 2x, so one step is x ← x − η·2x = (1 − 2η)·x:
   - η = 0.2:  10 → 6 → 3.6 → …, near the minimum after about 10 steps (x₁₀ = 0.06): converges;
   - η = 0.01: x shrinks by 2 % a step: 6.68 after 20 steps, 1.33 after 100 — it crawls;
   - η = 1:    1 − 2η = −1: x jumps between 10 and −10 for ever — it oscillates;
   - η = 1.1:  1 − 2η = −1.2: −12, 14.4, −17.28, … — it overshoots further each time and diverges.
2. Descent in 2-D from p₀ = (−3.5, −3.5) with η = 0.1. The note gives the gradient there, (−7, −14), and
   the next point, (−2.8, −2.1); the function itself is a picture in the note, and f(x, y) = x² + 2y² is the
   one with that gradient (∇f = (2x, 4y)). Each axis shrinks on its own, x by 0.8 and y by 0.6 a step, so
   after 20 steps p is within 0.05 of the minimum (0, 0): "经过20次迭代基本上到达最低点".
"""

import sys

import ember
from ember import nn

RATES = {0.2: "converges", 0.01: "crawls", 1.0: "oscillates", 1.1: "diverges"}


def descend(f, start, lr, steps):
    """The points SGD visits minimising ``f`` from ``start``: steps + 1 lists (the start first)."""
    p = nn.Parameter(ember.tensor(start, dtype=ember.float64))
    optimizer = ember.optim.SGD([p], lr=lr)
    path = [p.tolist()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(p).backward()  # p.grad = ∇f(p)
        optimizer.step()  # p ← p − lr · ∇f(p)
        path.append(p.tolist())
    return path


def square(x):
    return (x * x).sum()


def bowl(p):
    """f(x, y) = x² + 2y²: ∇f = (2x, 4y), (−7, −14) at (−3.5, −3.5)."""
    return (p * p * ember.tensor([1.0, 2.0], dtype=ember.float64)).sum()


def one_d(steps=100):
    return {lr: [x[0] for x in descend(square, [10.0], lr, steps)] for lr in RATES}


def two_d(steps=20):
    path = descend(bowl, [-3.5, -3.5], 0.1, steps)
    p = nn.Parameter(ember.tensor([-3.5, -3.5], dtype=ember.float64))
    bowl(p).backward()
    return path, p.grad.tolist()


def plot(paths, path2d, filename):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("plotting needs matplotlib: pip install 'ember[plot]'") from error
    fig, axes = plt.subplots(1, 5, figsize=(20, 4))
    for ax, (lr, xs) in zip(axes, paths.items()):
        xs = xs[:21]
        span = max(12.0, min(max(abs(x) for x in xs), 40.0))
        grid = [span * (i / 100 - 1) * 1.05 for i in range(201)]
        ax.plot(grid, [g * g for g in grid], color="lightgrey")
        ax.plot(xs, [x * x for x in xs], "o-", color="tab:red", markersize=3, linewidth=0.8)
        ax.set_xlim(-span * 1.05, span * 1.05)
        ax.set_ylim(-0.05 * span * span, span * span * 1.05)
        ax.set_title(f"f(x) = x², η = {lr}: {RATES[lr]} (20 steps)")
        ax.set_xlabel("x")
    import numpy as np  # the contour grid only; the descent above ran in Ember

    gx, gy = np.meshgrid(np.linspace(-4, 4, 200), np.linspace(-4, 4, 200))
    ax = axes[4]
    ax.contour(gx, gy, gx ** 2 + 2 * gy ** 2, levels=15, colors="lightgrey")
    ax.plot([p[0] for p in path2d], [p[1] for p in path2d], "o-", color="tab:blue", markersize=3)
    ax.plot(0, 0, "k+", markersize=10)
    ax.set_aspect("equal")
    ax.set_title("x² + 2y² from (−3.5, −3.5), η = 0.1")
    fig.tight_layout()
    fig.savefig(filename, dpi=80)
    plt.close(fig)
    return filename


def main(argv):
    paths = one_d()
    for lr, xs in paths.items():
        print(f"eta = {lr:<4} {RATES[lr]:<10} x1..x5 = " + ", ".join(f"{x:g}" for x in xs[1:6])
              + f"; x10 = {xs[10]:.4g}, x20 = {xs[20]:.4g}, x100 = {xs[100]:.4g}")
    path, gradient = two_d()
    print(f"2-D: gradient at (-3.5, -3.5) = ({gradient[0]:g}, {gradient[1]:g}); p1 = ({path[1][0]:g}, {path[1][1]:g}); "
          f"p20 = ({path[20][0]:.4f}, {path[20][1]:.6f})")
    if argv[:1] == ["--plot"]:
        print("wrote", plot(paths, path, argv[1] if len(argv) > 1 else "gradient_descent.png"))


if __name__ == "__main__":
    main(sys.argv[1:])
