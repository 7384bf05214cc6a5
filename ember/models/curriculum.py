"""Two networks exactly as the curriculum presents them.

**LeNet-5 as in d2l** (Dive into Deep Learning, §6.6 "Convolutional Neural Networks (LeNet)"): the 1998
shape with the 1998 non-linearities — sigmoid activations and average pooling — rather than the ReLU and
max pooling of ``lenet5``:

    conv 6@5×5 (pad 2) → sigmoid → avg-pool 2 → conv 16@5×5 → sigmoid → avg-pool 2 →
    flatten 16·5·5 = 400 → 120 → sigmoid → 84 → sigmoid → 10             (61,706 parameters)

d2l initialises every Linear and Conv weight with Xavier-uniform (its ``train_ch6``), and trains with plain
SGD at lr = 0.9, batch 256: sigmoids pass at most a quarter of the gradient, so the step must be large.
The lr is registered as the model's training hint (``ember train lenet5_d2l`` uses it unless --lr is given).

**BN-Inception** (Ioffe & Szegedy 2015, "Batch Normalization", figure 5): GoogLeNet with batch norm after
every convolution (its bias dropped: BN's β replaces it), each 5×5 replaced by two stacked 3×3 (the same
5×5 field with 18 instead of 25 weights per channel pair: the "double 3×3" column), the 3c and 4e blocks
made into stride-2 reduction blocks (a max-pool "pass through" branch instead of separate pooling layers),
average pooling in most blocks' pool branch, and no dropout. For 224×224 ImageNet:

    conv 7×7/2 64 → max-pool 3/2 → conv 1×1 64 → conv 3×3 192 → max-pool 3/2            (28×28×192)
    block   #1×1  #3×3red #3×3  #d3×3red #d3×3  pool+proj
    3a        64     64     64      64      96   avg + 32      28×28×256
    3b        64     64     96      64      96   avg + 64      28×28×320
    3c (s2)    0    128    160      64      96   max, pass     14×14×576
    4a       224     64     96      96     128   avg + 128     14×14×576
    4b       192     96    128      96     128   avg + 128     14×14×576
    4c       160    128    160     128     160   avg + 128     14×14×608
    4d        96    128    192     160     192   avg + 128     14×14×608
    4e (s2)    0    128    192     192     256   max, pass     7×7×1056
    5a       352    192    320     160     224   avg + 128     7×7×1024
    5b       352    192    320     192     224   max + 128     7×7×1024
    global avg-pool → fc num_classes

The filter counts are the paper's table; its printed depths for 4c, 4d (576) and 4e (1024) do not add up
from those counts — 160 + 160 + 160 + 128 = 608 — so the depths here are the sums (as in the widely used
Caffe/PyTorch BN-Inception port). 11,285,224 parameters and 2.03 G multiply-adds per 224×224 image for 1000 classes.
"""

from collections import OrderedDict

from .. import nn
from ..ops import cat
from ..ops.window import output_size
from .registry import register


