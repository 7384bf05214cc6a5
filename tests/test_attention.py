"""Attention against torch: F.scaled_dot_product_attention (bool/float masks, causal with L ≠ S, scale,
broadcast batch dims, grouped-query heads, fully masked queries, dropout) and nn.MultiheadAttention (packed and
separate projections, kdim/vdim, bias, add_bias_kv, add_zero_attn, batch_first, unbatched, key padding and
attention masks, the is_causal hint, per-head weights, need_weights=False, eval-mode dropout): outputs, the
returned attention weights, every input and parameter gradient; gradcheck of every Function in attention.py;
torch's parameter names, init and error messages.
"""

import re
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.ops import attention
from helpers import assert_close, check_op, copy_weights, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]

# Both frameworks warn when a bool padding mask meets a float attention mask (tested once, below).
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning")


def _mask(kind, shape, seed=1, dtype="float64"):
    """A mask in both frameworks: bool (about a third True) or float (random values and some -inf)."""
    rng = np.random.default_rng(seed)
    drop = rng.random(shape) < 0.3
    drop[..., 0] = False  # every query keeps a key (a fully masked query is tested on its own)
    if kind == "bool":
        return ember.tensor(drop), torch.tensor(drop)
    values = np.where(drop, -np.inf, rng.standard_normal(shape)).astype(dtype)
    return ember.tensor(values), torch.tensor(values)


# ---- F.scaled_dot_product_attention ---------------------------------------------------------------------------

SDPA = {
    "plain": ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}),
    "3-d": ([(3, 4, 5), (3, 6, 5), (3, 6, 5)], {}),
    "2-d": ([(4, 5), (6, 5), (6, 3)], {}),
    "broadcast batch": ([(2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 5)], {}),
    "causal square": ([(2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)], dict(is_causal=True)),
    "causal L < S": ([(2, 3, 4), (2, 6, 4), (2, 6, 4)], dict(is_causal=True)),
    "causal L > S": ([(2, 6, 4), (2, 3, 4), (2, 3, 4)], dict(is_causal=True)),
    "scale": ([(2, 4, 5), (2, 6, 5), (2, 6, 5)], dict(scale=0.37)),
    "grouped-query heads": ([(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5)], dict(enable_gqa=True)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(SDPA))
def test_sdpa(case, dtype):
    shapes, kwargs = SDPA[case]
    out = check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
                   lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs), shapes, dtype=dtype)
    assert out[0].dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (3, 4, 6)], ids=str)
def test_sdpa_masks(mask_shape, kind, dtype):
    e_mask, t_mask = _mask(kind, mask_shape, dtype=dtype)
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=e_mask),
             lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=t_mask),
             [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5)], dtype=dtype)


def test_sdpa_float_mask_gets_a_gradient():
    # The float mask is added to the scores: d(loss)/d(mask) = dA, summed over the broadcast dims.
    check_op(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
             lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
             [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5), (4, 6)])


def test_sdpa_causal_with_a_mask_is_an_error_like_torch():
    e_mask, t_mask = _mask("bool", (4, 4))
    with pytest.raises(RuntimeError) as t_err:
        TF.scaled_dot_product_attention(*(torch.zeros(2, 4, 3),) * 3, attn_mask=t_mask, is_causal=True)
    with pytest.raises(RuntimeError) as e_err:
        F.scaled_dot_product_attention(*(ember.zeros(2, 4, 3),) * 3, attn_mask=e_mask, is_causal=True)
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)


def test_sdpa_fully_masked_query_gives_zeros_like_torch():
    mask = np.ones((4, 6), dtype=bool)
    mask[2] = False  # query 2 may attend to nothing
    out = check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=ember.tensor(mask)),
                   lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask)),
                   [(2, 4, 5), (2, 6, 5), (2, 6, 5)])
    assert not np.any(out[0].detach().numpy()[:, 2])


