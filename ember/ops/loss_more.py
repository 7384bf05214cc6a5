"""More losses with PyTorch's signatures: probabilities (binary cross-entropy, KL divergence), ranking and
embedding margins, and the likelihood losses (Poisson, Gaussian).

Binary cross-entropy and the KL divergence are Functions (their forward clamps and their backward is
torch's closed form); the margin losses are short compositions of differentiable ops, written as the
formula in their docstring, so their gradients come from those ops.
"""

import math
import warnings

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..backend import errstate, xp
from ..tensor import Tensor
from .activation_extra import logsigmoid, softplus
from .elementwise import clamp, where
from .loss import _array, _check_reduction, _reduce
from .distance import pairwise_distance
from .reduce import sum as _sum
from .validate import broadcastable, names_errors


def _legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated ``size_average``/``reduce`` arguments folded into ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{'none' if not reduce else 'mean' if size_average else 'sum'}' instead.", UserWarning, stacklevel=3)
    return "none" if not reduce else "mean" if size_average else "sum"


class BinaryCrossEntropy(Function):
    """loss = -w·[y·max(log x, -100) + (1 - y)·max(log(1 - x), -100)]  (x a probability);
    d/dx = w·(x - y) / max(x(1 - x), 1e-12),   d/dy = w·[max(log(1 - x), -100) - max(log x, -100)].
    The clamps are torch's: a probability of exactly 0 or 1 gives a finite loss of 100, not inf."""

    @staticmethod
    def forward(ctx, x, y, weight):
        with errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.save(x, y, weight, log_x, log_1mx)
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, log_x, log_1mx = ctx.saved
        g = grad if weight is None else grad * weight
        dx = g * (x - y) / xp.maximum(x * (1 - x), 1e-12)
        dy = g * (log_1mx - log_x) if ctx.needs_input_grad[1] else None
        return dx, dy, None


class KLDiv(Function):
    """Pointwise KL divergence with log-probability input x:
    target probabilities t:      loss = t·(log t - x)  (0 where t = 0);  d/dx = -t,   d/dt = log t + 1 - x
    log-probability targets t:   loss = eᵗ·(t - x);                      d/dx = -eᵗ,  d/dt = eᵗ·(t - x + 1)"""

    @staticmethod
    def forward(ctx, x, t, log_target):
        if log_target:
            p = xp.exp(t)
            loss = p * (t - x)
        else:
            p = t
            with errstate(divide="ignore", invalid="ignore"):
                log_t = xp.where(t > 0, xp.log(xp.where(t > 0, t, 1)), 0)
            loss = xp.where(t > 0, t * log_t, 0) - t * x
        ctx.save(x, t, p, log_target)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t, p, log_target = ctx.saved
        dx = -grad * p
        dt = None
        if ctx.needs_input_grad[1]:
            if log_target:
                dt = grad * p * (t - x + 1)
            else:
                with errstate(divide="ignore", invalid="ignore"):
                    dt = grad * (xp.log(t) + 1 - x)
        return dx, dt, None


def _same_shape(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{name}: Using a target size ({tuple(target.shape)}) that is different to the input size "
                         f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size.")


@names_errors
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``:
    -w·[y log x + (1 - y) log(1 - x)], each log clamped at -100. Prefer binary_cross_entropy_with_logits
    (sigmoid fused in, numerically stable) when you have logits."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    _same_shape(input, target, "binary_cross_entropy")
    x = input.array
    if x.size and (xp.any(x < 0) or xp.any(x > 1) or xp.any(xp.isnan(x))):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply "
                           "torch.sigmoid first, or use binary_cross_entropy_with_logits on the logits)")
    w = None if weight is None else xp.broadcast_to(_array(weight, x.dtype), x.shape)
    if not isinstance(target, Tensor):
        target = Tensor(_array(target, x.dtype))
    return _reduce(BinaryCrossEntropy.apply(input, target, w), reduction)


@names_errors
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence Σ t·(log t - x) with ``input`` x the log-probabilities (log_softmax output), as
    ``torch.nn.functional.kl_div``. ``reduction='batchmean'`` divides the sum by the batch size (the true
    KL divergence per sample); ``'mean'`` divides by the number of elements, as torch does (and warns)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: reduction must be 'none', 'batchmean', 'sum' or 'mean', got '{reduction}'")
    broadcastable(tuple(input.shape), tuple(target.shape), "kl_div")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    if not isinstance(target, Tensor):
        target = Tensor(_array(target, input.dtype))
    loss = KLDiv.apply(input, target, bool(log_target))
    if reduction == "batchmean":
        return _sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


@names_errors
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y·(x1 - x2) + margin): y = 1 wants x1 ranked above x2, y = -1 below."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "margin_ranking_loss")
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                           f"target: {tuple(target.shape)} ")
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0), reduction)


