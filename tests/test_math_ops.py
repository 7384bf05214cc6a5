"""The maths breadth real programs reach, against torch: trigonometry, logs and powers, rounding, running sums
and products, logsumexp and norms, the strict matrix products, gather/scatter/sort/topk, and the cutting and
tiling ops (split, chunk, flip, roll, repeat, tril, diag, meshgrid): forward, dtype, every gradient."""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops import cumulative, index, rearrange, unary
from helpers import assert_close, check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]

# name: (ember function, torch function, input range (low, high) or None for normal samples)
UNARY = {
    "sin": (ember.sin, torch.sin, None),
    "cos": (ember.cos, torch.cos, None),
    "tan": (ember.tan, torch.tan, (-1.2, 1.2)),
    "sinh": (ember.sinh, torch.sinh, None),
    "cosh": (ember.cosh, torch.cosh, None),
    "asin": (ember.asin, torch.asin, (-0.9, 0.9)),
    "acos": (ember.acos, torch.acos, (-0.9, 0.9)),
    "atan": (ember.atan, torch.atan, None),
    "arcsin": (ember.arcsin, torch.arcsin, (-0.9, 0.9)),
    "log1p": (ember.log1p, torch.log1p, (-0.5, 3.0)),
    "expm1": (ember.expm1, torch.expm1, None),
    "log2": (ember.log2, torch.log2, (0.5, 4.0)),
    "log10": (ember.log10, torch.log10, (0.5, 4.0)),
    "exp2": (ember.exp2, torch.exp2, None),
    "rsqrt": (ember.rsqrt, torch.rsqrt, (0.5, 4.0)),
    "reciprocal": (ember.reciprocal, torch.reciprocal, (0.5, 4.0)),
    "square": (ember.square, torch.square, None),
    "frac": (ember.frac, torch.frac, (-3.0, 3.0)),
    "floor": (ember.floor, torch.floor, (-3.0, 3.0)),
    "ceil": (ember.ceil, torch.ceil, (-3.0, 3.0)),
    "round": (ember.round, torch.round, (-3.0, 3.0)),
    "trunc": (ember.trunc, torch.trunc, (-3.0, 3.0)),
    "sign": (ember.sign, torch.sign, None),
    "erf": (ember.erf, torch.erf, (-3.0, 3.0)),
    "erfc": (ember.erfc, torch.erfc, (-1.0, 1.0)),
    "sgn": (ember.sgn, torch.sgn, None),
    "method sin": (lambda a: a.sin(), lambda a: a.sin(), None),
    "method rsqrt": (lambda a: a.rsqrt(), lambda a: a.rsqrt(), (0.5, 4.0)),
    "round decimals": (lambda a: ember.round(a, decimals=2), lambda a: torch.round(a, decimals=2), (-3.0, 3.0)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_matches_torch(name, dtype):
    ember_fn, torch_fn, bounds = UNARY[name]
    low, high = bounds or (None, None)
    grad = name != "sgn"  # torch's gradient of sgn is a ZeroTensor, which cannot be read back; sign covers it
    check_op(ember_fn, torch_fn, [(3, 4)], dtype=dtype, low=low, high=high, grad=grad)
    check_op(ember_fn, torch_fn, [()], dtype=dtype, low=low, high=high, seed=1, grad=grad)


INTEGER_INPUT = ["erf", "sin", "cos", "tan", "atan", "log1p", "expm1", "log2", "exp2", "rsqrt", "reciprocal", "square",
                 "floor", "ceil", "round", "trunc", "sign", "sgn"]


@pytest.mark.parametrize("name", INTEGER_INPUT)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_and_bool_inputs_follow_torch_dtypes(name, dtype):
    data = np.array([0, 1, 2, 3]).astype(dtype)
    try:
        expected = getattr(torch, name)(torch.tensor(data))
    except (NotImplementedError, RuntimeError) as e:
        with pytest.raises(type(e)):
            getattr(ember, name)(ember.tensor(data))
        return
    got = getattr(ember, name)(ember.tensor(data))
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.numpy().astype(float), expected.numpy().astype(float), rtol=1e-6)


def test_frac_of_integers_raises_like_torch():
    with pytest.raises(NotImplementedError, match="frac"):
        ember.frac(ember.arange(3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_atan2_both_gradients(dtype):
    check_op(ember.atan2, torch.atan2, [(3, 4), (3, 4)], dtype=dtype)
    check_op(ember.atan2, torch.atan2, [(3, 1), (4,)], dtype=dtype, seed=2)
    assert ember.atan2(ember.arange(3), ember.arange(3)).dtype == ember.float32


def test_rounding_half_to_even_and_zero_gradient():
    x = ember.tensor([0.5, 1.5, 2.5, -0.5, -1.5], requires_grad=True)
    y = ember.round(x)
    assert y.tolist() == torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5])).tolist()
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 5  # torch gives zeros, not None


