"""Batch normalization against torch: BatchNorm1d on (N, C) and (N, C, L), BatchNorm2d, F.batch_norm; training
and evaluation, every flag (affine, bias, track_running_stats, momentum incl. None), the running statistics
after several steps (the unbiased running variance) and float32/float64; gradcheck of every Function in
norm.py, in training and in evaluation mode."""


import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
import torch.nn as tnn
from ember.ops import norm
from helpers import assert_close, check_module, check_op, copy_weights, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]

SHAPES = {"BatchNorm1d": [(8, 4), (4, 4, 5)], "BatchNorm2d": [(4, 4, 3, 5), (2, 4, 1, 1)]}

FLAGS = {
    "default": {},
    "affine=False": dict(affine=False),
    "bias=False": dict(bias=False),
    "no running stats": dict(track_running_stats=False),
    "momentum=None": dict(momentum=None),
    "momentum=0.3 eps=1e-3": dict(momentum=0.3, eps=1e-3),
    "affine=False, no running stats": dict(affine=False, track_running_stats=False),
    "bias=False, momentum=None": dict(bias=False, momentum=None),
}

CONFIGS = [(cls, shape) for cls, shapes in SHAPES.items() for shape in shapes]


def _twins(cls, kwargs, n=4, seed=0):
    """The same layer in both frameworks, with non-trivial affine parameters (γ ≠ 1, β ≠ 0)."""
    torch.manual_seed(seed)
    t_layer = getattr(tnn, cls)(n, **kwargs)
    with torch.no_grad():
        for p in t_layer.parameters():
            p.uniform_(0.5, 1.5)
    return getattr(enn, cls)(n, **kwargs), t_layer


def _batch(shape, dtype, step):
    # Shifted and scaled, differently each step, so that the running statistics move.
    rng = np.random.default_rng(100 + step)
    return (random_array(shape, dtype, rng) * (1.5 + step) + (step - 1)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("flags", list(FLAGS))
def test_batchnorm_one_training_step(flags, config, dtype):
    cls, shape = config
    e_layer, t_layer = _twins(cls, FLAGS[flags])
    out = check_module(e_layer, t_layer, [shape], dtype=dtype)  # also compares every buffer afterwards
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("flags", list(FLAGS))
def test_batchnorm_several_steps_then_eval(flags, config, dtype):
    """train, train, train, eval, train, eval: outputs, input and parameter gradients and buffers after each."""
    cls, shape = config
    e_layer, t_layer = _twins(cls, FLAGS[flags])
    t_layer.to(getattr(torch, dtype))
    copy_weights(t_layer, e_layer)
    e_layer.to(dtype)
    for step, mode in enumerate(["train", "train", "train", "eval", "train", "eval"]):
        e_layer.train(mode == "train")
        t_layer.train(mode == "train")
        e_layer.zero_grad()
        t_layer.zero_grad()
        x = _batch(shape, dtype, step)
        e_x, t_x = ember.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
        e_out, t_out = e_layer(e_x), t_layer(t_x)
        assert e_out.dtype == np.dtype(dtype)
        assert_close(e_out, t_out, dtype, f"step {step} ({mode}): output")
        u = random_array(shape, dtype, np.random.default_rng(step))
        e_out.backward(u)
        t_out.backward(torch.tensor(u))
        assert_close(e_x.grad, t_x.grad, dtype, f"step {step} ({mode}): input gradient")
        e_params = dict(e_layer.named_parameters())
        for name, p in t_layer.named_parameters():
            assert_close(e_params[name].grad, p.grad, dtype, f"step {step} ({mode}): gradient of {name}")
        e_buffers = dict(e_layer.named_buffers())
        assert sorted(e_buffers) == sorted(dict(t_layer.named_buffers()))
        for name, b in t_layer.named_buffers():
            assert e_buffers[name].dtype == np.dtype(str(b.dtype).replace("torch.", "")), name
            assert_close(e_buffers[name], b, dtype, f"step {step} ({mode}): buffer {name}")


def test_running_var_is_the_unbiased_variance():
    x = random_array((5, 3), rng=np.random.default_rng(1)) * 3 + 2
    layer = enn.BatchNorm1d(3, momentum=1.0).double()  # momentum 1: the running stats are the batch's own
    layer(ember.tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), x.var(axis=0, ddof=1), rtol=1e-12)
    assert int(layer.num_batches_tracked.numpy()) == 1


def test_cumulative_average_with_momentum_none():
    layer = enn.BatchNorm1d(2, momentum=None).double()
    batches = [random_array((6, 2), rng=np.random.default_rng(i)) * (i + 1) + i for i in range(4)]
    for b in batches:
        layer(ember.tensor(b))
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean([b.mean(axis=0) for b in batches], axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0),
                               rtol=1e-12)
    assert int(layer.num_batches_tracked.numpy()) == 4


def test_eval_does_not_touch_running_stats_and_uses_them():
    layer = enn.BatchNorm2d(3).double()
    layer.running_mean.array[...] = [1.0, -1.0, 0.5]
    layer.running_var.array[...] = [4.0, 0.25, 1.0]
    layer.eval()
    x = random_array((2, 3, 2, 2))
    out = layer(ember.tensor(x)).detach().numpy()
    expected = (x - np.array([1.0, -1.0, 0.5])[:, None, None]) / np.sqrt(np.array([4.0, 0.25, 1.0]) + 1e-5)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert layer.running_mean.numpy().tolist() == [1.0, -1.0, 0.5]
    assert int(layer.num_batches_tracked.numpy()) == 0


