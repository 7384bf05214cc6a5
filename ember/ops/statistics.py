"""Order statistics and counting: median, kthvalue, mode, quantile, cummax / cummin, logcumsumexp, the
nan-ignoring sums and means, aminmax, std_mean / var_mean, bincount, histc / histogram, unique, diff.

The order statistics find *which* element is the answer (no gradient: an order is discrete) and then
``gather`` it, so the gradient flows back to the element that was picked, as in torch. A quantile between
two order statistics is their linear interpolation, so its gradient is shared between the two.
"""

from collections import namedtuple

from .. import backend
from ..autograd.function import Function
from ..backend import errstate, xp
from ..tensor import Tensor
from . import elementwise as ew
from .index import Gather, gather
from .reduce import mean, normalize_dims, std, sum, var
from .shape import cat, getitem, reshape, squeeze, stack

ValuesIndices = {name: namedtuple(name, ["values", "indices"])
                 for name in ("median", "nanmedian", "kthvalue", "mode", "cummax", "cummin")}
AminmaxResult = namedtuple("aminmax", ["min", "max"])
HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])


def _axis(dim, ndim):
    return normalize_dims(dim, ndim)[0] if ndim else 0


def _pick(input, index, axis, keepdim, name):
    """values and indices for ``index`` (one position per row along ``axis``, kept as a size-1 dim)."""
    index = index.astype(xp.int64)
    values = Gather.apply(input, index, axis) if input.ndim else input
    if not keepdim and input.ndim:
        values, index = squeeze(values, axis), xp.squeeze(index, axis)
    return ValuesIndices[name](values, Tensor(index))


def _sorted_position(input, axis, position):
    """Indices (size-1 along ``axis``) of the element at sorted ``position`` (an int or an array per row)."""
    data = input.array
    order = xp.argsort(data, axis=axis, kind="stable")  # nan sorts last, as in torch
    position = xp.broadcast_to(xp.asarray(position), data.shape[:axis] + (1,) + data.shape[axis + 1:])
    return xp.take_along_axis(order, position, axis=axis)


