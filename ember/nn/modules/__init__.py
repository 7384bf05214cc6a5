"""``torch.nn.modules``: every layer again, grouped by torch's submodule names, so that torch code importing
``from torch.nn.modules.conv import Conv2d`` or checking ``isinstance(m, nn.modules.batchnorm._BatchNorm)``
runs unchanged. Each submodule re-exports the layers that one file of ember.nn defines (and torch's private
base classes where Ember has them); the classes are the very same objects as ``ember.nn.X``.
"""

from .activation import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .channelshuffle import *  # noqa: F401,F403
from .instancenorm import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from ..lazy import LazyModuleMixin  # noqa: E402,F401  (torch.nn.modules.lazy.LazyModuleMixin)
