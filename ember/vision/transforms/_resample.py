"""Resampling of (..., C, H, W) arrays: resize, affine/perspective warps and Gaussian blur, with torch's
tensor semantics (``interpolate``, ``grid_sample(align_corners=False)``, ``conv2d``) on NumPy.

Resize is separable: out = A_y · img · A_xᵀ, where row d of A (out, in) holds the weights of the input
pixels that output pixel d reads. Two GEMMs for the whole batch, whatever the filter:

- antialias (bilinear, bicubic; torch's ``antialias=True`` and Pillow's ``resize``): the filter is
  stretched by the scale s = in / out when shrinking. Output pixel d is centred at c = s (d + 0.5); it
  reads input pixels j in [int(c - support + 0.5), int(c + support + 0.5)) with weight
  k((j + 0.5 - c) / max(s, 1)), normalised to sum 1. Bilinear k is the triangle (support 1), bicubic
  Keys' cubic with a = -0.5 (support 2). This is the algorithm of Pillow and of torch's ``_aa`` kernels,
  so PIL and tensor results agree to within Pillow's 8-bit rounding.
- bilinear without antialias: src = max((d + 0.5) s - 0.5, 0), the two neighbours floor(src) and the
  next one (clamped), weights 1 - λ and λ.
- bicubic without antialias: four neighbours of floor(src), Keys' cubic with a = -0.75, indices clamped.
- nearest: src = min(floor(d s), in - 1) ('nearest-exact': floor((d + 0.5) s)); a gather, no GEMM.
"""

import math

from ...backend import xp
from ._functional_tensor import cast_out, float_dtype

# ---- resize ---------------------------------------------------------------------------------------------------


def _triangle(x):
    return xp.maximum(1.0 - xp.abs(x), 0.0)


def _cubic(x, a):
    x = xp.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))


