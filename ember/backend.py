"""The array-module handle, the dtypes and the random generator: the only door from Ember to NumPy.

Every op reaches arrays through ``xp`` (Chainer's ``get_array_module`` idea) and never imports NumPy
itself, so another module with NumPy's API (CuPy on a GPU) can be chosen at start-up with the
environment variable ``EMBER_BACKEND=cupy`` without rewriting a single op.
"""

import importlib
import os

xp = importlib.import_module(os.environ.get("EMBER_BACKEND", "numpy"))

float16 = xp.dtype("float16")
float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
int8 = xp.dtype("int8")
uint8 = xp.dtype("uint8")
int32 = xp.dtype("int32")
int64 = xp.dtype("int64")
bool_ = xp.dtype("bool")

#: dtype of tensors made from Python floats and of every factory that is not told otherwise.
default_dtype = float32

_generator = xp.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind every random factory, initialiser and dropout mask."""
    global _generator
    _generator = xp.random.default_rng(int(seed))
    return _generator


def generator():
    """The current random generator (a ``numpy.random.Generator``)."""
    return _generator


def get_rng_state():
    """The generator's state as a JSON-friendly dict (saved in checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state


def is_floating(dtype):
    return xp.dtype(dtype).kind == "f"


def as_dtype(dtype):
    """Accept ``ember.float32``, ``numpy.float32``, ``'float32'`` or ``None`` (stays ``None``)."""
    return None if dtype is None else xp.dtype(dtype)