def _median(input, dim, keepdim, ignore_nan, name):
    if dim is None:
        flat = reshape(input, -1)
        result = _median(flat, 0, False, ignore_nan, name)
        return result.values
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        return ValuesIndices[name](input, Tensor(xp.asarray(0)))
    data = input.array
    nan = xp.isnan(data) if data.dtype.kind == "f" else xp.zeros(data.shape, dtype=bool)
    if ignore_nan:
        count = data.shape[axis] - nan.sum(axis=axis, keepdims=True)
        index = _sorted_position(input, axis, xp.maximum(count - 1, 0) // 2)
    else:
        index = _sorted_position(input, axis, (data.shape[axis] - 1) // 2)
        has_nan = nan.any(axis=axis, keepdims=True)
        index = xp.where(has_nan, xp.argmax(nan, axis=axis, keepdims=True), index)  # a nan makes the median nan
    return _pick(input, index, axis, keepdim, name)


def median(input, dim=None, keepdim=False):
    """The lower median (the ⌊(n-1)/2⌋-th smallest): of all elements, or ``(values, indices)`` along ``dim``."""
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim=False):
    """``median`` of the non-nan elements."""
    return _median(input, dim, keepdim, True, "nanmedian")


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element along ``dim`` (k counts from 1) and its index."""
    axis = _axis(dim, input.ndim)
    n = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}: k = {k}, size {n}")
    if input.ndim == 0:
        return ValuesIndices["kthvalue"](input, Tensor(xp.asarray(0)))
    return _pick(input, _sorted_position(input, axis, k - 1), axis, keepdim, "kthvalue")


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the index of its
    last occurrence."""
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        return ValuesIndices["mode"](input, Tensor(xp.asarray(0)))
    data = xp.moveaxis(input.array, axis, -1)
    rows = data.reshape(-1, data.shape[-1])
    n = rows.shape[1]
    order = xp.argsort(rows, axis=1, kind="stable")
    s = xp.take_along_axis(rows, order, axis=1)
    starts = xp.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    run_id = xp.cumsum(starts, axis=1) - 1
    best = xp.empty(rows.shape[0], dtype=xp.int64)
    for r in range(rows.shape[0]):  # one bincount per row: the run lengths
        lengths = xp.bincount(run_id[r])
        winner = int(xp.argmax(lengths))  # the first (smallest value) among the longest runs
        members = order[r][run_id[r] == winner]
        best[r] = members.max()
    index = best.reshape(data.shape[:-1] + (1,))
    index = xp.moveaxis(index, -1, axis)
    return _pick(input, index, axis, keepdim, "mode")


def _q_array(q, dtype):
    if isinstance(q, Tensor):
        q = q.array
    q = xp.asarray(q, dtype=xp.float64)
    if q.ndim > 1:
        raise RuntimeError(f"quantile() q must be a scalar or 1D tensor, got {q.ndim} dims")
    if xp.any((q < 0) | (q > 1)):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    return q


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {input.dtype}")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    qs = _q_array(q, input.dtype)
    original_ndim = input.ndim
    if dim is None:
        x, axis = reshape(input, -1), 0
    else:
        x, axis = input, _axis(dim, input.ndim)
        if x.ndim == 0:
            x = reshape(x, (1,))
    data = x.array
    order = xp.argsort(data, axis=axis, kind="stable")
    nan = xp.isnan(data)
    n = data.shape[axis]
    count = (n - nan.sum(axis=axis, keepdims=True)) if ignore_nan else xp.full(order.shape[:axis] + (1,) + order.shape[axis + 1:], n)
    results = []
    for qv in qs.reshape(-1):
        pos = qv * xp.maximum(count - 1, 0)
        lo, hi = xp.floor(pos).astype(xp.int64), xp.ceil(pos).astype(xp.int64)
        if interpolation == "nearest":
            lo = hi = xp.round(pos).astype(xp.int64)  # round half to even, as torch
        elif interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        v_lo = gather(x, axis, Tensor(xp.take_along_axis(order, lo, axis=axis)))
        v_hi = gather(x, axis, Tensor(xp.take_along_axis(order, hi, axis=axis)))
        if interpolation == "midpoint":
            value = ew.add(v_lo, ew.mul(ew.sub(v_hi, v_lo), 0.5))
        elif interpolation == "linear":
            weight = xp.asarray(pos - lo, dtype=data.dtype)
            value = ew.add(v_lo, ew.mul(ew.sub(v_hi, v_lo), Tensor(weight)))
        else:
            value = v_lo
        poisoned = (count == 0) if ignore_nan else nan.any(axis=axis, keepdims=True)
        if poisoned.any():
            value = ew.where(Tensor(poisoned), Tensor(xp.asarray(xp.nan, dtype=data.dtype)), value)
        if keepdim:
            if dim is None:
                value = reshape(value, (1,) * original_ndim)
        else:
            value = squeeze(value, axis) if dim is not None else reshape(value, ())
            if dim is not None and original_ndim == 0:
                value = reshape(value, ())
        results.append(value)
    if qs.ndim == 0:
        return results[0]
    return stack(results, 0)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (q in [0, 1], a number or a 1-D tensor) of all elements or along ``dim``."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` of the non-nan elements."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def _without_nan(input):
    if input.dtype.kind != "f":
        return input, None
    nan = xp.isnan(input.array)
    return ew.where(Tensor(nan), Tensor(xp.zeros((), dtype=input.dtype)), input), nan


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum, with nan counted as zero."""
    return sum(_without_nan(input)[0], dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-nan elements."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype}")
    cleaned, nan = _without_nan(input)
    total = sum(cleaned, dim, keepdim, dtype=dtype)
    count = sum(Tensor(~nan), dim, keepdim)
    return ew.div(total, ew.cast(count, total.dtype))


def _cumulative_extreme(input, dim, largest, name):
    axis = _axis(dim, input.ndim)
    data = input.array.reshape(input.shape or (1,))
    running = (xp.maximum if largest else xp.minimum).accumulate(data, axis=axis)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = xp.broadcast_to(xp.arange(data.shape[axis]).reshape(shape), data.shape)
    # the latest position holding the running extreme (torch's choice on ties); a nan stays the answer
    nan = xp.isnan(data) if data.dtype.kind == "f" else xp.zeros(data.shape, dtype=bool)
    nan_seen = xp.logical_or.accumulate(nan, axis=axis)
    hit = xp.where(nan_seen, nan, data == running)
    index = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=axis)
    index = index.reshape(input.shape).astype(xp.int64)
    values = Gather.apply(input, index, axis) if input.ndim else input
    return ValuesIndices[name](values, Tensor(index))


def cummax(input, dim):
    """The running maximum along ``dim`` and where each running maximum was found."""
    return _cumulative_extreme(input, dim, True, "cummax")


def cummin(input, dim):
    """The running minimum along ``dim`` and where each running minimum was found."""
    return _cumulative_extreme(input, dim, False, "cummin")


class LogCumSumExp(Function):
    """z_j = log Σ_{i≤j} e^{x_i};  dx_i = Σ_{j≥i} g_j e^{x_i - z_j} (a reverse running sum)."""

    @staticmethod
    def forward(ctx, x, axis):
        with errstate(invalid="ignore"):
            z = xp.logaddexp.accumulate(x, axis=axis)
        ctx.save(x, z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved
        shift = xp.max(z, axis=ctx.axis, keepdims=True)  # keeps e^{shift - z} and e^{x - shift} in range
        with errstate(over="ignore", invalid="ignore"):
            weighted = grad * xp.exp(shift - z)
            tail = xp.flip(xp.cumsum(xp.flip(weighted, ctx.axis), axis=ctx.axis), ctx.axis)
            return (tail * xp.exp(x - shift)).astype(x.dtype, copy=False)


def logcumsumexp(input, dim):
    if input.ndim == 0:
        return ew.mul(input, 1)
    return LogCumSumExp.apply(input, _axis(dim, input.ndim))


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` of all elements or along ``dim``."""
    from .reduce import amax, amin

    return AminmaxResult(amin(input, dim, keepdim), amax(input, dim, keepdim))


def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return std(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return var(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, 2, ... occurs in the 1-D non-negative integer ``input`` (or the sum of
    ``weights`` at each value)."""
    data = input.array
    if data.ndim != 1 or data.dtype.kind not in "iub":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {data.ndim}-d {data.dtype}")
    if data.size and data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs (found a negative value)")
    if weights is None:
        return Tensor(xp.bincount(data, minlength=minlength).astype(xp.int64))
    w = weights.array if isinstance(weights, Tensor) else xp.asarray(weights)
    out_dtype = w.dtype if w.dtype.kind == "f" else xp.float64
    return Tensor(xp.bincount(data, weights=w.astype(xp.float64), minlength=minlength).astype(out_dtype))


def histc(input, bins=100, min=0, max=0):
    """The histogram of ``input`` in ``bins`` equal bins over [min, max] (the data's range when both are 0);
    values outside are ignored."""
    data = input.array
    if data.dtype.kind != "f":
        raise RuntimeError(f"torch.histc: input tensor and hist tensor should have the same dtype, but got input "
                           f"{data.dtype} and hist {data.dtype}")
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = xp.histogram(data, bins=bins, range=(lo, hi))
    return Tensor(counts.astype(data.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)``: NumPy's histogram in ``input``'s dtype."""
    data = input.array
    if isinstance(bins, Tensor):
        bins = bins.array
    w = weight.array if isinstance(weight, Tensor) else weight
    hist, edges = xp.histogram(data, bins=bins, range=range, weights=w, density=density)
    return HistogramResult(Tensor(hist.astype(data.dtype)), Tensor(edges.astype(data.dtype)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with the inverse indices and/or counts when asked."""
    data = input.array
    values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=dim)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor(inverse.reshape(data.shape if dim is None else -1).astype(xp.int64)))
    if return_counts:
        out.append(Tensor(counts.astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive values (or slices along ``dim``) kept once."""
    data = input.array
    if dim is None:
        flat = data.reshape(-1)
        starts = xp.ones(flat.shape, dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse_shape = data.shape
    else:
        axis = _axis(dim, data.ndim)
        moved = xp.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
        starts = xp.ones(moved.shape[0], dtype=bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values = xp.compress(starts, data, axis=axis)
        inverse_shape = (data.shape[axis],)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor((xp.cumsum(starts) - 1).reshape(inverse_shape).astype(xp.int64)))
    if return_counts:
        edges = xp.flatnonzero(xp.append(starts, True))
        out.append(Tensor(xp.diff(edges).astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``: out[i] = x[i+1] - x[i], applied n times."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = _axis(dim, input.ndim)
    parts = [p for p in (prepend, input, append) if p is not None]
    if len(parts) > 1:
        parts = [p if isinstance(p, Tensor) else Tensor(xp.asarray(p, dtype=input.dtype)) for p in parts]
        input = cat(parts, axis)
    for _ in range(n):
        size = input.shape[axis]
        head = (slice(None),) * axis
        later, earlier = getitem(input, head + (slice(1, size),)), getitem(input, head + (slice(0, size - 1),))
        from .compare import logical_xor

        input = logical_xor(later, earlier) if input.dtype == xp.bool_ else ew.sub(later, earlier)
    return input


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in ``input``'s rows (observations in columns), optionally
    weighted by integer frequencies and/or observation weights (numpy.cov's formula)."""
    from .linalg import matmul

    x = input if input.ndim == 2 else reshape(input, (1, -1))
    if x.dtype.kind != "f":
        x = ew.cast(x, backend.default_dtype)
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.array.astype(x.dtype)
    if aweights is not None:
        w = aweights.array.astype(x.dtype) if w is None else w * aweights.array
    if w is None:
        total = float(n)
        centred = ew.sub(x, mean(x, 1, keepdim=True))
        norm = total - correction
        weighted = centred
    else:
        wt = Tensor(w)
        total = float(w.sum())
        avg = ew.div(sum(ew.mul(x, wt), 1, keepdim=True), total)
        centred = ew.sub(x, avg)
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * float((w * aweights.array).sum()) / total
        weighted = ew.mul(centred, wt)
    c = ew.div(matmul(weighted, centred.mT), max(norm, 0.0) if norm > 0 else float("nan") if norm < 0 else 0.0)
    return reshape(c, ()) if input.ndim < 2 else c


def corrcoef(input):
    """Pearson correlation coefficients: cov / √(var_i var_j), clipped to [-1, 1]."""
    from .elementwise import clamp, sqrt

    c = cov(input)
    if c.ndim == 0:
        return ew.div(c, c)
    d = sqrt(c.diagonal())
    c = ew.div(ew.div(c, reshape(d, (-1, 1))), reshape(d, (1, -1)))
    return clamp(c, -1, 1)