@names_errors
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (x is a distance: small for similar pairs)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "hinge_embedding_loss")
    t = _array(target)
    zero = Tensor(xp.zeros((), dtype=input.dtype))
    margin_part = where(t != 1, clamp(margin - input, min=0), zero)
    self_part = where(t != -1, input, zero)
    return _reduce(margin_part + self_part, reduction)


@names_errors
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y·x)): the logistic loss for labels y ∈ {-1, 1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "soft_margin_loss")
    _same_shape(input, target, "soft_margin_loss")
    return _reduce(softplus(-target * input, 1.0, 1e30), reduction)


@names_errors
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(1/C)·Σ_c w_c·[y_c log σ(x_c) + (1 - y_c) log σ(-x_c)] per sample: one-vs-all logistic loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * (weight if isinstance(weight, Tensor) else Tensor(_array(weight, input.dtype)))
    loss = _sum(loss, dim=input.ndim - 1) / input.shape[-1]  # (N,)
    return _reduce(loss, reduction)


@names_errors
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Σ_j Σ_{i ∉ targets} max(0, 1 - (x[y_j] - x[i])) / C per sample; ``target`` holds class indices, ended by
    the first -1 (torch's layout)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "multilabel_margin_loss")
    squeeze = input.ndim == 1
    x = input.reshape(1, -1) if squeeze else input
    t = _array(target).reshape(x.shape)
    if t.dtype.kind not in "iu":
        raise TypeError(f"multilabel_margin_loss: target must be an int64 tensor of class indices, got {t.dtype}")
    n, c = x.shape
    counts = xp.zeros((n, c), dtype=x.dtype)  # how often each class is listed before the -1
    for row in range(n):
        for k in t[row]:
            if k < 0:
                break
            if k >= c:
                raise IndexError(f"multilabel_margin_loss: target {int(k)} is out of bounds for {c} classes")
            counts[row, k] += 1
    is_target = (counts > 0).astype(x.dtype)
    pair = Tensor(counts[:, :, None] * (1 - is_target)[:, None, :])      # (N, C_j, C_i)
    hinge = clamp(1 - x.reshape(n, c, 1) + x.reshape(n, 1, c), min=0)   # (N, C_j, C_i)
    loss = _sum(hinge * pair, dim=(1, 2)) / c                           # (N,)
    if squeeze:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _cosine_rows(x1, x2, eps=1e-12):
    """Σ x1·x2 / √((Σ x1² + ε)(Σ x2² + ε)) over the last dim, as torch's cosine_embedding_loss writes it."""
    d = x1.ndim - 1
    dot = _sum(x1 * x2, dim=d)
    return dot / ((_sum(x1 * x1, dim=d) + eps) * (_sum(x2 * x2, dim=d) + eps)).sqrt()


@names_errors
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cosine_embedding_loss")
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(f"cosine_embedding_loss: expected two 1D or 2D inputs of the same shape, got "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    cos = _cosine_rows(input1, input2)
    t = _array(target)
    zero = Tensor(xp.zeros((), dtype=input1.dtype))
    loss = where(t == 1, 1 - cos, zero) + where(t == -1, clamp(cos - margin, min=0), zero)
    return _reduce(loss, reduction)


@names_errors
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance; ``swap`` uses min(d(a, n), d(p, n))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "triplet_margin_loss")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"triplet_margin_loss: The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from .elementwise import minimum
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(margin + d_pos - d_neg, min=0), reduction)


@names_errors
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood: eˣ - y·x (``log_input``), else x - y·log(x + eps); ``full`` adds the
    Stirling term y log y - y + ½ log(2πy) for y > 1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        # Stirling's approximation of log(y!), only where y > 1; the other entries see a harmless y = 2, so
        # neither the value nor the gradient of the masked branch is inf or nan.
        y = target if isinstance(target, Tensor) else Tensor(_array(target, input.dtype))
        big = y.array > 1
        safe = where(big, y, Tensor(xp.asarray(2, dtype=y.dtype)))
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(big, stirling, Tensor(xp.zeros((), dtype=input.dtype)))
    return _reduce(loss, reduction)


@names_errors
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """½·(log max(var, eps) + (x - y)² / max(var, eps)) (+ ½ log 2π with ``full``): the negative
    log-likelihood of y under N(x, var). ``var`` has the input's shape, or lacks its last dim (or has 1 there)
    for one variance per sample. As in torch, the clamp to ``eps`` is not differentiated through."""
    _check_reduction(reduction, "gaussian_nll_loss")
    if not isinstance(var, Tensor):
        var = Tensor(_array(var, input.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit the input's shape "
                             f"{tuple(input.shape)}: give it the input's shape, or that shape without its last dim")
    if xp.any(var.array < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    with no_grad():
        lift = Tensor(xp.maximum(var.array, eps) - var.array)
    var = var + lift  # the clamped value, with the identity's gradient
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@names_errors
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) for any distance function d (pairwise_distance by default)."""
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin} "
                         "instead")
    d = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        from .elementwise import minimum
        d_neg = minimum(d_neg, d(positive, negative))
    return _reduce(clamp(margin + d_pos - d_neg, min=0), reduction)
