"""Batch normalization (Ioffe & Szegedy 2015) with its closed-form backward in one fused Function.

Per channel c, over the batch (and the spatial positions):

    μ = mean(x),  σ² = mean((x - μ)²)        (the biased variance normalises)
    x̂ = (x - μ) / √(σ² + ε),   y = γ x̂ + β

and the running statistics used at evaluation time are updated with the *unbiased* variance:

    running_mean ← (1 - m)·running_mean + m·μ
    running_var  ← (1 - m)·running_var  + m·σ²·n/(n - 1)

Backward (n values per channel, g = dy):

    dβ = Σ g,   dγ = Σ g·x̂,   dx = γ/(n·√(σ² + ε)) · (n·g - Σ g - x̂·Σ g·x̂)

Local response normalization (Krizhevsky et al. 2012, AlexNet) divides each activation by the energy of
its neighbours across channels, a lateral inhibition with its own fused Function (LocalResponseNorm below).
"""

import math

from ..autograd.function import Function
from ..backend import xp
from ..parallel import num_threads, per_shard, run, shards
from .validate import ArgumentError, ShapeError, same_dtype, tensor_input


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """y = γ (x - μ)/√(σ² + ε) + β over every axis but the channel axis 1 (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        if training and _fused(x):
            return _train_forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps)
        if training:
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            n = x.size // x.shape[1]
            _update_running(running_mean, running_var, mean.reshape(-1), var.reshape(-1) * (n / (n - 1)), momentum)
        else:
            mean, var = running_mean.reshape(shape), running_var.reshape(shape)
            centered = x - mean
        inv_std = 1 / xp.sqrt(var + eps)
        x_hat = centered * inv_std
        y = x_hat
        if weight is not None:
            y = y * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        ctx.save(x_hat, inv_std, weight)
        ctx.training, ctx.axes = training, axes
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved
        axes = ctx.axes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        centered = getattr(ctx, "centered", False)  # the fused forward kept x - μ, not x̂
        if ctx.training and _fused(grad) and _fused(x_hat):
            return _train_backward(grad, x_hat, inv_std, weight, need_x, need_w, need_b, centered)
        if centered:
            x_hat = x_hat * inv_std
        dgamma = (grad * x_hat).sum(axis=axes) if need_w or (need_x and ctx.training) else None
        dbeta = grad.sum(axis=axes) if need_b or (need_x and ctx.training) else None
        dx = None
        if need_x:
            scale = inv_std if weight is None else weight.reshape(inv_std.shape) * inv_std
            if ctx.training:
                n = grad.size // grad.shape[1]
                shape = inv_std.shape
                dx = (scale / n) * (n * grad - dbeta.reshape(shape) - x_hat * dgamma.reshape(shape))
            else:  # the statistics are constants at evaluation time
                dx = grad * scale
        return dx, (dgamma if need_w else None), (dbeta if need_b else None), None, None


# The training pass on a float32/float64 batch, seen as (N, C, positions): each per-channel sum is one
# einsum, which reads its operands once and makes no temporary (x - μ squared, g·x̂), so forward makes
# four passes over the batch instead of seven and backward three instead of six.


def _fused(array):
    return array.ndim >= 2 and array.dtype in (xp.dtype("float32"), xp.dtype("float64")) and array.size > 0


def _channel_shards(channels, channel_bytes):
    """Cache-sized groups of channels when the pool has threads to share them; on one thread, one pass over
    all channels (slicing the channels costs ~4 % of a ResNet-20 step there and buys nothing)."""
    if num_threads() <= 1:
        return [(0, channels)]
    return shards(channels, per_shard(channel_bytes))


def _per_channel(span, *arrays):
    """(j, (slices)) for the element-wise passes over channels ``span`` of (N, C, positions) arrays, j
    indexing a vector of the span's channels: one channel at a time, an (N, positions) slice with scalar constants,
    when a channel is large (NumPy runs a scalar operand faster than a (channels, 1) column broadcast over
    the shard: forward ~20 %, backward ~5 % less CPU time at 32k-131k values per channel); else the whole
    span at once with j a (channels, 1) column index (below ~16k values the per-call cost wins)."""
    start, stop = span
    if arrays[0][:, 0].size >= _PER_CHANNEL_MIN:
        return [(j, tuple(a[:, start + j] for a in arrays)) for j in range(stop - start)]
    return [((slice(None), None), tuple(a[:, start:stop] for a in arrays))]


_PER_CHANNEL_MIN = 16384  # values per channel (N × positions) from which a channel gets its own ufunc calls


def _moments(span, x3, saved, mean, m2, n):
    """For the channels of ``span`` of an (N, C, positions) batch: mean = Σ x/n, saved = x - mean, and
    m2 = Σ (x - mean)² (two passes: never E[x²] - μ², which cancels catastrophically when |μ| ≫ σ)."""
    c = slice(*span)
    mean[c] = xp.einsum("nci->c", x3[:, c]) / n
    _center(span, x3, saved, mean)
    centered = saved[:, c]
    m2[c] = xp.einsum("nci,nci->c", centered, centered)


def _center(span, x3, saved, mean):
    """saved = x - mean for the channels of ``span`` (``mean`` a vector over all channels)."""
    span_mean = mean[slice(*span)]
    for j, (src, dst) in _per_channel(span, x3, saved):
        xp.subtract(src, span_mean[j], out=dst)


def _affine(span, saved, y, inv_std, weight, bias):
    """y = (x - μ)·(γ/√(σ² + ε)) + β for the channels of ``span``, straight from ``saved`` = x - μ."""
    c = slice(*span)
    scale = inv_std[c] if weight is None else inv_std[c] * weight[c]
    shift = bias[c] if bias is not None else None
    for j, (src, dst) in _per_channel(span, saved, y):
        out = xp.multiply(src, scale[j], out=dst)
        if shift is not None:
            out += shift[j]


def _train_buffers(x, weight, bias):
    """(x as (N, C, positions), x - μ's array, y's array, affine): y is the same array when there is no γ or
    β, since x̂ is then y and is what backward keeps."""
    channels = x.shape[1]
    x3 = x.reshape(x.shape[0], channels, math.prod(x.shape[2:]))  # (N, C, positions), also for N = 0
    saved = xp.empty(x3.shape, dtype=x.dtype)
    affine = weight is not None or bias is not None
    y = xp.empty(x3.shape, dtype=xp.result_type(x, weight) if weight is not None else x.dtype) if affine else saved
    return x3, saved, y, affine


def _train_forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
    channels = x.shape[1]
    n = x.size // channels
    x3, saved, y, affine = _train_buffers(x, weight, bias)  # saved: x - μ when affine, else x̂ (= y)
    mean, var = xp.empty(channels, dtype=x.dtype), xp.empty(channels, dtype=x.dtype)
    inv_std = xp.empty(channels, dtype=x.dtype)

    def shard(span):  # a few channels: every pass over them while they are in cache, on every core
        c = slice(*span)
        _moments(span, x3, saved, mean, var, n)
        var[c] /= n  # the biased variance
        inv_std[c] = 1 / xp.sqrt(var[c] + eps)
        # y straight from x - μ, which backward keeps instead of x̂: one pass over the batch fewer than
        # scaling x - μ to x̂ first. (Without γ and β, x̂ is y and is kept.)
        _affine(span, saved, y, inv_std, weight, bias)

    run(shard, _channel_shards(channels, n * x.itemsize))
    _update_running(running_mean, running_var, mean, var * (n / (n - 1)), momentum)
    ctx.save(saved.reshape(x.shape), inv_std.reshape(_channel_shape(x)), weight)
    ctx.training, ctx.axes, ctx.centered = True, (0,) + tuple(range(2, x.ndim)), affine
    return y.reshape(x.shape)


def _update_running(running_mean, running_var, mean, unbiased_var, momentum):
    """running ← (1 - m)·running + m·batch, in place: the buffers are the layer's own arrays."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * unbiased_var


