"""Shape ops against torch: reshape view flatten transpose permute squeeze unsqueeze expand expand_as,
cat stack and indexing (basic, advanced, masks, repeated indices whose gradients must add up)."""


import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis.extra.numpy import basic_indices

import ember
from ember.ops import shape as shape_ops
from helpers import check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]

# One function written once for both frameworks (the method names and arguments are torch's).
SHAPE_FNS = {
    "reshape": ((2, 3, 4), lambda x: x.reshape(6, 4)),
    "reshape tuple": ((2, 3, 4), lambda x: x.reshape((4, -1))),
    "reshape -1": ((2, 3, 4), lambda x: x.reshape(-1)),
    "reshape to 0-d": ((1, 1), lambda x: x.reshape(())),
    "reshape from 0-d": ((), lambda x: x.reshape(1, 1)),
    "reshape same": ((2, 3), lambda x: x.reshape(2, 3)),
    "view": ((2, 3, 4), lambda x: x.view(3, 8)),
    "view -1": ((2, 3, 4), lambda x: x.view(2, -1)),
    "view_as": ((2, 3, 4), lambda x: x.view_as(x.reshape(4, 6))),
    "flatten": ((2, 3, 4), lambda x: x.flatten()),
    "flatten 1": ((2, 3, 4), lambda x: x.flatten(1)),
    "flatten 0 1": ((2, 3, 4), lambda x: x.flatten(0, 1)),
    "flatten -2 -1": ((2, 3, 4, 5), lambda x: x.flatten(-2, -1)),
    "flatten 1 1": ((2, 3, 4), lambda x: x.flatten(1, 1)),
    "flatten 0-d": ((), lambda x: x.flatten()),
    "transpose": ((2, 3, 4), lambda x: x.transpose(0, 2)),
    "transpose neg": ((2, 3, 4), lambda x: x.transpose(-1, 0)),
    "transpose same": ((2, 3), lambda x: x.transpose(1, 1)),
    "transpose 1-d": ((3,), lambda x: x.transpose(0, -1)),
    "t": ((2, 3), lambda x: x.t()),
    "T": ((2, 3), lambda x: x.T),
    "permute": ((2, 3, 4), lambda x: x.permute(2, 0, 1)),
    "permute tuple": ((2, 3, 4), lambda x: x.permute((1, 2, 0))),
    "permute neg": ((2, 3, 4, 5), lambda x: x.permute(-1, 0, -2, 1)),
    "squeeze": ((1, 3, 1, 4), lambda x: x.squeeze()),
    "squeeze 0": ((1, 3, 1, 4), lambda x: x.squeeze(0)),
    "squeeze -2": ((1, 3, 1, 4), lambda x: x.squeeze(-2)),
    "squeeze non-1": ((1, 3, 1, 4), lambda x: x.squeeze(1)),
    "squeeze tuple": ((1, 3, 1, 4), lambda x: x.squeeze((0, 2))),
    "squeeze all ones": ((1, 1), lambda x: x.squeeze()),
    "unsqueeze 0": ((3, 4), lambda x: x.unsqueeze(0)),
    "unsqueeze 1": ((3, 4), lambda x: x.unsqueeze(1)),
    "unsqueeze -1": ((3, 4), lambda x: x.unsqueeze(-1)),
    "unsqueeze -3": ((3, 4), lambda x: x.unsqueeze(-3)),
    "unsqueeze 0-d": ((), lambda x: x.unsqueeze(0)),
    "expand": ((1, 4), lambda x: x.expand(3, 4)),
    "expand -1": ((3, 1), lambda x: x.expand(-1, 5)),
    "expand new dims": ((3, 1), lambda x: x.expand(2, 3, 4)),
    "expand tuple": ((1,), lambda x: x.expand((2, 5))),
    "expand 0-d": ((), lambda x: x.expand(2, 3)),
    "expand same": ((2, 3), lambda x: x.expand(2, 3)),
    "expand_as": ((4, 1), lambda x: x.expand_as(x * x.reshape(1, 4))),
    "expand then op": ((1, 3), lambda x: x.expand(4, 3) * 2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SHAPE_FNS))
