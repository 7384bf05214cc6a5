"""Output sizes and receptive fields: how far a unit of a layer sees into the input image.

Output size (CS231n): an N-pixel input, padded by P on each side, read by an F-pixel filter (F = D·(K-1)+1
with dilation D) moved S pixels at a time, gives (N - F + 2P)/S + 1 outputs. When S does not divide
N - F + 2P the filter "does not fit": the last pixels are never read (PyTorch rounds down and drops them).

Receptive field, the standard recurrence, per spatial axis, for a layer with kernel K, stride S,
padding P and dilation D applied to a map whose units see ``rf_in`` input pixels, are ``jump_in`` input
pixels apart and the first of which is centred on ``start_in``:

    rf_out    = rf_in + (K - 1)·D·jump_in           (the new window adds K-1 steps of the old spacing)
    jump_out  = jump_in · S                          (the effective stride, in input pixels)
    start_out = start_in + ((K - 1)·D/2 - P)·jump_in (the centre of the first output unit's field)

The input starts at rf = 1, jump = 1, start = 0.5 (pixel i spans [i, i+1), so its centre is i + 0.5).
Two stacked 3×3 convolutions see 5×5 pixels, three see 7×7: the notes' reason for small kernels (the
field of a 5×5 or 7×7 kernel with fewer parameters and more non-linearities). Fields may be larger than
the image (ResNet-50's last units see 427 pixels of a 224 input): the part outside is padding.

Which layers do what:
- convolutions and pooling (anything with ``kernel_size``, ``stride``, ``padding``, ``dilation`` attributes)
  follow the recurrence; adaptive pooling uses the largest of its windows and stride N_in/N_out;
- element-wise layers (activations, batch norm, dropout) and reshapes (Flatten) keep the field;
- Linear, and any layer that turns a map into a vector, sees the whole map (a window as large as it);
- a layer with a ``stride`` but no ``kernel_size`` that changes the map size subsamples (a 1-pixel window,
  as ResNet's option-A shortcut x[:, :, ::2, ::2]);
- a layer of unknown kind that changes the map size is read as a window with no padding that maps
  N_in onto N_out (S = N_in // N_out, K = N_in - (N_out - 1)·S); one that keeps it, as element-wise;
- where branches meet (a residual addition, a concatenation), the field is the largest of the inputs'.
  Branches are found through the autograd graph of the traced forward pass (see ``tools.trace``).
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

from .. import nn
from .trace import trace

# ---- the output-size formula -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputSize:
    """What ``conv_output_size`` returns: the size, whether the formula divides exactly, and why."""

    size: int
    exact: bool
    explanation: str

    def __int__(self):
        return self.size

    __index__ = __int__

    def __str__(self):
        return self.explanation


def conv_output_size(n, kernel, stride=1, padding=0, dilation=1, strict=False):
    """(N - F + 2P)/S + 1 with F = D·(K-1) + 1: the number of positions of a sliding window along one axis.

    Returns an ``OutputSize``: ``.size`` is what PyTorch gives (rounded down), ``.exact`` whether S divides
    N - F + 2P, ``.explanation`` the worked formula and, when it does not divide, which input pixels the
    last window leaves out and what padding (or input size) would make it fit. ``strict=True`` raises
    ValueError with that explanation instead. A window larger than the padded input is always an error.

        conv_output_size(7, 3).size              # 5
        conv_output_size(7, 3, stride=2).size    # 3
        conv_output_size(7, 3, stride=3).exact   # False: (7 - 3)/3 + 1 = 2.33
    """
    for value, what, low in ((n, "input size", 1), (kernel, "kernel", 1), (stride, "stride", 1),
                             (padding, "padding", 0), (dilation, "dilation", 1)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"conv_output_size: {what} must be an integer >= {low}, got {value!r}")
    span = dilation * (kernel - 1) + 1
    padded = n + 2 * padding
    f_text = f"{span}" if dilation == 1 else f"{span} (= {dilation}·({kernel}-1)+1, dilated)"
    formula = f"(N - F + 2P)/S + 1 = ({n} - {span} + 2·{padding})/{stride} + 1"
    if dilation > 1:
        formula = f"F = D·(K-1)+1 = {dilation}·({kernel}-1)+1 = {span}; " + formula
    if span > padded:
        raise ValueError(
            f"conv_output_size: the filter spans {f_text} pixels but the padded input has only {padded} "
            f"({n} + 2·{padding}); use more padding (at least {math.ceil((span - n) / 2)} per side), a larger "
            "input or a smaller filter"
        )
    steps, left_over = divmod(padded - span, stride)
    size = steps + 1
    if not left_over:
        return OutputSize(size, True, f"{formula} = {size}")
    last = (size - 1) * stride  # where the last window starts, in padded coordinates
    covered_to = last + span - 1
    skipped = list(range(covered_to + 1, padded))
    skipped_input = [i - padding for i in skipped if padding <= i < padding + n]
    what_left = (f"input pixel{'s' if len(skipped_input) > 1 else ''} {_ranges(skipped_input)}"
                 if skipped_input else "only padding")
    more = stride - left_over  # pixels to add (in total) for one more window to fit exactly
    fixes = []
    if more % 2 == 0:
        fixes.append(f"padding {padding + more // 2} instead of {padding}")
    else:
        fixes.append(f"{more} more pixel{'s' if more > 1 else ''} of padding on one side")
    if padding and left_over % 2 == 0 and left_over // 2 <= padding:
        fixes.append(f"padding {padding - left_over // 2}")
    fixes.append(f"an input of {n + more} or {n - left_over} pixels" if n - left_over >= span - 2 * padding
                 else f"an input of {n + more} pixels")
    starts = ", ".join(str(i * stride) for i in range(size)) if size <= 4 else f"0, {stride}, ..., {last}"
    explanation = (
        f"{formula} = {(padded - span) / stride + 1:.4g}: the filter does not fit. The windows start at "
        f"pixel{'s' if size > 1 else ''} {starts} of the {'padded ' if padding else ''}input and the last one ends "
        f"at pixel {covered_to}, so the last {f'{left_over} pixels are' if left_over > 1 else 'pixel is'} never read "
        f"({what_left}); PyTorch "
        f"rounds down to {size}. To make it fit use {' or '.join(fixes)}."
    )
    if strict:
        raise ValueError(f"conv_output_size: {explanation}")
    return OutputSize(size, False, explanation)


def _ranges(indices):
    return f"{indices[0]}" if len(indices) == 1 else f"{indices[0]}..{indices[-1]}"


# ---- geometry of a feature map -----------------------------------------------------------------------


class Geometry(NamedTuple):
    """Per spatial axis (height, width): field size, jump (effective stride), first centre, map size."""

    rf: tuple
    jump: tuple
    start: tuple
    size: tuple


def input_geometry(shape):
    """The image itself: each pixel sees itself. Inputs without spatial axes (N, F) have no geometry."""
    if len(shape) < 3:
        return None
    axes = tuple(shape[2:])
    return Geometry((1,) * len(axes), (1,) * len(axes), (0.5,) * len(axes), axes)


def window(g, kernel, stride, pad, dilation, size=None):
    """The recurrence for one window layer, every argument a tuple per axis."""
    rf, jump, start = [], [], []
    for r, j, s0, k, s, p, d in zip(g.rf, g.jump, g.start, kernel, stride, pad, dilation):
        rf.append(_num(r + (k - 1) * d * j))
        jump.append(_num(j * s))
        start.append(s0 + ((k - 1) * d / 2 - p) * j)
    if size is None:
        size = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(g.size, kernel, stride, pad, dilation))
    return Geometry(tuple(rf), tuple(jump), tuple(start), tuple(size))


def whole_map(g):
    """A layer every unit of which sees every unit of the map (Linear after Flatten, global pooling)."""
    ones = (1,) * len(g.size)
    return window(g, g.size, g.size, (0,) * len(g.size), ones, ones)


def combine(geometries):
    """Where branches meet, the largest field (with that branch's jump, start and size)."""
    found = [g for g in geometries if g is not None]
    if not found:
        return None
    best = max(found, key=lambda g: (sum(g.rf), sum(g.jump)))
    rf = tuple(max(g.rf[a] for g in found if len(g.rf) == len(best.rf)) for a in range(len(best.rf)))
    return best._replace(rf=rf)


def resize(g, size):
    """A map whose size changed between two layers without a module (a functional pool): infer the window."""
    if g is None or len(size) != len(g.size) or tuple(size) == g.size:
        return g
    kernel, stride = zip(*(_inferred(n_in, n_out) for n_in, n_out in zip(g.size, size)))
    zeros, ones = (0,) * len(size), (1,) * len(size)
    return window(g, kernel, stride, zeros, ones, tuple(size))


def _inferred(n_in, n_out):
    if n_out >= n_in:  # upsampling: each output unit reads one input unit, n_in/n_out apart
        return 1, _num(n_in / n_out)
    s = n_in // n_out
    return n_in - (n_out - 1) * s, s


def _num(x):
    """Integers stay integers; a fractional jump (adaptive pooling, upsampling) stays a float."""
    return round(x) if abs(x - round(x)) < 1e-9 else x


def _per_axis(value, n, default):
    if value is None:
        return (default,) * n
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    return value * n if len(value) == 1 else value


ELEMENT_WISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LogSoftmax, nn.BatchNorm1d,
         nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, nn.Identity, nn.Flatten, nn.Unflatten)


