"""The integer kernels of quantised inference. With x ≈ s_x (q_x - z_x) and w ≈ s_w (q_w - z_w),

    y = x wᵀ + b ≈ s_x s_w · Σ_k (q_x - z_x)(q_w - z_w) + b

so the whole inner product is done on integers — 8-bit operands, sums held in int32 — and one float
multiply per output rescales it. A convolution is the same product on im2col patches.

How the int32 sums are computed: by one float64 GEMM on the integer-valued operands. Every product is
below 2⁸·2⁸ and a sum of K of them below K·2¹⁶ — far below 2⁵³, where float64 stops holding integers
exactly — so the BLAS result *is* the integer sum, bit for bit (``int_matmul`` checks the bound; the tests
compare it with NumPy's int32 matmul), just much faster than NumPy's integer loops.
"""

from ..backend import xp
from ..ops.conv import im2col
from .qtensor import quantize_array, quint8
from .observer import calculate_qparams


def int_matmul(a, b):
    """a @ b for integer arrays, accumulated exactly, returned as int32 (the sums must fit int32)."""
    k = a.shape[-1]
    bound = k * int(xp.abs(a).max(initial=0)) * int(xp.abs(b).max(initial=0))
    if bound >= 2 ** 31:
        raise OverflowError(f"int_matmul: the sums may reach {bound}, beyond int32")
    return (a.astype(xp.float64) @ b.astype(xp.float64)).astype(xp.int32)


def dynamic_qparams(x):
    """Activation (scale, zero point) for one batch, from its own min and max (quint8, affine)."""
    scale, zero = calculate_qparams(x.min(initial=0.0), x.max(initial=0.0), quint8)
    return float(scale), int(zero)


def linear_int8(x, w_q, w_scale, w_zero, bias, x_scale, x_zero):
    """y = s_x s_w · (q_x - z_x)(q_w - z_w)ᵀ + b for float x (..., in) and int8 w_q (out, in); w_scale and
    w_zero are scalars or one per output row. Returns float32 (..., out)."""
    q_x = quantize_array(x, x_scale, x_zero, quint8).astype(xp.int32) - x_zero
    w = w_q.astype(xp.int32) - xp.asarray(w_zero, dtype=xp.int32).reshape(-1, 1)
    acc = int_matmul(q_x.reshape(-1, q_x.shape[-1]), w.T)
    y = acc.astype(xp.float32) * (xp.float32(x_scale) * xp.asarray(w_scale, dtype=xp.float32))
    if bias is not None:
        y = y + bias
    return y.reshape(x.shape[:-1] + (w_q.shape[0],)).astype(xp.float32)


def conv2d_int8(x, w_q, w_scale, w_zero, bias, x_scale, x_zero, stride, padding, dilation, groups):
    """The quantised Conv2d on float x (N, C, H, W) and int8 w_q (C_out, C/groups, KH, KW): the input is
    quantised, padded with its zero point (the integer that means 0.0), cut into patches (im2col) and
    multiplied in integers per group; each output channel is rescaled by s_x · s_w[c]."""
    n, c, h, wd = x.shape
    c_out, c_in, kh, kw = w_q.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    q_x = quantize_array(x, x_scale, x_zero, quint8).astype(xp.int32)
    padded = xp.full((c, h + 2 * ph, wd + 2 * pw, n), x_zero, dtype=xp.int32)
    padded[:, ph:ph + h, pw:pw + wd, :] = q_x.transpose(1, 2, 3, 0)
    padded -= x_zero
    w = w_q.astype(xp.int32) - xp.asarray(w_zero, dtype=xp.int32).reshape(-1, 1, 1, 1)
    per_out = c_out // groups
    outs = []
    for g in range(groups):
        cols = im2col(xp.ascontiguousarray(padded[g * c_in:(g + 1) * c_in]), (kh, kw), (oh, ow), (sh, sw), (dh, dw))
        outs.append(int_matmul(w[g * per_out:(g + 1) * per_out].reshape(per_out, -1), cols))
    acc = xp.concatenate(outs, axis=0).reshape(c_out, oh, ow, n).transpose(3, 0, 1, 2)
    scale = xp.float32(x_scale) * xp.broadcast_to(xp.asarray(w_scale, dtype=xp.float32), (c_out,))
    y = acc.astype(xp.float32) * scale.reshape(1, -1, 1, 1)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return xp.ascontiguousarray(y, dtype=xp.float32)


def requantize(y, scale, zero_point):
    """Round a float result to the calibrated output grid (quint8) and read it back: what an int8 network
    passes to its next layer."""
    q = quantize_array(y, scale, zero_point, quint8)
    return ((q.astype(xp.int32) - zero_point).astype(xp.float32) * xp.float32(scale))


__all__ = ["int_matmul", "dynamic_qparams", "linear_int8", "conv2d_int8", "requantize"]
