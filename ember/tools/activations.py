"""Per-layer activation and gradient statistics for one batch — the numbers behind CS231n's advice to
watch the distributions inside a network (notes 000/003: weights too small make the activations collapse
to zero, too large saturate tanh at ±1; a ReLU that outputs zero for every example is dead).

    stats = layer_statistics(model, images, labels)    # forward + backward of the loss on one batch
    print(format_statistics(stats))
    plot_statistics(stats, "stats.png")                # one histogram per layer (and of its gradient)

For every recorded layer (by default each leaf module except the ones that only move data: Flatten,
Identity, Dropout), the activation y it returns and, when a target is given, the gradient ∂L/∂y of the
batch's loss with respect to it:

    mean, std          of all entries of y (and of ∂L/∂y)
    saturated          tanh:    fraction of entries with |y| > 0.99 (where tanh' = 1 - y² < 0.02)
                       sigmoid: fraction with y < 0.01 or y > 0.99 (where σ' = σ(1 - σ) < 0.0099)
    dead               ReLU:    fraction of units (an output position, every index but the batch's) whose
                                output is exactly 0 for every example of the batch: no gradient reaches
                                their weights from this batch

The gradients come from ``ember.autograd.grad``, so no parameter's ``.grad`` is touched.
"""

from dataclasses import dataclass, field

from .. import nn
from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import enable_grad
from ..backend import xp
from ..tensor import Tensor
from .figure import new_figure, save_figure
from .layers import capture, find_layer, leaf_layers

#: Layers that only move data around; their statistics repeat their input's.
PASS_THROUGH = (nn.Flatten, nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)

#: Histograms keep at most this many values per layer (an even stride through the batch's entries).
SAMPLE = 50_000


@dataclass
class LayerStats:
    """The statistics of one layer's output (and its gradient) on one batch; see the module docstring."""

    name: str
    kind: str  # the module's class name
    shape: tuple  # the output's shape, batch included
    mean: float
    std: float
    saturated: float = None  # tanh / sigmoid layers only
    dead: float = None  # ReLU layers only
    grad_mean: float = None
    grad_std: float = None
    values: object = field(default=None, repr=False)  # a sample of the activations, for the histogram
    grads: object = field(default=None, repr=False)  # a sample of the gradients


