"""LeNet-5 as LeCun, Bottou, Bengio and Haffner published it in 1998 ("Gradient-based learning applied to
document recognition", Section II.B), layer for layer:

    input 32×32
    C1  conv 6@5×5                        → 6@28×28      156 params   122,304 connections
    S2  trainable subsampling 2×2         → 6@14×14       12 params     5,880 connections
    C3  conv 16@5×5, partially connected  → 16@10×10   1,516 params   151,600 connections
    S4  trainable subsampling 2×2         → 16@5×5        32 params     2,000 connections
    C5  conv 120@5×5                      → 120@1×1   48,120 params    48,120 connections
    F6  full 84                           → 84        10,164 params    10,164 connections
    output: Euclidean RBF, 10 units       → 10           840 fixed        840 connections

60,000 trainable parameters and 340,908 connections in all, the paper's figures (``layer_counts``
recomputes them). A "connection" is one input wire of one unit, the bias counting as a wire from a unit
that is always 1: Σ over output units of (inputs + 1). Convolutions share weights, so they have far more
connections than parameters: "评估卷积的参数量是必须掌握的".

What the modern LeNet-5 (``lenet5``) dropped, and this one keeps:

- **The squashing function** f(a) = A·tanh(S·a), A = 1.7159, S = 2/3, after every layer up to F6 (the
  convolutions C1, C3, C5, the subsampling layers S2, S4, and F6). A and S make f(±1) = ±1, so the targets
  ±1 of F6 sit where the slope of f is largest, and the gain near 0 is about 1.
- **Trainable subsampling**: each S2/S4 unit adds its 2×2 inputs, multiplies the sum by one learned
  coefficient per map and adds one learned bias per map, then squashes: 2 parameters per map.
- **C3's partial connection table** (Table I of the paper, ``C3_TABLE``): C3 map 0–5 see 3 adjacent S2
  maps, 6–11 four adjacent ones, 12–14 four non-adjacent ones, 15 all six. The paper's two reasons: it keeps
  the number of connections "within reasonable bounds", and it "forces a break of symmetry" so that
  different maps extract different (hopefully complementary) features because they get different inputs.
- **The Euclidean RBF output layer**: y_i = Σ_j (x_j − w_ij)², the squared distance between F6's state
  and the code of class i; the smaller, the likelier. The paper fixed the codes by hand to stylised 7×12
  bitmaps of the characters (entries ±1); here they are drawn at random in {−1, +1} (seeded by
  ``ember.manual_seed``) and frozen (``requires_grad=False``), so they are parameters in the state_dict
  (their codes travel with checkpoints) that no optimiser changes.

The model returns **−y** (negated distances) so that ``argmax`` is the nearest code and the ordinary
``CrossEntropyLoss`` trains it (``ember train lenet5_classic`` works unchanged): cross-entropy on −y is
y_D + log Σ_i exp(−y_i), the paper's MAP criterion (eq. 9) without its "rubbish class" term exp(−j).
``map_loss`` adds that term back for whoever wants eq. 9 exactly.

Train it with a learning rate near 0.01 (``ember train lenet5_classic --lr 0.01``: 97.7 % test accuracy
on MNIST after one epoch). The gradient of a distance, ∂y_i/∂x_j = 2(x_j − w_ij), is of order 1 per F6
unit where a linear output layer passes gradients scaled by its small weights, so SGD's usual 0.1 drives
F6 into saturation within a few steps (measured: the loss climbs to about 50 and stays there). The paper's
own step sizes were 0.0005 down to 0.00001, with per-weight second-order scaling.

Initialisation as in the paper (Appendix A): every weight and bias uniform in ±2.4/F_i, F_i the fan-in of
the unit it feeds, so that every unit's weighted sum starts with about the same spread, inside the
squashing function's near-linear range. The paper trained with a stochastic diagonal Levenberg-Marquardt
method; plain SGD with momentum works too.
"""

import math
from collections import OrderedDict

