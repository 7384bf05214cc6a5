"""Bad input gets a clear exception that names the layer, what it expected and what it got: the shape errors
of Linear, Conv2d, the pools and BatchNorm; load_state_dict listing every problem; integer tensors that
cannot require grad; and the losses' target checks (dtype, range, shape)."""

import re

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as F
import torch.nn as tnn


def _raises(exc, fn, *fragments):
    """``fn()`` raises ``exc`` whose message contains every fragment (literally); returns the message."""
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message: {message}"
    return message


# ---- Linear -----------------------------------------------------------------------------------------------


def test_linear_wrong_number_of_features():
    layer = enn.Linear(in_features=400, out_features=120)
    _raises(ValueError, lambda: layer(ember.randn(8, 256)), "Linear(in_features=400", "256", "400")


def test_linear_wrong_features_inside_a_model_names_that_layer():
    net = enn.Sequential(enn.Conv2d(1, 4, 3), enn.Flatten(), enn.Linear(100, 10))
    # 4 channels × 6 × 6 = 144 features, not 100: the message points at the Linear and the flattened size.
    _raises(ValueError, lambda: net(ember.randn(2, 1, 8, 8)), "Linear(in_features=100", "144")


def test_linear_scalar_input():
    _raises(ValueError, lambda: enn.Linear(3, 2)(ember.tensor(1.0)), "Linear(in_features=3", "scalar")


# ---- Conv2d -----------------------------------------------------------------------------------------------


def test_conv2d_wrong_channel_count():
    layer = enn.Conv2d(3, 8, 3)
    message = _raises(ValueError, lambda: layer(ember.randn(2, 4, 8, 8)), "Conv2d(3, 8, kernel_size=(3, 3)", "4 channels")
    assert re.search(r"expected .*3 channels", message)


def test_grouped_conv2d_wrong_channel_count():
    layer = enn.Conv2d(4, 8, 3, groups=2)
    _raises(ValueError, lambda: layer(ember.randn(1, 6, 5, 5)), "Conv2d(4, 8", "4 channels", "6 channels")


def test_functional_conv2d_wrong_channel_count():
    _raises(ValueError, lambda: F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(4, 3, 3, 3)), "conv2d", "3 channels",
            "2 channels")


@pytest.mark.parametrize("kwargs, size", [(dict(kernel_size=5), 4), (dict(kernel_size=3, dilation=3), 6),
                                          (dict(kernel_size=(2, 7), padding=1), 4)])
def test_conv2d_kernel_larger_than_padded_input(kwargs, size):
    layer = enn.Conv2d(2, 3, **kwargs)
    message = _raises(ValueError, lambda: layer(ember.randn(1, 2, size, size)), str(layer), "kernel")
    assert re.search(r"spans \d+ pixels", message) and "padded input" in message
    with pytest.raises(RuntimeError):  # torch agrees it is an error
        tnn.Conv2d(2, 3, **kwargs)(torch.randn(1, 2, size, size))


def test_conv2d_wrong_number_of_dims():
    _raises(ValueError, lambda: enn.Conv2d(3, 4, 3)(ember.randn(3, 8)), "Conv2d(3, 4", "4-D", "(3, 8)")
    _raises(ValueError, lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3)), "weight", "4-D")


# ---- pooling ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, shape", [
    (lambda: enn.MaxPool2d(3), (2, 3, 2, 2)),
    (lambda: enn.MaxPool2d(2, dilation=3), (1, 1, 3, 5)),
    (lambda: enn.AvgPool2d(3, stride=1), (2, 3, 2, 5)),
    (lambda: enn.AvgPool2d((1, 4)), (1, 1, 4, 3)),
])
def test_pool_output_smaller_than_one(make, shape):
    layer = make()
    message = _raises(ValueError, lambda: layer(ember.randn(*shape)), type(layer).__name__ + "(kernel_size=")
    assert "kernel spans" in message and "padded input has only" in message


