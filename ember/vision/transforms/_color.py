"""Colour transforms: ColorJitter, Grayscale, RandomGrayscale, GaussianBlur and the random photometric
operations (invert, posterize, solarize, sharpness, autocontrast, equalize)."""

import numbers

from ...data.dataloader import rng
from . import functional as F
from ._base import Transform, rand, setup_size, uniform


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Each factor is drawn uniformly from [max(0, 1 - v), 1 + v] (hue's from [-v, v], v <= 0.5), or from a
    given (min, max); 0 (the default) leaves that property alone.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        # (1, 1) for brightness/contrast/saturation or (0, 0) for hue: nothing to do.
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(fn_idx, b, c, s, h): a permutation of the four operations and their factors (None when off)."""
        fn_idx = [int(i) for i in rng().permutation(4)]
        factors = [None if r is None else uniform(r[0], r[1]) for r in (brightness, contrast, saturation, hue)]
        return (fn_idx, *factors)

    def forward(self, img):
        self._check(img)
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        ops = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        factors = (b, c, s, h)
        for fn_id in fn_idx:
            if factors[fn_id] is not None:
                img = ops[fn_id](img, factors[fn_id])
        return img

    def __repr__(self):
        return (
            f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class Grayscale(Transform):
    """Convert to grey with 1 or 3 (equal) output channels."""

    _repr_attrs = ("num_output_channels",)

    def __init__(self, num_output_channels=1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        self._check(img)
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)


class RandomGrayscale(Transform):
    """Convert to grey with probability p, keeping the number of channels."""

    _repr_attrs = ("p",)

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        self._check(img)
        num_output_channels = F.get_dimensions(img)[0]
        if rand() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img


class GaussianBlur(Transform):
    """Blur with a Gaussian of odd ``kernel_size`` and σ drawn uniformly from ``sigma`` = (min, max)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = setup_size(kernel_size, "Kernel size should be a tuple/list of two integers")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, (tuple, list)) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min, sigma_max):
        return uniform(sigma_min, sigma_max)

    def forward(self, img):
        self._check(img)
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class _RandomOp(Transform):
    """Apply one functional operation with probability p."""

    _repr_attrs = ("p",)

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def _apply(self, img):
        raise NotImplementedError

    def forward(self, img):
        self._check(img)
        return self._apply(img) if rand() < self.p else img


class RandomInvert(_RandomOp):
    """Invert the colours (max - v) with probability p."""

    def _apply(self, img):
        return F.invert(img)


class RandomPosterize(_RandomOp):
    """Keep the top ``bits`` bits of every channel with probability p."""

    _repr_attrs = ("bits", "p")

    def __init__(self, bits, p=0.5):
        super().__init__(p)
        self.bits = bits

    def _apply(self, img):
        return F.posterize(img, self.bits)


class RandomSolarize(_RandomOp):
    """Invert the pixels at or above ``threshold`` with probability p."""

    _repr_attrs = ("threshold", "p")

    def __init__(self, threshold, p=0.5):
        super().__init__(p)
        self.threshold = threshold

    def _apply(self, img):
        return F.solarize(img, self.threshold)


class RandomAdjustSharpness(_RandomOp):
    """Adjust the sharpness by ``sharpness_factor`` with probability p."""

    _repr_attrs = ("sharpness_factor", "p")

    def __init__(self, sharpness_factor, p=0.5):
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def _apply(self, img):
        return F.adjust_sharpness(img, self.sharpness_factor)


class RandomAutocontrast(_RandomOp):
    """Autocontrast with probability p."""

    def _apply(self, img):
        return F.autocontrast(img)


class RandomEqualize(_RandomOp):
    """Equalise the histogram with probability p."""

    def _apply(self, img):
        return F.equalize(img)
