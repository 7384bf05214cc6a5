"""Adam: momentum and RMSprop together, with bias correction of both running averages."""

from ..backend import xp
from .optimizer import Optimizer


def adam_moments(state, param, grad, beta1, beta2, amsgrad):
    """Advance Adam's moment estimates in place and return (m, √v in a scratch buffer, step t):
    m ← β1 m + (1 - β1) g,  v ← β2 v + (1 - β2) g ⊙ g, and with AMSGrad √max(v_max, v) instead of √v.
    Shared by Adam/AdamW and AdaBound, which differ only in how they turn these into a step."""
    if not state:
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(param)
        state["exp_avg_sq"] = xp.zeros_like(param)
        if amsgrad:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
    state["step"] += 1
    # In-place arithmetic on one scratch buffer: the same numbers as the equations, fewer temporaries.
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg *= beta1
    exp_avg += (1 - beta1) * grad                                # m ← β1 m + (1 - β1) g
    scratch = grad * grad
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch                                        # v ← β2 v + (1 - β2) g²
    if amsgrad:
        max_exp_avg_sq = state.setdefault("max_exp_avg_sq", xp.zeros_like(param))
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        return exp_avg, xp.sqrt(max_exp_avg_sq, out=scratch), state["step"]
    return exp_avg, xp.sqrt(exp_avg_sq, out=scratch), state["step"]


def apply_weight_decay(param, grad, lr, weight_decay, decoupled):
    """The weight decay of the Adam family: the L2 penalty g + λθ (returned as the new gradient), or with
    ``decoupled`` AdamW's θ ← θ(1 - ηλ) in place (the gradient is returned unchanged)."""
    if weight_decay == 0:
        return grad
    if decoupled:
        param *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * param


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``; ``amsgrad=True`` is AMSGrad (Reddi et al., 2018).

    With g the gradient, η the ``lr``, (β1, β2) the ``betas``, ε ``eps``, λ the ``weight_decay`` and t the
    step (from 1):

        g ← g + λ θ                               (L2 penalty; decoupled_weight_decay: θ ← θ (1 - η λ) instead)
        m ← β1 m + (1 - β1) g                     (first moment: momentum, ``state['exp_avg']``)
        v ← β2 v + (1 - β2) g ⊙ g                 (second moment: RMSprop, ``state['exp_avg_sq']``)
        m̂ = m / (1 - β1^t),   v̂ = v / (1 - β2^t)  (bias correction)
        amsgrad:  v̂max ← max(v̂max, v) and v̂ = v̂max / (1 - β2^t)   (``state['max_exp_avg_sq']``)
        θ ← θ - η m̂ / (√v̂ + ε)

    m and v start at 0, so early on they underestimate the moments (after one step m = (1 - β1) g); dividing
    by 1 - β^t removes that bias — without it the first steps would divide by a tiny √v and be far too
    large. AMSGrad keeps the largest second moment seen, so the effective step size never grows.

    Typical settings: β1 = 0.9, β2 = 0.999, η = 1e-3 or 5e-4.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}", "lr must be >= 0")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}", "eps must be >= 0")
        self._check(len(betas) == 2, f"betas must be a pair (beta1, beta2), got {betas}")
        self._check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}", "betas[0] must be in [0, 1)")
        self._check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}", "betas[1] must be in [0, 1)")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}", "weight_decay must be >= 0")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        grad = apply_weight_decay(param, grad, lr, weight_decay, group.get("decoupled_weight_decay", False))
        exp_avg, denom, t = adam_moments(state, param, grad, beta1, beta2, group["amsgrad"])
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom /= bias_correction2**0.5
        denom += eps                                                 # √v̂ + ε
        update = xp.divide(exp_avg, denom, out=denom)
        update *= lr / bias_correction1                              # η m̂ / (√v̂ + ε)
        param -= update
