"""DataLoader: turns a dataset into an iterable of mini-batches, one epoch per ``for`` loop.

An epoch visits every sample exactly once: the indices 0..n-1 (or, with ``shuffle=True``, a fresh
permutation of them) are cut into consecutive batches of ``batch_size``; the last, shorter batch is kept
unless ``drop_last=True``. Each batch is fetched with one vectorised ``dataset.__getitems__(indices)`` when
the dataset has it, else sample by sample and collated; then the optional batch ``transform`` (random
augmentation, normalisation) runs on its inputs, and every array becomes an ember Tensor.

Randomness. The pipeline never draws from ``ember``'s global generator, which the model's initialisers
and dropout use: a data thread drawing from it would make training runs depend on thread timing. Each
loader owns a ``numpy.random.Generator``. At the start of an epoch, in the calling thread, it draws the
permutation and one 63-bit epoch seed; batch k's random transforms then draw from
``default_rng([epoch_seed, k])``, which ``ember.data.rng()`` returns while that batch is being produced. So
the batches are the same with or without a prefetch thread, and ``state_dict()`` (the generator's state)
is enough to replay the following epochs exactly.

Prefetching. ``prefetch=k`` produces up to k batches ahead in one background thread while the model
trains on the current one (NumPy releases the GIL inside its kernels, so the two overlap). An exception
in the thread is raised again in the loop that consumes the batches; abandoning the loop (``break``, or
dropping the iterator) stops and joins the thread, and the thread is a daemon so it never holds up exit.
"""

import collections.abc
import contextlib
import math
import queue
import threading
import weakref

from .. import backend
from ..backend import xp
from ..tensor import Tensor, as_array
from .dataset import fetch

# ---- the data pipeline's random generator ---------------------------------------------------------------

_local = threading.local()  # .generator: the generator of the batch this thread is producing
_fallback = {"source": None, "generator": None}
_fallback_lock = threading.Lock()
_DATA_STREAM = 0xDA7A  # the spawn key that separates the pipeline's stream from the model's


def _fallback_generator():
    """The generator used outside a DataLoader: a child stream of the seed of ember's global generator,
    derived afresh after each ``ember.manual_seed`` (a new global generator) without drawing from it."""
    source = backend.generator()
    with _fallback_lock:
        if _fallback["source"] is not source:
            seq = source.bit_generator.seed_seq
            if isinstance(seq, xp.random.SeedSequence):
                child = xp.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (_DATA_STREAM,))
            else:  # a generator built without a SeedSequence: derive the stream from its current state
                child = xp.random.SeedSequence([hash(repr(source.bit_generator.state)) & (2**63 - 1), _DATA_STREAM])
            _fallback.update(source=source, generator=xp.random.default_rng(child))
        return _fallback["generator"]


def rng():
    """The ``numpy.random.Generator`` that random transforms draw from.

    Inside a DataLoader it is the generator of the batch being produced in this thread (derived from the
    loader's own generator, see the module docstring); elsewhere a pipeline generator that
    ``ember.manual_seed(s)`` reseeds from s, so transforms applied by hand are reproducible too. Never
    ember's global generator.
    """
    generator = getattr(_local, "generator", None)
    return generator if generator is not None else _fallback_generator()


