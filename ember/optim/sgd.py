"""SGD: stochastic gradient descent, with optional (Nesterov) momentum, weight decay and dampening."""

from ..backend import xp
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    With g the gradient of the loss on a mini-batch, η the learning rate (``lr``), λ the ``weight_decay``,
    μ the ``momentum`` and τ the ``dampening``, one step is:

        g ← g + λ θ                              (L2 penalty (λ/2)‖θ‖² folded into the gradient)
        b ← μ b + (1 - τ) g                      (the velocity, ``state['momentum_buffer']``; b = g on step 1)
        d = g + μ b   if nesterov,   else b      (without momentum: d = g)
        θ ← θ - η d

    Momentum (Polyak's heavy ball) lets the steps build up speed along directions where the gradients agree
    and cancel the zig-zag across a narrow valley. It is the notes' ``v = ρ v - lr·dx;  x += v`` with
    ``v = -η b``: the same sequence of parameters while η is constant (PyTorch keeps η outside the buffer
    so that changing the learning rate takes effect at once).

    Nesterov momentum evaluates the gradient at the look-ahead point ``x + ρ v``; after the notes' change
    of variables ``y = x + ρ v`` the step becomes ``y ← y - η (g + μ b)``, the formula above, so no second
    gradient evaluation is needed. It requires momentum > 0 and no dampening.

    ``maximize=True`` ascends the objective (uses -g).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}", "lr must be >= 0")
        self._check(momentum >= 0.0, f"Invalid momentum value: {momentum}", "momentum must be >= 0")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}", "weight_decay must be >= 0")
        self._check(
            not nesterov or (momentum > 0 and dampening == 0),
            f"Nesterov momentum requires a momentum and zero dampening, got momentum={momentum}, "
            f"dampening={dampening}",
            "set momentum > 0 (e.g. 0.9) and dampening=0, or nesterov=False",
        )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, momentum, weight_decay = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        scratch = None  # the one temporary of the step: ``grad`` is the caller's .grad and is never written
        if weight_decay != 0:
            scratch = xp.multiply(param, weight_decay)
            scratch += grad  # g + λθ, the same sum (and bits) as grad + λθ
            grad = scratch
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # The first velocity is the gradient itself (no dampening), as in PyTorch.
                buf = state["momentum_buffer"] = grad.copy()
            else:
                dampening = float(group["dampening"])
                buf *= momentum
                buf += grad if dampening == 0 else (1.0 - dampening) * grad
            if group["nesterov"]:
                grad = scratch = grad + momentum * buf
            else:
                grad = buf
        if scratch is None:
            scratch = xp.empty_like(grad)
        param -= xp.multiply(grad, lr, out=scratch)  # η·d into the temporary (d may be the velocity: kept)
