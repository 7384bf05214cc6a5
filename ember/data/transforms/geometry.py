"""Geometric augmentation and resampling: flips, crops, resize, random resized crops — per sample, vectorised."""

import math

from ...backend import xp
from ..dataloader import rng
from .base import Transform, as_batch, finish, is_pil, pair, vision


# ---- geometry: flips and crops ------------------------------------------------------------------------------


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p, independently per image of a batch."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        if is_pil(image):  # one PIL image: torchvision's flip, through Pillow
            return vision().functional.hflip(image) if rng().random() < self.p else image
        batch, was_tensor, single = as_batch(image, type(self).__name__)
        flip = rng().random(len(batch)) < self.p
        return finish(xp.where(flip[:, None, None, None], batch[..., ::-1], batch), was_tensor, single)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image upside down with probability p, independently per image of a batch."""

    def __call__(self, image):
        if is_pil(image):
            return vision().functional.vflip(image) if rng().random() < self.p else image
        batch, was_tensor, single = as_batch(image, type(self).__name__)
        flip = rng().random(len(batch)) < self.p
        return finish(xp.where(flip[:, None, None, None], batch[..., ::-1, :], batch), was_tensor, single)


def _crop(batch, top, left, height, width):
    """Per-image crops in one gather: the (h, w) windows of every position form a strided view
    (B, C, H-h+1, W-w+1, h, w), and fancy indexing picks window (top[b], left[b]) for image b."""
    windows = xp.lib.stride_tricks.sliding_window_view(batch, (height, width), axis=(2, 3))
    return windows[xp.arange(len(batch)), :, top, left]


def _padding(padding):
    """torchvision's padding: p (all sides), (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, int):
        return (padding,) * 4
    padding = tuple(padding)
    if len(padding) == 2:
        return padding * 2
    if len(padding) == 4:
        return padding
    raise ValueError(f"padding must be an int or a sequence of 2 or 4 ints, got {padding}")


class RandomCrop(Transform):
    """A random ``size`` crop, at an independent position per image, after optional padding.

    ``padding`` (torchvision's: int, (lr, tb) or (l, t, r, b)) surrounds the image first, with the value
    ``fill`` for ``padding_mode='constant'``, or by 'edge', 'reflect' or 'symmetric' padding; the classic
    CIFAR augmentation is ``RandomCrop(32, padding=4)``. ``pad_if_needed`` pads images smaller than
    ``size`` as torchvision does (by the shortfall on both sides).
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}")
        self.size = pair(size, "RandomCrop")
        self.padding = None if padding is None else _padding(padding)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def _pad(self, batch, left, top, right, bottom):
        if not any((left, top, right, bottom)):
            return batch
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return xp.pad(batch, widths, mode="constant", constant_values=self.fill)
        return xp.pad(batch, widths, mode=self.padding_mode)

    def __call__(self, image):
        if is_pil(image):  # torchvision's RandomCrop on the PIL image, same arguments
            pil_crop = vision().RandomCrop(self.size, self.padding, self.pad_if_needed, self.fill, self.padding_mode)
            return pil_crop(image)
        batch, was_tensor, single = as_batch(image, "RandomCrop")
        if self.padding is not None:
            batch = self._pad(batch, *self.padding)
        h, w = self.size
        if self.pad_if_needed:
            dh, dw = max(h - batch.shape[2], 0), max(w - batch.shape[3], 0)
            batch = self._pad(batch, dw, dh, dw, dh)
        height, width = batch.shape[2:]
        if h > height or w > width:
            raise ValueError(
                f"RandomCrop: crop size {(h, w)} is larger than the (padded) image {(height, width)}; "
                "use padding= or pad_if_needed=True"
            )
        generator = rng()
        top = generator.integers(0, height - h + 1, size=len(batch))
        left = generator.integers(0, width - w + 1, size=len(batch))
        return finish(_crop(batch, top, left, h, w), was_tensor, single)


class CenterCrop(Transform):
    """The central ``size`` crop; the offset round((H - h) / 2) is torchvision's."""

    def __init__(self, size):
        self.size = pair(size, "CenterCrop")

    def __call__(self, image):
        if is_pil(image):
            return vision().functional.center_crop(image, self.size)
        batch, was_tensor, single = as_batch(image, "CenterCrop")
        (h, w), (height, width) = self.size, batch.shape[2:]
        if h > height or w > width:
            raise ValueError(f"CenterCrop: crop size {(h, w)} is larger than the image {(height, width)}")
        top, left = round((height - h) / 2), round((width - w) / 2)
        return finish(batch[:, :, top : top + h, left : left + w], was_tensor, single)


