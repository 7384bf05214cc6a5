"""Dropout1d, Dropout3d and AlphaDropout, and dropout2d's handling of every input rank, as torch 2.13 does it: which
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
from helpers import gradcheck


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


# ---- AlphaDropout ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_selu_statistics_and_torchs_affine_map(p, dtype):
    rng = np.random.default_rng(0)
    x_data = rng.standard_normal((200, 500)).astype(dtype)
    ember.manual_seed(1)
    x = ember.tensor(x_data, requires_grad=True)
    out = enn.AlphaDropout(p)(x)
    y = out.detach().numpy()
    assert y.dtype == np.dtype(dtype)
    alpha = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
    a = 1 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5 if dtype == "float32" else 1e-12)
    dropped = np.isclose(y, -alpha * a * (1 - p), **tol)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(y[~dropped], (a * x_data + alpha * a * p)[~dropped], **tol)
    # torch's AlphaDropout on the same input: the same mean and variance (0 and 1 for a standard normal input).
    t = tnn.AlphaDropout(p)(torch.tensor(x_data)).numpy()
    assert abs(y.mean() - t.mean()) < 0.02 and abs(y.std() - t.std()) < 0.02
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0, a), **tol)


def test_alpha_dropout_edges_and_gradcheck():
    x = ember.randn(3, 4)
    assert F.alpha_dropout(x, 0.5) is x  # torch's F.alpha_dropout defaults to training=False
    assert enn.AlphaDropout(0.5).eval()(x) is x
    assert not np.any(F.alpha_dropout(x, 1.0, training=True).numpy())
    assert repr(enn.AlphaDropout(0.2)) == repr(tnn.AlphaDropout(0.2))

    def seeded(t):
        ember.manual_seed(5)
        return F.alpha_dropout(t, 0.3, training=True)

    assert gradcheck(seeded, (4, 5))