def as_generator(generator):
    """An int seed, a ``numpy.random.Generator`` or None (the current ``rng()``) as a Generator."""
    if generator is None:
        return rng()
    if isinstance(generator, xp.random.Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return xp.random.default_rng(generator)
    raise TypeError(f"generator must be an int seed, a numpy.random.Generator or None, got {type(generator).__name__}")


def loader_generator(generator):
    """A loader's own random stream: ``generator`` (int seed or Generator) as given, or by default one seeded
    from the pipeline generator, so that ``ember.manual_seed`` makes every loader reproducible."""
    if generator is None:
        generator = xp.random.default_rng(int(_fallback_generator().integers(2**63)))
    return as_generator(generator)


def generator_state(generator):
    """A loader's state: its generator's (plain ints and strings, JSON-able); loading it replays the next
    epochs."""
    return {"generator": generator.bit_generator.state}


def restore_generator(generator, state):
    """``generator`` set to a state saved by ``generator_state`` (a new one if the bit generator differs)."""
    saved = state["generator"]
    name = saved.get("bit_generator")
    if name != type(generator.bit_generator).__name__:
        generator = xp.random.Generator(getattr(xp.random, name)())
    generator.bit_generator.state = saved
    return generator


@contextlib.contextmanager
def rng_scope(generator):
    """Make ``rng()`` return ``generator`` (a Generator or an int seed) in this thread inside the block."""
    previous = getattr(_local, "generator", None)
    _local.generator = as_generator(generator)
    try:
        yield _local.generator
    finally:
        _local.generator = previous


# ---- batches as Tensors ---------------------------------------------------------------------------------


def _convert_array(array):
    # Labels become int64 (what cross_entropy expects); uint8 stays uint8 (raw images, for ToTensor to scale).
    if array.dtype.kind in "iu" and array.dtype not in (xp.int64, xp.uint8):
        return array.astype(xp.int64)
    return array


def to_tensors(sample):
    """Every array, number and Tensor in a (nested) sample as a Tensor without grad. Floating data keeps
    its dtype (Python floats become float32), integers become int64 except uint8 images; tuples
    (namedtuples too), lists and dicts keep their structure; other objects (strings) pass through."""
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


def _transform_inputs(transform, sample):
    """The batch transform acts on the inputs: the first field of a tuple/list batch, or the whole batch."""
    if isinstance(sample, (tuple, list)) and sample:
        fields = [transform(sample[0])] + list(sample[1:])
        if hasattr(sample, "_fields"):
            return type(sample)(*fields)
        return type(sample)(fields)
    if isinstance(sample, collections.abc.Mapping):
        raise TypeError(
            "DataLoader(transform=...): batches that are dicts have no obvious input field; apply the "
            "transform in the dataset or in a collate_fn instead"
        )
    return transform(sample)


# ---- the loader -----------------------------------------------------------------------------------------


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    Args:
        dataset: a ``Dataset`` (anything with ``__len__`` and ``__getitem__``; ``__getitems__`` is used
            when present).
        batch_size: samples per batch; ``None`` yields single samples, unbatched (torch's convention).
        shuffle: a new random order every epoch (else 0, 1, ..., n-1).
        drop_last: drop the last batch when it is shorter than ``batch_size``.
        collate_fn: ``collate_fn(list_of_samples) -> batch``, torch's signature. With one, samples are
            fetched one by one (a torch-style collate_fn expects them so); without, batches come from
            ``__getitems__`` or ``default_collate``.
        generator: an int seed or a ``numpy.random.Generator`` for the order and the augmentation; by
            default one seeded from the pipeline generator, which ``ember.manual_seed`` seeds.
        prefetch: how many batches a background thread prepares ahead (0: none, everything in the loop).
        transform: applied to the inputs of each batch (the first field of a tuple batch): a batch
            transform such as ``transforms.Compose([...])``, drawing per-sample randomness from ``rng()``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None,
                 prefetch=0, transform=None):
        if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) is mutually exclusive with drop_last")
        if not isinstance(prefetch, int) or isinstance(prefetch, bool) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch should be a non-negative integer (batches ahead), got {prefetch!r}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.prefetch = prefetch
        self.transform = transform
        self.generator = loader_generator(generator)

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _epoch(self):
        """This epoch's index batches and augmentation seed, drawn now from the loader's generator."""
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else xp.arange(n, dtype=xp.int64)
        seed = int(self.generator.integers(2**63))
        size = self.batch_size or 1
        return [order[start : start + size] for start in range(0, len(self) * size, size)], seed

    def _produce(self, indices, seed, k):
        """Batch k: fetch, transform with this batch's generator in scope, convert to Tensors."""
        with rng_scope(xp.random.default_rng([seed, k])):
            if self.batch_size is None:
                sample = self.dataset[int(indices[0])]
            elif self.collate_fn is not None:
                sample = self.collate_fn([self.dataset[int(i)] for i in indices])
            else:
                sample = fetch(self.dataset, indices)
            if self.transform is not None:
                sample = _transform_inputs(self.transform, sample)
        return to_tensors(sample)

    def __iter__(self):
        batches, seed = self._epoch()
        if self.prefetch:
            return _PrefetchIterator(self._produce, batches, seed, self.prefetch)
        return (self._produce(indices, seed, k) for k, indices in enumerate(batches))

    def state_dict(self):
        return generator_state(self.generator)

    def load_state_dict(self, state):
        self.generator = restore_generator(self.generator, state)

    def __repr__(self):
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, prefetch={self.prefetch})"
        )


# ---- the prefetch thread --------------------------------------------------------------------------------


def _put(q, stop, item):
    """Put unless told to stop: a full queue is retried so that a stop request is noticed promptly."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.05)
            return True
        except queue.Full:
            pass
    return False


def _producer(produce, batches, seed, q, stop):
    # Holds no reference to the iterator, so dropping the iterator frees it and its finalizer stops us.
    try:
        for k, indices in enumerate(batches):
            if stop.is_set() or not _put(q, stop, ("batch", produce(indices, seed, k))):
                return
        _put(q, stop, ("end", None))
    except BaseException as error:  # noqa: BLE001 -- every error is re-raised in the consuming thread
        _put(q, stop, ("error", error))


def _shutdown(stop, q, thread):
    stop.set()
    while True:  # empty the queue so the producer and the batches it made are released at once
        try:
            q.get_nowait()
        except queue.Empty:
            break
    if thread is not threading.current_thread():
        thread.join()


class _PrefetchIterator:
    """Batches produced up to ``depth`` ahead by a daemon thread, through a bounded queue."""

    def __init__(self, produce, batches, seed, depth):
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=_producer, args=(produce, batches, seed, self._queue, self._stop), name="ember-data-prefetch",
            daemon=True,
        )
        self._thread.start()
        self._finalizer = weakref.finalize(self, _shutdown, self._stop, self._queue, self._thread)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._finalizer.alive:
            raise StopIteration
        while True:
            try:
                kind, payload = self._queue.get(timeout=0.5)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():  # cannot happen; never hang on it
                    self.close()
                    raise RuntimeError("DataLoader: the prefetch thread ended without finishing the epoch")
        if kind == "batch":
            return payload
        self.close()
        if kind == "error":
            raise payload
        raise StopIteration

    def close(self):
        """Stop the thread and wait for it (also done when the iterator is garbage-collected)."""
        self._finalizer()
