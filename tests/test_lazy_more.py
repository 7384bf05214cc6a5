"""LazyConv1d, LazyConvTranspose1d/2d and LazyInstanceNorm1d/2d/3d: become torch's ordinary layer with torch's
state_dict keys and shapes, then compute torch's numbers with torch's weights."""

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.helpers import assert_close

CASES = [
    ("LazyConv1d", dict(out_channels=4, kernel_size=3, padding=1), (2, 3, 7)),
    ("LazyConv1d", dict(out_channels=4, kernel_size=3, groups=2, bias=False), (3, 6, 7)),
    ("LazyConvTranspose1d", dict(out_channels=4, kernel_size=3, stride=2), (2, 3, 5)),
    ("LazyConvTranspose2d", dict(out_channels=4, kernel_size=3, stride=2, output_padding=1, groups=2), (2, 6, 4, 5)),
    ("LazyConvTranspose2d", dict(out_channels=2, kernel_size=2), (3, 4, 4)),  # unbatched
    ("LazyInstanceNorm1d", dict(), (2, 3, 7)),
    ("LazyInstanceNorm1d", dict(affine=False, track_running_stats=False), (2, 3, 7)),
    ("LazyInstanceNorm2d", dict(affine=False), (2, 3, 4, 5)),
    ("LazyInstanceNorm3d", dict(track_running_stats=False), (2, 3, 2, 4, 3)),
]


@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[f"{n}-{s}" for n, _, s in CASES])
def test_lazy_layer_becomes_torchs_layer(name, kwargs, shape):
    e, t = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    e(ember.tensor(x))
    t(torch.tensor(x))
    assert type(e).__name__ == type(t).__name__ == name.replace("Lazy", "")
    se, st = e.state_dict(), t.state_dict()
    assert list(se) == list(st)
    assert all(tuple(se[k].shape) == tuple(st[k].shape) for k in se)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in st.items()})
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), "float32")
    if kwargs.get("affine", True) or kwargs.get("track_running_stats", True) or "Norm" not in name:
        assert repr(e) == repr(t)
    else:  # torch has nothing to materialise here and leaves num_features at 0; Ember reads it from the input
        assert e.num_features == shape[1]


def test_lazy_conv_transpose_materialises_in_place_for_an_early_optimizer():
    layer = nn.LazyConvTranspose2d(5, 3)
    params = list(layer.parameters())
    opt = ember.optim.SGD(layer.parameters(), lr=0.1)
    layer(ember.randn(2, 4, 3, 3)).sum().backward()
    opt.step()
    assert layer.weight is params[0] and layer.weight.shape == (4, 5, 3, 3) and layer.in_channels == 4
    # unbatched (C, L): the channels are dim 0 (torch's lazy instance norm reads dim 1 here and then fails)
    norm = nn.LazyInstanceNorm1d()
    norm(ember.randn(3, 7))
    assert norm.num_features == 3 and norm.weight.shape == (3,)
    with pytest.raises(ValueError, match="divisible"):
        nn.LazyConv1d(4, 3, groups=2)(ember.randn(1, 3, 5))
