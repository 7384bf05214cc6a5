"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992), as ``torch.optim.ASGD``."""

from ..backend import xp
from .nadam import scalar_dtype
from .optimizer import Optimizer


class ASGD(Optimizer):
    r"""ASGD, as ``torch.optim.ASGD``: SGD with a decaying step, plus a running average of the iterates
    (``state['ax']``) that starts once t > t0:

        θ ← θ (1 - λ η_t) - η_t g
        ax ← θ while μ_t = 1, else ax + μ_t (θ - ax)
        η_{t+1} = η / (1 + λ η t)^α,   μ_{t+1} = 1 / max(1, t - t0)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, lambd, alpha, t0, wd = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0", "weight_decay"))
        sdt = scalar_dtype()
        if not state:
            state["step"] = 0
            state["eta"] = float(sdt(lr))
            state["mu"] = 1.0
            state["ax"] = xp.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            grad = grad + wd * param
        eta = state["eta"]
        param *= 1 - lambd * eta
        param -= eta * grad
        if state["mu"] != 1:
            state["ax"] += (param - state["ax"]) * state["mu"]
        else:
            state["ax"][...] = param
        state["eta"] = float(sdt(lr / ((1 + lambd * lr * t) ** alpha)))
        state["mu"] = float(sdt(1 / max(1, t - t0)))
