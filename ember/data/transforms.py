"""Image transforms with torchvision's names: conversion, preprocessing fitted on the training split, and
random augmentation (数据增强) that works on a whole batch at once.

Layout. Images are channel-first: one image is (C, H, W), a batch (B, C, H, W). Every transform below
(except ``ToTensor``, which converts from the HWC layout of image files) accepts either, as an array or a
Tensor. Conversion and preprocessing transforms (``ToTensor``, ``ToDtype``, ``Normalize``, ``MeanSubtract``,
``Standardize``, ``MinMaxScale``) return Tensors; geometric and colour transforms return the kind they
were given (array in, array out). Tensors come back without grad: the pipeline is not differentiated.
float32 stays float32.

Randomness. A random transform given a batch draws *independent* parameters for every sample (a flip
decision, crop offsets, jitter factors per image), vectorised: masks, fancy indexing and per-sample
interpolation weights, never a Python loop over samples or pixels. It draws them from
``ember.data.rng()``: inside a DataLoader, the generator of the batch being produced; elsewhere the
pipeline generator that ``ember.manual_seed`` seeds. Never the model's generator.

Preprocessing (CS231n's "the mean must be computed on the training data only, then subtracted from
train, validation and test alike"): ``MeanSubtract``, ``Standardize`` and ``MinMaxScale`` are *fitted* with
``.fit(train_images)`` and then apply the same statistics to every split; ``state_dict()`` saves them.
"""

import math

from ..backend import xp
from ..tensor import Tensor
from . import color
from .dataloader import rng

# ---- shared plumbing --------------------------------------------------------------------------------------


def _unwrap(image):
    if isinstance(image, Tensor):
        return image.data, True
    return xp.asarray(image), False


def _as_batch(image, name):
    """(B, C, H, W) array, was it a Tensor, was it a single (C, H, W) image."""
    array, was_tensor = _unwrap(image)
    if array.ndim not in (3, 4):
        raise ValueError(
            f"{name}: expected a (C, H, W) image or a (B, C, H, W) batch, got shape {tuple(array.shape)}; "
            "convert HWC images with ToTensor() first"
        )
    return (array[None] if array.ndim == 3 else array), was_tensor, array.ndim == 3


def _finish(batch, was_tensor, single):
    out = batch[0] if single else batch
    return Tensor(out) if was_tensor else out


def _float_array(image, name):
    array, _ = _unwrap(image)
    if array.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point image, got dtype {array.dtype}; apply ToTensor() first")
    return array


def _pair(size, name):
    if isinstance(size, int):
        return (size, size)
    size = tuple(size)
    if len(size) == 1:
        return (size[0], size[0])
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or a (height, width) pair, got {size}")
    return size


class Transform:
    """Base class: a callable with a readable repr."""

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for t in self.transforms:
            image = t(image)
        return image

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r},\n" for t in self.transforms) + ")"


class Lambda(Transform):
    """Apply a user function."""

    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)


# ---- conversion -------------------------------------------------------------------------------------------


class ToTensor(Transform):
    """HWC image(s) -> CHW float Tensor: uint8 values v become v / 255 in [0, 1] (float32); float images keep
    their values and dtype. (H, W, C) -> (C, H, W); (H, W) grayscale -> (1, H, W); a batch (B, H, W, C) ->
    (B, C, H, W) and (B, H, W) -> (B, 1, H, W).

    A 3-D input is ambiguous: it is read as one (H, W, C) image when its last axis has at most 4 entries
    (grey, RGB, RGBA) and as a (B, H, W) batch of grayscale images otherwise. Pass ``batched=True/False``
    to decide explicitly.
    """

    def __init__(self, batched=None):
        self.batched = batched

    def __call__(self, pic):
        array, _ = _unwrap(pic)
        batched = self.batched
        if batched is None:
            batched = array.ndim == 4 or (array.ndim == 3 and array.shape[-1] > 4)
        if batched and array.ndim in (3, 4):
            array = array[:, None] if array.ndim == 3 else array.transpose(0, 3, 1, 2)
        elif not batched and array.ndim in (2, 3):
            array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        else:
            raise ValueError(
                f"ToTensor: expected an (H, W[, C]) image or a (B, H, W[, C]) batch, got shape {tuple(array.shape)}"
            )
        if array.dtype == xp.uint8:  # one contiguous float32 copy, then scaled in place
            out = xp.ascontiguousarray(array, dtype=xp.float32)
            out /= 255
            return Tensor(out)
        return Tensor(xp.ascontiguousarray(array, dtype=xp.float32 if array.dtype.kind == "b" else None))


class ToDtype(Transform):
    """Cast to ``dtype`` keeping the layout (torchvision v2). With ``scale=True`` integer images are mapped
    to [0, 1] when cast to float (v / max, e.g. v / 255 for uint8) and float images back to the integer
    range (round(v · max)), e.g. for CHW uint8 data that ToTensor would read as HWC."""

    def __init__(self, dtype, scale=False):
        self.dtype = xp.dtype(dtype)
        self.scale = scale

    def __call__(self, image):
        array, _ = _unwrap(image)
        if self.scale and array.dtype.kind in "iu" and self.dtype.kind == "f":
            return Tensor(array.astype(self.dtype) / self.dtype.type(xp.iinfo(array.dtype).max))
        if self.scale and array.dtype.kind == "f" and self.dtype.kind in "iu":
            top = xp.iinfo(self.dtype).max
            return Tensor(xp.clip(xp.rint(array * top), 0, top).astype(self.dtype))
        return Tensor(array.astype(self.dtype))


# ---- normalisation and fitted preprocessing -----------------------------------------------------------


class Normalize(Transform):
    """(x - mean[c]) / std[c] for every channel c, with given per-channel statistics (torchvision)."""

    def __init__(self, mean, std):
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero ({self.std}), leading to division by zero")

    def __call__(self, image):
        array = _float_array(image, "Normalize")
        if array.ndim < 3 or len(self.mean) not in (1, array.shape[-3]) or len(self.std) not in (1, array.shape[-3]):
            raise ValueError(
                f"Normalize: {len(self.mean)} means and {len(self.std)} stds for an image of shape "
                f"{tuple(array.shape)} (channels on axis -3)"
            )
        mean = xp.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        return Tensor((array - mean) / std)


_MODES = ("channel", "image", "global")


def _reduce_axes(mode, ndim):
    """Axes of a (N, ...) batch pooled into one statistic: samples only ('image': one per pixel and
    channel), samples and space ('channel'), or everything ('global')."""
    if mode == "image":
        return (0,)
    if mode == "channel":
        return (0,) + tuple(range(2, ndim))
    return tuple(range(ndim))


def _chunks(images, size=1024):
    """The training images as arrays of at most ``size`` samples: from one (N, ...) array or Tensor, or
    from an iterable of batches (a DataLoader; a tuple batch contributes its first field)."""
    if isinstance(images, (Tensor, xp.ndarray)):
        array, _ = _unwrap(images)
        for start in range(0, len(array), size):
            yield array[start : start + size]
    else:
        for batch in images:
            yield _unwrap(batch[0] if isinstance(batch, (tuple, list)) else batch)[0]


