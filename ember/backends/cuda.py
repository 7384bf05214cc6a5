"""``ember.backends.cuda`` (``torch.backends.cuda``): whether CUDA is usable, and torch's TF32 switch."""

from .. import backend


class _Matmul:
    """``torch.backends.cuda.matmul``: ``allow_tf32`` (False, torch's default) may be set by programs."""

    allow_tf32 = False


matmul = _Matmul()


def is_built():
    """Whether CUDA support is present: CuPy imports and sees a GPU."""
    return backend.cupy() is not None
