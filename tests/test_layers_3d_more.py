"""BatchNorm3d/LazyBatchNorm3d, MaxUnpool1d and TripletMarginWithDistanceLoss against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from tests.helpers import check_module, check_op


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batchnorm3d(dtype):
    for train in (True, False):
        e, t = enn.BatchNorm3d(3), torch.nn.BatchNorm3d(3)
        e.train(train)
        t.train(train)
        check_module(e, t, [(2, 3, 2, 3, 4)], dtype=dtype)
    assert repr(enn.BatchNorm3d(3)) == repr(torch.nn.BatchNorm3d(3))
    with pytest.raises(ValueError, match="5-D"):
        enn.BatchNorm3d(3)(ember.zeros(2, 3, 4, 4))
    lazy = enn.LazyBatchNorm3d()
    lazy(ember.randn(2, 4, 2, 2, 2))
    assert type(lazy) is enn.BatchNorm3d and lazy.num_features == 4


def test_max_unpool1d():
    x = np.random.default_rng(0).standard_normal((2, 3, 8))
    t_out, t_idx = TF.max_pool1d(torch.tensor(x), 2, return_indices=True)
    e_out, e_idx = F.max_pool1d(ember.tensor(x), 2, return_indices=True)
    check_op(lambda a: F.max_unpool1d(a, e_idx, 2), lambda a: TF.max_unpool1d(a, t_idx, 2), arrays=[t_out.numpy()])
    e, t = enn.MaxUnpool1d(2), torch.nn.MaxUnpool1d(2)
    np.testing.assert_allclose(e(e_out, e_idx).numpy(), t(t_out, t_idx).numpy())
    assert repr(e) == repr(t)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_with_distance_loss(swap, reduction):
    check_op(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, swap=swap, reduction=reduction),
             lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n, swap=swap, reduction=reduction),
             [(4, 3)] * 3)
    cos_e = lambda x, y: 1.0 - F.cosine_similarity(x, y)  # noqa: E731
    cos_t = lambda x, y: 1.0 - TF.cosine_similarity(x, y)  # noqa: E731
    check_op(lambda a, p, n: enn.TripletMarginWithDistanceLoss(distance_function=cos_e, margin=0.5, swap=swap,
                                                               reduction=reduction)(a, p, n),
             lambda a, p, n: torch.nn.TripletMarginWithDistanceLoss(distance_function=cos_t, margin=0.5, swap=swap,
                                                                    reduction=reduction)(a, p, n), [(4, 3)] * 3)


def test_with_indices_variants_match_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 9))
    for e_fn, t_fn, arg in [(F.max_pool1d_with_indices, TF.max_pool1d_with_indices, 3),
                            (F.adaptive_max_pool1d_with_indices, TF.adaptive_max_pool1d_with_indices, 4)]:
        (eo, ei), (to, ti) = e_fn(ember.tensor(x[:, :, 0]), arg), t_fn(torch.tensor(x[:, :, 0]), arg)
        np.testing.assert_allclose(eo.numpy(), to.numpy())
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    (eo, ei), (to, ti) = F.adaptive_max_pool2d_with_indices(ember.tensor(x), 3), \
        TF.adaptive_max_pool2d_with_indices(torch.tensor(x), 3)
    np.testing.assert_allclose(eo.numpy(), to.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


CONV3D = [dict(), dict(stride=2, padding=1), dict(stride=(1, 2, 1), padding=(2, 0, 1), dilation=(2, 1, 1)),
          dict(groups=2, padding=1)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", CONV3D, ids=str)
def test_conv3d(kw, dtype):
    check_module(enn.Conv3d(4, 6, 3, **kw), torch.nn.Conv3d(4, 6, 3, **kw), [(2, 4, 5, 6, 5)], dtype=dtype)
    assert repr(enn.Conv3d(4, 6, 3, **kw)) == repr(torch.nn.Conv3d(4, 6, 3, **kw))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(2, 3, 2), stride=1)], ids=str)
def test_pool3d(kw, dtype):
    check_op(lambda a: F.max_pool3d(a, **kw), lambda a: TF.max_pool3d(a, **kw), [(2, 3, 5, 6, 5)], dtype=dtype)
    check_op(lambda a: F.avg_pool3d(a, **kw), lambda a: TF.avg_pool3d(a, **kw), [(2, 3, 5, 6, 5)], dtype=dtype)
    check_module(enn.MaxPool3d(**kw), torch.nn.MaxPool3d(**kw), [(1, 2, 4, 6, 5)])
    check_module(enn.AvgPool3d(**kw), torch.nn.AvgPool3d(**kw), [(1, 2, 4, 6, 5)])


def test_lp_pool3d_lazy_conv3d_and_nll_loss2d():
    check_op(lambda a: F.lp_pool3d(a, 2.0, 2), lambda a: TF.lp_pool3d(a, 2.0, 2), [(1, 2, 4, 4, 4)], low=0.1, high=2)
    check_module(enn.LPPool3d(3, 2, stride=1), torch.nn.LPPool3d(3, 2, stride=1), [(1, 2, 3, 4, 4)])
    lazy, t = enn.LazyConv3d(4, 3), torch.nn.LazyConv3d(4, 3)
    x = np.random.default_rng(5).standard_normal((1, 2, 4, 5, 4)).astype(np.float32)
    lazy(ember.tensor(x))
    t(torch.tensor(x))
    assert type(lazy) is enn.Conv3d and lazy.weight.shape == tuple(t.weight.shape)
    logp = np.log(np.random.default_rng(6).dirichlet(np.ones(3), size=(2, 2, 2))).transpose(0, 3, 1, 2)
    target = np.array([[[0, 1], [2, 1]], [[1, 1], [0, 2]]])
    e = enn.NLLLoss2d()(ember.tensor(logp), ember.tensor(target))
    np.testing.assert_allclose(float(e), float(torch.nn.NLLLoss()(torch.tensor(logp), torch.tensor(target))))
