"""``torch.nn.modules.pooling``: the pooling layers (defined in ember.nn.pooling), at torch's import path."""

from .. import pooling as _defined
from ..pooling import *  # noqa: F401,F403
from ._layers import layers_defined_in
from ..pooling import _AdaptiveAvgPoolNd, _AdaptiveMaxPoolNd, _MaxPoolNd  # noqa: F401  (torch's private bases)

__all__ = layers_defined_in(_defined)

from .. import unpool as _unpool  # noqa: E402
from ..unpool import *  # noqa: F401,F403,E402

__all__ += layers_defined_in(_unpool)
from ..conv3d import AvgPool3d, MaxPool3d  # noqa: E402,F401

__all__ += ["AvgPool3d", "MaxPool3d"]
from ..conv3d import LPPool3d  # noqa: E402,F401

__all__ += ["LPPool3d"]
from ..fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d  # noqa: E402,F401

__all__ += ["FractionalMaxPool2d", "FractionalMaxPool3d"]
