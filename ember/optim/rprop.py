"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993), as ``torch.optim.Rprop``."""

from ..backend import xp
from .optimizer import Optimizer


class Rprop(Optimizer):
    r"""Rprop, as ``torch.optim.Rprop``: only the sign of the gradient is used. Each weight keeps its own step
    size Δ (``state['step_size']``, starting at ``lr``):

        same sign as last step:   Δ ← min(Δ η+, Δmax)
        sign flipped:             Δ ← max(Δ η-, Δmin), and this step's gradient counts as 0 (no move)
        θ ← θ - sign(g) Δ
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}")
        self._check(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        etaminus, etaplus = (float(e) for e in group["etas"])
        step_min, step_max = (float(s) for s in group["step_sizes"])
        if not state:
            state["step"] = 0
            state["prev"] = xp.zeros_like(param)
            state["step_size"] = xp.full_like(param, float(group["lr"]))
        state["step"] += 1
        s = xp.sign(grad * state["prev"])
        factor = xp.where(s > 0, etaplus, xp.where(s < 0, etaminus, 1.0)).astype(param.dtype)
        step_size = state["step_size"]
        step_size *= factor
        xp.clip(step_size, step_min, step_max, out=step_size)
        grad = xp.where(s < 0, 0, grad).astype(param.dtype)
        param -= xp.sign(grad) * step_size
        state["prev"][...] = grad
