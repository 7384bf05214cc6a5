"""torchvision.models.resnet: ``resnet18`` ... ``resnet152`` over Ember's ResNet (``ember.models.resnet``).

The classes are the zoo's, whose module names, shapes and initialisation are torchvision's, so a
torchvision state_dict loads key for key. Built here the models are always the ImageNet architecture
(7×7/2 stem and max-pool; 224×224 inputs), as in torchvision; ``num_classes=`` and the other ``ResNet``
arguments pass through ``**kwargs``.
"""

from ...models.resnet import BasicBlock, Bottleneck, ResNet, conv1x1, conv3x3
from ._api import Weights, WeightsEnum, check_weights, handle_legacy_interface, register_model

__all__ = [
    "ResNet", "BasicBlock", "Bottleneck", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights",
    "ResNet101_Weights", "ResNet152_Weights", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "conv1x1", "conv3x3",
]  # fmt: skip

_URL = "https://download.pytorch.org/models/"


def _weights(file, num_params):
    return Weights(_URL + file, meta={"num_params": num_params, "min_size": (1, 1)})


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet18-f37072fd.pth", 11689512)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet34-b627a593.pth", 21797672)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet50-0676ba61.pth", 25557032)
    IMAGENET1K_V2 = _weights("resnet50-11ad3fa6.pth", 25557032)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet101-63fe2227.pth", 44549160)
    IMAGENET1K_V2 = _weights("resnet101-cd907fc2.pth", 44549160)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet152-394f9c45.pth", 60192808)
    IMAGENET1K_V2 = _weights("resnet152-f82ba261.pth", 60192808)
    DEFAULT = IMAGENET1K_V2


def _resnet(name, block, layers, weights, progress, **kwargs):
    check_weights(name, weights)
    return ResNet(block, layers, **kwargs)


@register_model(weights=ResNet18_Weights)
@handle_legacy_interface(ResNet18_Weights.IMAGENET1K_V1)
def resnet18(*, weights=None, progress=True, **kwargs):
    """ResNet-18 (He et al. 2016): BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters for 1000 classes."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], ResNet18_Weights.verify(weights), progress, **kwargs)


@register_model(weights=ResNet34_Weights)
@handle_legacy_interface(ResNet34_Weights.IMAGENET1K_V1)
def resnet34(*, weights=None, progress=True, **kwargs):
    """ResNet-34: BasicBlocks [3, 4, 6, 3]; 21,797,672 parameters."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], ResNet34_Weights.verify(weights), progress, **kwargs)


@register_model(weights=ResNet50_Weights)
@handle_legacy_interface(ResNet50_Weights.IMAGENET1K_V1)
def resnet50(*, weights=None, progress=True, **kwargs):
    """ResNet-50 (v1.5: the stride on the 3×3 conv): Bottlenecks [3, 4, 6, 3]; 25,557,032 parameters."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], ResNet50_Weights.verify(weights), progress, **kwargs)


@register_model(weights=ResNet101_Weights)
@handle_legacy_interface(ResNet101_Weights.IMAGENET1K_V1)
def resnet101(*, weights=None, progress=True, **kwargs):
    """ResNet-101: Bottlenecks [3, 4, 23, 3]; 44,549,160 parameters."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], ResNet101_Weights.verify(weights), progress, **kwargs)


@register_model(weights=ResNet152_Weights)
@handle_legacy_interface(ResNet152_Weights.IMAGENET1K_V1)
def resnet152(*, weights=None, progress=True, **kwargs):
    """ResNet-152: Bottlenecks [3, 8, 36, 3]; 60,192,808 parameters."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], ResNet152_Weights.verify(weights), progress, **kwargs)
