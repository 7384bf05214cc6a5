"""Optimizer paths on 2-D loss surfaces: CS231n's animations, drawn by Ember's own optimizers.

    from ember.tools import trajectories as T
    paths = T.trajectories("saddle")                    # {'sgd': (steps + 1, 2) array, 'adam': ..., ...}
    T.plot_trajectories("saddle", paths, "saddle.png")  # contours, one coloured path per optimizer
    T.animate_trajectories("saddle", paths, "saddle.gif")

Each path is a real training run in miniature: the two coordinates (x, y) are one Tensor with
``requires_grad=True``, the surface f(x, y) is built from Ember's operators, ``loss.backward()`` finds the
gradient and an ``ember.optim`` optimizer takes the step — the loop every network trains with, on a loss
small enough to draw. The surfaces are the ones the notes use to tell the optimizers apart:

    bowl         0.1 x² + 2 y²: an ill-conditioned valley (d2l's example; curvatures 0.2 and 4, ratio 20).
                 SGD zig-zags across the steep direction and crawls along the flat one; momentum builds
                 up speed along the valley; the adaptive methods rescale each coordinate.
    rosenbrock   (1 - x)² + 100 (y - x²)²: a curved, nearly flat-bottomed banana valley, minimum (1, 1).
    beale        (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²: minimum (3, 0.5), plateaus.
    saddle       x² - y²: a saddle point at (0, 0). Started almost on the ridge (y = 0.001), plain SGD's
                 y-gradient -2y is tiny, so it slides into the saddle and stays there a long time; dividing
                 by √v (Adagrad, RMSprop, Adam) makes the step along y as big as the step along x, and they
                 escape at once (the notes' "optimizations on saddle point" animation).

Each surface carries its own learning rates and start point (a learning rate that suits one surface
diverges on another: Rosenbrock's curvature near the start is ~1,300, the bowl's 4). AdaBound's
``final_lr`` — the SGD learning rate its bounds close in on — is the surface's SGD learning rate.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .. import optim
from ..factories import tensor
from ..serialization import write_atomically
from .figure import save_figure


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface: ``f(x, y)`` works on NumPy arrays (for the contours) and on Tensors (for
    autograd); ``lr`` maps 'sgd' (the SGD family) and 'adaptive' to learning rates, adjusted per optimizer
    by ``lr_overrides``."""

    name: str
    formula: str
    f: callable
    start: tuple
    minimum: tuple  # where the global minimum (or the saddle point) is, marked with a star
    xlim: tuple
    ylim: tuple
    lr: dict
    steps: int
    lesson: str = ""  # what the picture shows, under its title
    log_levels: bool = True  # contour levels spaced on a log scale (f ≥ 0 with a wide range of values)
    lr_overrides: dict = field(default_factory=dict)


def _bowl(x, y):
    return 0.1 * x**2 + 2 * y**2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _saddle(x, y):
    return x**2 - y**2


SURFACES = {
    "bowl": Surface("bowl", "0.1 x² + 2 y²", _bowl, start=(-5.0, -2.0), minimum=(0.0, 0.0), xlim=(-6, 2),
                    ylim=(-3, 3), lr={"sgd": 0.4, "adaptive": 0.4}, steps=80,
                    lr_overrides={"momentum": 0.04, "nesterov": 0.04},
                    lesson="SGD zig-zags across the steep direction; momentum overshoots along the flat one; "
                    "RMSprop and Adam rescale each coordinate, so their first steps are diagonal; AdaGrad's shrink"),
    "rosenbrock": Surface("rosenbrock", "(1 - x)² + 100 (y - x²)²", _rosenbrock, start=(-1.2, 1.0),
                          minimum=(1.0, 1.0), xlim=(-1.5, 1.5), ylim=(-0.5, 1.5),
                          lr={"sgd": 1e-3, "adaptive": 0.02}, steps=1000,
                          lesson="momentum runs along the curved valley to (1, 1); SGD crawls on its flat floor; "
                          "the adaptive methods move about lr per step; AdaGrad stalls"),
    "beale": Surface("beale", "(1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²", _beale,
                     start=(1.0, 1.5), minimum=(3.0, 0.5), xlim=(-0.5, 4), ylim=(-1.5, 2),
                     lr={"sgd": 1e-3, "adaptive": 0.05}, steps=400,
                     lesson="momentum swings wide before it settles; RMSprop and Adam find the valley at once; "
                     "SGD and AdaGrad are still on their way"),
    "saddle": Surface("saddle", "x² - y²", _saddle, start=(1.0, 1e-3), minimum=(0.0, 0.0), xlim=(-1.5, 1.5),
                      ylim=(-1.5, 1.5), lr={"sgd": 0.05, "adaptive": 0.05}, steps=60, log_levels=False,
                      lesson="SGD slides into the saddle and stays; momentum overshoots it, then escapes; "
                      "RMSprop, Adam and AdaGrad turn downhill along y at once"),
}

