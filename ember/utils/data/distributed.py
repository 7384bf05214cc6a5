"""DistributedSampler: each of ``num_replicas`` processes sees its own 1/num_replicas of the dataset.

The indices (a permutation seeded with ``seed + epoch`` when ``shuffle``, else 0..n-1) are padded by
repeating the first ones up to a multiple of num_replicas (or cut down to one with ``drop_last``), and
replica r takes every num_replicas-th index starting at r. Call ``set_epoch(e)`` each epoch to reshuffle.
"""

import importlib
import math

from ...backend import xp
from .sampler import Sampler


def _process_group(what):
    try:
        dist = importlib.import_module("ember.distributed")
    except ImportError:
        raise RuntimeError(
            f"Requires distributed package to be available (DistributedSampler needs {what}); pass "
            "num_replicas= and rank= explicitly"
        ) from None
    return dist.get_world_size() if what == "num_replicas" else dist.get_rank()


class DistributedSampler(Sampler):
    """torch.utils.data.distributed.DistributedSampler: this replica's share of the indices."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas = _process_group("num_replicas") if num_replicas is None else num_replicas
        rank = _process_group("rank") if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = xp.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        else:  # repeat from the start until every replica has num_samples
            padding = self.total_size - n
            indices += (indices * math.ceil(padding / n))[:padding] if padding > 0 else []
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use a new permutation (seed + epoch) from the next ``iter``."""
        self.epoch = epoch
