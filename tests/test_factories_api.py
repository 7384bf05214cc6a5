"""Factories' torch signatures (device=, size=, out=, layout=, pin_memory=, generator=), the new factories
(empty, *_like, normal, as_tensor) and ember.Generator, each compared with torch where torch is
deterministic: shapes, dtypes, devices, values of the non-random ones, errors."""

import numpy as np
import pytest
import torch

import ember

# Each call is made in both libraries; random ones are compared on shape, dtype and device only.
CALLS = {
    "tensor device": lambda lib: lib.tensor([1.0, 2.0], device="cpu"),
    "tensor device object": lambda lib: lib.tensor([1.0], device=lib.device("cpu")),
    "tensor device None": lambda lib: lib.tensor([1, 2], dtype=lib.float32, device=None),
    "zeros device": lambda lib: lib.zeros(2, 3, device="cpu"),
    "zeros cpu:0": lambda lib: lib.zeros(2, device="cpu:0"),
    "zeros size=": lambda lib: lib.zeros(size=(2, 3)),
    "zeros list": lambda lib: lib.zeros([2, 3]),
    "zeros ()": lambda lib: lib.zeros(()),
    "zeros layout": lambda lib: lib.zeros(2, layout=lib.strided),
    "zeros out=None": lambda lib: lib.zeros((2, 3), out=None),
    "zeros torch.Size": lambda lib: lib.zeros(lib.ones(2, 3).shape),
    "ones size=": lambda lib: lib.ones(size=(2,)),
    "ones device dtype": lambda lib: lib.ones(3, device="cpu", dtype=lib.float64),
    "empty": lambda lib: lib.empty(2, 3).fill_(1),
    "empty size=": lambda lib: lib.empty(size=(2,)).fill_(1),
    "empty int": lambda lib: lib.empty(2, dtype=lib.int64).fill_(3),
    "empty memory_format": lambda lib: lib.empty(2, 3, memory_format=lib.contiguous_format).fill_(0),
    "full device": lambda lib: lib.full((2,), 1.5, device="cpu"),
    "full list": lambda lib: lib.full([2, 3], 1.0),
    "full tensor value": lambda lib: lib.full((2,), lib.tensor(3)),
    "full bool": lambda lib: lib.full((2,), True),
    "arange device": lambda lib: lib.arange(5, device="cpu"),
    "arange keywords": lambda lib: lib.arange(start=0, end=4, step=2),
    "arange end=": lambda lib: lib.arange(end=4),
    "arange negative step": lambda lib: lib.arange(5, 0, -2),
    "arange float": lambda lib: lib.arange(0, 1, 0.25, device="cpu"),
    "linspace steps=": lambda lib: lib.linspace(0, 1, steps=5, device="cpu"),
    "eye keywords": lambda lib: lib.eye(n=2, m=3, device="cpu"),
    "zeros_like device": lambda lib: lib.zeros_like(lib.ones(2, 3), device="cpu"),
    "zeros_like memory_format": lambda lib: lib.zeros_like(lib.ones(2), memory_format=lib.preserve_format),
    "ones_like dtype": lambda lib: lib.ones_like(lib.zeros(2, dtype=lib.int64), dtype=lib.float64),
    "full_like": lambda lib: lib.full_like(lib.zeros(2, 2), 3.5, device="cpu"),
    "empty_like int": lambda lib: lib.empty_like(lib.ones(2, dtype=lib.int64)).fill_(7),
    "empty_like float64": lambda lib: lib.empty_like(lib.ones(2, dtype=lib.float64)).fill_(0.5),
    "as_tensor list": lambda lib: lib.as_tensor([1, 2]),
    "as_tensor float": lambda lib: lib.as_tensor(3.0),
    "as_tensor ndarray dtype": lambda lib: lib.as_tensor(np.ones(2), dtype=lib.float32),
    "as_tensor tensor dtype": lambda lib: lib.as_tensor(lib.ones(2), dtype=lib.float64),
    "as_tensor device": lambda lib: lib.as_tensor([1.5], device="cpu"),
}
RANDOM_CALLS = {
    "rand size=": lambda lib: lib.rand(size=(2, 3)),
    "rand device": lambda lib: lib.rand(2, 3, device="cpu"),
    "randn size=": lambda lib: lib.randn(size=(2, 3), dtype=lib.float64),
    "randn tuple": lambda lib: lib.randn((4,), device="cpu"),
    "randint high size": lambda lib: lib.randint(5, (3,)),
    "randint low high size": lambda lib: lib.randint(2, 5, (3, 2)),
    "randint size=": lambda lib: lib.randint(5, size=(3,)),
    "randint keywords": lambda lib: lib.randint(low=2, high=5, size=(3,)),
    "randint high= size=": lambda lib: lib.randint(high=5, size=(3,)),
    "randint float dtype": lambda lib: lib.randint(5, (3,), dtype=lib.float32),
    "randint device": lambda lib: lib.randint(0, 3, (2,), device="cpu"),
    "randperm dtype": lambda lib: lib.randperm(4, dtype=lib.float32),
    "randperm device": lambda lib: lib.randperm(4, device="cpu"),
    "normal tensors": lambda lib: lib.normal(lib.zeros(3), lib.ones(3)),
    "normal tensor mean": lambda lib: lib.normal(lib.zeros(3, dtype=lib.float64), 1.0),
    "normal tensor mean only": lambda lib: lib.normal(lib.zeros(2, 2)),
    "normal tensor std": lambda lib: lib.normal(0.0, lib.ones(3)),
    "normal broadcast": lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)),
    "normal floats size": lambda lib: lib.normal(0.0, 1.0, size=(2, 3)),
    "normal floats positional size": lambda lib: lib.normal(2, 3, (4,)),
    "normal dtype": lambda lib: lib.normal(0.0, 1.0, size=(2,), dtype=lib.float64),
    "normal device": lambda lib: lib.normal(0.0, 1.0, size=(2,), device="cpu"),
    "rand_like": lambda lib: lib.rand_like(lib.ones(2, 3)),
    "randn_like dtype": lambda lib: lib.randn_like(lib.ones(2), dtype=lib.float64),
    "randint_like high": lambda lib: lib.randint_like(lib.ones(2, 3), 5),
    "randint_like low high": lambda lib: lib.randint_like(lib.ones(2, dtype=lib.int64), 2, 5),
    "randint_like high=": lambda lib: lib.randint_like(lib.ones(2), high=5),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_factory_calls_match_torch(name):
    e, t = CALLS[name](ember), CALLS[name](torch)
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    assert e.shape == tuple(t.shape) and str(e.device) == str(t.device)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name", list(RANDOM_CALLS))
def test_random_factory_calls_match_torch_in_kind(name):
    e, t = RANDOM_CALLS[name](ember), RANDOM_CALLS[name](torch)
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    assert e.shape == tuple(t.shape) and str(e.device) == str(t.device)


