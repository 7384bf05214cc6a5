"""``ember.cuda``: the NVIDIA GPU, through CuPy (``torch.cuda``'s everyday functions).

CUDA is available when CuPy imports and reports at least one GPU, and Ember's ops run on CuPy
(``EMBER_BACKEND=cupy``; see ``ember.backend.cupy`` for why). Otherwise the functions answer as a
CPU-only build of torch does: ``is_available()`` is False, ``device_count()`` 0, ``memory_allocated()`` 0,
seeding and ``empty_cache()`` do nothing, and the functions that need a GPU (``current_device()``,
``get_device_name()``, ``synchronize()``...) raise ``AssertionError`` "not compiled with CUDA enabled".

Random numbers are drawn on the host for every device (see ember.random), so there is no GPU generator
to seed: ``manual_seed``/``manual_seed_all`` here check the seed and leave the numbers to
``ember.manual_seed``, which seeds the draws for every device.

Tested on machines without CuPy or a GPU (the answers above, against CPU-only torch); the CuPy calls
(``cupy.cuda.runtime``, ``cupy.cuda.Device``, the default memory pool) follow CuPy's documented API.
"""

from . import backend
from .devices import _cuda_error, device as _device


def is_available():
    """Whether CuPy imports and sees at least one NVIDIA GPU."""
    return backend.cupy() is not None


def is_initialized():
    """Whether CUDA has been set up in this process (CuPy probed and usable)."""
    return backend._cupy["probed"] and backend._cupy["module"] is not None


def device_count():
    """The number of GPUs CuPy sees (0 without CuPy)."""
    module = backend.cupy()
    return 0 if module is None else int(module.cuda.runtime.getDeviceCount())


def _cupy():
    module = backend.cupy()
    if module is None:
        raise _cuda_error()
    return module


def _index(device):
    """The GPU number a ``device`` argument names (an int, 'cuda:n', a device, or None for the current)."""
    if device is None:
        return current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    device = _device(device)
    if device.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {device}")
    return current_device() if device.index is None else device.index


def current_device():
    """The number of the GPU that new cuda tensors go to."""
    return int(_cupy().cuda.runtime.getDevice())


def set_device(device):
    """Make GPU ``device`` the current one (a negative number does nothing, as in torch)."""
    if isinstance(device, int) and not isinstance(device, bool) and device < 0:
        return
    if not isinstance(device, int):
        device = _device(device)
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        device = device.index if device.index is not None else 0
    _cupy().cuda.Device(device).use()


def get_device_name(device=None):
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    name = _cupy().cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None):
    """The GPU's compute capability as ``(major, minor)``."""
    capability = str(_cupy().cuda.Device(_index(device)).compute_capability)  # '90' for sm_90
    return int(capability[:-1]), int(capability[-1])


def synchronize(device=None):
    """Wait until every kernel queued on the GPU has finished (time GPU work only after this)."""
    module = _cupy()
    with module.cuda.Device(_index(device)):
        module.cuda.runtime.deviceSynchronize()


def manual_seed(seed):
    """Check the seed; GPU tensors' random numbers come from the host generator, seeded by
    ``ember.manual_seed`` (see the module's docstring)."""
    int(seed)


def manual_seed_all(seed):
    int(seed)


def seed():
    """Nothing to seed on the GPU (see ``manual_seed``)."""


def seed_all():
    """Nothing to seed on the GPU (see ``manual_seed``)."""


def empty_cache():
    """Give the blocks CuPy's memory pool keeps for reuse back to the driver (nothing without a GPU)."""
    module = backend.cupy()
    if module is not None:
        module.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes held by live GPU arrays (CuPy's default memory pool; 0 without a GPU)."""
    module = backend.cupy()
    if module is None:
        return 0
    with module.cuda.Device(_index(device)):
        return int(module.get_default_memory_pool().used_bytes())


def memory_reserved(device=None):
    """Bytes CuPy's memory pool holds, in use or cached for reuse (0 without a GPU)."""
    module = backend.cupy()
    if module is None:
        return 0
    with module.cuda.Device(_index(device)):
        return int(module.get_default_memory_pool().total_bytes())
