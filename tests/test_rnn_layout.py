"""The recurrence's inner layout (feature-major steps, the LSTM's reordered and halved gate rows) stays
invisible: the caller's weights are untouched, each bias gets its own gradient, one bias alone and packed
batches in either direction gradcheck, and the char-LM's float32 step matches torch."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.ops import rnn as rnn_ops
from helpers import assert_close, copy_weights, gradcheck

MODES = ("rnn_tanh", "rnn_relu", "gru", "lstm")


def _arrays(mode, T=5, B=3, I=4, H=6, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    g = rnn_ops.GATES[mode] * H
    x, h0, c0 = rng.standard_normal((T, B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w_ih, w_hh = rng.standard_normal((g, I)) * 0.4, rng.standard_normal((g, H)) * 0.4
    b_ih, b_hh = rng.standard_normal(g) * 0.3, rng.standard_normal(g) * 0.3
    return [a.astype(dtype) for a in (x, h0, c0, w_ih, w_hh, b_ih, b_hh)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_weights_and_inputs_are_not_changed(mode, reverse):
    arrays = _arrays(mode)
    before = [a.copy() for a in arrays]
    tensors = [ember.tensor(a, requires_grad=True) for a in arrays]
    if mode != "lstm":
        tensors[2] = None
    res = rnn_ops.recurrence(*tensors, mode=mode, reverse=reverse)
    sum((r * r).sum() for r in res).backward()
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["rnn_tanh", "lstm"])
def test_the_two_biases_get_equal_but_separate_gradients(mode):
    """Without the GRU's b_hn both biases add, so their gradients are equal; they must still be two arrays
    (an in-place update of one gradient, e.g. by an optimizer, must not change the other)."""
    tensors = [ember.tensor(a, requires_grad=True) for a in _arrays(mode)]
    tensors[2] = tensors[2] if mode == "lstm" else None
    res = rnn_ops.recurrence(*tensors, mode=mode)
    (res[0] * res[0]).sum().backward()
    b_ih, b_hh = tensors[5].grad, tensors[6].grad
    np.testing.assert_array_equal(b_ih.array, b_hh.array)
    assert not np.shares_memory(b_ih.array, b_hh.array)


@pytest.mark.parametrize("mode", ["gru", "lstm"])
@pytest.mark.parametrize("which", ["b_ih", "b_hh"])
def test_one_bias_alone_gradchecks(mode, which):
    g = rnn_ops.GATES[mode] * 3

    def fn(x, h0, c0, w_ih, w_hh, b):
        biases = (b, None) if which == "b_ih" else (None, b)
        res = rnn_ops.recurrence(x, h0, c0 if mode == "lstm" else None, w_ih, w_hh, *biases, mode=mode)
        return (res[0] * res[0]).sum() + res[1].sum()

    assert gradcheck(fn, (4, 2, 2), (2, 3), (2, 3), (g, 2), (g, 3), (g,))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_packed_steps_gradcheck_in_both_directions(mode, reverse):
    """Columns of finished (or, reversed, not yet started) sequences carry their state through the step."""
    g = rnn_ops.GATES[mode] * 3

    def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        res = rnn_ops.recurrence(x, h0, c0 if mode == "lstm" else None, w_ih, w_hh, b_ih, b_hh, mode=mode,
                                 reverse=reverse, batch_sizes=(3, 3, 2, 1))
        return (res[0] * res[0]).sum() + sum(r.sum() * (k + 2) for k, r in enumerate(res[1:]))

    low, high = (0.1, 1.0) if mode == "rnn_relu" else (None, None)
    assert gradcheck(fn, (4, 3, 2), (3, 3), (3, 3), (g, 2), (g, 3), (g,), (g,), low=low, high=high)


@pytest.mark.parametrize("mode", MODES)
def test_packed_padding_is_zero_and_final_state_is_each_sequences_own(mode):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _arrays(mode, T=4, B=3)
    sizes = (3, 2, 2, 1)
    res = rnn_ops.recurrence(*(ember.tensor(a) for a in (x, h0)), ember.tensor(c0) if mode == "lstm" else None,
                             *(ember.tensor(a) for a in (w_ih, w_hh, b_ih, b_hh)), mode=mode, batch_sizes=sizes)
    out, h_n = res[0].array, res[1].array
    for t, k in enumerate(sizes):
        assert not out[t, k:].any()
    for b, length in enumerate((4, 3, 1)):  # sequence b runs while batch_sizes[t] > b
        alone = rnn_ops.recurrence(ember.tensor(x[:length, b : b + 1]), ember.tensor(h0[b : b + 1]),
                                   ember.tensor(c0[b : b + 1]) if mode == "lstm" else None,
                                   *(ember.tensor(a) for a in (w_ih, w_hh, b_ih, b_hh)), mode=mode)
        np.testing.assert_allclose(h_n[b], alone[1].array[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out[:length, b], alone[0].array[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_char_lm_float32_step_matches_torch(cell):
    """The benchmark's shape (one-hot vocabulary 100, hidden 256, batch 32, 35 steps), float32 in and out.
    A bias's gradient sums 1,120 positions and reaches ~100, so its float32 tolerance scales with the largest
    entry (the old (B, G·H) layout missed a plain 1e-5 by as much on some seeds)."""
    torch.manual_seed(0)
    vocab, hidden, steps, batch = 100, 256, 35, 32
    e_rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](vocab, hidden, batch_first=True)
    t_rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](vocab, hidden, batch_first=True)
    copy_weights(t_rnn, e_rnn)
    rng = np.random.default_rng(0)
    x = np.eye(vocab, dtype=np.float32)[rng.integers(0, vocab, (batch, steps))]
    weight = rng.standard_normal((batch, steps, hidden)).astype(np.float32)
    out_e, _ = e_rnn(ember.tensor(x))
    out_t, _ = t_rnn(torch.tensor(x))
    assert out_e.dtype == ember.float32
    assert_close(out_e, out_t, "float32", "output")
    (out_e * ember.tensor(weight)).sum().backward()
    (out_t * torch.tensor(weight)).sum().backward()
    e_params = dict(e_rnn.named_parameters())
    for name, tp in t_rnn.named_parameters():
        assert e_params[name].grad.dtype == ember.float32
        scale = max(1.0, float(tp.grad.abs().max()))
        assert_close(e_params[name].grad, tp.grad, "float32", f"gradient of {name}", rtol=1e-4, atol=1e-5 * scale)
