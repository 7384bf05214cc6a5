"""Sliding-window geometry shared by convolution and pooling.

A window of size K with dilation D spans D·(K-1)+1 pixels; sliding it with stride S over N pixels padded
by P_before + P_after gives the CS231n output size  (N + P_before + P_after - D·(K-1) - 1) / S + 1,
rounded down (or up with ceil_mode). ``tap(i, j)`` is the strided slice that every output pixel reads for
kernel offset (i, j): convolution and pooling are sums, maxima and averages over those K² slices.
"""

import math

from ..backend import xp


def pair(value, name="argument"):
    """2 -> (2, 2); (2, 3) -> (2, 3)."""
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    return value


def single(value, name="argument"):
    """2 or (2,) -> 2 (the 1-D layers' arguments)."""
    if isinstance(value, int):
        return value
    value = tuple(value)
    if len(value) != 1 or not isinstance(value[0], int):
        raise ValueError(f"{name} must be an int or a 1-tuple of ints, got {value}")
    return value[0]


def _describe(layer, default):
    return str(layer) if layer is not None else default


class WindowSizeError(ValueError, RuntimeError):
    """The window does not fit the (padded) input. torch raises RuntimeError here ("Output size is too
    small"), so PyTorch code catching RuntimeError catches it; it stays a ValueError for Ember's own callers."""


def output_size(n, k, stride, pad_before, pad_after, dilation, ceil_mode=False, layer=None, axis="height"):
    """Number of window positions along one axis; raises WindowSizeError (a RuntimeError, as in torch, and
    a ValueError) if the window does not fit."""
    span = dilation * (k - 1) + 1
    padded = n + pad_before + pad_after
    if span > padded:
        raise WindowSizeError(
            f"{_describe(layer, 'window')}: the kernel spans {span} pixels in {axis} but the padded input has "
            f"only {padded} ({n} + padding {pad_before + pad_after}); use a larger input, more padding or a "
            "smaller kernel"
        )
    steps = (padded - span) / stride
    out = (math.ceil(steps) if ceil_mode else math.floor(steps)) + 1
    # PyTorch's rule: with ceil_mode the last window must start inside the input or the left padding.
    if ceil_mode and (out - 1) * stride >= n + pad_before:
        out -= 1
    return out


def padded(x, pads, value=0.0):
    """x (..., H, W) surrounded by ``pads = (top, bottom, left, right)`` pixels of ``value``; x itself when
    there is no padding."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    h, w = x.shape[-2:]
    out = xp.empty(x.shape[:-2] + (h + top + bottom, w + left + right), dtype=x.dtype)
    # Only the border is filled: full() would write every number once more than the copy below does.
    out[..., :top, :] = value
    out[..., top + h :, :] = value
    out[..., top : top + h, :left] = value
    out[..., top : top + h, left + w :] = value
    out[..., top : top + h, left : left + w] = x
    return out


def tap(array, i, j, out_hw, stride, dilation):
    """The (..., OH, OW) strided slice that kernel offset (i, j) reads from a padded (..., Hp, Wp) array."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return array[..., i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
