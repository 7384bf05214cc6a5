"""Tracing: run a model's forward once and record every op it applies, in order.

Every differentiable op in Ember goes through ``Function.apply``; while a trace runs, ``Function.tracer``
is set to :meth:`Trace.record`, which runs the op as usual and appends an :class:`OpCall` (the Function
class, its arguments bound by name to ``forward``'s parameters, and the output Tensors). The residual add
of a ResNet block is recorded like a convolution: it is a Function call, not a module.

Some operations build a tensor without a Function because they have no gradient (``F.one_hot``); those
listed in ``UNTRACED`` are wrapped for the duration of the trace so they are recorded too. Anything else
computed outside the Functions (``.numpy()`` arithmetic, Python control flow on values) is invisible to a
tracer — :func:`trace` therefore runs the forward twice, on the example input and on a permuted copy of
it, and refuses to export when an op's constant argument changed with the input.
"""

import inspect
import sys

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor


class OpCall:
    """One recorded op: ``kind`` (the Function class, or a name for the ops in ``UNTRACED``), ``args``
    (forward's parameters by name; ``*arrays`` stay a tuple) and ``outputs`` (the Tensors it returned)."""

    def __init__(self, kind, args, outputs):
        self.kind, self.args, self.outputs = kind, args, outputs

    @property
    def name(self):
        return self.kind if isinstance(self.kind, str) else self.kind.__name__

    def __repr__(self):
        return f"<OpCall {self.name}>"


def _bind(cls, args, kwargs):
    signature = inspect.signature(cls.forward)
    bound = signature.bind(None, *args, **kwargs)  # None stands for ctx
    bound.apply_defaults()
    named = dict(bound.arguments)
    named.pop(next(iter(signature.parameters)))
    return named


class Trace:
    """Records the ops of one forward; keeps every Tensor it saw alive so that ``id``s stay unique."""

    def __init__(self):
        self.calls, self.keep = [], []

    def record(self, cls, args, kwargs):
        Function.tracer = None  # an op that calls other ops inside is still one op
        try:
            out = cls.apply(*args, **kwargs)
        finally:
            Function.tracer = self.record
        self.add(cls, _bind(cls, args, kwargs), out)
        return out

    def add(self, kind, named, out):
        outputs = out if isinstance(out, tuple) else (out,)
        self.calls.append(OpCall(kind, named, outputs))
        self.keep.append((named, outputs))


def _one_hot_traced(original, trace):
    def one_hot(input, num_classes=-1):
        out = original(input, num_classes)
        trace.add("one_hot", {"input": input, "num_classes": out.shape[-1]}, out)
        return out

    return one_hot


def _compare_traced(original, trace):
    def _compare(self, other, op):
        out = original(self, other, op)
        trace.add("compare", {"a": self, "b": other, "op": op.__name__}, out)
        return out

    return _compare


def _arg_extreme_traced(original, trace):
    def _arg_extreme(arg, a, dim, keepdim):
        out = original(arg, a, dim, keepdim)
        trace.add("arg_extreme", {"a": a, "dim": dim, "keepdim": keepdim, "largest": arg is xp.argmax}, out)
        return out

    return _arg_extreme


#: Functions that make tensors without a Function (they have no gradient), wrapped while tracing so that
#: they are recorded too: (module, attribute path) -> factory of the recording wrapper.
UNTRACED = {
    ("ember.ops.embedding", "one_hot"): _one_hot_traced,
    ("ember.tensor", "Tensor._compare"): _compare_traced,
    ("ember.ops.reduce", "_arg_extreme"): _arg_extreme_traced,
}


class _Patched:
    """Swap each function of ``UNTRACED`` for its recording wrapper: on its class, or in every ember module
    that holds it (``from .embedding import one_hot`` made other references)."""

    def __init__(self, trace):
        self.trace, self.undo = trace, []

    def __enter__(self):
        for (module_name, path), factory in UNTRACED.items():
            owner = sys.modules.get(module_name)
            if owner is None:
                continue
            *classes, attr = path.split(".")
            for name in classes:
                owner = getattr(owner, name)
            original = getattr(owner, attr)
            wrapper = factory(original, self.trace)
            holders = [owner] if classes else [
                mod for name, mod in list(sys.modules.items())
                if (name == "ember" or name.startswith("ember.")) and getattr(mod, attr, None) is original
            ]
            for holder in holders:
                self.undo.append((holder, attr, original))
                setattr(holder, attr, wrapper)
        return self

    def __exit__(self, *exc):
        for holder, attr, original in reversed(self.undo):
            setattr(holder, attr, original)
        self.undo.clear()


def run_traced(model, inputs):
    """Run ``model(*inputs)`` with every op recorded; returns (Trace, outputs)."""
    if Function.tracer is not None:
        raise RuntimeError("ember.onnx.export: a trace is already running (export is not re-entrant)")
    trace = Trace()
    with _Patched(trace):
        Function.tracer = trace.record
        try:
            outputs = model(*inputs)
        finally:
            Function.tracer = None
    return trace, outputs


def _permuted(t):
    """The same values in reversed order (indices stay valid indices), so value-dependent code shows."""
    flat = t.array.reshape(-1)[::-1]
    return Tensor(xp.ascontiguousarray(flat).reshape(t.shape))


def check_input_independent(model, inputs, trace, is_known):
    """Trace again on permuted inputs: an op list that changes, or a constant argument (``is_known(v)`` is
    False for it) whose value changes, means the forward computed something the trace cannot see."""
    produced = {key for call in trace.calls for t in call.outputs for key in (id(t), id(t.array))}
    second, _ = run_traced(model, [_permuted(x) if isinstance(x, Tensor) else x for x in inputs])
    names = [c.name for c in trace.calls], [c.name for c in second.calls]
    if names[0] != names[1]:
        raise RuntimeError(
            "ember.onnx.export: the model ran different ops for another input of the same shape "
            f"({len(names[0])} vs {len(names[1])} ops); data-dependent control flow cannot be exported by "
            "tracing. Make the forward's ops independent of the input values."
        )
    for i, (a, b) in enumerate(zip(trace.calls, second.calls)):
        for key, value in a.args.items():
            values = value if isinstance(value, tuple) else (value,)
            others = b.args[key] if isinstance(b.args[key], tuple) else (b.args[key],)
            for v, w in zip(values, others):
                if isinstance(v, (Tensor, xp.ndarray)) and id(v) not in produced and not is_known(v):
                    va, wa = getattr(v, "array", v), getattr(w, "array", w)
                    if va.shape != wa.shape or not xp.array_equal(va, wa, equal_nan=va.dtype.kind == "f"):
                        raise RuntimeError(
                            f"ember.onnx.export: argument '{key}' of {a.name} (op {i}) depends on the model's input "
                            "through code the tracer cannot see (an operation that is not an ember Function, "
                            "such as arithmetic on .numpy() arrays). Use ember ops for it so it can be exported."
                        )


def is_in_onnx_export():
    """True while ``ember.onnx.export`` is tracing a forward (torch.onnx.is_in_onnx_export)."""
    return Function.tracer is not None
