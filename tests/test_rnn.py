"""RNN, GRU and LSTM against torch.nn twins with copied weights: outputs, final states and every gradient,
across depth, direction, batch_first, initial states, batch sizes and dtypes; the cells; gradcheck of
the recurrence Function; truncated BPTT; shape errors."""

import itertools

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.ops import rnn as rnn_ops
from helpers import assert_close, copy_weights, function_classes, gradcheck, random_array

KINDS = {  # name -> (Ember class, torch class, extra keyword arguments)
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
}


def _twins(kind, dtype="float64", **kw):
    e_cls, t_cls, extra = KINDS[kind]
    t_layer = t_cls(**extra, **kw, dtype=getattr(torch, dtype))
    e_layer = e_cls(**extra, **kw, dtype=getattr(ember, dtype))
    copy_weights(t_layer, e_layer)
    return e_layer, t_layer


def _compare_sequence_layer(kind, x_shape, dtype="float64", states=False, seed=0, **kw):
    """Run both layers, backpropagate a loss that uses the output and every final state, compare all."""
    e_layer, t_layer = _twins(kind, dtype, **kw)
    rng = np.random.default_rng(seed)
    x = random_array(x_shape, dtype, rng)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    args_e, args_t, state_pairs = (), (), []
    if states:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        batch = () if len(x_shape) == 2 else (x_shape[0] if kw.get("batch_first") else x_shape[1],)
        shape = (layers, *batch, kw["hidden_size"])
        arrays = [random_array(shape, dtype, rng) for _ in range(2 if kind == "lstm" else 1)]
        state_pairs = [(ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)) for a in arrays]
        se, st = [p[0] for p in state_pairs], [p[1] for p in state_pairs]
        args_e, args_t = ((tuple(se),), (tuple(st),)) if kind == "lstm" else ((se[0],), (st[0],))
    out_e, fin_e = e_layer(xe, *args_e)
    out_t, fin_t = t_layer(xt, *args_t)
    fin_e = fin_e if kind == "lstm" else (fin_e,)
    fin_t = fin_t if kind == "lstm" else (fin_t,)
    assert out_e.dtype == getattr(ember, dtype)
    assert_close(out_e, out_t, dtype, "output")
    for k, (fe, ft) in enumerate(zip(fin_e, fin_t)):
        assert_close(fe, ft, dtype, f"final state {k}")
    # Each result gets its own random weight, so a wrong gradient through any of them shows.
    weights = [random_array(tuple(o.shape), dtype, rng) for o in (out_t, *fin_t)]
    loss_t = sum((o * torch.tensor(w)).sum() for o, w in zip((out_t, *fin_t), weights))
    loss_e = sum((o * ember.tensor(w)).sum() for o, w in zip((out_e, *fin_e), weights))
    loss_t.backward()
    loss_e.backward()
    assert_close(xe.grad, xt.grad, dtype, "input gradient")
    for k, (se_, st_) in enumerate(state_pairs):
        assert_close(se_.grad, st_.grad, dtype, f"initial state {k} gradient")
    e_params = dict(e_layer.named_parameters())
    assert sorted(e_params) == sorted(dict(t_layer.named_parameters()))
    for name, tp in t_layer.named_parameters():
        assert e_params[name].grad.dtype == e_params[name].dtype
        assert_close(e_params[name].grad, tp.grad, dtype, f"gradient of {name}")


GRID = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (False, True)))


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,states", GRID)
def test_sequence_layer_matches_torch(kind, num_layers, bidirectional, batch_first, states):
    shape = (3, 6, 5) if batch_first else (6, 3, 5)
    _compare_sequence_layer(kind, shape, states=states, input_size=5, hidden_size=4, num_layers=num_layers,
                            bidirectional=bidirectional, batch_first=batch_first)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch", [1, 2, 9])
def test_variable_batch_sizes_with_one_layer(kind, batch):
    # One set of weights, several batch sizes, including a single sequence and a long one.
    _compare_sequence_layer(kind, (11, batch, 3), seed=batch, states=True, input_size=3, hidden_size=6,
                            num_layers=2, bidirectional=True)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_sequence(kind):
    _compare_sequence_layer(kind, (7, 3), states=True, input_size=3, hidden_size=4, num_layers=2,
                            bidirectional=True)
    _compare_sequence_layer(kind, (7, 3), input_size=3, hidden_size=4)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32_and_matches(kind):
    _compare_sequence_layer(kind, (20, 4, 8), dtype="float32", states=True, input_size=8, hidden_size=16,
                            num_layers=2, bidirectional=True)


