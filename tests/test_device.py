"""The device model against a CPU-only torch: ember.device, Tensor.device/.to/.cpu/.cuda, Module.to,
ember.cuda / accelerator / backends, the default dtype, threads and determinism switches.

torch here is a CPU build, so its answers about CUDA are the oracle for "no GPU on this machine".
"""

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember import backend
from tests.helpers import assert_close


def _outcome(fn):
    """What a call gives: ('ok', value) or (exception type, message)."""
    try:
        return "ok", fn()
    except Exception as error:  # noqa: BLE001 (the exception is the thing compared)
        return type(error), str(error)


# ---- ember.device -------------------------------------------------------------------------------------

DEVICE_ARGS = [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("cpu:0",), ("cpu", 1), ("mps",), ("meta",),
               ("cuda:0",), ("xla:3",)]


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=str)
def test_device_parses_like_torch(args):
    e, t = ember.device(*args), torch.device(*args)
    assert (e.type, e.index) == (t.type, t.index)
    assert str(e) == str(t) and repr(e) == repr(t)


def test_device_keywords_and_copy():
    assert repr(ember.device(type="cuda", index=1)) == repr(torch.device(type="cuda", index=1))
    assert ember.device("cuda", index=None).index is None
    d = ember.device("cuda:2")
    assert ember.device(d) == d and ember.device(d) is not d


BAD_DEVICES = [("foo",), ("CUDA",), ("cuda:x",), ("cuda:-1",), ("cuda:01",), (" cuda",), ("cuda:0:1",),
               ("cuda", -1), ("cuda:1", 0), (0,), (1,)]


@pytest.mark.parametrize("args", BAD_DEVICES, ids=str)
def test_bad_devices_raise_torchs_error(args):
    kind, message = _outcome(lambda: torch.device(*args))
    assert kind is RuntimeError
    with pytest.raises(RuntimeError) as info:
        ember.device(*args)
    assert str(info.value) == message


@pytest.mark.parametrize("args", [(None,), (1.5,), ("cuda", True), ("cuda", 1.0), ("cuda", "1")], ids=str)
def test_device_argument_types_raise_type_error(args):
    with pytest.raises(TypeError):
        torch.device(*args)
    with pytest.raises(TypeError):
        ember.device(*args)


def test_device_equality_and_hash_follow_torch():
    pairs = [("cuda", "cuda:0"), ("cpu", "cpu"), ("cuda:1", "cuda:1"), ("cpu", "cpu:0"), ("cuda", "cuda")]
    for a, b in pairs:
        assert (ember.device(a) == ember.device(b)) == (torch.device(a) == torch.device(b))
    assert (ember.device("cuda") == "cuda") is (torch.device("cuda") == "cuda") is False
    assert len({ember.device("cpu"), ember.device("cpu"), ember.device("cuda:0")}) == 2
    assert {ember.device("cpu"): 1}[ember.device("cpu")] == 1


def test_device_reduce_rebuilds_from_its_string():
    cls, args = ember.device("cuda:3").__reduce__()
    assert cls(*args) == ember.device("cuda:3")


def test_device_attributes_are_read_only():
    d = ember.device("cpu")
    with pytest.raises(AttributeError):
        d.type = "cuda"


# ---- Tensor: device, to, cpu, cuda, type ---------------------------------------------------------------


