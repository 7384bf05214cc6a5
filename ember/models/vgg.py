"""VGG (Simonyan & Zisserman 2014, "Very deep convolutional networks for large-scale image recognition").

VGG's one idea: build the network from a single block — 3×3 convolutions (stride 1, padding 1) followed
by a 2×2 max-pool that halves the resolution — and make it deep. Why only 3×3 filters: a stack of two
3×3 convolutions sees a 5×5 region and three see 7×7, but with fewer parameters (3·3²C² = 27C² against
7²C² = 49C² for one 7×7 layer of C channels) and with a ReLU between each, so the function is more
discriminative. Channels double after each pool (64, 128, 256, 512, 512) so that each stage costs about
the same. Configurations A, B, D and E of the paper are VGG-11, -13, -16 and -19 (weight layers):

    vgg11  64 M 128 M 256 256 M 512 512 M 512 512 M                       132,863,336 parameters
    vgg13  64 64 M 128 128 M 256 256 M 512 512 M 512 512 M                 133,047,848
    vgg16  64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M     138,357,544
    vgg19  64 64 M 128 128 M 256×4 M 512×4 M 512×4 M                       143,667,240

(for 1000 classes; ``_bn`` adds BatchNorm2d after every convolution, 2 parameters per channel:
vgg11_bn 132,868,840, vgg13_bn 133,053,736, vgg16_bn 138,365,992, vgg19_bn 143,678,248). Nearly 90 % of
them sit in the first fully connected layer, 512·7·7 → 4096.

The modules are torchvision's, with its state_dict keys and initialisation: ``features`` (Conv2d, [BN],
ReLU, ..., MaxPool2d), ``avgpool`` = AdaptiveAvgPool2d((7, 7)), ``classifier`` = Linear 25088→4096, ReLU,
Dropout, Linear 4096→4096, ReLU, Dropout, Linear 4096→num_classes (keys classifier.0/.3/.6); convolutions
kaiming_normal_(mode='fan_out', relu) with zero bias, BN γ = 1, β = 0, linear layers N(0, 0.01), zero bias.

The small variant (``small=True``, the default when ``input_size < 64``) fits 28×28 and 32×32 images and
trains on a CPU, keeping VGG's character (stacks of 3×3 convolutions, doubling widths, max-pools):

- widths divided by 4, as in d2l's small VGG (16, 32, 64, 128, 128);
- only the first three stages end in a max-pool: five halvings would reduce 28 pixels to 0, so stages 4
  and 5 work at the third stage's resolution (28 → 14 → 7 → 3, or 32 → 16 → 8 → 4);
- ``avgpool`` keeps that final size and the classifier is 512 wide: 128·3·3 → 512 → 512 → num_classes;
- the classifier's weights are He-initialised (N(0, 2/fan_in)) instead of N(0, 0.01). At 512 wide, 0.01
  makes each linear layer shrink its input about fourfold, so the logits start ~100 times smaller than the
  features and their gradients as small: measured on MNIST with ``ember train``'s defaults (SGD,
  momentum 0.9, one-cycle to lr 0.1), one epoch of vgg11 small reaches 11 % test accuracy with N(0, 0.01)
  and 97 % with He. (The VGG paper itself trained its deeper nets from the shallower one's weights, and
  notes that Glorot's initialisation would do as well.)
"""

from .. import nn
from .registry import register

CONFIGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm=False, in_channels=3):
    """torchvision's make_layers: 'M' is a 2×2 max-pool, a number a 3×3 convolution (+ BN) + ReLU."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def small_config(cfg, divisor=4, pools=3):
    """The small variant of a configuration: widths // divisor, and only the first ``pools`` max-pools."""
    out, seen = [], 0
    for v in cfg:
        if v == "M":
            seen += 1
            if seen <= pools:
                out.append("M")
        else:
            out.append(v // divisor)
    return out


class VGG(nn.Module):
    """features → avgpool → flatten → classifier (torchvision's VGG)."""

    def __init__(self, features, num_classes=1000, pool_size=(7, 7), hidden=4096, dropout=0.5, init_weights=True,
                 linear_init="normal"):
        super().__init__()
        self.linear_init = linear_init
        self.features = features
        channels = [m.out_channels for m in features if isinstance(m, nn.Conv2d)][-1]
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(
            nn.Linear(channels * pool_size[0] * pool_size[1], hidden), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            self.reset_parameters()

    def reset_parameters(self):
        """torchvision's initialisation: He (fan_out) for convolutions, N(0, 0.01) for linear layers (or He,
        fan_in, with ``linear_init='kaiming'``, as the small variant)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                if self.linear_init == "kaiming":
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                else:
                    nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def vgg(depth, batch_norm=False, num_classes=1000, in_channels=3, input_size=224, small=None, dropout=0.5):
    """VGG-``depth`` (11, 13, 16, 19); see the module docstring for the small variant."""
    cfg = CONFIGS[depth]
    if (input_size < 64) if small is None else small:
        cfg = small_config(cfg)
        side = input_size
        for _ in range(cfg.count("M")):
            side //= 2
        if side < 1:
            raise ValueError(f"vgg{depth} small: input_size {input_size} is too small for three 2×2 max-pools")
        return VGG(make_layers(cfg, batch_norm, in_channels), num_classes, (side, side), hidden=512, dropout=dropout,
                   linear_init="kaiming")
    return VGG(make_layers(cfg, batch_norm, in_channels), num_classes, dropout=dropout)


def _register(depth, batch_norm):
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")

    def factory(num_classes=1000, in_channels=3, input_size=224, small=None, dropout=0.5):
        return vgg(depth, batch_norm, num_classes, in_channels, input_size, small, dropout)

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = (f"VGG-{depth}{' with batch norm' if batch_norm else ''} (torchvision's modules and keys); "
                       "``small`` (default: input_size < 64) for 28–32 pixel images.")
    register(name)(factory)
    return factory


vgg11, vgg13, vgg16, vgg19 = (_register(d, False) for d in (11, 13, 16, 19))
vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn = (_register(d, True) for d in (11, 13, 16, 19))
