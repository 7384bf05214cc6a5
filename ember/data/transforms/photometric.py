"""Colour augmentation: brightness, contrast, saturation and hue jitter, and grayscale conversion."""

from ...backend import xp
from .. import color
from ..dataloader import rng
from .base import Transform, as_batch, finish, is_pil, pair, vision


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
        if is_pil(image):  # torchvision's ColorJitter on PIL: Pillow's ImageEnhance, same factor ranges
            jitter = vision().ColorJitter()
            jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue = (
                self.brightness, self.contrast, self.saturation, self.hue)
            return jitter(image)
        batch, was_tensor, single = as_batch(image, "ColorJitter")
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
        return finish(out, was_tensor, single)


class Grayscale(Transform):
    """RGB -> luma 0.2989 R + 0.587 G + 0.114 B (torchvision's weights), as 1 or 3 identical channels."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, image):
        if is_pil(image):
            return vision().functional.rgb_to_grayscale(image, self.num_output_channels)
        batch, was_tensor, single = as_batch(image, "Grayscale")
        return finish(color.rgb_to_grayscale(batch, self.num_output_channels), was_tensor, single)


class RandomGrayscale(Transform):
    """Turn each RGB image of a batch grey (3 equal channels) with probability p, independently."""

    def __init__(self, p=0.1):
        self.p = p

    def __call__(self, image):
        if is_pil(image):
            return vision().RandomGrayscale(self.p)(image)
        batch, was_tensor, single = as_batch(image, "RandomGrayscale")
        grey = rng().random(len(batch)) < self.p
        if batch.shape[1] == 1:
            return finish(batch.copy(), was_tensor, single)
        out = xp.where(grey[:, None, None, None], color.rgb_to_grayscale(batch, 3), batch)
        return finish(out, was_tensor, single)
