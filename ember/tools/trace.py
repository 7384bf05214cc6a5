"""One forward pass with hooks: which layers run, in what order, on what shapes, and which feeds which.

``ember.summary`` and ``ember.receptive_field`` both read a model through ``trace``. It puts the model in
eval mode (batch norm uses its running statistics and updates nothing, dropout is off), hooks every
*layer*, runs one forward pass on a batch, and restores every module's mode and removes every hook: the
model is left as it was found.

A *layer* is a leaf module (no children), a module that defines ``count_ops`` (counted as one unit, its
children are not visited: LeNet-5's trainable subsampling, say) or a module holding parameters of its
own besides its children (their row counts only those).

Which layer feeds which. A residual addition or a concatenation is no module, so hooks alone cannot see
that the output of ``layer3.1.bn2`` and that of ``layer3.0`` both reach ``layer3.1.relu``. The input is
made to require a gradient, so every operation records its inputs in the autograd graph; from each
layer's input we walk that graph back to the nearest tensors that were outputs of hooked layers (or the
model's inputs): those are the layer's *sources*.

Dry run. Shapes, parameters and MACs need no arithmetic. With ``dry_run=True`` the layers that cost
(Conv2d, Linear and the pooling layers) compute their output *shape* with the same geometry code their ops
use (so the same errors are raised) and return zeros of that shape, still linked into the graph; every
other module runs for real on those zeros, which costs little. VGG-16 at 224×224 takes milliseconds
instead of 15.5 GMACs.
"""

from dataclasses import dataclass, field

from .. import nn
from ..autograd.grad_mode import enable_grad
from .. import backend
from ..backend import as_dtype, xp
from ..ops import expand
from ..ops.conv import conv_padding
from ..ops.pool import pool_geometry
from ..ops.window import output_size, pair
from ..tensor import Tensor


@dataclass
class Call:
    """One run of one layer: what it read and wrote, and where its inputs came from."""

    index: int
    name: str
    module: object
    input_shapes: list  # shapes of the tensor arguments, batch first
    output_shapes: list  # shapes of the tensors in the output (one for most layers)
    output_dtypes: list
    sources: list  # per tensor argument: sorted list of ('input', k) / ('call', i)
    first: bool  # the module's first call (its parameters are counted on this row)
    extras: dict = field(default_factory=dict)  # filled by readers (the receptive field, say)

    @property
    def type(self):
        return type(self.module).__name__


@dataclass
class Trace:
    model: object
    inputs: list  # the model's input shapes, batch first
    input_dtypes: list
    calls: list
    unused: list  # (name, module) of layers that never ran (an auxiliary head in eval mode, say)


def layers(model):
    """(name, module) of every layer (see the module docstring), in registration order."""
    out, seen = [], set()

    def visit(prefix, module):
        if module in seen:
            return
        seen.add(module)
        children = [(n, m) for n, m in module._modules.items() if m is not None]
        if not children and isinstance(module, _CONTAINERS):
            return  # an empty ModuleList holds nothing and does nothing
        if hasattr(module, "count_ops") or not children:
            out.append((prefix, module))
            return
        if any(p is not None for p in module._parameters.values()):
            out.append((prefix, module))
        for name, child in children:
            visit(f"{prefix}.{name}" if prefix else name, child)

    visit("", model)
    return out


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def parse_input_size(input_size):
    """(1, 28, 28) -> [(1, 28, 28)]; [(3, 32, 32), (10,)] -> both; an int is a 1-D input."""
    if isinstance(input_size, int):
        return [(input_size,)]
    sizes = list(input_size)
    if sizes and all(isinstance(s, int) for s in sizes):
        return [tuple(sizes)]
    if not sizes or not all(isinstance(s, (tuple, list)) and all(isinstance(n, int) for n in s) for s in sizes):
        raise ValueError(
            f"input_size must be one shape without the batch, such as (3, 224, 224), or a list of shapes for a "
            f"model with several inputs, got {input_size!r}"
        )
    return [tuple(s) for s in sizes]