def test_functional_pool_output_smaller_than_one():
    _raises(ValueError, lambda: F.max_pool2d(ember.randn(1, 1, 2, 2), 3), "max_pool2d", "kernel")
    _raises(ValueError, lambda: F.avg_pool2d(ember.randn(1, 1, 2, 2), 3), "avg_pool2d", "kernel")


@pytest.mark.parametrize("kernel, padding, dilation", [(2, 2, 1), (3, 2, 1), (3, 2, 2), (2, 2, 3)])
def test_pool_padding_larger_than_half_the_kernel(kernel, padding, dilation):
    # torch's rule is padding <= kernel_size / 2, whatever the dilation.
    with pytest.raises(RuntimeError, match="half"):
        torch.nn.functional.max_pool2d(torch.randn(1, 1, 9, 9), kernel, padding=padding, dilation=dilation)
    _raises(ValueError, lambda: F.max_pool2d(ember.randn(1, 1, 9, 9), kernel, padding=padding, dilation=dilation),
            f"padding {padding}", "half", f"kernel size {kernel}")
    if dilation == 1:
        _raises(ValueError, lambda: F.avg_pool2d(ember.randn(1, 1, 9, 9), kernel, padding=padding), "half")


@pytest.mark.parametrize("layer", [enn.MaxPool2d(2), enn.AvgPool2d(2), enn.AdaptiveAvgPool2d(2)], ids=str)
def test_pool_wrong_number_of_dims(layer):
    _raises(ValueError, lambda: layer(ember.randn(4, 4)), type(layer).__name__, "4-D", "(4, 4)")


# ---- batch norm -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, dict(affine=False), dict(track_running_stats=False),
                                    dict(affine=False, track_running_stats=False)], ids=str)
def test_batchnorm_wrong_channel_count(kwargs):
    layer = enn.BatchNorm2d(4, **kwargs)
    _raises(ValueError, lambda: layer(ember.randn(2, 3, 2, 2)), "BatchNorm2d(4", "4 channels", "3 channels")
    layer.eval()
    _raises(ValueError, lambda: layer(ember.randn(2, 3, 2, 2)), "BatchNorm2d(4", "3 channels")
    _raises(ValueError, lambda: enn.BatchNorm1d(4, **kwargs)(ember.randn(5, 3)), "BatchNorm1d(4", "3 channels")


def test_batchnorm_wrong_channel_count_does_not_touch_the_state():
    layer = enn.BatchNorm1d(4)
    with pytest.raises(ValueError):
        layer(ember.randn(5, 3))
    assert int(layer.num_batches_tracked.numpy()) == 0


@pytest.mark.parametrize("cls, shape", [("BatchNorm2d", (2, 4, 3)), ("BatchNorm2d", (2, 4)), ("BatchNorm1d", (2, 4, 2, 2)),
                                        ("BatchNorm1d", (4,))])
def test_batchnorm_wrong_number_of_dims(cls, shape):
    layer = getattr(enn, cls)(4)
    _raises(ValueError, lambda: layer(ember.randn(*shape)), f"{cls}(4", "-D", str(tuple(shape)))
    with pytest.raises(ValueError):  # torch agrees
        getattr(tnn, cls)(4)(torch.randn(*shape))


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (1, 4)), ("BatchNorm2d", (1, 4, 1, 1)), ("BatchNorm1d", (1, 4, 1))])
def test_batchnorm_training_with_one_value_per_channel(cls, shape):
    layer = getattr(enn, cls)(4)
    _raises(ValueError, lambda: layer(ember.randn(*shape)), f"{cls}(4", "more than 1 value per channel",
            str(tuple(shape)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        getattr(tnn, cls)(4)(torch.randn(*shape))
    layer.eval()
    assert layer(ember.randn(*shape)).shape == shape  # evaluation uses the running statistics: fine


def test_functional_batch_norm_errors():
    rm, rv = ember.zeros(3), ember.ones(3)
    _raises(ValueError, lambda: F.batch_norm(ember.randn(2, 4), rm, rv), "batch_norm", "3 channels", "4 channels")
    _raises(ValueError, lambda: F.batch_norm(ember.randn(4), rm, rv), "batch_norm", "2 dims")
    _raises(ValueError, lambda: F.batch_norm(ember.randn(1, 3), None, None, training=True), "more than 1 value")
    _raises(ValueError, lambda: F.batch_norm(ember.randn(2, 3), None, None, training=False), "running_mean")


# ---- load_state_dict --------------------------------------------------------------------------------------


def _small(nn):
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))


