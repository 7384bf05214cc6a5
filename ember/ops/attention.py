"""Scaled dot-product attention (Vaswani et al. 2017) as one Function with its closed-form backward.

For queries Q (…, L, E), keys K (…, S, E) and values V (…, S, Ev):

    A = Q Kᵀ · scale + B          scale = 1/√E by default; B an additive mask (-inf where attention is forbidden)
    P = softmax(A) over the keys    each query's weights over the S keys sum to 1
    P̃ = P ⊙ M / (1 - p)            attention dropout, M ~ Bernoulli(1 - p) (p = 0: P̃ = P)
    O = P̃ V                         (…, L, Ev)

Backward, with G = dO (and dP̃ from a caller that also uses the returned weights, like MultiheadAttention):

    dV = P̃ᵀ G,   dP̃ += G Vᵀ,   dP = dP̃ ⊙ M/(1 - p),   dA = P ⊙ (dP - Σ_keys dP ⊙ P)   (the softmax gate)
    dQ = scale · dA K,   dK = scale · dAᵀ Q,   dB = dA
"""

import warnings

from .. import backend
from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .linalg import linear
from .shape import cat


def _swap(a):
    return a.swapaxes(-1, -2)


class ScaledDotProductAttention(Function):
    """O = softmax(Q Kᵀ · scale + B) V (see the module docstring); returns (O, P̃), the output and its weights.

    ``safe``: a query whose keys are all masked gets weights 0 (torch's SDPA); otherwise NaN, as a plain softmax
    (torch's MultiheadAttention when it returns the weights). ``repeat``: each key/value head serves that many
    consecutive query heads (grouped-query attention).
    """

    @staticmethod
    def forward(ctx, q, k, v, bias, scale, dropout_p, safe, repeat):
        if repeat > 1:
            k, v = xp.repeat(k, repeat, axis=-3), xp.repeat(v, repeat, axis=-3)
        scores = (q @ _swap(k)) * scale  # (…, L, S)
        if bias is not None:
            scores = scores + bias.astype(scores.dtype, copy=False)  # a float64 mask must not upcast float32 scores
        top = scores.max(axis=-1, keepdims=True)
        if safe:
            top = xp.where(xp.isneginf(top), 0, top)  # an all -inf row: exp gives zeros instead of NaN
            e = xp.exp(scores - top)
            total = e.sum(axis=-1, keepdims=True)
            weights = e / xp.where(total == 0, 1, total)
        else:
            with xp.errstate(invalid="ignore"):  # -inf - (-inf) = NaN, as torch's softmax gives
                e = xp.exp(scores - top)
                weights = e / e.sum(axis=-1, keepdims=True)
        mask = None
        dropped = weights
        if dropout_p > 0:
            keep = xp.asarray(backend.generator().random(weights.shape, dtype=xp.float32)) >= dropout_p
            mask = keep * xp.asarray(1 / (1 - dropout_p) if dropout_p < 1 else 0, dtype=weights.dtype)
            dropped = weights * mask
        out = dropped @ v  # (…, L, Ev)
        ctx.save(q, k, v, weights, dropped, mask)
        ctx.scale, ctx.repeat = scale, repeat
        ctx.bias_dtype = None if bias is None else bias.dtype
        return out, dropped

    @staticmethod
    def backward(ctx, grad_out, grad_weights):
        q, k, v, weights, dropped, mask = ctx.saved
        need_q, need_k, need_v, need_b = ctx.needs_input_grad[:4]
        d_dropped = grad_out @ _swap(v) + grad_weights  # (…, L, S)
        d_weights = d_dropped if mask is None else d_dropped * mask
        d_scores = weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True))
        dq = (d_scores @ k) * ctx.scale if need_q else None
        dk = (_swap(d_scores) @ q) * ctx.scale if need_k else None
        dv = _swap(dropped) @ grad_out if need_v else None
        if ctx.repeat > 1:  # the shared key/value heads collect the gradients of every query head they served
            dk = None if dk is None else _fold_heads(dk, ctx.repeat)
            dv = None if dv is None else _fold_heads(dv, ctx.repeat)
        d_bias = d_scores.astype(ctx.bias_dtype, copy=False) if need_b else None
        return dq, dk, dv, d_bias


