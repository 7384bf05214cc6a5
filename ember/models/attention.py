"""Attention in CNNs: squeeze-and-excitation (channel attention) and the residual attention module.

Both learn a *gate* in [0, 1] from the features themselves and multiply it back onto them, so the network
can amplify what matters for this input and damp what does not.

**Squeeze-and-Excitation** (Hu et al. 2018) gates the channels. *Squeeze*: global average pooling turns
each C×H×W map into one number per channel, a descriptor of the whole image. *Excitation*: two fully
connected layers, C → C/r → C with a ReLU between (the bottleneck of reduction r keeps it cheap: 2C²/r
weights) and a sigmoid after, give one weight per channel. *Scale*: multiply every channel by its weight.
Inside a ResNet block it re-weights the residual branch before the addition (``SE-ResNet``), adding about
10 % parameters and almost no compute (ResNet-50: 25.6 M → 28.1 M).

**Residual Attention** (Wang et al. 2017, "Residual Attention Network") gates every position and channel.
A module has two branches on the same input x:

- the trunk F(x): a few residual units, the ordinary feature processing;
- the soft mask M(x): bottom-up, max-pool a few times (each followed by residual units) to collect
  context over a wide receptive field; top-down, up-sample by interpolation back to the trunk's size
  (adding skip connections from the bottom-up path at each resolution); then two 1×1 convolutions and a
  sigmoid give M(x) in [0, 1] of the trunk's shape.

The output is **(1 + M(x)) · F(x)**, not M(x) · F(x). Stacking plain masks multiplies many numbers below 1,
so deep features fade towards zero, and a mask that is ~0 somewhere would also cut the gradient there.
With 1 + M the mask can only *amplify* (between 1× and 2×): where M ≈ 0 the module passes F(x) unchanged,
an identity mapping like a ResNet's shortcut — "attention residual learning" — so dozens of attention
modules can be stacked and still train.

Names follow torchvision where it has the piece (``SqueezeExcitation`` with ``fc1``/``fc2`` 1×1 convs,
``avgpool``, ``activation``, ``scale_activation``), so SE weights exported from torch load 1:1.
"""

from .. import nn
from ..nn import functional as F
from ..ops.resample import interpolate
from .registry import register

# ---- squeeze-and-excitation ---------------------------------------------------------------------------


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: x · σ(fc2(δ(fc1(GAP(x))))), per channel.

    ``fc1``/``fc2`` are 1×1 convolutions on the pooled (N, C, 1, 1) descriptor — the same as Hu et al.'s
    fully connected layers (a 1×1 conv on a 1×1 map *is* a Linear layer), laid out as torchvision does.
    Arguments as in torchvision: the number of channels and of hidden (squeeze) channels; see ``SEBlock``
    for the paper's reduction-ratio form.
    """

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, x):
        s = self.avgpool(x)                      # squeeze: (N, C, 1, 1), one number per channel
        s = self.fc2(self.activation(self.fc1(s)))  # excitation: C → C/r → C
        return self.scale_activation(s)          # gates in (0, 1)

    def forward(self, x):
        return x * self._scale(x)                # scale: broadcast over H and W


class SEBlock(SqueezeExcitation):
    """Hu et al.'s SE block by reduction ratio: ``channels`` → ``max(channels // reduction, min_channels)``.

    The paper's r = 16 would squeeze a 16-channel CIFAR stage to a single hidden unit (one number gating
    every channel); the hidden width is clamped to at least ``min_channels`` (4) so small stages keep a
    real bottleneck. For the widths of ImageNet ResNets (≥ 64 channels) the clamp never acts.
    """

    def __init__(self, channels, reduction=16, min_channels=4):
        if reduction < 1:
            raise ValueError(f"SEBlock: reduction must be >= 1, got {reduction}")
        super().__init__(channels, max(channels // reduction, min(min_channels, channels)))
        self.reduction = reduction


# ---- residual attention --------------------------------------------------------------------------------


class ResidualUnit(nn.Module):
    """The pre-activation bottleneck unit (He et al. 2016, "Identity Mappings") the attention network is
    built from: BN-ReLU-conv1×1(w) → BN-ReLU-conv3×3(w, stride) → BN-ReLU-conv1×1(out), w = out/4, plus the
    input. The shortcut stays a pure identity; only when the shape changes a 1×1 (strided) convolution
    projects the pre-activated input."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        width = max(out_channels // 4, 1)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
        else:
            self.shortcut = None

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + (x if self.shortcut is None else self.shortcut(pre))


def _units(channels, n):
    return nn.Sequential(*[ResidualUnit(channels, channels) for _ in range(n)])