def test_load_state_dict_lists_every_problem_like_torch():
    t_net, e_net = _small(tnn), _small(enn)
    state = {k: v.numpy().copy() for k, v in t_net.state_dict().items()}
    del state["1.running_var"], state["3.bias"]
    state["extra.weight"] = np.zeros(1, np.float32)
    state["1.foo"] = np.zeros(1, np.float32)
    state["0.weight"] = np.zeros((2, 1, 2, 2), np.float32)
    state["3.weight"] = np.zeros((3, 9), np.float32)
    before = {k: v.numpy().copy() for k, v in e_net.state_dict().items()}
    message = _raises(RuntimeError, lambda: e_net.load_state_dict(state),
                      "Error(s) in loading state_dict for Sequential", "Missing key(s)", '"1.running_var"', '"3.bias"',
                      "Unexpected key(s)", '"extra.weight"', '"1.foo"', "size mismatch for 0.weight", "(2, 1, 2, 2)",
                      "(2, 1, 3, 3)", "size mismatch for 3.weight", "(3, 9)", "(3, 8)")
    with pytest.raises(RuntimeError) as info:
        t_net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    # The same lines as torch's (torch prints shapes as torch.Size([...])).
    t_message = re.sub(r"torch\.Size\(\[([^\]]*)\]\)", r"(\1)", str(info.value))
    assert message == t_message
    for key, value in e_net.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_load_state_dict_non_strict_reports_keys_but_not_shapes():
    e_net = _small(enn)
    state = {k: v.numpy() for k, v in _small(tnn).state_dict().items()}
    state["bogus"] = np.zeros(2)
    del state["3.bias"]
    result = e_net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["3.bias"] and result.unexpected_keys == ["bogus"]
    state["0.weight"] = np.zeros((1, 1, 1, 1))
    _raises(RuntimeError, lambda: e_net.load_state_dict(state, strict=False), "size mismatch for 0.weight")


# ---- gradients on integer tensors -------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: ember.tensor([1, 2, 3], requires_grad=True),
    lambda: ember.tensor([1, 2, 3]).requires_grad_(),
    lambda: ember.tensor(np.array([True, False]), requires_grad=True),
    lambda: enn.Parameter(ember.tensor([1, 2])),
    lambda: ember.arange(4).requires_grad_(True),
], ids=["tensor()", "requires_grad_()", "bool", "Parameter", "arange"])
def test_integer_tensors_cannot_require_grad(make):
    _raises(RuntimeError, make, "floating point")
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2, 3], requires_grad=True)


# ---- loss targets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, fn", [
    ("cross_entropy", lambda y: F.cross_entropy(ember.randn(3, 4), y)),
    ("nll_loss", lambda y: F.nll_loss(ember.randn(3, 4), y)),
    ("multi_margin_loss", lambda y: F.multi_margin_loss(ember.randn(3, 4), y)),
    ("cross_entropy", lambda y: enn.CrossEntropyLoss()(ember.randn(3, 4), y)),
])
def test_float_targets_where_class_indices_are_needed(name, fn):
    _raises(TypeError, lambda: fn(ember.tensor([0.0, 2.0, 1.0])), name, "integer", "float32", ".long()")


