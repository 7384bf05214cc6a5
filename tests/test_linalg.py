"""Matrix products against torch: matmul in every rank combination (vectors, matrices, batches, broadcast
batch dims) and the fused linear layer y = x Wᵀ + b."""


import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember.ops import linalg
from helpers import check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]

MATMUL_SHAPES = [
    ((3,), (3,)),  # dot product: a 0-d result
    ((3,), (3, 4)),  # vector @ matrix
    ((2, 3), (3,)),  # matrix @ vector
    ((2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((5, 2, 3), (5, 3, 4)),  # batched
    ((5, 2, 3), (3, 4)),  # batch @ matrix
    ((2, 3), (5, 3, 4)),  # matrix @ batch
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims
    ((1, 2, 3), (4, 3, 2)),  # a size-1 batch dim broadcast
    ((3,), (5, 3, 4)),  # vector @ batch
    ((5, 2, 3), (3,)),  # batch @ vector
    ((2, 1, 2, 3), (3,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, dtype):
    (out,) = check_op(lambda a, b: a @ b, lambda a, b: a @ b, shapes=shapes, dtype=dtype)
    assert out.dtype == np.dtype(dtype) and isinstance(out.array, np.ndarray)
    check_op(ember.matmul, torch.matmul, shapes=shapes, dtype=dtype)
    check_op(lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), shapes=shapes, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 3)), ((6, 2, 3), (3, 2))], ids=str)
def test_matmul_noncontiguous(shapes, dtype):
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, shapes=shapes, dtype=dtype, noncontiguous=True)


def test_matmul_with_constant_operand_and_rmatmul():
    w = np.random.default_rng(2).standard_normal((4, 3))
    check_op(lambda x: x @ ember.tensor(w), lambda x: x @ torch.tensor(w), shapes=[(2, 4)])
    check_op(lambda x: ember.tensor(w.T) @ x, lambda x: torch.tensor(w.T) @ x, shapes=[(4, 2)])
    check_op(lambda x: w.T @ x, lambda x: torch.tensor(w.T) @ x, shapes=[(4, 2)])  # ndarray @ Tensor


def test_matmul_shape_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        ember.ones(2, 3) @ ember.ones(4, 5)
    with pytest.raises(ValueError, match="1 dimension"):
        ember.ones(()) @ ember.ones(3)


LINEAR_SHAPES = [(4,), (3, 4), (2, 3, 4), (2, 1, 3, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", LINEAR_SHAPES, ids=str)
def test_linear(x_shape, bias, dtype):
    shapes = [x_shape, (5, 4)] + ([(5,)] if bias else [])
    (out,) = check_op(ember.ops.linear, F.linear, shapes=shapes, dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_noncontiguous_and_keyword_bias(bias):
    shapes = [(3, 4), (5, 4)] + ([(5,)] if bias else [])
    check_op(ember.ops.linear, F.linear, shapes=shapes, noncontiguous=True)
    check_op(lambda x, w: ember.ops.linear(x, w, bias=None), lambda x, w: F.linear(x, w, bias=None),
             shapes=[(2, 3, 4), (5, 4)], noncontiguous=True)


def test_linear_with_constant_input_only_weights_get_gradients():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((3, 4)))
    w = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(2), requires_grad=True)
    ember.ops.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((2, 3)) @ x.numpy())
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 3.0])
    assert x.grad is None


GRADCHECK = {
    "MatMul": [
        (lambda a, b: a @ b, [(2, 3), (3, 2)]),
        (lambda a, b: a @ b, [(3,), (2, 3, 2)]),
        (lambda a, b: a @ b, [(2, 1, 2, 3), (2, 3, 2)]),
        (lambda a, b: a @ b, [(3,), (3,)]),
    ],
    "Linear": [
        (ember.ops.linear, [(2, 3), (4, 3), (4,)]),
        (ember.ops.linear, [(2, 1, 3), (2, 3)]),
        (ember.ops.linear, [(3,), (2, 3), (2,)]),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_every_linalg_function_is_gradchecked():
    assert function_classes(linalg) == set(GRADCHECK)