def _train_backward(grad, saved, inv_std, weight, need_x, need_w, need_b, centered=False):
    """dβ = Σ g, dγ = Σ g·x̂, dx = γ/√(σ² + ε) · (g - dβ/n - x̂·dγ/n).

    ``saved`` is x̂, or x - μ when ``centered`` (x̂ = (x - μ)·f with f = 1/√(σ² + ε)): then dγ = f·Σ g·(x - μ)
    and x̂·dγ/n = (x - μ)·(f·dγ/n), so the per-channel factor f folds into constants and x̂ is never made.
    """
    channels = grad.shape[1]
    n = grad.size // channels
    g3, xh3, dbeta, dgamma, dx = _grad_buffers(grad, saved, need_x)
    factor = inv_std.reshape(-1) if centered else None
    scale = _dx_scale(inv_std, weight)

    def shard(span):  # a few channels: the sums and dx while they are in cache
        _grad_sums(span, g3, xh3, dbeta, dgamma, factor)
        if need_x:
            _grad_input(span, g3, xh3, dx, dbeta, dgamma, factor, scale, n)

    run(shard, _channel_shards(channels, n * grad.itemsize))
    dx = dx.reshape(grad.shape) if need_x else None
    return dx, (dgamma if need_w else None), (dbeta if need_b else None), None, None