def test_float_targets_spatial_and_unbatched():
    _raises(TypeError, lambda: F.cross_entropy(ember.randn(2, 4, 3, 3), ember.zeros(2, 3, 3)), ".long()")
    _raises(TypeError, lambda: F.cross_entropy(ember.randn(4), ember.tensor(1.0)), ".long()")


@pytest.mark.parametrize("bad", [4, 7, -1, -3])
@pytest.mark.parametrize("name, fn", [
    ("cross_entropy", lambda y: F.cross_entropy(ember.randn(3, 4), y)),
    ("nll_loss", lambda y: F.nll_loss(ember.randn(3, 4), y)),
    ("multi_margin_loss", lambda y: F.multi_margin_loss(ember.randn(3, 4), y)),
    ("cross_entropy", lambda y: F.cross_entropy(ember.randn(3, 4), y, label_smoothing=0.1)),
])
def test_out_of_range_class_index(name, fn, bad):
    message = _raises(IndexError, lambda: fn(ember.tensor([0, bad, 1])), name, str(bad), "out of bounds", "4 classes")
    assert "ignore_index" not in message or name != "multi_margin_loss"  # multi-margin has no ignore_index


def test_out_of_range_class_index_spatial_and_ignore_index():
    y = np.zeros((2, 3, 3), np.int64)
    y[1, 2, 0] = 9
    _raises(IndexError, lambda: F.cross_entropy(ember.randn(2, 4, 3, 3), ember.tensor(y)), "target 9")
    # ignore_index itself is not out of range, even when negative.
    F.cross_entropy(ember.randn(3, 4), ember.tensor([0, -1, 1]), ignore_index=-1)


@pytest.mark.parametrize("name, fn, shape", [
    ("cross_entropy", lambda y: F.cross_entropy(ember.randn(3, 4), y), (2,)),
    ("cross_entropy", lambda y: F.cross_entropy(ember.randn(3, 4), y), (1, 3)),
    ("cross_entropy", lambda y: F.cross_entropy(ember.randn(2, 4, 3, 3), y), (2, 3)),
    ("nll_loss", lambda y: F.nll_loss(ember.randn(3, 4), y), (3, 1)),
    ("multi_margin_loss", lambda y: F.multi_margin_loss(ember.randn(3, 4), y), (4,)),
])
def test_class_target_shape_mismatch(name, fn, shape):
    _raises(ValueError, lambda: fn(ember.zeros(*shape, dtype=ember.int64)), name, str(tuple(shape)))


def test_probability_target_shape_mismatch():
    _raises(ValueError, lambda: F.cross_entropy(ember.randn(3, 4), ember.rand(3, 5)), "cross_entropy", "(3, 4)",
            "(3, 5)")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("shapes", [((3, 4), (3,)), ((3, 1), (3,)), ((4,), (4, 1))], ids=str)
def test_elementwise_losses_with_mismatched_shapes(name, shapes):
    a, b = shapes
    _raises(ValueError, lambda: getattr(F, name)(ember.randn(*a), ember.randn(*b)), name, str(a), str(b))


def test_mse_loss_module_mismatched_shapes():
    _raises(ValueError, lambda: enn.MSELoss()(ember.randn(8, 1), ember.randn(8)), "mse_loss", "(8, 1)", "(8,)")


def test_class_weight_of_the_wrong_length():
    _raises(ValueError, lambda: F.cross_entropy(ember.randn(3, 4), ember.tensor([0, 1, 2]), weight=ember.ones(3)),
            "weight", "4")


def test_invalid_loss_arguments():
    _raises(ValueError, lambda: F.cross_entropy(ember.randn(3, 4), ember.tensor([0, 1, 2]), label_smoothing=1.5),
            "label_smoothing", "1.5")
    _raises(ValueError, lambda: F.smooth_l1_loss(ember.randn(3), ember.randn(3), beta=-1.0), "beta")
    _raises(ValueError, lambda: F.multi_margin_loss(ember.randn(3, 4), ember.tensor([0, 1, 2]), p=3), "p == 1")
