"""``torch.nn.modules.normalization``: LayerNorm, GroupNorm (ember.nn.normalization) and LocalResponseNorm
(ember.nn.lrn), at torch's import path."""

from .. import lrn as _lrn
from .. import normalization as _defined
from ..lrn import *  # noqa: F401,F403
from ..normalization import *  # noqa: F401,F403
from ._layers import layers_defined_in

__all__ = layers_defined_in(_defined) + layers_defined_in(_lrn)

from .. import rms_norm as _rms_norm  # noqa: E402
from ..rms_norm import *  # noqa: F401,F403,E402

__all__ += layers_defined_in(_rms_norm)
