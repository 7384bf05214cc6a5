"""Colour spaces and colour adjustments for float images in [0, 1].

Every function works on an array or an ember Tensor (and returns the same kind, without grad), on any
number of leading batch dimensions, with the three colour channels on axis ``dim`` (default -3: the
channel axis of a (C, H, W) image and of an (N, C, H, W) batch). float32 stays float32.

Conventions (those of torchvision and of Python's ``colorsys``):

- **hue** H lies in [0, 1) — a fraction of the colour wheel, not degrees: red 0, yellow 1/6, green 1/3,
  cyan 1/2, blue 2/3, magenta 5/6. Greys (max = min) have no hue; they get H = 0.
- HSV: V = max(R, G, B), S = (max - min) / V (0 for black).
- HSL: L = (max + min) / 2, S = (max - min) / (1 - |2L - 1|) (0 for greys, black and white).
- grey (luma) uses torchvision's weights L = 0.2989 R + 0.587 G + 0.114 B: ITU-R 601-2 (0.299, 0.587,
  0.114) with R's weight as torchvision's tensor code writes it, so the numbers match torchvision's.

The ``adjust_*`` functions are torchvision's colour jitter operations on (C, H, W) or (B, C, H, W)
images; their factor is a number or one factor per image of the batch (shape (B,)).
"""

from ..backend import xp
from ..tensor import Tensor

#: torchvision's luma weights for R, G, B (``rgb_to_grayscale`` on tensors).
LUMA_WEIGHTS = (0.2989, 0.587, 0.114)


def _unwrap(image, name):
    """(float array, was it a Tensor?); integer images are refused because the formulas assume [0, 1]."""
    was_tensor = isinstance(image, Tensor)
    array = image.array if was_tensor else xp.asarray(image)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected a floating-point image with values in [0, 1], got dtype {array.dtype}; "
            "convert it first, e.g. with transforms.ToTensor() (uint8 -> float32 / 255)"
        )
    return array, was_tensor


def _wrap(array, was_tensor):
    return Tensor(array) if was_tensor else array


def _channels(array, dim, name, count=3):
    """The colour planes along ``dim`` (views), after checking there are ``count`` of them."""
    if array.ndim == 0 or array.shape[dim] != count:
        raise ValueError(
            f"{name}: expected {count} colour channels on axis {dim}, got shape {tuple(array.shape)}; "
            "pass dim= to say where the channels are"
        )
    return list(xp.moveaxis(array, dim, 0))  # views, no copies


def _hue(r, g, b, maxc, chroma):
    """The hue H in [0, 1) of the hexagonal model: which sixth of the wheel, and how far along it.

    H' = (G - B)/C mod 6 if max = R;  (B - R)/C + 2 if max = G;  (R - G)/C + 4 if max = B;  H = H'/6.
    Ties go to R, then G (torchvision's order). Greys (C = 0) get 0.
    """
    grey = chroma == 0
    inverse = 1 / xp.where(grey, 1, chroma)  # one division; greys are masked below
    h = xp.asarray(  # an array even for a single pixel, so that it can be fixed up in place
        xp.where(maxc == r, (g - b) * inverse, xp.where(maxc == g, (b - r) * inverse + 2, (r - g) * inverse + 4)) / 6
    )
    h[h < 0] += 1  # (G - B)/C < 0 just below red: wrap around the circle
    # Greys have no hue; and 1 - tiny rounds to exactly 1.0 in float32, which is the same hue as 0.
    h[grey | (h >= 1)] = 0
    return h


def _extremes(r, g, b):
    """max, min and chroma = max - min of the three channels, per pixel: what HSV and HSL are built on."""
    maxc = xp.maximum(xp.maximum(r, g), b)
    minc = xp.minimum(xp.minimum(r, g), b)
    return maxc, minc, maxc - minc