def test_tensor_device_attributes():
    e, t = ember.ones(2, 3), torch.ones(2, 3)
    assert e.device == ember.device("cpu") and repr(e.device) == repr(t.device)
    assert e.is_cuda is t.is_cuda is False
    assert e.get_device() == t.get_device() == -1
    for dtype in ("float16", "float32", "float64", "int32", "int64", "uint8", "bool"):
        a, b = ember.zeros(2, dtype=getattr(ember, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
        assert a.element_size() == b.element_size()
        assert a.is_floating_point() == b.is_floating_point()


TO_CALLS = {
    "dtype": lambda lib, x: x.to(lib.float64),
    "same dtype": lambda lib, x: x.to(lib.float32),
    "device str": lambda lib, x: x.to("cpu"),
    "device": lambda lib, x: x.to(lib.device("cpu")),
    "cpu:0": lambda lib, x: x.to("cpu:0"),
    "device dtype": lambda lib, x: x.to("cpu", lib.float64),
    "device None dtype": lambda lib, x: x.to(None, lib.float64),
    "device, dtype None": lambda lib, x: x.to("cpu", None),
    "keywords": lambda lib, x: x.to(device="cpu", dtype=lib.float64),
    "dtype keyword": lambda lib, x: x.to(dtype=lib.int64),
    "device and dtype keyword": lambda lib, x: x.to("cpu", dtype=lib.float64),
    "tensor": lambda lib, x: x.to(lib.zeros(1, dtype=lib.int64)),
    "same tensor": lambda lib, x: x.to(x),
    "non_blocking": lambda lib, x: x.to(lib.float64, True),
    "non_blocking keyword": lambda lib, x: x.to(non_blocking=True),
    "copy": lambda lib, x: x.to("cpu", copy=True),
    "copy positional": lambda lib, x: x.to(lib.device("cpu"), lib.float32, False, True),
    "tensor copy": lambda lib, x: x.to(x, copy=True),
    "nothing": lambda lib, x: x.to(),
    "None": lambda lib, x: x.to(None),
    "cpu()": lambda lib, x: x.cpu(),
    "type(dtype)": lambda lib, x: x.type(lib.float64),
    "type(same)": lambda lib, x: x.type(lib.float32),
    "type('torch.DoubleTensor')": lambda lib, x: x.type("torch.DoubleTensor"),
    "type('torch.LongTensor')": lambda lib, x: x.type("torch.LongTensor"),
}


@pytest.mark.parametrize("name", list(TO_CALLS))
def test_tensor_to_overloads_match_torch(name):
    values = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    e, t = ember.tensor(values), torch.tensor(values)
    re, rt = TO_CALLS[name](ember, e), TO_CALLS[name](torch, t)
    assert str(re.dtype) == str(rt.dtype).replace("torch.", "")
    assert (re is e) == (rt is t), "returns self exactly when torch does"
    assert str(re.device) == str(rt.device)
    np.testing.assert_array_equal(re.numpy(), rt.numpy())
    if re is not e:  # a copy, never a view the caller could write through
        re.array.flat[0] = 99
        assert e.array.flat[0] == 0


BAD_TO_CALLS = {
    "not a device or dtype name": (lambda lib, x: x.to("float65"), RuntimeError),
    "two devices": (lambda lib, x: x.to("cpu", "cpu"), TypeError),
    "two dtypes": (lambda lib, x: x.to(lib.float64, lib.float32), TypeError),
    "dtype twice": (lambda lib, x: x.to(lib.float64, dtype=lib.float32), TypeError),
    "dtype then device": (lambda lib, x: x.to(lib.float64, device="cpu"), TypeError),
    "unknown keyword": (lambda lib, x: x.to(foo=1), TypeError),
    "bad device": (lambda lib, x: x.to("foo"), RuntimeError),
    "cuda": (lambda lib, x: x.to("cuda"), AssertionError),
    "cuda:0 non_blocking": (lambda lib, x: x.to("cuda:0", non_blocking=True), AssertionError),
    "cuda()": (lambda lib, x: x.cuda(), AssertionError),
    "cuda(0)": (lambda lib, x: x.cuda(0), RuntimeError),
    "cuda('cpu')": (lambda lib, x: x.cuda("cpu"), RuntimeError),
    "mps": (lambda lib, x: x.to("mps"), RuntimeError),
    "device index": (lambda lib, x: x.to(3), RuntimeError),
    "type('float64')": (lambda lib, x: x.type("float64"), ValueError),
}


@pytest.mark.parametrize("name", list(BAD_TO_CALLS))
def test_tensor_to_errors_match_torch(name):
    call, kind = BAD_TO_CALLS[name]
    with pytest.raises(kind):
        call(torch, torch.ones(2))
    with pytest.raises(kind):
        call(ember, ember.ones(2))


def test_dtype_names_are_accepted_as_an_ember_extension():
    # torch raises "Invalid device string: 'float64'"; Ember's own code and tests say .to('float64').
    assert ember.ones(2).to("float64").dtype == ember.float64
    assert ember.ones(2).to("int64", copy=True).dtype == ember.int64
    m = nn.Linear(2, 2).to("float64")
    assert m.weight.dtype == ember.float64


def test_cuda_error_says_what_to_do():
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled") as info:
        ember.ones(2).cuda()
    assert "CuPy" in str(info.value) and "device='cpu'" in str(info.value)
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        ember.zeros(2, device="cuda")


def test_type_without_argument_names_the_tensor_type():
    for dtype, name in [("float32", "FloatTensor"), ("float64", "DoubleTensor"), ("int64", "LongTensor"),
                        ("bool", "BoolTensor"), ("uint8", "ByteTensor"), ("int32", "IntTensor")]:
        assert torch.zeros(1, dtype=getattr(torch, dtype)).type() == f"torch.{name}"
        assert ember.zeros(1, dtype=getattr(ember, dtype)).type() == f"ember.{name}"
    assert ember.zeros(1).type("ember.DoubleTensor").dtype == ember.float64


def test_to_dtype_keeps_the_graph():
    e = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (e.to(ember.float64) ** 2).sum().backward()
    (t.to(torch.float64) ** 2).sum().backward()
    assert e.grad.dtype == ember.float32
    assert_close(e.grad, t.grad)
    c = e.to("cpu", copy=True)
    assert c is not e and c.requires_grad and c.grad_fn is not None  # a copy stays in the graph, as torch's


def test_to_device_function_passes_gradients_back():
    # The one device here is the host, so ToDevice moves nothing; its backward still returns the gradient.
    from ember.ops.transfer import to_device

    x = ember.tensor([1.0, -2.0], requires_grad=True)
    y = to_device(x, ember.device("cpu"))
    assert y.grad_fn is not None and y.device == ember.device("cpu")
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])