def layer_geometry(module, g, in_shape, out_shape):
    """The geometry of a layer's output from its input's (see the module docstring for the rules)."""
    if g is None or out_shape is None:
        return None
    n = len(g.size)
    out_spatial = tuple(out_shape[2:]) if len(out_shape) >= 3 else None
    if isinstance(module, nn.Linear):
        return whole_map(g)
    if isinstance(module, ELEMENT_WISE):
        return g._replace(size=out_spatial) if out_spatial and len(out_spatial) == n else g
    if out_spatial is None or len(out_spatial) != n:
        if in_shape is not None and len(in_shape) == len(out_shape) and tuple(in_shape) == tuple(out_shape):
            return g  # element-wise on vectors
        return whole_map(g)  # a map became a vector
    if getattr(module, "kernel_size", None) is not None:
        kernel = _per_axis(module.kernel_size, n, 1)
        dilation = _per_axis(getattr(module, "dilation", 1), n, 1)
        padding = getattr(module, "padding", 0)
        if isinstance(padding, str):  # 'valid' or 'same' (stride 1)
            padding = tuple(0 if padding == "valid" else d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        pad = _per_axis(padding, n, 0)
        stride = getattr(module, "stride", None)
        if stride is None:  # not recorded: what maps the input size onto the output size
            stride = tuple(max(1, (a + 2 * p - d * (k - 1) - 1) // max(b - 1, 1))
                           for a, b, k, p, d in zip(g.size, out_spatial, kernel, pad, dilation))
        return window(g, kernel, _per_axis(stride, n, 1), pad, dilation, out_spatial)
    if getattr(module, "stride", None) is not None and out_spatial != g.size:  # strided subsampling x[..., ::s, ::s]
        ones = (1,) * n
        return window(g, ones, _per_axis(module.stride, n, 1), (0,) * n, ones, out_spatial)
    if hasattr(module, "output_size"):  # adaptive pooling: PyTorch's windows [⌊i·N/M⌋, ⌈(i+1)·N/M⌉)
        kernel = tuple(max(-(-(i + 1) * a // b) - (i * a // b) for i in range(b)) for a, b in zip(g.size, out_spatial))
        stride = tuple(_num(a / b) for a, b in zip(g.size, out_spatial))
        return window(g, kernel, stride, (0,) * n, (1,) * n, out_spatial)
    return resize(g, out_spatial)


# ---- the per-layer report ----------------------------------------------------------------------------


class Field(NamedTuple):
    """One layer's output: its receptive field, jump and start, per spatial axis (height, width)."""

    name: str
    type: str
    output_shape: tuple
    rf: tuple
    jump: tuple
    start: tuple


class Fields(list):
    """The receptive field after every layer, in execution order; ``fields['features.4']`` looks one up
    by name (its last call) and ``str(fields)`` is a table."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for f in reversed(self):
                if f.name == key:
                    return f
            raise KeyError(f"no layer named '{key}'; layers: {', '.join(f.name for f in self)}")
        return super().__getitem__(key)

    def __str__(self):
        head = ("Layer", "Type", "Output shape", "RF", "Jump", "Start")
        body = [(f.name or "(model)", f.type, _shape_text(f.output_shape), axes_text(f.rf), axes_text(f.jump),
                 axes_text(tuple(round(s, 2) for s in f.start) if f.start else None)) for f in self]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                 for r in [head, *body]]
        rule = "-" * len(lines[0])
        return "\n".join([rule, lines[0], rule, *lines[1:], rule])


def axes_text(values):
    """(7, 7) -> '7'; (7, 5) -> '7×5'; None -> '-'."""
    if not values:
        return "-"
    text = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return text[0] if len(set(text)) == 1 else "×".join(text)


def _shape_text(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]" if shape is not None else "-"


def annotate(tr):
    """Compute every call's output geometry (``call.extras['geometry']``) from its sources, in order."""
    inputs = [input_geometry(s) for s in tr.inputs]
    for call in tr.calls:
        per_arg = []
        for shape, sources in zip(call.input_shapes, call.sources):
            g = combine([inputs[k] if kind == "input" else tr.calls[k].extras["geometry"] for kind, k in sources])
            if g is not None and len(shape) >= 3:
                g = resize(g, tuple(shape[2:]))
            per_arg.append(g)
        g = combine(per_arg)
        in_shape = call.input_shapes[0] if call.input_shapes else None
        out_shape = call.output_shapes[0] if call.output_shapes else None
        call.extras["geometry"] = layer_geometry(call.module, g, in_shape, out_shape)
    return tr


def receptive_field(model, input_size, dry_run=True):
    """The receptive field (in input pixels), jump and start of every layer's output, in execution order.

    ``input_size`` is one input's shape without the batch, (3, 224, 224) say. One forward pass on a batch
    of one is traced (shapes only, unless ``dry_run=False``: see ``tools.trace``); returns ``Fields``, a
    list of ``Field(name, type, output_shape, rf, jump, start)`` with a tuple per spatial axis.

        fields = ember.receptive_field(vgg16, (3, 224, 224))
        fields["features.30"].rf   # (212, 212)
    """
    tr = annotate(trace(model, input_size, dry_run=dry_run))
    out = Fields()
    for call in tr.calls:
        g = call.extras["geometry"]
        shape = call.output_shapes[0] if call.output_shapes else None
        out.append(Field(call.name, call.type, shape, g.rf if g else None, g.jump if g else None,
                         g.start if g else None))
    return out