ERRORS = {
    "zeros float size": (lambda lib: lib.zeros(2.0), TypeError),
    "zeros negative": (lambda lib: lib.zeros(-1), RuntimeError),
    "zeros nothing": (lambda lib: lib.zeros(), TypeError),
    "zeros nested": (lambda lib: lib.zeros(2, (3,)), TypeError),
    "zeros cuda": (lambda lib: lib.zeros(2, device="cuda"), AssertionError),
    "zeros cuda:1": (lambda lib: lib.zeros(2, device="cuda:1"), AssertionError),
    "tensor cuda": (lambda lib: lib.tensor([1.0], device="cuda"), AssertionError),
    "tensor device 0": (lambda lib: lib.tensor([1.0], device=0), RuntimeError),
    "as_tensor cuda": (lambda lib: lib.as_tensor([1.0], device="cuda"), AssertionError),
    "randn cuda": (lambda lib: lib.randn(2, device="cuda"), AssertionError),
    "zeros_like cuda": (lambda lib: lib.zeros_like(lib.ones(1), device="cuda"), AssertionError),
    "bad device string": (lambda lib: lib.ones(2, device="gpu"), RuntimeError),
    "pin_memory": (lambda lib: lib.zeros(2, device="cpu", pin_memory=True), RuntimeError),
    "full int size": (lambda lib: lib.full(2, 1.0), TypeError),
    "rand int dtype": (lambda lib: lib.rand(2, dtype=lib.int64), NotImplementedError),
    "randn int dtype": (lambda lib: lib.randn(2, dtype=lib.int64), NotImplementedError),
    "rand_like int": (lambda lib: lib.rand_like(lib.ones(2, dtype=lib.int64)), NotImplementedError),
    "randint empty range": (lambda lib: lib.randint(5, 5, (2,)), RuntimeError),
    "randint no size": (lambda lib: lib.randint(5), TypeError),
    "randint requires_grad": (lambda lib: lib.randint(5, (3,), requires_grad=True), RuntimeError),
    "randperm requires_grad": (lambda lib: lib.randperm(4, requires_grad=True), RuntimeError),
    "zeros int requires_grad": (lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True), RuntimeError),
    "normal floats without size": (lambda lib: lib.normal(0.0, 1.0), TypeError),
    "normal negative std": (lambda lib: lib.normal(lib.zeros(3), -1.0), RuntimeError),
    "arange zero step": (lambda lib: lib.arange(0, 4, 0), RuntimeError),
    "arange wrong sign": (lambda lib: lib.arange(0, 4, -1), RuntimeError),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_factory_errors_match_torch(name):
    call, kind = ERRORS[name]
    with pytest.raises(kind):
        call(torch)
    with pytest.raises(kind):
        call(ember)


def test_factories_take_requires_grad_and_device_together():
    for make in (lambda: ember.zeros(2, device="cpu", requires_grad=True),
                 lambda: ember.rand(2, device="cpu", requires_grad=True),
                 lambda: ember.normal(0.0, 1.0, (2,), requires_grad=True),
                 lambda: ember.empty(2, requires_grad=True),
                 lambda: ember.randn_like(ember.ones(2), requires_grad=True),
                 lambda: ember.tensor([1.0], device="cpu", requires_grad=True)):
        t = make()
        assert t.requires_grad and t.is_leaf and t.device == ember.device("cpu")