# ---- Module.to / cpu / cuda ------------------------------------------------------------------------------


def _net(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))


MODULE_TO_CALLS = {
    "device": lambda lib, m: m.to("cpu"),
    "device object": lambda lib, m: m.to(lib.device("cpu")),
    "dtype": lambda lib, m: m.to(lib.float64),
    "device dtype": lambda lib, m: m.to("cpu", lib.float64),
    "device dtype non_blocking": lambda lib, m: m.to("cpu", lib.float64, True),
    "keywords": lambda lib, m: m.to(device="cpu", dtype=lib.float64, non_blocking=False),
    "tensor": lambda lib, m: m.to(lib.zeros(1, dtype=lib.float64)),
    "nothing": lambda lib, m: m.to(),
    "cpu": lambda lib, m: m.cpu(),
    "double then to float32 tensor": lambda lib, m: m.double().to(lib.zeros(1)),
}


@pytest.mark.parametrize("name", list(MODULE_TO_CALLS))
def test_module_to_overloads_match_torch(name):
    e, t = _net(ember), _net(torch)
    e_params = list(e.parameters())
    assert MODULE_TO_CALLS[name](ember, e) is e
    assert MODULE_TO_CALLS[name](torch, t) is t
    e_state, t_state = e.state_dict(), t.state_dict()
    assert list(e_state) == list(t_state)
    for key in t_state:
        assert str(e_state[key].dtype) == str(t_state[key].dtype).replace("torch.", ""), key
        assert str(e_state[key].device) == str(t_state[key].device)
    assert all(a is b for a, b in zip(e.parameters(), e_params))  # the same Parameters, for the optimiser


