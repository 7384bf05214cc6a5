"""Adagrad: a per-coordinate learning rate that shrinks with the accumulated squared gradient."""

from ..backend import xp
from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011), as ``torch.optim.Adagrad``.

    With g the gradient, η the ``lr``, λ the ``weight_decay``, ε ``eps`` and t the step (from 1):

        g ← g + λ θ
        η_t = η / (1 + (t - 1) · lr_decay)
        G ← G + g ⊙ g                        (the accumulated squared gradient, ``state['sum']``;
                                               starts at ``initial_accumulator_value``)
        θ ← θ - η_t · g / (√G + ε)

    Each coordinate gets its own effective learning rate η / √G: coordinates with large or frequent
    gradients take smaller steps, rare ones larger. Because G only grows, the steps shrink for ever —
    good near the minimum of a convex problem, too early a stop on deep networks (RMSprop's fix: forget).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        self._check(lr >= 0.0, f"Invalid learning rate: {lr}", "lr must be >= 0")
        self._check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}", "lr_decay must be >= 0")
        self._check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}", "weight_decay must be >= 0")
        self._check(initial_accumulator_value >= 0.0,
                    f"Invalid initial_accumulator_value value: {initial_accumulator_value}", "it must be >= 0")
        self._check(eps >= 0.0, f"Invalid epsilon value: {eps}", "eps must be >= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        # PyTorch fills the state at construction (so state_dict() lists every parameter before any step).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p.array, self.state[p], group)

    @staticmethod
    def _init_state(param, state, group):
        state["step"] = 0
        state["sum"] = xp.full_like(param, float(group["initial_accumulator_value"]))

    def _update(self, param, grad, state, group):
        if not state:  # a parameter added with add_param_group after construction
            self._init_state(param, state, group)
        lr, weight_decay, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
        state["step"] += 1
        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = lr / (1 + (state["step"] - 1) * float(group["lr_decay"]))
        accumulated = state["sum"]
        accumulated += grad * grad
        std = xp.sqrt(accumulated)
        std += eps
        update = xp.divide(grad, std, out=std)  # reuse the buffer: fewer temporaries per step
        update *= clr
        param -= update