def _sample(array):
    flat = array.reshape(-1)
    step = max(1, flat.size // SAMPLE)
    return flat[::step].astype(xp.float64)


def _saturated(module, y):
    if isinstance(module, nn.Tanh):
        return float((xp.abs(y) > 0.99).mean())
    if isinstance(module, nn.Sigmoid):
        return float(((y < 0.01) | (y > 0.99)).mean())
    return None


def _dead(module, y):
    if isinstance(module, nn.ReLU) and y.ndim >= 2:
        return float((y == 0).all(axis=0).mean())  # a unit is dead when no example of the batch lights it
    return None


def default_layers(model):
    """The names ``layer_statistics`` records unless told: leaf modules that compute (see PASS_THROUGH)."""
    return [name for name, m in leaf_layers(model) if not isinstance(m, PASS_THROUGH)]


def layer_statistics(model, x, target=None, loss_fn=None, layers=None):
    """Statistics of every layer in ``layers`` (default: ``default_layers(model)``) for the batch ``x``.

    With ``target``, the loss ``loss_fn(output, target)`` (default: cross-entropy) is differentiated with
    respect to each layer's output as well. The model runs as it is (call ``model.eval()`` for the
    running statistics of batch norm and no dropout). Returns a list of ``LayerStats`` in the order the
    layers ran.
    """
    names = list(default_layers(model) if layers is None else layers)
    modules = {name: find_layer(model, name, "layer_statistics") for name in names}
    x = x if isinstance(x, Tensor) else Tensor(xp.asarray(x))
    if target is not None and loss_fn is None:
        from ..nn.functional import cross_entropy as loss_fn
    with enable_grad(), capture(model, names) as seen:
        output = model(x)
        if target is not None:
            loss = loss_fn(output, target if isinstance(target, Tensor) else Tensor(xp.asarray(target)))
    ran = [name for name in seen if isinstance(seen[name], Tensor)]  # in the order the forward reached them
    grads = {}
    if target is not None:
        wanted = [name for name in ran if seen[name].requires_grad]
        if wanted:
            found = autograd_grad(loss, [seen[name] for name in wanted], allow_unused=True)
            grads = {name: g.array for name, g in zip(wanted, found) if g is not None}
    stats = []
    for name in ran:
        y, module = seen[name].array, modules[name]
        g = grads.get(name)
        stats.append(LayerStats(
            name, type(module).__name__, tuple(y.shape),
            float(y.mean(dtype=xp.float64)), float(y.std(dtype=xp.float64)),  # float32 sums drift on big layers
            saturated=_saturated(module, y), dead=_dead(module, y),
            grad_mean=None if g is None else float(g.mean(dtype=xp.float64)),
            grad_std=None if g is None else float(g.std(dtype=xp.float64)),
            values=_sample(y), grads=None if g is None else _sample(g),
        ))
    return stats


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def _number(value):
    return "-" if value is None else f"{value:.3g}"


def format_statistics(stats):
    """A printable table, one row per layer: output shape, mean, std, saturated, dead, gradient mean/std."""
    header = ("layer", "type", "output", "mean", "std", "saturated", "dead", "grad mean", "grad std")
    rows = [header] + [
        (s.name, s.kind, "x".join(map(str, s.shape)), _number(s.mean), _number(s.std), _percent(s.saturated),
         _percent(s.dead), _number(s.grad_mean), _number(s.grad_std))
        for s in stats
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _label(s):
    extra = "" if s.saturated is None else f", sat {_percent(s.saturated)}"
    extra += "" if s.dead is None else f", dead {_percent(s.dead)}"
    return f"{s.name} ({s.kind})\nmean {s.mean:.2g}, std {s.std:.2g}{extra}"


#: The activations that live in a fixed range: the same x-axis on every such panel shows the drift.
FIXED_RANGE = {"Tanh": (-1.0, 1.0), "Sigmoid": (0.0, 1.0)}


def _shown(s):
    """The values a layer's histogram draws: a ReLU's without its zeros (about half of them: their spike
    would flatten the rest; the panel's title gives their share)."""
    return s.values[s.values != 0] if s.kind == "ReLU" else s.values


def _share(values):
    """The share of exact zeros, as a percentage that is not rounded to 0 % or 100 % when it is neither."""
    zeros = float((values == 0).mean())
    return f"{zeros:.0%}" if 0.01 <= zeros <= 0.99 or zeros in (0, 1) else f"{zeros:.2%}"


def _row_range(chunk):
    """One x-range for a row of layers of one kind (the init experiment's rows): the shrinking or the
    spreading from layer to layer then shows in the picture, not only in the tick labels. Tanh and
    sigmoid have their fixed range; a row of mixed layers (a real model) gets one range per panel (tanh's
    and sigmoid's still fixed)."""
    kinds = {s.kind for s in chunk}
    if len(kinds) == 1 and next(iter(kinds)) in FIXED_RANGE:
        return FIXED_RANGE[next(iter(kinds))]
    if len(kinds) != 1:
        return None
    shown = [_shown(s) for s in chunk if _shown(s).size]
    if not shown:
        return None
    low, high = min(float(v.min()) for v in shown), max(float(v.max()) for v in shown)
    return (low, high) if high > low else None


def _histogram(ax, values, label, color, bounds):
    if bounds is not None:
        ax.hist(values, bins=50, range=bounds, color=color)
        ax.set_xlim(*bounds)
    else:
        ax.hist(values, bins=50, color=color)
    ax.set_title(label, fontsize=7)
    ax.locator_params(axis="x", nbins=4)  # gradients are tiny numbers: few ticks, one shared exponent
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    ax.xaxis.get_offset_text().set_fontsize(6)
    ax.tick_params(labelsize=6)
    ax.set_yticks([])


def plot_statistics(stats, path, title=None, columns=6):
    """One histogram per layer of its activations (blue) and, when recorded, of its gradients (orange, counts
    on a log scale).

    ``stats`` is ``layer_statistics``'s list, or a dict ``{label: list}`` to compare runs (one block of rows
    per label, e.g. per initialisation). Returns ``path``.
    """
    runs = stats if isinstance(stats, dict) else {None: stats}
    blocks = []  # (label, kind, [LayerStats]) per row of panels
    for label, layer_stats in runs.items():
        for start in range(0, len(layer_stats), columns):
            chunk = layer_stats[start : start + columns]
            blocks.append((label, "activation", chunk))
            if any(s.grads is not None for s in chunk):
                blocks.append((label, "gradient", chunk))
    width = min(columns, max((len(b[2]) for b in blocks), default=1))
    fig = new_figure(figsize=(2.3 * width, 1.9 * len(blocks) + 0.6))
    axes = fig.subplots(max(len(blocks), 1), width, squeeze=False)
    for row, (label, kind, chunk) in enumerate(blocks):
        bounds = _row_range(chunk) if kind == "activation" else None
        for col in range(width):
            ax = axes[row, col]
            if col >= len(chunk) or (kind == "gradient" and chunk[col].grads is None):
                ax.set_visible(False)
                continue
            s = chunk[col]
            if kind == "activation":
                zeros = f"\n({_share(s.values)} zeros left out)" if s.kind == "ReLU" else ""
                _histogram(ax, _shown(s), _label(s) + zeros, "tab:blue", bounds or FIXED_RANGE.get(s.kind))
            else:  # exact zeros are the units a ReLU or a max-pool cut off: counted, not drawn
                note = f"\n({_share(s.grads)} zeros left out)" if (s.grads == 0).any() else ""
                _histogram(ax, s.grads[s.grads != 0], f"dL/d({s.name})\nmean {s.grad_mean:.2g}, std "
                           f"{s.grad_std:.2g}{note}", "tab:orange", None)
                # A trained network's gradients are heavy-tailed (about 0 for the examples it gets right,
                # large for the few it gets wrong): counts on a log scale show both.
                ax.set_yscale("log")
                ax.set_yticks([])
                ax.minorticks_off()
            if col == 0:
                ax.set_ylabel(f"{label}\n{kind}" if label else kind, fontsize=8)
    fig.suptitle(title or "per-layer activations (blue) and gradients (orange) on one batch", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