@pytest.mark.parametrize("call, kind", [
    (lambda lib, m: m.to(lib.int64), TypeError),
    (lambda lib, m: m.to(lib.zeros(1, dtype=lib.int64)), TypeError),
    (lambda lib, m: m.to("cuda"), AssertionError),
    (lambda lib, m: m.cuda(), AssertionError),
    (lambda lib, m: m.to("mps"), RuntimeError),
    (lambda lib, m: m.to("foo"), RuntimeError),
    (lambda lib, m: m.to(lib.float32, lib.float64), TypeError),
], ids=["int dtype", "int tensor", "cuda", "cuda()", "mps", "foo", "two dtypes"])
def test_module_to_errors_match_torch(call, kind):
    with pytest.raises(kind):
        call(torch, _net(torch))
    with pytest.raises(kind):
        call(ember, _net(ember))


def test_module_to_converts_gradients_too():
    e = _net(ember)
    e(ember.randn(5, 3)).sum().backward()
    e.to(ember.float64)
    assert all(p.grad.dtype == ember.float64 for p in e.parameters())
    assert e[1].num_batches_tracked.dtype == ember.int64


# ---- ember.cuda, ember.accelerator, ember.backends ------------------------------------------------------

ANSWERS = ["is_available", "device_count", "is_initialized", "memory_allocated", "memory_reserved", "empty_cache"]


@pytest.mark.parametrize("name", ANSWERS)
def test_cuda_answers_like_cpu_only_torch(name):
    assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)()


@pytest.mark.parametrize("name", ["current_device", "get_device_name", "synchronize", "get_device_capability"])
def test_cuda_functions_that_need_a_gpu_raise_like_torch(name):
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        getattr(torch.cuda, name)()
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        getattr(ember.cuda, name)()


def test_cuda_seeding_checks_the_seed_and_leaves_the_numbers_alone():
    ember.manual_seed(5)
    a = ember.rand(3).numpy().copy()
    ember.manual_seed(5)
    assert ember.cuda.manual_seed(1) is torch.cuda.manual_seed(1) is None
    assert ember.cuda.manual_seed_all(2) is torch.cuda.manual_seed_all(2) is None
    np.testing.assert_array_equal(ember.rand(3).numpy(), a)
    for lib in (torch, ember):
        with pytest.raises(ValueError):
            lib.cuda.manual_seed("a")


def test_cuda_set_device():
    assert ember.cuda.set_device(-1) is torch.cuda.set_device(-1) is None
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
            lib.cuda.set_device("cpu")
    with pytest.raises(AssertionError):
        ember.cuda.set_device(0)


def test_accelerator_like_torch():
    assert ember.accelerator.is_available() is torch.accelerator.is_available()
    assert ember.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert ember.accelerator.device_count() == torch.accelerator.device_count()
    for name in ("current_device_index", "synchronize"):
        kind, message = _outcome(getattr(torch.accelerator, name))
        with pytest.raises(kind) as info:
            getattr(ember.accelerator, name)()
        assert str(info.value) == message


def test_backends_like_torch():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ember.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    assert ember.backends.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    assert ember.backends.cudnn.version() is torch.backends.cudnn.version() is None
    assert ember.backends.cudnn.is_acceptable(ember.ones(1)) is torch.backends.cudnn.is_acceptable(torch.ones(1))
    assert ember.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert ember.backends.mps.is_built() is torch.backends.mps.is_built()
    assert ember.backends.cuda.is_built() is torch.backends.cuda.is_built()
    assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32
    assert ember.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")


def test_the_usual_device_idiom_runs():
    device = ember.device("cuda" if ember.cuda.is_available() else "cpu")
    model = nn.Linear(3, 2).to(device)
    x = ember.randn(4, 3, device=device)
    assert model(x).device == device == model.weight.device


# ---- determinism, threads, default dtype -------------------------------------------------------------