@pytest.mark.parametrize("kind", KINDS)
def test_without_bias(kind):
    _compare_sequence_layer(kind, (5, 2, 3), input_size=3, hidden_size=4, bias=False, num_layers=2)
    e_layer, _ = _twins(kind, input_size=3, hidden_size=4, bias=False)
    assert all("bias" not in name for name, _ in e_layer.named_parameters())


def test_state_dict_keys_shapes_and_init_match_torch():
    e_layer = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    t_layer = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    e_state, t_state = e_layer.state_dict(), t_layer.state_dict()
    assert list(e_state) == list(t_state)  # same names in the same order
    bound = 1 / np.sqrt(20)
    for k in t_state:
        value = e_state[k].numpy()
        assert value.shape == tuple(t_state[k].shape) and value.dtype == np.float32
        assert bound >= np.abs(value).max() > 0.8 * bound  # U(±1/√hidden_size), as torch
    assert repr(nn.GRU(3, 4, num_layers=2, batch_first=True)) == "GRU(3, 4, num_layers=2, batch_first=True)"
    assert repr(nn.RNN(3, 4)) == repr(torch.nn.RNN(3, 4)) == "RNN(3, 4)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"  # torch hides it


def test_dropout_between_layers_only_in_training():
    layer = nn.LSTM(3, 5, num_layers=2, dropout=0.5)
    x = ember.randn(4, 2, 3)
    layer.eval()
    a, b = layer(x)[0], layer(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.train()
    ember.manual_seed(0)
    c = layer(x)[0]
    ember.manual_seed(1)
    d = layer(x)[0]
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())
    # With one layer there is no "between": dropout changes nothing, as in torch.
    single = nn.GRU(3, 5, dropout=0.5)
    single.train()
    np.testing.assert_array_equal(single(x)[0].detach().numpy(), single(x)[0].detach().numpy())


# ---- cells -------------------------------------------------------------------------------------------

CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}),
}


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batched", [False, True])
def test_cell_matches_torch(kind, with_state, batched):
    e_cls, t_cls, extra = CELLS[kind]
    t_cell = t_cls(3, 4, **extra, dtype=torch.float64)
    e_cell = e_cls(3, 4, **extra, dtype=ember.float64)
    copy_weights(t_cell, e_cell)
    rng = np.random.default_rng(1)
    lead = (5,) if batched else ()
    arrays = [random_array((*lead, 3), rng=rng)]
    if with_state:
        arrays += [random_array((*lead, 4), rng=rng) for _ in range(2 if kind == "lstm" else 1)]
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    pack = (lambda s: (tuple(s[1:]),)) if kind == "lstm" else (lambda s: tuple(s[1:]))
    e_out = e_cell(e_in[0], *pack(e_in)) if with_state else e_cell(e_in[0])
    t_out = t_cell(t_in[0], *pack(t_in)) if with_state else t_cell(t_in[0])
    e_out = e_out if kind == "lstm" else (e_out,)
    t_out = t_out if kind == "lstm" else (t_out,)
    weights = [random_array(tuple(o.shape), rng=rng) for o in t_out]
    for k, (eo, to) in enumerate(zip(e_out, t_out)):
        assert_close(eo, to, what=f"cell output {k}")
    sum((o * torch.tensor(w)).sum() for o, w in zip(t_out, weights)).backward()
    sum((o * ember.tensor(w)).sum() for o, w in zip(e_out, weights)).backward()
    for k, (ei, ti) in enumerate(zip(e_in, t_in)):
        assert_close(ei.grad, ti.grad, what=f"gradient of cell input {k}")
    e_params = dict(e_cell.named_parameters())
    for name, tp in t_cell.named_parameters():
        assert_close(e_params[name].grad, tp.grad, what=f"gradient of {name}")