#: The optimizers, in the notes' order: (label, the ember.optim class, its keyword arguments, lr family).
OPTIMIZERS = {
    "sgd": ("SGD", optim.SGD, {}, "sgd"),
    "momentum": ("SGD + momentum 0.9", optim.SGD, {"momentum": 0.9}, "sgd"),
    "nesterov": ("Nesterov 0.9", optim.SGD, {"momentum": 0.9, "nesterov": True}, "sgd"),
    "adagrad": ("AdaGrad", optim.Adagrad, {}, "adaptive"),
    "rmsprop": ("RMSprop α=0.9", optim.RMSprop, {"alpha": 0.9}, "adaptive"),
    "adam": ("Adam", optim.Adam, {}, "adaptive"),
    "adabound": ("AdaBound", optim.AdaBound, {}, "adaptive"),
}

COLORS = {"sgd": "tab:red", "momentum": "tab:orange", "nesterov": "tab:olive", "adagrad": "tab:green",
          "rmsprop": "tab:cyan", "adam": "tab:blue", "adabound": "tab:purple"}
# Nesterov starts out on momentum's path and AdaBound on Adam's (its bounds are wide at first): dashed,
# so that the one underneath still shows.
DASHED = ("nesterov", "adabound")

# A path that leaves this box around the view has diverged (or, on the saddle, fallen off the surface):
# it stops there rather than overflow.
_ESCAPE = 20.0


def surface(name):
    """The Surface called ``name`` (a Surface passes through); a ValueError lists the known ones."""
    if isinstance(name, Surface):
        return name
    if name not in SURFACES:
        raise ValueError(f"trajectories: unknown surface {name!r}; choose one of: {', '.join(SURFACES)}")
    return SURFACES[name]


def learning_rate(surf, name):
    """The learning rate ``name`` uses on ``surf``: its family's, unless the surface overrides it."""
    _check_optimizer(name)
    return surf.lr_overrides.get(name, surf.lr[OPTIMIZERS[name][3]])


def make_optimizer(name, params, surf, lr=None):
    """The ember.optim optimizer ``name`` over ``params`` with the surface's learning rate (or ``lr``)."""
    surf = surface(surf)
    _, cls, kwargs, _ = OPTIMIZERS[_check_optimizer(name)]
    lr = learning_rate(surf, name) if lr is None else lr
    if name == "adabound":  # its bounds close in on SGD with the learning rate that suits this surface
        kwargs = dict(kwargs, final_lr=surf.lr["sgd"])
    return cls(params, lr=lr, **kwargs)


