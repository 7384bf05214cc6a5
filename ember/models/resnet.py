"""Residual networks (He et al. 2016): torchvision's ResNet-18/34/50/101/152, the CIFAR ResNets of the
paper's §4.2, and their squeeze-and-excitation variants.

**Why residual learning.** Stacking more plain layers eventually makes a network *worse on its training
set* (the degradation problem): not over-fitting, but a deep stack that cannot easily learn even the
identity. A residual block learns F(x) and outputs F(x) + x instead. Doing nothing is now the easy
default (F = 0), each block only has to learn a correction, and the shortcut carries the gradient
straight through: ∂(F(x) + x)/∂x = ∂F/∂x + I, so the signal reaches early layers undiminished however
deep the stack. With it 152 layers train better than 34.

**Blocks.** ``BasicBlock`` (ResNet-18/34, CIFAR): two 3×3 convolutions. ``Bottleneck`` (ResNet-50/101/152):
1×1 reduce → 3×3 → 1×1 expand (×4). At 256 channels in and out, two 3×3 convs would cost 2·9·256² ≈ 1.18 M
multiply-adds per pixel; the bottleneck costs 256·64 + 9·64² + 64·256 ≈ 0.07 M, 17× less, about what a
basic block on 64 channels costs (2·9·64² ≈ 0.074 M). So ResNet-50 has ResNet-34's 16 blocks and nearly
its compute (4.1 vs 3.6 GMACs at 224²) with 4× wider features, and ResNet-101/152 add blocks cheaply.
The stride sits on the 3×3 conv (torchvision's "v1.5"; v1 strided the first 1×1 and skipped 3/4 of the input).
When a block changes the shape, the shortcut is ``downsample`` = Sequential(conv1×1 (strided), BN)
("option B"); the CIFAR nets use the paper's parameter-free option A (subsample + zero channels).

**Head.** Global average pooling then one fc layer, instead of VGG's 100 M-parameter fully connected
layers: each channel becomes one number, whatever the input size.

Module names, shapes and initialisation are torchvision's (kaiming_normal_ fan_out for the convs, BN
γ = 1, β = 0, ``zero_init_residual`` zeroes each block's last BN γ so every block starts as the identity),
so ``load_torchvision_weights`` loads torchvision's checkpoints 1:1.

Options every factory takes: ``num_classes``, ``in_channels``, ``input_size`` (below 64 the ImageNet nets
use a 3×3 stride-1 stem and no max-pool, the usual CIFAR adaptation; the keys stay the same, ``conv1`` is
3×3), ``zero_init_residual`` and ``stochastic_depth`` (Huang et al. 2016): the survival probability p_L of
the *last* block. Block l of L survives with p_l = 1 - (l / L)(1 - p_L) (the paper uses p_L = 0.5); a
dropped block passes only its shortcut, for each sample of the batch separately (``nn.StochasticDepth``,
mode 'row'). Survivors are scaled by 1/p_l while training, so evaluation uses every block unscaled (Huang
et al. scale by p_l at test time instead — the same in expectation). Training a network whose expected
depth is shorter is faster to optimise and regularises like an ensemble of shallower nets.
"""

