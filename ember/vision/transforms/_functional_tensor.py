"""The tensor half of the functional transforms (torchvision's ``functional_tensor``) on arrays laid out
(..., C, H, W): any number of leading batch dimensions. Every function takes and returns a NumPy array;
``functional`` wraps them for ember Tensors.

Dtypes follow torchvision: a float image is in [0, 1], an integer image in [0, max] (255 for uint8).
Integer images are computed in float32 and converted back the way torch's ``.to(dtype)`` does:
blends truncate, resampling rounds.
"""

from ...backend import xp
from ...data import color

# ---- dtypes and checks -------------------------------------------------------------------------------------


def max_value(dtype):
    """The value of 'full intensity': 1.0 for float images, the type's maximum for integers."""
    dtype = xp.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype.kind == "b":
        return True
    return int(xp.iinfo(dtype).max)


def float_dtype(dtype):
    """The dtype an image is computed in: its own if floating, else float32."""
    return xp.dtype(dtype) if xp.dtype(dtype).kind == "f" else xp.dtype(xp.float32)


def cast_out(array, dtype, round_=True):
    """Back to an integer ``dtype`` after float maths: rounded (resampling) or truncated (blends),
    clamped to the type's range so that nothing wraps around."""
    dtype = xp.dtype(dtype)
    if dtype.kind == "f" or array.dtype == dtype:
        return array.astype(dtype, copy=False)
    if round_:
        array = xp.rint(array)
    if dtype.kind in "iu":
        info = xp.iinfo(dtype)
        array = xp.clip(array, info.min, info.max)
    return array.astype(dtype)


def num_channels(img):
    return 1 if img.ndim == 2 else img.shape[-3]


def assert_channels(img, permitted, name):
    c = num_channels(img)
    if c not in permitted:
        raise TypeError(
            f"{name}: input image tensor permitted channel values are {list(permitted)}, but found {c} "
            f"(shape {tuple(img.shape)}; channels go on axis -3: (..., C, H, W))"
        )


# ---- geometry --------------------------------------------------------------------------------------------------


def hflip(img):
    return xp.ascontiguousarray(img[..., ::-1])


def vflip(img):
    return xp.ascontiguousarray(img[..., ::-1, :])


def crop(img, top, left, height, width):
    """img[..., top:top+height, left:left+width]; a box reaching outside the image is zero-padded."""
    h, w = img.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding = [
            max(-left + min(0, right), 0),
            max(-top + min(0, bottom), 0),
            max(right - max(w, left), 0),
            max(bottom - max(h, top), 0),
        ]
        return pad(img[..., max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)], padding, 0, "constant")
    return img[..., top:bottom, left:right]


def pad(img, padding, fill=0, padding_mode="constant"):
    """``padding`` = [left, top, right, bottom]; negative values crop. Modes: constant (``fill``), edge
    (repeat the border), reflect (mirror without the border pixel), symmetric (mirror with it)."""
    left, top, right, bottom = padding
    h, w = img.shape[-2:]
    img = img[..., max(-top, 0) : h - max(-bottom, 0), max(-left, 0) : w - max(-right, 0)]
    widths = [(0, 0)] * (img.ndim - 2) + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    if padding_mode == "constant":
        return xp.pad(img, widths, mode="constant", constant_values=fill)
    if padding_mode == "reflect" and (max(top, bottom) >= img.shape[-2] or max(left, right) >= img.shape[-1]):
        raise ValueError(
            f"pad: reflect padding {list(padding)} needs each pad smaller than the image side "
            f"(image {img.shape[-2]}x{img.shape[-1]}); use padding_mode='symmetric' or a smaller padding"
        )
    return xp.pad(img, widths, mode=padding_mode)


# ---- colour ---------------------------------------------------------------------------------------------------


def rgb_to_grayscale(img, num_output_channels=1):
    """L = 0.2989 R + 0.587 G + 0.114 B (torchvision's tensor weights), truncated for integer images."""
    assert_channels(img, (1, 3), "rgb_to_grayscale")
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels should be either 1 or 3, got {num_output_channels}")
    if img.shape[-3] == 3:
        r, g, b = (img[..., i, :, :].astype(float_dtype(img.dtype)) for i in range(3))
        grey = cast_out((0.2989 * r + 0.587 * g + 0.114 * b)[..., None, :, :], img.dtype, round_=False)
    else:
        grey = img.copy()
    if num_output_channels == 3:
        return xp.ascontiguousarray(xp.broadcast_to(grey, grey.shape[:-3] + (3,) + grey.shape[-2:]))
    return grey


