"""LeNet-5 in its modern form (ReLU, max pooling, padding so that 28×28 MNIST digits fit).

LeCun et al. 1998 fed 32×32 images to two 5×5 convolutions; padding a 28×28 digit by 2 gives the same
geometry. The layers are those of the core issue's model test and of the d2l chapter:

    conv 6@5×5 (pad 2) → ReLU → max-pool 2 → conv 16@5×5 → ReLU → max-pool 2 →
    flatten 16·5·5 = 400 → 120 → ReLU → 84 → ReLU → num_classes
"""

from .. import nn
from ..ops.window import output_size
from .registry import register


class LeNet5(nn.Module):
    """Modern LeNet-5; ``input_size`` (28 or 32, say) sets the padding and the flattened size."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28):
        super().__init__()
        padding = 2 if input_size < 32 else 0  # 28 + 2·2 = 32: the paper's input size
        side = output_size(input_size, 5, 1, padding, padding, 1) // 2
        side = output_size(side, 5, 1, 0, 0, 1) // 2
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * side * side, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


@register("lenet5")
def lenet5(num_classes=10, in_channels=1, input_size=28):
    return LeNet5(num_classes, in_channels, input_size)