def trajectory(surf, name, steps=None, start=None, lr=None):
    """The path of optimizer ``name`` on ``surf``: an array (steps + 1, 2) of the points (x, y), the start
    first. A path that diverges (leaves the view by far, or reaches inf/NaN) ends there, so the array may
    be shorter: its last point is the first one beyond ``_reach(surf)`` (inf where it overflowed)."""
    surf = surface(surf)
    steps = surf.steps if steps is None else int(steps)
    point = tensor([float(v) for v in (start or surf.start)], dtype="float64", requires_grad=True)  # θ = (x, y)
    optimizer = make_optimizer(name, [point], surf, lr)
    path = [point.array.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss = surf.f(point[0], point[1])
        loss.backward()
        optimizer.step()
        here = point.array.copy()
        path.append(np.where(np.isfinite(here), here, np.inf))
        if _ran_off(surf, here):
            break
    return np.stack(path)


def _reach(surf):
    return _ESCAPE * max(abs(v) for v in (*surf.xlim, *surf.ylim))


def _ran_off(surf, point):
    """Whether ``point`` is far outside the view (or not finite): the path has diverged there."""
    return not np.all(np.isfinite(point)) or np.abs(point).max() > _reach(surf)


def trajectories(surf, optimizers=None, steps=None):
    """``{name: trajectory(surf, name, steps)}`` for each optimizer (all of OPTIMIZERS by default)."""
    return {name: trajectory(surf, name, steps) for name in (optimizers or OPTIMIZERS)}


def _check_optimizer(name):
    if name not in OPTIMIZERS:
        raise ValueError(f"trajectories: unknown optimizer {name!r}; choose from: {', '.join(OPTIMIZERS)}")
    return name


# ---- pictures ---------------------------------------------------------------------------------------------


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("drawing trajectories needs matplotlib: pip install 'ember[plot]'") from error
    return plt


def _background(plt, surf, paths):
    """A figure with the surface's contours, the start (a black dot) and the minimum (a star)."""
    fig, ax = plt.subplots(figsize=(8, 7.5), dpi=90)
    xs = np.linspace(*surf.xlim, 300)
    ys = np.linspace(*surf.ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    Z = surf.f(X, Y)
    if surf.log_levels:  # values from 0 to thousands: equal steps in log f show the valley floor too
        low = max(float(Z.min()), 1e-3)
        levels = np.logspace(math.log10(low), math.log10(float(Z.max())), 30)
        ax.contour(X, Y, Z, levels=levels, cmap="Greys_r", linewidths=0.6, alpha=0.8)
    else:
        ax.contour(X, Y, Z, levels=30, cmap="Greys_r", linewidths=0.6, alpha=0.8)
    ax.plot(*surf.minimum, marker="*", markersize=14, color="gold", markeredgecolor="black", zorder=5)
    ax.plot(*surf.start, marker="o", markersize=7, color="black", zorder=5, label=f"start {surf.start}")
    ax.set_xlim(*surf.xlim)
    ax.set_ylim(*surf.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    steps = max(len(p) for p in paths.values()) - 1
    ax.set_title(f"{surf.name}: f = {surf.formula}  ({steps} steps)\n{surf.lesson}", fontsize=9, wrap=True)
    return fig, ax


def _zorder(name, order, count):
    """The first path (SGD, usually the shortest) on top of the later ones; a dashed one above the solid
    path it follows."""
    return 3 + count - order + (count if name in DASHED else 0)


def _style(name):
    return "--" if name in DASHED else "-"


def _legend(ax):
    """The legend under the axes, where it hides no path."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    ax.figure.tight_layout()


def _label(surf, name, path):
    end = path[-1]
    note = f" → ({end[0]:.2f}, {end[1]:.2f})"
    if _ran_off(surf, end):
        note = f", ran off to |θ| > {_reach(surf):g} after {len(path) - 1} steps"
    return f"{OPTIMIZERS[name][0]}, lr {learning_rate(surf, name):g}{note}"


def plot_trajectories(surf, paths, path):
    """Save a PNG: the surface's contours and one coloured path per optimizer, with a legend; returns path."""
    surf, plt = surface(surf), _pyplot()
    fig, ax = _background(plt, surf, paths)
    for order, (name, points) in enumerate(paths.items()):
        z = _zorder(name, order, len(paths))
        ax.plot(points[:, 0], points[:, 1], _style(name), color=COLORS[name], linewidth=1.6, zorder=z,
                label=_label(surf, name, points))
        ax.plot(points[-1, 0], points[-1, 1], "o", color=COLORS[name], markersize=4, zorder=z)
    _legend(ax)
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)
    return path


def animate_trajectories(surf, paths, path, frames=60, fps=15):
    """Save an animated GIF (matplotlib's PillowWriter) of the paths growing step by step; returns path.

    ``frames`` frames sample the steps evenly (the last frame shows every step), and the last frame is
    held for a second.
    """
    surf, plt = surface(surf), _pyplot()
    try:
        from matplotlib.animation import PillowWriter

        import PIL  # noqa: F401  (PillowWriter's own error would not name the extra)
    except ImportError as error:
        raise ImportError("an animated GIF needs Pillow: pip install 'ember[images]'") from error
    fig, ax = _background(plt, surf, paths)
    lines, heads = {}, {}
    for order, (name, points) in enumerate(paths.items()):
        z = _zorder(name, order, len(paths))
        (lines[name],) = ax.plot([], [], _style(name), color=COLORS[name], linewidth=1.6, zorder=z,
                                 label=_label(surf, name, points))
        (heads[name],) = ax.plot([], [], "o", color=COLORS[name], markersize=5, zorder=z)
    _legend(ax)
    counter = ax.text(0.02, 0.02, "", transform=ax.transAxes, fontsize=9)
    longest = max(len(p) for p in paths.values())
    shown = sorted({int(round(s)) for s in np.linspace(1, longest, max(2, int(frames)))})

    def grab_all(target):
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, target, dpi=72):  # smaller than the PNG: a GIF holds every frame
            for upto in shown + [shown[-1]] * fps:
                for name, points in paths.items():
                    seen = points[:upto]
                    lines[name].set_data(seen[:, 0], seen[:, 1])
                    heads[name].set_data(seen[-1:, 0], seen[-1:, 1])
                counter.set_text(f"step {upto - 1}")
                writer.grab_frame()

    try:
        write_atomically(path, grab_all, by_path=True)  # PillowWriter opens the file by its name
    finally:
        plt.close(fig)
    return path


def draw(surfaces=None, optimizers=None, steps=None, out="runs/trajectories", gif=True, log=print):
    """``ember trajectories``: for each surface, OUT/trajectories-NAME.png (and .gif); returns the paths."""
    written = []
    for name in surfaces or SURFACES:
        surf = surface(name)
        paths = trajectories(surf, optimizers, steps)
        png = plot_trajectories(surf, paths, os.path.join(out, f"trajectories-{surf.name}.png"))
        written.append(png)
        if gif:
            written.append(animate_trajectories(surf, paths, os.path.join(out, f"trajectories-{surf.name}.gif")))
        ends = ", ".join(f"{n} ({p[-1, 0]:.3g}, {p[-1, 1]:.3g})" for n, p in paths.items())
        log(f"{surf.name}: {ends}")
    return written
