"""Parallel wrappers with torch's names (``torch.nn.parallel``)."""

from .data_parallel import DataParallel
from .data_parallel import data_parallel
from .distributed import DistributedDataParallel
