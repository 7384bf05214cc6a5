"""Up-sampling layer (the maths is in ember.ops.resample). It has no parameters."""

from ..ops.resample import check_interpolate_settings, interpolate
from .module import Module


class Upsample(Module):
    """Resize (N, C, H, W) feature maps to ``size`` or by ``scale_factor``, by ``mode`` 'nearest' or 'bilinear'.

    ``align_corners`` (bilinear only): True lines up the corner pixels of input and output, False (the
    default) their pixel centres. Settings are checked here, so a bad one fails when the model is built.
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        check_interpolate_settings(size, scale_factor, mode, align_corners, recompute_scale_factor, "Upsample")
        self.size = size
        # Stored as floats, as PyTorch does (its repr shows scale_factor=2.0).
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor, layer=self)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour up-sampling (the older name for ``Upsample(mode='nearest')``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear up-sampling with ``align_corners=True`` (the older name for ``Upsample(mode='bilinear',
    align_corners=True)``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