def _antialias_weights(in_size, out_size, mode):
    scale = in_size / out_size
    support = (1.0 if mode == "bilinear" else 2.0) * max(scale, 1.0)
    center = scale * (xp.arange(out_size) + 0.5)
    low = xp.maximum((center - support + 0.5).astype(xp.int64), 0)  # int() truncation, as Pillow/torch
    high = xp.minimum((center + support + 0.5).astype(xp.int64), in_size)
    j = xp.arange(in_size)
    x = (j[None, :] + 0.5 - center[:, None]) / max(scale, 1.0)
    weights = _triangle(x) if mode == "bilinear" else _cubic(x, -0.5)
    weights = xp.where((j >= low[:, None]) & (j < high[:, None]), weights, 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


def _interpolation_weights(in_size, out_size, mode):
    scale = in_size / out_size
    d = xp.arange(out_size)
    rows = xp.arange(out_size)
    weights = xp.zeros((out_size, in_size))
    if mode == "bilinear":
        src = xp.maximum((d + 0.5) * scale - 0.5, 0.0)
        i0 = src.astype(xp.int64)
        i1 = xp.minimum(i0 + 1, in_size - 1)
        lam = src - i0
        weights[rows, i0] += 1.0 - lam
        weights[rows, i1] += lam  # a second += so that i0 == i1 (the last pixel) sums to 1
        return weights
    src = (d + 0.5) * scale - 0.5
    i = xp.floor(src).astype(xp.int64)
    t = src - i
    for k in range(-1, 3):  # four taps, each row touched once per tap
        weights[rows, xp.clip(i + k, 0, in_size - 1)] += _cubic(t - k, -0.75)
    return weights


# A GEMM multiplies every output pixel with all `in` input pixels; the banded form gathers only the
# k taps of its window, k gathers in all. Measured: the gathers win once the window is under ~1/8 of
# the input (large shrinks, any enlargement beyond tiny images); BLAS wins for small dense cases.
_BAND_FRACTION = 8


def _apply_axis(work, weights, axis):
    """Apply the (out, in) resampling matrix along ``axis`` (-2 rows, -1 columns) of ``work``."""
    out_size, in_size = weights.shape
    nonzero = weights != 0
    first = nonzero.argmax(axis=1)
    last = in_size - 1 - nonzero[:, ::-1].argmax(axis=1)
    k = int((last - first).max()) + 1
    if k * _BAND_FRACTION > in_size:
        return weights @ work if axis == -2 else work @ weights.T
    start = xp.minimum(first, in_size - k)  # the window [start, start + k) of every output pixel
    index = start[:, None] + xp.arange(k)  # (out, k)
    taps = xp.take_along_axis(weights, index, axis=1)  # (out, k)
    out = None
    for t in range(k):  # a loop over filter taps, each a gather of whole rows (or columns)
        if axis == -2:
            term = taps[:, t, None] * xp.take(work, index[:, t], axis=-2)
        else:
            term = taps[:, t] * xp.take(work, index[:, t], axis=-1)
        out = term if out is None else out + term
    return out


def _nearest_index(in_size, out_size, exact):
    scale = xp.float32(in_size / out_size)  # torch computes the scale in float
    d = xp.arange(out_size, dtype=xp.float32)
    src = xp.floor(((d + xp.float32(0.5)) if exact else d) * scale).astype(xp.int64)
    return xp.minimum(src, in_size - 1)


def resize(img, size, interpolation="bilinear", antialias=True):
    """Resize the last two axes of ``img`` to ``size`` = [h, w]."""
    out_h, out_w = size
    in_h, in_w = img.shape[-2:]
    if interpolation in ("nearest", "nearest-exact"):
        exact = interpolation == "nearest-exact"
        rows = _nearest_index(in_h, out_h, exact)
        cols = _nearest_index(in_w, out_w, exact)
        return img[..., rows[:, None], cols[None, :]]
    if interpolation not in ("bilinear", "bicubic"):
        raise ValueError(f"resize: tensor images support nearest, nearest-exact, bilinear and bicubic, got {interpolation!r}")
    dtype = float_dtype(img.dtype)
    work = img.astype(dtype, copy=False)
    weights = _antialias_weights if antialias else _interpolation_weights
    if out_h != in_h:
        work = _apply_axis(work, weights(in_h, out_h, interpolation).astype(dtype), -2)  # (..., C, out_h, W)
    if out_w != in_w:
        work = _apply_axis(work, weights(in_w, out_w, interpolation).astype(dtype), -1)  # (..., C, out_h, out_w)
    if interpolation == "bicubic" and img.dtype == xp.uint8:
        work = xp.clip(work, 0, 255)
    return cast_out(work, img.dtype)


# ---- warps (grid sampling) ------------------------------------------------------------------------------------


def _grid_sample(img, src_x, src_y, mode):
    """Sample float (..., C, H, W) at pixel coordinates (src_x, src_y) (each (OH, OW)); points outside
    read zeros (torch's grid_sample with padding_mode='zeros', align_corners=False)."""
    h, w = img.shape[-2:]
    if mode == "nearest":
        ix, iy = xp.rint(src_x).astype(xp.int64), xp.rint(src_y).astype(xp.int64)  # half to even, as torch
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        out = img[..., xp.clip(iy, 0, h - 1), xp.clip(ix, 0, w - 1)]
        return out * inside.astype(img.dtype)
    x0, y0 = xp.floor(src_x), xp.floor(src_y)
    fx, fy = (src_x - x0).astype(img.dtype), (src_y - y0).astype(img.dtype)
    x0, y0 = x0.astype(xp.int64), y0.astype(xp.int64)
    out = xp.zeros(img.shape[:-2] + src_x.shape, dtype=img.dtype)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            ix, iy = x0 + dx, y0 + dy
            inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
            out += (wy * wx * inside) * img[..., xp.clip(iy, 0, h - 1), xp.clip(ix, 0, w - 1)]
    return out


def apply_grid(img, src_x, src_y, interpolation, fill):
    """torchvision's ``_apply_grid_transform``: sample, then paint ``fill`` (one value or one per channel)
    where the sample left the image, using a sampled mask of ones to know where (and how much)."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"tensor warps support interpolation nearest and bilinear, got {interpolation!r}")
    dtype = float_dtype(img.dtype)
    work = img.astype(dtype, copy=False)
    if fill is not None:
        work = xp.concatenate([work, xp.ones(work.shape[:-3] + (1,) + work.shape[-2:], dtype=dtype)], axis=-3)
    out = _grid_sample(work, src_x, src_y, interpolation)
    if fill is not None:
        mask, out = out[..., -1:, :, :], out[..., :-1, :, :]
        fill = xp.asarray(fill, dtype=dtype).reshape(-1, 1, 1)
        if interpolation == "nearest":
            out = xp.where(mask < 0.5, fill, out)
        else:
            out = out * mask + (1.0 - mask) * fill
    return cast_out(out, img.dtype)


def affine_grid(matrix, in_w, in_h, out_w, out_h):
    """Source pixel coordinates of every output pixel for an inverse affine ``matrix`` (6 numbers) given
    relative to the image centres (torchvision's ``_gen_affine_grid``): output pixel (i, j) has centred
    coordinates (j + 0.5 - OW/2, i + 0.5 - OH/2); the matrix maps them to centred input coordinates."""
    a, b, c, d, e, f = matrix
    x = (xp.arange(out_w) + 0.5 - out_w * 0.5)[None, :]
    y = (xp.arange(out_h) + 0.5 - out_h * 0.5)[:, None]
    src_x = a * x + b * y + c + in_w * 0.5 - 0.5
    src_y = d * x + e * y + f + in_h * 0.5 - 0.5
    return src_x, src_y


def affine_output_size(matrix, w, h):
    """(width, height) that holds the whole transformed image (rotate with expand=True), as torchvision."""
    pts = xp.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]])
    theta = xp.asarray(matrix, dtype=xp.float32).reshape(2, 3).astype(xp.float64)
    new = pts @ theta.T
    low, high = new.min(axis=0) + (w * 0.5, h * 0.5), new.max(axis=0) + (w * 0.5, h * 0.5)
    tol = 1e-4  # drop float noise so that 1e-15 does not ceil to 1
    size = xp.ceil(xp.trunc(high / tol) * tol) - xp.floor(xp.trunc(low / tol) * tol)
    return int(size[0]), int(size[1])


def perspective_grid(coeffs, w, h):
    """Source coordinates of a perspective map: x' = (a x + b y + c) / (g x + h y + 1), y' likewise,
    on pixel centres (x = j + 0.5), minus the half pixel of align_corners=False."""
    a, b, c, d, e, f, g, k = coeffs
    x = (xp.arange(w) + 0.5)[None, :]
    y = (xp.arange(h) + 0.5)[:, None]
    denominator = g * x + k * y + 1.0
    return (a * x + b * y + c) / denominator - 0.5, (d * x + e * y + f) / denominator - 0.5


# ---- blur --------------------------------------------------------------------------------------------------------


def gaussian_kernel1d(kernel_size, sigma):
    """exp(-x² / 2σ²) at x = -(k-1)/2 ... (k-1)/2, normalised to sum 1."""
    half = (kernel_size - 1) * 0.5
    x = xp.linspace(-half, half, kernel_size)
    pdf = xp.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma):
    """Separable Gaussian blur with reflect padding, kernel_size = [kx, ky], sigma = [σx, σy]."""
    kx, ky = kernel_size
    dtype = float_dtype(img.dtype)
    work = img.astype(dtype)
    h, w = img.shape[-2:]
    if kx // 2 >= w or ky // 2 >= h:
        raise ValueError(f"gaussian_blur: kernel_size {list(kernel_size)} needs an image larger than half of it, got {h}x{w}")
    widths = [(0, 0)] * (img.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)]
    work = xp.pad(work, widths, mode="reflect")
    # The 2-D kernel is outer(k_y, k_x): filter rows, then columns (a loop over taps, not pixels).
    k_y = gaussian_kernel1d(ky, sigma[1]).astype(dtype)
    k_x = gaussian_kernel1d(kx, sigma[0]).astype(dtype)
    rows = sum(k_y[t] * work[..., t : t + h, :] for t in range(ky))
    out = sum(k_x[t] * rows[..., :, t : t + w] for t in range(kx))
    return cast_out(out, img.dtype)


def perspective_coeffs(startpoints, endpoints):
    """The 8 coefficients of the map from ``endpoints`` (output) to ``startpoints`` (input), by least
    squares on the 8 linear equations of the four point pairs (torchvision's ``_get_perspective_coeffs``)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"perspective: startpoints and endpoints need 4 points each, got {len(startpoints)} and {len(endpoints)}")
    a = xp.zeros((8, 8))
    for i, ((x, y), (u, v)) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
    b = xp.asarray(startpoints, dtype=xp.float64).reshape(8)
    return [float(v) for v in xp.linalg.lstsq(a, b, rcond=None)[0]]


def inverse_affine_matrix(center, angle, translate, scale, shear):
    """The inverse of  T(translate) · C · R(angle) · Sh(shear) · S(scale) · C⁻¹  as 6 numbers
    (torchvision's ``_get_inverse_affine_matrix``; angles in degrees, clockwise for positive angle
    in image coordinates, as PIL and torchvision)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [m / scale for m in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix
