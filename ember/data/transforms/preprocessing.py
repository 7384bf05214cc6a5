"""Normalisation and the preprocessing fitted on the training split (mean subtraction, standardisation, min-max scaling)."""

import math

from ...backend import xp
from ...tensor import Tensor
from .base import Transform, float_array, unwrap


# ---- normalisation and fitted preprocessing -----------------------------------------------------------


class Normalize(Transform):
    """(x - mean[c]) / std[c] for every channel c, with given per-channel statistics (torchvision)."""

    def __init__(self, mean, std):
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero ({self.std}), leading to division by zero")

    def __call__(self, image):
        array = float_array(image, "Normalize")
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
        array, _ = unwrap(images)
        for start in range(0, len(array), size):
            yield array[start : start + size]
    else:
        for batch in images:
            yield unwrap(batch[0] if isinstance(batch, (tuple, list)) else batch)[0]


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
        array, _ = unwrap(image, name)
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
