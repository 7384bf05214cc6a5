"""torchvision.transforms.functional at ember's path: every operation for PIL images (through Pillow,
so the pixels are Pillow's) and for ember Tensors of shape (..., C, H, W) (NumPy, torch's tensor
semantics). A PIL image comes back as a PIL image, a Tensor as a Tensor of the same dtype.

Sizes are [height, width] as in torchvision; PIL's own ``img.size`` is (width, height).
"""

import numbers
import warnings

from ...tensor import Tensor
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t
from . import _resample
from ._convert import (  # noqa: F401  (re-exported: torchvision's names)
    PIL_MODES,
    InterpolationMode,
    array_of,
    check_image,
    convert_image_dtype,
    get_dimensions,
    get_image_num_channels,
    get_image_size,
    interpolation_mode,
    is_tensor,
    pil_to_tensor,
    to_pil_image,
    to_tensor,
)


def _tensor_op(img, name, fn, *args):
    """Apply the array function ``fn`` to the Tensor ``img`` and wrap the result."""
    return Tensor(fn(array_of(img, name), *args))


def _dispatch(img, name, pil_fn, tensor_fn, *args):
    check_image(img, name)
    if is_tensor(img):
        return _tensor_op(img, name, tensor_fn, *args)
    return pil_fn(img, *args)


# ---- conversion and normalisation ------------------------------------------------------------------------------


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean[c]) / std[c] per channel c of a float (..., C, H, W) Tensor."""
    if not is_tensor(tensor):
        raise TypeError(
            f"normalize: img should be a Tensor image, got {type(tensor).__name__}; apply ToTensor() before Normalize()"
        )
    array = tensor.array
    if array.dtype.kind != "f":
        raise TypeError(
            f"normalize: input tensor should be a float tensor, got {array.dtype}; "
            "use ToTensor() or ConvertImageDtype(ember.float32) first"
        )
    if array.ndim < 3:
        raise ValueError(
            f"normalize: expected tensor to be a tensor image of size (..., C, H, W), got shape {tuple(array.shape)}"
        )
    out = F_t.normalize(array, mean, std, inplace)
    return tensor if inplace else Tensor(out)


# ---- geometry --------------------------------------------------------------------------------------------------


def hflip(img):
    """Mirror left-right."""
    return _dispatch(img, "hflip", F_pil.hflip, F_t.hflip)


def vflip(img):
    """Mirror top-bottom."""
    return _dispatch(img, "vflip", F_pil.vflip, F_t.vflip)


def crop(img, top, left, height, width):
    """The box [top, top + height) x [left, left + width); outside the image reads zeros."""
    return _dispatch(img, "crop", F_pil.crop, F_t.crop, int(top), int(left), int(height), int(width))


def _crop_size(size, name):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got {size}")
    return tuple(size)


def center_crop(img, output_size):
    """The central crop, top = round((H - h) / 2); an image smaller than the crop is zero-padded first."""
    crop_height, crop_width = _crop_size(output_size, "center_crop")
    _, height, width = get_dimensions(img)
    if crop_width > width or crop_height > height:
        padding = [
            (crop_width - width) // 2 if crop_width > width else 0,
            (crop_height - height) // 2 if crop_height > height else 0,
            (crop_width - width + 1) // 2 if crop_width > width else 0,
            (crop_height - height + 1) // 2 if crop_height > height else 0,
        ]
        img = pad(img, padding, fill=0)
        _, height, width = get_dimensions(img)
        if crop_width == width and crop_height == height:
            return img
    top = int(round((height - crop_height) / 2.0))
    left = int(round((width - crop_width) / 2.0))
    return crop(img, top, left, crop_height, crop_width)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """crop, then resize to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def five_crop(img, size):
    """(top-left, top-right, bottom-left, bottom-right, center) crops of ``size``."""
    crop_height, crop_width = _crop_size(size, "five_crop")
    _, height, width = get_dimensions(img)
    if crop_width > width or crop_height > height:
        raise ValueError(f"five_crop: requested crop size {(crop_height, crop_width)} is bigger than input size {(height, width)}")
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, width - crop_width, crop_height, crop_width)
    bl = crop(img, height - crop_height, 0, crop_height, crop_width)
    br = crop(img, height - crop_height, width - crop_width, crop_height, crop_width)
    return tl, tr, bl, br, center_crop(img, [crop_height, crop_width])


