"""Datasets: a length and a way to fetch sample i, with torch.utils.data's names.

A dataset may also fetch a whole batch at once. ``dataset.__getitems__(indices)`` takes an int64 index
array and returns an *already batched* sample (for an image dataset, a tuple ``(images (B, ...), labels
(B,))``): one fancy-indexing gather per batch instead of B Python calls and a stack. ``DataLoader`` uses it
whenever the dataset has it; ``TensorDataset``, ``Subset`` and ``ConcatDataset`` have it.

Otherwise a batch is made the classic way: ``dataset[i]`` for each index, then ``default_collate`` stacks
the samples (arrays, Tensors and numbers are stacked along a new first axis; tuples, lists and dicts are
collated field by field).
"""

import bisect
import collections.abc
import itertools
import math

from .. import backend
from ..backend import xp
from ..tensor import Tensor


class Dataset:
    """A map from an index in [0, len) to a sample. Subclasses implement ``__getitem__`` and ``__len__``,
    and may implement ``__getitems__(indices)`` returning a whole batch (see the module docstring)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _data(t):
    return t.array if isinstance(t, Tensor) else xp.asarray(t)


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors or arrays: ``TensorDataset(images, labels)[i] ==
    (images[i], labels[i])`` as Tensors. A batch is one fancy-index per tensor."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        arrays = [_data(t) for t in tensors]
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("TensorDataset: every tensor needs a first (sample) dimension; got a 0-d one")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all tensors must have the same first dimension, got sizes {sizes}")
        self.tensors = tuple(Tensor(a) for a in arrays)

    def __getitem__(self, index):
        return tuple(Tensor(t.array[index]) for t in self.tensors)

    def __getitems__(self, indices):
        indices = xp.asarray(indices, dtype=xp.int64)
        return tuple(Tensor(t.array[indices]) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


def fetch(dataset, indices):
    """The batch of samples ``indices`` (an int64 array): one ``__getitems__`` call when the dataset has
    it, else ``dataset[i]`` for each index and ``default_collate``."""
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return getitems(indices)
    return default_collate([dataset[int(i)] for i in indices])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(d, idx)[i] == d[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = xp.asarray(indices, dtype=xp.int64).reshape(-1)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        # Forwarded to the parent's batch access when it has one; else per-sample fetches and a collate.
        return fetch(self.dataset, self.indices[xp.asarray(indices, dtype=xp.int64)])

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another: index i falls in dataset k where cumulative_sizes[k-1] <= i < cumulative_sizes[k]."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

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
        """One batched fetch per constituent dataset, then the parts are joined and put back in the order asked."""
        indices = xp.asarray(indices, dtype=xp.int64)
        indices = xp.where(indices < 0, indices + len(self), indices)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"indices out of range for a ConcatDataset of length {len(self)}")
        if not indices.size:
            return fetch(self.datasets[0], indices)
        which = xp.searchsorted(xp.asarray(self.cumulative_sizes), indices, side="right")
        starts = xp.asarray([0] + self.cumulative_sizes[:-1])
        parts, order = [], []
        for k in xp.unique(which).tolist():  # a loop over datasets, not samples
            positions = xp.flatnonzero(which == k)
            parts.append(fetch(self.datasets[k], indices[positions] - starts[k]))
            order.append(positions)
        batch = _map_arrays(lambda *arrays: xp.concatenate(arrays), *parts)
        inverse = xp.argsort(xp.concatenate(order))
        return _map_arrays(lambda a: a[inverse], batch)


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

    ``generator`` is an int seed or a ``numpy.random.Generator``; by default ``ember.data.rng()``, which
    ``ember.manual_seed`` seeds, so the split is reproducible without touching the model's generator.
    """
    from .dataloader import as_generator  # the loader module owns the pipeline's generators

    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(c) != c or c < 0 for c in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths {sum(lengths)} does not equal the length of the dataset ({n}); "
            "give counts that add up to it or fractions that add up to 1"
        )
    permutation = as_generator(generator).permutation(n)
    bounds = [0, *itertools.accumulate(int(c) for c in lengths)]
    return [Subset(dataset, permutation[a:b]) for a, b in itertools.pairwise(bounds)]


def default_collate(samples):
    """Stack a list of samples into one batch, like torch's ``default_collate``.

    Arrays and Tensors are stacked along a new first axis; numbers become a 1-D Tensor (Python floats
    float32, Python ints int64); tuples (namedtuples too), lists and dicts are collated field by field and
    keep their type; strings stay a list. The leaves come back as Tensors without grad.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    elem = samples[0]
    if isinstance(elem, (Tensor, xp.ndarray)):
        shapes = {tuple(_data(s).shape) for s in samples}
        if len(shapes) != 1:
            raise RuntimeError(f"default_collate: stack expects each sample to have the same shape, got {sorted(shapes)}")
        return Tensor(xp.stack([_data(s) for s in samples]))
    if isinstance(elem, bool):
        return Tensor(xp.asarray(samples, dtype=xp.bool_))
    if isinstance(elem, int):
        return Tensor(xp.asarray(samples, dtype=xp.int64))
    if isinstance(elem, float):
        return Tensor(xp.asarray(samples, dtype=backend.default_dtype))
    if isinstance(elem, xp.generic):  # NumPy scalars keep their dtype
        return Tensor(xp.asarray(samples))
    if isinstance(elem, (str, bytes)):
        return list(samples)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in elem}
    if isinstance(elem, (tuple, list)):
        if len({len(s) for s in samples}) != 1:
            raise RuntimeError("default_collate: each sample in the batch should have the same number of fields")
        fields = [default_collate(list(f)) for f in zip(*samples)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):
            return type(elem)(*fields)
        return type(elem)(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: samples must contain arrays, Tensors, numbers, strings, dicts or sequences; "
        f"found {type(elem).__name__}. Pass a collate_fn to the DataLoader for other types"
    )
