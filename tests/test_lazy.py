"""Lazy layers (d2l builds every network with them): shapes inferred on the first call, then the ordinary layer."""

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from helpers import assert_close


def _d2l_lenet(lib):
    n = lib.nn
    return n.Sequential(
        n.LazyConv2d(6, kernel_size=5, padding=2), n.Sigmoid(), n.AvgPool2d(kernel_size=2, stride=2),
        n.LazyConv2d(16, kernel_size=5), n.Sigmoid(), n.AvgPool2d(kernel_size=2, stride=2),
        n.Flatten(), n.LazyLinear(120), n.Sigmoid(), n.LazyLinear(84), n.Sigmoid(), n.LazyLinear(10))


def test_lazy_lenet_becomes_torchs_lenet_with_the_same_keys_and_shapes():
    e, t = _d2l_lenet(ember), _d2l_lenet(torch)
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    e(ember.tensor(x)), t(torch.tensor(x))
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]
    se, st = e.state_dict(), t.state_dict()
    assert list(se) == list(st)
    assert all(tuple(se[k].shape) == tuple(st[k].shape) for k in se)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in st.items()})
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), "float32")


def test_parameters_are_materialised_in_place_so_an_early_optimizer_still_trains_them():
    ember.manual_seed(0)
    layer = nn.LazyLinear(3)
    params = list(layer.parameters())
    opt = ember.optim.SGD(layer.parameters(), lr=0.1)
    x = ember.randn(4, 5)
    layer(x).sum().backward()
    assert type(layer) is nn.Linear and layer.in_features == 5 and layer.weight is params[0]
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    before = layer.weight.detach().numpy().copy()
    opt.step()
    assert not np.allclose(before, layer.weight.detach().numpy())
    bound = 1 / np.sqrt(5)  # torch's default init: U(±1/√in_features)
    assert np.abs(before).max() <= bound


def test_lazy_batchnorm_and_conv_follow_the_input():
    bn, conv = nn.LazyBatchNorm2d(), nn.LazyConv2d(4, 3, padding=1, groups=2)
    y = conv(ember.randn(2, 6, 5, 5))
    out = bn(y)
    assert type(bn) is nn.BatchNorm2d and bn.num_features == 4 and bn.running_mean.shape == (4,)
    assert conv.weight.shape == (4, 3, 3, 3) and out.shape == (2, 4, 5, 5)
    assert list(bn.state_dict()) == list(torch.nn.BatchNorm2d(4).state_dict())
    bn1 = nn.LazyBatchNorm1d()
    bn1(ember.randn(8, 7))
    assert bn1.num_features == 7 and type(bn1) is nn.BatchNorm1d


def test_lazy_conv_rejects_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match="not divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(ember.randn(1, 3, 5, 5))


def test_d2l_init_by_type_sees_the_ordinary_layers():
    net = _d2l_lenet(ember)
    net(ember.randn(1, 1, 28, 28))
    seen = []
    net.apply(lambda m: seen.append(type(m)) if type(m) in (nn.Linear, nn.Conv2d) else None)
    assert seen.count(nn.Conv2d) == 2 and seen.count(nn.Linear) == 3


def test_data_parallel_runs_the_module_and_prefixes_keys_as_torch():
    e, t = nn.DataParallel(nn.Linear(2, 3)), torch.nn.DataParallel(torch.nn.Linear(2, 3))
    assert list(e.state_dict()) == list(t.state_dict()) == ["module.weight", "module.bias"]
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.ones((4, 2), dtype=np.float32)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), "float32")
    with pytest.raises(TypeError, match="expected an nn.Module"):
        nn.DataParallel(lambda x: x)