def test_out_writes_into_the_given_tensor():
    for lib in (torch, ember):
        out = lib.empty(0)
        result = lib.zeros(2, 3, out=out)
        assert result is out and tuple(out.shape) == (2, 3) and float(out.sum()) == 0.0
        same = lib.ones(2, 3)
        assert lib.full((2, 3), 4.0, out=same) is same and float(same.sum()) == 24.0
        with pytest.raises(RuntimeError):
            lib.zeros(2, out=lib.ones(2, requires_grad=True))


def test_as_tensor_shares_memory_like_torch():
    for lib in (torch, ember):
        a = np.ones(3)
        t = lib.as_tensor(a)
        a[0] = 5
        assert t[0].item() == 5  # the same memory
        b = np.ones(3)
        converted = lib.as_tensor(b, dtype=lib.float32)
        b[0] = 5
        assert converted[0].item() == 1  # a dtype change copies
        x = lib.ones(2)
        assert lib.as_tensor(x) is x and lib.as_tensor(x, device="cpu") is x


def test_as_tensor_keeps_the_graph_through_a_dtype_change():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    ember.as_tensor(x, dtype=ember.float64).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_normal_moments_and_std_tensor():
    ember.manual_seed(0)
    samples = ember.normal(3.0, 2.0, size=(20000,)).numpy()
    assert abs(samples.mean() - 3.0) < 0.05 and abs(samples.std() - 2.0) < 0.05
    per_element = ember.normal(ember.tensor([0.0, 100.0]), ember.tensor([0.0, 0.0]))
    np.testing.assert_array_equal(per_element.numpy(), [0.0, 100.0])  # std 0: the mean itself


def test_randint_like_and_randperm_ranges():
    r = ember.randint_like(ember.zeros(1000), 3, 7)
    assert r.dtype == ember.float32 and set(r.numpy().tolist()) == {3.0, 4.0, 5.0, 6.0}
    assert sorted(ember.randperm(10, dtype=ember.float32).tolist()) == list(range(10))


# ---- ember.Generator and the global generator -----------------------------------------------------------


def test_generator_api_like_torch():
    for lib in (torch, ember):
        g = lib.Generator()
        assert g.initial_seed() == 67280421310721
        assert g.manual_seed(3) is g and g.initial_seed() == 3
        assert g.manual_seed(-1).initial_seed() == 2**64 - 1
        assert str(g.device) == "cpu"
        s = g.seed()
        assert isinstance(s, int) and g.initial_seed() == s
        with pytest.raises(RuntimeError, match="manual_seed expected a long, but got float"):
            g.manual_seed(1.5)
        with pytest.raises(ValueError):
            g.manual_seed(2**64)


def test_generator_draws_reproducibly_and_apart_from_the_global_one():
    ember.manual_seed(11)
    before = ember.get_rng_state()
    g = ember.Generator().manual_seed(7)
    a = ember.rand(4, generator=g).numpy().copy()
    p = ember.randperm(6, generator=g).tolist()
    assert ember.get_rng_state() == before  # the global generator did not move
    g.manual_seed(7)
    np.testing.assert_array_equal(ember.rand(4, generator=g).numpy(), a)
    assert ember.randperm(6, generator=g).tolist() == p
    state = g.get_state()
    x = ember.randn(3, generator=g).numpy().copy()
    g.set_state(state)
    np.testing.assert_array_equal(ember.randn(3, generator=g).numpy(), x)
    assert g.integers(0, 10, size=3).shape == (3,)  # NumPy's drawing methods, for data code
    assert isinstance(g.numpy_generator, np.random.Generator)


def test_generator_on_cuda_raises():
    with pytest.raises(RuntimeError):
        torch.Generator(device="cuda")
    with pytest.raises(RuntimeError):
        ember.Generator(device="cuda")


def test_manual_seed_returns_the_default_generator_like_torch():
    for lib in (torch, ember):
        g = lib.manual_seed(3)
        assert g is lib.default_generator and g.initial_seed() == lib.initial_seed() == 3
        lib.manual_seed(-1)
        assert lib.initial_seed() == 2**64 - 1
        lib.manual_seed(1.5)  # truncated, as torch does
        assert lib.initial_seed() == 1
        with pytest.raises(ValueError):
            lib.manual_seed(2**64)
    ember.manual_seed(4)
    a = ember.rand(3).numpy().copy()
    ember.default_generator.manual_seed(4)
    np.testing.assert_array_equal(ember.rand(3).numpy(), a)


def test_seed_and_fork_rng():
    s = ember.seed()
    assert ember.initial_seed() == s
    ember.manual_seed(2)
    with ember.random.fork_rng():
        ember.rand(5)
        ember.manual_seed(99)
        ember.rand(5)
    after = ember.rand(3).numpy().copy()
    ember.manual_seed(2)
    np.testing.assert_array_equal(ember.rand(3).numpy(), after)
    assert ember.initial_seed() == 2
