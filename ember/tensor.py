"""Tensor: an n-dimensional array that remembers how it was computed.

A Tensor holds an array (``.array``), and, when it was produced by a differentiable operation on inputs
that need gradients, the context of that operation (``._ctx``): a node of the computational graph.
``loss.backward()`` walks those nodes backwards and leaves d(loss)/d(leaf) in every leaf's ``.grad``.

Every method below is one line that calls an op from ``ember.ops``; the maths lives there.
"""

from .autograd import engine, version
from .autograd.grad_mode import is_grad_enabled
from . import backend
from . import devices as _device
from .conversion import TYPE_NAMES, dtype_of_type_name, numeric_array, parse_to
from .backend import xp
from .size import Size


def as_array(data, dtype=None):
    """The array behind ``ember.tensor(data)``: arrays keep their dtype, Python floats (and lists of them)
    become float32, Python ints int64, bools bool; ``dtype`` overrides."""
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_tensors_to_arrays(data)
    if backend.is_device_array(data):  # a CuPy array stays on its GPU
        array = data
    elif isinstance(data, (xp.ndarray, xp.generic)):
        array = numeric_array(data)
    else:
        array = numeric_array(data)
        if array.dtype.kind == "f" and dtype is None:  # (a dtype asked for is applied directly, below)
            array = array.astype(backend.default_dtype)
        elif array.dtype.kind in "iu":
            array = array.astype(xp.int64)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


_NO_DATA = object()  # Tensor() without arguments


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _nested_tensors_to_arrays(data):
    return [_nested_tensors_to_arrays(d) if isinstance(d, (list, tuple)) else getattr(d, "array", d) for d in data]


