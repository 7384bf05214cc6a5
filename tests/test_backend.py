"""The backend door: the helpers that let the same ops run on NumPy or CuPy behave as NumPy does here."""

import numpy as np
import pytest

import ember
from ember import backend


def test_random_numbers_come_from_the_host_generator():
    # Drawn by NumPy whatever the backend, so a seed gives the same weights on CPU and GPU.
    assert backend.host is np
    assert isinstance(backend.generator(), np.random.Generator)
    ember.manual_seed(3)
    a = ember.randn(4).numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(a, np.random.default_rng(3).standard_normal(4).astype(np.float32))


def test_to_host_and_numpy_return_the_same_array_on_numpy():
    x = np.arange(3.0)
    assert backend.to_host(x) is x
    assert ember.from_numpy(x).numpy() is x


def test_writeable_follows_numpys_flag():
    x = np.zeros((2, 3))
    assert backend.writeable(x) and backend.writeable(x[0])
    assert not backend.writeable(np.broadcast_to(x[0], (4, 3)))  # one memory, many places
    class FlaglessArray:  # a backend whose arrays have no writeable flag: only owners count as writeable
        class flags:
            pass
        base = None
    assert backend.writeable(FlaglessArray())
    view = FlaglessArray()
    view.base = object()
    assert not backend.writeable(view)


def test_as_strided_is_read_only_unless_asked():
    x = np.arange(6.0)
    view = backend.as_strided(x, (2, 2), (16, 8))
    np.testing.assert_array_equal(view, [[0, 1], [2, 3]])
    with pytest.raises(ValueError):
        view[0, 0] = 1
    backend.as_strided(x, (2, 2), (16, 8), writeable=True)[0, 0] = 7
    assert x[0] == 7


def test_errstate_is_numpys_on_numpy():
    with backend.errstate(invalid="raise"), pytest.raises(FloatingPointError):
        np.array(0.0) / np.array(0.0)
    with backend.errstate(invalid="ignore"):
        assert np.isnan(np.array(0.0) / np.array(0.0))