def blend(img1, img2, ratio):
    """ratio · img1 + (1 - ratio) · img2, clamped to [0, max] (torchvision's ``_blend``)."""
    dtype = float_dtype(img1.dtype)
    ratio = float(ratio)
    out = ratio * img1.astype(dtype, copy=False) + (1.0 - ratio) * xp.asarray(img2, dtype=dtype)
    return cast_out(xp.clip(out, 0, max_value(img1.dtype)), img1.dtype, round_=False)


def adjust_brightness(img, factor):
    """Blend with black: factor · img."""
    assert_channels(img, (1, 3), "adjust_brightness")
    return blend(img, xp.zeros((), dtype=img.dtype), factor)


def adjust_contrast(img, factor):
    """Blend with the image's mean grey level (one number per image)."""
    assert_channels(img, (1, 3), "adjust_contrast")
    dtype = float_dtype(img.dtype)
    grey = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    mean = grey.astype(dtype).mean(axis=(-3, -2, -1), keepdims=True)
    return blend(img, mean, factor)


def adjust_saturation(img, factor):
    """Blend with the image's own grey version."""
    assert_channels(img, (1, 3), "adjust_saturation")
    if img.shape[-3] == 1:
        return img
    return blend(img, rgb_to_grayscale(img), factor)


def rgb_to_hsv(img):
    """HSV of a float (..., 3, H, W) image: the colour-space conversion of ember.data.color."""
    return color.rgb_to_hsv(img, dim=-3)


def hsv_to_rgb(img):
    """RGB of a float (..., 3, H, W) HSV image (ember.data.color)."""
    return color.hsv_to_rgb(img, dim=-3)