def rgb_to_hsv(image, dim=-3):
    """RGB in [0, 1] -> HSV: H as in ``_hue``, S = (max - min) / max (0 where max = 0), V = max."""
    array, was_tensor = _unwrap(image, "rgb_to_hsv")
    r, g, b = _channels(array, dim, "rgb_to_hsv")
    maxc, _, chroma = _extremes(r, g, b)
    s = xp.where(maxc == 0, 0, chroma / xp.where(maxc == 0, 1, maxc)).astype(array.dtype, copy=False)
    return _wrap(xp.stack([_hue(r, g, b, maxc, chroma), s, maxc], axis=dim), was_tensor)


def hsv_to_rgb(image, dim=-3):
    """HSV -> RGB by the closed form f(n) = V - V·S·max(0, min(k, 4 - k, 1)), k = (n + 6H) mod 6, with
    R = f(5), G = f(3), B = f(1): each channel is a trapezoid over the hue wheel, scaled by V·S."""
    array, was_tensor = _unwrap(image, "hsv_to_rgb")
    h, s, v = _channels(array, dim, "hsv_to_rgb")
    h6, vs = (h % 1) * 6, v * s

    def f(n):
        k = n + h6
        k = xp.where(k >= 6, k - 6, k)  # (n + 6H) mod 6 without a float modulo per channel
        return v - vs * xp.clip(xp.minimum(k, 4 - k), 0, 1)

    return _wrap(xp.stack([f(5), f(3), f(1)], axis=dim), was_tensor)


def rgb_to_hsl(image, dim=-3):
    """RGB in [0, 1] -> HSL: H as in HSV, L = (max + min)/2, S = (max - min) / (1 - |2L - 1|) (0 for greys)."""
    array, was_tensor = _unwrap(image, "rgb_to_hsl")
    r, g, b = _channels(array, dim, "rgb_to_hsl")
    maxc, minc, chroma = _extremes(r, g, b)
    lightness = (maxc + minc) / 2
    denominator = 1 - xp.abs(2 * lightness - 1)  # 0 only for black and white, whose chroma is 0 too
    s = xp.where(chroma == 0, 0, chroma / xp.where(chroma == 0, 1, denominator)).astype(array.dtype, copy=False)
    return _wrap(xp.stack([_hue(r, g, b, maxc, chroma), s, lightness], axis=dim), was_tensor)


def hsl_to_rgb(image, dim=-3):
    """HSL -> RGB by the closed form f(n) = L - a·max(-1, min(k - 3, 9 - k, 1)), k = (n + 12H) mod 12,
    a = S·min(L, 1 - L), with R = f(0), G = f(8), B = f(4)."""
    array, was_tensor = _unwrap(image, "hsl_to_rgb")
    h, s, lightness = _channels(array, dim, "hsl_to_rgb")
    a = s * xp.minimum(lightness, 1 - lightness)
    h12 = (h % 1) * 12

    def f(n):
        k = n + h12
        k = xp.where(k >= 12, k - 12, k)  # (n + 12H) mod 12
        return lightness - a * xp.clip(xp.minimum(k - 3, 9 - k), -1, 1)

    return _wrap(xp.stack([f(0), f(8), f(4)], axis=dim), was_tensor)


