"""Inception v3 (Szegedy et al. 2015, "Rethinking the Inception Architecture for Computer Vision"), as
torchvision builds it (``Inception3``, the TensorFlow port), so a torchvision state_dict loads 1:1.

The paper's design principles, and where each block applies them:

- **Factorise big kernels into stacks of small ones.** A 5×5 convolution has 25 weights per channel pair;
  two stacked 3×3 convolutions see the same 5×5 patch with 2·9 = 18 (28 % fewer, and one more ReLU).
  ``InceptionA`` (the 35×35 grid) has both: torchvision keeps one true 5×5 branch (``branch5x5_*``) beside
  the double-3×3 one (``branch3x3dbl_*``).
- **Factorise n×n into 1×n followed by n×1** (asymmetric convolutions): a 7×7 costs 49 weights per pair,
  1×7 then 7×1 costs 14 (71 % fewer) for the same receptive field. ``InceptionC`` (17×17 grid) uses
  1×7/7×1 chains in place of 7×7; ``InceptionE`` (8×8 grid) splits its 3×3 outputs into parallel 1×3 and
  3×1 branches and concatenates them ("expanded filter bank": 9 → 6 weights, and wider outputs for the
  high-level features). The paper found this works well on medium grids (12 to 20), not early on.
- **Reduce the grid without a representational bottleneck.** Pooling first and then widening loses
  information; widening first and then pooling costs 3× more. ``InceptionB`` (35 → 17) and ``InceptionD``
  (17 → 8) run stride-2 convolutions and a stride-2 max-pool in parallel and concatenate them, so the
  channels grow while the grid shrinks, at the cost of one stride-2 pass.
- **1×1 reductions** in front of every expensive convolution, as in GoogLeNet (see ``googlenet.py``).
- **An auxiliary classifier** on the 17×17 grid (``InceptionAux``: 5×5/3 average-pool → 1×1 conv 128 →
  5×5 conv 768 → fc). The paper found it does not speed up early training but regularises: with batch
  norm in the head, top-1 improves by 0.4 %. Its loss is added with weight 0.4 during training
  (``inception_loss``; the weight of PyTorch's fine-tuning tutorial — the paper gives none); at
  inference it is skipped.

Every convolution is ``BasicConv2d``: conv without bias → BatchNorm(eps=0.001) → ReLU. The input is
299×299 (75×75 at least): the stem brings it to 35×35, ``Mixed_6a`` to 17×17, ``Mixed_7a`` to 8×8.

Parameter count (1000 classes): 27,161,264 with the auxiliary head (torchvision's figure), 23,834,568
without it (the head holds 3,326,696, mostly its 5×5 convolution).

Small inputs: ``small_input=True`` (28×28, 32×32) pads the stem's 3×3 convolutions and drops its first
stride and ``maxpool2``, so a 28×28 image reaches the three grids at 13×13, 6×6 and 2×2; ``width_mult``
(1/8 by default for small inputs: 347 k parameters, 8.7 M multiply-adds per 28×28 image against 5.7 G for
the full model at 299×299) scales every channel count. The 6×6 grid is too small for the
auxiliary head (its 5×5/3 pooling leaves 1×1, under the 5×5 convolution), so the small variant has none.
"""

from collections import namedtuple

from .. import nn
from ..nn import functional as F
from ..ops import cat, flatten
from .googlenet import BasicConv2d, googlenet_loss, transform_imagenet_input
from .registry import register

InceptionOutputs = namedtuple("InceptionOutputs", ["logits", "aux_logits"])
InceptionOutputs.__doc__ = """What Inception3 with ``aux_logits`` returns in training mode (torchvision's order);
in evaluation mode it returns the logits alone."""

#: The weight of the auxiliary loss (PyTorch's fine-tuning tutorial; the paper does not state one).
AUX_LOSS_WEIGHT = 0.4


def inception_loss(outputs, target, loss_fn=None, aux_weight=AUX_LOSS_WEIGHT):
    """``loss(logits) + 0.4·loss(aux_logits)`` for ``InceptionOutputs``; the plain loss for a logits Tensor
    (evaluation mode, or a model without the auxiliary head). ``loss_fn`` defaults to cross-entropy."""
    return googlenet_loss(outputs, target, loss_fn, aux_weight)