def test_sdpa_dropout():
    q, k, v = (ember.randn(2, 3, 8, 4, dtype=ember.float64) for _ in range(3))
    ember.manual_seed(5)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    ember.manual_seed(5)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # seeded: reproducible
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(a.numpy(), plain.numpy())
    # The weights after dropout are P·mask/(1 - p): each kept weight scaled by 1/0.6, the others 0.
    _, weights = attention.attention(q, k, v, dropout_p=0.4)
    _, p = attention.attention(q, k, v)
    w, p = weights.numpy(), p.numpy()
    kept = w != 0
    np.testing.assert_allclose(w[kept], p[kept] / 0.6, rtol=1e-12)
    assert 0.45 < kept.mean() < 0.75
    ones = ember.ones(2, 2, 2, dtype=ember.float64)
    assert not np.any(F.scaled_dot_product_attention(ones, ones, ones, dropout_p=1.0).numpy())


SDPA_ERRORS = [
    lambda m, t: m.scaled_dot_product_attention(t((4,)), t((4,)), t((4,))),
    lambda m, t: m.scaled_dot_product_attention(t((2, 4), "float32"), t((2, 4)), t((2, 4))),
    lambda m, t: m.scaled_dot_product_attention(t((2, 4)), t((2, 4)), t((2, 4)), attn_mask=t((2, 2), "int64")),
]


@pytest.mark.parametrize("k", range(len(SDPA_ERRORS)))
def test_sdpa_errors_match_torch(k):
    def tt(shape, dtype="float64"):
        return torch.zeros(shape, dtype=getattr(torch, dtype))

    def et(shape, dtype="float64"):
        return ember.zeros(*shape, dtype=getattr(ember, dtype))

    with pytest.raises(RuntimeError) as t_err:
        SDPA_ERRORS[k](TF, tt)
    with pytest.raises(RuntimeError) as e_err:
        SDPA_ERRORS[k](F, et)
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)
    with pytest.raises(RuntimeError, match="same E and S"):
        F.scaled_dot_product_attention(et((2, 4)), et((3, 5)), et((3, 4)))


# ---- gradcheck of every Function in attention.py ------------------------------------------------------------


def _weights_and_output(q, k, v, bias=None, dropout_p=0.0, repeat=1):
    ember.manual_seed(7)  # the same dropout mask on every evaluation, so the function is deterministic
    out, weights = attention.attention(q, k, v, bias, None, dropout_p, True, repeat)
    return out, weights


GRADCHECK = {
    "ScaledDotProductAttention": [
        (lambda q, k, v: F.scaled_dot_product_attention(q, k, v), [(2, 3, 4), (2, 5, 4), (2, 5, 3)]),
        (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.8),
         [(1, 4, 3), (1, 4, 3), (1, 4, 2)]),
        (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), [(2, 3, 4), (2, 5, 4), (2, 5, 3),
                                                                                  (3, 5)]),
        (_weights_and_output, [(2, 3, 4), (2, 5, 4), (2, 5, 3)]),  # both results: the weights' gradient path
        (lambda q, k, v: _weights_and_output(q, k, v, dropout_p=0.3), [(2, 3, 4), (2, 5, 4), (2, 5, 3)]),
        (lambda q, k, v: _weights_and_output(q, k, v, repeat=2), [(1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)]),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_every_attention_function_is_gradchecked():
    assert function_classes(attention) == set(GRADCHECK)


# ---- nn.MultiheadAttention ---------------------------------------------------------------------------------


