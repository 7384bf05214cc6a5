"""MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks") in
torchvision's layout: the same module names, shapes and initialisation, so ``load_torchvision_weights``
loads torchvision's checkpoint 1:1 (3,504,872 parameters for 1,000 classes).

**Depthwise separable convolution.** A 3×3 convolution from C to C channels costs 9·C² multiply-adds per
pixel. MobileNet splits it in two: a *depthwise* 3×3 convolution (``groups=C``: each channel filtered on
its own, 9·C) and a *pointwise* 1×1 convolution that mixes channels (C²). At C = 144 that is 1,296 + 20,736
instead of 186,624: about 8× cheaper, for nearly the same accuracy.

**Inverted residual with a linear bottleneck.** A ResNet bottleneck goes wide → narrow → wide; this block
goes narrow → wide → narrow: a 1×1 *expansion* by t = 6 (ReLU6), the depthwise 3×3 (ReLU6), then a 1×1
*projection* back to few channels with **no** activation. The paper's argument: the information of a
layer lives on a low-dimensional manifold, which a ReLU on few channels would partly destroy, so the thin
layers stay linear and the nonlinearity works where there are many channels. The shortcut joins the thin
ends (stride 1, same channels), so the memory the network carries between blocks is small.

**Layout** (t: expansion, c: channels, n: blocks, s: stride of the first):
stem conv 3×3/2 → 32; (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
(6, 160, 3, 2), (6, 320, 1, 1); conv 1×1 → 1280; global average pool; dropout 0.2; linear. Channels are
``width_mult`` times these, rounded to multiples of 8. ReLU6 = min(max(x, 0), 6) keeps activations in a
range low-precision arithmetic can hold.

**Small inputs.** torchvision's net divides the side by 32 (224 → 7). For ``input_size`` < 64 the stem and
the first 24-channel block use stride 1 (the usual CIFAR adaptation), so a 28×28 image reaches the last
stage at 4×4 instead of 1×1; the keys and shapes are unchanged.
"""

from .. import nn
from ..nn import functional as F
from .registry import register

#: (t, c, n, s) per stage, as in Table 2 of the paper and torchvision.
INVERTED_RESIDUAL_SETTING = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def make_divisible(v, divisor=8, min_value=None):
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never below 90 % of
    ``v`` (torchvision's ``_make_divisible``: channel counts that suit vector hardware)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * v else rounded


class Conv2dNormActivation(nn.Sequential):
    """conv (no bias: the BN's β is the bias) → BatchNorm2d → ReLU6, "same" padding; modules 0, 1, 2 as in
    torchvision.ops.Conv2dNormActivation."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1, norm_layer=None):
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=(kernel_size - 1) // 2, groups=groups,
                      bias=False),
            norm_layer(out_channels),
            nn.ReLU6(inplace=True),
        )
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """expand 1×1 (ReLU6; absent when t = 1) → depthwise 3×3/stride (ReLU6) → project 1×1 → BN, linear;
    plus the input when the stride is 1 and the channels agree."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride should be 1 or 2, got {stride}")
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        hidden_dim = int(round(inp * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer))
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, norm_layer=norm_layer),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),  # the linear bottleneck: no activation after it
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision.models.MobileNetV2: ``features`` (stem, 17 inverted residuals, 1×1 conv to 1280) → global
    average pool → ``classifier`` (Dropout, Linear). See the module docstring for the layout."""

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 dropout=0.2, in_channels=3, input_size=224):
        super().__init__()
        setting = INVERTED_RESIDUAL_SETTING if inverted_residual_setting is None else inverted_residual_setting
        if not setting or any(len(row) != 4 for row in setting):
            raise ValueError(f"MobileNetV2: inverted_residual_setting should be a non-empty list of 4-element "
                             f"(t, c, n, s) rows, got {setting}")
        small = input_size < 64  # keep more resolution for 28×28 / 32×32 images (module docstring)
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(in_channels, input_channel, stride=1 if small else 2)]
        for stage, (t, c, n, s) in enumerate(setting):
            output_channel = make_divisible(c * width_mult, round_nearest)
            if small and stage == 1:
                s = 1
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        self._init_weights()

    def _init_weights(self):
        """torchvision's: He-normal (fan_out) convs, BN γ = 1 and β = 0, linear N(0, 0.01²) with zero bias."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(F.flatten(x, 1))


@register("mobilenet_v2")
def mobilenet_v2(num_classes=1000, in_channels=3, input_size=224, width_mult=1.0, dropout=0.2):
    """MobileNetV2 (Sandler et al. 2018) in torchvision's layout; below 64 pixels a stride-8 variant."""
    return MobileNetV2(num_classes, width_mult, dropout=dropout, in_channels=in_channels, input_size=input_size)