@pytest.mark.parametrize("dtype", DTYPES)
def test_erf_over_its_whole_range(dtype):
    data = np.concatenate([np.linspace(-8, 8, 4001), [0.0, 1e-12, -1e-300, np.inf, -np.inf, np.nan]]).astype(dtype)
    got, expected = ember.erf(ember.tensor(data)).numpy(), torch.erf(torch.tensor(data)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-14 if dtype == "float64" else 1e-6, atol=0 if dtype == "float64" else 1e-7)


def test_trig_identities_hold():
    x = ember.randn(50, dtype=ember.float64)
    np.testing.assert_allclose((ember.sin(x) ** 2 + ember.cos(x) ** 2).numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ember.expm1(ember.log1p(x.abs())).numpy(), x.abs().numpy(), rtol=1e-12)


# ---- running sums and products, prod, logsumexp, norm ----------------------------------------------------

REDUCTIONS = {
    "cumsum 0": (lambda a: ember.cumsum(a, 0), lambda a: torch.cumsum(a, 0)),
    "cumsum -1": (lambda a: a.cumsum(dim=-1), lambda a: a.cumsum(dim=-1)),
    "cumprod 1": (lambda a: ember.cumprod(a, 1), lambda a: torch.cumprod(a, 1)),
    "prod": (ember.prod, torch.prod),
    "prod dim keepdim": (lambda a: a.prod(1, keepdim=True), lambda a: a.prod(1, keepdim=True)),
    "prod dim 0": (lambda a: ember.prod(a, 0), lambda a: torch.prod(a, 0)),
    "logsumexp": (lambda a: ember.logsumexp(a, 1), lambda a: torch.logsumexp(a, 1)),
    "logsumexp all keepdim": (lambda a: a.logsumexp((0, 1), keepdim=True), lambda a: a.logsumexp((0, 1), True)),
    "norm": (ember.norm, torch.norm),
    "norm fro": (lambda a: a.norm(p="fro"), lambda a: a.norm(p="fro")),
    "norm dim": (lambda a: ember.norm(a, dim=1), lambda a: torch.norm(a, dim=1)),
    "norm 1": (lambda a: ember.norm(a, p=1, dim=0), lambda a: torch.norm(a, p=1, dim=0)),
    "norm inf": (lambda a: ember.norm(a, p=float("inf")), lambda a: torch.norm(a, p=float("inf"))),
    "norm 3": (lambda a: ember.norm(a, p=3, dim=1, keepdim=True), lambda a: torch.norm(a, p=3, dim=1, keepdim=True)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_match_torch(name, dtype):
    check_op(*REDUCTIONS[name], [(3, 4)], dtype=dtype)


def test_products_with_zeros_have_torch_gradients():
    data = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 1.5, 2.0], [1.0, 2.0, 3.0, 0.0]])
    check_op(lambda a: ember.prod(a, 1), lambda a: torch.prod(a, 1), arrays=[data])
    check_op(ember.prod, torch.prod, arrays=[data[:1]])
    check_op(lambda a: ember.cumprod(a, 1), lambda a: torch.cumprod(a, 1), arrays=[data])


def test_integer_accumulations_are_int64():
    x = np.array([[1, 2], [3, 4]], dtype="int32")
    for e_fn, t_fn in [(lambda a: ember.cumsum(a, 0), lambda a: torch.cumsum(a, 0)), (ember.prod, torch.prod),
                       (lambda a: a.sum(), lambda a: a.sum()), (lambda a: ember.cumsum(a > 1, 1), lambda a: torch.cumsum(a > 1, 1))]:
        got, expected = e_fn(ember.tensor(x)), t_fn(torch.tensor(x))
        assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
        assert got.tolist() == expected.tolist()
    assert ember.cumsum(ember.tensor(x), 0, dtype=ember.float64).dtype == ember.float64


def test_logsumexp_does_not_overflow():
    x = ember.tensor([[1000.0, 1000.0], [-float("inf"), -float("inf")]])
    got = ember.logsumexp(x, 1)
    expected = torch.logsumexp(torch.tensor([[1000.0, 1000.0], [-float("inf"), -float("inf")]]), 1)
    assert got.tolist() == expected.tolist()


