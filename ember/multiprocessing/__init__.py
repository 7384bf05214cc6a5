"""torch.multiprocessing at torch's path: Python's multiprocessing, plus torch's ``spawn`` and sharing strategy.

Like torch's, this module is a drop-in for the standard library's (``Process``, ``Queue``, ``Pool``,
``set_start_method`` ... are the standard library's own objects), with ``spawn(fn, args, nprocs)``, which
starts ``nprocs`` processes running ``fn(i, *args)`` and joins them, raising ``ProcessRaisedException`` /
``ProcessExitedException`` when one fails, as torch's does.
"""

import multiprocessing
from multiprocessing import *  # noqa: F401,F403  (torch.multiprocessing re-exports the standard library's API)

from .spawn import ProcessContext, ProcessExitedException, ProcessRaisedException, spawn, start_processes

__all__ = list(multiprocessing.__all__) + [
    "ProcessContext", "ProcessExitedException", "ProcessRaisedException", "get_all_sharing_strategies",
    "get_sharing_strategy", "set_sharing_strategy", "spawn", "start_processes",
]

_SHARING_STRATEGIES = {"file_descriptor", "file_system"}
_sharing_strategy = "file_descriptor"


def set_sharing_strategy(new_strategy):
    """Choose how shared tensors are passed between processes ('file_descriptor' or 'file_system')."""
    global _sharing_strategy
    if new_strategy not in _SHARING_STRATEGIES:
        raise AssertionError(f"set_sharing_strategy: expected one of {sorted(_SHARING_STRATEGIES)}, got {new_strategy!r}")
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    return _sharing_strategy


def get_all_sharing_strategies():
    return set(_SHARING_STRATEGIES)
