"""Per-sample normalization and GELU against torch: LayerNorm / F.layer_norm, GroupNorm / F.group_norm,
InstanceNorm1d/2d/3d / F.instance_norm (with and without running statistics, batched and unbatched), the error
messages, reprs and state_dict keys; gelu (exact and tanh) and the float64 erf behind it. The gradchecks of the
new Functions sit with the others in tests/test_norm.py (LayerNorm, GroupNorm) and tests/test_activation.py (GELU).
"""

import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops.special import erf_array as erf
from helpers import assert_close, check_module, check_op, gradcheck, random_array

DTYPES = ["float64", "float32"]


def _randomize(t_layer, seed=0):
    """γ ≠ 1 and β ≠ 0, so the affine parameters are really checked."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in t_layer.parameters():
            p.uniform_(0.5, 1.5)
    return t_layer


# ---- LayerNorm ----------------------------------------------------------------------------------------

LAYERNORM = {
    "last dim": (dict(normalized_shape=6), (4, 6)),
    "sequence": (dict(normalized_shape=6), (3, 5, 6)),
    "last two dims": (dict(normalized_shape=(4, 5)), (2, 3, 4, 5)),
    "whole sample": (dict(normalized_shape=[3, 4, 5]), (2, 3, 4, 5)),
    "no affine": (dict(normalized_shape=6, elementwise_affine=False), (3, 5, 6)),
    "no bias": (dict(normalized_shape=6, bias=False), (3, 5, 6)),
    "eps": (dict(normalized_shape=6, eps=1e-2), (3, 5, 6)),
    "one sample": (dict(normalized_shape=6), (6,)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(LAYERNORM))
def test_layernorm_module(case, dtype):
    kwargs, shape = LAYERNORM[case]
    out = check_module(enn.LayerNorm(**kwargs), _randomize(tnn.LayerNorm(**kwargs)), [shape], dtype=dtype)
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_functional(dtype):
    check_op(lambda x, w, b: F.layer_norm(x, (4, 5), w, b, 1e-3), lambda x, w, b: TF.layer_norm(x, (4, 5), w, b, 1e-3),
             [(3, 4, 5), (4, 5), (4, 5)], dtype=dtype)
    check_op(lambda x: F.layer_norm(x, [5]), lambda x: TF.layer_norm(x, [5]), [(2, 3, 5)], dtype=dtype)
    check_op(lambda x, w: F.layer_norm(x, 5, weight=w), lambda x, w: TF.layer_norm(x, (5,), weight=w),
             [(2, 3, 5), (5,)], dtype=dtype)


def test_layernorm_large_offset_is_stable():
    # A huge common offset must not swamp the variance (two-pass statistics, not E[x²] - E[x]²).
    # The inputs themselves only carry ~1e-10 absolute precision at 1e6 (ulp), so both frameworks agree to ~1e-9;
    # the one-pass formula would be off by ~1e-4 here.
    x = random_array((4, 8), "float64") + 1e6
    check_op(lambda a: F.layer_norm(a, (8,)), lambda a: TF.layer_norm(a, (8,)), arrays=[x], rtol=1e-7, atol=1e-8)


def test_layernorm_same_in_train_and_eval():
    layer = enn.LayerNorm(6)
    x = ember.randn(3, 6)
    a = layer(x).detach().numpy()
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), a)


def test_layernorm_state_dict_repr_and_init():
    for kwargs in (dict(normalized_shape=4), dict(normalized_shape=(3, 4), bias=False),
                   dict(normalized_shape=4, elementwise_affine=False, eps=1e-6)):
        e, t = enn.LayerNorm(**kwargs), tnn.LayerNorm(**kwargs)
        assert list(e.state_dict()) == list(t.state_dict())
        assert repr(e) == repr(t)
        for k, v in t.state_dict().items():
            np.testing.assert_array_equal(e.state_dict()[k].numpy(), v.numpy())
    assert enn.LayerNorm(4).normalized_shape == (4,)
    assert enn.LayerNorm(4, dtype=ember.float64).weight.dtype == np.float64


@pytest.mark.parametrize("call", [
    lambda m, x, w: m.layer_norm(x, (4,)),
    lambda m, x, w: m.layer_norm(x, (2, 3)),
    lambda m, x, w: m.layer_norm(x, (3,), weight=w),
    lambda m, x, w: m.layer_norm(x, (3,), bias=w),
])
def test_layer_norm_errors_match_torch(call):
    x = np.zeros((2, 5, 3), dtype=np.float32)
    w = np.ones(4, dtype=np.float32)
    with pytest.raises(RuntimeError) as t_err:
        call(TF, torch.tensor(x), torch.tensor(w))
    with pytest.raises(RuntimeError) as e_err:
        call(F, ember.tensor(x), ember.tensor(w))
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)


# ---- GroupNorm --------------------------------------------------------------------------------------------

GROUPNORM = {
    "2 groups, images": ((2, 6), (3, 6, 4, 5)),
    "1 group (layer norm over C, H, W)": ((1, 6), (2, 6, 3, 3)),
    "C groups (instance norm)": ((6, 6), (2, 6, 3, 3)),
    "sequences": ((3, 6), (2, 6, 7)),
    "(N, C) features": ((2, 4), (5, 4)),
    "volumes": ((2, 4), (2, 4, 2, 3, 2)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(GROUPNORM))
def test_groupnorm_module(case, dtype):
    (groups, channels), shape = GROUPNORM[case]
    check_module(enn.GroupNorm(groups, channels), _randomize(tnn.GroupNorm(groups, channels)), [shape], dtype=dtype)


@pytest.mark.parametrize("kwargs", [dict(affine=False), dict(bias=False), dict(eps=1e-3)], ids=str)
def test_groupnorm_flags(kwargs):
    check_module(enn.GroupNorm(2, 4, **kwargs), _randomize(tnn.GroupNorm(2, 4, **kwargs)), [(3, 4, 5)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_group_norm_functional(dtype):
    check_op(lambda x, w, b: F.group_norm(x, 3, w, b, 1e-4), lambda x, w, b: TF.group_norm(x, 3, w, b, 1e-4),
             [(2, 6, 5), (6,), (6,)], dtype=dtype)
    check_op(lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2), [(2, 4, 3, 3)], dtype=dtype)


def test_groupnorm_state_dict_and_repr():
    for args, kwargs in (((2, 4), {}), ((1, 3), dict(affine=False)), ((2, 4), dict(bias=False, eps=1e-3))):
        e, t = enn.GroupNorm(*args, **kwargs), tnn.GroupNorm(*args, **kwargs)
        assert list(e.state_dict()) == list(t.state_dict())
        assert repr(e) == repr(t)


def test_groupnorm_errors_match_torch():
    with pytest.raises(ValueError) as t_err:
        tnn.GroupNorm(2, 5)
    with pytest.raises(ValueError) as e_err:
        enn.GroupNorm(2, 5)
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)
    x = np.zeros((2, 5, 3), dtype=np.float32)
    w = np.ones(4, dtype=np.float32)
    for call in (lambda m, a, w: m.group_norm(a, 2), lambda m, a, w: m.group_norm(a[0, 0], 1),
                 lambda m, a, w: m.group_norm(a, 5, weight=w)):
        with pytest.raises(RuntimeError) as t_err:
            call(TF, torch.tensor(x), torch.tensor(w))
        with pytest.raises(RuntimeError) as e_err:
            call(F, ember.tensor(x), ember.tensor(w))
        assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)
    # (torch prints "bias of shape [0]" for a wrong bias, a slip of its own; Ember names the real shape.)
    with pytest.raises(RuntimeError, match=r"bias of shape \[4\] and input of shape \[2, 5, 3\]"):
        F.group_norm(ember.tensor(x), 5, bias=ember.tensor(w))


# ---- InstanceNorm ----------------------------------------------------------------------------------------

INSTANCENORM = {
    "InstanceNorm1d": [(3, 4, 6), (4, 6)],  # batched and unbatched
    "InstanceNorm2d": [(2, 4, 3, 5), (4, 3, 5)],
    "InstanceNorm3d": [(2, 4, 2, 3, 2)],
}
IN_CASES = [(cls, shape) for cls, shapes in INSTANCENORM.items() for shape in shapes]
IN_FLAGS = {
    "default": {},
    "affine": dict(affine=True),
    "running stats": dict(track_running_stats=True),
    "affine, running stats, momentum 0.3": dict(affine=True, track_running_stats=True, momentum=0.3),
    "affine, no bias": dict(affine=True, bias=False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flags", list(IN_FLAGS))
@pytest.mark.parametrize("case", IN_CASES, ids=str)
def test_instancenorm_training(case, flags, dtype):
    cls, shape = case
    kwargs = IN_FLAGS[flags]
    e_layer, t_layer = getattr(enn, cls)(4, **kwargs), _randomize(getattr(tnn, cls)(4, **kwargs))
    check_module(e_layer, t_layer, [shape], dtype=dtype)  # compares the running statistics too


@pytest.mark.parametrize("case", IN_CASES, ids=str)
def test_instancenorm_running_stats_over_steps_then_eval(case):
    cls, shape = case
    kwargs = dict(affine=True, track_running_stats=True)
    e_layer, t_layer = getattr(enn, cls)(4, **kwargs), _randomize(getattr(tnn, cls)(4, **kwargs)).double()
    e_layer.load_state_dict({k: v.numpy() for k, v in t_layer.state_dict().items()})
    e_layer.double()
    rng = np.random.default_rng(1)
    for step in range(3):
        x = random_array(shape, "float64", rng) * (1 + step) + step
        assert_close(e_layer(ember.tensor(x)), t_layer(torch.tensor(x)), what=f"step {step}")
    for name, buf in t_layer.named_buffers():
        assert_close(dict(e_layer.named_buffers())[name], buf, what=name)
    e_layer.eval(), t_layer.eval()
    check_module(e_layer, t_layer, [shape])  # evaluation normalises with the running statistics


def test_instance_norm_functional():
    rm, rv = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    e_rm, e_rv, t_rm, t_rv = ember.tensor(rm), ember.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    check_op(lambda x, w, b: F.instance_norm(x, e_rm, e_rv, w, b, momentum=0.2),
             lambda x, w, b: TF.instance_norm(x, t_rm, t_rv, w, b, momentum=0.2), [(2, 3, 5), (3,), (3,)])
    assert_close(e_rm, t_rm), assert_close(e_rv, t_rv)
    check_op(lambda x: F.instance_norm(x, e_rm, e_rv, use_input_stats=False),
             lambda x: TF.instance_norm(x, t_rm, t_rv, use_input_stats=False), [(2, 3, 2, 2)])
    check_op(lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [(2, 3, 4)], dtype="float32")


def test_instancenorm_errors_and_warning_match_torch():
    for cls, x in (("InstanceNorm1d", np.zeros((2, 3, 4, 5))), ("InstanceNorm2d", np.zeros((2, 3)))):
        with pytest.raises(ValueError) as t_err:
            getattr(tnn, cls)(3)(torch.tensor(x))
        with pytest.raises(ValueError) as e_err:
            getattr(enn, cls)(3)(ember.tensor(x))
        assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    with pytest.raises(ValueError) as t_err:
        tnn.InstanceNorm1d(4, affine=True)(torch.tensor(x))
    with pytest.raises(ValueError) as e_err:
        enn.InstanceNorm1d(4, affine=True)(ember.tensor(x))
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = enn.InstanceNorm1d(4)(ember.tensor(x))  # affine=False: num_features is unused, torch only warns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(out, tnn.InstanceNorm1d(4)(torch.tensor(x)))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(ember.zeros(2, 3, 1))


def test_instancenorm_state_dict_and_repr():
    for cls in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
        for kwargs in ({}, dict(affine=True, track_running_stats=True), dict(affine=True, bias=False)):
            e, t = getattr(enn, cls)(3, **kwargs), getattr(tnn, cls)(3, **kwargs)
            assert list(e.state_dict()) == list(t.state_dict())
            assert repr(e) == repr(t)


# ---- gelu and erf ---------------------------------------------------------------------------------------------


def test_erf_matches_torch_to_1e12():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-7, 7, 40001), rng.standard_normal(5000) * 3, [0.0, 2.5, -2.5, 30.0, -30.0]])
    np.testing.assert_allclose(erf(x), torch.erf(torch.tensor(x)).numpy(), rtol=0, atol=1e-12)
    special = erf(np.array([np.inf, -np.inf, np.nan]))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2])
    x32 = x.astype(np.float32)
    assert erf(x32).dtype == np.float32
    np.testing.assert_allclose(erf(x32), torch.erf(torch.tensor(x32)).numpy(), rtol=0, atol=2e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate, dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([random_array((200,), dtype, rng) * 3, np.array([0.0, -9.0, 9.0, 40.0, -40.0], dtype)])
    check_op(lambda a: F.gelu(a, approximate=approximate), lambda a: TF.gelu(a, approximate=approximate),
             arrays=[x.astype(dtype)], dtype=dtype)


def test_gelu_bad_approximate():
    with pytest.raises(RuntimeError) as t_err:
        TF.gelu(torch.zeros(2), approximate="fast")
    with pytest.raises(RuntimeError) as e_err:
        F.gelu(ember.zeros(2), approximate="fast")
    # torch's words, plus the value that was given
    assert str(t_err.value).rstrip(".") in str(e_err.value) and "'fast'" in str(e_err.value)
