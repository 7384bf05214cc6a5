"""Gradient clipping: ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

A single bad batch (or an RNN unrolled over many steps) can produce a gradient so large that one step
throws the parameters far away: exploding gradients. Clipping bounds the step between ``loss.backward()``
and ``optimizer.step()``:

- by norm: treat all gradients as one long vector g and, if ‖g‖ > max_norm, rescale it to length max_norm.
  The direction of the step is kept; only its length is bounded.
- by value: clamp every gradient entry into [-clip_value, clip_value]. Simpler, but it changes the direction.

They live in ``nn`` (as in PyTorch) because they act on a model's parameters, and nn never imports optim;
``ember.optim`` re-exports them. Gradients are changed in place and keep their dtype.
"""

import types
import warnings

from ...autograd.grad_mode import no_grad
from ...backend import errstate, writeable, xp
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)  # a generator could be walked only once
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    return parameters


def _grads(parameters):
    return [p.grad.array for p in parameters if p.grad is not None]


def _vector_norm(x, p):
    """‖x‖_p of a flattened array, in x's dtype: (Σ|x_i|^p)^(1/p); max|x_i| for p = ∞, min for -∞,
    the number of non-zeros for p = 0 (torch.linalg.vector_norm's conventions)."""
    x = x.reshape(-1)
    if p == 2.0:
        return xp.sqrt(xp.dot(x, x))  # one BLAS call, no |x| temporary
    if x.size == 0:
        return xp.zeros((), x.dtype)
    if p == float("inf"):
        return xp.abs(x).max()
    if p == float("-inf"):
        return xp.abs(x).min()
    if p == 0.0:
        return xp.asarray(xp.count_nonzero(x), dtype=x.dtype)
    if p == 1.0:
        return xp.abs(x).sum()
    return (xp.abs(x) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of several arrays (or Tensors) taken together, as if concatenated into one vector:
    the norm of the vector of their norms. Returns a 0-d Tensor (``tensor(0.)`` for no tensors).
    ``foreach`` is accepted for PyTorch compatibility and ignored."""
    arrays = [t.array if isinstance(t, Tensor) else xp.asarray(t) for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(xp.zeros((), dtype=xp.float32))
    norms = xp.stack([_vector_norm(a, norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by ``min(max_norm / (total_norm + 1e-6), 1)``, in place, given the total norm.

    The 1e-6 keeps the division finite for all-zero gradients; the min with 1 means gradients are only
    ever scaled down.
    """
    parameters = _as_list(parameters)
    if not any(p.grad is not None for p in parameters):
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else xp.asarray(total_norm)
    # In the norm's dtype (NumPy keeps float32 / Python float as float32), as torch computes it.
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    if coef == 1.0:  # nothing to scale (a NaN norm still goes through and poisons the grads, as in torch)
        return
    # An infinite norm gives coef 0 and inf · 0 = NaN, as in torch: no NumPy warning about it.
    with no_grad(), errstate(invalid="ignore"):
        for p in parameters:
            if p.grad is None:
                continue
            grad = p.grad.array
            if writeable(grad):
                grad *= coef.astype(grad.dtype)
            else:  # a read-only array assigned by hand: replace it
                p.grad = Tensor(grad * coef.astype(grad.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Rescale the gradients of ``parameters`` so that their total p-norm is at most ``max_norm``.

        total = ‖(‖g_1‖_p, ‖g_2‖_p, ...)‖_p          (the norm of all gradients as one vector)
        g_i ← g_i · min(1, max_norm / (total + 1e-6))

    ``norm_type`` may be ``float('inf')`` (the largest absolute entry). Parameters without a gradient are
    ignored. Returns the total norm *before* clipping as a 0-d Tensor (log it: a growing norm is an early
    sign of divergence). ``error_if_nonfinite=True`` raises if it is NaN or infinite instead of
    spreading NaN into every gradient. ``foreach`` is accepted for PyTorch compatibility and ignored.
    """
    parameters = _as_list(parameters)
    total_norm = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into ``[-clip_value, clip_value]``, in place.
    ``foreach`` is accepted for PyTorch compatibility and ignored."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is None:
                continue
            grad = p.grad.array
            if writeable(grad):
                xp.clip(grad, -clip_value, clip_value, out=grad)
            else:
                p.grad = Tensor(xp.clip(grad, -clip_value, clip_value))
