"""GoogLeNet (Inception v1; Szegedy et al. 2014, "Going Deeper with Convolutions"), as torchvision builds it.

The Inception block runs four branches side by side on the same input and concatenates their outputs
along the channels, so the next layer chooses among 1×1, 3×3 and "5×5" features and a pooled summary:

    branch1: 1×1                                   ─┐
    branch2: 1×1 reduce → 3×3                       ├─ cat → (ch1x1 + ch3x3 + ch5x5 + pool_proj) channels
    branch3: 1×1 reduce → 3×3 (the paper's 5×5)     │
    branch4: 3×3 max-pool (stride 1) → 1×1 project ─┘

Why the 1×1 "reductions": a k×k convolution costs H·W·C_in·C_out·k² multiply-adds. In block 3a
(28×28, 192 channels in), a 5×5 branch straight to 32 channels costs 28²·192·32·25 ≈ 120 M; squeezing to
16 channels first costs 28²·192·16 + 28²·16·32·25 ≈ 2.4 M + 10.0 M ≈ 12.4 M, ten times less. The same
trick on the 3×3 branch (192 → 96 → 128) and the pool projection keeps the whole 22-layer network at
≈ 1.5 G multiply-adds and 6.6 M parameters, a twelfth of AlexNet's parameters.

Why the auxiliary classifiers: with 22 layers (2014, before batch norm and residuals), the gradient that
reaches the middle of the network from one loss at the top is weak. Two small classifiers on the outputs
of 4a and 4d (average-pool to 4×4, 1×1 conv to 128, fc 1024, dropout 0.7, fc) inject gradient there and
regularise the middle features. Their losses are added with weight 0.3 during training
(``googlenet_loss``); at inference they are discarded (``eval()`` returns the main logits only).

Faithful to torchvision, not to the paper, where they differ (so that a torchvision state_dict, each
tensor converted to an array, loads 1:1):

- every convolution is ``BasicConv2d``: conv without bias → BatchNorm(eps=0.001) → ReLU (batch norm
  came a year after the paper; the TensorFlow port that torchvision's weights come from has it);
- branch3 uses a **3×3** convolution where the paper has 5×5 (pytorch/vision issue #906; kept, since
  the published weights have 3×3 kernels there). Two stacked 3×3 would see as far as one 5×5 with
  18 instead of 25 weights per channel pair, as Inception v3 does (``inception.py``);
- the max-pools use ``ceil_mode=True``; the head is adaptive average pooling → dropout 0.2 → fc.

Parameter count (1000 classes): 6,624,904 without the auxiliary heads (torchvision's published figure),
13,004,888 with them (each head holds ≈ 3.2 M, mostly its 2048 → 1024 fc).

``torchvision``'s published checkpoint contains the auxiliary heads (they were never trained): load it
into ``GoogLeNet(aux_logits=True)``, or drop the ``aux1.*``/``aux2.*`` keys first.

Small inputs (28×28 Fashion-MNIST, 32×32 CIFAR): ``small_input=True`` follows d2l's idea of keeping the
network and shrinking the stem: a 3×3 stride-1 ``conv1`` replaces the 7×7 stride-2 one, and ``maxpool2``
becomes an identity, so a 28×28 image reaches the Inception stages at 14×14 (3a, 3b), 7×7 (4a–4e) and
4×4 (5a, 5b) — the 12/6/3 grid d2l gets from 96×96 inputs. ``width_mult`` scales every channel count
(1/8 by default for small inputs: 90 k parameters and 4.5 M multiply-adds per 28×28 image, against
1.5 G for the full model at 224×224) so that an epoch of Fashion-MNIST trains on a laptop CPU in minutes.
The module names, and so the state_dict keys, are torchvision's in both forms.
"""

from collections import namedtuple

from .. import nn
from ..nn import functional as F
from ..ops import cat, flatten, unsqueeze
from .registry import register

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = """What a GoogLeNet with auxiliary heads returns in training mode (torchvision's order:
the main logits, then the head on 4d, then the head on 4a). In evaluation mode the model returns the logits alone."""

