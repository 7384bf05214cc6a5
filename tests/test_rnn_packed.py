"""Sequences of different lengths: pack/pad utilities and packed RNN/GRU/LSTM against torch.nn.utils.rnn,
forward and every gradient, sorted or not, with initial states; gradcheck of the packed recurrence."""

import itertools

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as tr

import ember
from ember import nn
from ember.nn.utils import rnn as er
from ember.ops import rnn as rnn_ops
from helpers import assert_close, copy_weights, gradcheck, random_array

KINDS = ("RNN", "GRU", "LSTM")


@pytest.mark.parametrize("kind,num_layers,bidirectional,enforce_sorted",
                         list(itertools.product(KINDS, (1, 2), (False, True), (True, False))))
def test_packed_layer_matches_torch(kind, num_layers, bidirectional, enforce_sorted):
    lengths = [6, 4, 4, 1, 1] if enforce_sorted else [4, 6, 1, 4, 1]
    rng = np.random.default_rng(num_layers + 2 * bidirectional)
    x, h = random_array((6, 5, 3), rng=rng), random_array((num_layers * (1 + bidirectional), 5, 4), rng=rng)
    t_layer = getattr(torch.nn, kind)(3, 4, num_layers=num_layers, bidirectional=bidirectional, dtype=torch.float64)
    e_layer = getattr(nn, kind)(3, 4, num_layers=num_layers, bidirectional=bidirectional, dtype=ember.float64)
    copy_weights(t_layer, e_layer)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ht, he = torch.tensor(h, requires_grad=True), ember.tensor(h, requires_grad=True)
    st, se = ((ht, 0.5 * ht), (he, 0.5 * he)) if kind == "LSTM" else (ht, he)
    out_t, fin_t = t_layer(tr.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted), st)
    out_e, fin_e = e_layer(er.pack_padded_sequence(xe, lengths, enforce_sorted=enforce_sorted), se)
    assert isinstance(out_e, er.PackedSequence)
    np.testing.assert_array_equal(out_e.batch_sizes.numpy(), out_t.batch_sizes.numpy())
    assert_close(out_e.data, out_t.data, what="packed output")
    pad_t, len_t = tr.pad_packed_sequence(out_t)
    pad_e, len_e = er.pad_packed_sequence(out_e)
    assert_close(pad_e, pad_t, what="padded output")  # zeros after each sequence's end
    np.testing.assert_array_equal(len_e.numpy(), len_t.numpy())
    fin_t, fin_e = (fin_t, fin_e) if kind == "LSTM" else ((fin_t,), (fin_e,))
    for k, (ft, fe) in enumerate(zip(fin_t, fin_e)):
        assert_close(fe, ft, what=f"final state {k} (each sequence's own last step)")
    w = random_array(tuple(pad_t.shape), rng=rng)
    ((pad_t * torch.tensor(w)).sum() + sum((f ** 2).sum() for f in fin_t)).backward()
    ((pad_e * ember.tensor(w)).sum() + sum((f ** 2).sum() for f in fin_e)).backward()
    assert_close(xe.grad, xt.grad, what="input gradient")  # 0 on the padding
    assert_close(he.grad, ht.grad, what="initial state gradient")
    e_params = dict(e_layer.named_parameters())
    for name, tp in t_layer.named_parameters():
        assert_close(e_params[name].grad, tp.grad, what=f"gradient of {name}")


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_utilities_match_torch(batch_first):
    rng = np.random.default_rng(0)
    seqs = [random_array((n, 2), rng=rng) for n in (2, 5, 3)]
    st = [torch.tensor(s, requires_grad=True) for s in seqs]
    se = [ember.tensor(s, requires_grad=True) for s in seqs]
    for side in ("right", "left"):
        assert_close(er.pad_sequence(se, batch_first, -1.0, side), tr.pad_sequence(st, batch_first, -1.0, side))
    packed_t, packed_e = tr.pack_sequence(st, enforce_sorted=False), er.pack_sequence(se, enforce_sorted=False)
    assert_close(packed_e.data, packed_t.data)
    for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        np.testing.assert_array_equal(getattr(packed_e, name).numpy(), getattr(packed_t, name).numpy())
    pad_t, _ = tr.pad_packed_sequence(packed_t, batch_first, padding_value=9.0, total_length=7)
    pad_e, _ = er.pad_packed_sequence(packed_e, batch_first, padding_value=9.0, total_length=7)
    assert_close(pad_e, pad_t)
    w = random_array(tuple(pad_t.shape), rng=rng)
    (pad_t * torch.tensor(w)).sum().backward()
    (pad_e * ember.tensor(w)).sum().backward()
    for k, (a, b) in enumerate(zip(se, st)):
        assert_close(a.grad, b.grad, what=f"gradient of sequence {k}")
    for a, b in zip(er.unpack_sequence(packed_e), tr.unpack_sequence(packed_t)):
        assert_close(a, b)
    lengths = [2, 5, 3]
    for a, b in zip(er.unpad_sequence(pad_e, lengths, batch_first), tr.unpad_sequence(pad_t, torch.tensor(lengths),
                                                                                       batch_first)):
        assert_close(a, b)


def test_packed_recurrence_gradcheck():
    for mode in ("lstm", "gru", "rnn_tanh"):
        g = rnn_ops.GATES[mode] * 3
        for reverse in (False, True):
            def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=reverse):
                res = rnn_ops.recurrence(x, h0, c0 if mode == "lstm" else None, w_ih, w_hh, b_ih, b_hh, mode=mode,
                                         reverse=reverse, batch_sizes=(3, 2, 2, 1))
                return (res[0] * res[0]).sum() + sum(r.sum() * (k + 2) for k, r in enumerate(res[1:]))

            assert gradcheck(fn, (4, 3, 2), (3, 3), (3, 3), (g, 2), (g, 3), (g,), (g,))


def test_packing_mistakes_are_explained():
    x = ember.zeros(4, 3, 2)
    with pytest.raises(ValueError, match="sorted in decreasing order.*enforce_sorted=False"):
        er.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match="between 1 and the padded length 4"):
        er.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="3 lengths for a batch of 4"):
        er.pack_padded_sequence(x, [3, 2, 1], batch_first=True)
    with pytest.raises(ValueError, match=r"LSTM\(input_size=3\) got input with 2 features"):
        nn.LSTM(3, 4)(er.pack_padded_sequence(x, [4, 2, 1]))
