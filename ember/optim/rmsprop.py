"""RMSprop: Adagrad with a forgetting accumulator — divide by a running root-mean-square of the gradients."""

from ..backend import xp
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Coursera lecture 6e, 2012), as ``torch.optim.RMSprop``.

    With g the gradient, η the ``lr``, α the smoothing constant ``alpha``, λ the ``weight_decay``, ε ``eps``
    and μ the ``momentum``:

        g ← g + λ θ
        v ← α v + (1 - α) g ⊙ g              (running mean of the squared gradient, ``state['square_avg']``)
        centered:  ḡ ← α ḡ + (1 - α) g       (running mean of the gradient, ``state['grad_avg']``)
                   s = √(v - ḡ ⊙ ḡ) + ε       (an estimate of the gradient's standard deviation)
        otherwise: s = √v + ε
        with momentum:  b ← μ b + g / s;  θ ← θ - η b     (``state['momentum_buffer']``)
        otherwise:      θ ← θ - η g / s

    Adagrad's sum G only grows; the exponential moving average forgets old gradients (over about
    1 / (1 - α) steps), so the effective step η / √v adapts without decaying to zero. Note that ε is added
    outside the square root, and v starts at 0 with no bias correction (Adam adds one).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}", "lr must be >= 0")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}", "eps must be >= 0")
        self._check(momentum >= 0.0, f"Invalid momentum value: {momentum}", "momentum must be >= 0")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}", "weight_decay must be >= 0")
        self._check(alpha >= 0.0, f"Invalid alpha value: {alpha}", "alpha must be >= 0, typically 0.9 to 0.99")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(param)
        state["step"] += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param

        # In-place arithmetic on one scratch buffer: the same numbers as the equations, fewer temporaries.
        square_avg = state["square_avg"]
        scratch = grad * grad
        scratch *= 1 - alpha
        square_avg *= alpha
        square_avg += scratch                                      # v ← α v + (1 - α) g²
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad                         # ḡ ← α ḡ + (1 - α) g
            avg = xp.multiply(grad_avg, grad_avg, out=scratch)
            xp.sqrt(xp.subtract(square_avg, avg, out=avg), out=avg)  # √(v - ḡ²)
        else:
            avg = xp.sqrt(square_avg, out=scratch)                 # √v
        avg += eps
        step = xp.divide(grad, avg, out=avg)                       # g / s

        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += step                                            # b ← μ b + g / s
            param -= lr * buf
        else:
            step *= lr
            param -= step
