"""``torch.nn.modules.linear``: Linear and Identity (defined in ember.nn.linear), at torch's import path."""

from .. import linear as _defined
from ..linear import *  # noqa: F401,F403
from ._layers import layers_defined_in

from ..lazy import LazyLinear  # noqa: E402,F401  (torch keeps the lazy variants beside their layers)
# torch defines MultiheadAttention.out_proj's class here; programs name it in torch.serialization.safe_globals
from ..multihead_attention import NonDynamicallyQuantizableLinear  # noqa: E402,F401

__all__ = layers_defined_in(_defined) + ["LazyLinear", "NonDynamicallyQuantizableLinear"]

from .. import bilinear as _bilinear  # noqa: E402
from ..bilinear import *  # noqa: F401,F403,E402

__all__ += layers_defined_in(_bilinear)
