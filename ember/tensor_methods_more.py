"""More of ``torch.Tensor``'s methods, attached to ``ember.Tensor``: the index writes (index_add, scatter_add,
...), order statistics, the extra element-wise maths, splits and rotations, the linear-algebra shortcuts,
random draws, the small properties (``is_cpu``, ``itemsize``, ``stride()``, ``mT``, ...), the dtype
conversions and the in-place variants. Each is a call into ``ember.ops`` or ``ember.linalg``.
"""

from . import linalg
from . import ops
from .autograd.grad_mode import is_grad_enabled
from .backend import xp
from .ops import assemble, contract, index_more, pointwise_more, sampling, statistics
from .tensor import Tensor
from .tensor_methods import _inplace_method, _update

# x.name(*args) is module.name(x, *args) for each of these.
DELEGATED = {
    index_more: "index_add index_copy index_fill index_put masked_select masked_scatter take take_along_dim "
                "scatter_add scatter_reduce put select argwhere index_reduce select_scatter slice_scatter "
                "diagonal_scatter",
    statistics: "median nanmedian mode kthvalue quantile nanquantile nansum nanmean cummax cummin logcumsumexp "
                "aminmax bincount histc histogram unique unique_consecutive diff cov corrcoef",
    pointwise_more: "fmod hypot logaddexp logaddexp2 xlogy sinc logit copysign asinh acosh atanh nan_to_num lgamma "
                    "digamma erfinv i0 signbit heaviside fmax fmin lerp addcmul addcdiv float_power deg2rad rad2deg "
                    "positive clamp_min clamp_max kron bitwise_and bitwise_or bitwise_xor bitwise_not "
                    "bitwise_left_shift bitwise_right_shift gcd lcm ldexp frexp nextafter",
    assemble: "broadcast_to ravel unflatten tensor_split hsplit vsplit dsplit rot90",
    contract: "trace cross",
    sampling: "multinomial bernoulli",
    ops.linalg: "addmv addr baddbmm addbmm",
}