def test_shape_ops(name, dtype):
    shape, fn = SHAPE_FNS[name]
    (out,) = check_op(fn, fn, shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


NONCONTIGUOUS = {  # no size-1 dims: a transposed array with one counts as contiguous
    "reshape": lambda x: x.reshape(4, 6),
    "reshape -1": lambda x: x.reshape(-1, 2),
    "flatten": lambda x: x.flatten(),
    "flatten 1": lambda x: x.flatten(1),
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(1, 2, 0),
    "squeeze": lambda x: x.reshape(2, 1, 12).squeeze(),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "expand": lambda x: x.unsqueeze(0).expand(2, 2, 3, 4),
}


@pytest.mark.parametrize("name", list(NONCONTIGUOUS))
def test_shape_ops_noncontiguous(name):
    fn = NONCONTIGUOUS[name]
    check_op(fn, fn, shapes=[(2, 3, 4)], noncontiguous=True)
    check_op(fn, fn, shapes=[(2, 3, 4)], noncontiguous=True, dtype="float32")


def test_functional_shape_ops():
    check_op(lambda x: ember.reshape(x, (3, 2)), lambda x: torch.reshape(x, (3, 2)), shapes=[(2, 3)])
    check_op(lambda x: ember.flatten(x, 1), lambda x: torch.flatten(x, 1), shapes=[(2, 3, 2)])
    check_op(lambda x: ember.transpose(x, 0, 1), lambda x: torch.transpose(x, 0, 1), shapes=[(2, 3)])
    check_op(lambda x: ember.permute(x, (1, 0)), lambda x: torch.permute(x, (1, 0)), shapes=[(2, 3)])
    check_op(lambda x: ember.squeeze(x, 0), lambda x: torch.squeeze(x, 0), shapes=[(1, 3)])
    check_op(lambda x: ember.unsqueeze(x, 1), lambda x: torch.unsqueeze(x, 1), shapes=[(2, 3)])


def test_shape_errors():
    x = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match="invalid"):
        x.reshape(4, 2)
    with pytest.raises(RuntimeError, match="expand"):
        x.expand(4, 3)
    with pytest.raises(RuntimeError, match="expand"):
        x.expand(3)
    with pytest.raises(ValueError, match="permut"):
        x.permute(0, 0)


# ---- cat / stack --------------------------------------------------------------------------------------