def check_mha(kwargs, shapes, masks=None, call=None, dtype="float64", self_attention=False, seed=0, train=True):
    """Both layers with the same weights (non-zero biases) on the same inputs: output, attention weights, then
    the gradient of Σ out·U + Σ weights·W for every input and parameter."""
    torch.manual_seed(seed)
    t_layer = tnn.MultiheadAttention(**kwargs).to(getattr(torch, dtype))
    with torch.no_grad():
        for name, p in t_layer.named_parameters():
            if "bias" in name:
                p.uniform_(-0.5, 0.5)
    e_layer = enn.MultiheadAttention(**kwargs).to(dtype)
    copy_weights(t_layer, e_layer)
    t_layer.train(train), e_layer.train(train)
    rng = np.random.default_rng(seed)
    arrays = [random_array(s, dtype, rng) for s in shapes]
    if self_attention:
        e_x, t_x = ember.tensor(arrays[0], requires_grad=True), torch.tensor(arrays[0], requires_grad=True)
        e_in, t_in = [e_x] * 3, [t_x] * 3
    else:
        e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
        t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_kw, t_kw = ({}, {}) if masks is None else masks
    call = call or {}
    e_out, e_w = e_layer(*e_in, **e_kw, **call)
    t_out, t_w = t_layer(*t_in, **t_kw, **call)
    assert_close(e_out, t_out, dtype, "attn_output")
    assert (e_w is None) == (t_w is None)
    loss_e = (e_out * ember.tensor(u := random_array(tuple(t_out.shape), dtype, rng))).sum()
    loss_t = (t_out * torch.tensor(u)).sum()
    if t_w is not None:
        assert_close(e_w, t_w, dtype, "attn_weights")
        w = random_array(tuple(t_w.shape), dtype, rng)
        loss_e = loss_e + (e_w * ember.tensor(w)).sum()
        loss_t = loss_t + (t_w * torch.tensor(w)).sum()
    loss_e.backward(), loss_t.backward()
    for i, (ei, ti) in enumerate(zip(e_in[:1] if self_attention else e_in, t_in[:1] if self_attention else t_in)):
        assert_close(ei.grad, ti.grad, dtype, f"gradient of input {i}")
    e_params = dict(e_layer.named_parameters())
    assert sorted(e_params) == sorted(dict(t_layer.named_parameters()))
    for name, tp in t_layer.named_parameters():
        assert_close(e_params[name].grad, tp.grad, dtype, f"gradient of {name}")
    return e_out, e_w


def _masks(attn=None, padding=None, dtype="float64", seed=1):
    """(ember kwargs, torch kwargs) with an attn_mask of shape attn[1] and a key_padding_mask of shape padding[1]."""
    e_kw, t_kw = {}, {}
    for name, spec in (("attn_mask", attn), ("key_padding_mask", padding)):
        if spec is not None:
            kind, shape = spec
            e_kw[name], t_kw[name] = _mask(kind, shape, seed, dtype)
    return e_kw, t_kw


E, H, L, S, N = 8, 2, 5, 7, 3
MHA = {
    "self-attention (packed)": (dict(embed_dim=E, num_heads=H), [(L, N, E)], True, None, {}),
    "cross-attention": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False, None, {}),
    "one head": (dict(embed_dim=E, num_heads=1), [(L, N, E), (S, N, E), (S, N, E)], False, None, {}),
    "four heads": (dict(embed_dim=E, num_heads=4), [(L, N, E)], True, None, {}),
    "kdim, vdim": (dict(embed_dim=E, num_heads=H, kdim=6, vdim=4), [(L, N, E), (S, N, 6), (S, N, 4)], False, None, {}),
    "no bias": (dict(embed_dim=E, num_heads=H, bias=False), [(L, N, E), (S, N, E), (S, N, E)], False, None, {}),
    "add_bias_kv": (dict(embed_dim=E, num_heads=H, add_bias_kv=True), [(L, N, E), (S, N, E), (S, N, E)], False,
                    None, {}),
    "add_zero_attn": (dict(embed_dim=E, num_heads=H, add_zero_attn=True), [(L, N, E)], True, None, {}),
    "bias_kv, zero_attn, masks": (dict(embed_dim=E, num_heads=H, add_bias_kv=True, add_zero_attn=True),
                                  [(L, N, E), (S, N, E), (S, N, E)], False,
                                  (("bool", (L, S)), ("bool", (N, S))), {}),
    "batch_first self": (dict(embed_dim=E, num_heads=H, batch_first=True), [(N, L, E)], True, None, {}),
    "batch_first cross": (dict(embed_dim=E, num_heads=H, batch_first=True), [(N, L, E), (N, S, E), (N, S, E)],
                          False, (("float", (L, S)), ("bool", (N, S))), {}),
    "unbatched": (dict(embed_dim=E, num_heads=H), [(L, E), (S, E), (S, E)], False, None, {}),
    "unbatched, 3-d mask, padding": (dict(embed_dim=E, num_heads=H), [(L, E), (S, E), (S, E)], False,
                                     (("bool", (H, L, S)), ("bool", (S,))), {}),
    "bool key padding": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False,
                         (None, ("bool", (N, S))), {}),
    "float key padding": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False,
                          (None, ("float", (N, S))), {}),
    "bool attn_mask": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False,
                       (("bool", (L, S)), None), {}),
    "float attn_mask": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False,
                        (("float", (L, S)), None), {}),
    "3-d attn_mask": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False,
                      (("float", (N * H, L, S)), ("float", (N, S))), {}),
    "per-head weights": (dict(embed_dim=E, num_heads=H), [(L, N, E)], True, (("bool", (L, L)), None),
                         dict(average_attn_weights=False)),
    "need_weights=False": (dict(embed_dim=E, num_heads=H), [(L, N, E), (S, N, E), (S, N, E)], False,
                           (("bool", (L, S)), ("bool", (N, S))), dict(need_weights=False)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(MHA))
