"""The data pipeline's random generators, and torch's ``generator=`` arguments as NumPy Generators.

Two kinds of randomness meet in a data pipeline:

* Orders (samplers, ``random_split``) follow torch: a ``generator=`` given is drawn from; without one,
  ember's global generator (``ember.manual_seed``) is, as torch draws from its default generator.
  ``numpy_generator`` is the one place a ``generator=`` argument is read.
* Augmentation (random transforms) draws from ``rng()``: inside a DataLoader, the generator of the batch
  being produced (``default_rng([base_seed, k])`` for batch k, set with ``rng_scope``), so a batch is the
  same whichever worker, thread or process makes it; elsewhere a stream derived from the seed of ember's
  global generator without drawing from it, so transforms applied by hand are reproducible too.
"""

import contextlib
import threading

from .... import backend
from ....backend import xp

_local = threading.local()  # .generator: the generator of the batch this thread is producing
_fallback = {"source": None, "generator": None}
_fallback_lock = threading.Lock()
_DATA_STREAM = 0xDA7A  # the spawn key that separates the pipeline's stream from the model's


def numpy_generator(generator):
    """A ``generator=`` argument as a ``numpy.random.Generator``, or None when none was given.

    Accepted: None; a ``numpy.random.Generator``; an ``ember.Generator`` (any object holding a NumPy
    Generator in ``numpy_generator``, ``generator`` or ``_generator``, as an attribute or a method); an int
    seed (ember's shorthand for ``Generator().manual_seed(seed)``).
    """
    if generator is None or isinstance(generator, xp.random.Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return xp.random.default_rng(generator)
    for name in ("numpy_generator", "generator", "_generator"):
        inner = getattr(generator, name, None)
        if callable(inner) and not isinstance(inner, xp.random.Generator):
            inner = inner()
        if isinstance(inner, xp.random.Generator):
            return inner
    raise TypeError(
        f"generator must be an ember.Generator, a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )


def keep(generator):
    """A ``generator=`` argument as a sampler or loader stores it: an int seed becomes a Generator once,
    so that the next epoch continues its stream instead of starting it again; anything else as given."""
    return numpy_generator(generator) if isinstance(generator, int) and not isinstance(generator, bool) else generator


def draw_generator(generator):
    """The generator to draw from: ``generator`` when given, else ember's global one (torch's default)."""
    generator = numpy_generator(generator)
    return generator if generator is not None else backend.generator()


def random_seed(generator):
    """One 63-bit seed drawn from ``generator`` (or the global generator), as torch's
    ``torch.empty((), dtype=torch.int64).random_(generator=g)``."""
    return int(draw_generator(generator).integers(2**63))


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

    Inside a DataLoader it is the generator of the batch being produced in this thread (see the module
    docstring); elsewhere a pipeline generator that ``ember.manual_seed(s)`` reseeds from s. Never ember's
    global generator.
    """
    generator = getattr(_local, "generator", None)
    return generator if generator is not None else _fallback_generator()


def as_generator(generator):
    """An int seed, a Generator (NumPy's or ember's) or None (the current ``rng()``) as a NumPy Generator."""
    generator = numpy_generator(generator)
    return rng() if generator is None else generator


def loader_generator(generator):
    """A loader's own random stream: ``generator`` as given, or by default one seeded from the pipeline
    generator, so that ``ember.manual_seed`` makes every loader reproducible without drawing from it."""
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