def _delegate(module, name):
    op = getattr(module, name)

    def method(self, *args, **kwargs):
        return op(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``ember.{name}(self, ...)``: see ``{module.__name__}.{name}``."
    return method


for _module, _names in DELEGATED.items():
    for _name in _names.split():
        setattr(Tensor, _name, _delegate(_module, _name))

Tensor.arcsinh, Tensor.arccosh, Tensor.arctanh = Tensor.asinh, Tensor.acosh, Tensor.atanh


def bernoulli(self, p=None, *, generator=None):
    """0/1 draws with probability ``p`` (self's values when not given)."""
    return sampling.bernoulli(self, p, generator=generator)


def det(self):
    return linalg.det(self)


def inverse(self):
    return linalg.inv(self)


def pinverse(self, rcond=1e-15):
    return linalg.pinv(self, rtol=rcond)


def logdet(self):
    """log det A (nan for a negative determinant, -inf for a zero one)."""
    sign, logabs = linalg.slogdet(self)
    return ops.where(Tensor(sign.array < 0), Tensor(xp.asarray(xp.nan, dtype=self.dtype)), logabs)


def slogdet(self):
    return linalg.slogdet(self)


def matrix_power(self, n):
    return linalg.matrix_power(self, n)


def renorm(self, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    axis = dim % self.ndim
    others = tuple(d for d in range(self.ndim) if d != axis)
    norms = ops.reduce.norm(self, p, others, keepdim=True)
    shrink = ops.div(maxnorm, ops.add(norms, 1e-7))  # the gradient flows through the norm, as in torch
    scale = ops.where(Tensor(norms.array > maxnorm), shrink, Tensor(xp.ones((), dtype=self.dtype)))
    return ops.mul(self, scale)


def as_strided(self, size, stride, storage_offset=0):
    from .factories_more import as_strided as _as_strided

    return _as_strided(self, size, stride, storage_offset)


def matrix_exp(self):
    return linalg.matrix_exp(self)


def dist(self, other, p=2):
    """The p-norm of self - other."""
    return ops.reduce.norm(ops.sub(self, other), p)


def unfold(self, dimension, size, step):
    """Every window of ``size`` elements along ``dimension``, ``step`` apart; the windows' elements become a
    new last dim: (..., n_windows, ..., size)."""
    axis = dimension % self.ndim if self.ndim else 0
    n = self.shape[axis] if self.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {dimension} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    windows = (n - size) // step + 1
    index = xp.arange(windows)[:, None] * step + xp.arange(size)[None, :]  # (windows, size)
    picked = ops.getitem(self, (slice(None),) * axis + (index,))  # (..., windows, size, ...)
    return picked.movedim(axis + 1, -1) if self.ndim else picked


def sum_to_size(self, *size):
    """The sum of this tensor down to ``size`` (the inverse of broadcasting to this tensor's shape)."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    extra = self.ndim - len(size)
    axes = list(range(extra)) + [extra + i for i, n in enumerate(size) if n == 1 and self.shape[extra + i] != 1]
    out = ops.sum(self, tuple(axes), keepdim=True) if axes else self
    return ops.reshape(out, size)


def msort(self):
    return ops.sort(self, 0).values


def apply_(self, callable):
    """Replace every element by ``callable(element)`` (a Python loop: slow, CPU only, as in torch)."""
    self._check_inplace("apply_()")
    flat = self.array.reshape(-1)
    for i, v in enumerate(flat.tolist()):
        flat[i] = callable(v)
    self._bump_version()
    return self


def fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal (all dims of equal length, or a tall matrix with ``wrap``)."""
    self._check_inplace("fill_diagonal_()")
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp.fill_diagonal(self.array, fill_value, wrap=wrap)
    self._bump_version()
    return self


def _returns_self(self, *args, **kwargs):
    return self


def _shape_inplace(name, op):
    """In-place shape changes (squeeze_, t_, ...): the tensor takes the new shape (a new node in a graph)."""

    def method(self, *args, **kwargs):
        if self._ctx is None:
            self._check_inplace(f"{name}()")
        result = op(self, *args, **kwargs)
        if result.requires_grad and is_grad_enabled():
            self.array, self._ctx, self._out_index, self._requires_grad = (
                result.array, result._ctx, result._out_index, True)
        else:
            self.array = result.array
        return self

    method.__name__ = method.__qualname__ = name
    return method


for _fn in (bernoulli, det, inverse, pinverse, logdet, slogdet, matrix_power, matrix_exp, renorm, as_strided, dist, unfold, sum_to_size, msort,
            apply_, fill_diagonal_):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.pin_memory = _returns_self


def share_memory_(self):
    """Move this tensor's data into memory shared between processes (torch's ``share_memory_``; in place).

    A child process, forked or spawned, that receives the tensor maps the same memory, so an in-place update
    there (an optimizer step) is seen here. Tensors that already shared this tensor's array keep the old one.
    """
    from .multiprocessing.shared_array import SharedArray, share, shareable
    if shareable(self.array) and not isinstance(self.array, SharedArray):  # device (CuPy) memory: as torch, a no-op
        self.array = share(self.array)
    return self


def is_shared(self):
    """Whether the data is in memory shared between processes (after ``share_memory_()``)."""
    from .multiprocessing.shared_array import SharedArray
    return isinstance(self.array, SharedArray)


Tensor.share_memory_, Tensor.is_shared = share_memory_, is_shared
Tensor.squeeze_ = _shape_inplace("squeeze_", ops.squeeze)
Tensor.unsqueeze_ = _shape_inplace("unsqueeze_", ops.unsqueeze)
Tensor.t_ = _shape_inplace("t_", lambda x: x.t())
Tensor.transpose_ = _shape_inplace("transpose_", ops.transpose)
Tensor.swapaxes_ = Tensor.swapdims_ = _shape_inplace("swapaxes_", ops.transpose)


# ---- in-place variants: self = op(self, ...) written into the tensor ------------------------------------------

def _method(name):
    return lambda self, *args, **kwargs: getattr(Tensor, name)(self, *args, **kwargs)


INPLACE_MORE = """
    cosh sinh tan acos asin atan arccos arcsin arctan asinh acosh atanh arcsinh arccosh arctanh atan2 arctan2
    eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_not logical_and logical_or logical_xor
    cumsum cumprod absolute negative fmod hypot logit lgamma digamma erfinv i0 sgn frac fix log2 log10 exp2 erfc
    floor_divide true_divide multiply subtract xlogy copysign float_power deg2rad rad2deg sinc heaviside lerp addcmul
    addcdiv nan_to_num index_add index_fill index_copy index_put masked_scatter scatter_add scatter_reduce put
    addmm addmv addr baddbmm addbmm bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift
    bitwise_right_shift gcd lcm ldexp index_reduce renorm
""".split()
for _name in INPLACE_MORE:
    if hasattr(Tensor, _name) and not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _inplace_method(_name + "_", _method(_name)))


# ---- small properties --------------------------------------------------------------------------------------


def _stride(self, dim=None):
    """Elements (not bytes) to step in memory to the next index along each dim."""
    strides = tuple(s // self.array.itemsize for s in self.array.strides)
    return strides if dim is None else strides[dim]


def _storage_offset(self):
    """Elements between the start of the memory this tensor views and its first element."""
    base = self.array
    while isinstance(base.base, xp.ndarray):
        base = base.base
    start = base.__array_interface__["data"][0] if hasattr(base, "__array_interface__") else 0
    here = self.array.__array_interface__["data"][0] if hasattr(self.array, "__array_interface__") else 0
    return (here - start) // self.array.itemsize


def _data_ptr(self):
    """The address of the first element (``array.ctypes.data`` for NumPy)."""
    array = self.array
    return array.__array_interface__["data"][0] if hasattr(array, "__array_interface__") else int(array.data.ptr)


def _matrix_transpose(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
    return ops.transpose(self, -2, -1)


def _adjoint(self):
    if self.ndim != 2 and self.ndim != 0:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
    return ops.transpose(self, 0, 1) if self.ndim == 2 else self


Tensor.stride = _stride
Tensor.storage_offset = _storage_offset
Tensor.data_ptr = _data_ptr
Tensor.mT = property(_matrix_transpose)
Tensor.mH = property(_matrix_transpose)  # real tensors: the conjugate transpose is the transpose
Tensor.H = property(_adjoint)
Tensor.is_cpu = property(lambda self: self.device.type == "cpu")
Tensor.itemsize = property(lambda self: self.array.itemsize)
Tensor.nbytes = property(lambda self: self.array.nbytes)
Tensor.is_sparse = Tensor.is_quantized = Tensor.is_meta = property(lambda self: False)
Tensor.is_signed = lambda self: self.array.dtype.kind in "if"
Tensor.is_complex = lambda self: self.array.dtype.kind == "c"


# ---- dtype conversions ------------------------------------------------------------------------------------------

Tensor.half = lambda self, memory_format=None: self.to(xp.float16)
Tensor.byte = lambda self, memory_format=None: self.to(xp.uint8)
Tensor.char = lambda self, memory_format=None: self.to(xp.int8)
Tensor.short = lambda self, memory_format=None: self.to(xp.int16)


def _bfloat16(self, memory_format=None):
    raise TypeError("bfloat16 is not available: Ember stores tensors in NumPy arrays, and NumPy has no bfloat16 "
                    "dtype. Use .half() (float16) or .float() (float32) instead.")


Tensor.bfloat16 = _bfloat16
