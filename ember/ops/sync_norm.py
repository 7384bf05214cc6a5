"""Synchronised batch normalization: batch norm whose statistics are those of the *global* batch, the union
of every process's local batch in a process group (torch.nn.SyncBatchNorm's op).

Rank r holds n_r values per channel. Forward, per channel c:

    μ_r = Σ x / n_r,   M2_r = Σ (x - μ_r)²                       (local, two passes; M2_r is n_r·σ_r²)
    one all_gather of the packed [n_r, μ_r..., M2_r...] of every rank, then Chan's parallel merge:
    N = Σ n_r,   μ = Σ n_r μ_r / N,   M2 = Σ M2_r + Σ n_r (μ_r - μ)²
    σ² = M2 / N (biased: it normalises),   x̂ = (x - μ)/√(σ² + ε),   y = γ x̂ + β
    running_mean ← (1 - m)·running_mean + m·μ,   running_var ← (1 - m)·running_var + m·M2/(N - 1)

An all_gather rather than an all_reduce of the sums because the ranks' counts may differ (uneven shards, or an
empty one), and merging per-rank (n, μ, M2) never forms Σx², so a large mean does not cancel the variance away.

Backward, with g = dy on this rank's values:

    local Σ g and Σ g·x̂ per channel; one all_reduce (SUM) of both packed, giving the global Σ_all
    dx = γ/√(σ² + ε) · (g - Σ_all g / N - x̂ · Σ_all g·x̂ / N)        (batch norm's closed form over N values)
    dγ = Σ g·x̂,   dβ = Σ g                                        (the LOCAL sums, as torch)

Why local dγ, dβ. Data-parallel training (DistributedDataParallel) trains the average of the ranks' losses,
L = (1/W) Σ_s L_s, by averaging every parameter's gradient over the W ranks after backward. The statistics
do not depend on γ or β, so ∂(Σ_s L_s)/∂γ = Σ_s Σ_{i on s} g_i x̂_i: the sum over ranks of the local dγ, and
DDP's average of the local dγ is exactly ∂L/∂γ. (All-reducing dγ here as well would count it W times.) For x
the statistics do mix ranks: y_j on every rank depends on x_i through μ and σ², and ∂(Σ_s L_s)/∂y_j is the g_j
of the rank holding j; so the global sums of g and g·x̂ make each rank's dx the gradient of Σ_s L_s, whose
parameter gradients DDP again averages into ∂L/∂w. With W equal shards, each L_s the mean over its B/W
samples, L is the mean over the whole batch: W processes on B/W samples each take the very step that one
process takes on all B samples.

The group is any object with two array-level collectives (ember.distributed's process groups have them):
``all_gather_array(a)`` → (world_size, *a.shape), every rank's ``a`` in rank order, and
``all_reduce_array(a)`` → the elementwise sum of every rank's ``a`` (it may work in place on ``a``).
"""

from ..autograd.function import Function
from ..backend import xp
from ..parallel import run
from .norm import (_affine, _center, _channel_shape, _channel_shards, _check_channels, _dx_scale, _grad_buffers,
                   _grad_input, _grad_sums, _moments, _train_buffers, _update_running)
from .validate import DtypeError, ShapeError, same_dtype, tensor_input


def _merge(gathered, channels):
    """Chan's parallel merge of every rank's packed [n_r, μ_r (C), M2_r (C)] (a (W, 2C + 1) array):
    (N, μ, M2) of the union. A rank with n_r = 0 adds nothing (its μ_r, M2_r are 0 and weigh n_r = 0)."""
    counts = gathered[:, :1]  # (W, 1)
    means, m2s = gathered[:, 1:1 + channels], gathered[:, 1 + channels:]  # (W, C) each
    total = int(round(float(counts.sum())))  # a Python int: a NumPy float64 scalar would promote float32 maths
    mean = (counts * means).sum(axis=0) / max(total, 1)  # (C,)
    m2 = m2s.sum(axis=0) + (counts * (means - mean) ** 2).sum(axis=0)  # (C,)
    return total, mean, m2