def _scaler(width_mult):
    """n ↦ n·width_mult rounded, at least 1 (the identity for width_mult = 1)."""
    return lambda n: max(1, round(n * width_mult))


class InceptionA(nn.Module):
    """35×35 block: 1×1 | 1×1 → 5×5 | 1×1 → 3×3 → 3×3 | 3×3 avg-pool → 1×1 (``pool_features``).

    Output channels 64 + 64 + 96 + pool_features (``out_channels``); ``width_mult`` scales the fixed ones.
    """

    def __init__(self, in_channels, pool_features, conv_block=None, width_mult=1.0):
        super().__init__()
        conv_block, c = conv_block or BasicConv2d, _scaler(width_mult)
        self.out_channels = c(64) + c(64) + c(96) + pool_features
        self.branch1x1 = conv_block(in_channels, c(64), kernel_size=1)
        self.branch5x5_1 = conv_block(in_channels, c(48), kernel_size=1)
        self.branch5x5_2 = conv_block(c(48), c(64), kernel_size=5, padding=2)
        self.branch3x3dbl_1 = conv_block(in_channels, c(64), kernel_size=1)
        self.branch3x3dbl_2 = conv_block(c(64), c(96), kernel_size=3, padding=1)  # two 3×3: a 5×5's reach
        self.branch3x3dbl_3 = conv_block(c(96), c(96), kernel_size=3, padding=1)
        self.branch_pool = conv_block(in_channels, pool_features, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    """Grid reduction 35 → 17: 3×3/2 conv (384) | 1×1 → 3×3 → 3×3/2 | 3×3/2 max-pool (passes the input's
    channels through). Output channels 384 + 96 + in_channels."""

    def __init__(self, in_channels, conv_block=None, width_mult=1.0):
        super().__init__()
        conv_block, c = conv_block or BasicConv2d, _scaler(width_mult)
        self.out_channels = c(384) + c(96) + in_channels
        self.branch3x3 = conv_block(in_channels, c(384), kernel_size=3, stride=2)
        self.branch3x3dbl_1 = conv_block(in_channels, c(64), kernel_size=1)
        self.branch3x3dbl_2 = conv_block(c(64), c(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = conv_block(c(96), c(96), kernel_size=3, stride=2)

    def forward(self, x):
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return cat([branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionC(nn.Module):
    """17×17 block with 7×7 factorised as 1×7 then 7×1 (49 → 14 weights per channel pair):
    1×1 | 1×1 → 1×7 → 7×1 | 1×1 → 7×1 → 1×7 → 7×1 → 1×7 | 3×3 avg-pool → 1×1.
    Output 4·192 channels; ``channels_7x7`` is the width inside the factorised chains."""

    def __init__(self, in_channels, channels_7x7, conv_block=None, width_mult=1.0):
        super().__init__()
        conv_block, c = conv_block or BasicConv2d, _scaler(width_mult)
        c7 = channels_7x7
        self.out_channels = 4 * c(192)
        self.branch1x1 = conv_block(in_channels, c(192), kernel_size=1)
        self.branch7x7_1 = conv_block(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = conv_block(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = conv_block(c7, c(192), kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = conv_block(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = conv_block(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = conv_block(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = conv_block(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = conv_block(c7, c(192), kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = conv_block(in_channels, c(192), kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            branch7x7dbl = conv(branch7x7dbl)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class InceptionD(nn.Module):
    """Grid reduction 17 → 8: 1×1 → 3×3/2 (320) | 1×1 → 1×7 → 7×1 → 3×3/2 (192) | 3×3/2 max-pool.
    Output channels 320 + 192 + in_channels."""

    def __init__(self, in_channels, conv_block=None, width_mult=1.0):
        super().__init__()
        conv_block, c = conv_block or BasicConv2d, _scaler(width_mult)
        self.out_channels = c(320) + c(192) + in_channels
        self.branch3x3_1 = conv_block(in_channels, c(192), kernel_size=1)
        self.branch3x3_2 = conv_block(c(192), c(320), kernel_size=3, stride=2)
        self.branch7x7x3_1 = conv_block(in_channels, c(192), kernel_size=1)
        self.branch7x7x3_2 = conv_block(c(192), c(192), kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = conv_block(c(192), c(192), kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = conv_block(c(192), c(192), kernel_size=3, stride=2)

    def forward(self, x):
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_1(x)
        for conv in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            branch7x7x3 = conv(branch7x7x3)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return cat([branch3x3, branch7x7x3, branch_pool], 1)


class InceptionE(nn.Module):
    """8×8 block with expanded filter banks: 1×1 (320) | 1×1 → [1×3 ‖ 3×1] (2·384) |
    1×1 → 3×3 → [1×3 ‖ 3×1] (2·384) | 3×3 avg-pool → 1×1 (192). Output 320 + 768 + 768 + 192 = 2048."""

    def __init__(self, in_channels, conv_block=None, width_mult=1.0):
        super().__init__()
        conv_block, c = conv_block or BasicConv2d, _scaler(width_mult)
        self.out_channels = c(320) + 4 * c(384) + c(192)
        self.branch1x1 = conv_block(in_channels, c(320), kernel_size=1)
        self.branch3x3_1 = conv_block(in_channels, c(384), kernel_size=1)
        self.branch3x3_2a = conv_block(c(384), c(384), kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = conv_block(c(384), c(384), kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = conv_block(in_channels, c(448), kernel_size=1)
        self.branch3x3dbl_2 = conv_block(c(448), c(384), kernel_size=3, padding=1)
        self.branch3x3dbl_3a = conv_block(c(384), c(384), kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = conv_block(c(384), c(384), kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = conv_block(in_channels, c(192), kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = cat([self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on the 17×17 grid: 5×5/3 avg-pool (→ 5×5) → 1×1 conv 128 → 5×5 conv 768
    (→ 1×1) → global avg-pool → fc num_classes. ``stddev`` marks torchvision's smaller initial weights
    (see ``Inception3._initialize_weights``)."""

    def __init__(self, in_channels, num_classes, conv_block=None, width_mult=1.0):
        super().__init__()
        conv_block, c = conv_block or BasicConv2d, _scaler(width_mult)
        self.conv0 = conv_block(in_channels, c(128), kernel_size=1)
        self.conv1 = conv_block(c(128), c(768), kernel_size=5)
        self.conv1.stddev = 0.01
        self.fc = nn.Linear(c(768), num_classes)
        self.fc.stddev = 0.001

    def forward(self, x):
        if min(x.shape[-2:]) < 17:
            raise ValueError(f"InceptionAux: needs a grid of at least 17×17 (an input of 299×299 or so), got "
                             f"{tuple(x.shape[-2:])}; create the model with aux_logits=False for smaller inputs")
        x = self.conv1(self.conv0(F.avg_pool2d(x, kernel_size=5, stride=3)))  # N × 768 × 1 × 1
        return self.fc(flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


class Inception3(nn.Module):
    """torchvision's Inception v3: stem → Mixed_5b–5d (A) → 6a (B) → 6b–6e (C) [→ AuxLogits] → 7a (D) →
    7b, 7c (E) → global avg-pool → dropout 0.5 → fc.

    In training mode with ``aux_logits`` the forward returns ``InceptionOutputs(logits, aux_logits)``,
    otherwise the logits; ``model.loss(outputs, target)`` adds the auxiliary loss with weight 0.4.
    ``in_channels``, ``small_input`` and ``width_mult`` are Ember's additions; their defaults give
    torchvision's model exactly.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, inception_blocks=None,
                 init_weights=True, dropout=0.5, in_channels=3, small_input=False, width_mult=1.0):
        super().__init__()
        blocks = inception_blocks or (BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE,
                                      InceptionAux)
        if len(blocks) != 7:
            raise ValueError(f"Inception3: inception_blocks should hold 7 classes, got {len(blocks)}")
        conv_block, inception_a, inception_b, inception_c, inception_d, inception_e, inception_aux = blocks
        if transform_input and in_channels != 3:
            raise ValueError(f"Inception3: transform_input re-normalises RGB images, but in_channels={in_channels}")
        if aux_logits and small_input:
            raise ValueError("Inception3: the auxiliary head needs the 17×17 grid of a 299×299 input; "
                             "use aux_logits=False with small_input=True")
        c = _scaler(width_mult)
        block = {} if width_mult == 1 else {"width_mult": width_mult}  # so torchvision-style blocks also fit
        self.aux_logits, self.transform_input = aux_logits, transform_input

        # The stem: 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35 (small_input, 28: 28, 28, 28, 13, 13, 13).
        pad = 1 if small_input else 0
        self.Conv2d_1a_3x3 = conv_block(in_channels, c(32), kernel_size=3, stride=1 if small_input else 2,
                                        padding=pad)
        self.Conv2d_2a_3x3 = conv_block(c(32), c(32), kernel_size=3, padding=pad)
        self.Conv2d_2b_3x3 = conv_block(c(32), c(64), kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = conv_block(c(64), c(80), kernel_size=1)
        self.Conv2d_4a_3x3 = conv_block(c(80), c(192), kernel_size=3, padding=pad)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(kernel_size=3, stride=2)

        self.Mixed_5b = inception_a(c(192), pool_features=c(32), **block)
        self.Mixed_5c = inception_a(self.Mixed_5b.out_channels, pool_features=c(64), **block)
        self.Mixed_5d = inception_a(self.Mixed_5c.out_channels, pool_features=c(64), **block)
        self.Mixed_6a = inception_b(self.Mixed_5d.out_channels, **block)
        self.Mixed_6b = inception_c(self.Mixed_6a.out_channels, channels_7x7=c(128), **block)
        self.Mixed_6c = inception_c(self.Mixed_6b.out_channels, channels_7x7=c(160), **block)
        self.Mixed_6d = inception_c(self.Mixed_6c.out_channels, channels_7x7=c(160), **block)
        self.Mixed_6e = inception_c(self.Mixed_6d.out_channels, channels_7x7=c(192), **block)
        self.AuxLogits = inception_aux(self.Mixed_6e.out_channels, num_classes, **block) if aux_logits else None
        self.Mixed_7a = inception_d(self.Mixed_6e.out_channels, **block)
        self.Mixed_7b = inception_e(self.Mixed_7a.out_channels, **block)
        self.Mixed_7c = inception_e(self.Mixed_7b.out_channels, **block)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(self.Mixed_7c.out_channels, num_classes)
        if init_weights:
            self._initialize_weights()

    def _initialize_weights(self):
        """torchvision's: conv/fc weights from N(0, σ²) truncated at ±2 (values, so ±20σ and more), σ = 0.1
        unless the layer itself sets ``stddev`` (the aux head's fc: 0.001); batch norm γ = 1, β = 0.

        torchvision also marks the aux head's ``conv1`` with 0.01, but on the BasicConv2d wrapper, which this
        loop (over Conv2d and Linear layers) never reads: that convolution gets σ = 0.1, there as here."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                stddev = float(getattr(m, "stddev", 0.1))
                nn.init.trunc_normal_(m.weight, mean=0.0, std=stddev, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _forward(self, x):
        for stem in (self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3, self.maxpool1,
                     self.Conv2d_3b_1x1, self.Conv2d_4a_3x3, self.maxpool2):
            x = stem(x)  # N × 192 × 35 × 35
        for mixed in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a,
                      self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = mixed(x)  # N × 768 × 17 × 17
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))  # N × 2048 × 8 × 8
        x = self.dropout(self.avgpool(x))  # N × 2048 × 1 × 1
        return self.fc(flatten(x, 1)), aux

    def forward(self, x):
        if self.transform_input:
            x = transform_imagenet_input(x)
        logits, aux = self._forward(x)
        if self.training and self.aux_logits:
            return InceptionOutputs(logits, aux)
        return logits

    def loss(self, outputs, target, loss_fn=None):
        """The training loss of ``outputs = model(x)``: the auxiliary loss added with weight 0.4 if present."""
        return inception_loss(outputs, target, loss_fn)


@register("inception_v3")
def inception_v3(num_classes=1000, in_channels=3, input_size=299, aux_logits=False, transform_input=False,
                 width_mult=None, dropout=0.5):
    """Inception v3; ``input_size < 75`` (torchvision's minimum) gives the tiny small-input variant
    (padded stem, width ×1/8 by default, no auxiliary head).

    ``aux_logits`` defaults to False here (torchvision's class default is True) so that a plain
    ``loss_fn(model(x), y)`` training loop works; with it, train with ``model.loss(outputs, y)``.
    """
    small = input_size < 75
    width = width_mult if width_mult is not None else (0.125 if small else 1.0)
    return Inception3(num_classes, aux_logits=aux_logits, transform_input=transform_input, dropout=dropout,
                      in_channels=in_channels, small_input=small, width_mult=width)