def test_multihead_attention(case, dtype):
    kwargs, shapes, self_attention, masks, call = MHA[case]
    mask_kw = None if masks is None else _masks(*masks, dtype=dtype)
    e_out, _ = check_mha(kwargs, shapes, mask_kw, call, dtype, self_attention)
    assert e_out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_is_causal_hint(need_weights):
    causal = np.triu(np.full((L, L), -np.inf), 1)
    masks = ({"attn_mask": ember.tensor(causal)}, {"attn_mask": torch.tensor(causal)})
    check_mha(dict(embed_dim=E, num_heads=H), [(L, N, E)], masks, dict(is_causal=True, need_weights=need_weights),
              self_attention=True)


def test_multihead_attention_eval_ignores_dropout_and_train_uses_it():
    check_mha(dict(embed_dim=E, num_heads=H, dropout=0.5), [(L, N, E)], self_attention=True, train=False)
    layer = enn.MultiheadAttention(E, H, dropout=0.5).double()
    x = ember.randn(L, N, E, dtype=ember.float64)
    a, wa = layer(x, x, x)
    b, wb = layer(x, x, x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    kept = wa.detach().numpy() != 0
    assert 0.6 < kept.mean() < 0.9  # the averaged weights of 2 heads: zero where both heads dropped (p² = 0.25)
    layer.eval()
    c, _ = layer(x, x, x)
    d, _ = layer(x, x, x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())


def test_multihead_attention_fully_masked_query_is_nan_with_weights_like_torch():
    # torch's explicit path (need_weights=True) is a plain softmax: a query with every key masked gives NaN.
    mask = np.zeros((L, S), dtype=bool)
    mask[1] = True
    e_layer, t_layer = enn.MultiheadAttention(E, H).double(), tnn.MultiheadAttention(E, H).double()
    copy_weights(t_layer, e_layer)
    q, kv = random_array((L, N, E)), random_array((S, N, E))
    for need_weights in (True, False):
        e_out, _ = e_layer(ember.tensor(q), ember.tensor(kv), ember.tensor(kv), attn_mask=ember.tensor(mask),
                           need_weights=need_weights)
        t_out, _ = t_layer(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), attn_mask=torch.tensor(mask),
                           need_weights=need_weights)
        np.testing.assert_array_equal(np.isnan(e_out.detach().numpy()), np.isnan(t_out.detach().numpy()))
        finite = ~np.isnan(t_out.detach().numpy())
        np.testing.assert_allclose(e_out.detach().numpy()[finite], t_out.detach().numpy()[finite], rtol=1e-9)


@pytest.mark.parametrize("kwargs", [dict(), dict(kdim=6, vdim=4), dict(bias=False), dict(add_bias_kv=True)], ids=str)
def test_multihead_attention_parameters_and_init_like_torch(kwargs):
    e, t = enn.MultiheadAttention(E, H, **kwargs), tnn.MultiheadAttention(E, H, **kwargs)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert repr(e) == repr(t)
    if e.in_proj_weight is not None:
        bound = np.sqrt(6 / (E + 3 * E))  # xavier_uniform_ on the packed (3E, E) weight
        w = e.in_proj_weight.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    if e.in_proj_bias is not None:
        assert not np.any(e.in_proj_bias.detach().numpy()) and not np.any(e.out_proj.bias.detach().numpy())
    if kwargs.get("add_bias_kv"):
        assert np.any(e.bias_k.detach().numpy())  # xavier_normal_
    else:
        assert e.bias_k is None and e.bias_v is None
    assert e.head_dim == E // H and e._qkv_same_embed_dim == ("kdim" not in kwargs)