from .. import nn
from ..backend import xp
from ..nn import functional as F
from ..ops import cat
from ..tensor import Tensor
from .attention import SEBlock
from .registry import register


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3×3 convolution with padding (torchvision's helper: no bias, BN follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1×1 convolution: mixes channels, a per-pixel matrix product."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    """The paper's option A shortcut: x[:, :, ::s, ::s] with zero channels padded on both sides.

    It keeps the shortcut parameter-free (and the identity on the channels it has), so the CIFAR ResNets
    have exactly the parameters of their plain counterparts.
    """

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.in_planes, self.planes, self.stride = in_planes, planes, stride

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.planes - self.in_planes
        if extra <= 0:
            return x
        n, _, h, w = x.shape
        before, after = extra // 2, extra - extra // 2
        zeros = [Tensor(xp.zeros((n, k, h, w), dtype=x.dtype)) for k in (before, after)]
        return cat([zeros[0], x, zeros[1]], dim=1)

    def extra_repr(self):
        return f"{self.in_planes}, {self.planes}, stride={self.stride}"


class _ResidualBlock(nn.Module):
    """What both blocks share: relu(stochastic_depth(se(branch(x))) + shortcut(x)).

    ``se_reduction`` adds an ``se`` SEBlock on the branch before the addition (SE-ResNet);
    ``drop_prob`` > 0 adds ``stochastic_depth`` (the branch is dropped per sample with that probability).
    Neither has buffers and only SE has parameters, so the plain nets keep torchvision's state_dict.
    """

    def _finish(self, out_channels, downsample, stride, se_reduction, drop_prob):
        self.se = SEBlock(out_channels, se_reduction) if se_reduction else None
        self.stochastic_depth = nn.StochasticDepth(drop_prob, "row") if drop_prob else None
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.branch(x)
        if self.se is not None:
            out = self.se(out)
        if self.stochastic_depth is not None:
            out = self.stochastic_depth(out)
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class BasicBlock(_ResidualBlock):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): two 3×3 convs (torchvision's names)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None, se_reduction=None, drop_prob=0.0):
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self._finish(planes, downsample, stride, se_reduction, drop_prob)

    def branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck(_ResidualBlock):
    """1×1 reduce → 3×3 (stride here: v1.5) → 1×1 expand to planes·4, plus the shortcut.

    ``groups``/``base_width`` give ResNeXt and wide ResNets: the 3×3 conv has width
    planes·(base_width/64)·groups in ``groups`` groups.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None, se_reduction=None, drop_prob=0.0):
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self._finish(planes * self.expansion, downsample, stride, se_reduction, drop_prob)

    def branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


def _drop_probs(total_blocks, stochastic_depth):
    """Huang et al.'s linear decay: block l (1..L) is dropped with probability (l / L)(1 - p_L)."""
    if stochastic_depth is None or stochastic_depth == 1:
        return [0.0] * total_blocks
    if not 0 < stochastic_depth <= 1:
        raise ValueError(
            f"stochastic_depth is the survival probability p_L of the last block, in (0, 1]; got {stochastic_depth}"
            " (the paper uses 0.5)"
        )
    return [l / total_blocks * (1 - stochastic_depth) for l in range(1, total_blocks + 1)]


def _init_weights(model, zero_init_residual):
    """torchvision's initialisation: He-normal (fan_out) convs, BN γ = 1 and β = 0; optionally γ = 0 on each
    block's last BN, so a fresh block outputs only its shortcut (Goyal et al. 2017)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.constant_(m.bn3.weight, 0)
            elif isinstance(m, BasicBlock):
                nn.init.constant_(m.bn2.weight, 0)


class ResNet(nn.Module):
    """torchvision.models.ResNet: stem → layer1..4 (64, 128, 256, 512 planes; stride 1, 2, 2, 2) → GAP → fc.

    Stem: conv 7×7/2 → BN → ReLU → max-pool 3×3/2 (a 224 input reaches layer1 at 56×56). For
    ``input_size`` < 64 the stem is conv 3×3/1 and the max-pool an Identity, so a 32×32 image reaches
    layer4 at 4×4 instead of 1×1.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None, in_channels=3, input_size=224,
                 se_reduction=None, stochastic_depth=None):
        super().__init__()
        self._norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes, self.dilation = 64, 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                f"replace_stride_with_dilation should be None or a 3-element tuple, got {replace_stride_with_dilation}"
            )
        self.groups, self.base_width = groups, width_per_group
        self._se_reduction = se_reduction
        self._drop_probs = iter(_drop_probs(sum(layers), stochastic_depth))
        if input_size < 64:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1) if input_size >= 64 else nn.Identity()
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        del self._drop_probs  # construction-time only
        _init_weights(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer, downsample, previous_dilation = self._norm_layer, None, self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride), norm_layer(planes * block.expansion)
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer, self._se_reduction, next(self._drop_probs))]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer, se_reduction=self._se_reduction,
                                drop_prob=next(self._drop_probs)))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(F.flatten(self.avgpool(x), 1))