def _statistics(images, mode):
    """Mean, population variance, min and max over the pooled axes, in float64, in one streaming pass:
    chunk moments are merged with Chan et al.'s formula M2 = M2_a + M2_b + δ² n_a n_b / n, so no
    full-size float64 copy of the training set is ever made."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    n = mean = m2 = low = high = None
    for chunk in _chunks(images):
        x = chunk.astype(xp.float64)
        if x.ndim < 2 and mode == "channel":
            raise ValueError(f"mode='channel' needs samples with a channel axis, got a batch of shape {tuple(x.shape)}")
        axes = _reduce_axes(mode, x.ndim)
        count = math.prod(x.shape[a] for a in axes)
        if count == 0:
            continue
        chunk_mean = x.mean(axis=axes, keepdims=True)
        chunk_m2 = ((x - chunk_mean) ** 2).sum(axis=axes, keepdims=True)
        lo, hi = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        if n is None:
            n, mean, m2, low, high = count, chunk_mean, chunk_m2, lo, hi
            continue
        if chunk_mean.shape != mean.shape:
            raise ValueError(f"training batches have different sample shapes: {mean.shape[1:]} and {chunk_mean.shape[1:]}")
        delta, total = chunk_mean - mean, n + count
        mean = mean + delta * (count / total)
        m2 = m2 + chunk_m2 + delta**2 * (n * count / total)
        n, low, high = total, xp.minimum(low, lo), xp.maximum(high, hi)
    if n is None:
        raise ValueError("fit: got no training samples")
    return {"mean": mean[0], "var": m2[0] / n, "min": low[0], "max": high[0]}


class _Fitted(Transform):
    """Statistics of the training split (float64 arrays shaped like one sample, 1 on pooled axes),
    applied unchanged to every split. ``_stats`` names them; ``state_dict`` saves them."""

    _stats = ()

    def _check_mode(self, mode):
        if mode not in _MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {_MODES}, got {mode!r}")
        return mode

    def _input(self, image):
        """The input as a float array (ints become float32), checked against the fitted sample shape."""
        name = type(self).__name__
        if any(getattr(self, s) is None for s in self._stats):
            raise RuntimeError(f"{name} is not fitted yet: call .fit(train_images) on the training split first")
        array, _ = _unwrap(image)
        if array.dtype.kind != "f":
            array = array.astype(xp.float32)
        shape = getattr(self, self._stats[0]).shape
        d = len(shape)  # 0 for a fixed range: one number for any input
        fits = d == 0 or (
            array.ndim in (d, d + 1) and all(s in (1, a) for s, a in zip(shape, array.shape[array.ndim - d :]))
        )
        if not fits:
            raise ValueError(
                f"{name} was fitted on samples of shape {shape} (1 = pooled axis) but got input of shape "
                f"{tuple(array.shape)}; give one sample or a batch of samples shaped like the training data"
            )
        return array

    def _cast(self, stat, array):
        return getattr(self, stat).astype(array.dtype)

    def state_dict(self):
        return {"mode": self.mode, **{s: getattr(self, s) for s in self._stats}}

    def load_state_dict(self, state):
        self.mode = self._check_mode(state["mode"])
        for s in self._stats:
            setattr(self, s, xp.asarray(state[s], dtype=xp.float64))
        return self


class MeanSubtract(_Fitted):
    """x - μ, μ computed on the training images by ``fit``: the notes' mean subtraction (均值减法), which
    centres the data cloud at the origin. ``mode='image'``: μ is the mean image (one value per pixel and
    channel, X -= X.mean(axis=0)); ``'channel'``: one mean per colour channel; ``'global'``: one number."""

    _stats = ("mean",)

    def __init__(self, mode="channel"):
        self.mode = self._check_mode(mode)
        self.mean = None

    def fit(self, images):
        self.mean = _statistics(images, self.mode)["mean"]
        return self

    def __call__(self, image):
        array = self._input(image)
        return Tensor(array - self._cast("mean", array))


class Standardize(_Fitted):
    """(x - μ) / σ with μ and σ (population standard deviation) computed on the training images by ``fit``:
    zero mean and unit variance per channel (``mode='channel'``), per pixel and channel (``'image'``,
    X /= X.std(axis=0) after centring) or overall (``'global'``). A constant feature has σ = 0 and is only
    centred (its σ is taken as 1, as scikit-learn's StandardScaler does)."""

    _stats = ("mean", "std")

    def __init__(self, mode="channel"):
        self.mode = self._check_mode(mode)
        self.mean = self.std = None

    def fit(self, images):
        stats = _statistics(images, self.mode)
        std = xp.sqrt(stats["var"])
        self.mean, self.std = stats["mean"], xp.where(std == 0, 1.0, std)
        return self

    def __call__(self, image):
        array = self._input(image)
        return Tensor((array - self._cast("mean", array)) / self._cast("std", array))


class MinMaxScale(_Fitted):
    """(x - lo) / (hi - lo) · (b - a) + a: maps [lo, hi] onto ``feature_range`` (a, b). [lo, hi] is fixed by
    ``data_range`` (e.g. (0, 255)) or fitted as the training data's min and max (per ``mode``); a
    constant feature (hi = lo) is only shifted."""

    _stats = ("data_min", "data_max")

    def __init__(self, feature_range=(0.0, 1.0), data_range=None, mode="global"):
        self.mode = self._check_mode(mode)
        self.feature_range = tuple(float(v) for v in feature_range)
        self.data_min = self.data_max = None
        if data_range is not None:
            self.data_min, self.data_max = (xp.asarray(float(v), dtype=xp.float64) for v in data_range)

    def fit(self, images):
        stats = _statistics(images, self.mode)
        self.data_min, self.data_max = stats["min"], stats["max"]
        return self

    def __call__(self, image):
        array = self._input(image)
        a, b = self.feature_range
        span = self.data_max - self.data_min
        scale = ((b - a) / xp.where(span == 0, 1.0, span)).astype(array.dtype)
        return Tensor((array - self._cast("data_min", array)) * scale + array.dtype.type(a))


# ---- geometry: flips and crops ------------------------------------------------------------------------------


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p, independently per image of a batch."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        batch, was_tensor, single = _as_batch(image, type(self).__name__)
        flip = rng().random(len(batch)) < self.p
        return _finish(xp.where(flip[:, None, None, None], batch[..., ::-1], batch), was_tensor, single)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image upside down with probability p, independently per image of a batch."""

    def __call__(self, image):
        batch, was_tensor, single = _as_batch(image, type(self).__name__)
        flip = rng().random(len(batch)) < self.p
        return _finish(xp.where(flip[:, None, None, None], batch[..., ::-1, :], batch), was_tensor, single)


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
        self.size = _pair(size, "RandomCrop")
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
        batch, was_tensor, single = _as_batch(image, "RandomCrop")
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
        return _finish(_crop(batch, top, left, h, w), was_tensor, single)


class CenterCrop(Transform):
    """The central ``size`` crop; the offset round((H - h) / 2) is torchvision's."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, image):
        batch, was_tensor, single = _as_batch(image, "CenterCrop")
        (h, w), (height, width) = self.size, batch.shape[2:]
        if h > height or w > width:
            raise ValueError(f"CenterCrop: crop size {(h, w)} is larger than the image {(height, width)}")
        top, left = round((height - h) / 2), round((width - w) / 2)
        return _finish(batch[:, :, top : top + h, left : left + w], was_tensor, single)


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
    return _pair(size, "Resize")


def resize(image, size, align_corners=False):
    """Bilinear resize of a (C, H, W) image or (B, C, H, W) batch (see ``Resize``)."""
    batch, was_tensor, single = _as_batch(image, "resize")
    height, width = batch.shape[2:]
    out = _resample(batch, 0, 0, height, width, _output_size(size, height, width), align_corners)
    return _finish(out, was_tensor, single)


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
        self.size = _pair(size, "RandomResizedCrop")
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
        batch, was_tensor, single = _as_batch(image, "RandomResizedCrop")
        top, left, h, w = self.get_params(batch.shape[2], batch.shape[3], len(batch))
        return _finish(_resample(batch, top, left, h, w, self.size, self.align_corners), was_tensor, single)


# ---- colour ---------------------------------------------------------------------------------------------------


def _factor_range(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
    """torchvision's ColorJitter argument: v -> [max(0, center - v), center + v], or an explicit (min, max);
    None when the range is the single neutral value (the operation is skipped)."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"ColorJitter: if {name} is a single number, it must be non negative, got {value}")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif len(value) == 2:
        value = [float(v) for v in value]
    else:
        raise ValueError(f"ColorJitter: {name} should be a single number or a (min, max) pair, got {value}")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"ColorJitter: {name} values should be between {bound}, got {value}")
    return None if value[0] == value[1] == center else tuple(value)


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue (色彩抖动), torchvision's semantics: each
    factor is drawn uniformly from [max(0, 1 - v), 1 + v] (hue's from [-v, v], v <= 0.5) or from a given
    (min, max), and the four operations (``ember.data.color.adjust_*``) are applied in a random order.
    Per image of a batch: its own factors and its own order. Float images in [0, 1]."""

    _OPS = (color.adjust_brightness, color.adjust_contrast, color.adjust_saturation, color.adjust_hue)

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def get_params(self, n):
        """(order, factors) for n images: order (n, 4) is a permutation of the operations (0 brightness,
        1 contrast, 2 saturation, 3 hue) per image; factors[k] is an (n,) array, or None if k is off."""
        generator = rng()
        order = xp.argsort(generator.random((n, 4)), axis=1)
        ranges = (self.brightness, self.contrast, self.saturation, self.hue)
        factors = [None if r is None else generator.uniform(r[0], r[1], size=n) for r in ranges]
        return order, factors

    def __call__(self, image):
        batch, was_tensor, single = _as_batch(image, "ColorJitter")
        if batch.dtype.kind != "f":
            raise TypeError(f"ColorJitter: expected a float image in [0, 1], got {batch.dtype}; apply ToTensor() first")
        order, factors = self.get_params(len(batch))
        out = batch.copy()
        # A loop over the 4 steps and 4 operations, not over images: at step s, every image whose s-th
        # operation is k gets it, with its own factor.
        for step in range(4):
            for k, op in enumerate(self._OPS):
                chosen = xp.flatnonzero(order[:, step] == k)
                if factors[k] is not None and chosen.size:
                    out[chosen] = op(out[chosen], factors[k][chosen])
        return _finish(out, was_tensor, single)


class Grayscale(Transform):
    """RGB -> luma 0.2989 R + 0.587 G + 0.114 B (torchvision's weights), as 1 or 3 identical channels."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, image):
        batch, was_tensor, single = _as_batch(image, "Grayscale")
        return _finish(color.rgb_to_grayscale(batch, self.num_output_channels), was_tensor, single)


class RandomGrayscale(Transform):
    """Turn each RGB image of a batch grey (3 equal channels) with probability p, independently."""

    def __init__(self, p=0.1):
        self.p = p

    def __call__(self, image):
        batch, was_tensor, single = _as_batch(image, "RandomGrayscale")
        grey = rng().random(len(batch)) < self.p
        if batch.shape[1] == 1:
            return _finish(batch.copy(), was_tensor, single)
        out = xp.where(grey[:, None, None, None], color.rgb_to_grayscale(batch, 3), batch)
        return _finish(out, was_tensor, single)
