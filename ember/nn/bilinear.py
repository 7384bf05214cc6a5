"""The bilinear layer y = x1ᵀ A x2 + b (at torch.nn.modules.linear)."""

import math

from .. import backend
from ..ops.bilinear import bilinear
from ..ops.validate import size
from . import init
from .module import Module
from .parameter import Parameter


class Bilinear(Module):
    """y_o = x1ᵀ W_o x2 + b_o with weight (out_features, in1_features, in2_features); both initialised from
    U(-1/√in1, 1/√in1), as torch does."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        in1_features = size(in1_features, "in1_features", "Bilinear")
        in2_features = size(in2_features, "in2_features", "Bilinear")
        out_features = size(out_features, "out_features", "Bilinear")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        dtype = backend.default_dtype if dtype is None else dtype
        self.weight = Parameter(backend.xp.empty((out_features, in1_features, in2_features), dtype=dtype))
        if bias:
            self.bias = Parameter(backend.xp.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
