"""``ember.backends.cudnn`` (``torch.backends.cudnn``): cuDNN as CuPy sees it, and torch's switches.

``enabled``, ``benchmark``, ``deterministic`` and ``allow_tf32`` hold torch's defaults and may be set by
programs (``cudnn.benchmark = True``); Ember's ops do not autotune, so they change no result.
"""

from .. import backend

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def _cudnn():
    module = backend.cupy()
    if module is None:
        return None
    try:
        from cupy.cuda import cudnn
    except ImportError:  # CuPy built without cuDNN
        return None
    return cudnn


def is_available():
    """Whether CuPy sees a GPU and was built with cuDNN."""
    return _cudnn() is not None


def version():
    """cuDNN's version number (e.g. 90100), or None without it."""
    cudnn = _cudnn()
    return None if cudnn is None else int(cudnn.getVersion())


def is_acceptable(tensor):
    """Whether cuDNN could run on ``tensor`` (a floating tensor on a GPU, with cuDNN present)."""
    return bool(enabled and is_available() and tensor.is_cuda and tensor.is_floating_point())