from .. import nn
from ..autograd.grad_mode import no_grad
from .. import backend
from ..backend import generator, xp
from ..ops.activation import tanh
from ..ops.conv import conv2d
from ..ops.linalg import matmul
from ..ops.loss import cross_entropy
from ..ops.pool import avg_pool2d
from ..ops.shape import cat
from ..tensor import Tensor
from .registry import register

#: Table I of the paper, column by column: the S2 maps that each C3 map (0..15) is connected to.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),  # 3 contiguous maps
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),  # 4 contiguous
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),  # 4 discontinuous
    (0, 1, 2, 3, 4, 5),  # all six
)

A, S = 1.7159, 2.0 / 3.0  # the squashing function's amplitude and slope: f(±1) = ±1


def lecun_uniform_(tensor, fan_in):
    """The paper's initialisation: uniform on ±2.4/F_i (F_i = number of inputs of the unit)."""
    bound = 2.4 / fan_in
    tensor.array[...] = generator().uniform(-bound, bound, size=tensor.shape).astype(tensor.dtype)
    return tensor


def _per_sample(shape, dims):
    """The last ``dims`` sizes of a shape (the batch dimension, if there is one, is not counted)."""
    return tuple(shape)[-dims:]


class ScaledTanh(nn.Module):
    """LeCun's squashing function f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (so that f(±1) = ±1)."""

    def __init__(self, amplitude=A, slope=S):
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x):
        return tanh(x * self.slope) * self.amplitude

    def extra_repr(self):
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"


class Subsampling(nn.Module):
    """LeNet's trainable subsampling: y = w_c · Σ_(2×2 window) x + b_c, one (w_c, b_c) per map c.

    Non-overlapping windows halve each side. The coefficient sets how far into the squashing function's
    non-linear range the unit works: small, the layer merely blurs (quasi-linear); large, a unit acts as a
    "noisy OR" or a "noisy AND" of its inputs, depending on the bias. The paper adds the four inputs (not
    their mean, which would only rescale w_c by 4).
    """

    def __init__(self, channels, kernel_size=2):
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.weight = nn.Parameter(xp.empty(channels, dtype=backend.default_dtype))
        self.bias = nn.Parameter(xp.empty(channels, dtype=backend.default_dtype))
        self.reset_parameters()

    def reset_parameters(self):
        fan_in = self.kernel_size * self.kernel_size
        lecun_uniform_(self.weight, fan_in)
        lecun_uniform_(self.bias, fan_in)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"{self}: expected an (N, {self.channels}, H, W) input, got shape {tuple(x.shape)}")
        window_sums = avg_pool2d(x, self.kernel_size, divisor_override=1, layer=self)
        return window_sums * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)

    def count_ops(self, input_shape, output_shape):
        """Per sample: each output unit has kernel² inputs and a bias, (4 + 1) connections, and one
        multiplication (the coefficient; the window sum is additions, which MAC counts leave out)."""
        units = math.prod(_per_sample(output_shape, 3))
        taps = self.kernel_size * self.kernel_size
        return {"macs": units, "connections": units * (taps + 1)}

    def extra_repr(self):
        return f"{self.channels}, kernel_size={self.kernel_size}"


