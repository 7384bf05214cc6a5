"""The cuda code paths of the device model, run against a stand-in for CuPy.

There is no GPU or CuPy on the test machines, so this installs a fake ``cupy`` module whose arrays are
NumPy arrays that say which "GPU" holds them. That checks Ember's own plumbing (which device a tensor
reports, what moves where, that gradients come back to the host, that modules move their parameters),
not CuPy itself: on a real GPU the same calls go to cupy.asarray and ndarray.get().
"""

import sys
import types

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import backend


class _State:
    current = 0
    synchronized = 0


class FakeArray(np.ndarray):
    """A NumPy array that claims to live on GPU ``gpu``."""

    def __array_finalize__(self, obj):
        self.gpu = getattr(obj, "gpu", _State.current)

    @property
    def device(self):
        return types.SimpleNamespace(id=self.gpu)

    def get(self):  # cupy.ndarray.get(): a host copy
        return np.array(self.view(np.ndarray), copy=True)


class FakeDevice:
    def __init__(self, index):
        self.index, self.compute_capability = index, "90"

    def __enter__(self):
        self.previous, _State.current = _State.current, self.index
        return self

    def __exit__(self, *exc):
        _State.current = self.previous

    def use(self):
        _State.current = self.index


def _fake_cupy():
    def asarray(a):
        out = np.array(a.view(np.ndarray) if isinstance(a, FakeArray) else a, copy=True).view(FakeArray)
        out.gpu = _State.current
        return out

    def synchronize():
        _State.synchronized += 1

    pool = types.SimpleNamespace(used_bytes=lambda: 1024, total_bytes=lambda: 4096, free_all_blocks=lambda: None)
    runtime = types.SimpleNamespace(getDeviceCount=lambda: 2, getDevice=lambda: _State.current,
                                    getDeviceProperties=lambda i: {"name": f"Fake GPU {i}".encode()},
                                    deviceSynchronize=synchronize)
    module = types.ModuleType("cupy")
    module.ndarray, module.asarray = FakeArray, asarray
    module.cuda = types.SimpleNamespace(runtime=runtime, Device=FakeDevice)
    module.get_default_memory_pool = lambda: pool
    return module


@pytest.fixture
def fake_gpu(monkeypatch):
    """CuPy found and usable, as on a GPU machine started with EMBER_BACKEND=cupy (the probe's own
    decision is tested below; the ops here still run on NumPy, which reads the fake arrays)."""
    fake = _fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(backend, "_cupy", {"module": fake, "reason": None, "probed": True})
    _State.current = 0
    yield
    _State.current = 0


def test_without_cupy_cuda_is_unavailable():
    assert backend.cupy() is None and not ember.cuda.is_available()
    assert "cupy" in backend.cuda_unavailable_reason().lower()


def test_cupy_on_the_numpy_backend_is_refused_with_the_fix(monkeypatch):
    # GPU arrays would reach NumPy's functions inside the ops, so 'cuda' needs EMBER_BACKEND=cupy.
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    monkeypatch.setattr(backend, "_cupy", {"module": None, "reason": None, "probed": False})
    assert not ember.cuda.is_available() and ember.cuda.device_count() == 0
    assert "EMBER_BACKEND=cupy" in backend.cuda_unavailable_reason()
    with pytest.raises(AssertionError, match="EMBER_BACKEND=cupy"):
        ember.ones(2).cuda()


def test_a_gpu_less_cupy_is_refused(monkeypatch):
    fake = _fake_cupy()
    fake.cuda.runtime.getDeviceCount = lambda: 0
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(backend, "_cupy", {"module": None, "reason": None, "probed": False})
    assert not ember.cuda.is_available()
    assert "no CUDA device" in backend.cuda_unavailable_reason()


def test_cuda_module_reports_the_gpus(fake_gpu):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 2
    assert ember.cuda.is_initialized()
    assert ember.cuda.current_device() == 0 and ember.cuda.get_device_name(1) == "Fake GPU 1"
    assert ember.cuda.get_device_capability() == (9, 0)
    ember.cuda.set_device("cuda:1")
    assert ember.cuda.current_device() == 1
    ember.cuda.synchronize()
    assert _State.synchronized >= 1
    assert ember.cuda.memory_allocated() == 1024 and ember.cuda.memory_reserved() == 4096
    assert ember.accelerator.current_accelerator() == ember.device("cuda")
    assert ember.accelerator.current_device_index() == 1
    assert ember.device(0) == ember.device("cuda", 0)


def test_tensor_round_trip_through_the_gpu(fake_gpu):
    x = ember.arange(6.0).reshape(2, 3)
    g = x.cuda()
    assert isinstance(g.array, FakeArray) and g.device == ember.device("cuda", 0)
    assert g.is_cuda and g.get_device() == 0 and g.to("cuda:0") is g
    assert g.to("cuda:1").device == ember.device("cuda:1")
    assert x.cuda(1).device == ember.device("cuda:1")
    back = g.cpu()
    assert type(back.array) is np.ndarray and back.device == ember.device("cpu")
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert g.to("cuda", ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        x.to("cuda:5")


def test_gradients_come_back_to_the_host(fake_gpu):
    x = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.grad_fn is not None
    (y * y).sum().backward()
    assert type(x.grad.array) is np.ndarray
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_factories_put_results_on_the_gpu(fake_gpu):
    for t in (ember.zeros(2, device="cuda"), ember.randn(2, 2, device="cuda:1"), ember.tensor([1, 2], device="cuda"),
              ember.arange(3, device="cuda"), ember.full((2,), 1.5, device="cuda", pin_memory=True),
              ember.as_tensor(np.ones(2), device="cuda")):
        assert isinstance(t.array, FakeArray) and t.is_cuda
    g = ember.ones(2, 2).cuda(1)
    like = ember.zeros_like(g)
    assert like.device == ember.device("cuda:1")  # *_like follows its input's device
    assert ember.zeros_like(g, device="cpu").device == ember.device("cpu")


def test_module_moves_its_parameters_and_runs(fake_gpu):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    params = list(model.parameters())
    assert model.cuda() is model
    assert all(isinstance(p.array, FakeArray) for p in model.parameters())
    assert all(isinstance(b.array, FakeArray) for b in model.buffers())
    assert all(a is b for a, b in zip(model.parameters(), params))
    out = model(ember.randn(5, 3, device="cuda"))
    assert out.is_cuda
    out.sum().backward()
    model.to("cpu", ember.float64)
    assert all(type(p.array) is np.ndarray and p.dtype == ember.float64 for p in model.parameters())
    assert all(type(p.grad.array) is np.ndarray for p in model.parameters())


def test_cpu_on_the_cupy_backend_leaves_tensors_on_the_gpu(fake_gpu, monkeypatch):
    # There every op makes GPU arrays, so a host copy would go straight back: .cpu() is a no-op.
    g = ember.ones(2).cuda()
    monkeypatch.setattr(backend, "xp", sys.modules["cupy"])
    assert g.cpu() is g and g.to("cpu") is g
    assert ember.devices.placement("cpu") is None
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])  # the host is reached by copying
    assert type(g.numpy()) is np.ndarray