class CifarResNet(nn.Module):
    """He et al. 2016 §4.2: conv3×3 16 → 3 stages of n BasicBlocks (16, 32, 64 channels; feature maps
    32, 16, 8 for a 32×32 input) → GAP → fc; depth 6n + 2 (n = 3, 5, 7, 9, 18 → 20, 32, 44, 56, 110).

    ``shortcut='A'`` (the paper's CIFAR choice): parameter-free zero-padding shortcuts where the shape
    changes (``ZeroPadShortcut``); ``'B'``: Sequential(conv1×1, BN) projections there, as in the ImageNet nets.
    """

    def __init__(self, n, num_classes=10, in_channels=3, input_size=32, shortcut="A", zero_init_residual=False,
                 se_reduction=None, stochastic_depth=None):
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"CifarResNet: shortcut must be 'A' (zero-padding) or 'B' (projection), got {shortcut!r}")
        self.shortcut, self.inplanes = shortcut, 16
        self._se_reduction = se_reduction
        self._drop_probs = iter(_drop_probs(3 * n, stochastic_depth))
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, n, stride=1)
        self.layer2 = self._make_layer(32, n, stride=2)
        self.layer3 = self._make_layer(64, n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        del self._drop_probs
        _init_weights(self, zero_init_residual)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            if self.shortcut == "A":
                downsample = ZeroPadShortcut(self.inplanes, planes, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = []
        for i in range(blocks):
            layers.append(BasicBlock(self.inplanes, planes, stride if i == 0 else 1, downsample if i == 0 else None,
                                     se_reduction=self._se_reduction, drop_prob=next(self._drop_probs)))
            self.inplanes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.flatten(self.avgpool(x), 1))


# ---- the registered factories --------------------------------------------------------------------------

IMAGENET_LAYERS = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
    101: (Bottleneck, [3, 4, 23, 3]),
    152: (Bottleneck, [3, 8, 36, 3]),
}
CIFAR_BLOCKS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18}  # depth 6n + 2


def _imagenet_factory(depth, se):
    block, layers = IMAGENET_LAYERS[depth]

    def factory(num_classes=1000, in_channels=3, input_size=224, zero_init_residual=False, stochastic_depth=None,
                se_reduction=16 if se else None):
        return ResNet(block, layers, num_classes, zero_init_residual, in_channels=in_channels, input_size=input_size,
                      se_reduction=se_reduction, stochastic_depth=stochastic_depth)

    name = f"{'se_' if se else ''}resnet{depth}"
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (f"{'SE-' if se else ''}ResNet-{depth}: {block.__name__}s {layers} in torchvision's layout"
                       + (", an SE block (reduction 16) in every block." if se else "."))
    return register(name)(factory)


def _cifar_factory(depth, se):
    n = CIFAR_BLOCKS[depth]

    def factory(num_classes=10, in_channels=3, input_size=32, shortcut="A", zero_init_residual=False,
                stochastic_depth=None, se_reduction=16 if se else None):
        return CifarResNet(n, num_classes, in_channels, input_size, shortcut, zero_init_residual, se_reduction,
                           stochastic_depth)

    name = f"{'se_' if se else ''}resnet{depth}"
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (f"CIFAR {'SE-' if se else ''}ResNet-{depth} (He et al. 2016 §4.2): 3 stages of {n} basic "
                       "blocks, 16/32/64 channels, option A shortcuts by default"
                       + (", an SE block (reduction 16, at least 4 hidden units) in every block." if se else "."))
    return register(name)(factory)


for _depth in IMAGENET_LAYERS:
    for _se in (False, True):
        globals()[f"{'se_' if _se else ''}resnet{_depth}"] = _imagenet_factory(_depth, _se)
for _depth in CIFAR_BLOCKS:
    for _se in (False, True):
        globals()[f"{'se_' if _se else ''}resnet{_depth}"] = _cifar_factory(_depth, _se)
del _depth, _se