#: The weight of each auxiliary loss in the paper ("added to the total loss with a discount weight of 0.3").
AUX_LOSS_WEIGHT = 0.3

# Table 1 of the paper (torchvision's numbers): (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj).
# The input channels of each block are the output channels of the one before.
INCEPTION_CONFIG = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def googlenet_loss(outputs, target, loss_fn=None, aux_weight=AUX_LOSS_WEIGHT):
    """The paper's training loss: ``loss(logits) + 0.3·loss(aux2) + 0.3·loss(aux1)``.

    ``outputs`` is what the model returned: ``GoogLeNetOutputs`` in training mode with auxiliary heads
    (their losses are added), or the logits Tensor (evaluation, or no heads: the plain loss). ``loss_fn``
    defaults to cross-entropy. Inception v3 uses the same rule with its own ``aux_weight``.
    """
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    if not isinstance(outputs, tuple):
        return loss_fn(outputs, target)
    logits, *aux = outputs
    loss = loss_fn(logits, target)
    for a in aux:
        if a is not None:
            loss = loss + aux_weight * loss_fn(a, target)
    return loss


def transform_imagenet_input(x):
    """Map an image normalised with ImageNet's mean/std to the [-1, 1] scaling of the TensorFlow port
    (torchvision's ``transform_input``): channel c becomes x_c·std_c/0.5 + (mean_c − 0.5)/0.5."""
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"transform_input expects (N, 3, H, W) RGB images, got shape {tuple(x.shape)}; "
                         "create the model with transform_input=False for other inputs")
    channels = [unsqueeze(x[:, c], 1) * (std / 0.5) + (mean - 0.5) / 0.5
                for c, (mean, std) in enumerate(((0.485, 0.229), (0.456, 0.224), (0.406, 0.225)))]
    return cat(channels, 1)