class SyncBatchNorm(Function):
    """y = γ (x - μ)/√(σ² + ε) + β with μ, σ² of the global batch across ``group`` (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group):
        channels = x.shape[1]
        n = x.size // channels  # this rank's values per channel (0 for an empty shard)
        x3, saved, y, affine = _train_buffers(x, weight, bias)  # in the end saved is x - μ when affine, else x̂ (= y)
        spans = _channel_shards(channels, n * x.itemsize)
        local_mean, local_m2 = xp.empty(channels, dtype=x.dtype), xp.empty(channels, dtype=x.dtype)
        # This rank's moments (saved holds x - μ_r meanwhile); max(n, 1): an empty shard's mean is 0, not 0/0.
        run(lambda span: _moments(span, x3, saved, local_mean, local_m2, max(n, 1)), spans)

        # float64 for the exchange: the counts stay exact integers and the merge loses nothing.
        packed = xp.concatenate([xp.array([n], dtype=xp.float64), local_mean.astype(xp.float64),
                                 local_m2.astype(xp.float64)])  # (2C + 1,)
        total, mean, m2 = _merge(group.all_gather_array(packed), channels)
        if total <= 1:  # every rank sees the same gathered counts, so every rank raises here together
            raise ValueError(
                f"sync_batch_norm: expected more than 1 value per channel across the process group when training, "
                f"got {total} (this rank's input shape {tuple(x.shape)}); use a larger batch or call .eval()"
            )
        _update_running(running_mean, running_var, mean, m2 / (total - 1), momentum)
        inv_std = (1 / xp.sqrt(m2 / total + eps)).astype(x.dtype)  # (C,) from the biased global variance
        mean = mean.astype(x.dtype)

        def normalise(span):  # x - μ with the global μ this time, then y
            _center(span, x3, saved, mean)
            _affine(span, saved, y, inv_std, weight, bias)

        run(normalise, spans)
        ctx.save(saved.reshape(x.shape), inv_std.reshape(_channel_shape(x)), weight)
        ctx.centered, ctx.total, ctx.group = affine, total, group
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        saved, inv_std, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        channels = grad.shape[1]
        g3, xh3, dbeta, dgamma, dx = _grad_buffers(grad, saved, need_x)
        factor = inv_std.reshape(-1) if ctx.centered else None  # saved is x - μ: x̂ = saved·factor
        spans = _channel_shards(channels, grad.size // channels * grad.itemsize)
        run(lambda span: _grad_sums(span, g3, xh3, dbeta, dgamma, factor), spans)
        if need_x:
            # concatenate copies, so dβ and dγ stay this rank's own sums whatever the all-reduce does in place
            sums = ctx.group.all_reduce_array(xp.concatenate([dbeta, dgamma]))  # (2C,) over every rank
            sum_g, sum_gx = sums[:channels], sums[channels:]
            scale = _dx_scale(inv_std, weight)
            run(lambda span: _grad_input(span, g3, xh3, dx, sum_g, sum_gx, factor, scale, ctx.total), spans)
            dx = dx.reshape(grad.shape)
        return dx, (dgamma if need_w else None), (dbeta if need_b else None), None, None, None, None, None


def sync_batch_norm(x, weight, bias, running_mean, running_var, eps, momentum, group, layer=None):
    """Training-mode batch norm of ``x`` (N, C, ...) over the global batch of ``group`` (an object with
    ``all_gather_array`` and ``all_reduce_array``); the running statistics (or None) are updated in place."""
    name = str(layer) if layer is not None else "sync_batch_norm"
    tensor_input(x, name)
    if x.ndim < 2:
        raise ShapeError(f"{name}: expected an input of at least 2 dims (N, C, ...), got shape {tuple(x.shape)}")
    if x.array.dtype.kind != "f":
        raise DtypeError(f"{name}: expected a floating-point input, got dtype {x.dtype}; convert it with x.float()")
    channels = x.shape[1]
    if channels == 0:
        raise ValueError(f"{name}: the number of input channels should be non-zero, got input shape {tuple(x.shape)}")
    _check_channels(name, x, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: give both running_mean and running_var, or neither")
    same_dtype(x, weight if weight is not None else running_mean, name)
    if not (callable(getattr(group, "all_gather_array", None)) and callable(getattr(group, "all_reduce_array", None))):
        raise TypeError(
            f"{name}: group must be a process group with all_gather_array and all_reduce_array (from "
            f"ember.distributed), got {type(group).__name__}; call ember.distributed.init_process_group first"
        )
    rm = running_mean.array if running_mean is not None else None
    rv = running_var.array if running_var is not None else None
    return SyncBatchNorm.apply(x, weight, bias, rm, rv, eps, momentum, group)
