"""Fractional max-pooling layers (Graham 2014): the maths, and the window placement, are in
ember.ops.fractional_pool. They have no parameters; ``_random_samples``, when given, is a buffer (as in torch)
that fixes the windows, so the layer pools the same way on every call."""

from ..ops.fractional_pool import fractional_max_pool2d, fractional_max_pool3d
from .module import Module


class _FractionalMaxPoolNd(Module):
    _dims = 2
    _pool = None

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        d, name = self._dims, type(self).__name__
        self.kernel_size = (kernel_size,) * d if isinstance(kernel_size, int) else tuple(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, d)
        self.output_ratio = _ntuple(output_ratio, d)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{name}: only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return type(self)._pool(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                                _random_samples=self._random_samples, layer=self)


def _ntuple(value, d):
    if value is None:
        return None
    return (value,) * d if isinstance(value, (int, float)) else tuple(value)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over K×K windows at pseudo-random steps of ⌊α⌋ or ⌈α⌉ pixels, α = (H - K) / (OH - 1) — a
    shrink by any factor between 1 and 2 (``output_ratio=0.7``: about 1/√2 per side)."""

    _dims = 2
    _pool = staticmethod(fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """The 3-D fractional max pooling of (N, C, T, H, W) volumes; ``_random_samples`` is (N, C, 3)."""

    _dims = 3
    _pool = staticmethod(fractional_max_pool3d)
