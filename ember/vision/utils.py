"""torchvision.utils: ``make_grid`` (a batch of images tiled into one image) and ``save_image``.

    grid = make_grid(images, nrow=8, padding=2)     # images (B, C, H, W) -> (3, rows·(H+2)+2, cols·(W+2)+2)
    save_image(fake, "samples.png", normalize=True)

The layout is torchvision's exactly: ``min(nrow, B)`` images per row, ``ceil(B / nrow)`` rows, every image
in a cell of ``(H + padding) × (W + padding)`` pixels filled with ``pad_value``, plus one more ``padding``
at the right and bottom edges; one-channel images become three channels (the same plane three times);
a batch of one image is returned unpadded. ``normalize=True`` maps ``value_range`` (default: the min and
max of the batch, or of each image with ``scale_each``) linearly to [0, 1] after clamping to it.

Both work on the data, outside autograd, as torchvision's do (they run under ``torch.no_grad()``): the
grid is a new Tensor that does not require grad, whatever its input.
"""

import math
import os
import warnings

from ..backend import xp
from ..serialization import write_atomically
from ..tensor import Tensor


def _pil_image():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "ember.vision.utils.save_image writes images with the optional Pillow package; install it with "
            "`pip install ember[images]` (or `pip install Pillow`)"
        ) from error
    return Image


def _as_batch(tensor):
    """A Tensor or a list of Tensors as one array; errors as torchvision's."""
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        return xp.stack([t.array for t in tensor], axis=0)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    return tensor.array


def _normalize(array, value_range, scale_each):
    """Clamp to ``value_range`` (or each image's/the batch's min..max) and map it to [0, 1], in the
    array's own dtype, as torchvision's ``norm_ip``: ``(clamp(x, lo, hi) - lo) / max(hi - lo, 1e-5)``."""
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
    if array.dtype.kind not in "f":
        raise RuntimeError(  # torch: "result type Float can't be cast to the desired output type Byte"
            f"make_grid(normalize=True) rescales in place and needs a floating-point tensor, got {array.dtype}; "
            f"convert it first with .float()"
        )

    def norm(img):
        low, high = (float(value_range[0]), float(value_range[1])) if value_range is not None else (
            float(img.min()), float(img.max()))
        scale = xp.asarray(max(high - low, 1e-5), dtype=img.dtype)
        return (xp.clip(img, low, high).astype(img.dtype) - xp.asarray(low, dtype=img.dtype)) / scale

    if scale_each:
        return xp.stack([norm(img) for img in array])
    return norm(array)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0,
              **kwargs):
    """Tile a batch ``(B, C, H, W)`` (or a list of ``(C, H, W)`` Tensors, or one ``(C, H, W)``/``(H, W)``
    image) into one ``(C', H', W')`` image; ``C' = 3`` when ``C = 1``. See the module docstring.

    Args: ``nrow`` — images per row; ``padding`` — pixels between images and at the edges;
    ``normalize`` — rescale to [0, 1] by ``value_range`` ``(min, max)`` (default: the data's own range, per
    image if ``scale_each``); ``pad_value`` — the value of the padding pixels. ``range=`` (torchvision
    0.9–0.12's name for ``value_range``, still in many tutorials) is taken with a warning, as they did; any
    other keyword is a TypeError, not silently ignored.
    """
    if "range" in kwargs:
        warnings.warn("make_grid: range will be deprecated, please use value_range instead.", stacklevel=2)
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid() got an unexpected keyword argument {next(iter(kwargs))!r}")
    array = _as_batch(tensor)
    if array.ndim == 2:  # one image, H × W
        array = array[None]
    if array.ndim == 3:  # one image, C × H × W
        if array.shape[0] == 1:
            array = xp.concatenate([array, array, array], axis=0)
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 1:  # single-channel images become grey RGB
        array = xp.concatenate([array, array, array], axis=1)
    if array.ndim != 4:
        raise ValueError(
            f"make_grid expects images (H, W), (C, H, W) or a batch (B, C, H, W); got shape {tuple(array.shape)}"
        )
    if normalize is True:
        array = _normalize(array, value_range, scale_each)
    if array.shape[0] == 1:
        return Tensor(xp.array(array[0]))

    nmaps = array.shape[0]
    xmaps = min(nrow, nmaps)  # images per row
    ymaps = int(math.ceil(float(nmaps) / xmaps))  # rows
    height, width = int(array.shape[2] + padding), int(array.shape[3] + padding)  # one cell
    grid = xp.full((array.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=array.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        top, left = y * height + padding, x * width + padding
        grid[:, top : top + height - padding, left : left + width - padding] = array[k]
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save ``tensor`` (an image, a batch or a list; values in [0, 1]) as an image file through Pillow.

    The batch is first tiled by :func:`make_grid` (``**kwargs`` are its arguments), then converted as
    torchvision does: ``uint8(clamp(x·255 + 0.5, 0, 255))``, rounding to the nearest level. ``fp`` is a
    path (written atomically: a temporary file renamed into place) or a binary file object; ``format``
    (``"PNG"``, ``"JPEG"``...) defaults to what the path's extension names.
    """
    grid = make_grid(tensor, **kwargs).array
    if grid.dtype.kind != "f":
        raise RuntimeError(f"save_image expects a floating-point tensor with values in [0, 1], got {grid.dtype}")
    ndarr = xp.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255)
    ndarr = ndarr.transpose(1, 2, 0).astype(xp.uint8)  # (H, W, C); the cast truncates, so +0.5 rounds
    Image = _pil_image()
    im = Image.fromarray(ndarr[:, :, 0] if ndarr.shape[2] == 1 else ndarr)
    if not isinstance(fp, (str, os.PathLike)):
        im.save(fp, format=format)
        return
    path = os.fspath(fp)
    if format is None:
        ext = os.path.splitext(path)[1].lower()
        format = Image.registered_extensions().get(ext)
        if format is None:
            raise ValueError(f"unknown file extension: {ext}")
    write_atomically(path, lambda f: im.save(f, format=format))
