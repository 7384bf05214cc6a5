"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) and ZFNet (Zeiler & Fergus 2013).

AlexNet is LeNet grown for ImageNet: five convolutions and three fully connected layers, with what made
the depth trainable in 2012 — ReLU instead of tanh (six times faster to train, the paper says), dropout in
the first two fully connected layers, overlapping max-pooling (3×3 windows, stride 2), data augmentation,
and two GPUs. ``alexnet()`` is torchvision's version, with its module structure and state_dict keys:

    features    conv 64@11×11/4 (pad 2) → ReLU → maxpool 3/2
                conv 192@5×5 (pad 2)    → ReLU → maxpool 3/2
                conv 384@3×3 → ReLU → conv 256@3×3 → ReLU → conv 256@3×3 → ReLU → maxpool 3/2
    avgpool     AdaptiveAvgPool2d((6, 6))       (any input size; 224 gives 6×6 already)
    classifier  Dropout → 9216→4096 → ReLU → Dropout → 4096→4096 → ReLU → 4096→num_classes

61,100,840 parameters for 1000 classes; 58.6 M of them in the three fully connected layers, which is why
the later networks (NiN, GoogLeNet) replace them with global average pooling.

Options (``alexnet(...)``):

- ``lrn=True``: local response normalisation after the first two ReLUs, before pooling, as in the paper
  (size 5, α = 1e-4, β = 0.75, k = 2). PyTorch's and Caffe's formula divides α by the size, the paper's
  does not: α = 1e-4 reproduces Caffe's reference AlexNet; pass the paper's scale with α = 5e-4 by hand.
  The layers shift the feature indices (``features.0``, ReLU, LRN, pool, ``features.4``, ...).
- ``groups=2``: conv2, conv4 and conv5 split their channels in two halves that do not see each other, the
  paper's two-GPU layout (conv3 and the fully connected layers talk across the GPUs).
- ``paper=True``: the paper's widths 96-256-384-384-256, with ``groups=2`` and ``lrn=True`` unless
  said otherwise: 60,965,224 parameters for 1000 classes, the figure of Caffe's reference model (the
  grouped convolutions halve conv2, conv4 and conv5: 62,378,344 with ``groups=1``).

``zfnet()`` is ZFNet (Zeiler & Fergus, "Visualizing and understanding convolutional networks"): looking
at AlexNet's first-layer filters with their deconvnet, they saw a mix of very high and low frequencies
with little in between, and aliasing in the second layer's maps, caused by the large 11×11 filters and
stride 4. ZFNet uses 7×7 filters with stride 2 in layer 1 and stride 2 in layer 2, on one GPU (dense
convolutions), with AlexNet's widths 96-256-384-384-256; ReLU → max-pool 3/2 → contrast normalisation
(LRN) in layers 1 and 2. Pooling rounds up (``ceil_mode``, as Caffe) so that 224 gives the paper's
110 → 55 → 26 → 13 → 6. 62,357,608 parameters for 1000 classes.

Small variants (``small=True``, the default when ``input_size < 64``) keep the character — five
convolutions, overlapping 3/2 max-pools, LRN where the original has it, a three-layer classifier with
dropout — but fit 28×28 and 32×32 images and train on a CPU:

- the first convolution is 3×3 with stride 1 (an 11×11/4 filter would reduce a 28×28 digit to 5×5);
- convolution widths are halved: 32-96-192-128-128 (torchvision widths) or 48-128-192-192-128 (paper);
- the classifier is 512 wide instead of 4096, and ``avgpool`` keeps the final maps' own size: AlexNet
  28 → 13 → 6 → 2 (flattened 128·2·2 = 512); ZFNet keeps its stride-2 second convolution (padded 2),
  28 → 14 → 7 → 3 → 1, three times cheaper than with stride 1 (32×32 images: 16 → 8 → 4 → 2);
- He initialisation (``kaiming_init_``) instead of PyTorch's default, whose ±1/√fan_in shrinks the
  signal at every layer of a deep ReLU network without batch norm.

