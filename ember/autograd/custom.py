"""PyTorch's custom-Function protocol: a user's forward and backward written on Tensors.

Ember's own operations (``ember.ops``) are Functions on arrays. A course's custom operation is written for
torch, on Tensors, and runs here unchanged:

    class MyReLU(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            grad = grad_output.clone()
            grad[x < 0] = 0
            return grad

    y = MyReLU.apply(x)

``apply`` runs ``forward`` with grad mode off (the operations inside are not recorded: this Function is
one node of the graph, as in torch) and, when an input requires grad, wraps each floating-point output in
a Tensor whose ``grad_fn`` is the node. Backward hands ``backward`` Tensors and takes Tensors back, one per
input of ``forward`` (``None`` where an input needs none). The newer form, ``forward(*args)`` without ctx
plus ``setup_context(ctx, inputs, output)``, works too.
"""

from . import anomaly, profiling, version
from .function import Context
from .function import Function as ArrayFunction
from .grad_mode import is_grad_enabled, no_grad


class Function(ArrayFunction):
    """Base class of custom differentiable operations on Tensors (``torch.autograd.Function``)."""

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it "
            "with backward mode AD."
        )

    vjp = backward

    @classmethod
    def _uses_setup_context(cls):
        return cls.setup_context is not Function.setup_context

    @classmethod
    def apply(cls, *args, **kwargs):
        if profiling.recorder is not None:
            return profiling.recorder.forward(cls, _apply, args, kwargs)
        return _apply(cls, args, kwargs)

    @classmethod
    def run_backward(cls, ctx, *grad_outputs):
        """Arrays from the engine become Tensors for the user's backward, and its Tensors arrays again."""
        materialize = getattr(ctx, "materialize_grads", True)
        grads = tuple(
            Tensor(g) if g is not None else (None if not materialize or meta[1] is None else _zeros(meta))
            for g, meta in zip(grad_outputs, ctx.outputs_meta)
        )
        with no_grad():
            result = cls.backward(ctx, *grads)
        result = result if isinstance(result, tuple) else (result,)
        n_inputs = len(ctx.needs_input_grad)
        if len(result) < n_inputs or any(r is not None for r in result[n_inputs:]):
            raise RuntimeError(
                f"function {cls.__name__}Backward returned an incorrect number of gradients "
                f"(expected {n_inputs}, got {len(result)})"
            )
        arrays = []
        for i, (grad, parent) in enumerate(zip(result, ctx.parents)):
            if grad is None or parent is None:
                arrays.append(None)
                continue
            grad = grad.array if isinstance(grad, Tensor) else grad
            if tuple(grad.shape) != tuple(parent.shape) and grad.size != parent.array.size:
                raise RuntimeError(
                    f"Function {cls.__name__}Backward returned an invalid gradient at index {i} - got "
                    f"{list(grad.shape)} but expected shape compatible with {list(parent.shape)}"
                )
            arrays.append(grad.reshape(parent.shape))
        return tuple(arrays)

    def name(self):
        return f"{type(self).__name__}Backward"


def _apply(cls, args, kwargs):
    """Function.apply's work (a function of its own, so the profiler can time it)."""
    parents = tuple(a if isinstance(a, Tensor) else None for a in args)
    needs = tuple(p is not None and p.requires_grad for p in parents)
    ctx = Context(cls, needs)
    with no_grad():
        if cls._uses_setup_context():
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    if not (any(needs) and is_grad_enabled()):
        return output
    outputs = output if isinstance(output, tuple) else (output,)
    ctx.parents = parents
    if ctx._saved:
        ctx._versions = version.snapshot(ctx._saved)
    if anomaly.enabled:
        anomaly.remember_forward(ctx)
    ctx.outputs_meta = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else ((), None) for o in outputs)
    frozen = getattr(ctx, "non_differentiable", ())
    wrapped = tuple(_output(o, ctx, i, frozen) for i, o in enumerate(outputs))
    return wrapped if isinstance(output, tuple) else wrapped[0]


def _output(out, ctx, index, frozen):
    """An output of a recorded custom Function: in the graph if it is floating point and not marked."""
    if not isinstance(out, Tensor):
        return out
    if out.dtype.kind != "f" or id(out) in frozen:
        return Tensor(out.array)
    return Tensor._from_function(out.array, ctx, index)


def _zeros(meta):
    shape, dtype = meta
    from ..backend import xp

    return Tensor(xp.zeros(shape, dtype=dtype))


class Variable:
    """Pre-0.4 PyTorch's ``Variable(tensor)``: today a Tensor is a Variable, so this returns the tensor
    (asking for ``requires_grad`` as given). ``volatile`` is accepted and ignored, as in torch."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        tensor = data if isinstance(data, Tensor) else Tensor(data)
        if requires_grad:
            tensor.requires_grad_(True)
        return tensor


from ..tensor import Tensor  # noqa: E402  (Tensor imports autograd, as function.py explains)
