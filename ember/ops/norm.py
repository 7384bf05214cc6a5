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

from ..autograd.function import Function
from ..backend import xp


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """y = γ (x - μ)/√(σ² + ε) + β over every axis but the channel axis 1 (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = _channel_shape(x)
        if training:
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            n = x.size // x.shape[1]
            if running_mean is not None:
                # In place: the buffers are the layer's own arrays.
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1)
                running_var *= 1 - momentum
                running_var += momentum * var.reshape(-1) * (n / (n - 1))
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


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
               layer=None):
    """``torch.nn.functional.batch_norm``: normalise over every axis but axis 1 (the channels)."""
    name = str(layer) if layer is not None else "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{name}: expected an input of at least 2 dims (N, C, ...), got shape {tuple(x.shape)}")
    channels = x.shape[1]
    for what, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.shape != (channels,):
            raise ValueError(
                f"{name}: expected an input with {t.shape[0]} channels (from {what}), got {channels} channels "
                f"(input shape {tuple(x.shape)}); check num_features or the previous layer's output"
            )
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
        raise ValueError(f"{name}: size (the number of neighbouring channels) must be a positive int, got {size!r}")
    if x.array.size == 0:  # as torch: nothing to normalise
        return x
    return LocalResponseNorm.apply(x, size, alpha, beta, k)
