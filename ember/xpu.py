"""``ember.xpu`` (``torch.xpu``): Intel GPUs, which Ember does not support, answered as a torch build without XPU.

Programs probe devices in a chain (``torch.cuda.is_available()``, then ``torch.xpu.is_available()``, then
``torch.backends.mps.is_available()``) and fall back to the CPU, so the questions must be answerable:
``is_available()`` is False, ``device_count()`` 0, the memory counters 0, and seeding and ``empty_cache()``
do nothing (random numbers are drawn on the host for every device; see ember.random). The calls that need
an XPU (``current_device()``, ``synchronize()``...) raise ``AssertionError``, as torch does without XPU.
"""


def _no_xpu():
    return AssertionError(
        "Ember not compiled with XPU enabled: Ember runs on the CPU (NumPy) and NVIDIA GPUs (CuPy), not on "
        "Intel GPUs; keep to device='cpu' (pick it with `'xpu' if ember.xpu.is_available() else 'cpu'`)"
    )


def is_available():
    """Always False: Ember has no Intel GPU arrays."""
    return False


def is_initialized():
    return False


def device_count():
    return 0


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """Does nothing: there is no XPU generator (``ember.manual_seed`` seeds the draws for every device)."""
    int(seed)


def manual_seed_all(seed):
    int(seed)


def seed():
    pass


def seed_all():
    pass


def empty_cache():
    pass


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def init():
    raise _no_xpu()


def current_device():
    raise _no_xpu()


def set_device(device):
    raise _no_xpu()


def synchronize(device=None):
    raise _no_xpu()


def get_device_name(device=None):
    raise _no_xpu()


def get_device_properties(device=None):
    raise _no_xpu()


def get_device_capability(device=None):
    raise _no_xpu()
