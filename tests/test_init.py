"""ember.nn.init against torch.nn.init: the same gains and fans, and the same distributions.

Random draws cannot match torch number for number (different generators), so each initialiser is
checked against the distribution its formula defines: support (every value inside the bounds, and the
extremes close to them), mean and standard deviation, within tolerances derived from the sample size
(Z_TOL standard errors), not guessed. The same check is run on torch's initialiser, which ties the
expected formula to PyTorch's behaviour.
"""

import ast
import math
import pathlib
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from ember.nn import init

Z_TOL = 5.0  # standard errors: a correct sampler fails a check with probability below 1e-6


# ---- gains and fans -------------------------------------------------------------------------------------

NONLINEARITIES = [
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity):
    gain = init.calculate_gain(nonlinearity)
    assert gain == torch.nn.init.calculate_gain(nonlinearity)
    assert type(gain) is type(torch.nn.init.calculate_gain(nonlinearity))


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3.5])
def test_calculate_gain_leaky_relu_slope(param):
    assert init.calculate_gain("leaky_relu", param) == torch.nn.init.calculate_gain("leaky_relu", param)
    if param is None:  # the default slope is 0.01, not 0
        assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2)) != math.sqrt(2.0)


def test_calculate_gain_errors():
    for bad in (True, "0.2", [0.2]):
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain("leaky_relu", bad)
        with pytest.raises(ValueError, match="negative_slope"):
            init.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="gelu") as err:
        init.calculate_gain("gelu")
    for known in NONLINEARITIES:  # the message lists what is supported
        assert known in str(err.value)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (64, 32, 3, 3), (8, 4, 5), (4, 2, 3, 5, 7), (6, 2, 1, 1), (2, 0)])
def test_fan_in_and_fan_out_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(ember.zeros(shape)) == expected
    assert init.calculate_fan_in_and_fan_out(ember.zeros(shape)) == expected


@pytest.mark.parametrize("shape", [(5,), ()])
def test_fan_needs_two_dims(shape):
    with pytest.raises(ValueError):
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.zeros(shape))
    with pytest.raises(ValueError):
        init.xavier_uniform_(ember.zeros(shape))
    with pytest.raises(ValueError):
        init.kaiming_normal_(ember.zeros(shape))


def test_bad_mode_and_nonlinearity_raise():
    w = ember.zeros(4, 4)
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.raises(ValueError):
            getattr(torch.nn.init, fn.__name__)(torch.empty(4, 4), mode="fan_avg")
        with pytest.raises(ValueError, match="fan_avg"):
            fn(w, mode="fan_avg")
        with pytest.raises(ValueError, match="Unsupported nonlinearity"):
            fn(w, nonlinearity="swish")
    init.kaiming_uniform_(w, mode="FAN_OUT")  # like torch, the mode is case-insensitive


# ---- the statistical check ------------------------------------------------------------------------------


def uniform_dist(lo, hi):
    density = 1 / (hi - lo)
    return dict(mean=(lo + hi) / 2, std=(hi - lo) / math.sqrt(12), kurtosis=1.8, support=(lo, hi),
                end_density=(density, density))


def normal_dist(mean, std):
    return dict(mean=mean, std=std, kurtosis=3.0, support=None)


def trunc_normal_dist(mean, std, a, b):
    """Moments of N(mean, std^2) restricted to [a, b], by quadrature of the density (error ~1e-10)."""
    x = np.linspace(a, b, 400_001)
    pdf = np.exp(-0.5 * ((x - mean) / std) ** 2)
    pdf /= np.trapezoid(pdf, x)
    m = np.trapezoid(x * pdf, x)
    var = np.trapezoid((x - m) ** 2 * pdf, x)
    m4 = np.trapezoid((x - m) ** 4 * pdf, x)
    return dict(mean=m, std=math.sqrt(var), kurtosis=m4 / var**2, support=(a, b), end_density=(pdf[0], pdf[-1]))


