"""Patterns from the PyTorch tutorials (second batch) that Ember must run unchanged, checked against torch."""

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.helpers import assert_close


def _logits(seed=0, n=6, c=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)), rng.integers(0, c, n)


@pytest.mark.parametrize("size_average,reduce", [(False, None), (True, None), (None, False), (False, True)])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_losses_accept_legacy_size_average_and_reduce(name, size_average, reduce):
    x, y = _logits()
    if name == "nll_loss":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = getattr(EF, name)(ember.tensor(x), ember.tensor(y), size_average=size_average, reduce=reduce)
    assert any("size_average and reduce args will be deprecated" in str(w.message) for w in caught)
    want = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y), size_average=size_average,
                                              reduce=reduce)
    assert_close(got.array, want.numpy())


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses_accept_legacy_size_average(name):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = getattr(EF, name)(ember.tensor(a), ember.tensor(b), size_average=False)
        want = getattr(torch.nn.functional, name)(torch.tensor(a), torch.tensor(b), size_average=False)
    assert_close(got.array, want.numpy())


def test_losses_take_torchs_positional_order():
    x, y = _logits(2)
    w = np.array([1.0, 2.0, 0.5, 1.5])
    # weight, size_average, ignore_index, reduce, reduction — as torch lays them out
    got = EF.cross_entropy(ember.tensor(x), ember.tensor(y), ember.tensor(w), None, 1, None, "sum")
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y), torch.tensor(w), None, 1, None, "sum")
    assert_close(got.array, want.numpy())


@pytest.mark.parametrize("cls,kwargs", [("NLLLoss", dict(size_average=False)), ("CrossEntropyLoss", dict(reduce=False)),
                                        ("MSELoss", dict(size_average=False)), ("L1Loss", dict(reduce=False)),
                                        ("SmoothL1Loss", dict(size_average=False)),
                                        ("BCEWithLogitsLoss", dict(size_average=False)),
                                        ("MultiMarginLoss", dict(size_average=False))])
def test_loss_modules_accept_legacy_arguments(cls, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = getattr(enn, cls)(**kwargs), getattr(torch.nn, cls)(**kwargs)
    assert mine.reduction == theirs.reduction
    x, y = _logits(3)
    if cls in ("MSELoss", "L1Loss", "SmoothL1Loss", "BCEWithLogitsLoss"):
        y = np.random.default_rng(4).uniform(size=x.shape)
    got = mine(ember.tensor(x), ember.tensor(y))
    want = theirs(torch.tensor(x), torch.tensor(y))
    assert_close(got.array, want.numpy())


def test_add_inplace_takes_the_deprecated_number_then_tensor_overload():
    # char_rnn_generation: p.data.add_(-learning_rate, p.grad.data)
    a, g = np.arange(4.0), np.array([1.0, -2.0, 0.5, 3.0])
    mine, theirs = ember.tensor(a.copy()), torch.tensor(a.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine.add_(-0.5, ember.tensor(g))
        theirs.add_(-0.5, torch.tensor(g))
    assert_close(mine.array, theirs.numpy())


def test_topk_index_of_a_log_softmax_row_indexes_a_python_string():
    # char_rnn_generation: topv, topi = output.topk(1); all_letters[topi[0][0]]
    letters = "abcdef"
    x = np.array([[0.1, 2.0, -1.0, 0.3, 0.0, 1.5]])
    _, topi = EF.log_softmax(ember.tensor(x), dim=1).topk(1)
    _, ttopi = torch.log_softmax(torch.tensor(x), dim=1).topk(1)
    assert letters[topi[0][0]] == letters[ttopi[0][0]] == "b"
    assert (topi[0][0] == 1) and not (topi[0][0] == 5)