class AttentionModule(nn.Module):
    """One residual attention module on ``channels`` channels (shape in = shape out):

        x ← pre(x)                          p residual units
        T = trunk(x)                        t residual units
        M = soft_mask(x)                    ``depth`` × (max-pool → r units), up-sampling back with skips,
                                            BN-ReLU-1×1-BN-ReLU-1×1-sigmoid
        out = post((1 + M) · T)             p residual units

    The paper's hyper-parameters are p = 1, t = 2, r = 1; ``depth`` (the number of max-poolings in the mask
    branch) shrinks as the feature maps do (Attention-56's reference code uses 3, 2, 1 at 56×56, 28×28, 14×14,
    so every mask bottoms out at 7×7).
    The lowest resolution gets 2r units; each level above it gets a skip unit whose output is added to the
    up-sampled mask (``mode``/``align_corners`` as in ``F.interpolate``: 'bilinear' is the paper's choice).
    The mask is interpolated to the exact size of the level above, so odd sizes (7 → 4 → 7) work.
    """

    def __init__(self, channels, depth=2, p=1, t=2, r=1, mode="bilinear", align_corners=False):
        super().__init__()
        if depth < 1:
            raise ValueError(f"AttentionModule: the mask branch needs depth >= 1 down-samplings, got {depth}")
        self.depth, self.mode = depth, mode
        self.align_corners = None if mode == "nearest" else align_corners
        self.pre = _units(channels, p)
        self.trunk = _units(channels, t)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        # Bottom-up: level i is pooled i + 1 times; the deepest level gets 2r units.
        self.down = nn.ModuleList([_units(channels, r if i < depth - 1 else 2 * r) for i in range(depth)])
        self.skips = nn.ModuleList([ResidualUnit(channels, channels) for _ in range(depth - 1)])
        self.up = nn.ModuleList([_units(channels, r) for _ in range(depth - 1)])
        self.mask_head = nn.Sequential(
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1, bias=False),
            nn.Sigmoid(),
        )
        self.post = _units(channels, p)

    def _upsample(self, x, like):
        return interpolate(x, size=tuple(like.shape[-2:]), mode=self.mode, align_corners=self.align_corners)

    def soft_mask(self, x):
        """M(x) in (0, 1), the same shape as x."""
        skips, h = [], x
        for i in range(self.depth):
            h = self.down[i](self.maxpool(h))              # bottom-up: wider context, coarser map
            if i < self.depth - 1:
                skips.append(self.skips[i](h))
        for i in reversed(range(self.depth - 1)):
            h = self.up[i](self._upsample(h, skips[i]) + skips[i])  # top-down, with the skip at that size
        return self.mask_head(self._upsample(h, x))

    def forward(self, x):
        x = self.pre(x)
        trunk = self.trunk(x)
        mask = self.soft_mask(x)
        return self.post((1 + mask) * trunk)  # attention residual learning: 1 + M never shrinks F

    def extra_repr(self):
        return f"depth={self.depth}, mode={self.mode!r}"


class ResidualAttentionNet(nn.Module):
    """A small Residual Attention Network in the layout of Attention-56, sized for 28×28 / 32×32 images:

        stem  conv3×3 (stride 1) → BN → ReLU                     (input_size < 64; else 7×7/2 + max-pool)
        stage i: ResidualUnit(→ width_i, stride 1 or 2) → ``modules[i]`` AttentionModule(width_i, depth_i)
        ResidualUnit × 3 at the last width → BN → ReLU → global average pool → fc

    Defaults: widths (64, 128, 256) (bottleneck widths 16, 32, 64), mask depths (2, 1, 1) so the deepest
    mask map is 8×8 / 4×4 / 2×2 at 32×32 input, one attention module per stage (Attention-56's 1-1-1).
    """

    def __init__(self, num_classes=10, in_channels=3, input_size=32, widths=(64, 128, 256), depths=(2, 1, 1),
                 modules=(1, 1, 1), stem_channels=32, mode="bilinear"):
        super().__init__()
        if not len(widths) == len(depths) == len(modules):
            raise ValueError("ResidualAttentionNet: widths, depths and modules must have one entry per stage")
        if input_size < 64:
            self.conv1 = nn.Conv2d(in_channels, stem_channels, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        stages, previous = [], stem_channels
        for i, (width, depth, count) in enumerate(zip(widths, depths, modules)):
            blocks = [ResidualUnit(previous, width, stride=1 if i == 0 else 2)]
            blocks += [AttentionModule(width, depth=depth, mode=mode) for _ in range(count)]
            stages.append(nn.Sequential(*blocks))
            previous = width
        self.stages = nn.Sequential(*stages)
        self.final = nn.Sequential(*[ResidualUnit(previous, previous) for _ in range(3)])
        self.bn_final = nn.BatchNorm2d(previous)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(previous, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.final(self.stages(x))
        x = self.avgpool(self.relu(self.bn_final(x)))
        return self.fc(F.flatten(x, 1))


@register("residual_attention")
def residual_attention(num_classes=10, in_channels=3, input_size=32, mode="bilinear"):
    """A small Attention-56-style Residual Attention Network for 28×28 / 32×32 inputs (~1 M parameters)."""
    return ResidualAttentionNet(num_classes, in_channels, input_size, mode=mode)
