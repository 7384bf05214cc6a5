"""Activations against torch: relu leaky_relu elu sigmoid tanh softmax log_softmax, including their
gradients at the kinks and their values at |x| = 1000, where a naive formula overflows."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember.ops import activation
from helpers import check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]

ACTIVATIONS = {
    "relu": (ember.relu, torch.relu),
    "relu method": (lambda x: x.relu(), lambda x: x.relu()),
    "leaky_relu": (ember.ops.leaky_relu, F.leaky_relu),
    "leaky_relu 0.2": (lambda x: ember.ops.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "leaky_relu keyword": (lambda x: ember.ops.leaky_relu(x, negative_slope=0.3),
                           lambda x: F.leaky_relu(x, negative_slope=0.3)),
    "elu": (ember.ops.elu, F.elu),
    "elu 0.5": (lambda x: ember.ops.elu(x, 0.5), lambda x: F.elu(x, 0.5)),
    "elu 2": (lambda x: ember.ops.elu(x, alpha=2.0), lambda x: F.elu(x, alpha=2.0)),
    "sigmoid": (ember.sigmoid, torch.sigmoid),
    "sigmoid method": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "tanh": (ember.tanh, torch.tanh),
    "tanh method": (lambda x: x.tanh(), lambda x: x.tanh()),
}

# Exact zeros (the kink of relu, leaky_relu and elu), both signs, and values of both sizes.
KINK_INPUT = np.array([[-3.0, -1.0, -0.0, 0.0, 0.5], [2.0, -0.25, 0.0, 1e-3, -1e-3]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation(name, shape, dtype):
    e_fn, t_fn = ACTIVATIONS[name]
    (out,) = check_op(e_fn, t_fn, shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_at_kinks_and_noncontiguous(name, dtype):
    e_fn, t_fn = ACTIVATIONS[name]
    check_op(e_fn, t_fn, arrays=[KINK_INPUT.astype(dtype)], dtype=dtype)
    check_op(e_fn, t_fn, shapes=[(3, 4)], dtype=dtype, noncontiguous=True)


SOFTMAXES = {
    "softmax": (ember.softmax, torch.softmax),
    "log_softmax": (ember.log_softmax, torch.log_softmax),
    "softmax method": (lambda x, d: x.softmax(d), lambda x, d: x.softmax(d)),
    "log_softmax method": (lambda x, d: x.log_softmax(d), lambda x, d: x.log_softmax(d)),
    "F.softmax": (lambda x, d: ember.ops.softmax(x, dim=d), lambda x, d: F.softmax(x, dim=d)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), 2), ((3, 4, 5), -1), ((3, 4, 5), -3),
                                       ((6,), 0), ((6,), -1), ((4, 1), 1), ((), 0)], ids=str)
@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax(name, shape, dim, dtype):
    e_fn, t_fn = SOFTMAXES[name]
    (out,) = check_op(lambda x: e_fn(x, dim), lambda x: t_fn(x, dim), shapes=[shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_noncontiguous_and_implicit_dim(name):
    e_fn, t_fn = SOFTMAXES[name]
    check_op(lambda x: e_fn(x, 1), lambda x: t_fn(x, 1), shapes=[(3, 4, 5)], noncontiguous=True)
    # no dim: torch's legacy choice (0 for 0-, 1- and 3-d inputs, else 1)
    f_name = getattr(F, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that the implicit dim is deprecated
        for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 2)]:
            check_op(lambda x: e_fn(x), lambda x: f_name(x, dim=None), shapes=[shape])


def test_softmax_rows_sum_to_one():
    y = ember.softmax(ember.randn(4, 7), dim=1)
    np.testing.assert_allclose(y.sum(1).numpy(), np.ones(4), rtol=1e-6)


# ---- numerics at |x| = 1000 ----------------------------------------------------------------------------

HUGE = np.array([[-1000.0, -100.0, -20.0, -1.0, 0.0], [1.0, 20.0, 100.0, 1000.0, -1000.0]])

STABLE = {
    "sigmoid": (ember.sigmoid, torch.sigmoid),
    "tanh": (ember.tanh, torch.tanh),
    "elu": (ember.ops.elu, F.elu),
    "softmax dim 1": (lambda x: ember.softmax(x, 1), lambda x: torch.softmax(x, 1)),
    "softmax dim 0": (lambda x: ember.softmax(x, 0), lambda x: torch.softmax(x, 0)),
    "log_softmax dim 1": (lambda x: ember.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1)),
    "log_softmax dim 0": (lambda x: ember.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(STABLE))
def test_stable_at_plus_minus_1000(name, dtype):
    e_fn, t_fn = STABLE[name]
    # Overflow, division by zero and invalid operations are errors; underflow to 0 (e^-2000) is the point.
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        (out,) = check_op(e_fn, t_fn, arrays=[HUGE.astype(dtype)], dtype=dtype)
        assert np.all(np.isfinite(out.detach().numpy()))
        x = ember.tensor(HUGE.astype(dtype), requires_grad=True)
        e_fn(x).sum().backward()
        assert np.all(np.isfinite(x.grad.numpy()))


def test_stable_sigmoid_saturates_exactly():
    y = ember.sigmoid(ember.tensor([-1000.0, 1000.0]))
    assert y.tolist() == [0.0, 1.0]


# ---- gradcheck of every Function in activation.py -------------------------------------------------------

GRADCHECK = {
    "ReLU": lambda a: ember.relu(a),
    "LeakyReLU": lambda a: ember.ops.leaky_relu(a, 0.1),
    "ELU": lambda a: ember.ops.elu(a, 0.7),
    "Sigmoid": lambda a: ember.sigmoid(a),
    "Tanh": lambda a: ember.tanh(a),
    "Softmax": lambda a: ember.softmax(a, 0),
    "LogSoftmax": lambda a: ember.log_softmax(a, -1),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    # standard normal inputs: no element within eps of a kink
    assert gradcheck(GRADCHECK[name], (3, 4))


def test_every_activation_function_is_gradchecked():
    assert function_classes(activation) == set(GRADCHECK)
