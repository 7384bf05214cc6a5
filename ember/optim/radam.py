"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020), as ``torch.optim.RAdam``."""

import math

from .adam import adam_moments, apply_weight_decay
from .optimizer import Optimizer


class RAdam(Optimizer):
    r"""RAdam, as ``torch.optim.RAdam``. Early on the variance of Adam's adaptive step is too large to trust;
    RAdam measures how many samples the running average holds (ρ_t) and uses plain momentum SGD until ρ_t > 5:

        m ← β1 m + (1 - β1) g,   v ← β2 v + (1 - β2) g²,   m̂ = m / (1 - β1^t)
        ρ_∞ = 2 / (1 - β2) - 1,  ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t)
        ρ_t > 5:  r_t = √((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t)),
                  θ ← θ - η m̂ r_t √(1 - β2^t) / (√v + ε)
        else:     θ ← θ - η m̂
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        self._check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        self._check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        grad = apply_weight_decay(param, grad, lr, wd, group["decoupled_weight_decay"])
        exp_avg, sqrt_v, t = adam_moments(state, param, grad, beta1, beta2, amsgrad=False)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        m_hat = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            sqrt_v += eps
            adaptive = (bias_correction2**0.5) / sqrt_v
            param -= m_hat * lr * adaptive * rect
        else:
            param -= m_hat * lr
