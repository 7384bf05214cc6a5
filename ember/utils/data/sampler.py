"""Samplers: the order in which a DataLoader visits a map-style dataset, with torch's names and rules.

A sampler is an iterable of indices (``BatchSampler``: of lists of indices) with an optional ``len``.
Random samplers draw from their ``generator=`` when given; without one they draw from ember's global
generator as torch draws from its default generator: ``RandomSampler`` one seed per epoch, the others
their draws directly. ``ember.manual_seed(s)`` therefore fixes every order.
"""

import itertools

from ...backend import xp
from ._utils.random import draw_generator, keep, numpy_generator, random_seed


class Sampler:
    """Base class: subclasses implement ``__iter__`` (and ``__len__`` where the length is known)."""

    def __init__(self, data_source=None):
        pass  # torch accepts and ignores it (kept for old subclasses that call super().__init__(data_source))

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, every epoch."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation every epoch; with ``replacement=True``, ``num_samples`` independent
    uniform draws. Without replacement and ``num_samples > n``, whole permutations follow one another
    (the last one cut), as in torch."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = keep(generator)
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = numpy_generator(self.generator)
        if generator is None:  # torch: one seed per epoch from the default generator
            generator = xp.random.default_rng(random_seed(None))
        if self.replacement:
            yield from generator.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from generator.permutation(n).tolist()
        if self.num_samples % n:  # no draw for an empty tail: the generator's state is final after the first
            yield from generator.permutation(n)[: self.num_samples % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order every epoch (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = keep(generator)

    def __iter__(self):
        for i in draw_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in [0, len(weights)) drawn with probability weights[i] / sum(weights),
    with replacement by default; without, each index at most once (torch.multinomial's rule)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        from ...tensor import Tensor

        weights = xp.asarray(weights.array if isinstance(weights, Tensor) else weights, dtype=xp.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights = Tensor(weights)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = keep(generator)

    def __iter__(self):
        w = self.weights.array
        if (w < 0).any() or not xp.isfinite(w).all() or w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        generator = draw_generator(self.generator)
        if self.replacement:
            yield from generator.choice(len(w), size=self.num_samples, p=w / w.sum()).tolist()
            return
        if self.num_samples > len(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        # Weighted draws without replacement among the positive weights; zero weights only once those
        # run out, in random order (what torch.multinomial does on a CPU).
        positive = xp.flatnonzero(w > 0)
        first = generator.choice(positive, size=min(self.num_samples, len(positive)), replace=False,
                                 p=w[positive] / w.sum())
        rest = generator.permutation(xp.flatnonzero(w == 0))[: self.num_samples - len(first)]
        yield from xp.concatenate([first, rest]).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last, shorter one is kept
    unless ``drop_last``. ``list(BatchSampler(range(10), 3, False)) == [[0,1,2], [3,4,5], [6,7,8], [9]]``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