def ten_crop(img, size, vertical_flip=False):
    """The five crops of the image and the five of its flipped copy (horizontal unless vertical_flip)."""
    first = five_crop(img, size)
    return first + five_crop(vflip(img) if vertical_flip else hflip(img), size)


def compute_resized_output_size(image_size, size, max_size=None):
    """[new_h, new_w]. One number resizes the SMALLER edge to it and the longer to int(size · long / short)."""
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if len(size) == 1:
        new_short = size[0]
        new_long = int(new_short * long / short)
        if max_size is not None:
            if max_size <= new_short:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size for the smaller edge size = {size}"
                )
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        return [new_h, new_w]
    return [size[0], size[1]]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size``: [h, w], or an int (or [int]) the smaller edge becomes, aspect ratio kept.

    PIL images use Pillow's filter (which always antialiases when shrinking); Tensors use torch's
    interpolate semantics, antialiased for bilinear/bicubic when ``antialias`` (see ``_resample``).
    """
    interpolation = interpolation_mode(interpolation, "resize")
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"resize: size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError(
                "resize: max_size should only be passed if size specifies the length of the smaller edge, "
                "i.e. size should be an int or a sequence of length 1"
            )
    elif not isinstance(size, int):
        raise TypeError(f"resize: size should be an int or a sequence, got {type(size).__name__}")
    _, height, width = get_dimensions(img)
    output_size = compute_resized_output_size((height, width), [size] if isinstance(size, int) else list(size), max_size)
    if [height, width] == output_size:
        return img
    if is_tensor(img):
        if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                                 InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
            raise ValueError(f"resize: interpolation {interpolation} is only supported for PIL images")
        return _tensor_op(img, "resize", _resample.resize, output_size, interpolation.value, bool(antialias))
    if antialias is False:
        warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
    return F_pil.resize(img, output_size, PIL_MODES[interpolation])


def _pad_arguments(padding, fill, padding_mode):
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"pad: got inappropriate padding arg {padding!r}; use an int or a sequence of 1, 2 or 4 ints")
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"pad: got inappropriate fill arg {fill!r}; use a number or one number per channel")
    if not isinstance(padding_mode, str):
        raise TypeError(f"pad: got inappropriate padding_mode arg {padding_mode!r}")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got {padding_mode!r}")


def parse_padding(padding):
    """torchvision's padding -> [left, top, right, bottom]: p (all sides), [lr, tb], or [l, t, r, b]."""
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding * 2
    return padding


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad every side: ``padding`` = p, [left/right, top/bottom] or [left, top, right, bottom]; modes
    constant (``fill``), edge, reflect, symmetric."""
    _pad_arguments(padding, fill, padding_mode)
    check_image(img, "pad")
    ltrb = parse_padding(padding)
    if is_tensor(img):
        if isinstance(fill, (tuple, list)):
            if len(fill) != 1:
                raise TypeError("pad: a Tensor image takes one number as fill, got a sequence; fill per channel works for PIL images")
            fill = fill[0]
        return _tensor_op(img, "pad", F_t.pad, ltrb, fill, padding_mode)
    return F_pil.pad(img, ltrb, fill, padding_mode)


def _tensor_fill(fill, channels):
    if fill is None:
        return None
    if isinstance(fill, (int, float)):
        return [float(fill)] * channels
    fill = [float(f) for f in fill]
    if len(fill) not in (1, channels):
        raise ValueError(f"fill: the number of elements ({len(fill)}) does not match the number of channels ({channels})")
    return fill


def _warp_mode(interpolation, name):
    return interpolation_mode(interpolation, name)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` ((x, y), default the image centre);
    ``expand`` grows the output to hold the whole rotated image; uncovered pixels get ``fill``."""
    interpolation = _warp_mode(interpolation, "rotate")
    if not isinstance(angle, (int, float)):
        raise TypeError(f"rotate: argument angle should be int or float, got {type(angle).__name__}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("rotate: argument center should be a sequence (x, y)")
    check_image(img, "rotate")
    if not is_tensor(img):
        return F_pil.rotate(img, angle, PIL_MODES[interpolation], expand, center, fill)
    channels, height, width = get_dimensions(img)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, (width, height))]
    matrix = _resample.inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    out_w, out_h = _resample.affine_output_size(matrix, width, height) if expand else (width, height)
    src_x, src_y = _resample.affine_grid(matrix, width, height, out_w, out_h)
    return _tensor_op(img, "rotate", _resample.apply_grid, src_x, src_y, interpolation.value, _tensor_fill(fill, channels))


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotation by ``angle`` (degrees), translation (pixels), scale and shear (degrees; a number or
    (x, y)) about ``center``, keeping the image centre fixed; uncovered pixels get ``fill``."""
    interpolation = _warp_mode(interpolation, "affine")
    if not isinstance(angle, (int, float)):
        raise TypeError(f"affine: argument angle should be int or float, got {type(angle).__name__}")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise TypeError(f"affine: argument translate should be a sequence of length 2, got {translate!r}")
    if scale <= 0.0:
        raise ValueError(f"affine: argument scale should be positive, got {scale}")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"affine: shear should be a sequence of length 2, got {len(shear)}")
    check_image(img, "affine")
    channels, height, width = get_dimensions(img)
    if not is_tensor(img):
        pil_center = [width * 0.5, height * 0.5] if center is None else center
        matrix = _resample.inverse_affine_matrix(pil_center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix, PIL_MODES[interpolation], fill)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, (width, height))]
    matrix = _resample.inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale, shear)
    src_x, src_y = _resample.affine_grid(matrix, width, height, width, height)
    return _tensor_op(img, "affine", _resample.apply_grid, src_x, src_y, interpolation.value, _tensor_fill(fill, channels))


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that the four ``startpoints`` ([x, y], clockwise from top-left) land on ``endpoints``."""
    interpolation = _warp_mode(interpolation, "perspective")
    coeffs = _resample.perspective_coeffs(startpoints, endpoints)
    check_image(img, "perspective")
    if not is_tensor(img):
        return F_pil.perspective(img, coeffs, PIL_MODES[interpolation], fill)
    channels, height, width = get_dimensions(img)
    src_x, src_y = _resample.perspective_grid(coeffs, width, height)
    return _tensor_op(img, "perspective", _resample.apply_grid, src_x, src_y, interpolation.value, _tensor_fill(fill, channels))


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel of odd ``kernel_size`` ([kx, ky] or int) and ``sigma`` ([σx, σy],
    a number, or None: 0.3 · ((k - 1) · 0.5 - 1) + 0.8). PIL images are blurred as tensors, as torchvision."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"gaussian_blur: kernel_size should be int or a sequence of integers, got {type(kernel_size).__name__}")
    kernel_size = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(kernel_size) == 1:
        kernel_size = kernel_size * 2
    if len(kernel_size) != 2:
        raise ValueError(f"gaussian_blur: if kernel_size is a sequence its length should be 2, got {len(kernel_size)}")
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f"gaussian_blur: kernel_size should have odd and positive integers, got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    elif isinstance(sigma, (int, float)):
        sigma = [float(sigma)] * 2
    else:
        sigma = [float(s) for s in sigma] * (2 if len(sigma) == 1 else 1)
    if len(sigma) != 2:
        raise ValueError(f"gaussian_blur: if sigma is a sequence, its length should be 2, got {len(sigma)}")
    if any(s <= 0.0 for s in sigma):
        raise ValueError(f"gaussian_blur: sigma should have positive values, got {sigma}")
    check_image(img, "gaussian_blur")
    if is_tensor(img):
        return _tensor_op(img, "gaussian_blur", _resample.gaussian_blur, kernel_size, sigma)
    out = _resample.gaussian_blur(pil_to_tensor(img).array, kernel_size, sigma)
    return to_pil_image(Tensor(out), mode=img.mode)


