"""ember.data's DataLoader: torch's DataLoader (``ember.utils.data.DataLoader``, every argument and
rule of it) plus what ember's Trainer and CLI rely on:

* ``transform=``: a batch transform (``transforms.Compose([...])``) applied to the inputs of each batch
  (the first field of a tuple/list batch, or the whole batch), drawing its randomness from ``rng()``;
* ``prefetch=k``: k batches prepared ahead by one background thread while the model trains on the current
  one (NumPy releases the GIL in its kernels, so the two overlap); with ``num_workers > 0`` it sets
  ``prefetch_factor`` instead;
* batches as Tensors: every array and number becomes a Tensor without grad, integer labels int64 (what
  cross_entropy expects) except uint8 images, which stay uint8 for ToTensor to scale;
* its own generator, ``state_dict()`` / ``load_state_dict()``: the pipeline never draws from ``ember``'s
  global generator (which initialisers and dropout use, so training runs never depend on thread timing).
  Without ``generator=`` the loader's generator is seeded from the pipeline generator, which
  ``ember.manual_seed`` seeds. The epoch's order and seed are drawn from it at the start of each epoch,
  so its state (plain JSON-able data) is enough to replay the following epochs exactly.

An exception in the prefetch thread is raised again in the loop that consumes the batches; abandoning the
loop (``break``, or dropping the iterator) stops and joins the thread, a daemon that never holds up exit.
"""

import collections.abc

from ..backend import xp
from ..tensor import Tensor, as_array
from ..utils.data import dataloader as _torch_loader
from ..utils.data._utils.random import (
    as_generator,
    generator_state,
    loader_generator,
    restore_generator,
    rng,
    rng_scope,
)
from ..utils.data.sampler import RandomSampler

__all__ = ["DataLoader", "as_generator", "rng", "rng_scope", "to_tensors"]


def _convert_array(array):
    # Labels become int64 (what cross_entropy expects); uint8 stays uint8 (raw images, for ToTensor to scale).
    if array.dtype.kind in "iu" and array.dtype not in (xp.int64, xp.uint8):
        return array.astype(xp.int64)
    return array


def to_tensors(sample):
    """Every array, number and Tensor in a (nested) sample as a Tensor without grad. Floating data keeps
    its dtype, integers become int64 except uint8 images; tuples (namedtuples too), lists and dicts keep
    their structure; other objects (strings) pass through."""
    if isinstance(sample, Tensor):
        array = _convert_array(sample.array)
        return sample if array is sample.array and not sample.requires_grad else Tensor(array)
    if isinstance(sample, (xp.ndarray, xp.generic)):
        return Tensor(_convert_array(xp.asarray(sample)))
    if isinstance(sample, (bool, int, float)):
        return Tensor(as_array(sample))
    if isinstance(sample, collections.abc.Mapping):
        return {key: to_tensors(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(to_tensors(s) for s in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(to_tensors(s) for s in sample)
    return sample


class _Finish:
    """What ember's loader does to each collated batch: the batch transform on its inputs, then Tensors."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, sample):
        if self.transform is not None:
            sample = self._transform_inputs(sample)
        return to_tensors(sample)

    def _transform_inputs(self, sample):
        if isinstance(sample, (tuple, list)) and sample:
            fields = [self.transform(sample[0])] + list(sample[1:])
            return type(sample)(*fields) if hasattr(sample, "_fields") else type(sample)(fields)
        if isinstance(sample, collections.abc.Mapping):
            raise TypeError(
                "DataLoader(transform=...): batches that are dicts have no obvious input field; apply the "
                "transform in the dataset or in a collate_fn instead"
            )
        return self.transform(sample)


class DataLoader(_torch_loader.DataLoader):
    """torch's DataLoader with ember's extras (see the module docstring).

    Args: torch's (``dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, ...``), and keyword-only ``prefetch`` (batches a background thread
    prepares ahead; 0: none) and ``transform`` (applied to the inputs of each batch).
    """

    _thread_name = "ember-data-prefetch"

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, prefetch=0, transform=None):
        if not isinstance(prefetch, int) or isinstance(prefetch, bool) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch should be a non-negative integer (batches ahead), got {prefetch!r}")
        if num_workers > 0 and prefetch and prefetch_factor is None:
            prefetch_factor = prefetch
        super().__init__(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn, pin_memory,
                         drop_last, timeout, worker_init_fn, multiprocessing_context, loader_generator(generator),
                         prefetch_factor=prefetch_factor, persistent_workers=persistent_workers,
                         pin_memory_device=pin_memory_device, in_order=in_order)
        self.prefetch = prefetch
        self.transform = transform
        self._finish = _Finish(transform)

    @property
    def shuffle(self):
        return isinstance(self.sampler, RandomSampler)

    def _worker_setup(self):
        if self.num_workers == 0 and self.prefetch:
            return "thread", 1, self.prefetch  # one background thread, `prefetch` batches ahead
        return super()._worker_setup()

    def state_dict(self):
        return generator_state(self.generator)

    def load_state_dict(self, state):
        self.generator = restore_generator(self.generator, state)
        if isinstance(self.sampler, RandomSampler):
            self.sampler.generator = self.generator  # the sampler draws the order from the same stream

    def __repr__(self):
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, prefetch={self.prefetch})"
        )
