"""``ember.backends.mps`` (``torch.backends.mps``): Apple's Metal GPUs, which Ember does not support."""


def is_available():
    """Always False: Ember runs on the CPU (NumPy) and NVIDIA GPUs (CuPy)."""
    return False


def is_built():
    return False