def test_norm_of_zero_has_zero_gradient():
    x = ember.zeros(3, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


# ---- strict matrix products --------------------------------------------------------------------------------

PRODUCTS = {
    "mm": (ember.mm, torch.mm, [(2, 3), (3, 4)]),
    "bmm": (ember.bmm, torch.bmm, [(2, 3, 4), (2, 4, 5)]),
    "mv": (ember.mv, torch.mv, [(2, 3), (3,)]),
    "dot": (ember.dot, torch.dot, [(4,), (4,)]),
    "outer": (ember.outer, torch.outer, [(3,), (4,)]),
    "method mm": (lambda a, b: a.mm(b), lambda a, b: a.mm(b), [(2, 3), (3, 4)]),
    "addmm": (lambda c, a, b: ember.addmm(c, a, b, beta=0.5, alpha=2), lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2),
              [(4,), (2, 3), (3, 4)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_match_torch(name, dtype):
    e_fn, t_fn, shapes = PRODUCTS[name]
    check_op(e_fn, t_fn, shapes, dtype=dtype)


BAD_PRODUCTS = [
    ("mm", [(2, 3), (4, 5)]), ("mm", [(2, 3), (3,)]), ("mm", [(2, 3, 1), (3, 2)]), ("bmm", [(2, 3), (4, 5)]),
    ("bmm", [(2, 3, 4), (2, 5, 6)]), ("bmm", [(2, 3, 4), (3, 4, 6)]), ("mv", [(2, 3), (4,)]), ("mv", [(2, 3), (2, 3)]),
    ("dot", [(2, 3), (2, 3)]), ("dot", [(3,), (4,)]), ("outer", [(2, 3), (2,)]),
]


@pytest.mark.parametrize("name, shapes", BAD_PRODUCTS)
def test_bad_products_raise_torch_errors(name, shapes):
    t_args = [torch.zeros(s) for s in shapes]
    with pytest.raises(RuntimeError) as expected:
        getattr(torch, name)(*t_args)
    with pytest.raises(RuntimeError) as got:
        getattr(ember, name)(*[ember.zeros(s) for s in shapes])
    first = str(expected.value).split(",")[0].split("(")[0]
    assert first in str(got.value)


def test_mm_refuses_mixed_dtypes():
    with pytest.raises(RuntimeError, match="dtype"):
        ember.mm(ember.zeros(2, 2), ember.zeros(2, 2, dtype=ember.float64))


# ---- picking by index ----------------------------------------------------------------------------------------

IDX = np.array([[0, 2, 2], [1, 0, 1]])

INDEXING = {
    "gather 1": (lambda a: ember.gather(a, 1, ember.tensor(IDX)), lambda a: torch.gather(a, 1, torch.tensor(IDX)), (2, 4)),
    "gather 0 smaller": (lambda a: a.gather(0, ember.tensor(IDX[:, :2])), lambda a: a.gather(0, torch.tensor(IDX[:, :2])), (3, 4)),
    "index_select": (lambda a: ember.index_select(a, 1, ember.tensor([2, 0, 2])),
                     lambda a: torch.index_select(a, 1, torch.tensor([2, 0, 2])), (3, 4)),
    "masked_fill": (lambda a: a.masked_fill(ember.tensor([True, False, True, False]), -1.5),
                    lambda a: a.masked_fill(torch.tensor([True, False, True, False]), -1.5), (3, 4)),
    "scatter src": (lambda a, s: a.scatter(1, ember.tensor(IDX[:, :2]), s), lambda a, s: a.scatter(1, torch.tensor(IDX[:, :2]), s),
                    (2, 4), (2, 2)),
    "scatter value": (lambda a: ember.scatter(a, 0, ember.tensor([[1, 0, 1, 0]]), 7.0),
                      lambda a: torch.scatter(a, 0, torch.tensor([[1, 0, 1, 0]]), 7.0), (2, 4)),
    "sort": (lambda a: ember.sort(a, 1), lambda a: torch.sort(a, 1), (3, 5)),
    "sort descending": (lambda a: a.sort(dim=0, descending=True), lambda a: a.sort(dim=0, descending=True), (3, 5)),
    "topk": (lambda a: ember.topk(a, 2), lambda a: torch.topk(a, 2), (3, 5)),
    "topk smallest dim 0": (lambda a: a.topk(2, dim=0, largest=False), lambda a: a.topk(2, dim=0, largest=False), (3, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(INDEXING))
def test_indexing_matches_torch(name, dtype):
    e_fn, t_fn, *shapes = INDEXING[name]
    check_op(e_fn, t_fn, shapes, dtype=dtype)


def test_sort_results_have_values_and_indices():
    data = np.array([3, 1, 2, 1])
    got, expected = ember.sort(ember.tensor(data)), torch.sort(torch.tensor(data), stable=True)
    assert got.values.tolist() == expected.values.tolist() and got.indices.tolist() == expected.indices.tolist()
    values, indices = ember.tensor([1.0, 5.0, 3.0]).topk(1)
    assert values.tolist() == [5.0] and indices.tolist() == [1]
    assert ember.argsort(ember.tensor(data), descending=True).tolist() == torch.argsort(
        torch.tensor(data), descending=True, stable=True).tolist()
    with pytest.raises(RuntimeError, match="k out of range"):
        ember.topk(ember.zeros(3), 4)


def test_masked_fill_keeps_integer_dtype_and_needs_bool_mask():
    x = ember.arange(4)
    assert x.masked_fill(x > 1, 0).tolist() == [0, 1, 0, 0]
    assert x.masked_fill(x > 1, 0).dtype == ember.int64
    with pytest.raises(RuntimeError, match="boolean masks"):
        x.masked_fill(ember.tensor([1, 0, 1, 0]), 0)


def test_gather_needs_integer_index():
    with pytest.raises(RuntimeError, match="int64"):
        ember.gather(ember.zeros(2, 2), 1, ember.zeros(2, 2))


# ---- cutting, tiling, triangles, meshgrid --------------------------------------------------------------------

REARRANGE = {
    "split int": (lambda a: ember.split(a, 2, dim=1), lambda a: torch.split(a, 2, dim=1), (3, 5)),
    "split list": (lambda a: a.split([1, 3, 1], 1), lambda a: a.split([1, 3, 1], 1), (3, 5)),
    "chunk": (lambda a: ember.chunk(a, 3, 1), lambda a: torch.chunk(a, 3, 1), (3, 5)),
    "chunk fewer": (lambda a: a.chunk(4, 0), lambda a: a.chunk(4, 0), (3, 5)),
    "unbind": (lambda a: ember.unbind(a, 1), lambda a: torch.unbind(a, 1), (3, 4)),
    "narrow": (lambda a: a.narrow(1, 1, 2), lambda a: a.narrow(1, 1, 2), (3, 4)),
    "flip": (lambda a: ember.flip(a, (0, 2)), lambda a: torch.flip(a, (0, 2)), (2, 3, 4)),
    "roll": (lambda a: ember.roll(a, 1, 1), lambda a: torch.roll(a, 1, 1), (3, 4)),
    "roll two dims": (lambda a: a.roll((2, -1), (0, 1)), lambda a: a.roll((2, -1), (0, 1)), (3, 4)),
    "roll flat": (lambda a: ember.roll(a, 5), lambda a: torch.roll(a, 5), (3, 4)),
    "repeat": (lambda a: a.repeat(2, 3), lambda a: a.repeat(2, 3), (3, 4)),
    "repeat new dims": (lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), (3, 4)),
    "tile": (lambda a: ember.tile(a, (2,)), lambda a: torch.tile(a, (2,)), (3, 4)),
    "repeat_interleave": (lambda a: a.repeat_interleave(2, dim=0), lambda a: a.repeat_interleave(2, dim=0), (3, 4)),
    "repeat_interleave flat": (lambda a: ember.repeat_interleave(a, 3), lambda a: torch.repeat_interleave(a, 3), (2, 2)),
    "repeat_interleave counts": (lambda a: a.repeat_interleave(ember.tensor([2, 0, 1]), dim=1),
                                 lambda a: a.repeat_interleave(torch.tensor([2, 0, 1]), dim=1), (2, 3)),
    "tril": (ember.tril, torch.tril, (4, 5)),
    "triu 1": (lambda a: a.triu(1), lambda a: a.triu(1), (2, 4, 3)),
    "tril -1": (lambda a: ember.tril(a, diagonal=-1), lambda a: torch.tril(a, diagonal=-1), (4, 4)),
    "diag of matrix": (lambda a: ember.diag(a, 1), lambda a: torch.diag(a, 1), (3, 4)),
    "diag of vector": (lambda a: a.diag(-1), lambda a: a.diag(-1), (3,)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(REARRANGE))
def test_rearrange_matches_torch(name, dtype):
    e_fn, t_fn, shape = REARRANGE[name]
    check_op(e_fn, t_fn, [shape], dtype=dtype)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing):
    check_op(lambda a, b, c: ember.meshgrid(a, b, c, indexing=indexing),
             lambda a, b, c: torch.meshgrid(a, b, c, indexing=indexing), [(2,), (3,), (4,)])


def test_meshgrid_warns_like_torch_without_indexing():
    with pytest.warns(UserWarning, match="indexing argument"):
        x, y = ember.meshgrid(ember.arange(2), ember.arange(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tx, ty = torch.meshgrid(torch.arange(2), torch.arange(3))
    assert x.tolist() == tx.tolist() and y.tolist() == ty.tolist()


def test_cutting_errors_match_torch():
    with pytest.raises(RuntimeError, match="greater than 0"):
        ember.chunk(ember.zeros(3), 0)
    with pytest.raises(RuntimeError, match="sum exactly"):
        ember.split(ember.zeros(5), [2, 2])
    with pytest.raises(RuntimeError, match="can not be smaller"):
        ember.zeros(2, 3).repeat(2)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.tril(ember.zeros(3))


def test_repeat_interleave_of_counts_alone():
    counts = [1, 0, 3]
    assert ember.repeat_interleave(ember.tensor(counts)).tolist() == torch.repeat_interleave(torch.tensor(counts)).tolist()


@pytest.mark.parametrize("fn", [lambda m, x: m.sort(x).values, lambda m, x: m.cumsum(x, 0),
                                lambda m, x: m.topk(x, 1).values, lambda m, x: m.flip(x, (0,))])
@pytest.mark.parametrize("data", [np.array(2.5), np.array([3, 1, 2])])
def test_zero_dim_and_integer_inputs(fn, data):
    got, expected = fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data))
    assert got.tolist() == expected.tolist() and str(got.dtype) == str(expected.dtype).replace("torch.", "")


def test_bool_triangles_stay_bool():
    assert ember.tril(ember.ones(2, 3, dtype=ember.bool)).tolist() == torch.tril(torch.ones(2, 3, dtype=torch.bool)).tolist()


# ---- gradcheck for every new Function ---------------------------------------------------------------------------

GRADCHECK = {
    "Sin": [(ember.sin, (3, 4))], "Cos": [(ember.cos, (3, 4))], "Tan": [(ember.tan, (3, 4))],
    "Sinh": [(ember.sinh, (3, 4))], "Cosh": [(ember.cosh, (3, 4))], "Atan": [(ember.atan, (3, 4))],
    "Asin": [(lambda a: ember.asin(a * 0.3), (3, 4))], "Acos": [(lambda a: ember.acos(a * 0.3), (3, 4))],
    "Atan2": [(ember.atan2, (3, 4), (3, 4))], "Log1p": [(lambda a: ember.log1p(a.abs()), (3, 4))],
    "Expm1": [(ember.expm1, (3, 4))], "LogBase": [(lambda a: ember.log2(a.abs() + 0.5), (3,)),
                                                  (lambda a: ember.log10(a.abs() + 0.5), (3,))],
    "Exp2": [(ember.exp2, (3, 4))], "Rsqrt": [(lambda a: ember.rsqrt(a.abs() + 0.5), (3, 4))],
    "Reciprocal": [(lambda a: ember.reciprocal(a.abs() + 0.5), (3, 4))], "Square": [(ember.square, (3, 4))],
    # Erf and Erfc live in ops/special.py and are gradchecked in test_activation_extra.py.
    "Frac": [(lambda a: ember.frac(a * 0.9), (3, 4))], "Rounding": [(lambda a: ember.floor(a) + a, (3, 4))],
    "CumSum": [(lambda a: ember.cumsum(a, 1), (3, 4))], "CumProd": [(lambda a: ember.cumprod(a, 0), (3, 4))],
    "Prod": [(lambda a: ember.prod(a, 1), (3, 4)), (ember.prod, (2, 3))],
    "Gather": [(lambda a: ember.gather(a, 1, ember.tensor(IDX)), (2, 4)), (lambda a: a.sort(0).values, (3, 4))],
    "Scatter": [(lambda a, s: ember.scatter(a, 1, ember.tensor(IDX[:, :2]), s), (2, 4), (2, 3))],
    "MaskedFill": [(lambda a: a.masked_fill(a > 0, 0.5), (3, 4)), (ember.tril, (3, 3))],
    "Repeat": [(lambda a: a.repeat(2, 1, 2), (3, 2))], "Diag": [(ember.diag, (3, 4)), (ember.diag, (3,))],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, *shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_cumprod_with_zero_gradchecks():
    x = ember.tensor([[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 0.0, 0.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.cumprod(a, 1), [x])
    assert ember.autograd.gradcheck(lambda a: ember.prod(a, 1), [x])


def test_every_new_function_is_gradchecked():
    defined = set()
    for module in (unary, cumulative, index, rearrange):
        defined |= function_classes(module)
    assert defined == set(GRADCHECK)
