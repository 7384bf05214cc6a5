"""DistributedSampler: each of ``num_replicas`` processes sees its own 1/num_replicas of the dataset.

The indices (a permutation seeded with ``seed + epoch`` when ``shuffle``, else 0..n-1) are padded by
repeating the first ones up to a multiple of num_replicas (or cut down to one with ``drop_last``), and
replica r takes every num_replicas-th index starting at r. Call ``set_epoch(e)`` each epoch to reshuffle.

The permutation is torch's own, ``torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))``
(see ``torch_randperm``), so a run that moves from torch to Ember gives each replica the same samples.
"""

import math

from ... import distributed as dist
from ...backend import host
from .sampler import Sampler


def torch_randperm(n, seed):
    """torch's CPU ``randperm(n)`` from a generator seeded with ``seed``, value for value.

    torch's generator is the Mersenne Twister MT19937 seeded with the low 32 bits of the seed (NumPy's
    ``RandomState`` seeds it the same way, and its full-range uint32 draws are the raw outputs), and randperm is a Fisher–Yates shuffle: for i = 0 .. n-2, swap element i
    with element i + (r_i mod (n - i)), r_i the generator's next 32-bit output. The n - 1 draws are made at
    once; the swaps, each depending on the one before, are a loop (about 10 ms for 60,000 indices, once per
    epoch).
    """
    raw = host.random.RandomState(int(seed) & 0xFFFFFFFF).randint(0, 2**32, size=max(n - 1, 0), dtype=host.uint32)
    draws = raw.astype(host.int64) % (n - host.arange(n - 1))
    perm = list(range(n))
    for i, offset in enumerate(draws.tolist()):
        j = i + offset
        perm[i], perm[j] = perm[j], perm[i]
    return perm


class DistributedSampler(Sampler):
    """torch.utils.data.distributed.DistributedSampler: this replica's share of the indices."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
        rank = dist.get_rank() if rank is None else rank
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
            indices = torch_randperm(n, self.seed + self.epoch)
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