def test_multihead_attention_construction_errors_match_torch():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        enn.MultiheadAttention(10, 3)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        tnn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError) as t_err:
        tnn.MultiheadAttention(0, 2)
    with pytest.raises(ValueError) as e_err:
        enn.MultiheadAttention(0, 2)
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value)


MHA_CALL_ERRORS = {
    "is_causal without a mask": (RuntimeError, lambda m, q, kv, t: m(q, q, q, is_causal=True)),
    "2-d mask of the wrong shape": (RuntimeError, lambda m, q, kv, t: m(q, kv, kv, attn_mask=t(np.zeros((L, L))))),
    "3-d mask of the wrong shape": (RuntimeError,
                                    lambda m, q, kv, t: m(q, kv, kv, attn_mask=t(np.zeros((N, L, S))))),
    "integer mask": (AssertionError, lambda m, q, kv, t: m(q, kv, kv, attn_mask=t(np.zeros((L, S), np.int64)))),
    "4-d query": (AssertionError, lambda m, q, kv, t: m(q[None], kv[None], kv[None])),
    "2-d key with 3-d query": (AssertionError, lambda m, q, kv, t: m(q, kv[0], kv[0])),
    "wrong embedding": (AssertionError, lambda m, q, kv, t: m(q[..., :4], kv[..., :4], kv[..., :4])),
    "key and value differ": (AssertionError, lambda m, q, kv, t: m(q, kv, kv[:3])),
    "padding of the wrong length": (AssertionError,
                                    lambda m, q, kv, t: m(q, kv, kv, key_padding_mask=t(np.zeros((N, S + 1), bool)))),
    "padding 3-d": (AssertionError, lambda m, q, kv, t: m(q, kv, kv, key_padding_mask=t(np.zeros((N, S, 1), bool)))),
}


@pytest.mark.parametrize("case", list(MHA_CALL_ERRORS))
def test_multihead_attention_call_errors_match_torch(case):
    exc, call = MHA_CALL_ERRORS[case]
    q, kv = random_array((L, N, E)), random_array((S, N, E))
    e_layer, t_layer = enn.MultiheadAttention(E, H).double(), tnn.MultiheadAttention(E, H).double()
    with pytest.raises(exc) as t_err:
        call(t_layer, torch.tensor(q), torch.tensor(kv), torch.tensor)
    with pytest.raises(exc) as e_err:
        call(e_layer, ember.tensor(q), ember.tensor(kv), ember.tensor)
    # torch prints shapes as torch.Size([5, 5]), Ember as (5, 5)
    assert re.sub(r"^[A-Z]\w*: ", "", str(e_err.value)) == str(t_err.value).replace("torch.Size([", "(").replace("])", ")")


def test_multi_head_attention_forward_functional():
    t_layer = tnn.MultiheadAttention(E, H).double()
    q, kv = random_array((L, N, E)), random_array((S, N, E))
    args = lambda lib, p: (E, H, p["in_proj_weight"], p["in_proj_bias"], None, None, False, 0.0,  # noqa: E731
                           p["out_proj.weight"], p["out_proj.bias"])
    t_params = dict(t_layer.named_parameters())
    e_params = {k: ember.tensor(v.detach().numpy()) for k, v in t_params.items()}
    e_out, e_w = F.multi_head_attention_forward(ember.tensor(q), ember.tensor(kv), ember.tensor(kv),
                                                *args(ember, e_params))
    t_out, t_w = TF.multi_head_attention_forward(torch.tensor(q), torch.tensor(kv), torch.tensor(kv),
                                                 *args(torch, t_params))
    assert_close(e_out, t_out), assert_close(e_w, t_w)


@pytest.mark.filterwarnings("error")
def test_mismatched_mask_types_warn_like_torch():
    layer = enn.MultiheadAttention(E, H)
    x = ember.randn(L, N, E)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        layer(x, x, x, key_padding_mask=ember.zeros(N, L).bool(), attn_mask=ember.zeros(L, L))
