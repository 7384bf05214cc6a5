"""Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7), as ``torch.optim.Adamax``."""

from ..backend import xp
from .optimizer import Optimizer


class Adamax(Optimizer):
    r"""Adamax, as ``torch.optim.Adamax``:

        m ← β1 m + (1 - β1) g                 (``state['exp_avg']``)
        u ← max(β2 u, |g| + ε)                (``state['exp_inf']``: an exponentially weighted ∞-norm)
        θ ← θ - η / (1 - β1^t) · m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        self._check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        self._check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param)
            state["exp_inf"] = xp.zeros_like(param)
        state["step"] += 1
        if wd != 0:
            grad = grad + wd * param
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
        param -= (lr / (1 - beta1 ** state["step"])) * (exp_avg / exp_inf)
