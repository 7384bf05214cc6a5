"""Patterns from the official PyTorch tutorials that Ember got wrong, each checked against torch.

The tutorials themselves are run by hand through ``ember run`` (their code is not ours to copy); these
tests reproduce, in our own code, the one pattern behind each failure that was fixed.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_close, gradcheck


# ---- repr: torch's layout of the printed values -------------------------------------------------------------


def _reprs(array):
    return repr(torch.from_numpy(array.copy())).replace("torch.", "ember."), repr(ember.from_numpy(array.copy()))


@pytest.mark.parametrize("cols", [1, 3, 7, 8, 9, 10, 17, 20, 29])
@pytest.mark.parametrize("scale", [1.0, 100.0, 1e-3, 1e5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_repr_matches_torch_layout(cols, scale, dtype):
    rng = np.random.default_rng(cols)
    array = rng.standard_normal((2, cols)) * scale
    array = array.round().astype(dtype) if dtype == np.int64 else array.astype(dtype)
    expected, got = _reprs(array)
    assert got == expected


@pytest.mark.parametrize("values", [
    [0.4277, 0.6891, 0.8755, 0.824],        # every value padded to 4 decimals: 0.8240
    [51.2, 512.0, 0.0512],                   # scientific with 4 decimals
    [100.0, 2e5],                            # whole numbers, but scientific: 1.0000e+02
    [1.0, 1.0, 2.0],                         # whole numbers: 1.
    [1.5, float("nan"), float("inf")],
    [1e9, 1.5],
])
def test_repr_number_formats(values):
    expected, got = _reprs(np.array(values, dtype=np.float32))
    assert got == expected


def test_repr_summarised_large_tensor_and_grad_fn_suffix():
    array = np.random.default_rng(0).standard_normal((40, 40)).astype(np.float32)
    expected, got = _reprs(array)
    assert got == expected  # '...' sits two spaces after the comma, as torch prints it
    row = np.random.default_rng(1).standard_normal((1, 10))
    # a suffix that would overflow the last line moves to its own line (float64 adds dtype=...)
    expected, got = _reprs(row)
    assert got == expected


# ---- scatter_/gather with a 0-d index (the one-hot target_transform of the transforms tutorial) ---------------


def test_scatter_zero_dim_index_one_hot():
    expected = torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(3), value=1)
    got = ember.zeros(10, dtype=ember.float).scatter_(0, ember.tensor(3), value=1)
    assert_close(got, expected, "float32")
    got = ember.zeros(10).scatter_(dim=0, index=ember.tensor(7), value=1)
    assert got.argmax().item() == 7 and got.sum().item() == 1.0


def test_scatter_zero_dim_index_with_src_tensor_and_gradient():
    src_t = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    src_e = ember.tensor(5.0, dtype=ember.float64, requires_grad=True)
    out_t = torch.zeros(6, dtype=torch.float64).scatter(0, torch.tensor(2), src_t)
    out_e = ember.zeros(6, dtype=ember.float64).scatter(0, ember.tensor(2), src_e)
    assert_close(out_e, out_t)
    weights = np.arange(6.0)
    (out_t * torch.from_numpy(weights)).sum().backward()
    (out_e * ember.from_numpy(weights)).sum().backward()
    assert_close(src_e.grad, src_t.grad)


def test_scatter_index_rank_mismatch_raises_torch_error():
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3).scatter_(0, torch.tensor(1), value=1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ember.zeros(2, 3).scatter_(0, ember.tensor(1), value=1)


def test_gather_zero_dim_index_gives_zero_dim_result():
    values = np.arange(5.0)
    expected = torch.from_numpy(values).gather(0, torch.tensor(3))
    got = ember.from_numpy(values).gather(0, ember.tensor(3))
    assert tuple(got.shape) == tuple(expected.shape) == ()
    assert_close(got, expected)
    gradcheck(lambda a: ember.gather(a, 0, ember.tensor(1)), (4,))


# ---- out= on torch.* functions -----------------------------------------------------------------------------


@pytest.mark.parametrize("name, args", [
    ("add", ((3, 4), (3, 4))), ("mul", ((3, 4), (3, 4))), ("matmul", ((3, 4), (4, 2))),
    ("sub", ((2, 3), (3,))), ("exp", ((5,),)), ("sum", ((3, 4),)),
])
def test_out_keyword_writes_into_out_and_returns_it(name, args):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in args]
    expected = getattr(torch, name)(*[torch.from_numpy(a) for a in arrays])
    out = ember.empty(tuple(expected.shape))
    returned = getattr(ember, name)(*[ember.from_numpy(a) for a in arrays], out=out)
    assert returned is out
    assert_close(out, expected, "float32")


def test_out_keyword_resizes_and_casts_like_torch():
    x = ember.ones(2, 2)
    out = ember.empty(0)
    ember.add(x, x, out=out)  # an empty out is resized silently
    assert tuple(out.shape) == (2, 2) and out.sum().item() == 8.0
    out64 = ember.zeros(2, 2, dtype=ember.float64)
    ember.mul(x, 3, out=out64)
    assert out64.dtype == ember.float64 and out64[0, 0].item() == 3.0
    wrong = ember.zeros(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.add(x, x, out=wrong)
    assert tuple(wrong.shape) == (2, 2) and any("resized" in str(w.message) for w in caught)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.add(x, x, out=ember.zeros(2, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError):
        torch.add(torch.ones(2, 2), torch.ones(2, 2), out=torch.zeros(2, 2, dtype=torch.int64))


def test_out_keyword_refuses_autograd_like_torch():
    a_t = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        torch.mul(a_t, 2, out=torch.empty(3))
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        ember.mul(a, 2, out=ember.empty(3))
    with ember.no_grad():  # allowed without grad mode, as in torch
        out = ember.mul(a, 2, out=ember.empty(3))
    assert out.tolist() == [2.0, 2.0, 2.0] and not out.requires_grad


def test_out_keyword_on_cat_and_stack():
    parts_t = [torch.ones(2, 2), torch.zeros(2, 2)]
    parts_e = [ember.ones(2, 2), ember.zeros(2, 2)]
    for name in ("cat", "stack"):
        expected = getattr(torch, name)(parts_t, dim=1)
        out = ember.empty(tuple(expected.shape))
        assert getattr(ember, name)(parts_e, dim=1, out=out) is out
        assert_close(out, expected, "float32")


# ---- torch's operand keywords (torch.matmul(input=..., other=...)) -------------------------------------------


def test_torch_operand_keywords_input_other():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5,)), rng.standard_normal((5,))
    expected = torch.matmul(input=torch.from_numpy(a), other=torch.from_numpy(b))
    got = ember.matmul(input=ember.from_numpy(a), other=ember.from_numpy(b))
    assert_close(got, expected)
    got = ember.add(input=ember.from_numpy(a), other=ember.from_numpy(b), alpha=2)
    assert_close(got, torch.add(input=torch.from_numpy(a), other=torch.from_numpy(b), alpha=2))
    assert_close(ember.exp(input=ember.from_numpy(a)), torch.exp(input=torch.from_numpy(a)))


# ---- torch.set_default_device / get_default_device ------------------------------------------------------------


def test_set_default_device_cpu_and_back():
    assert ember.get_default_device() == ember.device("cpu")
    assert str(ember.get_default_device()) == str(torch.get_default_device())
    ember.set_default_device("cpu")
    try:
        assert ember.get_default_device() == ember.device("cpu")
        assert ember.zeros(2).device == ember.device("cpu")
        assert ember.linspace(0, 1, 3).device.type == "cpu"
    finally:
        ember.set_default_device(None)
    assert ember.get_default_device() == ember.device("cpu")


def test_set_default_device_refuses_a_device_without_arrays():
    with pytest.raises(RuntimeError):
        ember.set_default_device("mps")
    assert ember.get_default_device() == ember.device("cpu")


# ---- old tutorials: p.data.add_(-lr, p.grad.data) and loss.data[0] --------------------------------------------


def test_deprecated_alpha_first_overload_of_add_and_sub():
    rng = np.random.default_rng(5)
    p, g = rng.standard_normal(4), rng.standard_normal(4)
    with warnings.catch_warnings():  # torch warns only once per process
        warnings.simplefilter("ignore")
        expected = torch.from_numpy(p.copy()).add_(-0.5, torch.from_numpy(g))
    with pytest.warns(UserWarning, match="This overload of add is deprecated"):
        got = ember.from_numpy(p.copy()).add_(-0.5, ember.from_numpy(g))
    assert_close(got, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.from_numpy(p).sub(2.0, torch.from_numpy(g))
    with pytest.warns(UserWarning, match="This overload of sub is deprecated"):
        got = ember.from_numpy(p).sub(2.0, ember.from_numpy(g))
    assert_close(got, expected)
    with pytest.raises(TypeError):
        ember.ones(2).add(ember.ones(2), ember.ones(2))  # the tensor must come last, as in torch
    with pytest.raises(TypeError):
        torch.ones(2).add(torch.ones(2), torch.ones(2))


def test_indexing_a_zero_dim_tensor_raises_torch_error():
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        torch.tensor(2.0)[0]
    with pytest.raises(IndexError, match=r"invalid index of a 0-dim tensor. Use `tensor.item\(\)`"):
        ember.tensor(2.0).data[0]
    assert ember.tensor(2.0)[...].item() == 2.0 and ember.tensor(2.0)[None].shape == (1,)


# ---- torch.functional's path (from torch.functional import F) -------------------------------------------------


def test_functional_module_path_mirrors_torch():
    import torch.functional as torch_functional

    import ember.functional as functional
    from ember.functional import F

    assert F is ember.nn.functional and hasattr(torch_functional, "F")
    x = np.arange(6.0).reshape(2, 3)
    assert_close(functional.norm(ember.from_numpy(x)), torch_functional.norm(torch.from_numpy(x)))
    parts = functional.split(ember.from_numpy(x), 1, dim=0)
    assert len(parts) == 2 and tuple(parts[0].shape) == (1, 3)
    assert set(functional.FUNCTIONS) <= set(dir(torch_functional))
    with pytest.raises(AttributeError):
        functional.not_a_function


# ---- Module.type (CS231n's model.type(dtype) with dtype = torch.FloatTensor) ------------------------------------


@pytest.mark.parametrize("dst", ["DoubleTensor", "float32", "torch.HalfTensor"])
def test_module_type_casts_every_parameter_and_buffer_like_torch(dst):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))

    def resolve(lib):
        if dst.startswith("torch."):
            return dst
        return getattr(lib, dst)

    model_t, model_e = build(torch), build(ember)
    params_e = list(model_e.parameters())
    assert model_t.type(resolve(torch)) is model_t
    assert model_e.type(resolve(ember)) is model_e
    dtypes_t = {k: str(v.dtype).replace("torch.", "") for k, v in model_t.state_dict().items()}
    dtypes_e = {k: str(v.dtype) for k, v in model_e.state_dict().items()}
    assert dtypes_e == dtypes_t
    assert list(model_e.parameters())[0] is params_e[0]  # cast in place: an optimiser keeps its references
