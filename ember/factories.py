"""Tensor factories with PyTorch's names, signatures and defaults.

Every factory takes torch's keywords: ``dtype`` (the default dtype, float32 unless
``ember.set_default_dtype`` says otherwise, for floating results), ``device`` ('cpu', or 'cuda' with CuPy),
``requires_grad``, and ``layout``/``pin_memory``/``memory_format``/``out`` where torch has them. Sizes are
given as ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` or ``zeros(size=(2, 3))``.

Values are made on the host by NumPy (``xp``) and moved to the device asked for; random ones come from the
generator ``ember.manual_seed`` seeds, or from the ``generator=`` given (an ``ember.Generator``).
"""

import operator

from . import backend
from .backend import xp
from .devices import factory_device, move, of, placement
from .conversion import numeric_array
from .layouts import check_layout, check_memory_format
from .random import as_numpy_generator
from .tensor import Tensor, as_array


# ---- shared argument handling ---------------------------------------------------------------------------


def _size(dims, size, name):
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``, checked as torch does."""
    if size is not None:
        if dims:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        dims = (size,)
    if not dims:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    shape = []
    for position, d in enumerate(dims, 1):
        try:
            shape.append(operator.index(d))
        except TypeError:
            raise TypeError(f"{name}(): argument 'size' (position {position}) must be tuple of ints, "
                            f"not {type(d).__name__}") from None
    if any(d < 0 for d in shape):
        raise RuntimeError(f"{name}: Dimension size must be non-negative, got size {tuple(shape)}")
    return tuple(shape)


def _dtype(dtype):
    return backend.default_dtype if dtype is None else xp.dtype(dtype)


def _float_dtype(dtype, name):
    dtype = _dtype(dtype)
    if dtype.kind != "f":  # uniform or normal samples cast to integers would be silently all zeros
        raise NotImplementedError(f"{name}(): needs a floating dtype, got {dtype}; for integers use ember.randint")
    return dtype


def _options(name, device, layout=None, pin_memory=False, memory_format=None):
    """Check the keywords that say where and how a result is stored; return the checked device."""
    check_layout(layout, f"{name}()")
    check_memory_format(memory_format, f"{name}()")
    where = placement(factory_device(device))
    if pin_memory and backend.cupy() is None:
        raise RuntimeError(f"{name}(): pin_memory=True requires a CUDA or other accelerator backend; no pinned "
                           "memory allocator is available on this system (drop pin_memory, or install CuPy)")
    return where


def _make(array, where, requires_grad, out=None, name=""):
    """The result tensor: ``array`` moved to ``where``, written into ``out`` when one is given."""
    array = move(array, where)
    if out is None:
        return Tensor(array, requires_grad=requires_grad)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.requires_grad:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad")
    if out.shape == array.shape:
        out.array[...] = array
    else:  # torch resizes out to the result's shape
        out.array = array.astype(out.dtype)
    return out


def _like(input, dtype, device, layout, memory_format, name):
    """(shape, dtype, device) of a ``*_like`` result: the input's unless told otherwise."""
    array = input.array if isinstance(input, Tensor) else input
    check_layout(layout, f"{name}()")
    check_memory_format(memory_format, f"{name}()")
    where = placement(device) if device is not None else of(array)
    return array.shape, array.dtype if dtype is None else xp.dtype(dtype), where


def _scalar(value):
    return value.item() if isinstance(value, Tensor) else value


# ---- from data --------------------------------------------------------------------------------------


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``. Arrays keep their dtype (as ``torch.tensor`` does); Python
    floats and lists of them become the default dtype, Python ints int64, bools bool; ``dtype`` overrides."""
    where = _options("tensor", device, pin_memory=pin_memory)
    array = as_array(data, dtype)
    if array is (data.array if isinstance(data, Tensor) else data):
        array = array.copy()
    return _make(array, where, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it can (``torch.as_tensor``): a tensor already of that
    dtype and device is returned as it is, a NumPy array of that dtype is wrapped without a copy."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    where = placement(factory_device(device))
    return Tensor(move(as_array(data, dtype), where))


def from_numpy(array):
    """A tensor sharing memory with ``array`` (no copy), keeping its dtype."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy(): expected an ndarray, got {type(array).__name__}")
    return Tensor(numeric_array(array))


# ---- filled with a constant -----------------------------------------------------------------------------


