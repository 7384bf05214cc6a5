"""``ember.summary(model, input_size)``: a model's anatomy, one row per layer, with the counts the notes
call "必须掌握的" — parameters, computation, connections, receptive field — and the memory they take.

    >>> print(ember.summary(ember.models.create("lenet5"), (1, 28, 28)))

How each column is counted (per sample: the batch never multiplies anything):

Parameters. Weight sharing is why a conv layer is small: out·(in/groups·kH·kW) weights plus one bias per
filter, whatever the image size; a Linear layer has out·in + out. Trainable (requires_grad) and frozen
ones are counted apart; a parameter shared by two layers is counted once, on the first.

MACs (multiply-accumulates), the convention behind "ResNet-50: 4.1 GMACs" and "VGG-16: 15.5 GMACs":
- conv: output elements × in/groups·kH·kW (each output value is a dot product of that length); the bias
  additions are not counted;
- Linear: output features × input features (in × out for a vector);
- RNN/GRU/LSTM: per time step, for every layer and direction, the G gates' two products
  G·H·(input + H) (G = 1, 3, 4), times the sequence length; an embedding lookup: 0. The summary's
  inputs are batch-first (batch, steps, features), so give a recurrent layer ``batch_first=True``;
- batch norm, activations, pooling, additions: not counted (they are a few per element: small next to
  the dot products, and left out of the published figures);
- a layer that defines ``count_ops`` reports its own (see below); any other layer with parameters whose
  output differs in shape from its input is unknown ("?" in the table, None in ``rows``).

Connections, as LeCun et al. (1998) count them for LeNet-5: the sum over output units of the number of
inputs of each unit, plus one if it has a bias (the bias is a connection to a constant input). Weight
sharing is invisible here, which is the point of the column: C1 has 156 parameters but 122,304 connections.
- conv: out_pixels × out_channels × (in/groups·kH·kW + bias);  Linear: out × (in + bias);
- recurrent layers: every gate unit at every step, G·H·(input + H + 2 biases) per step and direction;
- pooling: output units × window (a trainable coefficient or bias adds one, via ``count_ops``);
- element-wise layers (activations, batch norm and other per-feature affine maps, dropout), local
  response normalisation and the parameter-free rearrangements (reshapes, strided subsampling, padding,
  upsampling, option-A shortcuts): 0 — as LeCun's squashing function, they belong to the unit they
  follow (or copy a unit) and add no weighted sum;
- any other layer with parameters that does not define ``count_ops``: unknown, shown as "?".

Receptive field and jump (effective stride) of each layer's output, in input pixels: see
``tools.receptive_field``; "-" for layers with no spatial input (an MLP).

The ``count_ops`` protocol: any Module may define ``count_ops(self, input_shape, output_shape)`` returning
``{"macs": int, "connections": int}`` for one sample (the shapes passed have batch size 1). The module is
then one row: its children are not listed separately (their parameters count in its row).

Memory: parameters (and buffers) in bytes by dtype; the input per sample; activations per sample = the sum
of every layer's output size × itemsize, one forward pass (what inference would hold if it kept every
output; training also keeps what backward needs, roughly as much again, which is not counted here).

Dry run. ``dry_run=True`` computes every shape without the arithmetic of convolutions, Linear and pooling
layers (see ``tools.trace``): milliseconds for VGG-16 at 224×224 instead of 15.5 GMACs of work. The
numbers are the same; the CLI uses it.
"""

import math
from dataclasses import asdict, dataclass

from .. import nn
from ..backend import float32
from ..ops.rnn import GATES
from .receptive_field import ELEMENT_WISE, annotate, axes_text
from .trace import trace


