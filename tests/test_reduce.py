"""Reductions against torch: sum mean var std amax amin max min argmax argmin, over every form of ``dim``
(None, int, negative, tuple), keepdim, ties (shared gradients) and integer inputs."""


import numpy as np
import pytest
import torch

import ember
from ember.ops import reduce
from helpers import check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]

# (shape, dim) pairs valid for that shape: None, int, negative int, tuple, negative tuple, every dim.
DIMS_3D = [None, 0, 1, -1, (0, 2), (-1, 0), (1,), (0, 1, 2), ()]  # () means every dim, as None
SHAPE_DIMS = [((2, 3, 4), d) for d in DIMS_3D] + [
    ((5,), None),
    ((5,), 0),
    ((5,), -1),
    ((1, 4), 0),
    ((4, 1), -1),
    ((), None),
    ((), 0),
    ((), -1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, shape, dim, keepdim, dtype):
    def e_fn(x):
        return getattr(x, name)() if dim is None and not keepdim else getattr(x, name)(dim=dim, keepdim=keepdim)

    def t_fn(x):
        if dim is None:
            if keepdim:  # torch's sum/mean take dim=None with keepdim only in the functional long form
                return getattr(torch, name)(x, dim=tuple(range(x.ndim)), keepdim=True) if x.ndim else getattr(x, name)()
            return getattr(x, name)()
        return getattr(x, name)(dim=dim, keepdim=keepdim)

    (out,) = check_op(e_fn, t_fn, shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_functional_forms_and_noncontiguous(name):
    e_fn, t_fn = getattr(ember, name), getattr(torch, name)
    check_op(lambda x: e_fn(x, 1), lambda x: t_fn(x, 1), shapes=[(3, 4, 5)], noncontiguous=True)
    check_op(lambda x: e_fn(x, (0, 2), keepdim=True), lambda x: t_fn(x, (0, 2), keepdim=True), shapes=[(3, 4, 5)],
             dtype="float32", noncontiguous=True)
    check_op(e_fn, t_fn, shapes=[(3, 4)], noncontiguous=True)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_sum_of_integers_and_bools_is_int64(dtype):
    data = np.array([[200, 100, 1], [0, 255, 3]]).astype(dtype)
    for fn in (lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.sum(dim=1, keepdim=True)):
        (out,) = check_op(fn, fn, arrays=[data], grad=False)  # compares values and dtype with torch
        assert out.dtype == np.int64


def test_mean_of_integers_raises_like_torch():
    with pytest.raises(RuntimeError, match="float"):
        ember.tensor([1, 2, 3]).mean()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 3]).mean()


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="range"):
        ember.ones(2, 3).sum(2)
    with pytest.raises(IndexError, match="range"):
        ember.ones(2, 3).mean(-3)


# ---- var / std ----------------------------------------------------------------------------------------

