"""A multilayer perceptron: flatten the image, then fully connected layers with ReLU (and dropout)."""

from .. import nn
from .registry import register


class MLP(nn.Module):
    """Flatten → [Linear → ReLU → Dropout] × len(hidden) → Linear(num_classes)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28, hidden=(256, 128), dropout=0.0):
        super().__init__()
        layers = [nn.Flatten()]
        width = in_channels * input_size * input_size
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


@register("mlp")
def mlp(num_classes=10, in_channels=1, input_size=28, hidden=(256, 128), dropout=0.0):
    return MLP(num_classes, in_channels, input_size, tuple(hidden), dropout)
