"""Fetchers: how one batch (or, without auto-batching, one sample) is read from a dataset.

``produce`` runs a fetcher for batch k of an epoch with ``rng()`` set to ``default_rng([base_seed, k])``,
so whatever random augmentation a dataset or transform does through ``rng()`` depends only on the epoch's
seed and the batch's position, not on which worker (thread or process) makes the batch.
"""

import itertools

from ....backend import xp
from .collate import default_collate
from .random import rng_scope


class MapFetcher:
    """Batches of a map-style dataset: ``__getitems__`` (one call a batch) when the dataset has it and the
    default collate is used; else ``dataset[i]`` per index and ``collate_fn`` on the list."""

    iterable = False

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, indices):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            data = getitems(indices)
            if isinstance(data, list):  # torch's convention: a list of samples
                return self.collate_fn(data)
            if self.collate_fn is default_collate:  # ember's: already a batch (a tuple a list, as collated)
                return list(data) if type(data) is tuple else data
        # A custom collate_fn expects samples, whatever batched access the dataset offers.
        return self.collate_fn([self.dataset[i] for i in indices])


class IterableFetcher:
    """Batches of an IterableDataset: the next ``len(indices)`` samples of the stream (the indices only
    count); StopIteration at the end of the stream, or before a short last batch with ``drop_last``."""

    iterable = True

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn, self.drop_last = dataset, auto_collation, collate_fn, drop_last
        self.iterator = None

    def fetch(self, indices):
        if self.iterator is None:  # created on first use: in a worker, after get_worker_info() is set
            self.iterator = iter(self.dataset)
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = list(itertools.islice(self.iterator, len(indices)))
        if not data or (self.drop_last and len(data) < len(indices)):
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    return (IterableFetcher if iterable else MapFetcher)(dataset, auto_collation, collate_fn, drop_last)


def produce(fetcher, indices, base_seed, k, finish=None):
    """Batch k of the epoch whose seed is ``base_seed``: fetched (and finished, e.g. transformed) with
    ``rng()`` = ``default_rng([base_seed, k])`` in this thread."""
    with rng_scope(xp.random.default_rng([base_seed, k])):
        data = fetcher.fetch(indices)
        return finish(data) if finish is not None else data
