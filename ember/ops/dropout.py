"""Inverted dropout (Srivastava et al. 2014, the notes' 丢弃法): drop each unit with probability p and scale
the survivors by 1/(1 - p) at training time, so the expected activation is unchanged and evaluation is
the identity. Backward multiplies by the same mask.

Stochastic depth (Huang et al. 2016) is the same inverted mask drawn once per sample (or once per batch)
and broadcast over everything else: it drops a whole residual branch, so the block is the identity for
that sample, and the expected depth of the network shrinks while training.
"""

from .. import backend
from ..autograd.function import Function
from ..backend import xp


class Dropout(Function):
    """y = x · mask / (1 - p), mask ~ Bernoulli(1 - p) per element (per channel for ``Dropout2d``)."""

    @staticmethod
    def forward(ctx, x, p, mask_shape):
        keep = xp.asarray(backend.generator().random(mask_shape, dtype=xp.float32)) >= p
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


def stochastic_depth(input, p, mode, training=True):
    """``torchvision.ops.stochastic_depth``: drop the whole ``input`` (a residual branch) per sample.

    y = x · mask / (1 - p) with mask ~ Bernoulli(1 - p) of shape (N, 1, ..., 1) for ``mode='row'`` (each
    sample keeps or drops its branch) or (1, ..., 1) for ``mode='batch'`` (the whole batch at once); p is the
    probability to *drop*. The identity when not training or p = 0; zeros when p = 1. The block around it adds
    the shortcut: out = shortcut + stochastic_depth(branch(x), p, mode, training).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"stochastic_depth: drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"stochastic_depth: mode has to be either 'batch' or 'row', but got {mode!r}")
    if mode == "row" and input.ndim == 0:
        raise ValueError("stochastic_depth: mode='row' draws one mask per sample along axis 0, got a 0-d input; "
                         "use mode='batch'")
    if not training or p == 0:
        return input
    # The same Function as dropout: only the mask's shape differs (it broadcasts over each sample).
    mask_shape = (input.shape[0],) + (1,) * (input.ndim - 1) if mode == "row" else (1,) * input.ndim
    return Dropout.apply(input, p, mask_shape)