@pytest.mark.parametrize("kind", CELLS)
def test_cell_gradcheck(kind):
    """The cells' input and state gradients; the weights' are gradchecked through Recurrence below."""
    e_cls, _, extra = CELLS[kind]
    cell = e_cls(3, 4, **extra, dtype=ember.float64)
    if kind == "rnn_relu":  # ReLU's kink is not differentiable: keep the pre-activations above it
        for p in cell.parameters():
            p.array = np.abs(p.array)
    if kind == "lstm":
        assert gradcheck(lambda x, h, c: cell(x, (h, c))[0] * 2 + cell(x, (h, c))[1], (2, 3), (2, 4), (2, 4))
    else:
        low, high = (0.1, 1.0) if kind == "rnn_relu" else (None, None)
        assert gradcheck(lambda x, h: cell(x, h), (2, 3), (2, 4), low=low, high=high)


# ---- the recurrence Function itself ---------------------------------------------------------------------


def _recurrence_case(mode, reverse, with_c):
    def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        res = rnn_ops.recurrence(x, h0, c0 if mode == "lstm" and with_c else None, w_ih, w_hh, b_ih, b_hh,
                                 mode=mode, reverse=reverse)
        return sum(r.sum() * (k + 1) for k, r in enumerate(res[1:])) + (res[0] * res[0]).sum()

    g = rnn_ops.GATES[mode] * 3
    return fn, [(4, 2, 2), (2, 3), (2, 3), (g, 2), (g, 3), (g,), (g,)]


GRADCHECK = {
    "Recurrence": [
        _recurrence_case(mode, reverse, with_c)
        for mode in ("rnn_tanh", "gru", "lstm") for reverse in (False, True) for with_c in (False, True)
        if with_c or mode == "lstm"
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_relu_recurrence_gradcheck():
    def fn(x, h0, w_ih, w_hh, b):
        out, h_n = rnn_ops.recurrence(x, h0, None, w_ih, w_hh, b, b, mode="rnn_relu")
        return (out * out).sum() + h_n.sum()

    # Positive inputs and weights keep every pre-activation well above the kink at 0.
    assert gradcheck(fn, (4, 2, 2), (2, 3), (3, 2), (3, 3), (3,), low=0.1, high=1.0)


def test_every_rnn_function_is_gradchecked():
    assert function_classes(rnn_ops) == set(GRADCHECK)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown mode"):
        rnn_ops.recurrence(ember.zeros(2, 1, 1), None, None, ember.zeros(1, 1), ember.zeros(1, 1), None, None,
                           mode="elman")


# ---- truncated backpropagation through time -------------------------------------------------------------


def test_truncated_bptt_matches_torch():
    """Carry the state from chunk to chunk but detach it: each chunk's gradient stops at its first step."""
    e_layer, t_layer = _twins("lstm", input_size=3, hidden_size=5)
    x = random_array((12, 2, 3))
    state_e = state_t = None
    for chunk in range(3):
        xs = x[4 * chunk: 4 * chunk + 4]
        out_e, state_e = e_layer(ember.tensor(xs), state_e)
        out_t, state_t = t_layer(torch.tensor(xs), state_t)
        (out_e * out_e).sum().backward()
        (out_t * out_t).sum().backward()
        state_e = tuple(s.detach() for s in state_e)
        state_t = tuple(s.detach() for s in state_t)
        assert not state_e[0].requires_grad
    e_params = dict(e_layer.named_parameters())
    for name, tp in t_layer.named_parameters():  # gradients accumulated over the three chunks
        assert_close(e_params[name].grad, tp.grad, what=f"accumulated gradient of {name}")


# ---- errors ----------------------------------------------------------------------------------------------


def test_wrong_input_size_names_layer_and_fix():
    with pytest.raises(ValueError, match=r"LSTM\(input_size=8\) got input with 5 features"):
        nn.LSTM(8, 4)(ember.zeros(3, 2, 5))
    with pytest.raises(ValueError, match="expected input of shape"):
        nn.GRU(8, 4)(ember.zeros(3, 2, 8, 1))
    with pytest.raises(ValueError, match=r"GRUCell\(input_size=8\)"):
        nn.GRUCell(8, 4)(ember.zeros(3, 5))


def test_wrong_state_shape_is_explained():
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(4, 2, 3\)"):
        nn.RNN(5, 3, num_layers=2, bidirectional=True)(ember.zeros(6, 2, 5), ember.zeros(2, 2, 3))
    with pytest.raises(ValueError, match=r"tuple \(h_0, c_0\)"):
        nn.LSTM(5, 3)(ember.zeros(6, 2, 5), ember.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(5, 3, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(5, 3, nonlinearity="sigmoid")
