"""Batch normalization (Ioffe & Szegedy 2015) with its closed-form backward in one fused Function.

Per channel c, over the batch (and the spatial positions):

    μ = mean(x),  σ² = mean((x - μ)²)        (the biased variance normalises)
    x̂ = (x - μ) / √(σ² + ε),   y = γ x̂ + β

and the running statistics used at evaluation time are updated with the *unbiased* variance:

    running_mean ← (1 - m)·running_mean + m·μ
    running_var  ← (1 - m)·running_var  + m·σ²·n/(n - 1)

Backward (n values per channel, g = dy):

    dβ = Σ g,   dγ = Σ g·x̂,   dx = γ/(n·√(σ² + ε)) · (n·g - Σ g - x̂·Σ g·x̂)
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
    if training and x.data.size // channels <= 1:
        raise ValueError(
            f"{name}: expected more than 1 value per channel when training, got input shape {tuple(x.shape)}; "
            "use a batch larger than 1 or call .eval()"
        )
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{name}: evaluation needs running_mean and running_var (or training=True)")
    rm = running_mean.data if running_mean is not None else None
    rv = running_var.data if running_var is not None else None
    return BatchNorm.apply(x, weight, bias, rm, rv, training, momentum, eps)
