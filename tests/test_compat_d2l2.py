"""d2l's attention, seq2seq and optimisation chapters under Ember: the patterns that failed, against torch."""

import numpy as np
import pytest
import torch

import ember
from helpers import assert_close


def _masked_scores(lib, scores, valid):
    """The book's masked softmax pattern: write -1e6 into a graph tensor through a boolean mask."""
    X = scores.reshape(-1, scores.shape[-1])
    mask = lib.arange(X.shape[1], dtype=lib.float32)[None, :] < valid[:, None]
    X[~mask] = -1e6
    return lib.nn.functional.softmax(X.reshape(scores.shape), dim=-1)


def test_setitem_into_a_graph_tensor_matches_torch():
    rng = np.random.default_rng(0)
    w0, q0 = rng.normal(size=(4, 5)), rng.normal(size=(3, 2, 4))
    valid0 = np.array([2, 5, 1, 3, 4, 2])
    outs, grads = [], []
    for lib in (torch, ember):
        w = lib.tensor(w0, requires_grad=True)
        scores = lib.tensor(q0) @ w
        p = _masked_scores(lib, scores, lib.tensor(valid0))
        (p * lib.arange(5.0)).sum().backward()
        outs.append(np.asarray(p.detach().numpy()))
        grads.append(np.asarray(w.grad.numpy()))
    assert_close(outs[1], outs[0])
    assert_close(grads[1], grads[0])


@pytest.mark.parametrize("index", [(slice(None), 1), (0, [0, 2]), "mask"])
def test_setitem_tensor_value_gets_the_gradient(index):
    rng = np.random.default_rng(1)
    a0, v0 = rng.normal(size=(3, 4)), rng.normal(size=(1,))
    results = []
    for lib in (torch, ember):
        a = lib.tensor(a0, requires_grad=True)
        v = lib.tensor(v0, requires_grad=True)
        y = a * 2
        idx = (y > 0) if index == "mask" else index
        y[idx] = v * 3
        (y * y).sum().backward()
        results.append([np.asarray(t.detach().numpy()) for t in (y, a.grad, v.grad)])
    for got, want in zip(results[1], results[0]):
        assert_close(got, want)


def test_setitem_on_a_leaf_that_requires_grad_is_still_refused():
    a = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        a[0] = 1.0
    with ember.no_grad():
        a[0] = 1.0
    assert a.tolist() == [1.0, 0.0, 0.0]


def test_setitem_outside_a_graph_still_writes_in_place():
    a = ember.zeros(2, 3)
    view_before = a.array
    a[:, 1] = ember.tensor([5.0, 6.0])
    assert a.array is view_before and a[:, 1].tolist() == [5.0, 6.0]


@pytest.mark.parametrize("cls,kw", [("GRU", dict(num_layers=2)), ("LSTM", dict(bidirectional=True)),
                                    ("RNN", dict(num_layers=2, bias=False))])
def test_rnn_flat_weights_names_match_torch(cls, kw):
    t = getattr(torch.nn, cls)(3, 4, **kw)
    e = getattr(ember.nn, cls)(3, 4, **kw)
    assert e._flat_weights_names == t._flat_weights_names
    assert [tuple(p.shape) for p in e._flat_weights] == [tuple(p.shape) for p in t._flat_weights]
    assert [[tuple(p.shape) for p in ws] for ws in e.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in t.all_weights]


def test_init_seq2seq_pattern_reinitialises_gru_weights_through_parameters_dict():
    gru = ember.nn.GRU(3, 4, 2)
    for name in gru._flat_weights_names:
        if "weight" in name:
            ember.nn.init.zeros_(gru._parameters[name])
    assert float(gru.weight_hh_l1.abs().sum()) == 0.0 and float(gru.bias_ih_l0.abs().sum()) > 0.0


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_float_functions_of_integer_tensors_give_the_default_dtype(name, dtype):
    values = [1, 2, 3] if dtype != "bool" else [True, False, True]
    want = getattr(torch, name)(torch.tensor(values, dtype=getattr(torch, dtype)))
    got = getattr(ember, name)(ember.tensor(values, dtype=getattr(ember, dtype)))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert_close(got.numpy(), want.numpy(), dtype="float32")


@pytest.mark.parametrize("fn", ["cat", "stack"])
@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("float32", "float64"), ("bool", "int64"),
                                    ("int32", "int64"), ("bool", "float32"), ("float64", "int32")])
def test_cat_and_stack_promote_like_torch(fn, dtypes):
    parts = [[1, 0], [0, 1]]
    want = getattr(torch, fn)([torch.tensor(p, dtype=getattr(torch, d)) for p, d in zip(parts, dtypes)])
    got = getattr(ember, fn)([ember.tensor(p, dtype=getattr(ember, d)) for p, d in zip(parts, dtypes)])
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert_close(got.numpy(), want.numpy(), dtype="float32")


def test_cat_of_an_integer_id_column_with_float_scores_keeps_float32_and_grads():
    # d2l's multibox_detection joins int64 class ids with float32 confidences and boxes
    ids = ember.tensor([0, 1])
    conf = ember.tensor([0.9, 0.8], requires_grad=True)
    out = ember.cat((ids.unsqueeze(1), conf.unsqueeze(1)), dim=1)
    assert out.dtype == ember.float32
    out.sum().backward()
    assert conf.grad.tolist() == [1.0, 1.0]