CAT_CASES = [
    ([(2, 3), (4, 3), (1, 3)], 0),
    ([(2, 3), (2, 1)], 1),
    ([(2, 3), (2, 5)], -1),
    ([(3,), (2,)], 0),
    ([(2, 3, 4), (2, 1, 4)], -2),
    ([(2, 3)], 0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CAT_CASES, ids=str)
def test_cat(case, dtype):
    shapes, dim = case
    check_op(lambda *xs: ember.cat(xs, dim), lambda *xs: torch.cat(xs, dim), shapes=shapes, dtype=dtype)
    check_op(lambda *xs: ember.cat(list(xs), dim=dim), lambda *xs: torch.cat(list(xs), dim=dim), shapes=shapes,
             dtype=dtype)


STACK_CASES = [([(2, 3), (2, 3)], 0), ([(2, 3)] * 3, 1), ([(2, 3)] * 2, 2), ([(2, 3)] * 2, -1), ([(3,)] * 4, -2),
               ([()] * 3, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", STACK_CASES, ids=str)
def test_stack(case, dtype):
    shapes, dim = case
    check_op(lambda *xs: ember.stack(xs, dim), lambda *xs: torch.stack(xs, dim), shapes=shapes, dtype=dtype)


def test_cat_stack_noncontiguous_and_partial_grad():
    check_op(lambda a, b: ember.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), shapes=[(3, 2), (3, 4)],
             noncontiguous=True)
    check_op(lambda a, b: ember.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1), shapes=[(3, 2), (3, 2)],
             noncontiguous=True)
    # a constant among the inputs: no gradient for it, the right slices for the others
    a = ember.tensor([[1.0, 2.0]], requires_grad=True)
    c = ember.tensor([[5.0, 6.0]])
    b = ember.tensor([[3.0, 4.0]], requires_grad=True)
    (ember.cat([a, c, b]) * ember.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[1.0, 1.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [[3.0, 3.0]])
    assert c.grad is None


def test_cat_stack_errors():
    with pytest.raises(ValueError, match="non-empty"):
        ember.cat([])
    with pytest.raises(ValueError, match="same shape"):
        ember.stack([ember.ones(2), ember.ones(3)])


# ---- indexing -----------------------------------------------------------------------------------------

# Each index is built by a function of the framework's tensor constructor, so both get their own kind.
INDEXES = {
    "int": lambda T: 1,
    "negative int": lambda T: -1,
    "slice": lambda T: slice(1, 3),
    "negative slice": lambda T: slice(-3, -1),
    "step": lambda T: slice(None, None, 2),
    "step offset": lambda T: (slice(None), slice(1, None, 2)),
    "tuple of ints": lambda T: (1, 2),
    "int and slice": lambda T: (slice(None), -2),
    "None": lambda T: None,
    "None middle": lambda T: (slice(None), None, slice(1, 3)),
    "Ellipsis": lambda T: (Ellipsis, 1),
    "Ellipsis None": lambda T: (1, Ellipsis, None),
    "int list": lambda T: [0, 2],
    "int tensor": lambda T: T([3, 0, 1]),
    "0-d int tensor": lambda T: T(2),
    "negative int tensor": lambda T: T([-1, 0]),
    "repeated": lambda T: T([0, 0, 1, 0]),
    "repeated 2-d": lambda T: T([[0, 1], [1, 1]]),
    "repeated pairs": lambda T: (T([0, 0, 2]), T([1, 1, 1])),
    "pairs": lambda T: ([0, 1], [1, 2]),
    "slice and array": lambda T: (slice(1, None), T([0, 2, 2])),
    "array slice array": lambda T: (T([0, 1]), slice(None), T([1, 0])),
    "array and int": lambda T: (T([2, 0]), 1),
    "bool mask 1-d": lambda T: T([True, False, True, True]),
    "bool mask rows, cols": lambda T: (slice(None), T([False, True, True, False, True])),
    "empty list": lambda T: [],
    # NumPy would move the array's dim first when an int and an array are split by a slice; torch selects
    # with the int first, so the array's dim stays in place.
    "int, slice, array": lambda T: (0, slice(None), T([0, 2])),
    "0-d tensor, slice, array": lambda T: (T(1), slice(None), T([0, 2])),
    "None, int, slice, array": lambda T: (None, -1, slice(None), T([1])),
    "int, Ellipsis, array": lambda T: (0, Ellipsis, T([1, 2])),
    "array, slice, int": lambda T: (T([1, 3]), slice(None), 0),
    "int, mask": lambda T: (2, T([True, False, True, True, False])),
}

X_SHAPE = (4, 5, 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(INDEXES))
def test_getitem(name, dtype):
    make = INDEXES[name]
    (out,) = check_op(lambda x: x[make(ember.tensor)], lambda x: x[make(torch.tensor)], shapes=[X_SHAPE], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["slice", "step offset", "repeated pairs", "array slice array", "bool mask 1-d"])
def test_getitem_noncontiguous(name):
    make = INDEXES[name]
    check_op(lambda x: x[make(ember.tensor)], lambda x: x[make(torch.tensor)], shapes=[X_SHAPE], noncontiguous=True)


def _no_negative_steps(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(not isinstance(p, slice) or p.step is None or p.step > 0 for p in parts)


@settings(max_examples=50, deadline=None)
@given(index=basic_indices(X_SHAPE, min_dims=0, allow_newaxis=True, allow_ellipsis=True).filter(_no_negative_steps))
def test_getitem_random_basic_indices(index):
    # torch has no negative slice steps; everything else NumPy's basic indexing allows, torch allows too
    check_op(lambda x: x[index], lambda x: x[index], shapes=[X_SHAPE])


def test_getitem_full_bool_mask_and_data_dependent_mask():
    rng = np.random.default_rng(4)
    mask = rng.random(X_SHAPE) > 0.5
    check_op(lambda x: x[ember.tensor(mask)], lambda x: x[torch.tensor(mask)], shapes=[X_SHAPE])
    check_op(lambda x: x[x > 0], lambda x: x[x > 0], shapes=[X_SHAPE], dtype="float32")
    check_op(lambda x: x[1][x[1] < 0.5], lambda x: x[1][x[1] < 0.5], shapes=[X_SHAPE])


def test_setitem_reads_mixed_int_and_array_index_like_torch():
    e, t = ember.zeros(*X_SHAPE), torch.zeros(X_SHAPE)
    value = np.arange(10.0).reshape(5, 2)  # torch's shape for x[0, :, [0, 2]]
    e[0, :, [0, 2]] = ember.tensor(value)
    t[0, :, [0, 2]] = torch.tensor(value, dtype=torch.float32)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_repeated_indices_accumulate_gradient():
    x = ember.zeros(4, requires_grad=True)
    x[[0, 0, 2, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 2.0, 0.0])
    w = ember.zeros(3, 2, requires_grad=True)  # an embedding lookup: rows used twice get two gradients
    (w[ember.tensor([[1, 1], [2, 1]])] * ember.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [3, 30], [1, 10]])


def test_iteration_and_chained_indexing_carry_gradients():
    fn = lambda x: x[1:][0][::2] * 3  # noqa: E731
    check_op(fn, fn, shapes=[X_SHAPE])
    check_op(lambda x: ember.stack(list(x)), lambda x: torch.stack(list(x)), shapes=[(3, 2)])


# ---- gradcheck of every Function in shape.py -----------------------------------------------------------

GRADCHECK = {
    "Reshape": (lambda a: a.reshape(3, 2) * ember.arange(6.0).double().reshape(3, 2), [(2, 3)]),
    "Permute": (lambda a: a.permute(2, 0, 1) * ember.arange(6.0).double().reshape(3, 1, 2), [(1, 2, 3)]),
    "Expand": (lambda a: a.expand(2, 3, 2) * ember.arange(12.0).double().reshape(2, 3, 2), [(3, 1)]),
    "Cat": (lambda a, b: ember.cat([a, b], 1) ** 2, [(2, 2), (2, 3)]),
    "Stack": (lambda a, b: ember.stack([a, b], -1) ** 2, [(2, 2), (2, 2)]),
    "GetItem": (lambda a: a[[0, 0, 2]][:, 1:] ** 2 + a[..., None, 0], [(3, 3)]),
    "SetItem": (lambda a, v: shape_ops.setitem_op(a * 1, (slice(None), [0, 2]), v) ** 2, [(3, 3), (3, 1)]),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    fn, shapes = GRADCHECK[name]
    assert gradcheck(fn, *shapes)


def test_every_shape_function_is_gradchecked():
    assert function_classes(shape_ops) == set(GRADCHECK)
