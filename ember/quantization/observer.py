"""Observers: they watch the values a tensor takes (its running min and max) and turn that range into a
scale and a zero point, with torch's formulas (``torch.ao.quantization.observer``):

    min₋ = min(min, 0),  max₊ = max(max, 0)                   (the range always contains 0)
    affine:     s = (max₊ - min₋) / (q_max - q_min),   z = clamp(q_min - round(min₋ / s), q_min, q_max)
    symmetric:  s = max(-min₋, max₊) / ((q_max - q_min) / 2),   z = 0 (qint8) or 128 (quint8)

and s is at least float32's eps, so an all-zero tensor still gets a usable scale.
"""

from ..backend import xp
from ..nn.module import Module
from ..tensor import Tensor
from .qtensor import qint8, quint8

_EPS = float(xp.finfo(xp.float32).eps)


def calculate_qparams(min_val, max_val, dtype=quint8, symmetric=False, quant_min=None, quant_max=None):
    """(scale float32, zero_point int64) arrays for the observed range(s) ``min_val``..``max_val``."""
    qmin = dtype.qmin if quant_min is None else quant_min
    qmax = dtype.qmax if quant_max is None else quant_max
    min_neg = xp.minimum(xp.asarray(min_val, dtype=xp.float32), 0)
    max_pos = xp.maximum(xp.asarray(max_val, dtype=xp.float32), 0)
    if symmetric:
        bound = xp.maximum(-min_neg, max_pos)
        scale = xp.maximum(bound / xp.float32((qmax - qmin) / 2), xp.float32(_EPS))
        zero = xp.full(scale.shape, 128 if dtype is quint8 else 0, dtype=xp.int64)
    else:
        scale = xp.maximum((max_pos - min_neg) / xp.float32(qmax - qmin), xp.float32(_EPS))
        zero = qmin - xp.rint(min_neg / scale).astype(xp.int64)
        zero = xp.clip(zero, qmin, qmax)
    return scale.astype(xp.float32), zero


class MinMaxObserver(Module):
    """Records the running min and max of every tensor it sees (per tensor); ``calculate_qparams()`` gives
    the (scale, zero point) covering them. Returns its input unchanged, so it can sit in a forward pass."""

    def __init__(self, dtype=quint8, qscheme="per_tensor_affine"):
        super().__init__()
        if qscheme not in ("per_tensor_affine", "per_tensor_symmetric"):
            raise ValueError(f"MinMaxObserver: qscheme must be 'per_tensor_affine' or 'per_tensor_symmetric', "
                             f"got {qscheme!r}")
        self.dtype, self.qscheme = dtype, qscheme
        self.register_buffer("min_val", Tensor(xp.asarray(xp.inf, dtype=xp.float32)))
        self.register_buffer("max_val", Tensor(xp.asarray(-xp.inf, dtype=xp.float32)))

    def forward(self, x):
        a = x.array
        if a.size:
            self.min_val = Tensor(xp.minimum(self.min_val.array, a.min()).astype(xp.float32))
            self.max_val = Tensor(xp.maximum(self.max_val.array, a.max()).astype(xp.float32))
        return x

    def calculate_qparams(self):
        if not xp.isfinite(self.min_val.array):
            raise RuntimeError(f"{type(self).__name__}: no values observed yet; run calibration data through the "
                               f"prepared model before convert()")
        scale, zero = calculate_qparams(self.min_val.array, self.max_val.array, self.dtype,
                                        self.qscheme == "per_tensor_symmetric")
        return Tensor(scale), Tensor(zero)

    def extra_repr(self):
        return f"min_val={float(self.min_val.array)}, max_val={float(self.max_val.array)}"


class PerChannelMinMaxObserver(Module):
    """The min and max of each slice along ``ch_axis`` (for weights: one range per output channel)."""

    def __init__(self, ch_axis=0, dtype=qint8, qscheme="per_channel_symmetric"):
        super().__init__()
        if qscheme not in ("per_channel_affine", "per_channel_symmetric"):
            raise ValueError(f"PerChannelMinMaxObserver: qscheme must be 'per_channel_affine' or "
                             f"'per_channel_symmetric', got {qscheme!r}")
        self.ch_axis, self.dtype, self.qscheme = ch_axis, dtype, qscheme
        self.register_buffer("min_val", Tensor(xp.zeros(0, dtype=xp.float32)))
        self.register_buffer("max_val", Tensor(xp.zeros(0, dtype=xp.float32)))

    def forward(self, x):
        a = xp.moveaxis(x.array, self.ch_axis, 0).reshape(x.shape[self.ch_axis], -1)
        lo, hi = a.min(axis=1).astype(xp.float32), a.max(axis=1).astype(xp.float32)
        if self.min_val.array.size:
            lo, hi = xp.minimum(lo, self.min_val.array), xp.maximum(hi, self.max_val.array)
        self.min_val, self.max_val = Tensor(lo), Tensor(hi)
        return x

    def calculate_qparams(self):
        if not self.min_val.array.size:
            raise RuntimeError("PerChannelMinMaxObserver: no values observed yet")
        scale, zero = calculate_qparams(self.min_val.array, self.max_val.array, self.dtype,
                                        self.qscheme == "per_channel_symmetric")
        return Tensor(scale), Tensor(zero)


__all__ = ["MinMaxObserver", "PerChannelMinMaxObserver", "calculate_qparams"]
