"""The PIL half of the functional transforms (torchvision's ``functional_pil``): every operation is one
Pillow call, so the pixels are exactly those torchvision gives for PIL images.

Pillow is optional (``pip install ember[images]``): it is imported on first use, never at import time.
``is_pil_image`` looks at ``sys.modules`` first, so checking an input never imports Pillow either
(whoever holds a PIL image has already imported it).
"""

import sys

import numpy as np


def pil():
    """The ``PIL.Image`` module, with a clear error when Pillow is missing."""
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - Pillow is installed where the tests run
        raise ImportError(
            "ember.vision.transforms needs Pillow for PIL images: pip install ember[images] (or pip install pillow)"
        ) from error
    return Image


def is_pil_image(img):
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(img, module.Image)


def _check(img, name):
    if not is_pil_image(img):
        raise TypeError(f"{name}: img should be a PIL Image, got {type(img).__name__}")


def get_dimensions(img):
    """[channels, height, width]; a palette ('P') image has one channel, as in torchvision."""
    _check(img, "get_dimensions")
    width, height = img.size
    return [1 if img.mode == "P" else len(img.getbands()), height, width]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


def parse_fill(fill, img, name="fillcolor"):
    """torchvision's ``_parse_fill``: a number or sequence -> the keyword Pillow expects (an int, or a
    tuple of one int per band; floats only for mode 'F')."""
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * num_channels
        elif len(fill) != num_channels:
            raise ValueError(
                f"The number of elements in 'fill' does not match the number of channels of the image "
                f"({len(fill)} != {num_channels})"
            )
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


# ---- geometry -----------------------------------------------------------------------------------------------


def hflip(img):
    _check(img, "hflip")
    return img.transpose(pil().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    _check(img, "vflip")
    return img.transpose(pil().Transpose.FLIP_TOP_BOTTOM)


def crop(img, top, left, height, width):
    """Pixels outside the image come back as zeros (Pillow's crop)."""
    _check(img, "crop")
    return img.crop((left, top, left + width, top + height))


def resize(img, size, interpolation):
    """``size`` is [h, w]; Pillow takes (w, h). Pillow's filters antialias when shrinking."""
    _check(img, "resize")
    return img.resize((size[1], size[0]), interpolation)


def pad(img, padding, fill=0, padding_mode="constant"):
    """``padding`` is [left, top, right, bottom] (negative values crop). Constant padding is
    ``ImageOps.expand``; the other modes go through ``np.pad`` on the pixel array, as torchvision does."""
    from PIL import ImageOps

    _check(img, "pad")
    left, top, right, bottom = padding
    if padding_mode == "constant" and min(padding) >= 0:
        opts = parse_fill(fill, img, name="fill")
        if img.mode == "P":
            palette = img.getpalette()
            out = ImageOps.expand(img, border=(left, top, right, bottom), **opts)
            out.putpalette(palette)
            return out
        return ImageOps.expand(img, border=(left, top, right, bottom), **opts)
    if min(padding) < 0:  # crop the negative sides first
        width, height = img.size
        img = img.crop((-min(left, 0), -min(top, 0), width + min(right, 0), height + min(bottom, 0)))
        left, top, right, bottom = (max(p, 0) for p in padding)
    if padding_mode == "constant":
        return pad(img, [left, top, right, bottom], fill, "constant")
    palette = img.getpalette() if img.mode == "P" else None
    array = np.asarray(img)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if array.ndim == 3 else ())
    out = pil().fromarray(np.pad(array, widths, mode=padding_mode))
    if palette is not None:  # the padded indices come back as 'L'; putpalette makes them 'P' again
        out.putpalette(palette)
    return out


def affine(img, matrix, interpolation, fill=None):
    """``matrix`` maps output pixel coordinates to input ones (Pillow's AFFINE data, 6 numbers)."""
    _check(img, "affine")
    return img.transform(img.size, pil().Transform.AFFINE, matrix, interpolation, **parse_fill(fill, img))


def rotate(img, angle, interpolation, expand=False, center=None, fill=None):
    _check(img, "rotate")
    return img.rotate(angle, interpolation, expand, center, **parse_fill(fill, img))


def perspective(img, coeffs, interpolation, fill=None):
    _check(img, "perspective")
    return img.transform(img.size, pil().Transform.PERSPECTIVE, coeffs, interpolation, **parse_fill(fill, img))


# ---- colour ---------------------------------------------------------------------------------------------------


def to_grayscale(img, num_output_channels=1):
    """ITU-R 601-2 luma, Pillow's convert('L'): L = R·299/1000 + G·587/1000 + B·114/1000."""
    _check(img, "to_grayscale")
    img = img.convert("L")
    if num_output_channels == 3:
        grey = np.asarray(img)
        img = pil().fromarray(np.ascontiguousarray(np.dstack([grey, grey, grey])), "RGB")
    elif num_output_channels != 1:
        raise ValueError(f"num_output_channels should be either 1 or 3, got {num_output_channels}")
    return img


def _enhance(img, enhancer, factor, name):
    from PIL import ImageEnhance

    _check(img, name)
    return getattr(ImageEnhance, enhancer)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    return _enhance(img, "Brightness", brightness_factor, "adjust_brightness")


def adjust_contrast(img, contrast_factor):
    return _enhance(img, "Contrast", contrast_factor, "adjust_contrast")


def adjust_saturation(img, saturation_factor):
    return _enhance(img, "Color", saturation_factor, "adjust_saturation")


def adjust_sharpness(img, sharpness_factor):
    return _enhance(img, "Sharpness", sharpness_factor, "adjust_sharpness")


def adjust_hue(img, hue_factor):
    """Shift the H channel of Pillow's HSV by hue_factor · 255 (mod 256): hue is a circle."""
    _check(img, "adjust_hue")
    mode = img.mode
    if mode in ("L", "1", "I", "F"):
        return img
    h, s, v = img.convert("HSV").split()
    # torchvision adds np.uint8(hue_factor * 255): the float is truncated toward zero, then wraps mod 256.
    shifted = (np.asarray(h).astype(np.int64) + int(hue_factor * 255)) % 256
    h = pil().fromarray(shifted.astype(np.uint8), "L")
    return pil().merge("HSV", (h, s, v)).convert(mode)


def adjust_gamma(img, gamma, gain=1.0):
    """out = 255 · gain · (in / 255)^γ through a lookup table, rounded (torchvision's PIL path)."""
    _check(img, "adjust_gamma")
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(e / 255.0, gamma)) for e in range(256)] * 3
    return img.point(table).convert(mode)


def _imageops(name, img, *args):
    from PIL import ImageOps

    _check(img, name)
    return getattr(ImageOps, name)(img, *args)


def invert(img):
    return _imageops("invert", img)


def posterize(img, bits):
    return _imageops("posterize", img, bits)


def solarize(img, threshold):
    return _imageops("solarize", img, threshold)


def autocontrast(img):
    return _imageops("autocontrast", img)


def equalize(img):
    return _imageops("equalize", img)