# ---- resampling ---------------------------------------------------------------------------------------------


def _taps(out_size, start, length, align_corners):
    """For each output pixel d of each image, the two source pixels and the weight of the second.

    align_corners=False (half-pixel centres, the default of torch's interpolate and of torchvision):
        src = (d + 0.5) · length / out - 0.5, clamped below at 0;
    align_corners=True (the corner pixels' centres coincide):
        src = d · (length - 1) / (out - 1).
    Then i0 = floor(src), i1 = min(i0 + 1, length - 1), λ = src - i0. ``start`` and ``length`` are (B,)
    arrays (the crop box of each image), so RandomResizedCrop resamples every image from its own box.
    """
    d = xp.arange(out_size, dtype=xp.float64)
    length = xp.asarray(length, dtype=xp.int64).reshape(-1, 1)
    if align_corners:
        scale = (length - 1) / (out_size - 1) if out_size > 1 else xp.zeros_like(length, dtype=xp.float64)
        src = scale * d
    else:
        src = xp.maximum((d + 0.5) * (length / out_size) - 0.5, 0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), length - 1)
    i1 = xp.minimum(i0 + 1, length - 1)
    start = xp.asarray(start, dtype=xp.int64).reshape(-1, 1)
    return start + i0, start + i1, src - i0


# Up to this input size the dense form is faster (measured on 32-256 px inputs): its GEMMs beat NumPy's
# fancy indexing although they multiply mostly zeros; beyond it the zeros dominate and gathers win.
_DENSE_MAX = 160


def _resample(batch, top, left, height, width, out_size, align_corners):
    """Bilinear resampling of box (top, left, height, width)[b] of every image b to ``out_size``.

    Separable: interpolate along H between rows i0 and i1 with weights (1 - λ, λ), then along W. Written
    as matrices, out[b, c] = A_y[b] · x[b, c] · A_x[b]ᵀ, where row d of A_y holds 1 - λ_d at column i0 and
    λ_d at i1. Small images use exactly that (two batched GEMMs); large ones gather the two source rows
    (then columns) of every output pixel with per-image fancy indexing. Integer images are resampled in
    float32 and rounded back.
    """
    dtype = batch.dtype if batch.dtype.kind == "f" else xp.dtype(xp.float32)
    x = batch.astype(dtype, copy=False)
    n, _, in_h, in_w = x.shape
    (oh, ow) = out_size
    y0, y1, wy = _taps(oh, top, height, align_corners)
    x0, x1, wx = _taps(ow, left, width, align_corners)
    wy, wx = wy.astype(dtype), wx.astype(dtype)
    if max(in_h, in_w) <= _DENSE_MAX:
        rows, cols = xp.arange(len(y0))[:, None], xp.arange(len(x0))[:, None]
        a_y = xp.zeros((len(y0), oh, in_h), dtype=dtype)
        a_y[rows, xp.arange(oh), y0] += 1 - wy
        a_y[rows, xp.arange(oh), y1] += wy  # a separate += so that i0 = i1 (the edge) adds up to 1
        a_x = xp.zeros((len(x0), in_w, ow), dtype=dtype)
        a_x[cols, x0, xp.arange(ow)] += 1 - wx
        a_x[cols, x1, xp.arange(ow)] += wx
        out = (a_y[:, None] @ x) @ a_x[:, None]
    else:
        b = xp.arange(n)[:, None]
        w = wy[:, :, None, None]
        rows = x[b, :, y0] * (1 - w) + x[b, :, y1] * w  # (B, OH, C, W): advanced axes come first
        rows = xp.ascontiguousarray(rows.transpose(0, 3, 1, 2))  # (B, W, OH, C): gather columns on axis 1
        w = wx[:, :, None, None]
        out = rows[b, x0] * (1 - w) + rows[b, x1] * w  # (B, OW, OH, C)
        out = xp.ascontiguousarray(out.transpose(0, 3, 2, 1))
    if batch.dtype.kind != "f":
        info = xp.iinfo(batch.dtype)
        out = xp.clip(xp.rint(out), info.min, info.max).astype(batch.dtype)
    return out