def _fold_heads(g, repeat):
    """Sum the gradient of each run of ``repeat`` consecutive heads (axis -3): the inverse of xp.repeat."""
    shape = g.shape
    return g.reshape(shape[:-3] + (shape[-3] // repeat, repeat) + shape[-2:]).sum(axis=-3)


def _dtype_name(dtype):
    return {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int"}.get(
        str(dtype), str(dtype))


def attention_bias(attn_mask, dtype):
    """An additive float mask from a bool ``attn_mask`` (True = may attend, so False becomes -inf); a float mask
    is returned unchanged (it is added to the scores, and gets a gradient when it requires one)."""
    if attn_mask is None or attn_mask.dtype.kind == "f":
        return attn_mask
    return Tensor(xp.where(attn_mask.array, xp.asarray(0, dtype=dtype), xp.asarray(-xp.inf, dtype=dtype)))


def causal_bias(target_len, source_len, dtype):
    """-inf above the diagonal of an (L, S) matrix (query i sees keys 0..i, aligned at the top left, as torch)."""
    allowed = xp.tril(xp.ones((target_len, source_len), dtype=bool))
    return xp.where(allowed, xp.asarray(0, dtype=dtype), xp.asarray(-xp.inf, dtype=dtype))


def attention(query, key, value, bias=None, scale=None, dropout_p=0.0, safe=True, repeat=1):
    """Both results of ScaledDotProductAttention: (output, weights after dropout). ``bias`` is an additive float
    mask (Tensor or array) that broadcasts against the (…, L, S) scores."""
    scale = 1 / float(query.shape[-1]) ** 0.5 if scale is None else float(scale)
    return ScaledDotProductAttention.apply(query, key, value, bias, scale, float(dropout_p), safe, repeat)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``torch.nn.functional.scaled_dot_product_attention``: softmax(Q Kᵀ/√E + mask) V over the last two dims.

    ``attn_mask``: bool (True = take part in attention) or float (added to the scores), broadcasting against
    (…, L, S). ``is_causal``: query i attends to keys 0..i only (and ``attn_mask`` must be None). ``dropout_p`` drops attention weights whenever it is > 0, as torch's (pass
    ``dropout_p=p if self.training else 0.0``). A query whose keys are all masked gets output 0.
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_dtype_name(query.dtype)} key.dtype: {_dtype_name(key.dtype)} and value.dtype: "
            f"{_dtype_name(value.dtype)} instead."
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: expected query (…, L, E), key (…, S, E) and value (…, S, Ev) with the "
            f"same E and S, got query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        )
    if attn_mask is not None and attn_mask.dtype.kind not in "bf":
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
            f"{_dtype_name(attn_mask.dtype)} and  query.dtype: {_dtype_name(query.dtype)} instead."
        )
    repeat = 1
    if enable_gqa and query.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        if query.shape[-3] % key.shape[-3] or key.shape[-3] != value.shape[-3]:
            raise RuntimeError(
                f"scaled_dot_product_attention: with enable_gqa the query heads ({query.shape[-3]}) must be a multiple "
                f"of the key and value heads (key {key.shape[-3]}, value {value.shape[-3]})"
            )
        repeat = query.shape[-3] // key.shape[-3]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
        bias = causal_bias(query.shape[-2], key.shape[-2], query.dtype)
    else:
        bias = attention_bias(attn_mask, query.dtype)
    out, _ = attention(query, key, value, bias, scale, dropout_p, True, repeat)
    return out


# ----------------------------------------------------------------------------------------------------
# Multi-head attention (torch.nn.functional.multi_head_attention_forward): project, split into heads, attend,
# merge the heads, project out. Sequence-first layout, (L, N, E), as torch's.


