"""Random-number generators with PyTorch's API (``torch.Generator``, ``torch.manual_seed``, ``torch.random``).

Every random draw in Ember is made on the host by a ``numpy.random.Generator`` (see ember.backend): the
global one behind ``ember.rand``, the initialisers and dropout, or one the caller owns. ``Generator``
wraps a NumPy generator in torch's interface: ``ember.Generator().manual_seed(0)`` can be passed as
``generator=`` to ``randperm``, ``random_split`` or a ``DataLoader``. Its NumPy generator is
``.numpy_generator``, and its drawing methods (``random``, ``integers``, ``normal``, ``permutation``...)
are the NumPy generator's, so code written for either kind of generator can draw from it.

The numbers differ from torch's (a different bit generator, PCG64): a seed gives the same numbers
in every Ember run, on every device, not torch's numbers.
"""

import contextlib

from . import backend
from .devices import device as _device

_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator, so initial_seed() reads the same


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) and not isinstance(seed, backend.host.integer):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    return backend._seed_value(seed)


class Generator:
    """A random-number generator of its own (``torch.Generator``), seeded with torch's default seed."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        if self.device.type != "cpu":  # every draw is made on the host, then moved
            raise RuntimeError(f"Generator(device={str(self.device)!r}): Ember draws random numbers on the host "
                               "and moves them to the device; use Generator() (device='cpu')")
        self.manual_seed(_DEFAULT_SEED)

    @property
    def numpy_generator(self):
        """The ``numpy.random.Generator`` that draws this generator's numbers."""
        return self._numpy_generator

    def manual_seed(self, seed):
        """Restart from ``seed`` (an int in [-2**63, 2**64)); returns the generator, as torch does."""
        self._seed = _check_seed(seed)
        self._numpy_generator = backend.host.random.default_rng(self._seed)
        return self

    def seed(self):
        """Restart from a seed drawn from the operating system's entropy, and return that seed."""
        seed = backend._fresh_seed()
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a plain dict (torch returns a uint8 tensor); give it back to ``set_state``."""
        return self.numpy_generator.bit_generator.state

    def set_state(self, new_state):
        self.numpy_generator.bit_generator.state = new_state
        return self

    def __getattr__(self, name):
        # Drawing methods (random, integers, normal, permutation, ...) are the NumPy generator's.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.numpy_generator, name)

    def __repr__(self):
        return f"<ember.Generator object, seed {self.initial_seed()}>"


class _DefaultGenerator(Generator):
    """``ember.default_generator``: a view of the global generator in ember.backend, which
    ``ember.manual_seed`` replaces, so this object always draws from the current one."""

    def __init__(self):
        self.device = _device("cpu")

    @property
    def numpy_generator(self):
        return backend.generator()

    def manual_seed(self, seed):
        backend.manual_seed(_check_seed(seed))
        return self

    def initial_seed(self):
        return backend.initial_seed()


default_generator = _DefaultGenerator()


def as_numpy_generator(generator):
    """The ``numpy.random.Generator`` to draw from for a ``generator=`` argument: the global one for
    ``None``, the NumPy generator inside an ``ember.Generator``, or the NumPy generator given."""
    if generator is None:
        return backend.generator()
    if isinstance(generator, Generator):
        return generator.numpy_generator
    if isinstance(generator, backend.host.random.Generator):
        return generator
    raise TypeError(f"generator must be an ember.Generator (or a numpy.random.Generator), got "
                    f"{type(generator).__name__}")


def manual_seed(seed):
    """Seed the global generator (``torch.manual_seed``) and return it (``ember.default_generator``).
    Any integer in [-2**63, 2**64) works; a float is truncated, as torch does."""
    backend.manual_seed(seed)
    return default_generator


def seed():
    """Seed the global generator from the operating system's entropy and return that seed."""
    return backend.seed()


def initial_seed():
    """The seed the global generator started from."""
    return backend.initial_seed()


def get_rng_state():
    """The global generator's state (a dict; torch's is a uint8 tensor): hand it to ``set_rng_state``."""
    return backend.get_rng_state()


def set_rng_state(new_state):
    backend.set_rng_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **kwargs):
    """Restore the global generator's state on leaving the block (``torch.random.fork_rng``), so random
    draws inside it do not change the numbers drawn after it."""
    if not enabled:
        yield
        return
    saved = backend.save_generator()
    try:
        yield
    finally:
        backend.restore_generator(saved)
