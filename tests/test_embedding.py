"""Embedding and one_hot against torch: lookups, gradients summed over repeated tokens, padding_idx,
from_pretrained, gradcheck and errors."""

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.ops import embedding as embedding_ops
from helpers import assert_close, copy_weights, function_classes, random_array


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_embedding_matches_torch(padding_idx, dtype):
    t_layer = torch.nn.Embedding(7, 4, padding_idx=padding_idx, dtype=getattr(torch, dtype))
    e_layer = nn.Embedding(7, 4, padding_idx=padding_idx, dtype=getattr(ember, dtype))
    copy_weights(t_layer, e_layer)
    idx = np.array([[0, 3, 3, 6], [1, 3, 0, 6], [2, 2, 2, 5]])  # repeats: their gradients must add up
    out_e, out_t = e_layer(ember.tensor(idx)), t_layer(torch.tensor(idx))
    assert_close(out_e, out_t, dtype)
    up = random_array(out_t.shape, dtype)
    out_t.backward(torch.tensor(up))
    out_e.backward(up)
    assert e_layer.weight.grad.dtype == e_layer.weight.dtype
    assert_close(e_layer.weight.grad, t_layer.weight.grad, dtype, "weight gradient")


def test_padding_row_starts_at_zero_and_never_learns():
    layer = nn.Embedding(5, 3, padding_idx=2)
    np.testing.assert_array_equal(layer.weight.detach().numpy()[2], 0)
    layer(ember.tensor([2, 2, 1])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[2], 0)
    assert layer.weight.grad.numpy()[1].sum() != 0


def test_from_pretrained_freezes_by_default():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    frozen = nn.Embedding.from_pretrained(ember.tensor(table))
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(ember.tensor([3, 0])).numpy(), table[[3, 0]])
    table[0, 0] = 99  # the layer holds its own copy
    assert frozen.weight.numpy()[0, 0] == 0
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    assert repr(nn.Embedding(10, 3, padding_idx=1)) == repr(torch.nn.Embedding(10, 3, padding_idx=1))


def test_one_hot_matches_torch():
    idx = np.array([[0, 4], [2, 1]])
    for k in (-1, 6):
        expected = torch.nn.functional.one_hot(torch.tensor(idx), k).numpy()
        got = F.one_hot(ember.tensor(idx), k)
        assert got.dtype == ember.int64
        np.testing.assert_array_equal(got.numpy(), expected)


def test_gradcheck():
    idx = ember.tensor([[1, 1, 0], [4, 1, 2]])
    weight = ember.tensor(random_array((5, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda w: F.embedding(idx, w), [weight])
    assert ember.autograd.gradcheck(lambda w: F.embedding(idx, w) ** 2, [weight])
    # (padding_idx is left out on purpose: its row's gradient is zeroed by definition, as in torch, so it
    # differs from the numerical derivative; the parity test above covers it.)


def test_every_embedding_function_is_gradchecked():
    assert function_classes(embedding_ops) == {"Embedding"}  # test_gradcheck above


def test_bad_indices_are_reported():
    layer = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="num_embeddings=5"):
        layer(ember.tensor([0, 5]))
    with pytest.raises(TypeError, match="integer tensor"):
        layer(ember.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"class values must be in \[0, 3\)"):
        F.one_hot(ember.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