@dataclass
class LayerRow:
    """One row of the summary (one call of one layer); counts are per sample."""

    name: str
    type: str
    output_shape: object  # a tuple, or a list of tuples for a layer with several outputs
    trainable: int
    frozen: int
    macs: object  # int, or None when unknown
    connections: object
    rf: object  # a tuple per spatial axis, or None
    jump: object
    start: object
    first_call: bool = True  # False on a layer's later calls (a shared ReLU): its parameters are on the first

    @property
    def params(self):
        return self.trainable + self.frozen


class Summary:
    """What ``summary`` returns: ``rows`` (LayerRow per layer call), ``totals`` (dict), ``str()`` a table."""

    def __init__(self, model_name, rows, totals, unused):
        self.model_name, self.rows, self.totals, self.unused = model_name, rows, totals, unused

    def to_dict(self):
        return {"model": self.model_name, "rows": [asdict(r) | {"params": r.params} for r in self.rows],
                "totals": dict(self.totals)}

    def row(self, name):
        """The row of the layer called ``name`` (its first call)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no layer named '{name}'; layers: {', '.join(r.name for r in self.rows)}")

    @property
    def total_params(self):
        return self.totals["params_total"]

    @property
    def trainable_params(self):
        return self.totals["params_trainable"]

    @property
    def macs(self):
        return self.totals["macs"]

    def __repr__(self):
        return self.__str__()

    def __str__(self):
        t = self.totals
        frozen = t["params_frozen"] > 0
        head = ["Layer", "Type", "Output shape", "Params"] + (["Frozen"] if frozen else []) + \
               ["MACs", "Connections", "RF", "Jump"]
        body = []
        for r in self.rows:
            shape = (_shape_text(r.output_shape) if isinstance(r.output_shape, tuple)
                     else " ".join(_shape_text(s) for s in r.output_shape))
            params = [f"{r.trainable:,}"] + ([f"{r.frozen:,}"] if frozen else [])
            if not r.first_call and not r.params:
                params = ["(reused)"] + (["(reused)"] if frozen else [])
            body.append([r.name or "(model)", r.type, shape, *params]
                        + [_count(r.macs), _count(r.connections), axes_text(r.rf), axes_text(r.jump)])
        widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(x, widths)))
                 for x in [head, *body]]
        width = len(lines[0])
        by_dtype = ", ".join(f"{k} {v:,}" for k, v in t["param_bytes"].items())
        inputs = " + ".join(f"[{', '.join(map(str, s))}]" for s in t["input_size"])
        foot = [
            f"Params: {t['params_total']:,} ({t['params_trainable']:,} trainable, {t['params_frozen']:,} frozen)",
            f"MACs: {t['macs']:,} ({_si(t['macs'])}MACs) per sample",
            f"Connections: {t['connections']:,} per sample",
            f"Input: {inputs} {t['input_dtype']}, {_bytes(t['input_bytes'])} per sample",
            f"Activations (forward pass, every layer's output): {_bytes(t['activation_bytes'])} per sample",
            f"Parameter memory: {_bytes(t['param_bytes_total'])} ({by_dtype} bytes)",
        ]
        if t["buffer_bytes"]:
            foot.append(f"Buffer memory: {_bytes(t['buffer_bytes'])}")
        if any(r.macs is None or r.connections is None for r in self.rows):
            foot.append("?: not counted: that layer kind is unknown (define count_ops(input_shape, output_shape))")
        if self.unused:
            foot.append(f"Not run in this forward pass ({t['params_unused']:,} params, in the totals): "
                        + ", ".join(self.unused))
        rule, double = "-" * width, "=" * width
        return "\n".join([self.model_name, double, lines[0], rule, *lines[1:], double, *foot])


def summary(model, input_size, batch_size=1, dtype=float32, dry_run=False):
    """Trace one forward pass of ``model`` on a batch of ``input_size`` (one shape without the batch, such
    as (1, 28, 28), or a list of shapes for a model with several inputs) and count every layer.

    Returns a ``Summary``: ``str()`` is the table, ``.rows`` and ``.totals`` (or ``to_dict()``) the numbers.
    ``dry_run=True`` skips the arithmetic of the costly layers (the shapes and counts are the same). The
    model is left as it was (its train/eval mode, running statistics and the random stream are untouched).
    """
    tr = annotate(trace(model, input_size, batch_size=batch_size, dtype=dtype, dry_run=dry_run))
    rows, seen = [], set()
    for call in tr.calls:
        trainable = frozen = 0
        if call.first:
            own = hasattr(call.module, "count_ops") or not any(True for _ in call.module.children())
            for p in call.module.parameters(recurse=own):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                if p.requires_grad:
                    trainable += p.numel()
                else:
                    frozen += p.numel()
        macs, connections = count_ops(call)
        g = call.extras["geometry"]
        shape = call.output_shapes[0] if len(call.output_shapes) == 1 else list(call.output_shapes)
        rows.append(LayerRow(call.name, call.type, shape, trainable, frozen, macs, connections,
                             g.rf if g else None, g.jump if g else None, g.start if g else None, call.first))

    params = list(model.parameters())
    param_bytes = {}
    for p in params:
        param_bytes[str(p.dtype)] = param_bytes.get(str(p.dtype), 0) + p.numel() * p.dtype.itemsize
    used = {id(p) for call in tr.calls for p in call.module.parameters()}
    activation = sum(math.prod(s) * d.itemsize for call in tr.calls for s, d in zip(call.output_shapes, call.output_dtypes))
    trainable = sum(p.numel() for p in params if p.requires_grad)
    totals = {
        "params_total": sum(p.numel() for p in params),
        "params_trainable": trainable,
        "params_frozen": sum(p.numel() for p in params) - trainable,
        "params_unused": sum(p.numel() for p in params if id(p) not in used),
        "macs": sum(r.macs or 0 for r in rows),
        "connections": sum(r.connections or 0 for r in rows),
        "param_bytes": param_bytes,
        "param_bytes_total": sum(param_bytes.values()),
        "buffer_bytes": sum(b.numel() * b.dtype.itemsize for b in model.buffers()),
        "activation_bytes": activation // batch_size,
        "input_size": [tuple(s[1:]) for s in tr.inputs],
        "input_dtype": str(tr.input_dtypes[0]),
        "input_bytes": sum(math.prod(s[1:]) * d.itemsize for s, d in zip(tr.inputs, tr.input_dtypes)),
        "batch_size": batch_size,
    }
    return Summary(type(model).__name__, rows, totals, [n or "(model)" for n, _ in tr.unused])


def count_ops(call):
    """(MACs, connections) of one layer call, per sample, by the conventions of the module docstring."""
    m = call.module
    in_shape = call.input_shapes[0] if call.input_shapes else None
    out_shape = call.output_shapes[0] if call.output_shapes else None
    if hasattr(m, "count_ops"):
        one = (lambda s: None if s is None else (1, *s[1:]))
        ops = m.count_ops(one(in_shape), one(out_shape))
        return ops.get("macs"), ops.get("connections")
    units = math.prod(out_shape[1:]) if out_shape else 0  # output units of one sample
    if isinstance(m, nn.Conv2d):
        fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        return units * fan_in, units * (fan_in + (m.bias is not None))
    if isinstance(m, nn.Linear):
        return units * m.in_features, units * (m.in_features + (m.bias is not None))
    if isinstance(m, nn.RNNBase) and in_shape is not None:
        return _recurrent_ops(m, in_shape)
    if isinstance(m, nn.Embedding):
        return 0, 0  # a lookup: no weighted sum
    params = list(m.parameters())
    if not params:
        if getattr(m, "kernel_size", None) is not None:  # pooling: one wire per window position
            kernel = m.kernel_size
            window = math.prod(kernel) if isinstance(kernel, (tuple, list)) else kernel ** max(len(out_shape) - 2, 1)
            return 0, units * window
        if hasattr(m, "output_size") and in_shape is not None and len(in_shape) == len(out_shape) > 2:
            windows = 1  # adaptive pooling: PyTorch's windows [⌊i·N/M⌋, ⌈(i+1)·N/M⌉), summed per axis
            for n_in, n_out in zip(in_shape[2:], out_shape[2:]):
                windows *= sum(-(-(i + 1) * n_in // n_out) - i * n_in // n_out for i in range(n_out))
            return 0, out_shape[1] * windows
        return 0, 0  # element-wise, normalisation across channels, reshapes, subsampling, padding
    if isinstance(m, ELEMENT_WISE) or (in_shape is not None and tuple(in_shape) == tuple(out_shape)
                                and all(p.ndim == 1 for p in params)):
        return 0, 0  # batch norm and other per-feature affine maps: part of the unit, like LeCun's squashing
    return None, None


def _recurrent_ops(m, in_shape):
    """(MACs, connections) of one sequence through an RNN/GRU/LSTM: every layer and direction runs its
    G·H gate units once per time step, each a dot product with the layer's input and with h_{t-1}."""
    steps = in_shape[0] if len(in_shape) == 2 or not m.batch_first else in_shape[1]
    gate_units = GATES[m.mode] * m.hidden_size
    directions = 2 if m.bidirectional else 1
    macs = connections = 0
    for layer in range(m.num_layers):
        fan_in = (m.input_size if layer == 0 else m.hidden_size * directions) + m.hidden_size
        macs += directions * steps * gate_units * fan_in
        connections += directions * steps * gate_units * (fan_in + 2 * m.bias)
    return macs, connections