class LeNet5D2L(nn.Module):
    """d2l's LeNet: sigmoid and average pooling; 28×28 inputs padded by 2 to the paper's 32×32 (``input_size``
    32 or more: no padding, as in 1998)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28):
        super().__init__()
        padding = 2 if input_size < 32 else 0
        side = output_size(output_size(input_size, 5, 1, padding, padding, 1) // 2, 5, 1, 0, 0, 1) // 2
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), nn.Sigmoid(),  # (N, 6, 28, 28)
            nn.AvgPool2d(kernel_size=2, stride=2),  # (N, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),  # (N, 16, 10, 10)
            nn.AvgPool2d(kernel_size=2, stride=2),  # (N, 16, 5, 5)
            nn.Flatten(),  # (N, 400) for 28×28
            nn.Linear(16 * side * side, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, num_classes),
        )
        for layer in self.net:
            if isinstance(layer, (nn.Linear, nn.Conv2d)):  # d2l's init_weights: Xavier for weights only
                nn.init.xavier_uniform_(layer.weight)

    def forward(self, x):
        return self.net(x)


class ConvBN(nn.Module):
    """conv (no bias) → BatchNorm2d → ReLU: the paper puts BN between every convolution and its ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class InceptionBN(nn.Module):
    """One BN-Inception block: 1×1 | 1×1 → 3×3 | 1×1 → 3×3 → 3×3 | pool (→ 1×1), concatenated on channels.

    ``stride=2`` makes a reduction block (3c, 4e): no 1×1 branch, the last 3×3 of both convolution branches
    strides by 2, and the pool branch is a stride-2 max-pool passing its input through unprojected.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, dbl3x3red, dbl3x3, pool, proj, stride=1):
        super().__init__()
        self.branch1x1 = ConvBN(in_channels, ch1x1, 1) if ch1x1 else None
        self.branch3x3 = nn.Sequential(ConvBN(in_channels, ch3x3red, 1), ConvBN(ch3x3red, ch3x3, 3, stride, 1))
        self.branch3x3dbl = nn.Sequential(
            ConvBN(in_channels, dbl3x3red, 1), ConvBN(dbl3x3red, dbl3x3, 3, 1, 1), ConvBN(dbl3x3, dbl3x3, 3, stride, 1),
        )
        pooling = nn.AvgPool2d(3, stride, 1, count_include_pad=True) if pool == "avg" else nn.MaxPool2d(3, stride, 1)
        self.branch_pool = nn.Sequential(pooling, ConvBN(in_channels, proj, 1)) if proj else pooling
        self.out_channels = ch1x1 + ch3x3 + dbl3x3 + (proj or in_channels)

    def forward(self, x):
        branches = [self.branch3x3(x), self.branch3x3dbl(x), self.branch_pool(x)]
        if self.branch1x1 is not None:
            branches.insert(0, self.branch1x1(x))
        return cat(branches, 1)


# (name, #1×1, #3×3 reduce, #3×3, double #3×3 reduce, double #3×3, pool, proj (0: pass through), stride)
BN_INCEPTION_BLOCKS = [
    ("inception3a", 64, 64, 64, 64, 96, "avg", 32, 1),
    ("inception3b", 64, 64, 96, 64, 96, "avg", 64, 1),
    ("inception3c", 0, 128, 160, 64, 96, "max", 0, 2),
    ("inception4a", 224, 64, 96, 96, 128, "avg", 128, 1),
    ("inception4b", 192, 96, 128, 96, 128, "avg", 128, 1),
    ("inception4c", 160, 128, 160, 128, 160, "avg", 128, 1),
    ("inception4d", 96, 128, 192, 160, 192, "avg", 128, 1),
    ("inception4e", 0, 128, 192, 192, 256, "max", 0, 2),
    ("inception5a", 352, 192, 320, 160, 224, "avg", 128, 1),
    ("inception5b", 352, 192, 320, 192, 224, "max", 128, 1),
]


class BNInception(nn.Module):
    """BN-Inception (Inception v2 in some texts) for 224×224 inputs; see the module docstring's table."""

    def __init__(self, num_classes=1000, in_channels=3):
        super().__init__()
        self.stem = nn.Sequential(
            ConvBN(in_channels, 64, 7, 2, 3),  # (N, 64, 112, 112)
            nn.MaxPool2d(3, 2, ceil_mode=True),  # (N, 64, 56, 56)
            ConvBN(64, 64, 1),
            ConvBN(64, 192, 3, 1, 1),  # (N, 192, 56, 56)
            nn.MaxPool2d(3, 2, ceil_mode=True),  # (N, 192, 28, 28)
        )
        channels, blocks = 192, []
        for name, *widths in BN_INCEPTION_BLOCKS:
            block = InceptionBN(channels, *widths)
            blocks.append((name, block))
            channels = block.out_channels
        self.blocks = nn.Sequential(OrderedDict(blocks))  # keys inception3a … inception5b
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # the paper's 7×7 average pool, for any input size
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)  # 1024 → classes; the paper removed dropout

    def forward(self, x):
        return self.fc(self.flatten(self.avgpool(self.blocks(self.stem(x)))))


@register("lenet5_d2l", lr=0.9)
def lenet5_d2l(num_classes=10, in_channels=1, input_size=28):
    return LeNet5D2L(num_classes, in_channels, input_size)


@register("inception_bn")
def inception_bn(num_classes=1000, in_channels=3, input_size=224):
    """BN-Inception; built for 224×224 (any input of at least 32×32 runs, the head pools globally)."""
    if input_size < 32:
        raise ValueError(f"inception_bn: input_size {input_size} is too small; BN-Inception downsamples by 32, "
                         "use at least 32×32 inputs (224 for the paper's network)")
    return BNInception(num_classes, in_channels)
