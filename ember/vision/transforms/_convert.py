"""Input checking and the conversions between PIL images, NumPy arrays and ember Tensors
(torchvision's ``to_tensor``, ``pil_to_tensor``, ``to_pil_image``, ``convert_image_dtype``)."""

from enum import Enum

import numpy as np

from ... import backend
from ...backend import xp
from ...tensor import Tensor
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t


class InterpolationMode(Enum):
    """Interpolation modes (torchvision's names and string values)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # PIL only
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's resampling constants (Image.Resampling), written out so that no Pillow import is needed.
PIL_MODES = {
    InterpolationMode.NEAREST: 0,
    InterpolationMode.NEAREST_EXACT: 0,
    InterpolationMode.BILINEAR: 2,
    InterpolationMode.BICUBIC: 3,
    InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5,
    InterpolationMode.LANCZOS: 1,
}
_FROM_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
             4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def interpolation_mode(interpolation, name):
    """An InterpolationMode from the mode itself, its string value or a Pillow integer constant."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int) and interpolation in _FROM_INT:
        return _FROM_INT[interpolation]
    if isinstance(interpolation, str):
        try:
            return InterpolationMode(interpolation)
        except ValueError:
            pass
    raise TypeError(
        f"{name}: argument interpolation should be an InterpolationMode or a corresponding Pillow integer "
        f"constant, got {interpolation!r}; use e.g. InterpolationMode.BILINEAR"
    )


# ---- input checking ------------------------------------------------------------------------------------------


def is_tensor(img):
    return isinstance(img, Tensor)


def check_image(img, name, pil=True):
    """Raise a TypeError naming ``name`` unless img is a PIL image (when allowed) or an image Tensor."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(
                f"{name}: expected an image Tensor of shape (..., C, H, W) or (H, W), got shape {tuple(img.shape)}; "
                "reshape the data to (C, H, W) first"
            )
        return
    if pil and F_pil.is_pil_image(img):
        return
    kinds = "a PIL Image or an ember Tensor (..., C, H, W)" if pil else "an ember Tensor (..., C, H, W)"
    if isinstance(img, np.ndarray):
        fix = "convert an (H, W, C) array with transforms.ToTensor() first (or ember.tensor(array) if it is already (C, H, W))"
    elif not pil and F_pil.is_pil_image(img):
        fix = "convert the PIL image with transforms.ToTensor() or PILToTensor() first"
    else:
        fix = "load images with PIL.Image.open(path).convert('RGB') or build a Tensor"
    raise TypeError(f"{name}: expected {kinds}, got {type(img).__module__}.{type(img).__name__}; {fix}")


def array_of(img, name):
    """The ndarray behind an image Tensor (checked)."""
    check_image(img, name, pil=False)
    return img.array


def get_dimensions(img):
    """[channels, height, width] of a PIL image or an image Tensor."""
    check_image(img, "get_dimensions")
    if is_tensor(img):
        return [F_t.num_channels(img.array), *img.shape[-2:]]
    return F_pil.get_dimensions(img)


def get_image_size(img):
    """[width, height]."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# ---- conversions -----------------------------------------------------------------------------------------------

_PIL_DTYPES = {"I": np.int32, "I;16": np.uint16, "I;16B": np.uint16, "F": np.float32}


def _float_tensor(array):
    """uint8 -> default float dtype / 255 (what ToTensor promises); other dtypes unchanged."""
    if array.dtype == np.uint8:
        out = xp.ascontiguousarray(array, dtype=backend.default_dtype)
        out /= 255
        return Tensor(out)
    return Tensor(xp.ascontiguousarray(array))