class Tensor:
    """An array with a gradient: ``array``, ``grad``, ``requires_grad`` and the node that made it.

    ``array`` is the NumPy (or CuPy) array itself. ``data`` is PyTorch's view of the same storage: a Tensor
    detached from the graph, so ``p.data.add_(-lr * p.grad)`` updates ``p`` without being recorded, and
    ``p.data = other`` swaps the array behind ``p``.
    """

    __slots__ = ("array", "grad", "_requires_grad", "_ctx", "_out_index", "_hooks", "_post_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy_array + tensor calls Tensor.__radd__ instead of converting the tensor

    def __init__(self, data=_NO_DATA, *sizes, dtype=None, requires_grad=False):
        if type(data) is xp.ndarray and dtype is None and not sizes:
            self.array = data  # the fast path every operation takes: wrap the array as it is
        elif data is _NO_DATA or sizes or isinstance(data, Size) or (isinstance(data, int) and not isinstance(data, bool)):
            # torch.Tensor(2, 3) / torch.Tensor(size): a float tensor of that shape (uninitialised in torch,
            # zeros here); torch.Tensor() is empty.
            shape = (0,) if data is _NO_DATA else tuple(data) if isinstance(data, Size) else (data, *sizes)
            self.array = xp.zeros(shape, dtype=dtype or backend.default_dtype)
        elif (isinstance(data, (list, tuple)) or type(data) is float) and dtype is None:
            self.array = as_array(data, backend.default_dtype)  # torch.Tensor([1, 2]) is a float tensor
        else:
            self.array = as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _from_function(cls, data, ctx, index):
        t = cls.__new__(cls)
        t.array, t.grad, t._ctx, t._out_index, t._requires_grad = data, None, ctx, index, True
        return t

    # ---- autograd ---------------------------------------------------------------------------------------

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, and this one is {self.dtype}; "
                "convert it first with .float()"
            )
        if not flag and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use .detach() instead")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor with respect to every leaf that requires grad (or only
        ``inputs``). ``create_graph=True`` (higher-order gradients) is not available."""
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): Ember's backward runs on arrays and records no graph of the "
                "gradient computation, so higher-order gradients are not available"
            )
        if isinstance(gradient, Tensor):
            gradient = gradient.array
        engine.backward(self, gradient, bool(retain_graph), inputs)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            engine.retain_grad(self)

    def _accumulate_grad(self, grad):
        if self.grad is None:
            self.grad = Tensor(grad)
            return
        held = self.grad.array
        if (backend.writeable(held) and held.shape == grad.shape and held.dtype == grad.dtype
                and not xp.may_share_memory(held, grad)):
            # As torch's AccumulateGrad: the existing .grad is added to in place (no new buffer per backward).
            xp.add(held, grad, out=held)
            self.grad._bump_version()
        else:
            self.grad = Tensor(held + grad)

    @property
    def data(self):
        """A Tensor on the same storage, cut from the graph (``torch.Tensor.data``)."""
        return Tensor(self.array)

    @data.setter
    def data(self, value):
        value = value.array if isinstance(value, Tensor) else as_array(value)
        self.array = value

    def detach(self):
        """The same data, cut from the graph (shares memory, like torch)."""
        return Tensor(self.array)

    # ---- data access ------------------------------------------------------------------------------------

    @property
    def shape(self):
        return tuple.__new__(Size, self.array.shape)  # no per-element check: NumPy shapes are ints

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self):
        return self.array.ndim

    def dim(self):
        return self.array.ndim

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self.array.shape)  # no per-element check: NumPy shapes are ints
        if not -self.ndim <= dim < self.ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-self.ndim}, {self.ndim - 1}], but got {dim})"
            )
        return self.array.shape[dim]

    def numel(self):
        return self.array.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"item(): only one-element tensors can be converted, this one has {self.array.size}")
        return self.array.item()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy().")
        return backend.to_host(self.array)

    def tolist(self):
        return self.array.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.numpy() if dtype is None else self.numpy().astype(dtype)

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def _scalar(self):
        if self.array.size != 1:  # torch raises ValueError here (item() raises RuntimeError)
            raise ValueError(f"only one element tensors can be converted to Python scalars, not {self.array.size}")
        return self.array.item()

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.array.size} values is ambiguous")
        return bool(self.array.item())

    __hash__ = object.__hash__  # comparisons are element-wise, so hash by identity as torch does

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        from ._tensor_str import add_suffixes, format_values

        body = format_values(self.array)
        extras = []
        if self.dtype not in (backend.default_dtype, xp.int64, xp.bool_):
            extras.append(f"dtype=ember.{self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return add_suffixes("tensor(" + body, extras)

    # ---- device, dtype and copies ------------------------------------------------------------------------

    @property
    def device(self):
        """Where the array lives: ``device(type='cpu')`` for NumPy, ``device(type='cuda', index=n)`` for CuPy."""
        return _device.of(self.array)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def get_device(self):
        """The GPU number for a cuda tensor, -1 for a cpu one (``torch.Tensor.get_device``)."""
        where = self.device
        return -1 if where.type == "cpu" else where.index

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def element_size(self):
        """Bytes per element (4 for float32)."""
        return self.array.itemsize

    def to(self, *args, **kwargs):
        """This tensor on another device and/or with another dtype (``torch.Tensor.to``).

        ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` (its device and dtype),
        with keywords ``device=``, ``dtype=``, ``non_blocking=``, ``copy=``. Returns ``self`` when nothing
        changes, unless ``copy=True``. Gradients flow back through both changes, in the original dtype
        and to the original device.
        """
        where, dtype, _, copy = parse_to("Tensor.to", args, kwargs)
        requested = None if where is None else _device.device(where)
        if requested is not None and requested.type == "cpu" and requested.index is not None:
            copy = True  # torch copies for 'cpu:0': a cpu tensor's device has no index, so the two differ
        where = _device.placement(requested)
        out = self
        if dtype is not None and dtype != self.dtype:
            out = _ops.cast(out, dtype)
        if where is not None and where != self.device:
            from .ops.transfer import to_device

            out = to_device(out, where)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self, memory_format=None):
        """This tensor in host memory (``self`` when it is there already)."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """This tensor on GPU ``device`` (the current one when None): needs CuPy and a GPU."""
        return self.to(_device.cuda_target(device))

    def type(self, dtype=None, non_blocking=False):
        """Without an argument, the type name ('ember.FloatTensor'); with a dtype (or a name such as
        'torch.DoubleTensor'), this tensor converted to it (``self`` when it already has it)."""
        if dtype is None:
            return f"ember.{TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
        if isinstance(dtype, str):
            dtype = dtype_of_type_name(dtype)
        return self.to(xp.dtype(dtype))

    def float(self):
        return self.to(xp.float32)

    def double(self):
        return self.to(xp.float64)

    def long(self):
        return self.to(xp.int64)

    def int(self):
        return self.to(xp.int32)

    def bool(self):
        return self.to(xp.bool_)

    def clone(self):
        return _ops.mul(self, 1) if self.requires_grad else Tensor(self.array.copy())

    def contiguous(self):
        return self

    # ---- in-place updates (on data that is not part of a graph) -----------------------------------------

    @property
    def _version(self):
        """How many in-place writes this tensor's storage (shared with its views) has had."""
        return version.current(self.array)

    def _bump_version(self):
        version.bump(self.array)

    def _check_inplace(self, what):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{what}: a leaf Variable that requires grad is being used in an in-place operation; wrap "
                "the update in `with ember.no_grad():` (or change it out of place: w = w + 1)"
            )

    def zero_(self):
        self._check_inplace("zero_()")
        self.array[...] = 0
        self._bump_version()
        return self

    def fill_(self, value):
        self._check_inplace("fill_()")
        self.array[...] = value
        self._bump_version()
        return self

    def copy_(self, src):
        self._check_inplace("copy_()")
        self.array[...] = src.array if isinstance(src, Tensor) else src
        self._bump_version()
        return self

    def __setitem__(self, index, value):
        if is_grad_enabled() and (self._ctx is not None or (isinstance(value, Tensor) and value.requires_grad)):
            # A write into a graph (``scores[~mask] = -1e6`` in a masked softmax) is recorded like torch's
            # index_put_: this tensor becomes the new node, its old value the node's input.
            from .tensor_methods import _update
            _update(self, _ops.shape.setitem_op, index, value, what="tensor[index] = value")
            return
        self._check_inplace("tensor[index] = value")
        _ops.shape.setitem(self.array, index, value.array if isinstance(value, Tensor) else value)
        self._bump_version()

    def _inplace(self, op, other, what):
        """``self op= other``. Without a graph to record (an SGD step ``w -= lr * w.grad`` under no_grad, a
        running statistic) the result is written into ``self.array``, so every name for this tensor sees it.
        When the result joins a graph it is a new node instead, and Python binds the name to it."""
        if self._ctx is None:
            self._check_inplace(f"{what} on a leaf")
        result = op(self, other)
        if result.requires_grad:
            return result
        if not xp.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise RuntimeError(f"{what}: result type {result.dtype} can't be cast to this tensor's dtype {self.dtype}")
        if result.shape != self.shape:
            raise RuntimeError(
                f"{what}: output with shape {tuple(self.shape)} doesn't match the broadcast shape {tuple(result.shape)}"
            )
        self.array[...] = result.array
        self._bump_version()
        return self

    def __iadd__(self, other):
        return self._inplace(_ops.add, other, "+=")

    def __isub__(self, other):
        return self._inplace(_ops.sub, other, "-=")

    def __imul__(self, other):
        return self._inplace(_ops.mul, other, "*=")

    def __itruediv__(self, other):
        return self._inplace(_ops.div, other, "/=")

    # ---- arithmetic (NumPy broadcasting; comparisons give bool tensors without grad) ---------------------

    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(_as_tensor(other), self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def _compare(self, other, op):
        other = other.array if isinstance(other, Tensor) else other
        return Tensor(op(self.array, other))

    def __lt__(self, other):
        return self._compare(other, xp.less)

    def __le__(self, other):
        return self._compare(other, xp.less_equal)

    def __gt__(self, other):
        return self._compare(other, xp.greater)

    def __ge__(self, other):
        return self._compare(other, xp.greater_equal)

    def __eq__(self, other):
        return self._compare(other, xp.equal)

    def __ne__(self, other):
        return self._compare(other, xp.not_equal)

    def __invert__(self):
        return Tensor(~self.array)

    def __and__(self, other):
        return self._compare(other, xp.logical_and)

    def __or__(self, other):
        return self._compare(other, xp.logical_or)

    # ---- methods: element-wise (the one-line delegations, x.exp() is ember.exp(x), are in tensor_methods.py)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    # ---- methods: reductions --------------------------------------------------------------------------

    # Each takes torch's arguments (dim, keepdim, dtype=, ...) and NumPy's names for them (axis=, keepdims=).

    def sum(self, *args, **kwargs):
        return _ops.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return _ops.mean(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return _ops.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return _ops.min(self, *args, **kwargs)

    def amax(self, *args, **kwargs):
        return _ops.amax(self, *args, **kwargs)

    def amin(self, *args, **kwargs):
        return _ops.amin(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return _ops.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return _ops.std(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return _ops.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return _ops.argmin(self, *args, **kwargs)

    # ---- methods: shape -------------------------------------------------------------------------------

    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def view(self, *shape):
        return _ops.reshape(self, *shape)

    def view_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    def t(self):
        return _ops.transpose(self, 0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        return _ops.permute(self, *reversed(range(self.ndim))) if self.ndim > 1 else self

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    def squeeze(self, *args, **kwargs):
        return _ops.squeeze(self, *args, **kwargs)

    def unsqueeze(self, *args, **kwargs):
        return _ops.unsqueeze(self, *args, **kwargs)

    def expand(self, *shape):
        return _ops.expand(self, *shape)

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def matmul(self, other):
        return _ops.matmul(self, other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor(as_array(value))


# The ops are written on top of Tensor, so they are imported after it (tensor methods call them).
from . import ops as _ops  # noqa: E402

# The rest of torch.Tensor's methods (maths, comparisons, indexing, in-place updates, new_* factories) are
# calls into the ops as well; they are attached from tensor_methods.py so that this file stays readable.
from . import tensor_methods as _tensor_methods  # noqa: E402,F401