def rgb_to_grayscale(image, num_output_channels=1, dim=-3):
    """Luma L = 0.2989 R + 0.587 G + 0.114 B (``LUMA_WEIGHTS``), kept as a channel axis of size 1, or
    repeated to 3 identical channels (``num_output_channels=3``) so an RGB network still accepts it."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: num_output_channels must be 1 or 3, got {num_output_channels}")
    array, was_tensor = _unwrap(image, "rgb_to_grayscale")
    r, g, b = _channels(array, dim, "rgb_to_grayscale")
    wr, wg, wb = (xp.asarray(w, dtype=array.dtype) for w in LUMA_WEIGHTS)
    luma = xp.expand_dims(wr * r + wg * g + wb * b, dim)
    if num_output_channels == 3:
        shape = list(luma.shape)
        shape[dim] = 3
        luma = xp.broadcast_to(luma, shape).copy()
    return _wrap(luma, was_tensor)


# ---- torchvision's colour adjustments (ColorJitter's four operations) ---------------------------------


def _per_image(factor, array):
    """A factor as an array that broadcasts over (C, H, W): a number, or one per image of a batch."""
    factor = xp.asarray(factor, dtype=array.dtype)
    if factor.ndim == 0:
        return factor
    if array.ndim != 4 or factor.shape != (array.shape[0],):
        raise ValueError(
            f"expected one factor per image, shape ({array.shape[0] if array.ndim == 4 else 1},), for images of "
            f"shape {tuple(array.shape)}; got factors of shape {tuple(factor.shape)}"
        )
    return factor.reshape(-1, 1, 1, 1)


def _image(image, name):
    array, was_tensor = _unwrap(image, name)
    if array.ndim not in (3, 4) or array.shape[-3] not in (1, 3):
        raise ValueError(
            f"{name}: expected a (C, H, W) image or a (B, C, H, W) batch with C = 1 or 3, got shape "
            f"{tuple(array.shape)}"
        )
    return array, was_tensor


def _blend(img1, img2, ratio):
    """ratio·img1 + (1 - ratio)·img2, clipped to [0, 1]: torchvision's ``_blend`` for float images."""
    return xp.clip(ratio * img1 + (1 - ratio) * img2, 0, 1).astype(img1.dtype, copy=False)


def adjust_brightness(image, brightness_factor):
    """Scale every pixel by the factor: blend with black. 0 gives black, 1 the original, 2 twice as bright."""
    array, was_tensor = _image(image, "adjust_brightness")
    factor = _per_image(brightness_factor, array)
    return _wrap(_blend(array, xp.zeros((), dtype=array.dtype), factor), was_tensor)


def adjust_contrast(image, contrast_factor):
    """Blend with the image's mean grey level (the mean luma of each image): 0 gives a flat grey image,
    1 the original, 2 doubles every pixel's distance from the mean."""
    array, was_tensor = _image(image, "adjust_contrast")
    factor = _per_image(contrast_factor, array)
    grey = rgb_to_grayscale(array) if array.shape[-3] == 3 else array
    mean = grey.mean(axis=(-3, -2, -1), keepdims=True, dtype=array.dtype)
    return _wrap(_blend(array, mean, factor), was_tensor)


def adjust_saturation(image, saturation_factor):
    """Blend with the image's own greyscale version: 0 gives grey, 1 the original, 2 doubles the
    saturation. A one-channel image has no saturation and comes back unchanged."""
    array, was_tensor = _image(image, "adjust_saturation")
    if array.shape[-3] == 1:
        return _wrap(array.copy(), was_tensor)
    factor = _per_image(saturation_factor, array)
    return _wrap(_blend(array, rgb_to_grayscale(array), factor), was_tensor)


def adjust_hue(image, hue_factor):
    """Rotate the hue: H' = (H + hue_factor) mod 1 in HSV space, S and V unchanged. hue_factor lies in
    [-0.5, 0.5] (half a turn either way); a one-channel image comes back unchanged."""
    factor = xp.asarray(hue_factor)
    if factor.size and float(xp.abs(factor).max()) > 0.5:
        raise ValueError(f"adjust_hue: hue_factor must lie in [-0.5, 0.5], got {hue_factor}")
    array, was_tensor = _image(image, "adjust_hue")
    if array.shape[-3] == 1:
        return _wrap(array.copy(), was_tensor)
    factor = _per_image(hue_factor, array)
    factor = factor[..., 0, :, :] if factor.ndim else factor  # broadcasts over the (B, H, W) hue plane
    hsv = rgb_to_hsv(array)
    h = hsv[..., 0, :, :]
    h[...] = (h + factor) % 1.0
    return _wrap(hsv_to_rgb(hsv), was_tensor)
