"""Adadelta: RMSprop whose step is measured in the units of the parameters, not of the gradient."""

from ..backend import xp
from .optimizer import Optimizer


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    With g the gradient, ρ ``rho``, ε ``eps``, λ the ``weight_decay`` and η the ``lr`` (1 in the paper):

        g ← g + λ θ
        v ← ρ v + (1 - ρ) g ⊙ g                    (running mean of squared gradients, ``state['square_avg']``)
        Δ = √(u + ε) / √(v + ε) ⊙ g                 (the update, in parameter units)
        u ← ρ u + (1 - ρ) Δ ⊙ Δ                    (running mean of squared updates, ``state['acc_delta']``)
        θ ← θ - η Δ

    RMSprop's step η g / √v has the units of η; Adadelta replaces η by the RMS of the recent updates, so the
    ratio √u / √v has the units of θ / g, what a Newton step (g / curvature) has. That is why it needs no
    learning rate to speak of: ``lr`` only scales the result.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}", "lr must be >= 0")
        self._check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}", "rho must be in [0, 1], typically 0.9")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}", "eps must be >= 0")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}", "weight_decay must be >= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, rho, eps, weight_decay = (float(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param)
            state["acc_delta"] = xp.zeros_like(param)
        state["step"] += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param

        # In-place arithmetic on two scratch buffers: the same numbers as the equations, fewer temporaries.
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        scratch = grad * grad
        scratch *= 1 - rho
        square_avg *= rho
        square_avg += scratch                           # v ← ρ v + (1 - ρ) g²
        std = xp.sqrt(xp.add(square_avg, eps, out=scratch), out=scratch)
        delta = xp.sqrt(acc_delta + eps)
        delta /= std
        delta *= grad                                   # Δ = √(u + ε) / √(v + ε) · g
        square = xp.multiply(delta, delta, out=scratch)
        square *= 1 - rho
        acc_delta *= rho
        acc_delta += square                             # u ← ρ u + (1 - ρ) Δ²
        delta *= lr
        param -= delta                                  # θ ← θ - η Δ
