"""``torch.nn.modules.activation``: the activation layers (defined in ember.nn.activation) and
MultiheadAttention (ember.nn.multihead_attention), at torch's import path."""

from .. import activation as _defined
from .. import multihead_attention as _attention
from ..activation import *  # noqa: F401,F403
from ..multihead_attention import MultiheadAttention, NonDynamicallyQuantizableLinear  # noqa: F401
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined) + layers_defined_in(_attention)

from .. import activation_more as _activation_more  # noqa: E402
from ..activation_more import *  # noqa: F401,F403,E402

__all__ += layers_defined_in(_activation_more)
