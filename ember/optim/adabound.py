"""AdaBound: Adam whose per-coordinate step size is clipped into bounds that tighten towards SGD's."""

from ..backend import xp
from .adam import adam_moments
from .optimizer import Optimizer


class AdaBound(Optimizer):
    r"""AdaBound / AMSBound (Luo, Xiong, Liu & Sun, ICLR 2019, "Adaptive Gradient Methods with Dynamic Bound
    of Learning Rate"), following the authors' reference implementation (github.com/Luolc/AdaBound).

    With g the gradient, η the ``lr``, (β1, β2) the ``betas``, ε ``eps``, λ the ``weight_decay``, γ the
    ``gamma`` (convergence speed of the bounds) and t the step (from 1):

        g ← g + λ θ
        m ← β1 m + (1 - β1) g,   v ← β2 v + (1 - β2) g ⊙ g          (as Adam: ``exp_avg``, ``exp_avg_sq``)
        amsbound:  v̂max ← max(v̂max, v), used for v below             (``max_exp_avg_sq``)
        α = η √(1 - β2^t) / (1 - β1^t)                              (Adam's bias-corrected step size)
        η* = final_lr · η / η₀                                      (η₀ = the group's lr at construction)
        lower(t) = η* (1 - 1 / (γ t + 1)),   upper(t) = η* (1 + 1 / (γ t))
        θ ← θ - clip(α / (√v + ε), lower(t), upper(t)) ⊙ m

    Adam's effective per-coordinate learning rate α / (√v + ε) can be extremely large or small late in
    training, which hurts generalisation. Clipping it into [lower, upper] changes nothing at first (the
    bounds start at 0 and ∞) and turns Adam gradually into SGD (with momentum m) at learning rate η*: both
    bounds converge to η*. SGD is the case lower = upper; Adam the case lower = 0, upper = ∞.

    A learning-rate scheduler cannot reach ``final_lr``, so, as in the reference code, it is scaled by the
    ratio of the current lr to the lr the group had when it was added (kept in the group as ``base_lr``).
    Note ε is added to √v without bias correction of v, as in the reference code (Adam corrects v first).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0,
                 amsbound=False, *, maximize=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}", "lr must be >= 0")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}", "eps must be >= 0")
        self._check(len(betas) == 2, f"betas must be a pair (beta1, beta2), got {betas}")
        self._check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}", "betas[0] must be in [0, 1)")
        self._check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}", "betas[1] must be in [0, 1)")
        self._check(final_lr >= 0.0, f"Invalid final learning rate: {final_lr}", "final_lr must be >= 0")
        self._check(0.0 <= gamma < 1.0, f"Invalid gamma parameter: {gamma}", "gamma must be in [0, 1), e.g. 1e-3")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}", "weight_decay must be >= 0")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), final_lr=final_lr, gamma=gamma, eps=eps,
                        weight_decay=weight_decay, amsbound=amsbound, maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        group.setdefault("base_lr", group["lr"])  # η₀, the reference to scale final_lr by

    def _update(self, param, grad, state, group):
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        gamma = float(group["gamma"])
        if weight_decay != 0:
            grad = grad + weight_decay * param
        exp_avg, denom, t = adam_moments(state, param, grad, beta1, beta2, group["amsbound"])  # as Adam
        denom += eps                                                 # √v + ε

        step_size = lr * (1 - beta2**t) ** 0.5 / (1 - beta1**t)
        base_lr = float(group.get("base_lr", lr))
        final_lr = float(group["final_lr"]) * lr / base_lr if base_lr != 0 else float(group["final_lr"])
        lower = final_lr * (1 - 1 / (gamma * t + 1))
        upper = final_lr * (1 + 1 / (gamma * t)) if gamma > 0 else float("inf")  # γ = 0: never tighten
        # The per-coordinate learning rate, clipped, times the first moment; built in denom's buffer.
        rate = xp.divide(step_size, denom, out=denom)
        xp.clip(rate, lower, upper, out=rate)
        rate *= exp_avg
        param -= rate
