"""The rest of ``torch.Tensor``'s methods, attached to ``ember.Tensor``: maths, comparisons, indexing, in-place
updates, ``new_*`` factories and random fills.

Like the methods in tensor.py, each is a call into ``ember.ops`` (``x.sin()`` is ``ember.sin(x)``); they
live here so that tensor.py stays about the Tensor itself. In-place methods (``add_``, ``relu_``, ...)
follow tensor.py's rule: outside a graph the result is written into the tensor's array, so every view
and name sees it; when the result joins a graph, the tensor becomes that new node (as in torch, where
``h.relu_()`` is recorded); a leaf that requires grad cannot be changed in place while grad is enabled.
"""

from . import backend
from . import ops
from .autograd.grad_mode import is_grad_enabled
from .backend import xp
from .ops import rearrange
from .ops.validate import dim
from .tensor import Tensor, as_array

# x.name(*args) is ember.ops.name(x, *args) for each of these.
DELEGATED = """
    exp log sqrt abs pow maximum minimum relu sigmoid tanh softmax log_softmax
    erf erfc sin cos tan sinh cosh asin acos atan atan2 arcsin arccos arctan arctan2 log1p expm1 log2 log10 exp2 rsqrt
    reciprocal square floor ceil round trunc fix frac sign sgn
    add sub mul div multiply subtract true_divide floor_divide remainder neg
    eq ne lt le gt ge greater greater_equal less less_equal not_equal equal isclose allclose
    logical_not logical_and logical_or logical_xor isnan isinf isfinite isposinf isneginf all any nonzero count_nonzero
    gather scatter index_select masked_fill sort argsort topk cumsum cumprod prod logsumexp norm
    mm bmm mv dot inner outer ger addmm
    narrow chunk split unbind flip fliplr flipud roll tile repeat_interleave tril triu diag diagonal
""".split()