def convert_image_dtype(img, dtype):
    """torchvision's ``convert_image_dtype``: float <-> int rescales [0, 1] <-> [0, max]."""
    dtype = xp.dtype(dtype)
    if img.dtype == dtype:
        return img
    if img.dtype.kind == "f":
        if dtype.kind == "f":
            return img.astype(dtype)
        if (img.dtype == xp.float32 and dtype in (xp.int32, xp.int64)) or (
            img.dtype == xp.float64 and dtype == xp.int64
        ):
            raise RuntimeError(f"The cast from {img.dtype} to {dtype} cannot be performed safely.")
        # 1 - eps so that 1.0 maps to max, not max + 1, and the bins stay equally wide.
        return (img * (max_value(dtype) + 1.0 - 1e-3)).astype(dtype)
    input_max = max_value(img.dtype)
    if dtype.kind == "f":
        return (img.astype(dtype) / input_max).astype(dtype)
    output_max = max_value(dtype)
    if input_max > output_max:
        factor = (input_max + 1) // (output_max + 1)
        return (img.astype(xp.int64) // factor).astype(dtype)
    factor = (output_max + 1) // (input_max + 1)
    return img.astype(dtype) * dtype.type(factor)


def adjust_hue(img, hue_factor):
    """Rotate the hue: RGB -> HSV, H = (H + hue_factor) mod 1, -> RGB (in float32 for integer images)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    assert_channels(img, (1, 3), "adjust_hue")
    if img.shape[-3] == 1:
        return img
    work = convert_image_dtype(img, float_dtype(img.dtype))
    hsv = rgb_to_hsv(work)
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + hue_factor) % 1.0
    return convert_image_dtype(hsv_to_rgb(hsv), img.dtype)


def adjust_gamma(img, gamma, gain=1.0):
    """out = gain · in^γ on [0, 1] (integer images are converted there and back)."""
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    work = convert_image_dtype(img, float_dtype(img.dtype))
    out = xp.clip(gain * work**gamma, 0, 1)
    return convert_image_dtype(out.astype(work.dtype), img.dtype)


def invert(img):
    """max - img."""
    assert_channels(img, (1, 3), "invert")
    if img.dtype.kind == "b":
        return ~img
    return (max_value(img.dtype) - img).astype(img.dtype)


def posterize(img, bits):
    """Keep the top ``bits`` bits of every uint8 value: img & (0xFF << (8 - bits))."""
    if img.dtype != xp.uint8:
        raise TypeError(f"posterize: only uint8 image tensors are supported, but found {img.dtype}")
    assert_channels(img, (1, 3), "posterize")
    return img & xp.uint8((0xFF << (8 - bits)) & 0xFF)


def solarize(img, threshold):
    """Invert the pixels at or above ``threshold``."""
    assert_channels(img, (1, 3), "solarize")
    if threshold > max_value(img.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return xp.where(img >= threshold, invert(img), img)


def _shifted_sum(img, kernel):
    """'Valid' 2-D correlation of every (H, W) plane with a small kernel, one tap at a time."""
    kh, kw = kernel.shape
    h, w = img.shape[-2] - kh + 1, img.shape[-1] - kw + 1
    out = xp.zeros(img.shape[:-2] + (h, w), dtype=img.dtype)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * img[..., i : i + h, j : j + w]
    return out


def adjust_sharpness(img, factor):
    """Blend with a smoothed copy (3x3 kernel [[1,1,1],[1,5,1],[1,1,1]] / 13; border pixels kept)."""
    if factor < 0:
        raise ValueError(f"sharpness_factor ({factor}) is not non-negative.")
    assert_channels(img, (1, 3), "adjust_sharpness")
    if img.shape[-1] <= 2 or img.shape[-2] <= 2:
        return img
    dtype = float_dtype(img.dtype)
    kernel = xp.ones((3, 3), dtype=dtype)
    kernel[1, 1] = 5.0
    kernel /= kernel.sum()
    degenerate = img.copy()
    degenerate[..., 1:-1, 1:-1] = cast_out(_shifted_sum(img.astype(dtype), kernel), img.dtype)
    return blend(img, degenerate, factor)


def autocontrast(img):
    """Stretch every channel to [0, max]: (img - min) · max / (max_c - min_c); flat channels unchanged."""
    assert_channels(img, (1, 3), "autocontrast")
    bound = max_value(img.dtype)
    dtype = float_dtype(img.dtype)
    low = img.min(axis=(-2, -1), keepdims=True).astype(dtype)
    high = img.max(axis=(-2, -1), keepdims=True).astype(dtype)
    flat = high == low
    scale = bound / xp.where(flat, 1, high - low)
    low, scale = xp.where(flat, 0, low), xp.where(flat, 1, scale)
    return cast_out(xp.clip((img - low) * scale, 0, bound), img.dtype, round_=False)


def equalize(img):
    """Histogram equalisation of every uint8 channel (torchvision's ``_scale_channel`` lookup tables)."""
    if img.dtype != xp.uint8:
        raise TypeError(f"equalize: only uint8 image tensors are supported, but found {img.dtype}")
    assert_channels(img, (1, 3), "equalize")
    planes = img.reshape(-1, img.shape[-2] * img.shape[-1])  # one row per (image, channel)
    n = len(planes)
    offsets = (xp.arange(n) * 256)[:, None]
    hist = xp.bincount((planes + offsets).ravel(), minlength=256 * n).reshape(n, 256)
    # step = (pixels - count of the last non-empty bin) // 255
    last = 255 - xp.argmax(hist[:, ::-1] > 0, axis=1)
    step = (hist.sum(axis=1) - hist[xp.arange(n), last]) // 255
    safe = xp.maximum(step, 1)[:, None]
    lut = (xp.cumsum(hist, axis=1) + safe // 2) // safe
    lut = xp.clip(xp.concatenate([xp.zeros((n, 1), dtype=lut.dtype), lut[:, :-1]], axis=1), 0, 255)
    lut = xp.where((step == 0)[:, None], xp.arange(256), lut)  # a one-colour channel stays as it is
    out = xp.take_along_axis(lut, planes.astype(xp.int64), axis=1)
    return out.astype(xp.uint8).reshape(img.shape)


def normalize(img, mean, std, inplace=False):
    """(img - mean[c]) / std[c] for every channel c."""
    mean = xp.asarray(mean, dtype=img.dtype)
    std = xp.asarray(std, dtype=img.dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {img.dtype}, leading to division by zero.")
    mean = mean.reshape(-1, 1, 1) if mean.ndim == 1 else mean
    std = std.reshape(-1, 1, 1) if std.ndim == 1 else std
    if inplace:
        img -= mean
        img /= std
        return img
    return (img - mean) / std


def erase(img, i, j, h, w, v, inplace=False):
    if not inplace:
        img = img.copy()
    img[..., i : i + h, j : j + w] = v
    return img
