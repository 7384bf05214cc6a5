"""NAdam: Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``."""

from .. import backend
from ..backend import xp
from .adam import adam_moments, apply_weight_decay
from .optimizer import Optimizer


def scalar_dtype():
    """The dtype torch keeps scalar optimizer state in (its ``_get_scalar_dtype``): float64 when the default
    dtype is float64, else float32. Rounding to it step by step gives torch's numbers exactly."""
    return xp.float64 if backend.default_dtype == xp.float64 else xp.float32


class NAdam(Optimizer):
    r"""NAdam, as ``torch.optim.NAdam``. With g the gradient, η ``lr``, (β1, β2) ``betas``, ψ ``momentum_decay``:

        μ_t = β1 (1 - ½ · 0.96^{t ψ}),   μ_{t+1} likewise,   Π_t = Π_{t-1} · μ_t   (``state['mu_product']``)
        m ← β1 m + (1 - β1) g,           v ← β2 v + (1 - β2) g²
        θ ← θ - η (1 - μ_t) / (1 - Π_t) · g / (√(v / (1 - β2^t)) + ε)
              - η μ_{t+1} / (1 - Π_t μ_{t+1}) · m / (√(v / (1 - β2^t)) + ε)

    The Nesterov look-ahead: the momentum term uses next step's μ. ``decoupled_weight_decay`` is NAdamW.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3, *,
                 decoupled_weight_decay=False, maximize=False, foreach=None, capturable=False, differentiable=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        self._check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        self._check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        self._check(momentum_decay >= 0.0, f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, eps, wd, psi = (float(group[k]) for k in ("lr", "eps", "weight_decay", "momentum_decay"))
        beta1, beta2 = (float(b) for b in group["betas"])
        grad = apply_weight_decay(param, grad, lr, wd, group["decoupled_weight_decay"])
        first = not state
        exp_avg, denom, t = adam_moments(state, param, grad, beta1, beta2, amsgrad=False)
        if first:
            state["mu_product"] = 1.0
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        sdt = scalar_dtype()
        state["mu_product"] = mu_product = float(sdt(state["mu_product"]) * sdt(mu))
        denom /= (1 - beta2**t) ** 0.5                              # √v̂
        denom += eps
        param -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
        param -= (lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denom)