def trace(model, input_size, batch_size=1, dtype=None, dry_run=False):
    """Run ``model`` once on a batch of random (or, dry, zero) inputs of ``input_size`` and record the calls.

    Integer inputs (token indices for an embedding or one-hot layer, ``dtype=ember.int64``) are zeros: a
    valid index for any vocabulary."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dtype = as_dtype(dtype) or backend.default_dtype
    sizes = parse_input_size(input_size)
    rng = xp.random.default_rng(0)  # not Ember's generator: a summary must not change the random stream
    inputs = []
    for size in sizes:
        if dry_run or dtype.kind != "f":
            data = xp.zeros((batch_size, *size), dtype)
        else:
            data = rng.standard_normal((batch_size, *size)).astype(dtype)
        inputs.append(Tensor(data, requires_grad=dtype.kind == "f"))

    named = layers(model)
    names = {id(m): n for n, m in named}
    calls, produced, keep = [], {id(t): ("input", k) for k, t in enumerate(inputs)}, list(inputs)
    called, pending = set(), {}

    def pre_hook(module, args):
        # Rows are in the order the calls start: a layer with parameters of its own comes before its children.
        pending.setdefault(id(module), []).append(len(calls))
        calls.append(None)

    def hook(module, args, out):
        index = pending[id(module)].pop()
        sources = [sorted(_sources(a, produced)) for a in args if isinstance(a, Tensor)]
        outs = list(_tensors(out))
        calls[index] = Call(index, names[id(module)], module, [tuple(a.shape) for a in args if isinstance(a, Tensor)],
                            [tuple(t.shape) for t in outs], [t.dtype for t in outs], sources,
                            id(module) not in called)
        called.add(id(module))
        for t in outs:
            produced[id(t)] = ("call", index)
        keep.extend(outs)  # keeps the ids unique while the trace runs

    modes = [(m, m.training) for m in model.modules()]
    handles, patched = [], []
    try:
        for _, module in named:
            handles.append(module.register_forward_pre_hook(pre_hook))
            handles.append(module.register_forward_hook(hook))
            shape_fn = _DRY.get(type(module)) if dry_run else None
            if shape_fn is not None and "forward" not in module.__dict__:
                object.__setattr__(module, "forward", _dry_forward(module, shape_fn))
                patched.append(module)
        model.eval()
        with enable_grad(), xp.errstate(all="ignore"):  # dry zeros may divide by zero: values don't matter
            model(*inputs)
    finally:
        for h in handles:  # (a failed forward leaves its calls unfinished: the exception says why)
            h.remove()
        for module in patched:
            object.__delattr__(module, "forward")
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    unused = [(n, m) for n, m in named if id(m) not in called]
    return Trace(model, [tuple(t.shape) for t in inputs], [t.dtype for t in inputs], calls, unused)


def _tensors(out):
    if isinstance(out, Tensor):
        yield out
    elif isinstance(out, (tuple, list)):
        for o in out:
            yield from _tensors(o)
    elif isinstance(out, dict):
        for o in out.values():
            yield from _tensors(o)


def _sources(tensor, produced):
    """The recorded tensors (layer outputs, model inputs) that ``tensor`` was computed from."""
    found, seen, stack = set(), set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if id(t) in produced:
            found.add(produced[id(t)])
        elif t._ctx is not None:
            stack.extend(p for p in t._ctx.parents if p is not None)
    return found


# ---- dry run: output shapes with the layers' own geometry ------------------------------------------------


def _dry_forward(module, shape_fn):
    def forward(x, *args, **kwargs):
        unusual = not isinstance(x, Tensor) or args or kwargs or getattr(module, "return_indices", False)
        if unusual or x.ndim not in shape_fn.ndims:
            return type(module).forward(module, x, *args, **kwargs)  # an unusual call: run it for real
        shape, dtype = shape_fn(module, x)
        # A zero-copy broadcast of one zero that still records a node, so the graph links it onward
        # (and an in-place ``out += identity`` on it becomes a new node, as on a real output).
        return expand(Tensor(xp.zeros((), dtype), requires_grad=True), *shape)

    return forward


def _conv2d_shape(m, x):
    name = str(m)
    if x.shape[1] != m.in_channels:
        raise ValueError(
            f"{name}: expected input with {m.in_channels} channels, got {x.shape[1]} channels "
            f"(input shape {tuple(x.shape)}); check in_channels or the previous layer's out_channels"
        )
    pads = conv_padding(m.padding, m.kernel_size, m.dilation, m.stride, name)
    (kh, kw), (sh, sw), (dh, dw) = m.kernel_size, m.stride, m.dilation
    oh = output_size(x.shape[2], kh, sh, pads[0], pads[1], dh, layer=name, axis="height")
    ow = output_size(x.shape[3], kw, sw, pads[2], pads[3], dw, layer=name, axis="width")
    return (x.shape[0], m.out_channels, oh, ow), xp.result_type(x.dtype, m.weight.dtype)


def _linear_shape(m, x):
    if x.shape[-1] != m.in_features:
        raise ValueError(
            f"{m}: expected input with {m.in_features} features in its last dimension, got {x.shape[-1]} "
            f"(input shape {tuple(x.shape)}); check in_features or the flattened size of the previous layer"
        )
    return (*x.shape[:-1], m.out_features), xp.result_type(x.dtype, m.weight.dtype)


def _pool_shape(m, x, dilation):
    kernel = pair(m.kernel_size, "kernel_size")
    stride = kernel if m.stride is None else pair(m.stride, "stride")
    (oh, ow), _, _ = pool_geometry(x.shape, kernel, stride, pair(m.padding, "padding"), pair(dilation, "dilation"),
                                   m.ceil_mode, str(m))
    return (*x.shape[:2], oh, ow), x.dtype


def _adaptive_shape(m, x):
    size = m.output_size
    oh, ow = (size, size) if isinstance(size, int) else tuple(size)
    return (*x.shape[:2], oh or x.shape[2], ow or x.shape[3]), x.dtype


def _shape_rule(fn, *ndims):
    fn.ndims = ndims  # the input ranks the rule is written for; other calls run for real
    return fn


_DRY = {
    nn.Conv2d: _shape_rule(_conv2d_shape, 4),
    nn.Linear: _shape_rule(_linear_shape, 2, 3, 4),
    nn.MaxPool2d: _shape_rule(lambda m, x: _pool_shape(m, x, m.dilation), 4),
    nn.AvgPool2d: _shape_rule(lambda m, x: _pool_shape(m, x, 1), 4),
    nn.AdaptiveAvgPool2d: _shape_rule(_adaptive_shape, 4),
}