def _has_params(module):
    return any(True for _ in module.parameters())


def build_model(name, input_size=None, num_classes=None):
    """(model, input_size): the registered model ``name`` built for one input of ``input_size`` (C, H, W).

    By default the factory's own ``in_channels`` and ``input_size`` (or 3×224×224); a factory that takes
    ``in_channels``/``input_size`` is built for the size asked. Mistakes (an unknown model, a bad size)
    raise ValueError with a one-line message (the command line shows it as a usage error).
    """
    from .. import models

    try:
        accepted = models.signature(name)
    except KeyError as error:
        raise ValueError(error.args[0]) from error
    if input_size is None:
        side = accepted.get("input_size", 224)
        input_size = (accepted.get("in_channels", 3), side, side)
    input_size = tuple(int(n) for n in input_size)
    if len(input_size) != 3 or min(input_size) < 1:
        raise ValueError(f"summarize: input_size takes three positive numbers C H W, "
                         f"got {' '.join(map(str, input_size))}")
    options = {"num_classes": num_classes}
    if "in_channels" in accepted:
        options["in_channels"] = input_size[0]
    if "input_size" in accepted:
        if input_size[1] != input_size[2]:
            raise ValueError(f"model '{name}' is built for square inputs, got {input_size[1]}×{input_size[2]}")
        options["input_size"] = input_size[1]
    try:
        return models.create(name, **options), input_size
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: {str(error).splitlines()[0]}") from error


def summarize(name, input_size=None, num_classes=None, dry_run=True):
    """The summary of the registered model ``name`` (what ``ember summary NAME`` prints), built by
    ``build_model`` (the same defaults and the same one-line ValueErrors)."""
    model, input_size = build_model(name, input_size, num_classes)
    try:
        result = summary(model, input_size, dry_run=dry_run)
    except ValueError as error:
        raise ValueError(f"{name} on a {'×'.join(map(str, input_size))} input: {str(error).splitlines()[0]}") from error
    result.model_name = f"{name} ({type(model).__name__}), input {'×'.join(map(str, input_size))}"
    return result


def _shape_text(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _count(n):
    return "?" if n is None else f"{n:,}"


def _si(n):
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= factor:
            return f"{n / factor:.2f} {prefix}"
    return f"{n} "


def _bytes(n):
    for factor, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= factor:
            return f"{n / factor:.2f} {unit}"
    return f"{n} B"