VAR_DIMS = [None, 0, -1, (0, 2), (1, 2), (-3, -1)]
VAR_FORMS = [dict(), dict(unbiased=True), dict(unbiased=False), dict(correction=0), dict(correction=1),
             dict(correction=2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("form", VAR_FORMS, ids=str)
@pytest.mark.parametrize("dim", VAR_DIMS, ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name, dim, form, keepdim, dtype):
    def fn(x):
        return getattr(x, name)(dim=dim, keepdim=keepdim, **form)

    (out,) = check_op(fn, fn, shapes=[(3, 4, 5)], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_defaults_and_functional(name):
    check_op(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), shapes=[(6,)])
    check_op(lambda x: getattr(x, name)(1), lambda x: getattr(x, name)(1), shapes=[(3, 4)], noncontiguous=True)
    check_op(lambda x: getattr(ember, name)(x, 0, unbiased=False), lambda x: getattr(torch, name)(x, 0, unbiased=False),
             shapes=[(4, 3)])


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_empty_dim_reduces_everything(name):
    # torch reduces every dim for dim=() in forward, but its backward then divides by n - 1 with n = 1
    # (an infinite gradient), so Ember is compared with its own dim=None here instead.
    data = np.random.default_rng(7).standard_normal((3, 4))
    grads = []
    for dim in (None, ()):
        x = ember.tensor(data, requires_grad=True)
        y = getattr(x, name)(dim=dim)
        t = getattr(torch.tensor(data), name)(dim=dim)
        np.testing.assert_allclose(y.item(), t.item(), rtol=1e-12)
        y.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    assert np.all(np.isfinite(grads[1]))


def test_var_of_constant_is_zero_and_unbiased_divides_by_n_minus_1():
    x = ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64)
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(unbiased=False).item() == pytest.approx(5 / 4)
    assert x.var(correction=2).item() == pytest.approx(5 / 2)
    assert ember.full((3,), 2.0).var().item() == 0.0


# ---- max / min / amax / amin --------------------------------------------------------------------------

# Inputs with ties: the full max()/min() and amax/amin share the gradient evenly among tied elements.
TIES = np.array(
    [
        [[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, -2.0, 0.5], [3.0, -2.0, 1.0, 1.0]],
        [[2.0, 2.0, 2.0, 2.0], [-1.0, 0.0, 0.0, -1.0], [3.0, 1.0, -2.0, 3.0]],
    ]
)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_share_gradient_among_ties(name, dtype):
    fn = lambda x: getattr(x, name)()  # noqa: E731
    check_op(fn, fn, arrays=[TIES.astype(dtype)], dtype=dtype)
    check_op(getattr(ember, name), getattr(torch, name), arrays=[TIES.astype(dtype)], dtype=dtype)
    check_op(fn, fn, shapes=[(3, 4)], dtype=dtype, noncontiguous=True)
    check_op(fn, fn, shapes=[()], dtype=dtype)


def test_full_max_tie_gradient_values():
    x = ember.tensor([1.0, 3.0, 3.0, 3.0, 0.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 1 / 3, 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 2), (1, 2), (-1, -3), ()], ids=str)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_with_ties(name, dim, keepdim, dtype):
    def fn(x):
        if dim is None:  # torch's amax has no dim=None; () means every dim
            return getattr(x, name)(dim=(), keepdim=keepdim) if isinstance(x, torch.Tensor) else getattr(x, name)(
                keepdim=keepdim)
        return getattr(x, name)(dim=dim, keepdim=keepdim)

    check_op(fn, fn, arrays=[TIES.astype(dtype)], dtype=dtype)
    check_op(fn, fn, shapes=[(2, 3, 4)], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_functional(name):
    check_op(lambda x: getattr(ember, name)(x, 1), lambda x: getattr(torch, name)(x, 1), arrays=[TIES])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_return_values_and_indices(name, dim, keepdim, dtype):
    # With ties, torch returns the first index and sends the whole gradient there.
    def fn(x):
        return getattr(x, name)(dim, keepdim=keepdim)

    values, indices = check_op(fn, fn, arrays=[TIES.astype(dtype)], dtype=dtype)
    assert indices.dtype == np.int64 and not indices.requires_grad and values.requires_grad
    check_op(fn, fn, shapes=[(3, 4, 2)], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_named_fields_and_functional(name):
    x = ember.tensor(TIES)
    t = torch.tensor(TIES)
    e_out, t_out = getattr(ember, name)(x, 1), getattr(torch, name)(t, 1)
    np.testing.assert_array_equal(e_out.values.numpy(), t_out.values.numpy())
    np.testing.assert_array_equal(e_out.indices.numpy(), t_out.indices.numpy())
    values, indices = getattr(x, name)(dim=-1, keepdim=True)
    assert values.shape == (2, 3, 1) and indices.shape == (2, 3, 1)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_dim_of_0d_tensor(name, keepdim):
    fn = lambda x: getattr(x, name)(0, keepdim=keepdim)  # noqa: E731
    check_op(fn, fn, arrays=[np.array(1.5)])
    fn = lambda x: getattr(x, name)(-1)  # noqa: E731
    check_op(fn, fn, arrays=[np.array(-2.5)])


def test_max_with_tensor_is_elementwise_maximum():
    fn = lambda a, b: a.max(b)  # noqa: E731
    check_op(fn, fn, shapes=[(3, 2), (3, 2)])
    fn = lambda a, b: a.min(b)  # noqa: E731
    check_op(fn, fn, shapes=[(3, 2), (2,)])


def test_max_of_empty_tensor_raises():
    with pytest.raises(RuntimeError, match="empty"):
        ember.zeros(0).max()


def test_only_used_output_of_max_dim_gets_gradient():
    # The indices are never used; the unused values slot must not disturb the gradient of a second use.
    x = ember.tensor([[1.0, 5.0], [4.0, 2.0]], requires_grad=True)
    values, _ = x.max(1)
    (values * ember.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [10.0, 0.0]])


# ---- argmax / argmin ----------------------------------------------------------------------------------


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_first_of_ties(name, dim, keepdim):
    fn = lambda x: getattr(x, name)(dim=dim, keepdim=keepdim)  # noqa: E731
    (out,) = check_op(fn, fn, arrays=[TIES], grad=False)
    assert out.dtype == np.int64
    (out,) = check_op(fn, fn, arrays=[TIES.astype("float32")], dtype="float32")
    assert not out.requires_grad
    check_op(lambda x: getattr(ember, name)(x, dim), lambda x: getattr(torch, name)(x, dim), arrays=[TIES], grad=False)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_of_0d_and_1d(name):
    for arr in (np.array(2.0), np.array([3.0, -1.0, 3.0, 7.0, -1.0])):
        for kwargs in (dict(), dict(dim=0), dict(dim=-1), dict(dim=0, keepdim=True)):
            fn = lambda x: getattr(x, name)(**kwargs)  # noqa: E731
            check_op(fn, fn, arrays=[arr], grad=False)


# ---- gradcheck of every Function in reduce.py -----------------------------------------------------------

GRADCHECK = {
    "Sum": [(lambda a: a.sum(), (2, 3)), (lambda a: a.sum((0, 2), keepdim=True), (2, 3, 2))],
    "Mean": [(lambda a: a.mean(), (2, 3)), (lambda a: a.mean(-1), (2, 3, 2))],
    "Amax": [
        (lambda a: a.amax(1), (3, 4)),
        (lambda a: a.min(), (3, 2)),
        (lambda a: a.amin((0, 1), keepdim=True), (2, 3)),
    ],
    "MaxDim": [(lambda a: a.max(1).values, (3, 4)), (lambda a: a.min(0, keepdim=True).values, (3, 4))],
    "Var": [(lambda a: a.var(1), (3, 4)), (lambda a: a.var(unbiased=False), (3, 2)), (lambda a: a.std((0, 1)), (2, 3))],
    "LogSumExp": [(lambda a: ember.logsumexp(a, 1), (3, 4)), (lambda a: a.logsumexp((0, 1), keepdim=True), (2, 3))],
    "Norm2": [(lambda a: a.norm(), (3, 4)), (lambda a: ember.norm(a, dim=1, keepdim=True), (2, 3))],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shape in GRADCHECK[name]:
        assert gradcheck(fn, shape)


def test_every_reduce_function_is_gradchecked():
    assert function_classes(reduce) == set(GRADCHECK)
