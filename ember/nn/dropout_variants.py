"""Vanilla (non-inverted) dropout and DropConnect: the maths and the two conventions are explained in
ember.ops.dropout_variants. ``nn.Dropout`` stays torch's inverted dropout."""

from ..ops import linear
from ..ops.conv import conv1d, conv2d
from ..ops.dropout_variants import drop_connect_mask, vanilla_dropout
from ..ops.validate import probability
from ..tensor import Tensor
from .conv import Conv1d, Conv2d
from .linear import Linear
from .module import Module


class VanillaDropout(Module):
    """Dropout as first published: while training, zero each element with probability p and do not rescale;
    at evaluation multiply by (1 - p). Same expected output as ``nn.Dropout`` (the inverted form torch uses),
    with the constant at test time instead of training time."""

    def __init__(self, p=0.5):
        super().__init__()
        probability(p, "dropout", type(self).__name__)
        self.p = p

    def forward(self, x):
        return vanilla_dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class DropConnect(Module):
    """Wrap a Linear, Conv1d or Conv2d and drop its *weights*: each training forward pass uses
    W ⊙ M / (1 - p), M ~ Bernoulli(1 - p) drawn afresh (the bias is kept, as a dropped bias would shift
    every output of a unit at once); evaluation uses W itself. The wrapped layer's parameters are this
    module's (``module.weight``), so optimizers and state_dicts see them unchanged.

        layer = nn.DropConnect(nn.Linear(784, 256), p=0.5)
    """

    def __init__(self, module, p=0.5):
        super().__init__()
        if not isinstance(module, (Linear, Conv1d, Conv2d)):
            raise TypeError(f"DropConnect wraps a Linear, Conv1d or Conv2d layer, got {type(module).__name__}; "
                            "for activations use nn.Dropout")
        probability(p, "drop", "DropConnect")
        self.module, self.p = module, p
        self.last_mask = None  # the mask of the latest training pass (to inspect or to replay)

    def sample_mask(self):
        """A fresh scaled mask M / (1 - p) of the weight's shape and dtype."""
        weight = self.module.weight
        return Tensor(drop_connect_mask(weight.shape, self.p, weight.dtype))

    def forward(self, x):
        if not self.training or self.p == 0:
            return self.module(x)
        self.last_mask = self.sample_mask()
        return self.forward_with_mask(x, self.last_mask)

    def forward_with_mask(self, x, mask):
        """The wrapped layer with weight W ⊙ mask (a fixed, already scaled mask: reproducible passes)."""
        layer = self.module
        weight = layer.weight * mask  # differentiable: dL/dW = dL/dW̃ ⊙ mask
        if isinstance(layer, Linear):
            return linear(x, weight, layer.bias)
        x, padding = layer._padded_input(x)
        conv = conv2d if isinstance(layer, Conv2d) else conv1d
        return conv(x, weight, layer.bias, layer.stride, padding, layer.dilation, layer.groups, layer=layer)

    def extra_repr(self):
        return f"p={self.p}"
