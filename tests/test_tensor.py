"""Tensor and its factories against torch: dtype inference, dtype= on every factory, shared memory,
seeding, and the everyday attributes and conversions (shape, item, numpy, tolist, len, iteration, repr)."""

import numpy as np
import pytest
import torch

import ember
from helpers import check_op

# ---- ember.tensor: the dtype of the data ---------------------------------------------------------------

INFERRED = {
    "float": 1.5,
    "list of floats": [1.5, 2.0],
    "nested floats": [[1.0, 2.0], [3.0, 4.0]],
    "int": 3,
    "list of ints": [1, 2],
    "nested ints": [[1, 2], [3, 4]],
    "bool": True,
    "list of bools": [True, False],
    "ints and floats": [1, 2.5],
    "np.float32 scalar": np.float32(1.5),
    "np.float64 scalar": np.float64(2.0),
    "np.int32 scalar": np.int32(3),
    "empty list": [],
}


@pytest.mark.parametrize("name", list(INFERRED))
def test_tensor_infers_dtype_like_torch(name):
    data = INFERRED[name]
    e, t = ember.tensor(data), torch.tensor(data)
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    assert e.shape == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8, np.int8, np.bool_])
def test_tensor_of_ndarray_keeps_its_dtype_and_copies(dtype):
    array = np.arange(6).reshape(2, 3).astype(dtype)
    t = ember.tensor(array)
    assert t.dtype == array.dtype == np.dtype(str(torch.tensor(array).dtype).replace("torch.", ""))
    assert not np.shares_memory(t.numpy(), array)
    f = ember.from_numpy(array)
    assert f.dtype == array.dtype and np.shares_memory(f.numpy(), array)
    array[0, 0] = 1
    assert f.numpy()[0, 0] == 1 and t.numpy()[0, 0] == 0


def test_from_numpy_shares_memory_both_ways():
    array = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(array)
    t.array[1] = 5.0
    assert array[1] == 5.0
    with pytest.raises(TypeError, match="ndarray"):
        ember.from_numpy([1.0, 2.0])


def test_tensor_of_tensor_and_of_list_of_tensors():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor(a.detach())
    assert not np.shares_memory(a.array, b.array) and not b.requires_grad
    c = ember.tensor([ember.tensor(1.0), ember.tensor(2.0)])
    assert c.tolist() == [1.0, 2.0] and c.dtype == np.float32


def test_tensor_constructor_class():
    assert ember.Tensor([1.0, 2.0]).dtype == np.float32
    assert ember.Tensor(np.ones(2)).dtype == np.float64
    assert ember.Tensor([1, 2], dtype=ember.float64).dtype == np.float64


# ---- dtype= on every factory ----------------------------------------------------------------------------

FACTORIES = {
    "tensor": lambda lib, dt: lib.tensor([1, 2, 3], dtype=dt),
    "zeros": lambda lib, dt: lib.zeros(2, 3, dtype=dt),
    "zeros tuple": lambda lib, dt: lib.zeros((2, 3), dtype=dt),
    "ones": lambda lib, dt: lib.ones(2, 3, dtype=dt),
    "ones list": lambda lib, dt: lib.ones([3], dtype=dt),
    "full": lambda lib, dt: lib.full((2, 3), 7, dtype=dt),
    "arange": lambda lib, dt: lib.arange(5, dtype=dt),
    "arange start stop step": lambda lib, dt: lib.arange(1, 9, 3, dtype=dt),
    "eye": lambda lib, dt: lib.eye(3, dtype=dt),
    "eye rectangular": lambda lib, dt: lib.eye(2, 4, dtype=dt),
    "linspace": lambda lib, dt: lib.linspace(0, 4, 5, dtype=dt),
    "zeros_like": lambda lib, dt: lib.zeros_like(lib.ones(2, 2), dtype=dt),
    "ones_like": lambda lib, dt: lib.ones_like(lib.zeros(2, 2), dtype=dt),
    "full_like": lambda lib, dt: lib.full_like(lib.zeros(2, 2), 3, dtype=dt),
}
RANDOM_FACTORIES = {
    "rand": lambda lib, dt: lib.rand(2, 3, dtype=dt),
    "randn": lambda lib, dt: lib.randn(2, 3, dtype=dt),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", None])
@pytest.mark.parametrize("name", list(FACTORIES))
def test_factories_accept_dtype(name, dtype):
    make = FACTORIES[name]
    e = make(ember, None if dtype is None else getattr(ember, dtype))
    t = make(torch, None if dtype is None else getattr(torch, dtype))
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", None])
@pytest.mark.parametrize("name", list(RANDOM_FACTORIES))
def test_random_factories_accept_float_dtypes(name, dtype):
    make = RANDOM_FACTORIES[name]
    e = make(ember, None if dtype is None else getattr(ember, dtype))
    t = make(torch, None if dtype is None else getattr(torch, dtype))
    assert str(e.dtype) == str(t.dtype).replace("torch.", "") and e.shape == tuple(t.shape)


@pytest.mark.parametrize("name", list(RANDOM_FACTORIES))
def test_random_factories_refuse_integer_dtypes_like_torch(name):
    with pytest.raises(RuntimeError):
        RANDOM_FACTORIES[name](torch, torch.int64)
    with pytest.raises(RuntimeError, match="floating"):
        RANDOM_FACTORIES[name](ember, ember.int64)


def test_dtype_given_as_numpy_dtype_or_string():
    assert ember.zeros(2, dtype=np.float64).dtype == np.float64
    assert ember.ones(2, dtype="float64").dtype == np.float64
    assert ember.tensor([1.5], dtype=ember.double).dtype == np.float64
    assert ember.tensor([1.5], dtype=ember.long).tolist() == [1]


DEFAULTS = {
    "arange float": lambda lib: lib.arange(5.0),
    "arange float step": lambda lib: lib.arange(0, 1, 0.25),
    "arange int": lambda lib: lib.arange(0, 5, 2),
    "full bool": lambda lib: lib.full((2,), True),
    "full float": lambda lib: lib.full((2,), 1.5),
    "full int": lambda lib: lib.full((2, 2), 4),
    "zeros_like float64": lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.float64)),
    "ones_like int": lambda lib: lib.ones_like(lib.tensor([1, 2])),
}


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_factory_default_dtypes_and_values(name):
    e, t = DEFAULTS[name](ember), DEFAULTS[name](torch)
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    np.testing.assert_allclose(e.numpy(), t.numpy())


