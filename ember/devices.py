"""Where a tensor's memory lives: ``ember.device``, PyTorch's ``torch.device``.

A device is a type and an optional index: ``device('cpu')``, ``device('cuda')`` (the current GPU),
``device('cuda:1')`` or ``device('cuda', 1)``. Ember keeps a tensor's array in NumPy on the host (the
``cpu`` device) or in CuPy on an NVIDIA GPU (``cuda:n``); the tensor's device is read from its array.

The ops of a process run on one array module, ``ember.backend.xp``: NumPy by default, CuPy with
``EMBER_BACKEND=cupy``. So 'cuda' is usable only on the CuPy backend (see ``backend.cupy``), and there an
op's results are CuPy arrays whatever device its inputs were moved to, so there ``.cpu()`` and
``device='cpu'`` leave tensors on the GPU, and the host is reached through ``.numpy()``, ``.tolist()``
and ``.item()``, which copy.

Every device type torch knows can be *named* (``device('mps')`` parses, as in torch), but only ``cpu`` and
``cuda`` can hold tensors: ``placement`` says which device a factory or ``.to()`` puts its result on, and
raises torch's error for the others: ``AssertionError`` "not compiled with CUDA enabled" for cuda without
a usable GPU, ``RuntimeError`` for the device types Ember has no arrays for.

Tested on CPU-only machines, against a CPU build of torch. The cuda paths are tested against a stand-in
CuPy (NumPy arrays tagged with a GPU number, tests/test_device_plumbing.py), not on a GPU; they call
CuPy's documented API: ``cupy.asarray`` under ``cupy.cuda.Device(n)``, and ``ndarray.get()`` back.
"""

import re

from . import backend

#: the device types torch parses, in the order its error message lists them
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")
_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


class device:
    """A device type and optional index, compared and hashed by both (``torch.device``).

    ``device('cuda') != device('cuda:0')``: the first means "the current GPU", as in torch.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002 (torch's keyword names are type= and index=)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): pass either a device or a type and an index, not a device and an index")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):  # device(0): the accelerator's device 0
            if backend.cupy() is None:
                raise RuntimeError(_NO_ACCELERATOR)
            type, index = "cuda", _check_index(type, "index")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device string such as 'cpu' or 'cuda:0', a device or an int, "
                            f"got {type.__class__.__name__}")
        match = _DEVICE_STRING.fullmatch(type)
        if match is None:
            raise RuntimeError(f"Invalid device string: '{type}'")
        name, string_index = match.groups()
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
                               f"{type}")
        if string_index is not None and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
        self._type = name
        self._index = int(string_index) if string_index is not None else _check_index(index, "index")

    @property
    def type(self):
        """The device type: ``'cpu'``, ``'cuda'``, ..."""
        return self._type

    @property
    def index(self):
        """The device's number among its type, or ``None`` for "the current one"."""
        return self._index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented  # so device('cpu') == 'cpu' is False, as in torch
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __reduce__(self):
        return device, (str(self),)


def _check_index(index, name):
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"device(): argument '{name}' (position 2) must be int, not {index.__class__.__name__}")
    if index < 0:
        raise RuntimeError("Device index must not be negative")
    return index


CPU = device("cpu")


def of(array):
    """The device holding ``array``: ``cpu`` for a NumPy array, ``cuda:n`` for a CuPy array on GPU n."""
    kind, index = backend.array_device(array)
    return CPU if kind == "cpu" else device(kind, index)


def _cuda_error():
    reason = backend.cuda_unavailable_reason()
    return AssertionError(
        f"Ember not compiled with CUDA enabled: the cuda device needs CuPy and an NVIDIA GPU ({reason}). "
        "Install CuPy for your CUDA version (pip install cupy-cuda12x), or keep to device='cpu' "
        "(pick it with `'cuda' if ember.cuda.is_available() else 'cpu'`)"
    )


def cuda_target(where):
    """The device that ``.cuda(device)`` names: the current GPU for None, ``cuda:n`` for n or a device."""
    if where is None:
        return device("cuda")
    where = where if isinstance(where, device) else device(where)  # device(n) is the accelerator's nth
    if where.type != "cuda":
        raise RuntimeError(f"Invalid device, must be cuda device, got {where}")
    return where


def placement(where):
    """The device a tensor is to be put on, checked: ``None`` (leave it where it is) stays ``None``; ``cpu``
    (any index: there is one host) is ``device('cpu')``, or ``None`` on the CuPy backend (see above);
    ``cuda`` gets its index (the current GPU when none is given) and raises torch's ``AssertionError``
    without CuPy; other device types raise."""
    if where is None:
        return None
    where = where if isinstance(where, device) else device(where)
    if where.type == "cpu":
        # On the CuPy backend every op makes GPU arrays, so a host copy would go straight back: leave it.
        return CPU if backend.xp is backend.host else None
    if where.type == "cuda":
        module = backend.cupy()
        if module is None:
            raise _cuda_error()
        if where.index is None:
            return device("cuda", int(module.cuda.runtime.getDevice()))
        count = module.cuda.runtime.getDeviceCount()
        if where.index >= count:
            raise RuntimeError(f"CUDA error: invalid device ordinal: asked for cuda:{where.index}, "
                               f"and there {'is' if count == 1 else 'are'} {count} GPU(s) (cuda:0..cuda:{count - 1})")
        return where
    raise RuntimeError(f"Ember is not linked with support for {where.type} devices: it keeps tensors on 'cpu' "
                       "(NumPy) and, with CuPy, on 'cuda'")


def move(array, where):
    """``array`` on the checked device ``where`` (from ``placement``): the same array when it is there."""
    return array if where is None else backend.move(array, where.type, where.index)


# ---- the default device of the factories (torch.set_default_device) ------------------------------------

_default_device = None


def set_default_device(where):
    """Make ``where`` the device the factories (``zeros``, ``rand``, ``tensor``...) put tensors on when they
    are given no ``device=``; ``None`` goes back to torch's default, the cpu (``torch.set_default_device``)."""
    global _default_device
    if where is None:
        _default_device = None
        return
    where = where if isinstance(where, device) else device(where)
    placement(where)  # refuse a device that cannot hold tensors now, with torch's error
    _default_device = where


def get_default_device():
    """The device factories use when given none: ``device(type='cpu')`` unless ``set_default_device`` chose."""
    return _default_device if _default_device is not None else CPU


def factory_device(where):
    """``where`` for a factory: the default device (see ``set_default_device``) when it is ``None``."""
    return _default_device if where is None else where
