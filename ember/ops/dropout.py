"""Inverted dropout (Srivastava et al. 2014, the notes' 丢弃法): drop each unit with probability p and scale
the survivors by 1/(1 - p) at training time, so the expected activation is unchanged and evaluation is
the identity. Backward multiplies by the same mask.

Stochastic depth (Huang et al. 2016) is the same inverted mask drawn once per sample (or once per batch)
and broadcast over everything else: it drops a whole residual branch, so the block is the identity for
that sample, and the expected depth of the network shrinks while training.
"""

import math
import warnings

from .. import backend
from ..autograd.function import Function
from ..backend import xp
from .validate import probability, tensor_input


def bernoulli_keep(shape, p, dtype):
    """A 0/1 mask of ``shape``: each entry is 1 with probability 1 - p (drawn from Ember's seeded generator)."""
    return (xp.asarray(backend.generator().random(shape, dtype=xp.float32)) >= p).astype(dtype)


class Dropout(Function):
    """y = x · mask / (1 - p), mask ~ Bernoulli(1 - p) per element (per channel for ``Dropout2d``);
    ``inverted=False`` leaves out the 1/(1 - p) (vanilla dropout, ember/ops/dropout_variants.py)."""

    @staticmethod
    def forward(ctx, x, p, mask_shape, inverted=True):
        mask = bernoulli_keep(mask_shape, p, x.dtype)
        if inverted:
            mask *= xp.asarray(1 / (1 - p) if p < 1 else 0, dtype=x.dtype)
        ctx.save(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        return grad * mask


class AlphaDropout(Function):
    """Dropout for self-normalising (SELU) networks (Klambauer et al. 2017): a dropped unit is set to SELU's
    negative saturation -α' (α' = λα ≈ 1.7581) instead of 0, then y = a · (x or -α') + b with
    a = ((1 - p)(1 + p α'²))^{-1/2}, b = a α' p keeps the mean 0 and the variance 1:

        kept: y = a x + a α' p,   dropped: y = -a α' (1 - p);   dy/dx = a · mask.
    """

    @staticmethod
    def forward(ctx, x, p):
        keep = xp.asarray(backend.generator().random(x.shape, dtype=xp.float32)) >= p
        a = 1 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
        gain = (keep * a).astype(x.dtype, copy=False)
        ctx.save(gain)
        b = ((keep - 1.0) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p).astype(x.dtype, copy=False)
        return x * gain + b

    @staticmethod
    def backward(ctx, grad):
        (gain,) = ctx.saved
        return grad * gain


_SELU_SATURATION = 1.7580993408473766  # λα of SELU: the value SELU tends to at -∞, with the sign flipped


def _check_p(p, x=None, name="dropout"):
    probability(p, "dropout", name)
    if x is not None:
        tensor_input(x, name)


def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1 - p); the identity when not training."""
    _check_p(p, x)
    if not training or p == 0:
        return x
    return Dropout.apply(x, p, x.shape)


def feature_dropout(x, p, training):
    """Zero whole channels: one mask entry per (sample, channel) = the first two axes, shared by the rest
    (torch's ``feature_dropout``, behind dropout1d/2d/3d)."""
    if not training or p == 0 or x.size == 0:
        return x
    if x.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got shape {tuple(x.shape)}")
    return Dropout.apply(x, p, x.shape[:2] + (1,) * (x.ndim - 2))


def _deprecated_rank(name, ndim, wanted, spatial):
    warnings.warn(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an error in a future "
        f"release. To retain the behavior and silence this warning, please use dropout instead. Note that {name} "
        f"exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel dimension, "
        f"and an optional batch dimension (i.e. {wanted[0]}D or {wanted[1]}D inputs).",
        stacklevel=3,
    )


def dropout1d(x, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input (each channel is a 1-D feature map)."""
    _check_p(p, x, "dropout1d")
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    if x.ndim == 2:
        return feature_dropout(x.unsqueeze(0), p, training).squeeze(0)
    return feature_dropout(x, p, training)


def dropout2d(x, p=0.5, training=True, inplace=False):
    """Zero whole channels (feature maps) of an (N, C, H, W) input: neighbouring pixels are strongly
    correlated, so dropping single pixels barely regularises a conv layer.

    Other ranks behave exactly as in torch 2.13, with its warnings: a 3-D input is read as (N, C, L)
    (channel-wise 1-D dropout, not one unbatched image), a 2-D input (N, C) drops single elements.
    """
    _check_p(p, x, "dropout2d")
    if x.ndim not in (3, 4):
        _deprecated_rank("dropout2d", x.ndim, (3, 4), 2)
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return feature_dropout(x, p, training)


def dropout3d(x, p=0.5, training=True, inplace=False):
    """Zero whole channels (volumes) of an (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p, x, "dropout3d")
    if x.ndim not in (4, 5):
        _deprecated_rank("dropout3d", x.ndim, (4, 5), 3)
    if x.ndim != 5:  # read as unbatched, whatever its rank (torch's rule)
        return feature_dropout(x.unsqueeze(0), p, training).squeeze(0)
    return feature_dropout(x, p, training)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (keeps SELU activations at mean 0, variance 1); note torch's default training=False."""
    _check_p(p, input, "alpha_dropout")
    if not training or p == 0 or input.size == 0:
        return input
    if p == 1:
        return input * 0.0
    return AlphaDropout.apply(input, p)


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