def _grad_buffers(grad, saved, need_x):
    """(g and saved as (N, C, positions), dβ's and dγ's arrays, dx's array or None)."""
    channels = grad.shape[1]
    g3 = grad.reshape(grad.shape[0], channels, math.prod(grad.shape[2:]))
    dbeta, dgamma = xp.empty(channels, dtype=grad.dtype), xp.empty(channels, dtype=grad.dtype)
    dx = xp.empty(g3.shape, dtype=xp.result_type(grad, saved)) if need_x else None
    return g3, saved.reshape(g3.shape), dbeta, dgamma, dx


def _dx_scale(inv_std, weight):
    """γ/√(σ² + ε) per channel (1/√(σ² + ε) without γ)."""
    return inv_std.reshape(-1) if weight is None else weight * inv_std.reshape(-1)


def _grad_sums(span, g3, xh3, dbeta, dgamma, factor=None):
    """dβ = Σ g and dγ = Σ g·x̂ for the channels of ``span`` (x̂ = saved·factor when a factor is given)."""
    c = slice(*span)
    dbeta[c] = xp.einsum("nci->c", g3[:, c])
    dgamma[c] = xp.einsum("nci,nci->c", g3[:, c], xh3[:, c])
    if factor is not None:
        dgamma[c] *= factor[c]


def _grad_input(span, g3, xh3, dx, dbeta, dgamma, factor, scale, n):
    """dx = scale·(g - dβ/n - x̂·dγ/n) for the channels of ``span``, from the sums over n values per channel."""
    c = slice(*span)
    k = (dgamma[c] if factor is None else dgamma[c] * factor[c]) / n
    mean_g, local_scale = dbeta[c] / n, scale[c]
    for j, (g, xh, out) in _per_channel(span, g3, xh3, dx):
        xp.multiply(xh, k[j], out=out)
        xp.subtract(g, out, out=out)
        out -= mean_g[j]
        out *= local_scale[j]


