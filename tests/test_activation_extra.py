"""The activations of ember.ops.activation_extra and ember.erf/erfc against torch: values and gradients on
random inputs, at every breakpoint (where each side's gradient is PyTorch's choice) and at |x| = 1000;
the layers (PReLU's learnt slopes included) with copied weights and torch's reprs; erf to 1e-12 on a
wide float64 grid; gradcheck of every Function; errors."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops import activation_extra, special
from helpers import check_module, check_op, function_classes, gradcheck

DTYPES = ["float64", "float32"]

FUNCTIONS = {
    "gelu": (F.gelu, TF.gelu),
    "gelu tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "softplus": (F.softplus, TF.softplus),
    "softplus beta 2 threshold 5": (lambda x: F.softplus(x, 2, 5), lambda x: TF.softplus(x, 2, 5)),
    "softplus beta 0.5": (lambda x: F.softplus(x, beta=0.5), lambda x: TF.softplus(x, beta=0.5)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh -2 0.5": (lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: TF.hardtanh(x, -2.0, 0.5)),
    "relu6": (F.relu6, TF.relu6),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0)),
    "celu": (F.celu, TF.celu),
    "celu 0.5": (lambda x: F.celu(x, alpha=0.5), lambda x: TF.celu(x, alpha=0.5)),
    "selu": (F.selu, TF.selu),
    "softmin dim 1": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)) ,
    "softmin dim -1": (lambda x: F.softmin(x, dim=-1), lambda x: TF.softmin(x, dim=-1)),
    "erf": (ember.erf, torch.erf),
    "erfc": (ember.erfc, torch.erfc),
}

# Every breakpoint of the functions above, exactly, and both sides of it.
BREAKPOINTS = np.array([-6.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 6.0, 10.0, 20.0, 25.0,
                        -3.0001, 2.9999, 6.0001, 0.4999, 0.5001, 1e-8, -1e-8, -0.0, -10.0, -7.5])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_matches_torch(name, dtype):
    e_fn, t_fn = FUNCTIONS[name]
    for shape in [(), (7,), (3, 4), (2, 3, 4)]:
        if name.startswith("softmin") and len(shape) < 2:
            continue
        (out,) = check_op(e_fn, t_fn, shapes=[shape], dtype=dtype, low=-4, high=4)
        assert out.dtype == np.dtype(dtype)
    check_op(e_fn, t_fn, shapes=[(3, 4)], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in FUNCTIONS if not n.startswith("softmin")])
def test_breakpoints_and_large_inputs(name, dtype):
    e_fn, t_fn = FUNCTIONS[name]
    check_op(e_fn, t_fn, arrays=[BREAKPOINTS.astype(dtype)], dtype=dtype)
    huge = np.array([-1000.0, -100.0, -30.0, 30.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value on the way
        (out,) = check_op(e_fn, t_fn, arrays=[huge], dtype=dtype)
    assert np.all(np.isfinite(out.detach().numpy()))


def test_erf_is_accurate_to_1e_12_against_torch():
    x = np.concatenate([np.linspace(-30, 30, 120001), np.random.default_rng(0).standard_normal(20000) * 3,
                        [0.0, -0.0, 0.5, -0.5, 4.0, -4.0, 1e-300, 5e-324, np.inf, -np.inf]])
    for e_fn, t_fn in ((ember.erf, torch.erf), (ember.erfc, torch.erfc)):
        got, expected = e_fn(ember.tensor(x)).numpy(), t_fn(torch.tensor(x)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    assert np.isnan(ember.erf(ember.tensor([np.nan])).numpy()).all()
    x32 = np.linspace(-6, 6, 2001, dtype=np.float32)
    got = ember.erf(ember.tensor(x32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), torch.erf(torch.tensor(x32)).numpy(), rtol=1e-6, atol=1e-7)


def test_exact_gelu_keeps_its_negative_tail():
    # Φ(x) comes from erfc, so gelu(-8) = -8 Φ(-8) ≈ -4.98e-15 keeps full relative precision; 1 + erf loses it
    # (torch's own gelu gives -4.88e-15 there, and 0 at -12 — within the float64 atol of the parity tests).
    x = np.array([-8.0, -12.0, -20.0])
    expected = x * np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])  # the standard library's erfc
    np.testing.assert_allclose(F.gelu(ember.tensor(x)).numpy(), expected, rtol=1e-13)
    assert np.all(F.gelu(ember.tensor(x)).numpy() < 0)


# ---- layers -------------------------------------------------------------------------------------------

LAYERS = [
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Softplus", (), {}), ("Softplus", (2, 10), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-0.5, 2.0), {}), ("Hardtanh", (-2, 3), {}),
    ("ReLU6", (), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("LogSigmoid", (), {}), ("Softmin", (1,), {}), ("Threshold", (0.1, 20.0), {}), ("CELU", (), {}),
    ("CELU", (0.7,), {}), ("SELU", (), {}),
    ("PReLU", (), {}), ("PReLU", (3,), {}), ("PReLU", (3, 0.1), {}), ("PReLU", (), {"num_parameters": 1, "init": -0.3}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
def test_layers_match_torch(layer, dtype):
    name, args, kwargs = layer
    e_layer, t_layer = getattr(enn, name)(*args, **kwargs), getattr(tnn, name)(*args, **kwargs)
    assert repr(e_layer) == repr(t_layer)
    check_module(e_layer, t_layer, [(2, 3, 4, 5)], dtype=dtype)
    check_module(e_layer, t_layer, [(4, 3)], dtype=dtype)


def test_inplace_flags_are_accepted_and_shown_like_torch():
    for name in ("SiLU", "Mish", "Hardswish", "Hardsigmoid", "ReLU6", "SELU", "CELU", "Hardtanh"):  # some hide it
        assert repr(getattr(enn, name)(inplace=True)) == repr(getattr(tnn, name)(inplace=True))
    x = ember.tensor([-1.0, 2.0])
    np.testing.assert_allclose(F.silu(x, inplace=True).numpy(), TF.silu(torch.tensor([-1.0, 2.0])).numpy(), rtol=1e-6)


def test_prelu_learns_its_slopes_like_torch():
    # Default init 0.25, one slope per channel of dim 1; weight gradient summed over batch and space.
    e_layer, t_layer = enn.PReLU(4), tnn.PReLU(4)
    np.testing.assert_array_equal(e_layer.weight.detach().numpy(), t_layer.weight.detach().numpy())
    t_layer.weight.data = torch.tensor([0.1, -0.2, 0.3, 0.5])
    check_module(e_layer, t_layer, [(3, 4, 5)], dtype="float32")
    check_module(enn.PReLU(), tnn.PReLU(), [(6,)], dtype="float64")  # a 1-D input with one shared slope
    check_op(F.prelu, TF.prelu, shapes=[(2, 3, 4), (3,)])
    check_op(F.prelu, TF.prelu, shapes=[(2, 3, 4), (1,)], dtype="float32")


def test_gelu_tanh_is_the_bert_formula():
    x = np.linspace(-5, 5, 101)
    expected = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(enn.GELU("tanh")(ember.tensor(x)).numpy(), expected, rtol=1e-14)


# ---- gradcheck of every Function ----------------------------------------------------------------------

GRADCHECK = {
    "GELU": [lambda x: F.gelu(x), lambda x: F.gelu(x, approximate="tanh")],
    "SiLU": [F.silu],
    "Mish": [F.mish],
    "Softplus": [F.softplus, lambda x: F.softplus(x, beta=3.0, threshold=2.0)],
    "LogSigmoid": [F.logsigmoid],
    "Hardtanh": [lambda x: F.hardtanh(x, -0.7, 0.9), F.relu6],
    "Hardsigmoid": [F.hardsigmoid],
    "Hardswish": [F.hardswish],
    "Softsign": [F.softsign],
    "Tanhshrink": [F.tanhshrink],
    "Threshold": [lambda x: F.threshold(x, 0.3, -1.0)],
    "ScaledELU": [F.selu, lambda x: F.celu(x, 0.6)],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn in GRADCHECK[name]:
        # Wide inputs reach every branch; no value lands within eps of a breakpoint with this seed.
        assert gradcheck(fn, (4, 5), low=-7, high=7)


def test_gradcheck_prelu_erf_erfc():
    assert gradcheck(F.prelu, (2, 3, 4), (3,))
    assert gradcheck(F.prelu, (2, 3), (1,))
    assert gradcheck(ember.erf, (3, 4), low=-3, high=3)
    assert gradcheck(ember.erfc, (3, 4), low=-3, high=3)


def test_every_function_is_gradchecked():
    assert function_classes(activation_extra) == set(GRADCHECK) | {"PReLU"}
    assert function_classes(special) == {"Erf", "Erfc"}


def test_errors():
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size. Found parameter "
                                           "numbers = 3 and channel size = 4"):
        F.prelu(ember.ones(2, 4), ember.ones(3))
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(ember.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        enn.Hardtanh(1.0, -1.0)