def _delegate(name):
    op = getattr(ops, name)

    def method(self, *args, **kwargs):
        return op(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``ember.{name}(self, ...)``: see ``ember.ops.{name}``."
    return method


for _name in DELEGATED:
    setattr(Tensor, _name, _delegate(_name))

Tensor.negative = Tensor.neg
Tensor.absolute = Tensor.abs
Tensor.arctan2 = Tensor.atan2


def repeat(self, *sizes):
    """This tensor tiled ``sizes[i]`` times along dim i (``x.repeat(2, 1)``); see ``ember.ops.rearrange.repeat``."""
    return rearrange.repeat(self, *sizes)


def numel(self):
    return self.array.size


def nelement(self):
    return self.array.size


def element_size(self):
    return self.array.itemsize


def is_floating_point(self):
    return self.array.dtype.kind == "f"


# ---- in-place updates ------------------------------------------------------------------------------------


def _update(self, op, *args, what, **kwargs):
    """``self = op(self, *args)`` in place (see the module docstring for the three cases)."""
    if self._ctx is None:
        self._check_inplace(what)
    records = (self.requires_grad or _any_requires_grad(args)) and is_grad_enabled()
    if records:
        # The result joins a graph: self becomes its node, and its old value lives on in a shadow tensor
        # that the new node takes as input (so backward still reaches what self was computed from).
        source = Tensor.__new__(Tensor)
        source.array, source.grad, source._ctx = self.array, None, self._ctx
        source._out_index, source._requires_grad = self._out_index, self._requires_grad
    else:
        source = self
    result = op(source, *args, **kwargs)
    if not xp.can_cast(result.dtype, self.dtype, casting="same_kind"):
        raise RuntimeError(f"{what}: result type {result.dtype} can't be cast to the desired output type {self.dtype}")
    if result.shape != self.shape:
        raise RuntimeError(
            f"{what}: output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
        )
    if records and result.requires_grad:
        if result.dtype != self.dtype:
            result = ops.cast(result, self.dtype)  # an in-place result keeps the tensor's dtype
        self.array, self._ctx, self._out_index, self._requires_grad = (
            result.array, result._ctx, result._out_index, True)
        return self
    self.array[...] = result.array
    self._bump_version()
    return self


def _any_requires_grad(args):
    return any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _inplace_method(name, op):
    def method(self, *args, **kwargs):
        return _update(self, op, *args, what=f"{name}()", **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: writes the result into this tensor and returns it."
    return method


INPLACE = {
    "add_": ops.add, "sub_": ops.sub, "mul_": ops.mul, "div_": ops.div, "pow_": ops.pow, "clamp_": ops.clamp,
    "clip_": ops.clamp, "sqrt_": ops.sqrt, "exp_": ops.exp, "log_": ops.log, "neg_": ops.neg, "abs_": ops.abs,
    "relu_": ops.relu, "sigmoid_": ops.sigmoid, "tanh_": ops.tanh, "floor_": ops.floor, "ceil_": ops.ceil,
    "round_": ops.round, "trunc_": ops.trunc, "sign_": ops.sign, "reciprocal_": ops.reciprocal,
    "square_": ops.square, "sin_": ops.sin, "cos_": ops.cos, "rsqrt_": ops.rsqrt, "log1p_": ops.log1p,
    "expm1_": ops.expm1, "erf_": ops.erf, "remainder_": ops.remainder, "masked_fill_": ops.masked_fill, "tril_": ops.tril,
    "triu_": ops.triu, "scatter_": ops.scatter,
    "clamp_min_": lambda x, lo: ops.clamp(x, min=lo), "clamp_max_": lambda x, hi: ops.clamp(x, max=hi),
}
for _name, _op in INPLACE.items():
    setattr(Tensor, _name, _inplace_method(_name, _op))


def detach_(self):
    """Cut this tensor from the graph in place: it becomes a leaf that does not require grad."""
    self._ctx, self._requires_grad = None, False
    return self


# ---- random fills (in place, from the generator seeded by ember.manual_seed) -------------------------------


def _fill(self, what, sample):
    self._check_inplace(what)
    self.array[...] = xp.asarray(sample(backend.generator(), self.array.shape)).astype(self.dtype, copy=False)
    self._bump_version()
    return self


def normal_(self, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std²)."""
    if not std >= 0:  # (also refuses NaN)
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill(self, "normal_()", lambda g, shape: mean + std * g.standard_normal(shape))


def uniform_(self, a=0.0, b=1.0, **bounds):
    """Fill with samples of U[a, b) (torch names the bounds ``from`` and ``to``; both spellings work)."""
    a, b = bounds.get("from", a), bounds.get("to", b)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill(self, "uniform_()", lambda g, shape: a + (b - a) * g.random(shape))


def bernoulli_(self, p=0.5):
    """Fill with 1 with probability ``p`` (a number or a tensor of probabilities), else 0."""
    p = p.array if isinstance(p, Tensor) else p
    if not bool(xp.all((xp.asarray(p) >= 0) & (xp.asarray(p) <= 1))):
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill(self, "bernoulli_()", lambda g, shape: g.random(shape) < p)


def exponential_(self, lambd=1.0):
    """Fill with samples of the exponential distribution with rate ``lambd``."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(self, "exponential_()", lambda g, shape: g.exponential(1.0 / lambd, shape))


def random_(self, low=0, high=None):
    """Fill with integers drawn uniformly from [low, high) (``random_(high)`` means [0, high))."""
    if high is None:
        if low == 0:
            raise NotImplementedError("random_(): give the upper bound, random_(high) or random_(low, high)")
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _fill(self, "random_()", lambda g, shape: g.integers(low, high, size=shape))


# ---- new tensors with this tensor's dtype (torch's new_* factories) -------------------------------------


def _size(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def new_zeros(self, *size, dtype=None, requires_grad=False):
    return Tensor(xp.zeros(_size(size), dtype=dtype or self.dtype), requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, requires_grad=False):
    return Tensor(xp.ones(_size(size), dtype=dtype or self.dtype), requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, requires_grad=False):
    """Uninitialised in torch; zeros here (a value that never surprises)."""
    return new_zeros(self, *size, dtype=dtype, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, requires_grad=False):
    return Tensor(xp.full(_size((size,)), fill_value, dtype=dtype or self.dtype), requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, requires_grad=False):
    """A copy of ``data`` with this tensor's dtype unless ``dtype`` says otherwise."""
    array = as_array(data, dtype or self.dtype)
    return Tensor(array.copy(), requires_grad=requires_grad)


for _fn in (repeat, numel, nelement, element_size, is_floating_point, detach_, normal_, uniform_, bernoulli_,
            exponential_, random_, new_zeros, new_ones, new_empty, new_full, new_tensor):
    setattr(Tensor, _fn.__name__, _fn)


def __format__(self, spec):
    """``f"{loss:.4f}"`` formats a one-element tensor's value, as torch does; other tensors format as str."""
    if self.ndim == 0:
        return format(self.item(), spec)
    return object.__format__(self, spec)


def swapaxes(self, axis0, axis1):
    """``transpose(axis0, axis1)`` under NumPy's name (torch has both, and ``swapdims``)."""
    return self.transpose(axis0, axis1)


def movedim(self, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or sequences), keeping the others in order."""
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({source} dims) should contain the same number "
            f"of dims as destination ({destination} dims)"
        )
    source = [dim(s, self.ndim, "movedim") for s in source]
    destination = [dim(d, self.ndim, "movedim") for d in destination]
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise RuntimeError(f"movedim: repeated dim in source ({source}) or destination ({destination})")
    order = [d for d in range(self.ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return self.permute(*order)


def type_as(self, other):
    """This tensor converted to ``other``'s dtype."""
    return self.to(other.dtype)


def reshape_as(self, other):
    return self.reshape(other.shape)


def is_contiguous(self, memory_format=None):
    return bool(self.array.flags.c_contiguous)


def ndimension(self):
    return self.ndim


for _fn in (__format__, swapaxes, movedim, type_as, reshape_as, is_contiguous, ndimension):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.swapdims = Tensor.swapaxes
Tensor.moveaxis = Tensor.movedim


# ---- gradient hooks -----------------------------------------------------------------------------------------


def register_hook(self, hook):
    """Call ``hook(grad)`` whenever this tensor's gradient is computed; a returned tensor replaces the
    gradient. Returns a handle whose ``remove()`` unregisters it (see ``ember.autograd.hooks``)."""
    from .autograd.hooks import register_hook as _register

    return _register(self, hook)


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(self)`` once a backward pass has accumulated this leaf's whole gradient into ``.grad``."""
    from .autograd.hooks import register_post_accumulate_grad_hook as _register

    return _register(self, hook)


def _retains_grad(self):
    """True for a non-leaf tensor on which ``retain_grad()`` was called (always False for a leaf)."""
    if self._ctx is None:
        return False
    ref = getattr(self._ctx, "retained", {}).get(self._out_index)
    return ref is not None and ref() is self


Tensor.register_hook = register_hook
Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
Tensor.retains_grad = property(_retains_grad)

# More of torch.Tensor's methods (index writes, statistics, linear algebra, in-place variants, properties).
from . import tensor_methods_more as _tensor_methods_more  # noqa: E402,F401


def __reversed__(self):
    """``reversed(t)`` is ``t.flip(0)`` (a Tensor, differentiable), as in torch; a 0-d tensor is returned as is.
    Without it Python would fall back to a lazy ``reversed`` iterator, and code such as d2l's bidirectional RNN,
    which passes ``reversed(inputs)`` on as a tensor, would break."""
    if self.ndim == 0:
        return self
    return self.flip(0)


Tensor.__reversed__ = __reversed__
