"""Inverted dropout (Srivastava et al. 2014, the notes' 丢弃法): drop each unit with probability p and scale
the survivors by 1/(1 - p) at training time, so the expected activation is unchanged and evaluation is
the identity. Backward multiplies by the same mask.
"""

from .. import backend
from ..autograd.function import Function
from ..backend import xp


class Dropout(Function):
    """y = x · mask / (1 - p), mask ~ Bernoulli(1 - p) per element (per channel for ``Dropout2d``)."""

    @staticmethod
    def forward(ctx, x, p, mask_shape):
        keep = backend.generator().random(mask_shape, dtype=xp.float32) >= p
        scale = xp.asarray(1 / (1 - p) if p < 1 else 0, dtype=x.dtype)
        mask = keep * scale
        ctx.save(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        return grad * mask


def _check_p(p):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1 - p); the identity when not training."""
    _check_p(p)
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, x.shape)


def dropout2d(x, p=0.5, training=True):
    """Zero whole channels (feature maps) of an (N, C, H, W) or (C, H, W) input: neighbouring pixels are
    strongly correlated, so dropping single pixels barely regularises a conv layer."""
    _check_p(p)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, x.shape[:-2] + (1, 1))
