"""ember.data's datasets are torch.utils.data's, defined once in ``ember.utils.data.dataset`` (see there
for the batched ``__getitems__`` conventions) and re-exported here."""

from ..utils.data.dataset import *  # noqa: F403 -- the same classes under ember.data's older path
from ..utils.data.dataset import __all__  # noqa: F401