def test_factories_requires_grad():
    for t in (ember.zeros(2, requires_grad=True), ember.ones(2, requires_grad=True), ember.randn(2, requires_grad=True),
              ember.rand(2, requires_grad=True), ember.tensor([1.0], requires_grad=True),
              ember.full((2,), 1.0, requires_grad=True), ember.eye(2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad is None
    assert not ember.zeros(2).requires_grad


# ---- random numbers -----------------------------------------------------------------------------------


def test_manual_seed_makes_random_factories_reproducible():
    def draw():
        return ember.rand(3, 2).numpy().copy(), ember.randn(4).numpy().copy(), ember.randint(0, 10, (5,)).numpy().copy()

    ember.manual_seed(123)
    first = draw()
    ember.manual_seed(123)
    second = draw()
    ember.manual_seed(124)
    third = draw()
    for a, b, c in zip(first, second, third):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_rng_state_round_trip_and_ranges():
    ember.manual_seed(0)
    state = ember.get_rng_state()
    a = ember.randn(5).numpy().copy()
    ember.set_rng_state(state)
    np.testing.assert_array_equal(ember.randn(5).numpy(), a)
    u = ember.rand(1000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and 0.4 < u.mean() < 0.6
    r = ember.randint(3, 7, (1000,))
    assert r.dtype == np.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert sorted(ember.randperm(6).tolist()) == list(range(6))


# ---- attributes and conversions -------------------------------------------------------------------------


def test_shape_dtype_ndim_size():
    x, t = ember.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert x.shape == tuple(t.shape) == (2, 3, 4)
    assert x.size() == tuple(t.size()) and x.size(1) == t.size(1) == 3 and x.size(-1) == t.size(-1)
    assert x.ndim == x.dim() == t.ndim == 3
    assert x.numel() == t.numel() == 24
    assert x.dtype == ember.float32
    assert ember.tensor(1.0).shape == () and ember.tensor(1.0).ndim == 0


def test_T_and_t():
    check_op(lambda x: x.T, lambda x: x.T, shapes=[(2, 3)])
    x = ember.zeros(2, 3, 4)
    assert x.T.shape == (4, 3, 2)
    v = ember.zeros(3)
    assert v.T.shape == (3,) and v.t().shape == (3,)


def test_item():
    assert ember.tensor(2.5).item() == 2.5 and isinstance(ember.tensor(2.5).item(), float)
    assert ember.tensor([[7]]).item() == 7 and isinstance(ember.tensor([7]).item(), int)
    assert ember.tensor(True).item() is True
    with pytest.raises(RuntimeError, match="one-element"):
        ember.ones(2).item()


def test_numpy_shares_memory_and_refuses_tensors_requiring_grad():
    x = ember.zeros(3)
    x.numpy()[0] = 4.0
    assert x.tolist()[0] == 4.0
    w = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(w)
    assert w.detach().numpy().tolist() == [1.0, 1.0]
    assert isinstance(ember.tensor(1.0).numpy(), np.ndarray)


def test_array_protocol():
    x = ember.tensor([1.0, 2.0])
    assert np.asarray(x).dtype == np.float32
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_tolist_len_and_iteration():
    data = [[1.5, 2.0], [3.0, 4.5], [5.0, 6.0]]
    x, t = ember.tensor(data), torch.tensor(data)
    assert x.tolist() == t.tolist() == data
    assert len(x) == len(t) == 3
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows) and rows[1].tolist() == [3.0, 4.5]
    with pytest.raises(TypeError, match="0-d"):
        len(ember.tensor(1.0))
    with pytest.raises(TypeError):
        iter(ember.tensor(1.0)).__next__()
    assert ember.tensor(3).tolist() == 3


def test_python_conversions():
    assert float(ember.tensor([2.5])) == 2.5
    assert int(ember.tensor(3.7)) == 3
    assert bool(ember.tensor([0.0])) is False and bool(ember.tensor(1)) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.ones(2))
    with pytest.raises(ValueError, match="one element"):
        int(ember.ones(2))
    with pytest.raises(ValueError):
        int(torch.ones(2))
    assert [10, 20, 30][ember.tensor(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][ember.tensor(1.0)]


def test_repr():
    r = repr(ember.tensor([1.5, 2.0]))
    assert r.startswith("tensor([") and "1.5" in r and "dtype" not in r
    assert "dtype=ember.float64" in repr(ember.tensor([1.0], dtype=ember.float64))
    assert "dtype" not in repr(ember.tensor([1, 2])) and "dtype" not in repr(ember.tensor([True]))
    assert "dtype=ember.int32" in repr(ember.tensor([1], dtype=ember.int32))
    assert "requires_grad=True" in repr(ember.ones(2, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(ember.ones(2, requires_grad=True) * 2)
    assert "requires_grad" not in repr(ember.ones(2))


def test_casts_and_to():
    x = ember.tensor([1.7, -2.2])
    assert x.double().dtype == np.float64 and x.float().dtype == np.float32
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.to(ember.float64).dtype == np.float64 and x.type(ember.int64).dtype == np.int64
    assert ember.tensor([1, 2]).float().dtype == np.float32


def test_clone_copies_and_keeps_the_graph():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and not c.is_leaf and not np.shares_memory(c.array, x.array)
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    d = ember.tensor([1.0]).clone()
    assert not d.requires_grad


def test_in_place_setters_without_grad():
    x = ember.zeros(2, 3)
    x[0] = 1.0
    x[:, 2] = ember.tensor([5.0, 6.0])
    x[ember.tensor([1]), 0] = 9.0
    assert x.tolist() == [[1.0, 1.0, 5.0], [9.0, 0.0, 6.0]]
    x.fill_(2.0)
    assert x.tolist() == [[2.0] * 3] * 2
    x.copy_(ember.ones(2, 3))
    assert x.zero_().tolist() == [[0.0] * 3] * 2
    w = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 3.0
    with ember.no_grad():
        w[0] = 3.0
        w.fill_(1.0)
    assert w.tolist() == [1.0, 1.0]


def test_numpy_operands_on_the_left():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([1.0, 1.0], dtype=np.float32) + x
    assert isinstance(y, ember.Tensor) and y.requires_grad and y.dtype == np.float32
    z = np.float64(2.0) * x
    assert isinstance(z, ember.Tensor) and z.dtype == np.float32
    (y * z).sum().backward()
    assert x.grad.tolist() == [6.0, 10.0]


def test_hash_by_identity_and_elementwise_eq():
    a, b = ember.ones(2), ember.ones(2)
    assert len({a, b}) == 2
    assert (a == b).tolist() == [True, True]


def test_data_is_a_detached_tensor_on_the_same_storage_as_in_torch():
    w = ember.nn.Parameter(ember.ones(3))
    (w * 2).sum().backward()
    d = w.data
    assert isinstance(d, ember.Tensor) and not d.requires_grad and d.grad_fn is None
    w.data -= 0.5 * w.grad                         # the SGD update of pre-0.4 torch code, under grad mode
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0, 0.0])
    d.array[0] = 7.0                               # one storage
    assert w.array[0] == 7.0
    w.data = ember.zeros(3, dtype=ember.float64)   # swaps the array behind the parameter
    assert w.dtype == ember.float64 and w.requires_grad
    values, idx = ember.max(ember.tensor([[1.0, 3.0], [4.0, 2.0]]).data, 1)
    np.testing.assert_array_equal(idx.numpy(), [1, 0])