def _output_size(size, height, width):
    """torchvision's Resize size: (h, w) exactly, or an int for the shorter edge keeping the aspect ratio."""
    if isinstance(size, int):
        short, long = sorted((height, width))
        new_long = int(size * long / short)
        return (size, new_long) if height <= width else (new_long, size)
    return pair(size, "Resize")


def resize(image, size, align_corners=False):
    """Bilinear resize of a (C, H, W) image or (B, C, H, W) batch (see ``Resize``); a PIL image is
    resized by Pillow as torchvision does (``align_corners`` does not apply to it)."""
    if is_pil(image):
        return vision().functional.resize(image, size)
    batch, was_tensor, single = as_batch(image, "resize")
    height, width = batch.shape[2:]
    out = _resample(batch, 0, 0, height, width, _output_size(size, height, width), align_corners)
    return finish(out, was_tensor, single)


class Resize(Transform):
    """Bilinear resize to ``size``: (h, w), or an int that the shorter edge becomes (aspect ratio kept).

    Convention: ``align_corners=False`` by default, the half-pixel-centre convention of torchvision and of
    ``torch.nn.functional.interpolate(mode='bilinear')``: pixel d of the output samples the input at
    (d + 0.5)·in/out - 0.5. ``align_corners=True`` maps the corner pixels onto each other instead. There
    is no antialiasing filter (torch's ``antialias=False``): shrinking by more than 2× skips pixels.
    """

    def __init__(self, size, align_corners=False):
        self.size, self.align_corners = size, align_corners

    def __call__(self, image):
        return resize(image, self.size, self.align_corners)


class RandomResizedCrop(Transform):
    """A crop of random area (a fraction in ``scale`` of the image) and aspect ratio (log-uniform in
    ``ratio``), resized to ``size``: the Inception/ResNet augmentation, with torchvision's sampling (10
    attempts per image; when none fits, a central crop with the ratio clamped), per image of a batch."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), align_corners=False):
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be of kind (min, max), got {scale}, {ratio}")
        self.size = pair(size, "RandomResizedCrop")
        self.scale, self.ratio, self.align_corners = tuple(scale), tuple(ratio), align_corners

    def get_params(self, height, width, n):
        """(top, left, h, w) crop boxes for n images, as (n,) int64 arrays."""
        generator, area = rng(), height * width
        target = area * generator.uniform(self.scale[0], self.scale[1], size=(n, 10))
        aspect = xp.exp(generator.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), size=(n, 10)))
        w = xp.rint(xp.sqrt(target * aspect)).astype(xp.int64)
        h = xp.rint(xp.sqrt(target / aspect)).astype(xp.int64)
        fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = xp.argmax(fits, axis=1)  # the first attempt that fits, as torchvision's loop takes it
        rows = xp.arange(n)
        h, w = h[rows, first], w[rows, first]
        # Fallback: the whole image, narrowed to the nearest allowed aspect ratio.
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            fh, fw = round(width / min(self.ratio)), width
        elif in_ratio > max(self.ratio):
            fh, fw = height, round(height * max(self.ratio))
        else:
            fh, fw = height, width
        found = fits.any(axis=1)
        h, w = xp.where(found, h, fh), xp.where(found, w, fw)
        top = xp.where(found, generator.integers(0, height - h + 1), (height - fh) // 2)
        left = xp.where(found, generator.integers(0, width - w + 1), (width - fw) // 2)
        return top, left, h, w

    def __call__(self, image):
        if is_pil(image):  # torchvision's sampling and Pillow's bilinear resize
            T = vision()
            i, j, h, w = T.RandomResizedCrop.get_params(image, self.scale, self.ratio)
            return T.functional.resized_crop(image, i, j, h, w, list(self.size))
        batch, was_tensor, single = as_batch(image, "RandomResizedCrop")
        top, left, h, w = self.get_params(batch.shape[2], batch.shape[3], len(batch))
        return finish(_resample(batch, top, left, h, w, self.size, self.align_corners), was_tensor, single)
