"""``ember.mps`` (``torch.mps``): Apple's Metal GPUs, which Ember does not support (see ember.backends.mps).

Answered as a torch build without MPS: ``is_available()`` False, ``device_count()`` 0, ``manual_seed``
and ``seed`` do nothing (Ember draws random numbers on the host for every device), and the calls that need
the GPU raise ``RuntimeError`` "... without MPS backend", as torch does.
"""


def _no_mps(call):
    return RuntimeError(
        f"Cannot execute {call} without MPS backend: Ember runs on the CPU (NumPy) and NVIDIA GPUs (CuPy), "
        "not on Apple GPUs; keep to device='cpu' (check ember.backends.mps.is_available() first)"
    )


def is_available():
    """Always False: Ember has no Metal arrays."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    int(seed)


def seed():
    pass


def synchronize():
    raise _no_mps("deviceSynchronize()")


def empty_cache():
    raise _no_mps("emptyCache()")


def current_allocated_memory():
    raise _no_mps("getCurrentAllocatedMemory()")


def driver_allocated_memory():
    raise _no_mps("getDriverAllocatedMemory()")


def get_rng_state(device="mps"):
    raise _no_mps("getDefaultGenerator()")


def set_rng_state(new_state, device="mps"):
    raise _no_mps("getDefaultGenerator()")
