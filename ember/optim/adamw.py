"""AdamW: Adam with decoupled weight decay."""

from .adam import Adam


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``: Adam whose weight decay shrinks the
    parameters directly instead of being added to the gradient.

    One step, before Adam's (see :class:`Adam`; g does *not* include λ θ):

        θ ← θ (1 - η λ)
        m, v, m̂, v̂ as in Adam;   θ ← θ - η m̂ / (√v̂ + ε)

    Why decouple: in Adam an L2 term λ θ added to g is divided by √v̂ like the rest of the gradient, so
    weights with large gradients are barely regularised. Decay applied outside the adaptive scaling shrinks
    every weight at the same rate η λ, which is what "weight decay" means for SGD. Hence the larger
    default λ = 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # whatever was saved, AdamW decouples (as torch's __setstate__)
            group["decoupled_weight_decay"] = True
