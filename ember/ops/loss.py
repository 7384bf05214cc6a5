"""Losses: how far the predictions are from the truth (the notes' 经验风险), with PyTorch's reductions.

``reduction`` is 'mean' (the default), 'sum' or 'none' (one loss per sample).

Cross-entropy is fused: log-softmax (shifted by the row maximum, so it never overflows) and the negative
log-likelihood in one Function, whose backward is the famous  softmax(z) - onehot(y)  — generalised to
class weights, label smoothing and the 1/D of 'mean' as  p·Σ_c q_c - q,  where q is the target
distribution scaled by all three.
"""

from ..autograd.function import Function
from ..backend import errstate, xp
from ..tensor import Tensor
from .activation import log_softmax_array, stable_sigmoid
from .elementwise import abs as _abs
from .elementwise import sub
from .reduce import mean as _mean
from .reduce import sum as _sum
from .validate import ArgumentError, DtypeError, ShapeError, tensor_input

REDUCTIONS = ("mean", "sum", "none")


def _rows(z):
    """Logits (C,), (N, C) or (N, C, d1, ...) as (M, C) rows: the class axis last, the rest folded."""
    if z.ndim == 1:
        return z[None, :]
    if z.ndim == 2:
        return z
    return xp.moveaxis(z, 1, -1).reshape(-1, z.shape[1])


