"""The Transformer against torch, with torch's weights copied in by state_dict key: TransformerEncoderLayer and
TransformerDecoderLayer (post-norm and pre-norm, batch_first both ways, relu/gelu/callable activations, every
mask: bool, float, causal, key padding), the TransformerEncoder/Decoder stacks, the full nn.Transformer (also
unbatched), float32 and float64; every gradient. Also: identical state_dict keys, the deep-copied layers,
generate_square_subsequent_mask, the initialisation, torch's nested-tensor inference output, and the errors.
"""

import re
import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn

import ember
import ember.nn as enn
from helpers import assert_close, copy_weights, random_array

DTYPES = ["float64", "float32"]
D, NHEAD, FF, N, S, T = 8, 2, 16, 3, 6, 5  # d_model, heads, feed-forward width, batch, source and target lengths

# torch's own notice that batch_first=False / norm_first=True rule out its nested-tensor fast path.
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")


def check_model(e_model, t_model, arrays, e_kwargs=None, t_kwargs=None, dtype="float64", seed=0):
    """Same weights, same inputs (and masks): compare the output, then every input and parameter gradient."""
    t_model = t_model.to(getattr(torch, dtype))
    e_model.to(dtype)
    copy_weights(t_model, e_model)
    rng = np.random.default_rng(seed)
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_out = e_model(*e_in, **(e_kwargs or {}))
    t_out = t_model(*t_in, **(t_kwargs or {}))
    assert_close(e_out, t_out, dtype, "output")
    assert e_out.dtype == np.dtype(dtype)
    u = random_array(tuple(t_out.shape), dtype, rng)
    t_out.backward(torch.tensor(u))
    e_out.backward(u)
    for i, (ei, ti) in enumerate(zip(e_in, t_in)):
        assert_close(ei.grad, ti.grad, dtype, f"gradient of input {i}")
    e_params = dict(e_model.named_parameters())
    assert list(e_params) == [name for name, _ in t_model.named_parameters()]
    for name, tp in t_model.named_parameters():
        assert_close(e_params[name].grad, tp.grad, dtype, f"gradient of {name}")
    return e_out