def test_running_stats_are_updated_in_place():
    # An optimizer or a checkpoint that holds the buffers' arrays sees the updates.
    layer = enn.BatchNorm1d(3)
    mean, var = layer.running_mean.array, layer.running_var.array
    layer(ember.randn(4, 3) + 1)
    assert layer.running_mean.array is mean and layer.running_var.array is var
    assert np.any(mean != 0) and np.any(var != 1)


def test_eval_with_one_sample_per_channel_is_allowed():
    e_layer, t_layer = _twins("BatchNorm1d", {})
    e_layer.eval()
    t_layer.eval()
    check_module(e_layer, t_layer, [(1, 4)])


# ---- F.batch_norm ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (3, 3, 4), (2, 3, 4, 2), (2, 3, 2, 2, 2)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_functional_batch_norm(affine, training, shape, dtype):
    rng = np.random.default_rng(7)
    stats = [rng.standard_normal(3).astype(dtype), rng.uniform(0.5, 2.0, 3).astype(dtype)]
    e_stats = [ember.tensor(s.copy()) for s in stats]
    t_stats = [torch.tensor(s.copy()) for s in stats]
    kw = dict(training=training, momentum=0.2, eps=1e-4)
    if affine:
        e_fn = lambda x, w, b: F.batch_norm(x, *e_stats, w, b, **kw)  # noqa: E731
        t_fn = lambda x, w, b: TF.batch_norm(x, *t_stats, w, b, **kw)  # noqa: E731
        shapes = [shape, (3,), (3,)]
    else:
        e_fn = lambda x: F.batch_norm(x, *e_stats, **kw)  # noqa: E731
        t_fn = lambda x: TF.batch_norm(x, *t_stats, **kw)  # noqa: E731
        shapes = [shape]
    (out,) = check_op(e_fn, t_fn, shapes=shapes, dtype=dtype)
    assert out.dtype == np.dtype(dtype)
    for e, t, name in zip(e_stats, t_stats, ("running_mean", "running_var")):
        assert_close(e, t, dtype, name)
        assert e.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_batch_norm_without_running_stats(dtype):
    check_op(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
             lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
             shapes=[(4, 3, 2, 2), (3,), (3,)], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_batch_norm_noncontiguous(dtype):
    rng = np.random.default_rng(8)
    for training in (True, False):
        e_stats = [ember.zeros(4, dtype=dtype), ember.ones(4, dtype=dtype)]
        t_stats = [torch.zeros(4, dtype=getattr(torch, dtype)), torch.ones(4, dtype=getattr(torch, dtype))]
        x = random_array((3, 5, 4), dtype, rng).transpose(0, 2, 1)  # (3, 4, 5), channels strided
        check_op(lambda t: F.batch_norm(t, *e_stats, training=training),
                 lambda t: TF.batch_norm(t, *t_stats, training=training), arrays=[x], dtype=dtype,
                 noncontiguous=True)  # the view itself, not a copy


def test_batchnorm_only_parameters_need_grad():
    # A frozen input (the first layer of a network): the parameter gradients must still be right.
    e_layer, t_layer = _twins("BatchNorm2d", {}, n=3)
    check_module(e_layer, t_layer, [(2, 3, 3, 3)], input_grad=False)


# ---- gradcheck of every Function in norm.py ------------------------------------------------------------


def _eval_bn(x, w, b):
    rm = ember.tensor(np.array([0.3, -0.2, 0.1]))
    rv = ember.tensor(np.array([0.5, 2.0, 1.5]))
    return F.batch_norm(x, rm, rv, w, b, training=False)


GRADCHECK = {
    "BatchNorm": [
        (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(4, 3), (3,), (3,)]),
        (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(2, 3, 2, 2), (3,), (3,)]),
        (lambda x: F.batch_norm(x, None, None, training=True), [(3, 3, 2)]),
        (_eval_bn, [(2, 3, 2), (3,), (3,)]),
        (lambda x: _eval_bn(x, None, None), [(2, 3, 2, 2)]),
    ],
    "LocalResponseNorm": [  # a strong α, so that the cross-channel term of the gradient is checked too
        (lambda x: F.local_response_norm(x, 3, alpha=0.9, beta=0.75, k=1.0), [(2, 5, 3)]),
        (lambda x: F.local_response_norm(x, 2, alpha=1.5, beta=0.6, k=2.0), [(1, 4, 2, 2)]),
        (lambda x: F.local_response_norm(x, 7, alpha=0.8, beta=1.2, k=0.5), [(1, 3, 2, 1, 2)]),
    ],
    "LayerNorm": [
        (lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
        (lambda x, w, b: F.layer_norm(x, (2, 3), w, b, eps=1e-3), [(2, 2, 3), (2, 3), (2, 3)]),
        (lambda x: F.layer_norm(x, (5,)), [(2, 5)]),
    ],
    "GroupNorm": [
        (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
        (lambda x, w, b: F.group_norm(x, 3, w, b, eps=1e-3), [(2, 3, 2, 2), (3,), (3,)]),  # one channel a group
        (lambda x: F.group_norm(x, 1), [(2, 2, 3)]),
        (lambda x, w: F.instance_norm(x, weight=w), [(2, 3, 4), (3,)]),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_gradcheck_training_with_running_stats():
    # The running statistics change on every call, but the training output does not depend on them.
    layer = enn.BatchNorm2d(2).double()
    assert gradcheck(layer, (3, 2, 2, 2))


def test_every_norm_function_is_gradchecked():
    assert function_classes(norm) == set(GRADCHECK)