def _unrows(dz, shape):
    """The inverse of ``_rows`` for a gradient."""
    if len(shape) == 1:
        return dz[0]
    if len(shape) == 2:
        return dz
    return xp.moveaxis(dz.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


def _finish(loss, reduce, dtype):
    return xp.asarray(loss.sum() if reduce else loss, dtype=dtype)


class CrossEntropy(Function):
    """loss_m = -Σ_c q_mc · log softmax(z_m)_c, for class-index targets.

    The target distribution q is kept in two parts: ``mass`` on each row's target class, and ``spread``
    times the class weights w on every class (label smoothing). Backward: dz = (p · Σ_c q_c - q) · g.
    """

    @staticmethod
    def forward(ctx, z, target, mass, spread, w, reduce):
        log_p = log_softmax_array(_rows(z), 1)
        rows = xp.arange(log_p.shape[0])
        loss = -mass * log_p[rows, target]
        if spread is not None:
            loss -= spread * (log_p if w is None else log_p * w).sum(axis=1)
        ctx.save(log_p, target, mass, spread, w)
        ctx.shape = z.shape
        return _finish(loss, reduce, z.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_p, target, mass, spread, w = ctx.saved
        total = mass if spread is None else mass + spread * (log_p.shape[1] if w is None else w.sum())
        dz = xp.exp(log_p) * total[:, None]
        if spread is not None:
            dz -= spread[:, None] * (1 if w is None else w)
        dz[xp.arange(dz.shape[0]), target] -= mass
        dz *= grad if grad.ndim == 0 else grad.reshape(-1, 1)
        return _unrows(dz, ctx.shape), None, None, None, None, None


class SoftCrossEntropy(Function):
    """loss_m = -Σ_c q_mc · log softmax(z_m)_c for probability targets t, where the target distribution is
    q = ((1 - ε)·t + ε/C) · w / D  (label smoothing ε, class weights w, D the number of rows for 'mean').

    dz = (p · Σ_c q_c - q) · g, and, since the loss is linear in t (torch differentiates it too),
    dt = -(1 - ε) · w · log p / D · g.
    """

    @staticmethod
    def forward(ctx, z, t, eps, w, divisor, reduce):
        log_p = log_softmax_array(_rows(z), 1)
        q = _rows(t).astype(z.dtype, copy=False)
        if eps > 0:
            q = q * (1 - eps) + eps / log_p.shape[1]
        if w is not None:
            q = q * w
        if divisor != 1:
            q = q / divisor
        ctx.save(log_p, q, w)
        ctx.shape, ctx.target_dtype, ctx.eps, ctx.divisor = z.shape, t.dtype, eps, divisor
        return _finish(-(q * log_p).sum(axis=1), reduce, z.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_p, q, w = ctx.saved
        g = grad if grad.ndim == 0 else grad.reshape(-1, 1)
        dz = xp.exp(log_p) * q.sum(axis=1, keepdims=True) - q
        dz *= g
        dt = None
        if ctx.needs_input_grad[1]:
            dt = log_p * (-(1 - ctx.eps) / ctx.divisor)
            if w is not None:
                dt *= w
            dt = _unrows(dt * g, ctx.shape).astype(ctx.target_dtype, copy=False)
        return _unrows(dz, ctx.shape), dt, None, None, None, None


class NLL(Function):
    """loss_m = -w_y · x_m,y for log-probabilities x;  dx_m,y = -w_y (scaled like the forward)."""

    @staticmethod
    def forward(ctx, x, target, mass, reduce):
        rows = _rows(x)
        ctx.save(target, mass)
        ctx.shape, ctx.rows_shape = x.shape, rows.shape
        return _finish(-mass * rows[xp.arange(rows.shape[0]), target], reduce, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        target, mass = ctx.saved
        dx = xp.zeros(ctx.rows_shape, dtype=mass.dtype)
        dx[xp.arange(dx.shape[0]), target] = -mass * (grad if grad.ndim == 0 else grad.reshape(-1))
        return _unrows(dx, ctx.shape), None, None, None


class MultiMargin(Function):
    """The multiclass SVM hinge (CS231n): loss_i = Σ_{j≠y} w_y · max(0, margin - x_y + x_j)^p / C.

    Each wrong class j that comes within ``margin`` of the right one adds to the loss; its gradient
    pushes x_j down and x_y up by the same amount.
    """

    @staticmethod
    def forward(ctx, x, target, p, margin, w_y, reduce):
        rows = _rows(x)
        n, c = rows.shape
        index = xp.arange(n)
        margins = margin - rows[index, target][:, None] + rows
        margins[index, target] = 0  # the right class is not compared with itself
        active = margins > 0
        hinge = xp.where(active, margins, 0)
        loss = ((hinge if p == 1 else hinge * hinge).sum(axis=1) * w_y) / c
        ctx.save(hinge, active, target, w_y)
        ctx.p, ctx.shape = p, x.shape
        return _finish(loss, reduce, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        hinge, active, target, w_y = ctx.saved
        n, c = hinge.shape
        slope = active.astype(hinge.dtype) if ctx.p == 1 else 2 * hinge
        g = (grad if grad.ndim == 0 else grad.reshape(-1, 1)) * (w_y[:, None] / c)
        dx = slope * g
        dx[xp.arange(n), target] = -dx.sum(axis=1)
        return _unrows(dx, ctx.shape), None, None, None, None, None


class SmoothL1(Function):
    """loss = ½d²/β where |d| < β, else |d| - ½β, for d = x - y (Huber's loss scaled by 1/β);
    d loss/dx = d/β inside, sign(d) outside. ``delta`` rescales it into the Huber loss: δ·SmoothL1_{β=δ}."""

    @staticmethod
    def forward(ctx, x, y, beta, scale):
        d = x - y
        a = xp.abs(d)
        inside = a < beta
        ctx.save(d, inside)
        ctx.beta, ctx.scale = beta, scale
        loss = xp.where(inside, 0.5 * d * d / (beta if beta else 1), a - 0.5 * beta)
        return loss * scale if scale != 1 else loss

    @staticmethod
    def backward(ctx, grad):
        d, inside = ctx.saved
        g = xp.where(inside, d / (ctx.beta if ctx.beta else 1), xp.sign(d)) * grad
        g = g * ctx.scale if ctx.scale != 1 else g
        return g, (-g if ctx.needs_input_grad[1] else None), None, None


def _softplus(x):
    """log(1 + eˣ), computed as max(x, 0) + log1p(e^{-|x|}) so that it never overflows."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class BCEWithLogits(Function):
    """loss = w·[pw·y·softplus(-x) + (1 - y)·softplus(x)]  (= -w[pw·y·log σ(x) + (1-y)·log(1-σ(x))]);
    d/dx = w·[(1 - y)·σ(x) - pw·y·(1 - σ(x))],  d/dy = w·[pw·softplus(-x) - softplus(x)]."""

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight):
        sp_neg, sp_pos = _softplus(-x), _softplus(x)
        loss = (y if pos_weight is None else pos_weight * y) * sp_neg + (1 - y) * sp_pos
        if weight is not None:
            loss = loss * weight
        ctx.save(x, y, weight, pos_weight, sp_neg, sp_pos)
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight, sp_neg, sp_pos = ctx.saved
        g = grad if weight is None else grad * weight
        py = y if pos_weight is None else pos_weight * y
        s = stable_sigmoid(x)
        dx = g * ((1 - y) * s - py * (1 - s))
        dy = None
        if ctx.needs_input_grad[1]:
            dy = g * ((1 if pos_weight is None else pos_weight) * sp_neg - sp_pos)
        return dx, dy, None, None


# ----------------------------------------------------------------------------------------------------
# The functional API (PyTorch's signatures).


def _check_reduction(reduction, name="loss"):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got reduction='{reduction}' "
                         f"({reduction} is not a valid value for reduction)")


def _reduce(loss, reduction):
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def _array(t, dtype=None):
    a = t.array if isinstance(t, Tensor) else xp.asarray(t)
    return a if dtype is None else a.astype(dtype, copy=False)


def _class_targets(input, target, ignore_index, name):
    """Validated class-index targets as rows, with the mask of the rows that count (``ignore_index=None``:
    the loss has no ignored class)."""
    z, t = tensor_input(input, name).array, _array(target)
    n_classes = z.shape[0] if z.ndim == 1 else z.shape[1]
    batch_shape = () if z.ndim == 1 else (z.shape[0],) + z.shape[2:]
    if t.dtype.kind not in "iu":
        hint = " (or pass class probabilities with the input's shape)" if name == "cross_entropy" else ""
        raise DtypeError(
            f"{name}: class-index targets must be an integer tensor (int64), got {t.dtype}; use target.long(){hint}"
        )
    if t.shape != batch_shape:
        raise ShapeError(
            f"{name}: input of shape {tuple(z.shape)} needs a target of shape {batch_shape}, got {tuple(t.shape)}"
        )
    t = t.reshape(-1)
    valid = t != ignore_index if ignore_index is not None else xp.ones(t.shape, dtype=bool)
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        ignored = f", or ignore_index={ignore_index}" if ignore_index is not None else ""
        raise IndexError(
            f"{name}: target {int(t[bad][0])} is out of bounds for {n_classes} classes "
            f"(valid targets are 0..{n_classes - 1}{ignored})"
        )
    return xp.where(valid, t, 0), valid, n_classes, batch_shape


def _class_weight(weight, n_classes, dtype, name):
    if weight is None:
        return None
    w = _array(weight, dtype)
    if w.shape != (n_classes,):
        raise ShapeError(f"{name}: weight needs one value per class ({n_classes}), got shape {tuple(w.shape)}")
    return w


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax + negative log-likelihood from logits, as ``torch.nn.functional.cross_entropy``.

    ``input``: logits (C,), (N, C) or (N, C, d1, ...). ``target``: class indices (int64, the input's shape
    without C) or class probabilities (float, the input's shape). ``weight`` rescales each class;
    ``label_smoothing`` ε mixes the target with the uniform distribution: (1 - ε)·target + ε/C.
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}; "
                            "0.0 turns smoothing off, 0.1 is usual")
    z = tensor_input(input, "cross_entropy").array
    if z.dtype.kind != "f":
        raise DtypeError(f"cross_entropy: expected floating-point logits, got input of dtype {z.dtype}; convert them "
                         "with input.float()")
    n_classes = z.shape[0] if z.ndim == 1 else z.shape[1]
    w = _class_weight(weight, n_classes, z.dtype, "cross_entropy")
    eps = label_smoothing
    t = _array(target)
    if t.dtype.kind == "f":
        if t.shape != z.shape:
            if t.shape == ((z.shape[0],) + z.shape[2:] if z.ndim > 1 else ()):
                # Float labels such as [0., 2., 1.]: they have the shape of class indices, not of probabilities.
                raise DtypeError(
                    f"cross_entropy: class-index targets must be an integer tensor (int64), got {t.dtype}; use "
                    "target.long() (or pass class probabilities with the input's shape)"
                )
            raise ShapeError(
                f"cross_entropy: probability targets need the input's shape {tuple(z.shape)}, got {tuple(t.shape)}"
            )
        divisor = z.size // max(n_classes, 1) if reduction == "mean" else 1
        out = SoftCrossEntropy.apply(input, target if isinstance(target, Tensor) else t, eps, w, divisor,
                                     reduction != "none")
    else:
        target, valid, _, batch_shape = _class_targets(input, target, ignore_index, "cross_entropy")
        w_y = valid.astype(z.dtype) if w is None else w[target] * valid
        mass = (1 - eps) * w_y
        spread = (eps / n_classes) * valid.astype(z.dtype) if eps > 0 else None
        if reduction == "mean":
            # Both terms are divided by the total weight of the counted targets (their number without weights).
            with errstate(invalid="ignore", divide="ignore"):  # every target ignored: nan, as in torch
                total = w_y.sum()
                mass = mass / total
                spread = None if spread is None else spread / total
        out = CrossEntropy.apply(input, target, mass, spread, w, reduction != "none")
    if reduction == "none":
        return out.reshape(z.shape[:1] + z.shape[2:]) if z.ndim > 1 else out.reshape(())
    return out


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities (apply log_softmax first), as ``torch.nn.functional.nll_loss``."""
    _check_reduction(reduction, "nll_loss")
    z = input.array
    target, valid, n_classes, batch_shape = _class_targets(input, target, ignore_index, "nll_loss")
    w = _class_weight(weight, n_classes, z.dtype, "nll_loss")
    mass = valid.astype(z.dtype) if w is None else w[target] * valid
    if reduction == "mean":
        with errstate(invalid="ignore", divide="ignore"):
            mass = mass / mass.sum()
    out = NLL.apply(input, target, mass, reduction != "none")
    return out.reshape(batch_shape) if reduction == "none" else out


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multiclass SVM loss, as ``torch.nn.functional.multi_margin_loss`` (input (N, C) or (C,))."""
    _check_reduction(reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: expected an input of shape (N, C) or (C,), got {tuple(input.shape)}")
    z = input.array
    target, _, n_classes, batch_shape = _class_targets(input, target, None, "multi_margin_loss")
    w = _class_weight(weight, n_classes, z.dtype, "multi_margin_loss")
    w_y = xp.ones(target.shape, dtype=z.dtype) if w is None else w[target]
    out = MultiMargin.apply(input, target, p, margin, w_y, reduction != "none")
    if reduction == "mean":
        return out / target.shape[0]
    return out.reshape(batch_shape) if reduction == "none" else out


def _check_same_shape(input, target, name):
    tensor_input(input, name)
    tensor_input(target, name, "target")
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{name}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ; "
            "reshape one of them (broadcasting a loss is almost always a bug)"
        )


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (x - y)², as ``torch.nn.functional.mse_loss``."""
    _check_reduction(reduction, "mse_loss")
    _check_same_shape(input, target, "mse_loss")
    d = sub(input, target)
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error |x - y|, as ``torch.nn.functional.l1_loss``."""
    _check_reduction(reduction, "l1_loss")
    _check_same_shape(input, target, "l1_loss")
    return _reduce(_abs(sub(input, target)), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Quadratic below ``beta``, linear above, as ``torch.nn.functional.smooth_l1_loss``."""
    _check_reduction(reduction, "smooth_l1_loss")
    _check_same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative (smooth_l1_loss does not support negative "
                            f"values for beta), got beta={beta}")
    return _reduce(SmoothL1.apply(input, target, beta, 1), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss (= delta · smooth_l1 with beta = delta), as ``torch.nn.functional.huber_loss``."""
    _check_reduction(reduction, "huber_loss")
    _check_same_shape(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive (huber_loss does not support non-positive values for "
                           f"delta), got delta={delta}; the usual value is 1.0")
    return _reduce(SmoothL1.apply(input, target, delta, delta), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step, as ``torch.nn.functional.binary_cross_entropy_with_logits``."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    dtype = input.dtype
    w = None if weight is None else _array(weight, dtype)
    pw = None if pos_weight is None else _array(pos_weight, dtype)
    return _reduce(BCEWithLogits.apply(input, target, w, pw), reduction)
