"""``torch.nn.modules.batchnorm``: the batch-normalization layers
(defined in ember.nn.batchnorm), at torch's import path."""

from .. import batchnorm as _defined
from ..batchnorm import *  # noqa: F401,F403
from ._layers import layers_defined_in
from ..batchnorm import _BatchNorm  # noqa: F401  (isinstance(m, nn.modules.batchnorm._BatchNorm) is common)

from ..lazy import LazyBatchNorm1d, LazyBatchNorm2d  # noqa: E402,F401  (torch keeps the lazy variants beside their layers)

__all__ = layers_defined_in(_defined) + ["LazyBatchNorm1d", "LazyBatchNorm2d"]
from ..lazy_more import LazyBatchNorm3d  # noqa: E402,F401

__all__ += ["LazyBatchNorm3d"]
from ..sync_batchnorm import SyncBatchNorm  # noqa: E402,F401  (torch defines it in torch.nn.modules.batchnorm)

__all__ += ["SyncBatchNorm"]
