"""GLU, Hardshrink, Softshrink, RReLU, Softmax2d, Bilinear, RMSNorm, MaxUnpool2d, LPPool, the Upsampling*2d
layers, gumbel_softmax and the in-place F.relu_ family against torch: forward and every gradient (float64 and
float32), layers with copied weights (check_module), float64 gradchecks."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops import activation_more, unpool
from tests.helpers import check_module, check_op, function_classes, gradcheck


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_activations(dtype):
    check_op(lambda a: F.hardshrink(a, 0.3), lambda a: TF.hardshrink(a, 0.3), [(4, 5)], dtype=dtype)
    check_op(lambda a: F.softshrink(a, 0.3), lambda a: TF.softshrink(a, 0.3), [(4, 5)], dtype=dtype)
    check_op(lambda a: F.glu(a), lambda a: TF.glu(a), [(3, 6)], dtype=dtype)
    check_op(lambda a: F.glu(a, 1), lambda a: TF.glu(a, 1), [(3, 4, 5)], dtype=dtype)
    check_op(lambda a: F.rrelu(a), lambda a: TF.rrelu(a), [(4, 5)], dtype=dtype)  # evaluation: the mean slope


def test_activation_layers():
    x = [(2, 4, 3, 5)]
    for e_layer, t_layer in [(enn.GLU(1), torch.nn.GLU(1)), (enn.Hardshrink(0.2), torch.nn.Hardshrink(0.2)),
                             (enn.Softshrink(0.7), torch.nn.Softshrink(0.7)), (enn.Softmax2d(), torch.nn.Softmax2d()),
                             (enn.RReLU(0.1, 0.2).eval(), torch.nn.RReLU(0.1, 0.2).eval())]:
        check_module(e_layer, t_layer, x)
        assert repr(e_layer) == repr(t_layer)
    with pytest.raises(RuntimeError, match="even"):
        F.glu(ember.zeros(3, 5))


def test_rrelu_training_draws_slopes_in_range_and_backprops_them():
    ember.manual_seed(0)
    x = ember.tensor(-np.ones((200,)), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)
    assert np.array_equal(F.rrelu(ember.ones(3), training=True).numpy(), np.ones(3))


def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = ember.tensor(np.log([[0.7, 0.2, 0.1]] * 2000))
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.numpy().sum(-1), 1.0, rtol=1e-12)
    hard = F.gumbel_softmax(logits, hard=True)
    assert set(np.unique(hard.numpy())) == {0.0, 1.0} and np.all(hard.numpy().sum(-1) == 1)
    np.testing.assert_allclose(hard.numpy().mean(0), [0.7, 0.2, 0.1], atol=0.04)  # samples the categorical
    z = ember.tensor(np.zeros((2, 3)), requires_grad=True)
    (F.gumbel_softmax(z, hard=True) * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert z.grad is not None and np.abs(z.grad.numpy()).sum() > 0  # straight-through: the soft gradient


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bilinear(dtype):
    check_op(lambda a, b, w, c: F.bilinear(a, b, w, c), lambda a, b, w, c: TF.bilinear(a, b, w, c),
             [(4, 3), (4, 5), (2, 3, 5), (2,)], dtype=dtype)
    check_op(lambda a, b, w: F.bilinear(a, b, w), lambda a, b, w: TF.bilinear(a, b, w),
             [(2, 4, 3), (2, 4, 5), (6, 3, 5)], dtype=dtype)
    check_module(enn.Bilinear(3, 5, 2), torch.nn.Bilinear(3, 5, 2), [(4, 3), (4, 5)], dtype=dtype)
    check_module(enn.Bilinear(3, 5, 2, bias=False), torch.nn.Bilinear(3, 5, 2, bias=False), [(4, 3), (4, 5)])
    assert repr(enn.Bilinear(3, 5, 2)) == repr(torch.nn.Bilinear(3, 5, 2))
    w = enn.Bilinear(100, 5, 50).weight.detach().numpy()
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.09  # U(-1/√in1, 1/√in1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rms_norm(dtype):
    check_op(lambda a, w: F.rms_norm(a, (5,), w), lambda a, w: TF.rms_norm(a, (5,), w), [(3, 4, 5), (5,)], dtype=dtype)
    check_op(lambda a: F.rms_norm(a, (4, 5), eps=1e-3), lambda a: TF.rms_norm(a, (4, 5), eps=1e-3), [(3, 4, 5)],
             dtype=dtype)
    check_module(enn.RMSNorm(5), torch.nn.RMSNorm(5), [(3, 4, 5)], dtype=dtype)
    check_module(enn.RMSNorm([4, 5], eps=1e-5, elementwise_affine=False),
                 torch.nn.RMSNorm([4, 5], eps=1e-5, elementwise_affine=False), [(3, 4, 5)], dtype=dtype)
    assert repr(enn.RMSNorm(5)) == repr(torch.nn.RMSNorm(5))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)], ids=str)
def test_max_unpool2d(kw, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(dtype)
    _, t_idx = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    e_out, e_idx = F.max_pool2d(ember.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())
    pooled = e_out.numpy()
    if kw["kernel_size"] == 2:  # the default output size (H - 1)·s - 2p + k holds every index
        check_op(lambda a: F.max_unpool2d(a, e_idx, **kw), lambda a: TF.max_unpool2d(a, t_idx, **kw),
                 arrays=[pooled], dtype=dtype)
    size = (6, 6)
    check_op(lambda a: F.max_unpool2d(a, e_idx, output_size=size, **kw),
             lambda a: TF.max_unpool2d(a, t_idx, output_size=size, **kw), arrays=[pooled], dtype=dtype)
    e_layer, t_layer = enn.MaxUnpool2d(**kw), torch.nn.MaxUnpool2d(**kw)
    np.testing.assert_allclose(e_layer(ember.tensor(pooled), e_idx, size).numpy(),
                               t_layer(torch.tensor(pooled), t_idx, size).numpy())
    assert repr(e_layer) == repr(t_layer)
    out, idx = F.max_pool2d_with_indices(ember.tensor(x), **kw)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lp_pool(dtype):
    for p in (2.0, 3.0, 1.5):
        check_op(lambda a: F.lp_pool2d(a, p, 2), lambda a: TF.lp_pool2d(a, p, 2), [(2, 3, 4, 6)], dtype=dtype,
                 low=0.1, high=2.0)
        check_op(lambda a: F.lp_pool1d(a, p, 3, 2), lambda a: TF.lp_pool1d(a, p, 3, 2), [(2, 3, 9)], dtype=dtype,
                 low=0.1, high=2.0)
    check_module(enn.LPPool2d(2, (2, 3), stride=1), torch.nn.LPPool2d(2, (2, 3), stride=1), [(2, 3, 5, 6)])
    check_module(enn.LPPool1d(2, 3), torch.nn.LPPool1d(2, 3), [(2, 3, 9)])
    assert repr(enn.LPPool2d(2, 3)) == repr(torch.nn.LPPool2d(2, 3))


def test_upsampling_layers_and_deprecated_functions():
    check_module(enn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2), [(1, 2, 3, 4)])
    check_module(enn.UpsamplingBilinear2d(size=(5, 7)), torch.nn.UpsamplingBilinear2d(size=(5, 7)), [(1, 2, 3, 4)])
    assert repr(enn.UpsamplingBilinear2d(scale_factor=2)) == repr(torch.nn.UpsamplingBilinear2d(scale_factor=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda a: F.upsample_bilinear(a, scale_factor=2), lambda a: TF.upsample_bilinear(a, scale_factor=2),
                 [(1, 2, 3, 4)])
        check_op(lambda a: F.upsample_nearest(a, size=(6, 5)), lambda a: TF.upsample_nearest(a, size=(6, 5)),
                 [(1, 2, 3, 4)])
        check_op(lambda a: F.upsample(a, scale_factor=2, mode="bilinear", align_corners=False),
                 lambda a: TF.upsample(a, scale_factor=2, mode="bilinear", align_corners=False), [(1, 2, 3, 4)])


INPLACE = [("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)),
           ("threshold_", (0.1, -1.0)), ("selu_", ()), ("celu_", (0.7,))]


@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_functions(name, args):
    x = np.random.default_rng(1).standard_normal((3, 4))
    e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
    assert getattr(F, name)(e, *args) is e
    getattr(TF, name)(t, *args)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)
    # inside a graph: recorded, with the gradient of torch's out-of-place function (torch's own celu_ gradient
    # differs from its celu gradient by ~4e-8 relative in float64: it recomputes it from the output)
    check_op(lambda a: getattr(F, name)(a * 1, *args), lambda a: getattr(TF, name[:-1])(a * 1, *args), [(3, 4)])


def test_inplace_flag_of_relu_leaky_relu_elu():
    for fn, tfn, args in [(F.relu, TF.relu, ()), (F.leaky_relu, TF.leaky_relu, (0.1,)), (F.elu, TF.elu, (1.0,))]:
        x = np.random.default_rng(2).standard_normal(5)
        e, t = ember.tensor(x.copy()), torch.tensor(x.copy())
        assert fn(e, *args, inplace=True) is e
        tfn(t, *args, inplace=True)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)
        assert fn(ember.tensor(x), *args, inplace=False).shape == (5,)


def test_every_function_is_gradchecked():
    assert function_classes(activation_more) == {"Hardshrink", "Softshrink", "RReLU"}
    assert function_classes(unpool) == {"MaxUnpool"}
    assert gradcheck(lambda a: F.hardshrink(a, 0.3), (4, 5))
    assert gradcheck(lambda a: F.softshrink(a, 0.3), (4, 5))
    assert gradcheck(lambda a: F.rrelu(a, training=False), (4, 5))
    idx = ember.tensor(np.array([[[[0, 3], [9, 14]]]]))
    assert gradcheck(lambda a: F.max_unpool2d(a, idx, 2), (1, 1, 2, 2))
    assert gradcheck(lambda a, b, w: F.bilinear(a, b, w), (2, 3), (2, 4), (2, 3, 4))
    assert gradcheck(lambda a: F.rms_norm(a, (4,)), (3, 4))
