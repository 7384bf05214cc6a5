"""Network in Network (Lin, Chen & Yan 2013), in the form of *Dive into Deep Learning* (§ 8.3).

Two ideas, both later taken up by GoogLeNet and ResNet:

- **1×1 convolutions as a per-pixel MLP ("mlpconv").** A convolution is a generalised linear model of each
  patch; NiN follows every ordinary convolution with two 1×1 convolutions, each with a ReLU, i.e. a small
  fully connected network applied at every pixel across the channels. It makes each local feature a
  non-linear function of the patch, and a 1×1 convolution costs only C_in·C_out parameters per layer.
- **Global average pooling instead of fully connected layers.** The last block has one output channel per
  class; averaging each map over the image gives the class scores directly. No parameters (AlexNet's
  three FC layers hold 58.6 M of its 61 M), so less over-fitting, and each map reads as a confidence map
  for its class. The scores pass through the block's ReLU, as in d2l and the authors' Caffe model.

The layers (d2l, for 224×224 inputs):

    nin_block(in, 96, 11, stride 4)  → maxpool 3/2
    nin_block(96, 256, 5, pad 2)     → maxpool 3/2
    nin_block(256, 384, 3, pad 1)    → maxpool 3/2 → Dropout(0.5)
    nin_block(384, num_classes, 3, pad 1) → AdaptiveAvgPool2d(1) → flatten

with nin_block(in, out, k) = conv k×k → ReLU → conv 1×1 → ReLU → conv 1×1 → ReLU. 2,015,398 parameters
for 10 classes (against AlexNet's 61 M); 7,439,608 for 1000, 5.5 M of them in the last block, whose three
convolutions are 1000 wide. Weights are Xavier-uniform (d2l's initialisation), biases zero.

The small variant (``small=True``, the default when ``input_size < 64``) fits 28×28 and 32×32 images and
trains on a CPU: the first block's convolution is 3×3 with stride 1 (11×11/4 would leave 5×5 pixels of a
digit), and widths are divided by 4 (24, 64, 96); 28 → 13 → 6 → 2 pixels before global pooling.
"""

from .. import nn
from .registry import register


def nin_block(in_channels, out_channels, kernel_size, stride, padding):
    """An mlpconv layer: a k×k convolution, then two 1×1 convolutions (a per-pixel MLP), each with ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(inplace=True),
    )


class NiN(nn.Module):
    """features (four NiN blocks, three max-pools, dropout) → global average pooling → flatten."""

    def __init__(self, num_classes=1000, in_channels=3, widths=(96, 256, 384), first=(11, 4, 0), dropout=0.5):
        super().__init__()
        w1, w2, w3 = widths
        self.features = nn.Sequential(
            nin_block(in_channels, w1, *first), nn.MaxPool2d(3, stride=2),
            nin_block(w1, w2, 5, 1, 2), nn.MaxPool2d(3, stride=2),
            nin_block(w2, w3, 3, 1, 1), nn.MaxPool2d(3, stride=2),
            nn.Dropout(dropout),
            nin_block(w3, num_classes, 3, 1, 1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.reset_parameters()

    def reset_parameters(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.avgpool(self.features(x)).flatten(1)


@register("nin", lr=0.03)
def nin(num_classes=1000, in_channels=3, input_size=224, small=None, dropout=0.5):
    """Network in Network (d2l's version); ``small`` (default: input_size < 64) for 28–32 pixel images."""
    if (input_size < 64) if small is None else small:
        return NiN(num_classes, in_channels, widths=(24, 64, 96), first=(3, 1, 1), dropout=dropout)
    return NiN(num_classes, in_channels, dropout=dropout)