def _randomize_norms(t_model, seed=0):
    """LayerNorm γ ≠ 1 and β ≠ 0, and non-zero attention biases, so that every parameter is really exercised."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in t_model.named_parameters():
            if p.ndim == 1:
                p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) + 0.5 if "norm" in name and "weight" in name
                        else torch.rand(p.shape, generator=gen, dtype=p.dtype) - 0.5)
    return t_model


def _masks(kind, seq, batch=N, seed=1, dtype="float64"):
    """(ember, torch) masks: 'bool'/'float' (seq, seq) attention masks, 'causal' (float -inf above the diagonal),
    'padding' (batch, seq) bool with the last positions of some sequences padded."""
    rng = np.random.default_rng(seed)
    if kind == "causal":
        m = np.triu(np.full((seq, seq), -np.inf), 1).astype(dtype)
    elif kind == "padding":
        lengths = rng.integers(seq // 2, seq + 1, size=batch)
        lengths[0] = seq
        m = np.arange(seq)[None, :] >= lengths[:, None]
    else:
        drop = rng.random((seq, seq)) < 0.3
        np.fill_diagonal(drop, False)
        m = drop if kind == "bool" else np.where(drop, -np.inf, rng.standard_normal((seq, seq))).astype(dtype)
    return ember.tensor(m), torch.tensor(m)


def _layout(batch_first, seq, batch=N):
    return (batch, seq, D) if batch_first else (seq, batch, D)


ACTIVATIONS = {"relu": ("relu", "relu"), "gelu": ("gelu", "gelu"), "callable tanh": (ember.tanh, torch.tanh)}
LAYOUTS = [(bf, nf) for bf in (False, True) for nf in (False, True)]


# ---- the layers ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("batch_first, norm_first", LAYOUTS)
def test_encoder_layer(batch_first, norm_first, activation, dtype):
    e_act, t_act = ACTIVATIONS[activation]
    kwargs = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    e = enn.TransformerEncoderLayer(D, NHEAD, activation=e_act, **kwargs)
    t = _randomize_norms(tnn.TransformerEncoderLayer(D, NHEAD, activation=t_act, **kwargs))
    check_model(e, t, [random_array(_layout(batch_first, S), dtype)], dtype=dtype)


ENCODER_MASKS = {"bool src_mask": "bool", "float src_mask": "float", "causal src_mask": "causal"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask", list(ENCODER_MASKS))
@pytest.mark.parametrize("padding", [False, True])
@pytest.mark.parametrize("batch_first, norm_first", LAYOUTS)
def test_encoder_layer_masks(batch_first, norm_first, padding, mask, dtype):
    kwargs = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    e, t = enn.TransformerEncoderLayer(D, NHEAD, **kwargs), _randomize_norms(tnn.TransformerEncoderLayer(D, NHEAD,
                                                                                                        **kwargs))
    e_mask, t_mask = _masks(ENCODER_MASKS[mask], S, dtype=dtype)
    e_kw, t_kw = dict(src_mask=e_mask), dict(src_mask=t_mask)
    if padding:
        e_kw["src_key_padding_mask"], t_kw["src_key_padding_mask"] = _masks("padding", S)
        if t_mask.dtype != torch.bool:  # the same type for both masks, as torch recommends
            e_kw["src_key_padding_mask"], t_kw["src_key_padding_mask"] = (
                ember.tensor(np.where(t_kw["src_key_padding_mask"].numpy(), -np.inf, 0.0).astype(dtype)),
                torch.tensor(np.where(t_kw["src_key_padding_mask"].numpy(), -np.inf, 0.0).astype(dtype)))
    if mask == "causal src_mask":
        e_kw["is_causal"] = t_kw["is_causal"] = True
    check_model(e, t, [random_array(_layout(batch_first, S), dtype)], e_kw, t_kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first, norm_first", LAYOUTS)
def test_decoder_layer_with_every_mask(batch_first, norm_first, activation, dtype):
    kwargs = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
                  activation=activation)
    e, t = enn.TransformerDecoderLayer(D, NHEAD, **kwargs), _randomize_norms(tnn.TransformerDecoderLayer(D, NHEAD,
                                                                                                        **kwargs))
    e_kw, t_kw = {}, {}
    e_kw["tgt_mask"], t_kw["tgt_mask"] = _masks("causal", T, dtype=dtype)
    mem = np.random.default_rng(2).random((T, S)) < 0.3
    mem[:, 0] = False
    e_kw["memory_mask"], t_kw["memory_mask"] = ember.tensor(np.where(mem, -np.inf, 0.0).astype(dtype)), torch.tensor(
        np.where(mem, -np.inf, 0.0).astype(dtype))
    for name, seq, seed in (("tgt_key_padding_mask", T, 3), ("memory_key_padding_mask", S, 4)):
        e_pad, t_pad = _masks("padding", seq, seed=seed)
        e_kw[name] = ember.tensor(np.where(e_pad.numpy(), -np.inf, 0.0).astype(dtype))
        t_kw[name] = torch.tensor(np.where(t_pad.numpy(), -np.inf, 0.0).astype(dtype))
    rng = np.random.default_rng(0)
    arrays = [random_array(_layout(batch_first, T), dtype, rng), random_array(_layout(batch_first, S), dtype, rng)]
    check_model(e, t, arrays, e_kw, t_kw, dtype)


# ---- the stacks and the whole model ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first, norm_first", LAYOUTS)
def test_encoder_stack_detects_the_causal_mask(batch_first, norm_first, dtype):
    layer_kwargs = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    e = enn.TransformerEncoder(enn.TransformerEncoderLayer(D, NHEAD, **layer_kwargs), 2, enn.LayerNorm(D))
    t = _randomize_norms(tnn.TransformerEncoder(tnn.TransformerEncoderLayer(D, NHEAD, **layer_kwargs), 2,
                                                tnn.LayerNorm(D)))
    e_mask, t_mask = _masks("causal", S, dtype=dtype)
    e_pad, t_pad = _masks("padding", S)
    e_pad, t_pad = (ember.tensor(np.where(e_pad.numpy(), -np.inf, 0.0).astype(dtype)),
                    torch.tensor(np.where(t_pad.numpy(), -np.inf, 0.0).astype(dtype)))
    check_model(e, t, [random_array(_layout(batch_first, S), dtype)], dict(mask=e_mask, src_key_padding_mask=e_pad),
                dict(mask=t_mask, src_key_padding_mask=t_pad), dtype)
    check_model(e, t, [random_array(_layout(batch_first, S), dtype)], dict(mask=e_mask), dict(mask=t_mask), dtype,
                seed=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_decoder_stack(dtype):
    kwargs = dict(dim_feedforward=FF, dropout=0.0)
    e = enn.TransformerDecoder(enn.TransformerDecoderLayer(D, NHEAD, **kwargs), 3)
    t = _randomize_norms(tnn.TransformerDecoder(tnn.TransformerDecoderLayer(D, NHEAD, **kwargs), 3))
    e_mask, t_mask = _masks("causal", T, dtype=dtype)
    rng = np.random.default_rng(0)
    check_model(e, t, [random_array((T, N, D), dtype, rng), random_array((S, N, D), dtype, rng)],
                dict(tgt_mask=e_mask), dict(tgt_mask=t_mask), dtype)


def _transformers(**kwargs):
    kwargs = dict(d_model=D, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
                  dropout=0.0, **kwargs)
    return enn.Transformer(**kwargs), _randomize_norms(tnn.Transformer(**kwargs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first, norm_first", LAYOUTS)
def test_transformer_with_every_mask(batch_first, norm_first, dtype):
    e, t = _transformers(batch_first=batch_first, norm_first=norm_first, activation="gelu")
    e_kw, t_kw = {}, {}
    e_kw["tgt_mask"] = enn.Transformer.generate_square_subsequent_mask(T, dtype=getattr(ember, dtype))
    t_kw["tgt_mask"] = tnn.Transformer.generate_square_subsequent_mask(T, dtype=getattr(torch, dtype))
    e_kw["src_mask"], t_kw["src_mask"] = _masks("bool", S)
    for name, seq, seed in (("src_key_padding_mask", S, 3), ("tgt_key_padding_mask", T, 4),
                            ("memory_key_padding_mask", S, 3)):
        e_kw[name], t_kw[name] = _masks("padding", seq, seed=seed)
    rng = np.random.default_rng(0)
    arrays = [random_array(_layout(batch_first, S), dtype, rng), random_array(_layout(batch_first, T), dtype, rng)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bool padding masks next to a float tgt_mask: both frameworks warn
        check_model(e, t, arrays, e_kw, t_kw, dtype)


def test_transformer_unbatched_and_memory_mask():
    e, t = _transformers()
    mem = np.random.default_rng(5).random((T, S)) < 0.3
    mem[:, 0] = False
    rng = np.random.default_rng(0)
    check_model(e, t, [random_array((S, D), "float64", rng), random_array((T, D), "float64", rng)],
                dict(memory_mask=ember.tensor(mem), tgt_is_causal=False), dict(memory_mask=torch.tensor(mem),
                                                                              tgt_is_causal=False))


def test_transformer_state_dict_keys_and_shapes_match_torch():
    for kwargs in ({}, dict(bias=False), dict(norm_first=True, batch_first=True)):
        e, t = _transformers(**kwargs)
        assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    e, t = enn.Transformer(), tnn.Transformer()  # the defaults: d_model 512, 8 heads, 6 + 6 layers, 2048 wide
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert sum(p.numel() for p in e.parameters()) == sum(p.numel() for p in t.parameters())
    assert repr(e) == repr(t)
    e.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})  # loads 1:1 by key


def test_transformer_init_is_xavier_uniform_on_every_matrix():
    e = enn.Transformer(D, NHEAD, 2, 2, FF)
    for name, p in e.named_parameters():
        w = p.detach().numpy()
        if w.ndim > 1:
            bound = np.sqrt(6 / (w.shape[0] + w.shape[1]))
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.7 * bound, name
        elif "norm" in name and name.endswith("weight"):
            assert np.all(w == 1), name
    a, b = (e.encoder.layers[i].linear1.weight.detach().numpy() for i in (0, 1))
    assert not np.array_equal(a, b)  # re-initialised after cloning: the layers differ


def test_encoder_clones_are_deep_copies():
    layer = enn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.0)
    stack = enn.TransformerEncoder(layer, 3)
    layers = list(stack.layers)
    assert len({id(m) for m in layers}) == 3 and all(m is not layer for m in layers)
    for m in layers:  # equal values, separate storage, as torch's copy.deepcopy
        np.testing.assert_array_equal(m.linear1.weight.detach().numpy(), layer.linear1.weight.detach().numpy())
        assert m.linear1.weight is not layer.linear1.weight
        assert not np.shares_memory(m.linear1.weight.array, layers[0].linear1.weight.array) or m is layers[0]
    layers[1].linear1.weight.array[...] = 0
    assert np.any(layers[0].linear1.weight.detach().numpy()) and np.any(layer.linear1.weight.detach().numpy())
    assert len(list(stack.parameters())) == 3 * len(list(layer.parameters()))
    assert list(stack.state_dict()) == list(tnn.TransformerEncoder(tnn.TransformerEncoderLayer(D, NHEAD, FF), 3)
                                            .state_dict())
    clone = copy.deepcopy(stack)
    clone.layers[0].norm1.weight.array[...] = 5
    assert np.all(stack.layers[0].norm1.weight.detach().numpy() == 1)


def test_generate_square_subsequent_mask():
    e, t = enn.Transformer.generate_square_subsequent_mask(4), tnn.Transformer.generate_square_subsequent_mask(4)
    assert e.dtype == np.float32 and str(t.dtype) == "torch.float32"
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    e64 = enn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    assert e64.dtype == np.float64
    np.testing.assert_array_equal(e64.numpy(), tnn.Transformer.generate_square_subsequent_mask(3).numpy())


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage:UserWarning")
def test_nested_tensor_inference_output_like_torch():
    # torch, in inference with batch_first and a right-aligned padding mask, runs the encoder on a nested tensor
    # and returns zeros at the padded positions; the real positions are what the padded computation gives.
    kwargs = dict(dim_feedforward=FF, dropout=0.0, batch_first=True)
    for norm in (None, "norm"):
        e = enn.TransformerEncoder(enn.TransformerEncoderLayer(D, NHEAD, **kwargs), 2,
                                   enn.LayerNorm(D) if norm else None)
        t = _randomize_norms(tnn.TransformerEncoder(tnn.TransformerEncoderLayer(D, NHEAD, **kwargs), 2,
                                                    tnn.LayerNorm(D) if norm else None)).double().eval()
        e.double().eval()
        copy_weights(t, e)
        x = random_array((N, S, D))
        e_pad, t_pad = _masks("padding", S)
        assert t_pad.any()
        with torch.no_grad(), ember.no_grad():
            t_out = t(torch.tensor(x), src_key_padding_mask=t_pad)
            e_out = e(ember.tensor(x), src_key_padding_mask=e_pad)
        assert_close(e_out, t_out)
        if norm is None:
            assert not np.any(e_out.numpy()[e_pad.numpy()])
    with ember.no_grad():  # training mode: no nested tensor, so the padded positions are computed
        e.train()
        assert np.any(e(ember.tensor(x), src_key_padding_mask=e_pad).numpy()[e_pad.numpy()])


def test_nested_tensor_warning_like_torch():
    for kwargs in (dict(), dict(batch_first=True, norm_first=True), dict(batch_first=True, nhead=1)):
        nhead = kwargs.pop("nhead", NHEAD)
        with pytest.warns(UserWarning) as e_rec:
            enn.TransformerEncoder(enn.TransformerEncoderLayer(D, nhead, FF, **kwargs), 1)
        with pytest.warns(UserWarning) as t_rec:
            tnn.TransformerEncoder(tnn.TransformerEncoderLayer(D, nhead, FF, **kwargs), 1)
        assert str(e_rec[0].message) == str(t_rec[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enn.TransformerEncoder(enn.TransformerEncoderLayer(D, NHEAD, FF, batch_first=True), 1)
        enn.TransformerEncoder(enn.TransformerEncoderLayer(D, NHEAD, FF), 1, enable_nested_tensor=False)


def test_dropout_in_training_only():
    e = enn.Transformer(D, NHEAD, 1, 1, FF, dropout=0.3).double()
    src, tgt = ember.randn(S, N, D, dtype=ember.float64), ember.randn(T, N, D, dtype=ember.float64)
    a, b = e(src, tgt).detach().numpy(), e(src, tgt).detach().numpy()
    assert not np.allclose(a, b)
    e.eval()
    np.testing.assert_array_equal(e(src, tgt).detach().numpy(), e(src, tgt).detach().numpy())


ERRORS = {
    "batch mismatch": (RuntimeError, lambda nn, x: nn.Transformer(D, NHEAD, 1, 1, FF)(x((S, N, D)), x((T, N + 1, D)))),
    "batch_first batch mismatch": (RuntimeError, lambda nn, x: nn.Transformer(D, NHEAD, 1, 1, FF, batch_first=True)(
        x((N, S, D)), x((N + 1, T, D)))),
    "d_model mismatch": (RuntimeError, lambda nn, x: nn.Transformer(D, NHEAD, 1, 1, FF)(x((S, N, D)), x((T, N, 4)))),
    "activation": (RuntimeError, lambda nn, x: nn.TransformerEncoderLayer(D, NHEAD, FF, activation="tanh")),
    "heads": (AssertionError, lambda nn, x: nn.TransformerEncoderLayer(10, 3)),
    "is_causal without a mask": (RuntimeError, lambda nn, x: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, NHEAD, FF), 1, enable_nested_tensor=False)(x((S, N, D)), is_causal=True)),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    exc, call = ERRORS[case]
    with pytest.raises(exc) as t_err:
        call(tnn, lambda shape: torch.zeros(shape))
    with pytest.raises(exc) as e_err:
        call(enn, lambda shape: ember.zeros(*shape))
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)
