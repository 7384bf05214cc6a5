"""Affine quantisation: a real number x is stored as a small integer q with a scale s and a zero point z,

    q = clamp(round(x / s) + z, q_min, q_max)          x ≈ x̂ = (q - z) · s

so the integers q_min..q_max cover the reals [(q_min - z)·s, (q_max - z)·s] in steps of s, and the real 0
is exactly the integer z (zero padding and ReLU stay exact). ``qint8`` stores q in [-128, 127] (weights,
usually symmetric: z = 0), ``quint8`` in [0, 255] (activations, which after a ReLU are mostly ≥ 0).

The rounding is torch's to the bit for qint8 and quint8: x · (1/s) + z in one fused multiply-add in
float32 (``fbgemm``'s kernel), then rounded half to even; per-channel quantisation rounds x · (1/s) first
and adds z after, as torch's per-channel kernel does. (qint32, used by torch for biases, goes through
another torch kernel: Ember's result can differ from it by 1 on values within float rounding of a half.) ``QTensor`` is the quantised tensor: the integers and how to read them.
"""

from ..backend import xp
from ..tensor import Tensor


class QDtype:
    """A quantised dtype: the integer type that stores q and its range."""

    def __init__(self, name, storage, qmin, qmax):
        self.name, self.storage, self.qmin, self.qmax = name, xp.dtype(storage), qmin, qmax
        self.itemsize = self.storage.itemsize
        self.is_floating_point = False

    def __repr__(self):
        return f"ember.{self.name}"


qint8 = QDtype("qint8", "int8", -128, 127)
quint8 = QDtype("quint8", "uint8", 0, 255)
qint32 = QDtype("qint32", "int32", -2 ** 31, 2 ** 31 - 1)


def _check_dtype(dtype, where):
    if not isinstance(dtype, QDtype):
        raise RuntimeError(f"{where}: dtype must be ember.qint8, ember.quint8 or ember.qint32, got {dtype}")


def _array(x):
    return x.array if isinstance(x, Tensor) else xp.asarray(x)


def quantize_array(x, scale, zero_point, dtype):
    """q = clamp(round(x·(1/s) + z)) on arrays, ``scale``/``zero_point`` scalars or arrays broadcasting with x
    (the per-tensor rounding: one fused multiply-add, emulated exactly in float64 — a float32 product is
    exact there — then rounded to float32 once)."""
    inv = xp.float32(1.0) / xp.asarray(scale, dtype=xp.float32)
    t = (xp.asarray(x, dtype=xp.float32).astype(xp.float64) * inv.astype(xp.float64)
         + xp.asarray(zero_point, dtype=xp.float64)).astype(xp.float32)
    return xp.clip(xp.rint(t), dtype.qmin, dtype.qmax).astype(dtype.storage)


def dequantize_array(q, scale, zero_point):
    """x̂ = (q - z) · s in float32."""
    return (q.astype(xp.int32) - xp.asarray(zero_point, dtype=xp.int32)).astype(xp.float32) * \
        xp.asarray(scale, dtype=xp.float32)


class QTensor:
    """A quantised tensor: integers ``int_repr()`` and the (scale, zero point) that read them, per tensor or
    per channel along ``axis``. Not differentiable; ``dequantize()`` gives the float32 tensor back."""

    def __init__(self, q, scale, zero_point, dtype, axis=None):
        self._q, self._scale, self._zero_point, self.dtype, self.axis = q, scale, zero_point, dtype, axis

    @property
    def shape(self):
        return tuple(self._q.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self._q.size)

    def int_repr(self):
        return Tensor(self._q.copy())

    def qscheme(self):
        return "per_tensor_affine" if self.axis is None else "per_channel_affine"

    def q_scale(self):
        return float(self._scale)

    def q_zero_point(self):
        return int(self._zero_point)

    def q_per_channel_scales(self):
        return Tensor(xp.asarray(self._scale, dtype=xp.float64))

    def q_per_channel_zero_points(self):
        return Tensor(xp.asarray(self._zero_point, dtype=xp.int64))

    def q_per_channel_axis(self):
        return self.axis

    def _broadcast(self, v):
        if self.axis is None:
            return v
        shape = [1] * self._q.ndim
        shape[self.axis] = -1
        return xp.asarray(v).reshape(shape)

    def dequantize(self):
        if self.axis is not None:  # torch's per-channel scales are float64: (q - z)·s there, then float32
            z, s = self._broadcast(self._zero_point), self._broadcast(self._scale)
            return Tensor(((self._q.astype(xp.int64) - z) * s).astype(xp.float32))
        return Tensor(dequantize_array(self._q, self._scale, self._zero_point))

    def __repr__(self):
        where = (f"scale={self.q_scale()}, zero_point={self.q_zero_point()}" if self.axis is None
                 else f"axis={self.axis}")
        return f"QTensor({self.dequantize().array!r}, dtype={self.dtype}, {where})"


def quantize_per_tensor(input, scale, zero_point, dtype):
    """torch.quantize_per_tensor: one (scale, zero point) for the whole tensor."""
    _check_dtype(dtype, "quantize_per_tensor")
    scale, zero_point = float(_array(scale)), int(_array(zero_point))
    if scale <= 0:
        raise RuntimeError(f"quantize_per_tensor: scale must be positive, got {scale}")
    return QTensor(quantize_array(_array(input), scale, zero_point, dtype), scale, zero_point, dtype)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """torch.quantize_per_channel: one (scale, zero point) per index along ``axis`` (round x·(1/s), then add z)."""
    _check_dtype(dtype, "quantize_per_channel")
    x = _array(input).astype(xp.float32)
    axis = axis % x.ndim
    scales = _array(scales).astype(xp.float64)
    zero_points = _array(zero_points).astype(xp.int64)
    if scales.shape != (x.shape[axis],) or zero_points.shape != (x.shape[axis],):
        raise RuntimeError(f"quantize_per_channel: expected {x.shape[axis]} scales and zero points for axis {axis}, "
                           f"got {scales.shape} and {zero_points.shape}")
    shape = [1] * x.ndim
    shape[axis] = -1
    inv = (xp.float32(1.0) / scales.astype(xp.float32)).reshape(shape)
    q = xp.rint(x * inv) + zero_points.reshape(shape)
    q = xp.clip(q, dtype.qmin, dtype.qmax).astype(dtype.storage)
    return QTensor(q, scales, zero_points, dtype, axis)


def dequantize(qtensor):
    """The float32 tensor a QTensor stands for."""
    return qtensor.dequantize()


__all__ = ["QDtype", "QTensor", "qint8", "quint8", "qint32", "quantize_per_tensor", "quantize_per_channel",
           "dequantize", "quantize_array", "dequantize_array"]