class BasicConv2d(nn.Module):
    """conv (no bias: the batch norm's β replaces it) → BatchNorm2d(eps=0.001) → ReLU."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """The four-branch block; output channels ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` (``out_channels``).

    ``ch3x3red``/``ch5x5red`` are the 1×1 reductions in front of the expensive convolutions. branch3's
    convolution is 3×3, not the paper's 5×5: torchvision's (and its weights') choice, kept for key and
    shape compatibility.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, conv_block=None):
        super().__init__()
        conv_block = BasicConv2d if conv_block is None else conv_block
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            conv_block(in_channels, ch5x5red, kernel_size=1),
            conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1),  # 5×5 in the paper (pytorch/vision#906)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: adaptive avg-pool to 4×4 → 1×1 conv (128) → flatten (2048) → fc 1024 → ReLU →
    dropout 0.7 → fc num_classes. ``conv_channels`` and ``hidden`` (128, 1024) shrink it for small models."""

    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7, conv_channels=128, hidden=1024):
        super().__init__()
        conv_block = BasicConv2d if conv_block is None else conv_block
        self.conv = conv_block(in_channels, conv_channels, kernel_size=1)
        self.fc1 = nn.Linear(conv_channels * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))  # N × 128 × 4 × 4 whatever the grid size
        x = F.relu(self.fc1(flatten(x, 1)))
        return self.fc2(self.dropout(x))


class GoogLeNet(nn.Module):
    """torchvision's GoogLeNet: stem → 3a 3b → pool → 4a–4e → pool → 5a 5b → avg-pool → dropout → fc.

    In training mode with ``aux_logits`` the forward returns ``GoogLeNetOutputs(logits, aux_logits2,
    aux_logits1)``; otherwise the logits. Train it with ``model.loss(outputs, target)`` (the paper's
    0.3-weighted sum). ``in_channels``, ``small_input`` and ``width_mult`` are Ember's additions (see the
    module docstring); their defaults give torchvision's model exactly.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, init_weights=True, blocks=None,
                 dropout=0.2, dropout_aux=0.7, in_channels=3, small_input=False, width_mult=1.0):
        super().__init__()
        conv_block, inception_block, aux_block = blocks or (BasicConv2d, Inception, InceptionAux)
        if transform_input and in_channels != 3:
            raise ValueError(f"GoogLeNet: transform_input re-normalises RGB images, but in_channels={in_channels}")

        def c(n):  # a channel count scaled by width_mult
            return max(1, round(n * width_mult))

        self.aux_logits, self.transform_input = aux_logits, transform_input
        if small_input:  # d2l's stem for 28×28 / 32×32: keep the resolution for the Inception stages
            self.conv1 = conv_block(in_channels, c(64), kernel_size=3, padding=1)
        else:
            self.conv1 = conv_block(in_channels, c(64), kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(c(64), c(64), kernel_size=1)
        self.conv3 = conv_block(c(64), c(192), kernel_size=3, padding=1)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, ceil_mode=True)

        channels = c(192)
        for name, widths in INCEPTION_CONFIG.items():
            block = inception_block(channels, *(c(n) for n in widths))
            setattr(self, f"inception{name}", block)
            channels = block.out_channels
            if name == "3b":
                self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "4e":
                self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
            elif name == "4a":
                aux1_channels = channels
            elif name == "4d":
                aux2_channels = channels

        if aux_logits:
            aux = {"dropout": dropout_aux}
            if width_mult != 1:
                aux.update(conv_channels=c(128), hidden=c(1024))
            self.aux1 = aux_block(aux1_channels, num_classes, **aux)
            self.aux2 = aux_block(aux2_channels, num_classes, **aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(channels, num_classes)
        if init_weights:
            self._initialize_weights()

    def _initialize_weights(self):
        """torchvision's: conv and fc weights from N(0, 0.01²) truncated at ±2 (the value, not ±2σ, so in
        effect untruncated); batch norm γ = 1, β = 0; biases keep PyTorch's default."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _forward(self, x):
        # Shapes for a 224×224 input (small_input, 28×28: 28, 14, 14, 14, 7, 7, 4).
        x = self.maxpool1(self.conv1(x))  # N × 64 × 56 × 56
        x = self.maxpool2(self.conv3(self.conv2(x)))  # N × 192 × 28 × 28
        x = self.inception3b(self.inception3a(x))  # N × 480 × 28 × 28
        x = self.inception4a(self.maxpool3(x))  # N × 512 × 14 × 14
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # N × 528 × 14 × 14
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))  # N × 832 × 7 × 7
        x = self.inception5b(self.inception5a(x))  # N × 1024 × 7 × 7
        x = flatten(self.avgpool(x), 1)  # N × 1024
        return self.fc(self.dropout(x)), aux2, aux1

    def forward(self, x):
        if self.transform_input:
            x = transform_imagenet_input(x)
        logits, aux2, aux1 = self._forward(x)
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(logits, aux2, aux1)
        return logits

    def loss(self, outputs, target, loss_fn=None):
        """The training loss of ``outputs = model(x)``: auxiliary losses added with weight 0.3 when present."""
        return googlenet_loss(outputs, target, loss_fn)


@register("googlenet")
def googlenet(num_classes=1000, in_channels=3, input_size=224, aux_logits=False, transform_input=False,
              width_mult=None, dropout=0.2):
    """GoogLeNet; ``input_size < 64`` gives the small-input variant (3×3 stem, width ×0.125 by default).

    ``aux_logits`` defaults to False here (torchvision's class default is True) so that a plain
    ``loss_fn(model(x), y)`` training loop works; with it, train with ``model.loss(outputs, y)``.
    """
    small = input_size < 64
    width = width_mult if width_mult is not None else (0.125 if small else 1.0)
    return GoogLeNet(num_classes, aux_logits=aux_logits, transform_input=transform_input, dropout=dropout,
                     in_channels=in_channels, small_input=small, width_mult=width)
