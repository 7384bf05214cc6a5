"""Dropout1d and Dropout3d, and dropout2d's handling of every input rank, as torch 2.13 does it: which
axes share one mask entry (a whole channel), which ranks warn (torch's exact UserWarning text) and which
raise; evaluation is the identity; the kept channels are scaled by 1/(1 - p) in forward and backward."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F


def _messages(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args)
    return [str(w.message) for w in caught]


# (function, input shape, axes that share one mask entry)
CASES = [
    ("dropout1d", (40, 30, 5), (2,)),
    ("dropout1d", (300, 6), (1,)),  # unbatched (C, L)
    ("dropout2d", (30, 40, 3, 2), (2, 3)),
    ("dropout2d", (40, 30, 4), (2,)),  # torch reads 3-D as (N, C, L)
    ("dropout2d", (60, 50), ()),  # 2-D: element-wise
    ("dropout2d", (20, 10, 3, 2, 2), (2, 3, 4)),
    ("dropout3d", (20, 15, 2, 3, 2), (2, 3, 4)),
    ("dropout3d", (300, 2, 3, 2), (1, 2, 3)),  # unbatched (C, D, H, W)
    ("dropout3d", (300, 4, 5), (1, 2)),  # other ranks: unbatched, as torch
]


@pytest.mark.parametrize("name,shape,shared", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_masks_warnings_and_scaling_match_torch(name, shape, shared):
    e_fn, t_fn = getattr(F, name), getattr(TF, name)
    assert _messages(e_fn, ember.ones(*shape), 0.5) == _messages(t_fn, torch.ones(*shape), 0.5)
    ember.manual_seed(3)
    x = ember.ones(*shape, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = e_fn(x, 0.4)
    y = out.detach().numpy()
    scale = np.float32(1 / 0.6)
    assert set(np.unique(y)) <= {0.0, scale}
    if shared:
        assert np.all(y.min(axis=shared) == y.max(axis=shared)), "a channel is partly dropped"
    kept = (y.max(axis=shared) if shared else y) > 0
    assert 0.5 < kept.mean() < 0.7  # ≈ 1 - p of the channels survive
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y)  # the same mask, the same scale


def test_layers_eval_and_reprs():
    for name in ("Dropout1d", "Dropout3d"):
        e_layer, t_layer = getattr(enn, name)(0.3), getattr(tnn, name)(0.3)
        assert repr(e_layer) == repr(t_layer)
        e_layer.eval()
        x = ember.randn(2, 3, 4, 4, 4) if name == "Dropout3d" else ember.randn(2, 3, 4)
        assert e_layer(x) is x
    assert enn.Dropout1d(0.5).training  # trains by default, as torch
    with pytest.raises(ValueError, match="between 0 and 1"):
        enn.Dropout3d(1.5)


def test_dropout1d_rejects_other_ranks_like_torch():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(ember.ones(2, 3, 4, 5), 0.5)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        TF.dropout1d(torch.ones(2, 3, 4, 5), 0.5)
