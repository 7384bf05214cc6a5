"""``ember.accelerator``: the device that speeds things up, whatever kind it is (``torch.accelerator``).

Ember's one accelerator is an NVIDIA GPU through CuPy (``cuda``); without one there is no accelerator:
``current_accelerator()`` is None and the functions that need one raise torch's RuntimeError.
"""

from . import cuda as _cuda
from .devices import _NO_ACCELERATOR, device as _device


def is_available():
    """Whether an accelerator (a CUDA GPU through CuPy) can be used."""
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when a GPU is usable, else None."""
    return _device("cuda") if _cuda.is_available() else None


def device_count():
    return _cuda.device_count()


def _require():
    if not _cuda.is_available():
        raise RuntimeError(_NO_ACCELERATOR)


def current_device_index():
    _require()
    return _cuda.current_device()


def set_device_index(device):
    _require()
    _cuda.set_device(device)


def synchronize(device=None):
    _require()
    _cuda.synchronize(device)