Train the small variants with ``--lr 0.03`` (SGD with momentum 0.9 makes 0.1 a step of about 1, too much
for these plain eight-layer networks). Measured, one MNIST epoch with ``ember train``'s one-cycle schedule:
alexnet 99.0 % test accuracy at lr 0.03 (96.7 % with PyTorch's default initialisation), 11 % at lr 0.1
with either initialisation; zfnet 98.1 % at lr 0.03 (21 % with the default initialisation).

Full-size models keep torchvision's initialisation (PyTorch's default), so that a run matches torchvision's.
"""

from .. import nn
from ..ops.window import output_size
from .registry import register

TORCHVISION_WIDTHS = (64, 192, 384, 256, 256)
PAPER_WIDTHS = (96, 256, 384, 384, 256)


def local_response_norm():
    """AlexNet's normalisation, nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2)."""
    if not hasattr(nn, "LocalResponseNorm"):
        raise NotImplementedError("lrn=True needs ember.nn.LocalResponseNorm, which this Ember does not have")
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """features → avgpool → flatten → classifier, built from a per-layer plan.

    ``convs`` lists (out_channels, kernel, stride, padding, groups) for the five convolutions; ``norm``
    is where the LRN goes in layers 1 and 2: ``"before_pool"`` (AlexNet), ``"after_pool"`` (ZFNet) or None.
    """

    def __init__(self, num_classes=1000, in_channels=3, convs=None, norm=None, ceil_mode=False, pool_size=(6, 6),
                 hidden=4096, dropout=0.5, init="default"):
        super().__init__()
        convs = convs or [(64, 11, 4, 2, 1), (192, 5, 1, 2, 1), (384, 3, 1, 1, 1), (256, 3, 1, 1, 1),
                          (256, 3, 1, 1, 1)]
        layers, channels = [], in_channels
        for i, (width, kernel, stride, padding, groups) in enumerate(convs):
            layers += [nn.Conv2d(channels, width, kernel, stride=stride, padding=padding, groups=groups),
                       nn.ReLU(inplace=True)]
            pool = i in (0, 1, 4)
            if norm == "before_pool" and i < 2:
                layers.append(local_response_norm())
            if pool:
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=ceil_mode))
            if norm == "after_pool" and i < 2:
                layers.append(local_response_norm())
            channels = width
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        flat = channels * pool_size[0] * pool_size[1]
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(flat, hidden), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )
        if init == "kaiming":
            self.kaiming_init_()

    def kaiming_init_(self):
        """He initialisation (N(0, 2/fan), fan_out for convolutions, fan_in for linear layers), zero biases."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out" if isinstance(m, nn.Conv2d) else "fan_in",
                                        nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def _final_size(input_size, convs, ceil_mode):
    """Side of the last feature maps for a square input (three 3/2 max-pools after conv 1, 2 and 5)."""
    side = input_size
    for i, (_, kernel, stride, padding, _) in enumerate(convs):
        side = output_size(side, kernel, stride, padding, padding, 1, layer="AlexNet")
        if i in (0, 1, 4):
            side = output_size(side, 3, 2, 0, 0, 1, ceil_mode, layer="AlexNet")
    return side


def _is_small(small, input_size):
    return input_size < 64 if small is None else bool(small)


@register("alexnet", lr=0.03)
def alexnet(num_classes=1000, in_channels=3, input_size=224, small=None, lrn=None, groups=None, paper=False,
            dropout=0.5):
    """AlexNet: torchvision's (default), or the paper's widths with ``paper=True`` (two groups and LRN
    unless ``groups``/``lrn`` say otherwise); ``small`` (default: input_size < 64) for 28–32 pixel images."""
    widths = PAPER_WIDTHS if paper else TORCHVISION_WIDTHS
    groups = (2 if paper else 1) if groups is None else int(groups)
    lrn = paper if lrn is None else bool(lrn)
    small = _is_small(small, input_size)
    if small:
        widths = tuple(w // 2 for w in widths)
    first = (3, 1, 1) if small else (11, 4, 2)
    convs = [(widths[0], *first, 1), (widths[1], 5, 1, 2, groups), (widths[2], 3, 1, 1, 1),
             (widths[3], 3, 1, 1, groups), (widths[4], 3, 1, 1, groups)]
    return _build(num_classes, in_channels, convs, "before_pool" if lrn else None, False, small, input_size, dropout)


@register("zfnet", lr=0.03)
def zfnet(num_classes=1000, in_channels=3, input_size=224, small=None, lrn=True, dropout=0.5):
    """ZFNet (Zeiler & Fergus 2013): 96@7×7/2, 256@5×5/2, then 384-384-256 as AlexNet, dense, LRN after
    the first two pools; ``small`` (default: input_size < 64) for 28–32 pixel images."""
    small = _is_small(small, input_size)
    widths = tuple(w // 2 for w in PAPER_WIDTHS) if small else PAPER_WIDTHS
    first, second = ((3, 1, 1), (5, 2, 2)) if small else ((7, 2, 1), (5, 2, 0))
    convs = [(widths[0], *first, 1), (widths[1], *second, 1), (widths[2], 3, 1, 1, 1), (widths[3], 3, 1, 1, 1),
             (widths[4], 3, 1, 1, 1)]
    return _build(num_classes, in_channels, convs, "after_pool" if lrn else None, True, small, input_size, dropout)


def _build(num_classes, in_channels, convs, norm, ceil_mode, small, input_size, dropout):
    """The full-size network ends on 6×6 maps and 4096-wide dense layers; the small one on whatever its
    convolutions leave, 512 wide, with Kaiming initialisation (it trains from scratch on 28–32 px)."""
    if small:
        side = _final_size(input_size, convs, ceil_mode)
        return AlexNet(num_classes, in_channels, convs, norm, ceil_mode, (side, side), hidden=512,
                       dropout=dropout, init="kaiming")
    return AlexNet(num_classes, in_channels, convs, norm, ceil_mode, (6, 6), dropout=dropout)