def to_tensor(pic):
    """PIL image or (H, W[, C]) ndarray -> (C, H, W) Tensor; uint8 values v become v / 255 (float32)."""
    if F_pil.is_pil_image(pic):
        array = np.array(pic, _PIL_DTYPES.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            array = 255 * array
        array = array.reshape(pic.size[1], pic.size[0], -1)
        return _float_tensor(array.transpose(2, 0, 1))
    if not isinstance(pic, np.ndarray):
        raise TypeError(
            f"to_tensor: pic should be PIL Image or ndarray, got {type(pic).__module__}.{type(pic).__name__}"
            + ("; it is already a Tensor: drop ToTensor() or use ConvertImageDtype()" if is_tensor(pic) else "")
        )
    if pic.ndim not in (2, 3):
        raise ValueError(f"to_tensor: pic should be 2/3 dimensional (H, W[, C]), got {pic.ndim} dimensions {pic.shape}")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    if pic.dtype == np.bool_:
        pic = pic.astype(np.uint8) * 255
    return _float_tensor(pic.transpose(2, 0, 1))


def pil_to_tensor(pic):
    """PIL image -> (C, H, W) Tensor of its own dtype (uint8 for 'L', 'RGB', ...), values unscaled."""
    if not F_pil.is_pil_image(pic):
        raise TypeError(f"pil_to_tensor: pic should be PIL Image, got {type(pic).__module__}.{type(pic).__name__}")
    array = np.array(pic, _PIL_DTYPES.get(pic.mode, None), copy=True)
    if pic.mode == "1":
        array = array.astype(np.uint8) * 255
    array = array.reshape(pic.size[1], pic.size[0], -1)
    return Tensor(xp.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """(C, H, W) Tensor or (H, W, C) ndarray -> PIL image. Float data are taken as [0, 1] and become
    uint8 by ``(x * 255).astype(uint8)`` (truncation, as torchvision) unless mode is 'F'."""
    if is_tensor(pic):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: pic should be 2/3 dimensional (C, H, W), got {pic.ndim} dimensions {tuple(pic.shape)}")
        array = np.asarray(pic.array)
        array = array.transpose(1, 2, 0) if array.ndim == 3 else array
    elif isinstance(pic, np.ndarray):
        array = pic
    else:
        raise TypeError(f"to_pil_image: pic should be Tensor or ndarray, got {type(pic).__module__}.{type(pic).__name__}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"to_pil_image: pic should be 2/3 dimensional, got {array.ndim} dimensions")
    if array.shape[-1] > 4:
        raise ValueError(
            f"to_pil_image: pic should not have > 4 channels, got {array.shape[-1]} channels "
            f"(shape {array.shape}); a Tensor must be (C, H, W), an ndarray (H, W, C)"
        )
    if array.dtype.kind == "f" and mode != "F":
        array = (array * 255).astype(np.uint8)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    channels = array.shape[2]
    if channels == 1:
        array = array[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(array.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"to_pil_image: incorrect mode ({mode}) supplied for input type {array.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"to_pil_image: only modes {permitted} are supported for {channels}-channel inputs, got {mode!r}")
        if mode is None and array.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"to_pil_image: input type {array.dtype} is not supported")
    Image = F_pil.pil()
    # Pillow infers these modes from the dtype and shape (and deprecates passing them); the others
    # (YCbCr, HSV, CMYK, RGBX) are named explicitly.
    inferred = {"L": np.uint8, "LA": np.uint8, "RGB": np.uint8, "RGBA": np.uint8, "I": np.int32,
                "I;16": np.uint16, "F": np.float32}
    if mode in inferred:
        return Image.fromarray(np.ascontiguousarray(array, dtype=inferred[mode]))
    return Image.fromarray(np.ascontiguousarray(array), mode)


def convert_image_dtype(image, dtype=None):
    """Convert an image Tensor to ``dtype`` rescaling values: float [0, 1] <-> integer [0, max]."""
    if not is_tensor(image):
        raise TypeError(f"convert_image_dtype: input img should be Tensor Image, got {type(image).__name__}")
    dtype = backend.float32 if dtype is None else dtype
    return Tensor(F_t.convert_image_dtype(image.array, dtype))