class PartialConv2d(nn.Module):
    """A convolution in which output map o sees only the input maps ``connection_table[o]`` (C3 of LeNet-5).

    Only the connected kernels are parameters: ``weight`` holds one kh×kw kernel per connection, in table
    order (output map 0's kernels first), so C3 has 60·25 + 16 = 1,516 parameters, not 16·6·25 + 16.
    The forward pass scatters them into a dense (out, in, kh, kw) weight with a fixed 0/1 matrix — one small
    GEMM, whose backward gathers the dense weight's gradient back — and runs one ordinary convolution:
    the unconnected kernels are zeros, so the output is that of the partially connected layer.
    """

    def __init__(self, in_channels, out_channels, kernel_size, connection_table, bias=True):
        super().__init__()
        if len(connection_table) != out_channels:
            raise ValueError(f"PartialConv2d: the table has {len(connection_table)} rows, expected one per output "
                             f"map ({out_channels})")
        for o, inputs in enumerate(connection_table):
            if not inputs or len(set(inputs)) != len(inputs) or not all(0 <= c < in_channels for c in inputs):
                raise ValueError(f"PartialConv2d: row {o} of the table, {inputs}, must list distinct input maps "
                                 f"in 0..{in_channels - 1}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.connection_table = tuple(tuple(inputs) for inputs in connection_table)
        pairs = [(o, c) for o, inputs in enumerate(self.connection_table) for c in inputs]
        # scatter[o·in + c, k] = 1 where kernel k connects input map c to output map o.
        self._scatter = xp.zeros((out_channels * in_channels, len(pairs)))
        for k, (o, c) in enumerate(pairs):
            self._scatter[o * in_channels + c, k] = 1
        self.weight = nn.Parameter(xp.empty((len(pairs), kernel_size, kernel_size), dtype=backend.default_dtype))
        if bias:
            self.bias = nn.Parameter(xp.empty(out_channels, dtype=backend.default_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @property
    def mask(self):
        """The connection table as an (out, in) 0/1 array: mask[o, c] = 1 if input map c feeds output map o."""
        return self._scatter.sum(axis=1).reshape(self.out_channels, self.in_channels)

    def reset_parameters(self):
        """±2.4/F_i with each output map's own fan-in F_i = (its input maps)·kh·kw."""
        area = self.kernel_size * self.kernel_size
        start = 0
        for o, inputs in enumerate(self.connection_table):
            bound = 2.4 / (len(inputs) * area)
            kernels = self.weight.array[start : start + len(inputs)]
            kernels[...] = generator().uniform(-bound, bound, size=kernels.shape)
            if self.bias is not None:
                self.bias.array[o] = generator().uniform(-bound, bound)
            start += len(inputs)

    def dense_weight(self):
        """The (out, in, kh, kw) weight of the equivalent full convolution (zeros where not connected)."""
        w = self.weight
        scatter = Tensor(self._scatter.astype(w.dtype, copy=False))
        dense = matmul(scatter, w.reshape(w.shape[0], -1))
        return dense.reshape(self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)

    def forward(self, x):
        return conv2d(x, self.dense_weight(), self.bias, layer=self)

    def count_ops(self, input_shape, output_shape):
        """Per sample: output map o's units each have |inputs(o)|·kh·kw wires and a bias (LeCun's count)."""
        positions = math.prod(_per_sample(output_shape, 2))
        weights = self.weight.shape[0] * self.kernel_size * self.kernel_size
        bias = self.out_channels if self.bias is not None else 0
        return {"macs": positions * weights, "connections": positions * (weights + bias)}

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"connections={self.weight.shape[0]} of {self.in_channels * self.out_channels}")


class EuclideanRBF(nn.Module):
    """The output layer of LeNet-5: y_i = Σ_j (x_j − w_ij)², the squared distance to the code of class i.

    ``weight`` (out_features, in_features) holds one code per class, drawn uniformly from {−1, +1} and
    frozen (requires_grad False) by default: with trainable codes, the trivial solution of the
    distance-based loss is to pull every code onto the same point, which the paper avoids by fixing them.
    """

    def __init__(self, in_features, out_features, trainable=False):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        signs = xp.asarray([-1.0, 1.0], dtype=backend.default_dtype)
        codes = generator().choice(signs, size=(out_features, in_features))
        self.weight = nn.Parameter(codes, requires_grad=trainable)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{self}: expected an (N, {self.in_features}) input, got shape {tuple(x.shape)}")
        diff = x.unsqueeze(1) - self.weight.unsqueeze(0)  # (N, classes, features)
        return (diff * diff).sum(dim=2)

    def count_ops(self, input_shape, output_shape):
        """Per sample: each output unit has one wire per input and no bias."""
        units = _per_sample(output_shape, 1)[0]
        return {"macs": units * self.in_features, "connections": units * self.in_features}

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"trainable={self.weight.requires_grad}"


class LeNet5Classic(nn.Module):
    """LeNet-5 as published (see the module docstring). Returns −(RBF distances): use CrossEntropyLoss."""

    def __init__(self, num_classes=10, in_channels=1, input_size=32):
        super().__init__()
        if input_size > 32 or input_size < 8 or input_size % 2:  # C5 must see exactly 5×5 maps
            raise ValueError(f"LeNet5Classic: input_size must be even and at most 32 (smaller images are "
                             f"zero-padded to the paper's 32×32), got {input_size}; resize the images to 32×32")
        self.input_size = input_size
        self.c1 = nn.Conv2d(in_channels, 6, 5, padding=(32 - input_size) // 2)
        self.s2 = Subsampling(6)
        self.c3 = PartialConv2d(6, 16, 5, C3_TABLE)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = EuclideanRBF(84, num_classes)
        self.squash = ScaledTanh()
        for layer in (self.c1, self.c5, self.f6):
            fan_in = math.prod(layer.weight.shape[1:])
            lecun_uniform_(layer.weight, fan_in)
            lecun_uniform_(layer.bias, fan_in)

    def forward(self, x):
        f = self.squash
        x = f(self.s2(f(self.c1(x))))
        x = f(self.s4(f(self.c3(x))))
        x = f(self.c5(x)).flatten(1)  # 120@1×1
        x = f(self.f6(x))
        return -self.output(x)

    def layer_counts(self):
        """LeCun's table: {layer: {"params", "trainable", "connections", "macs"}} per sample, for C1 … output."""
        names = ("c1", "s2", "c3", "s4", "c5", "f6", "output")
        shapes, handles = {}, []
        for name in names:
            def record(module, inputs, out, name=name):
                shapes[name] = (tuple(inputs[0].shape), tuple(out.shape))
            handles.append(getattr(self, name).register_forward_hook(record))
        try:
            with no_grad():
                x = Tensor(xp.zeros((1, self.c1.in_channels, self.input_size, self.input_size),
                                    dtype=self.c1.weight.dtype))
                self(x)
        finally:
            for handle in handles:
                handle.remove()
        table = OrderedDict()
        for name in names:
            layer = getattr(self, name)
            params = list(layer.parameters())
            ops = (layer.count_ops(*shapes[name]) if hasattr(layer, "count_ops")
                   else dense_counts(layer, shapes[name][1]))
            table[name] = {"params": sum(p.numel() for p in params),
                           "trainable": sum(p.numel() for p in params if p.requires_grad), **ops}
        return table


def dense_counts(layer, output_shape):
    """Connections and MACs of a Conv2d or Linear, per sample: every output unit has fan-in wires + a bias."""
    fan_in = math.prod(layer.weight.shape[1:])
    if isinstance(layer, nn.Linear):
        units = output_shape[-1]
    else:
        units = math.prod(_per_sample(output_shape, 3))
    bias = 1 if layer.bias is not None else 0
    return {"macs": units * fan_in, "connections": units * (fan_in + bias)}


def map_loss(logits, target, j):
    """The paper's MAP criterion (eq. 9) on this model's output −y:

        E = y_D + log(e^{−j} + Σ_i e^{−y_i})

    — cross-entropy over the classes plus a "rubbish class" whose distance is the constant j, which keeps
    the loss from being minimised by merely pulling every distance down. ``CrossEntropyLoss`` is j → ∞.
    """
    rubbish = Tensor(xp.full((logits.shape[0], 1), -float(j), dtype=logits.dtype))
    return cross_entropy(cat([logits, rubbish], dim=1), target)


@register("lenet5_classic", lr=0.01)
def lenet5_classic(num_classes=10, in_channels=1, input_size=32):
    """LeNet-5 as LeCun et al. 1998 published it (32×32 input; smaller images are zero-padded to it)."""
    return LeNet5Classic(num_classes, in_channels, input_size)
