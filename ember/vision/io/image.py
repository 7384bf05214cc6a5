"""Reading and writing images as torchvision.io does: uint8 tensors of shape (C, H, W), channels first.

Decoding goes through Pillow (the ``images`` extra). ``mode`` converts as torchvision's ``ImageReadMode``:
UNCHANGED keeps the file's channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; palette images become RGB or RGBA),
GRAY → 1, GRAY_ALPHA → 2, RGB → 3, RGB_ALPHA → 4.
"""

import enum
import io
import os

from ...backend import xp
from ...tensor import Tensor


class ImageReadMode(enum.Enum):
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = 4


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}


def _pil():
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - Pillow is in the images extra
        raise ImportError("ember.vision.io needs Pillow: pip install 'ember[images]'") from error
    return Image


def read_file(path):
    """The file's bytes as a 1-D uint8 tensor."""
    with open(os.fspath(path), "rb") as f:
        return Tensor(xp.frombuffer(f.read(), dtype=xp.uint8).copy())


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a JPEG/PNG/GIF/BMP/WebP given as a uint8 tensor of bytes (or a path) into (C, H, W) uint8."""
    if isinstance(input, (str, os.PathLike)):
        return read_image(input, mode, apply_exif_orientation)
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    data = input.numpy() if isinstance(input, Tensor) else xp.asarray(input)
    if data.dtype != xp.uint8 or data.ndim != 1:
        raise RuntimeError(f"decode_image: expected a 1-D uint8 tensor of file bytes, got {data.dtype} {data.shape}")
    Image = _pil()
    image = Image.open(io.BytesIO(data.tobytes()))
    if apply_exif_orientation:
        from PIL import ImageOps

        image = ImageOps.exif_transpose(image)
    if mode is ImageReadMode.UNCHANGED:
        if image.mode in ("P", "PA"):
            image = image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
        elif image.mode not in ("L", "LA", "RGB", "RGBA"):
            image = image.convert("RGB")
    else:
        image = image.convert(_PIL_MODES[mode])
    array = xp.asarray(image, dtype=xp.uint8)
    array = array[:, :, None] if array.ndim == 2 else array
    return Tensor(xp.ascontiguousarray(array.transpose(2, 0, 1)))  # (C, H, W)


decode_jpeg = decode_png = decode_image


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read an image file into a (C, H, W) uint8 tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _encode(input, fmt, **options):
    array = input.numpy() if isinstance(input, Tensor) else xp.asarray(input)
    if array.dtype != xp.uint8 or array.ndim != 3 or array.shape[0] not in (1, 3, 4):
        raise RuntimeError(
            f"write_{fmt.lower()}: expected a uint8 tensor of shape (C, H, W) with C in 1, 3, 4, got "
            f"{array.dtype} {tuple(array.shape)}"
        )
    hwc = array.transpose(1, 2, 0)
    image = _pil().fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def write_png(input, filename, compression_level=6):
    _write(filename, _encode(input, "PNG", compress_level=compression_level))


def write_jpeg(input, filename, quality=75):
    _write(filename, _encode(input, "JPEG", quality=quality))


def _write(filename, data):
    tmp = f"{os.fspath(filename)}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, filename)
