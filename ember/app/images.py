"""Image files for ``ember predict``: read, checked, and brought to what the model saw in training.

    batch = load_images(["digit.png"], size=28, channels=1, dataset="mnist")   # [(28, 28, 1) uint8]

Each file is opened with Pillow (imported here, lazily: ``pip install 'ember[images]'``), transparent
pixels are laid on white (a digit drawn on a transparent canvas is a dark digit on a light page), the
picture is converted to grey or RGB as the model expects and resized to its input size.

MNIST, Fashion-MNIST and DigitsMini are light strokes on a black background; a photo or a scan of a digit is
dark ink on light paper, which such a model misreads with confident nonsense. So for a one-channel model
an image whose border is mostly light (mean border brightness above one half) is inverted, and the note
says so on stderr::

    digit.png: light background, inverted to white-on-black as in MNIST

A file that is missing, a folder, or not an image Pillow can read is named in one UsageError line.
"""

import os
import sys

from ..backend import xp

#: Datasets whose images are light on a dark background (all the one-channel ones Ember ships).
DARK_BACKGROUND = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "digits-mini": "MNIST"}


def _usage_error(message):
    from .usage import UsageError

    return UsageError(message)


def _pillow():
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as error:
        raise _usage_error("reading images needs Pillow: pip install 'ember[images]'") from error
    return Image, UnidentifiedImageError


def border_brightness(gray):
    """Mean of the outermost rows and columns of a 2-D uint8 image, scaled to [0, 1]."""
    g = gray.astype(xp.float64) / 255.0
    if min(g.shape) < 3:
        return float(g.mean())
    border = xp.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    return float(border.mean())


def load_image(path, size, channels, dataset=None, log=None):
    """One image file as a ``(size, size, channels)`` uint8 array (see the module docstring)."""
    Image, UnidentifiedImageError = _pillow()
    path = os.fspath(path)
    if os.path.isdir(path):
        raise _usage_error(f"{path} is a folder, not an image file")
    if not os.path.exists(path):
        raise _usage_error(f"no image at {path}")
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(page, rgba)
            img = img.convert("L" if channels == 1 else "RGB")
    except UnidentifiedImageError:
        raise _usage_error(f"{path} is not an image file Pillow can read (PNG, JPEG, BMP, GIF, ...)") from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated or damaged image data
        raise _usage_error(f"{path}: cannot read the image ({error})") from None
    if img.width == 0 or img.height == 0:
        raise _usage_error(f"{path} is an empty image ({img.width}x{img.height})")
    if channels == 1:
        gray = xp.asarray(img, dtype=xp.uint8)
        name = DARK_BACKGROUND.get(dataset) if dataset is not None else "MNIST"
        if name is not None and border_brightness(gray) > 0.5:
            img = Image.fromarray(255 - gray)
            (log or _stderr)(f"{path}: light background, inverted to white-on-black as in {name}")
    img = img.resize((size, size), Image.BILINEAR)
    return xp.asarray(img, dtype=xp.uint8).reshape(size, size, channels)


def load_images(paths, size, channels, dataset=None, log=None):
    """Several files, each a ``(size, size, channels)`` uint8 array (a list, ready for ``xp.stack``)."""
    return [load_image(p, size, channels, dataset, log) for p in paths]


def _stderr(message):
    print(message, file=sys.stderr)