def test_deterministic_algorithms_switch():
    try:
        for mode, warn_only in [(True, False), (True, True), (False, False)]:
            ember.use_deterministic_algorithms(mode, warn_only=warn_only)
            torch.use_deterministic_algorithms(mode, warn_only=warn_only)
            assert ember.are_deterministic_algorithms_enabled() is torch.are_deterministic_algorithms_enabled()
            assert (ember.is_deterministic_algorithms_warn_only_enabled()
                    is torch.is_deterministic_algorithms_warn_only_enabled())
        for lib in (torch, ember):
            with pytest.raises(TypeError):
                lib.use_deterministic_algorithms(1)
    finally:
        ember.use_deterministic_algorithms(False)
        torch.use_deterministic_algorithms(False)


def test_num_threads_reach_blas():
    before = ember.get_num_threads()
    assert isinstance(before, int) and before >= 1
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        if backend._openblas() is not None:  # NumPy's own OpenBLAS really runs single-threaded now
            assert backend._openblas()[1]() == 1
        ember.set_num_threads(2)
        assert ember.get_num_threads() == 2
    finally:
        ember.set_num_threads(before)


@pytest.mark.parametrize("n", [0, -1, 1.5, "2", True])
def test_set_num_threads_refuses_what_torch_refuses(n):
    kind, message = _outcome(lambda: torch.set_num_threads(n))
    assert kind is RuntimeError
    with pytest.raises(RuntimeError) as info:
        ember.set_num_threads(n)
    assert str(info.value).startswith(message.split(",")[0])


DEFAULT_DTYPE_CALLS = {
    "tensor of floats": lambda lib: lib.tensor([1.5, 2.0]),
    "tensor of ints": lambda lib: lib.tensor([1, 2]),
    "zeros": lambda lib: lib.zeros(2),
    "ones": lambda lib: lib.ones(2),
    "empty": lambda lib: lib.empty(2),
    "rand": lambda lib: lib.rand(2),
    "randn": lambda lib: lib.randn(2),
    "full float": lambda lib: lib.full((2,), 1.5),
    "arange float": lambda lib: lib.arange(0.0, 2.0),
    "arange int": lambda lib: lib.arange(3),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "eye": lambda lib: lib.eye(2),
    "normal": lambda lib: lib.normal(0.0, 1.0, (2,)),
    "as_tensor": lambda lib: lib.as_tensor([0.5]),
    "Linear": lambda lib: lib.nn.Linear(2, 2).weight,
    "Conv2d": lambda lib: lib.nn.Conv2d(1, 1, 3).weight,
    "BatchNorm": lambda lib: lib.nn.BatchNorm1d(2).running_mean,
    "Embedding": lambda lib: lib.nn.Embedding(3, 2).weight,
    "LSTM": lambda lib: lib.nn.LSTM(2, 3).weight_ih_l0,
    "int tensor + float": lambda lib: lib.tensor([1, 2]) + 0.5,
}


@pytest.mark.parametrize("name", list(DEFAULT_DTYPE_CALLS))
def test_set_default_dtype_is_read_at_call_time(name):
    try:
        for dtype in ("float64", "float32"):
            ember.set_default_dtype(getattr(ember, dtype))
            torch.set_default_dtype(getattr(torch, dtype))
            assert ember.get_default_dtype() == getattr(ember, dtype)
            e, t = DEFAULT_DTYPE_CALLS[name](ember), DEFAULT_DTYPE_CALLS[name](torch)
            assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_repr_names_the_dtype_when_it_is_not_the_default():
    try:
        ember.set_default_dtype(ember.float64)
        assert "dtype" not in repr(ember.tensor([1.5]))
        assert "dtype=ember.float32" in repr(ember.tensor([1.5], dtype=ember.float32))
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("name", ["int64", "bool", "int32"])
def test_set_default_dtype_refuses_non_floating_types(name):
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        torch.set_default_dtype(getattr(torch, name))
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        ember.set_default_dtype(getattr(ember, name))
    assert ember.get_default_dtype() == ember.float32


def test_set_default_dtype_refuses_strings_like_torch():
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="only floating-point types"):
            lib.set_default_dtype("float64")