def canonical_mask(mask, name, dtype):
    """torch's _canonical_mask: a bool mask (True = *not* allowed) becomes an additive float one (-inf)."""
    if mask is None:
        return None
    if mask.dtype.kind not in "bf":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if mask.dtype.kind == "f":
        return mask
    return Tensor(xp.where(mask.array, xp.asarray(-xp.inf, dtype=dtype), xp.asarray(0, dtype=dtype)))


def _pad_last(mask):
    """One more key that everyone may attend (a 0 column): for bias_k/bias_v and add_zero_attn."""
    zeros = Tensor(xp.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype))
    return cat([mask, zeros], dim=-1)


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """torch's _mha_shape_check: (L, N, E) batched or (L, E) unbatched, with masks to match; returns is_batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """``torch.nn.functional.multi_head_attention_forward``: query (L, N, E), key (S, N, kdim), value (S, N, vdim)
    or unbatched (L, E)...; returns (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) per
    head, or None). Masks: ``attn_mask`` (L, S) or (N·H, L, S), ``key_padding_mask`` (N, S); bool True or float
    -inf forbids a position. Each head h attends with its own slice of the projections:

        headₕ = softmax(Qₕ Kₕᵀ/√(E/H) + mask) Vₕ,   output = concat(head₁..head_H) W_outᵀ + b_out
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not supported in Ember")
    is_batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:  # a batch of one, removed again at the end
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if key_padding_mask is not None and attn_mask is not None and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for "
                      "both instead.", stacklevel=2)
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone: the causal mask is built inside the attention
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", query.dtype)
        is_causal = False  # the mask given (merged with the padding) is used as it is
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")

    # Input projections: one GEMM for self-attention with packed weights, else one per input.
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = (in_proj_bias[i * embed_dim:(i + 1) * embed_dim] for i in range(3))
    if not use_separate_proj_weight:
        if query is key and key is value:
            qkv = linear(query, in_proj_weight, in_proj_bias)  # (L, N, 3E)
            q, k, v = (qkv[..., i * embed_dim:(i + 1) * embed_dim] for i in range(3))
        else:
            w_q, w_k, w_v = (in_proj_weight[i * embed_dim:(i + 1) * embed_dim] for i in range(3))
            q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    else:
        q, k, v = linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k), linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None and bias_v is not None:  # one learned key/value appended to every sequence
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None else
                             "bias_v is set but bias_k is None")

    # Split the heads: (L, N, E) -> (N, H, L, E/H).
    q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    k = k.reshape(k.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    v = v.reshape(v.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    if add_zero_attn:  # one all-zero key/value per head
        zeros = Tensor(xp.zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype))
        k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    src_len = k.shape[2]

    bias = None
    if attn_mask is not None:
        bias = attn_mask.reshape(-1, num_heads, tgt_len, src_len) if attn_mask.shape[0] > 1 else attn_mask
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            which, want, got = ((0, bsz, key_padding_mask.shape[0]) if key_padding_mask.shape[0] != bsz
                                else (1, src_len, key_padding_mask.shape[1]))
            raise AssertionError(f"Expected key_padded_mask.shape[{which}] to be {want}, but got {got}")
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len)
        bias = padding if bias is None else bias + padding
    if is_causal:
        bias = causal_bias(tgt_len, src_len, q.dtype)
    if not training:
        dropout_p = 0.0
    # need_weights: a plain softmax (NaN for a fully masked query), as torch's explicit path; otherwise SDPA's.
    out, weights = attention(q, k, v, bias, None, dropout_p, safe=not need_weights)  # (N, H, L, E/H)
    out = out.permute(2, 0, 1, 3).reshape(tgt_len, bsz, embed_dim)  # merge the heads: (L, N, E)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not need_weights:
        return (out if is_batched else out.squeeze(1)), None
    if average_attn_weights:
        weights = weights.mean(dim=1)  # (N, L, S)
    if not is_batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights
