"""Datasets, with torch.utils.data's names: a map from an index to a sample (``Dataset``) or a stream of
samples (``IterableDataset``), and the ways of combining them.

Batched access. A map-style dataset may implement ``__getitems__(indices)``, which the DataLoader calls
once per batch instead of ``__getitem__`` per index. Two return conventions are understood:

* a ``list`` of samples (torch's convention), which the loader collates with its ``collate_fn``;
* anything else — a tuple, dict or Tensor — is an *already batched* sample (ember's convention), e.g.
  ``(images (B, ...), labels (B,))`` from one fancy-indexing gather. ``TensorDataset`` does this, and
  ``Subset`` and ``ConcatDataset`` keep it when the datasets under them do. So a batch of B samples
  costs one NumPy gather, not B Python calls and a stack.
"""

import bisect
import collections.abc
import itertools
import math
import warnings

from ...backend import xp
from ...tensor import Tensor
from ._utils.collate import default_collate
from ._utils.random import draw_generator

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset", "Subset", "TensorDataset",
           "default_collate", "fetch", "random_split"]


class Dataset:
    """A map from an index in [0, len) to a sample. Subclasses implement ``__getitem__`` and ``__len__``
    (and may implement ``__getitems__``, see the module docstring). ``a + b`` concatenates."""

    def __getitem__(self, index):
        raise NotImplementedError(f"Subclasses of Dataset should implement __getitem__ ({type(self).__name__} does not)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses implement ``__iter__``. With DataLoader workers every worker
    iterates its own copy; split the work in ``__iter__`` with ``get_worker_info()`` (torch's recipe)
    or each sample is loaded once per worker. ``a + b`` chains."""

    def __iter__(self):
        raise NotImplementedError(f"Subclasses of IterableDataset should implement __iter__ ({type(self).__name__} does not)")

    def __add__(self, other):
        return ChainDataset([self, other])


def _data(t):
    return t.array if isinstance(t, Tensor) else xp.asarray(t)


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors or arrays: ``TensorDataset(images, labels)[i] ==
    (images[i], labels[i])`` as Tensors. A batch is one fancy-index per tensor (``__getitems__``)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        arrays = [_data(t) for t in tensors]
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("TensorDataset: every tensor needs a first (sample) dimension; got a 0-d one")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"TensorDataset: Size mismatch between tensors: all tensors must have the same first dimension, "
                f"got sizes {sizes}"
            )
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(a) for t, a in zip(tensors, arrays))

    def __getitem__(self, index):
        return tuple(Tensor(t.array[index]) for t in self.tensors)

    def __getitems__(self, indices):
        indices = xp.asarray(indices, dtype=xp.int64)
        return tuple(Tensor(t.array[indices]) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Datasets side by side: ``StackDataset(a, b)[i] == (a[i], b[i])``; ``StackDataset(x=a, y=b)[i] ==
    {'x': a[i], 'y': b[i]}``."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/output, "
                "but both types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        lengths = {len(d) for d in (args or kwargs.values())}
        if len(lengths) != 1:
            raise ValueError("Size mismatch between datasets")
        self._length = lengths.pop()

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def _samples(dataset, indices):
    """torch's convention: the list of samples at ``indices``."""
    return [dataset[int(i)] for i in indices]


def fetch(dataset, indices):
    """The batch of samples ``indices``: the dataset's ``__getitems__`` when it has one (a list result, the
    torch convention, is collated), else ``dataset[i]`` for each index and ``default_collate``."""
    getitems = getattr(dataset, "__getitems__", None)
    batch = getitems(indices) if getitems is not None else _samples(dataset, indices)
    return default_collate(batch) if isinstance(batch, list) else batch


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(d, idx)[i] == d[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = xp.asarray(indices, dtype=xp.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[int(self.indices[i]) for i in index]]
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        # The parent's batch access when it has one (whatever its convention); else torch's list of samples.
        parent = self.indices[xp.asarray(indices, dtype=xp.int64)]
        if getattr(self.dataset, "__getitems__", None) is not None:
            return self.dataset.__getitems__(parent)
        return _samples(self.dataset, parent)

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another: index i falls in dataset k where cumulative_sizes[k-1] <= i < cumulative_sizes[k]."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise ValueError("ConcatDataset does not support IterableDataset; chain them with ChainDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def _locate(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"index {index} is out of range for a ConcatDataset of length {len(self)}")
            index += len(self)
        if index >= len(self):
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {len(self)}")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return k, index - (self.cumulative_sizes[k - 1] if k else 0)

    def __getitem__(self, index):
        k, local = self._locate(int(index))
        return self.datasets[k][local]

    def __getitems__(self, indices):
        """One batched fetch per constituent dataset, joined and put back in the order asked; torch's list
        of samples when some constituent has no batched access (or gives lists of samples itself)."""
        indices = xp.asarray(indices, dtype=xp.int64)
        indices = xp.where(indices < 0, indices + len(self), indices)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"indices out of range for a ConcatDataset of length {len(self)}")
        if not indices.size or any(getattr(d, "__getitems__", None) is None for d in self.datasets):
            return _samples(self, indices)
        which = xp.searchsorted(xp.asarray(self.cumulative_sizes), indices, side="right")
        starts = xp.asarray([0] + self.cumulative_sizes[:-1])
        parts, order = [], []
        for k in xp.unique(which).tolist():  # a loop over datasets, not samples
            positions = xp.flatnonzero(which == k)
            part = self.datasets[k].__getitems__(indices[positions] - starts[k])
            if isinstance(part, list):
                return _samples(self, indices)
            parts.append(part)
            order.append(positions)
        batch = _map_arrays(lambda *arrays: xp.concatenate(arrays), *parts)
        inverse = xp.argsort(xp.concatenate(order))
        return _map_arrays(lambda a: a[inverse], batch)


class ChainDataset(IterableDataset):
    """IterableDatasets one after another, streamed."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _check(self, d):
        if not isinstance(d, IterableDataset):
            raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
        return d

    def __iter__(self):
        for d in self.datasets:
            yield from self._check(d)

    def __len__(self):
        return sum(len(self._check(d)) for d in self.datasets)


def _map_arrays(fn, *batches):
    """Apply ``fn`` leaf by leaf to batches of the same structure (tuples, lists, dicts of arrays/Tensors)."""
    first = batches[0]
    if isinstance(first, (Tensor, xp.ndarray)):
        return Tensor(fn(*(_data(b) for b in batches)))
    if isinstance(first, collections.abc.Mapping):
        return {key: _map_arrays(fn, *(b[key] for b in batches)) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(_map_arrays(fn, *fields) for fields in zip(*batches)))
    if isinstance(first, (tuple, list)):
        return type(first)(_map_arrays(fn, *fields) for fields in zip(*batches))
    raise TypeError(f"cannot join batches of type {type(first).__name__}; return arrays or Tensors from __getitems__")


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given ``lengths``: counts summing to
    len(dataset), or fractions summing to 1 (each gets floor(fraction·n) samples, and the remainder is
    dealt one by one to the first splits, as torch does).

    ``generator``: an ``ember.Generator``, a ``numpy.random.Generator`` or an int seed; by default ember's
    global generator is drawn from (torch's default generator), so ``ember.manual_seed`` fixes the split.
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2)
        lengths = counts
    if any(int(c) != c or c < 0 for c in lengths) or sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! (random_split: lengths "
            f"{lengths} sum to {sum(lengths)}, the dataset has {n}; give counts that add up to it or fractions "
            "that add up to 1)"
        )
    permutation = draw_generator(generator).permutation(n)
    bounds = [0, *itertools.accumulate(int(c) for c in lengths)]
    return [Subset(dataset, permutation[a:b]) for a, b in itertools.pairwise(bounds)]
