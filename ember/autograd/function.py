"""Function: one differentiable operation, its forward and its backward written side by side.

A Function works on arrays, never on Tensors. ``Function.apply`` unwraps the Tensor arguments, runs
``forward(ctx, *arrays)``, and wraps the result in a Tensor that remembers the context. The context is
the node of the computational graph: it knows the Function, the input Tensors (its parents) and what
forward saved for backward. Later, ``backward(ctx, *grad_outputs)`` returns one gradient per input
(``None`` where an input needs none) — the chain rule, one gate at a time, as in CS231n's add/mul/max gates.
A backward never writes into the gradients it receives: the add gate hands the same array to both inputs.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = xp.exp(x)
            ctx.save(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved
            return grad * y
"""

from .. import parallel
from ..backend import xp
from . import anomaly, profiling, version
from .grad_mode import is_grad_enabled


class Context:
    """What a forward leaves for its backward, and the node's place in the graph.

    ``needs_input_grad[i]`` says whether input ``i`` wants a gradient, so a backward can skip work
    (a first conv layer never needs the gradient of the image). Anything else a forward needs later
    is set as an attribute (``ctx.stride = 2``) or saved with ``ctx.save(*arrays)``. What is saved with
    ``save`` is guarded by version counters (version.py): backward refuses it if it changed in place.
    """

    _versions = ()  # ((saved item, its storage, the storage's version at forward), ...)

    def __init__(self, function, needs_input_grad):
        self.function = function
        self.needs_input_grad = needs_input_grad
        self.parents = ()
        self.released = False
        self._saved = ()

    def save(self, *arrays):
        self._saved = arrays

    # ---- PyTorch's ctx API (custom Functions written for torch, see custom.py) ----------------------------

    def save_for_backward(self, *tensors):
        """Keep tensors for backward (``ctx.saved_tensors`` gives them back)."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        self.check_alive()
        if self._versions:
            version.check(self)
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """These outputs get no gradient: they leave the graph as tensors that do not require grad."""
        self.non_differentiable = getattr(self, "non_differentiable", ()) + tuple(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """These inputs were changed in place by forward: their version moves on, so any node that saved
        them before refuses to backward with the old values."""
        for t in tensors:
            version.bump(t.array)

    def set_materialize_grads(self, value):
        """With ``False``, backward receives ``None`` (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    # ---- graph introspection, as torch's grad_fn ---------------------------------------------------------

    def name(self):
        return f"{self.function.__name__}Backward0"

    @property
    def next_functions(self):
        """One ``(node, output index)`` per tensor input: the node that made it, an ``AccumulateGrad`` for a
        leaf that requires grad, or ``(None, 0)`` for a tensor outside the graph."""
        return tuple(_next_function(p) for p in self.parents if p is not None)

    @property
    def saved(self):
        self.check_alive()
        if self._versions:
            version.check(self)
        return self._saved

    def check_alive(self):
        if self.released:
            raise RuntimeError(
                f"Trying to backward through {self.function.__name__} a second time: its saved arrays were "
                "freed after the first backward. Pass retain_graph=True to the first backward() if you "
                "need to backward through the same graph twice."
            )

    def release(self):
        """Free everything forward saved (arrays, attributes, links to the inputs) after backward."""
        function, needs = self.function, self.needs_input_grad
        self.__dict__.clear()
        self.function, self.needs_input_grad = function, needs
        self.parents, self._saved, self._versions, self.released = (), (), (), True

    def __repr__(self):
        return f"<{self.function.__name__}Backward>"


class AccumulateGrad:
    """The graph node of a leaf that requires grad (torch's name): backward adds into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"


def _next_function(parent):
    if not parent.requires_grad:
        return (None, 0)
    if parent._ctx is None:
        return (AccumulateGrad(parent), 0)
    return (parent._ctx, parent._out_index)


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    #: While ``ember.onnx.export`` traces a forward, a callable ``tracer(cls, args, kwargs)`` that runs and
    #: records each op instead; None otherwise (then tracing costs one attribute test per op).
    tracer = None

    @classmethod
    def run_backward(cls, ctx, *grad_outputs):
        """What the engine calls: arrays in, arrays out (custom Functions convert to and from Tensors)."""
        return cls.backward(ctx, *grad_outputs)

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the arrays inside ``args``; record a graph node if any input needs a gradient.

        A forward may return one array or a tuple of arrays; the result has the same shape (Tensor or
        tuple of Tensors). Keyword arguments are settings and are passed through unchanged.
        """
        if Function.tracer is not None:
            return Function.tracer(cls, args, kwargs)
        if profiling.recorder is not None:
            return profiling.recorder.forward(cls, _apply, args, kwargs)
        return _apply(cls, args, kwargs)


def _apply(cls, args, kwargs):
    """Function.apply's work (a function of its own, so the profiler can time it)."""
    parents = tuple(a if isinstance(a, Tensor) else None for a in args)
    arrays = tuple(a.array if isinstance(a, Tensor) else a for a in args)
    needs = tuple(p is not None and p.requires_grad for p in parents)
    record = any(needs) and is_grad_enabled()
    ctx = Context(cls, needs)
    parallel.op_enter()  # BLAS rests on one thread unless the op asks for every core (see ember/parallel.py)
    out = cls.forward(ctx, *arrays, **kwargs)
    # NumPy returns scalars, not 0-d arrays, from ufuncs on 0-d inputs and from 1-D @ 1-D; a Tensor
    # always holds an array (it has flags, can be written in place, and .numpy() gives an ndarray).
    out = tuple(_as_array(o) for o in out) if isinstance(out, tuple) else _as_array(out)
    if not record:
        if isinstance(out, tuple):
            return tuple(Tensor(o) for o in out)
        return Tensor(out)
    ctx.parents = parents
    if ctx._saved:
        ctx._versions = version.snapshot(ctx._saved)
    if anomaly.enabled:
        anomaly.remember_forward(ctx)
    if isinstance(out, tuple):
        # Integer outputs (indices, counts) carry no gradient and stay outside the graph.
        ctx.outputs_meta = tuple((o.shape, o.dtype) for o in out)
        return tuple(
            Tensor._from_function(o, ctx, i) if o.dtype.kind == "f" else Tensor(o) for i, o in enumerate(out)
        )
    if out.dtype.kind != "f":  # x.long(), x.bool(): an integer result has no gradient, as in torch
        return Tensor(out)
    return Tensor._from_function(out, ctx, 0)


def _as_array(out):
    return out if isinstance(out, xp.ndarray) else xp.asarray(out)


# Function wraps its results in Tensors: the one place autograd needs the Tensor class (tensor.py
# itself builds on grad_mode and engine, so importing it last keeps the import order acyclic).
from ..tensor import Tensor  # noqa: E402