def zeros(*dims, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    where = _options("zeros", device, layout, pin_memory)
    return _make(xp.zeros(_size(dims, size, "zeros"), dtype=_dtype(dtype)), where, requires_grad, out, "zeros")


def ones(*dims, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    where = _options("ones", device, layout, pin_memory)
    return _make(xp.ones(_size(dims, size, "ones"), dtype=_dtype(dtype)), where, requires_grad, out, "ones")


def empty(*dims, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """Uninitialised memory of the given shape (whatever the allocator hands back): fill it before reading."""
    where = _options("empty", device, layout, pin_memory, memory_format)
    return _make(xp.empty(_size(dims, size, "empty"), dtype=_dtype(dtype)), where, requires_grad, out, "empty")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """``size`` filled with ``fill_value``; the dtype follows the value: bool, int64, or the default dtype."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}; "
                        f"write full(({size},), value)")
    where = _options("full", device, layout, pin_memory)
    fill_value = _scalar(fill_value)
    if dtype is None:
        dtype = xp.int64 if isinstance(fill_value, int) else backend.default_dtype
        dtype = xp.bool_ if isinstance(fill_value, bool) else dtype
    array = xp.full(_size((size,), None, "full"), fill_value, dtype=xp.dtype(dtype))
    return _make(array, where, requires_grad, out, "full")


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "zeros_like")
    return _make(xp.zeros(shape, dtype=dtype), where, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "ones_like")
    return _make(xp.ones(shape, dtype=dtype), where, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "empty_like")
    return _make(xp.empty(shape, dtype=dtype), where, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "full_like")
    return _make(xp.full(shape, _scalar(fill_value), dtype=dtype), where, requires_grad)


# ---- ranges -----------------------------------------------------------------------------------------


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """[start, end) in steps of ``step``, like ``torch.arange``: int64 when every argument is an int, the
    default dtype otherwise."""
    if end is None:
        start, end = 0, start
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and larger bound inconsistent with step sign: start={start}, "
                           f"end={end}, step={step}")
    where = _options("arange", device, layout)
    if dtype is None:
        integral = all(isinstance(v, int) or isinstance(v, xp.integer) for v in (start, end, step))
        dtype = xp.int64 if integral else backend.default_dtype
    return _make(xp.arange(start, end, step).astype(dtype), where, requires_grad, out, "arange")


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    where = _options("linspace", device, layout)
    (steps,) = _size((steps,), None, "linspace")  # torch: RuntimeError "number of steps must be non-negative"
    array = xp.linspace(_scalar(start), _scalar(end), steps).astype(_dtype(dtype))
    return _make(array, where, requires_grad, out, "linspace")


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The n x m identity (ones on the diagonal)."""
    where = _options("eye", device, layout)
    _size((n,) if m is None else (n, m), None, "eye")
    return _make(xp.eye(n, m, dtype=_dtype(dtype)), where, requires_grad, out, "eye")


# ---- random -----------------------------------------------------------------------------------------


def rand(*dims, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform on [0, 1), from the generator seeded by ``ember.manual_seed`` (or ``generator``)."""
    dtype = _float_dtype(dtype, "rand")
    where = _options("rand", device, layout, pin_memory)
    shape = _size(dims, size, "rand")
    data = xp.asarray(as_numpy_generator(generator).random(shape, dtype=xp.float64)).astype(dtype)
    return _make(data, where, requires_grad, out, "rand")


def randn(*dims, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal, from the generator seeded by ``ember.manual_seed`` (or ``generator``)."""
    dtype = _float_dtype(dtype, "randn")
    where = _options("randn", device, layout, pin_memory)
    shape = _size(dims, size, "randn")
    data = xp.asarray(as_numpy_generator(generator).standard_normal(shape)).astype(dtype)
    return _make(data, where, requires_grad, out, "randn")


def _integers(low, high, shape, generator, dtype):
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    data = xp.asarray(as_numpy_generator(generator).integers(low, high, size=shape))
    return data.astype(xp.int64 if dtype is None else xp.dtype(dtype))


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``; int64."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...) or randint(high=..., size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size' (write randint(high, (n,)) or "
                        "randint(low, high, (n,)))")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    where = _options("randint", device, layout, pin_memory)
    data = _integers(_scalar(low), _scalar(high), _size((size,), None, "randint"), generator, dtype)
    return _make(data, where, requires_grad, out, "randint")


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1 (int64)."""
    where = _options("randperm", device, layout, pin_memory)
    (n,) = _size((n,), None, "randperm")
    data = xp.asarray(as_numpy_generator(generator).permutation(n))
    return _make(data.astype(xp.int64 if dtype is None else xp.dtype(dtype)), where, requires_grad, out, "randperm")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """Normal samples ``mean + std * z``, z ~ N(0, 1) (``torch.normal``'s overloads):

    - ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, std=1.0)``, ``normal(mean, std_tensor)``:
      one sample per element, shaped like the (broadcast) tensors and of their dtype;
    - ``normal(mean, std, size)``: floats ``mean`` and ``std``, a tensor of shape ``size`` (default dtype).
    """
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors and size is not None:
        raise TypeError("normal(): size is only taken with float mean and std; a tensor mean or std gives the shape")
    if not tensors and size is None:
        raise TypeError("normal(): with float mean and std, give the shape: normal(mean, std, size)")
    std_array = std.array if isinstance(std, Tensor) else xp.asarray(std)
    if (std_array < 0).any():
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std_array.min()}")
    if tensors:
        dtype = tensors[0].dtype if dtype is None else xp.dtype(dtype)
        where = placement(device) if device is not None else of(tensors[0].array)
        mean_array = mean.array if isinstance(mean, Tensor) else mean
        shape = xp.broadcast_shapes(*(t.shape for t in tensors))
    else:
        dtype = _float_dtype(dtype, "normal")
        where = _options("normal", device, layout, pin_memory)
        mean_array, shape = mean, _size((size,), None, "normal")
    z = xp.asarray(as_numpy_generator(generator).standard_normal(shape))
    samples = backend.to_host(mean_array) + backend.to_host(std_array) * backend.to_host(z)
    return _make(xp.asarray(samples).astype(dtype), where, requires_grad, out, "normal")


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "rand_like")
    dtype = _float_dtype(dtype, "rand_like")
    data = xp.asarray(as_numpy_generator(generator).random(shape, dtype=xp.float64)).astype(dtype)
    return _make(data, where, requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "randn_like")
    dtype = _float_dtype(dtype, "randn_like")
    data = xp.asarray(as_numpy_generator(generator).standard_normal(shape)).astype(dtype)
    return _make(data, where, requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """Integers on [low, high) shaped like ``input`` and of its dtype: ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    shape, dtype, where = _like(input, dtype, device, layout, memory_format, "randint_like")
    return _make(_integers(_scalar(low), _scalar(high), shape, generator, dtype), where, requires_grad)