def erase(img, i, j, h, w, v, inplace=False):
    """Set img[..., i:i+h, j:j+w] = v (a Tensor image only)."""
    if not is_tensor(img):
        raise TypeError(f"erase: img should be a Tensor image, got {type(img).__name__}; apply ToTensor() before erasing")
    value = v.array if is_tensor(v) else v
    out = F_t.erase(img.array, i, j, h, w, value, inplace)
    return img if inplace else Tensor(out)


# ---- colour -----------------------------------------------------------------------------------------------------


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma: PIL's convert('L') (R·299/1000 + G·587/1000 + B·114/1000, rounded) for PIL images,
    0.2989 R + 0.587 G + 0.114 B for Tensors (torchvision's weights)."""
    return _dispatch(img, "rgb_to_grayscale", F_pil.to_grayscale, F_t.rgb_to_grayscale, num_output_channels)


def to_grayscale(img, num_output_channels=1):
    if not F_pil.is_pil_image(img):
        raise TypeError(f"to_grayscale: input should be a PIL Image, got {type(img).__name__}; use rgb_to_grayscale for Tensors")
    return F_pil.to_grayscale(img, num_output_channels)


def _check_factor(value, name):
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    """factor · img (0 black, 1 unchanged)."""
    _check_factor(brightness_factor, "brightness_factor")
    return _dispatch(img, "adjust_brightness", F_pil.adjust_brightness, F_t.adjust_brightness, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey (0 flat grey, 1 unchanged)."""
    _check_factor(contrast_factor, "contrast_factor")
    return _dispatch(img, "adjust_contrast", F_pil.adjust_contrast, F_t.adjust_contrast, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blend with the grey image (0 grey, 1 unchanged)."""
    _check_factor(saturation_factor, "saturation_factor")
    return _dispatch(img, "adjust_saturation", F_pil.adjust_saturation, F_t.adjust_saturation, saturation_factor)


def adjust_hue(img, hue_factor):
    """Rotate the hue by hue_factor (a fraction of the colour wheel) in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _dispatch(img, "adjust_hue", F_pil.adjust_hue, F_t.adjust_hue, hue_factor)


def adjust_gamma(img, gamma, gain=1):
    """gain · img^gamma on intensities in [0, 1]."""
    return _dispatch(img, "adjust_gamma", F_pil.adjust_gamma, F_t.adjust_gamma, gamma, gain)


def adjust_sharpness(img, sharpness_factor):
    """Blend with a smoothed copy (0 blurred, 1 unchanged, 2 sharpened)."""
    _check_factor(sharpness_factor, "sharpness_factor")
    return _dispatch(img, "adjust_sharpness", F_pil.adjust_sharpness, F_t.adjust_sharpness, sharpness_factor)


def invert(img):
    """max - img (255 - v for uint8, 1 - v for floats)."""
    return _dispatch(img, "invert", F_pil.invert, F_t.invert)


def posterize(img, bits):
    """Keep the top ``bits`` (0..8) bits of every channel (uint8 images)."""
    if not (isinstance(bits, int) and 0 <= bits <= 8):
        raise ValueError(f"posterize: the number of bits should be between 0 and 8, got {bits}")
    return _dispatch(img, "posterize", F_pil.posterize, F_t.posterize, bits)


def solarize(img, threshold):
    """Invert every pixel value at or above ``threshold``."""
    return _dispatch(img, "solarize", F_pil.solarize, F_t.solarize, threshold)


def autocontrast(img):
    """Stretch each channel so that its darkest pixel becomes 0 and its lightest the maximum."""
    return _dispatch(img, "autocontrast", F_pil.autocontrast, F_t.autocontrast)


def equalize(img):
    """Histogram equalisation (uint8 images)."""
    return _dispatch(img, "equalize", F_pil.equalize, F_t.equalize)