def assert_distribution(values, dist, what):
    """Check a sample against a distribution, with tolerances from the sample size.

    Standard error of the mean: std / sqrt(n). Of the sample standard deviation: std * sqrt((k - 1) / 4n),
    k the kurtosis (3 for a normal, 9/5 for a uniform), the delta method applied to Var(s^2) = (mu4 - s^4) / n.
    For a support [lo, hi] where the density at an end is f, no draw lands within d of that end with
    probability (1 - f d)^n ~ e^(-n f d): with d = 20 / (n f) a correct sampler misses it with probability e^-20.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    se_mean = dist["std"] / math.sqrt(n)
    se_std = dist["std"] * math.sqrt((dist["kurtosis"] - 1) / (4 * n))
    assert abs(x.mean() - dist["mean"]) < Z_TOL * se_mean, f"{what}: mean {x.mean()} vs {dist['mean']} (se {se_mean})"
    assert abs(x.std() - dist["std"]) < Z_TOL * se_std, f"{what}: std {x.std()} vs {dist['std']} (se {se_std})"
    if dist["support"] is not None:
        lo, hi = dist["support"]
        f_lo, f_hi = dist["end_density"]
        assert x.min() >= lo and x.max() <= hi, f"{what}: values outside [{lo}, {hi}]: {x.min()}, {x.max()}"
        assert x.min() < lo + 20 / (n * f_lo) and x.max() > hi - 20 / (n * f_hi), (
            f"{what}: extremes {x.min()}, {x.max()} far from the bounds"
        )


SQUARE, CONV = (256, 256), (64, 32, 3, 3)  # fan_in/fan_out: 256/256 and 288/576


def _xavier_bound(shape, gain=1.0):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


# (id, function name, shape, kwargs, expected distribution written from the formula)
CASES = [
    ("uniform", "uniform_", SQUARE, dict(a=-0.5, b=2.0), uniform_dist(-0.5, 2.0)),
    ("uniform-default", "uniform_", SQUARE, {}, uniform_dist(0.0, 1.0)),
    ("normal", "normal_", SQUARE, dict(mean=1.5, std=0.3), normal_dist(1.5, 0.3)),
    ("normal-default", "normal_", CONV, {}, normal_dist(0.0, 1.0)),
    ("xavier-uniform", "xavier_uniform_", SQUARE, {}, uniform_dist(-_xavier_bound(SQUARE), _xavier_bound(SQUARE))),
    ("xavier-uniform-tanh-conv", "xavier_uniform_", CONV, dict(gain=5 / 3),
     uniform_dist(-_xavier_bound(CONV, 5 / 3), _xavier_bound(CONV, 5 / 3))),
    ("xavier-normal-conv", "xavier_normal_", CONV, {}, normal_dist(0.0, math.sqrt(2.0 / (288 + 576)))),
    ("xavier-normal-gain", "xavier_normal_", SQUARE, dict(gain=2.0), normal_dist(0.0, 2.0 * math.sqrt(2.0 / 512))),
    # He: bound = gain * sqrt(3 / fan); the default (a=0, leaky_relu) is ReLU's gain sqrt(2).
    ("kaiming-uniform", "kaiming_uniform_", SQUARE, {}, uniform_dist(-math.sqrt(6 / 256), math.sqrt(6 / 256))),
    # Linear/Conv2d's default, a=sqrt(5): gain^2 = 2 / (1 + 5), so bound = 1 / sqrt(fan_in).
    ("kaiming-uniform-linear-default", "kaiming_uniform_", CONV, dict(a=math.sqrt(5)),
     uniform_dist(-1 / math.sqrt(288), 1 / math.sqrt(288))),
    ("kaiming-uniform-fan-out", "kaiming_uniform_", CONV, dict(mode="fan_out", nonlinearity="relu"),
     uniform_dist(-math.sqrt(6 / 576), math.sqrt(6 / 576))),
    ("kaiming-normal", "kaiming_normal_", CONV, {}, normal_dist(0.0, math.sqrt(2 / 288))),
    ("kaiming-normal-fan-out", "kaiming_normal_", CONV, dict(mode="fan_out", nonlinearity="relu"),
     normal_dist(0.0, math.sqrt(2 / 576))),
    ("kaiming-normal-leaky", "kaiming_normal_", SQUARE, dict(a=0.2), normal_dist(0.0, math.sqrt(2 / 1.04 / 256))),
    ("kaiming-normal-tanh", "kaiming_normal_", SQUARE, dict(nonlinearity="tanh"), normal_dist(0.0, 5 / 3 / 16)),
    ("trunc-normal-default", "trunc_normal_", SQUARE, {}, trunc_normal_dist(0.0, 1.0, -2.0, 2.0)),
    ("trunc-normal-shifted", "trunc_normal_", SQUARE, dict(mean=1.0, std=2.0, a=0.0, b=3.0),
     trunc_normal_dist(1.0, 2.0, 0.0, 3.0)),
    # [2, 3] holds 2% of the mass: the uniform-proposal rejection branch.
    ("trunc-normal-tail", "trunc_normal_", SQUARE, dict(a=2.0, b=3.0), trunc_normal_dist(0.0, 1.0, 2.0, 3.0)),
]


@pytest.mark.parametrize("name, shape, kwargs, dist", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_initialiser_distribution(name, shape, kwargs, dist):
    ember.manual_seed(0)
    w = ember.zeros(shape, dtype=ember.float64)
    assert getattr(init, name)(w, **kwargs) is w
    assert_distribution(w.array, dist, f"ember {name}{kwargs}")
    # The same formula describes torch's initialiser: the expected distribution is PyTorch's.
    t = torch.empty(shape, dtype=torch.float64)
    getattr(torch.nn.init, name)(t, generator=torch.Generator().manual_seed(0), **kwargs)
    assert_distribution(t.numpy(), dist, f"torch {name}{kwargs}")


def test_distribution_check_can_fail():
    """The tolerance is tight enough to catch a wrong fan or a wrong gain."""
    ember.manual_seed(0)
    w = init.kaiming_normal_(ember.zeros(CONV, dtype=ember.float64))  # fan_in 288
    with pytest.raises(AssertionError, match="std"):
        assert_distribution(w.array, normal_dist(0.0, math.sqrt(2 / 576)), "fan_out instead of fan_in")
    w = init.kaiming_uniform_(ember.zeros(SQUARE, dtype=ember.float64))
    bound = math.sqrt(6 / 256)
    with pytest.raises(AssertionError, match="extremes"):  # right moments, support 5% too wide
        assert_distribution(w.array, dict(uniform_dist(-bound, bound), support=(-1.05 * bound, 1.05 * bound)), "wide")
    with pytest.raises(AssertionError, match="outside"):
        assert_distribution(w.array, dict(uniform_dist(-bound, bound), support=(-0.99 * bound, 0.99 * bound)), "narrow")


# ---- in place, dtype, reproducibility -------------------------------------------------------------------

RANDOM_INITS = [
    ("uniform_", {}), ("normal_", {}), ("trunc_normal_", {}), ("trunc_normal_", dict(a=2.0, b=3.0)),
    ("xavier_uniform_", {}), ("xavier_normal_", {}), ("kaiming_uniform_", {}), ("kaiming_normal_", {}),
    ("orthogonal_", {}), ("sparse_", dict(sparsity=0.5)),
]
IDS = [f"{n}{k}" for n, k in RANDOM_INITS]


@pytest.mark.parametrize("name, kwargs", RANDOM_INITS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_place_dtype_and_parameter_kept(name, kwargs, dtype):
    p = enn.Parameter(ember.zeros(16, 8, dtype=dtype))
    array = p.array
    out = getattr(init, name)(p, **kwargs)  # grad mode is on: the fill must not trip the in-place check
    assert out is p and p.array is array and p.dtype == np.dtype(dtype)
    assert isinstance(p, enn.Parameter) and p.requires_grad and p.is_leaf and p.grad is None
    assert np.count_nonzero(p.array) > 0
    assert ember.is_grad_enabled()


@pytest.mark.parametrize("name, kwargs", RANDOM_INITS, ids=IDS)
def test_reproducible_with_manual_seed(name, kwargs):
    fn = getattr(init, name)
    ember.manual_seed(42)
    first = fn(ember.zeros(16, 8, dtype=ember.float64), **kwargs).array.copy()
    ember.manual_seed(42)
    again = fn(ember.zeros(16, 8, dtype=ember.float64), **kwargs).array
    np.testing.assert_array_equal(first, again)
    ember.manual_seed(42)  # float32 draws the same numbers, rounded
    single = fn(ember.zeros(16, 8, dtype=ember.float32), **kwargs).array
    np.testing.assert_allclose(single, first, rtol=1e-6, atol=1e-7)
    ember.manual_seed(43)
    assert not np.array_equal(fn(ember.zeros(16, 8, dtype=ember.float64), **kwargs).array, first)
    # An explicit generator is used instead of the global one.
    a = fn(ember.zeros(16, 8), generator=np.random.default_rng(7), **kwargs).array
    b = fn(ember.zeros(16, 8), generator=np.random.default_rng(7), **kwargs).array
    np.testing.assert_array_equal(a, b)


def test_random_init_rejects_integer_tensors():
    with pytest.raises(TypeError, match="floating"):
        init.normal_(ember.zeros(3, 3, dtype=ember.int64))
    init.constant_(ember.zeros(3, dtype=ember.int64), 4)  # deterministic fills work on integers, as in torch


# ---- trunc_normal_ and orthogonal_ ----------------------------------------------------------------------


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (0.0, 1.0, 2.0, 3.0),
                                             (0.0, 1.0, -0.1, 0.1), (5.0, 1.0, 0.0, 4.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trunc_normal_respects_bounds(mean, std, a, b, dtype):
    ember.manual_seed(1)
    w = init.trunc_normal_(ember.zeros(128, 128, dtype=dtype), mean=mean, std=std, a=a, b=b)
    assert w.dtype == np.dtype(dtype)
    lo, hi = np.asarray(a, dtype), np.asarray(b, dtype)
    assert w.array.min() >= lo and w.array.max() <= hi
    assert_distribution(w.array, trunc_normal_dist(mean, std, a, b), f"trunc_normal_({mean}, {std}, {a}, {b})")


def test_trunc_normal_warns_like_torch_when_mean_is_far():
    with pytest.warns(UserWarning, match="more than 2 std"):
        torch.nn.init.trunc_normal_(torch.empty(10), mean=10.0, std=1.0, a=-1.0, b=1.0)
    with pytest.warns(UserWarning, match="more than 2 std"):
        w = init.trunc_normal_(ember.zeros(10), mean=10.0, std=1.0, a=-1.0, b=1.0)
    assert w.array.min() >= -1 and w.array.max() <= 1


@pytest.mark.parametrize("shape", [(64, 256), (256, 64), (64, 64), (64, 32, 3, 3), (10, 1)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal(shape, gain, dtype):
    ember.manual_seed(3)
    w = init.orthogonal_(ember.zeros(shape, dtype=dtype), gain=gain)
    assert w.shape == shape and w.dtype == np.dtype(dtype)
    flat = w.array.reshape(shape[0], -1).astype(np.float64)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat  # orthonormal rows, or columns when tall
    atol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=atol * gain**2)
    # torch's obeys the same identity (so the gain is applied as torch applies it: to W, not W W^T).
    t = torch.nn.init.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=gain).reshape(rows, -1)
    t_gram = (t @ t.T if rows <= cols else t.T @ t).numpy()
    np.testing.assert_allclose(t_gram, gram, atol=atol * gain**2)


def test_orthogonal_is_not_always_the_same_matrix():
    """Haar-distributed: the sign fix must not collapse Q to one matrix, and entries average to zero."""
    ember.manual_seed(4)
    samples = np.stack([init.orthogonal_(ember.zeros(4, 4, dtype=ember.float64)).array for _ in range(2000)])
    # Each entry of a Haar-random 4x4 orthogonal matrix has mean 0 and variance 1/4.
    assert_distribution(samples[:, 0, 0], dict(mean=0.0, std=0.5, kurtosis=3 * 4 / 6, support=None), "Q[0, 0]")
    assert_distribution(samples[:, 3, 1], dict(mean=0.0, std=0.5, kurtosis=3 * 4 / 6, support=None), "Q[3, 1]")


def test_orthogonal_needs_two_dims():
    with pytest.raises(ValueError):
        torch.nn.init.orthogonal_(torch.empty(5))
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ember.zeros(5))


# ---- deterministic fills --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_constant_ones_zeros(dtype):
    w = ember.full((3, 4), 9, dtype=dtype)
    array = w.array
    assert init.constant_(w, 0.5 if dtype != "int64" else 5) is w
    assert w.array is array and w.dtype == np.dtype(dtype)
    assert np.all(w.array == (0.5 if dtype != "int64" else 5))
    assert np.all(init.ones_(w).array == 1) and np.all(init.zeros_(w).array == 0) and w.array is array


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye_matches_torch(shape):
    w = enn.Parameter(ember.full(shape, 7.0))
    array = w.array
    init.eye_(w)
    np.testing.assert_array_equal(w.array, torch.nn.init.eye_(torch.empty(shape)).numpy())
    assert w.array is array and w.dtype == ember.float32
    with pytest.raises(ValueError):
        init.eye_(ember.zeros(2, 2, 2))


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 3), 1), ((8, 3, 3, 3), 2), ((2, 5, 3, 4), 1),
                                           ((6, 2, 3, 3, 3), 3), ((4, 4, 2, 2), 4)])
def test_dirac_matches_torch(shape, groups):
    w = ember.full(shape, 7.0, dtype=ember.float64)
    array = w.array
    init.dirac_(w, groups=groups)
    expected = torch.nn.init.dirac_(torch.empty(shape, dtype=torch.float64), groups=groups).numpy()
    np.testing.assert_array_equal(w.array, expected)
    assert w.array is array


def test_dirac_errors():
    with pytest.raises(ValueError, match="3, 4, or 5"):
        init.dirac_(ember.zeros(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ember.zeros(5, 2, 3, 3), groups=2)


def test_sparse_zeroes_a_fraction_of_each_column():
    ember.manual_seed(5)
    w = init.sparse_(ember.zeros(200, 300, dtype=ember.float64), sparsity=0.3, std=0.5)
    zeros_per_column = (w.array == 0).sum(axis=0)
    assert np.all(zeros_per_column == math.ceil(0.3 * 200))
    assert_distribution(w.array[w.array != 0], normal_dist(0.0, 0.5), "sparse_ non-zeros")
    rows_zeroed = [frozenset(np.flatnonzero(w.array[:, j] == 0)) for j in range(5)]
    assert len(set(rows_zeroed)) == 5  # an independent choice of rows per column


def test_zero_element_tensor_is_a_no_op_with_warning():
    for fn in ("kaiming_uniform_", "kaiming_normal_"):
        with pytest.warns(UserWarning, match="zero-element"):
            getattr(torch.nn.init, fn)(torch.empty(0, 3))
        with pytest.warns(UserWarning, match="zero-element"):
            w = getattr(init, fn)(ember.zeros(0, 3))
        assert w.shape == (0, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert init.orthogonal_(ember.zeros(0, 3)).shape == (0, 3)


def test_init_reaches_numpy_only_through_the_backend():
    source = pathlib.Path(init.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= {"math", "warnings"}, imported