def _check_channels(name, x, **per_channel):
    """Every given per-channel tensor (weight, bias, running statistics) has one value per channel of x."""
    channels = x.shape[1]
    for what, t in per_channel.items():
        if t is not None and t.shape != (channels,):
            raise ShapeError(
                f"{name}: expected an input with {t.shape[0]} channels (from {what}), got {channels} channels "
                f"(input shape {tuple(x.shape)}); check num_features or the previous layer's output"
            )


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
               layer=None):
    """``torch.nn.functional.batch_norm``: normalise over every axis but axis 1 (the channels)."""
    name = str(layer) if layer is not None else "batch_norm"
    tensor_input(x, name)
    if x.ndim < 2:
        raise ShapeError(f"{name}: expected an input of at least 2 dims (N, C, ...), got shape {tuple(x.shape)}")
    channels = x.shape[1]
    _check_channels(name, x, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    if training and x.array.size // channels <= 1:
        raise ValueError(
            f"{name}: expected more than 1 value per channel when training, got input shape {tuple(x.shape)}; "
            "use a batch larger than 1 or call .eval()"
        )
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{name}: evaluation needs running_mean and running_var (or training=True)")
    rm = running_mean.array if running_mean is not None else None
    rv = running_var.array if running_var is not None else None
    return BatchNorm.apply(x, weight, bias, rm, rv, training, momentum, eps)


# ----------------------------------------------------------------------------------------------------
# Local response normalization: a window of n neighbouring channels inhibits each activation.


def _channel_window_sum(v, before, after):
    """s_c = Σ v_{c'} for c' from c - before to c + after along axis 1, counting zeros beyond the edges.

    One shifted-slice add per window offset: n - 1 whole-array adds and no loop over samples or pixels.
    A cumulative-sum difference would be O(1) in n but loses float32 precision to cancellation.
    """
    channels = v.shape[1]
    s = v.copy()
    for d in range(1, min(after, channels - 1) + 1):  # c reads c + d
        s[:, : channels - d] += v[:, d:]
    for d in range(1, min(before, channels - 1) + 1):  # c reads c - d
        s[:, d:] += v[:, : channels - d]
    return s


class LocalResponseNorm(Function):
    """b_c = a_c / D_c^β,   D_c = k + (α/n) Σ_{c' ∈ W(c)} a_{c'}²,   W(c) = [c - ⌊n/2⌋, c + ⌊(n-1)/2⌋]

    over the channels c of axis 1 (zeros beyond the edges, PyTorch's window). Each a_j enters its own b_j and,
    squared, the D_c of every window holding it, c ∈ W'(j) = [j - ⌊(n-1)/2⌋, j + ⌊n/2⌋] (W mirrored):

        da_j = g_j D_j^-β - (2αβ/n) a_j Σ_{c ∈ W'(j)} g_c b_c / D_c
    """

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        before, after = size // 2, (size - 1) // 2
        denom = _channel_window_sum(x * x, before, after)
        denom *= alpha / size
        denom += k
        scale = xp.power(denom, -beta)
        ctx.save(x, denom, scale)
        ctx.lrn = (size, alpha, beta)
        return x * scale

    @staticmethod
    def backward(ctx, grad):
        x, denom, scale = ctx.saved
        size, alpha, beta = ctx.lrn
        gbd = grad * x * scale / denom  # g_c b_c / D_c, since b_c = a_c D_c^-β
        inhibition = _channel_window_sum(gbd, (size - 1) // 2, size // 2)
        return grad * scale - (2 * alpha * beta / size) * x * inhibition


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0, layer=None):
    """``torch.nn.functional.local_response_norm`` over the channels (axis 1) of an (N, C, ...) input."""
    name = str(layer) if layer is not None else "local_response_norm"
    if x.ndim < 3:
        raise ValueError(
            f"{name}: expected an input of at least 3 dims, (N, C, L), (N, C, H, W) or (N, C, D, H, W), got shape "
            f"{tuple(x.shape)}; add the batch dimension with x.unsqueeze(0)"
        )
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ArgumentError(f"{name}: size (the number of neighbouring channels) must be a positive int, got "
                            f"size={size!r}")
    if x.array.size == 0:  # as torch: nothing to normalise
        return x
    return LocalResponseNorm.apply(x, size, alpha, beta, k)


# ----------------------------------------------------------------------------------------------------
# Layer, group and instance normalization (Ba et al. 2016; Wu & He 2018; Ulyanov et al. 2016): the same
# x̂ = (x - μ)/√(σ² + ε) as batch norm, but the statistics are taken per sample (over its last dims, over a
# group of its channels, or over each channel's positions), so they never mix samples and train = eval.
#
# Over a normalised set of n values with g = dy and ĝ = g·γ (the gradient reaching x̂):
#
#     dx = (1/√(σ² + ε)) · (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))
#
# and the affine γ, β (per feature for layer norm, per channel for group norm) get Σ g·x̂ and Σ g.


def _normalize(x, axes, eps):
    """x̂ = (x - μ)/√(σ² + ε) with the biased variance over ``axes``; returns (x̂, 1/√(σ² + ε))."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = 1 / xp.sqrt(var + eps)
    return centered * inv_std, inv_std


def _normalized_grad(g_hat, x_hat, inv_std, axes):
    """dx = inv_std · (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) over the normalised ``axes`` (the closed form above)."""
    return inv_std * (g_hat - g_hat.mean(axis=axes, keepdims=True)
                      - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))


class LayerNorm(Function):
    """y = γ ⊙ (x - μ)/√(σ² + ε) + β with μ, σ² over the last ``k`` axes of each sample; γ, β of those k axes' shape."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        x_hat, inv_std = _normalize(x, axes, eps)
        y = x_hat if weight is None else x_hat * weight
        if bias is not None:
            y = y + bias
        ctx.save(x_hat, inv_std, weight)
        ctx.axes = axes
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        leading = tuple(range(grad.ndim - len(ctx.axes)))  # the samples: γ and β are shared across them
        dx = _normalized_grad(grad if weight is None else grad * weight, x_hat, inv_std, ctx.axes) if need_x else None
        dweight = (grad * x_hat).sum(axis=leading) if need_w else None
        dbias = grad.sum(axis=leading) if need_b else None
        return dx, dweight, dbias


class GroupNorm(Function):
    """Split the C channels of each sample into G groups; normalise each group over its channels and positions;
    then y = γ_c x̂ + β_c per channel."""

    @staticmethod
    def forward(ctx, x, weight, bias, num_groups, eps):
        n, c = x.shape[:2]
        grouped = x.reshape(n, num_groups, -1)  # (N, G, C/G · positions)
        x_hat, inv_std = _normalize(grouped, (2,), eps)
        x_hat = x_hat.reshape(x.shape)
        shape = _channel_shape(x)
        y = x_hat if weight is None else x_hat * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        ctx.save(x_hat, inv_std, weight)
        ctx.num_groups = num_groups
        return y

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n = grad.shape[0]
        axes = (0,) + tuple(range(2, grad.ndim))  # every axis but the channels
        dx = None
        if need_x:
            g_hat = grad if weight is None else grad * weight.reshape(_channel_shape(grad))
            dx = _normalized_grad(g_hat.reshape(n, ctx.num_groups, -1), x_hat.reshape(n, ctx.num_groups, -1),
                                  inv_std, (2,)).reshape(grad.shape)
        dweight = (grad * x_hat).sum(axis=axes) if need_w else None
        dbias = grad.sum(axis=axes) if need_b else None
        return dx, dweight, dbias


def _shape_list(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``torch.nn.functional.layer_norm``: normalise each sample over its last ``len(normalized_shape)`` dims."""
    tensor_input(input, "layer_norm")
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={_shape_list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{_shape_list(input.shape)}"
        )
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                f"{_shape_list(t.shape)} and normalized_shape = {_shape_list(normalized_shape)}"
            )
    same_dtype(input, weight, "layer_norm")
    return LayerNorm.apply(input, weight, bias, k, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """``torch.nn.functional.group_norm`` on an (N, C, *) input: statistics per sample and group of C/G channels."""
    tensor_input(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    channels = input.shape[1]
    if channels % num_groups != 0:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{_shape_list(input.shape)} and num_groups={num_groups}"
        )
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(
                f"Expected {what} to be a vector of size equal to the number of channels in input, but got "
                f"{what} of shape {_shape_list(t.shape)} and input of shape {_shape_list(input.shape)}"
            )
    same_dtype(input, weight, "group_norm")
    return GroupNorm.apply(input, weight, bias, num_groups, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """``torch.nn.functional.instance_norm`` on (N, C, *): each channel of each sample normalised over its positions.

    With input statistics this is group norm with one channel per group. The running statistics (when given)
    move towards the batch average of the per-instance mean and *unbiased* variance, as torch's (which runs
    batch norm on the input viewed as (1, N·C, *)); without input statistics the running ones normalise.
    """
    tensor_input(input, "instance_norm")
    same_dtype(input, weight if weight is not None else running_mean, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an (N, C, *) input of at least 3 dims, got shape "
                         f"{tuple(input.shape)}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    positions = input.array[0, 0].size
    if positions <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"torch.Size({list(input.shape)})")
    if running_mean is not None and running_var is not None:
        x = input.array
        axes = tuple(range(2, x.ndim))
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, ddof=1)  # the unbiased variance, as batch norm's running_var update
        running_mean.array *= 1 - momentum
        running_mean.array += momentum * mean.mean(axis=0).astype(running_mean.dtype)
        running_var.array *= 1 - momentum
        running_var.array += momentum * var.mean(axis=0).astype(running_var.dtype)
    channels = input.shape[1]
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"instance_norm: expected {what} of shape ({channels},) (one per channel), got "
                               f"{tuple(t.shape)}")
    return GroupNorm.apply(input, weight, bias, channels, eps)
