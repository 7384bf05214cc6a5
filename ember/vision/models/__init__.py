"""torchvision.models on Ember: the classification builders over Ember's zoo (``ember.models``).

    from ember.vision import models
    net = models.resnet18(num_classes=10)                   # weights=None: a fresh torchvision ResNet-18
    net = models.get_model("vgg16", num_classes=2)
    models.list_models()                                   # ['alexnet', 'googlenet', 'inception_v3', ...]

Every builder takes ``(*, weights=None, progress=True, **kwargs)`` and the old ``pretrained=`` keyword.
The networks are the ImageNet ones, with torchvision's module names, so ``state_dict()`` has torchvision's
keys and a torchvision checkpoint loads into them. Ember downloads no weights: see :mod:`._api`.
"""

from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .googlenet import GoogLeNet, GoogLeNet_Weights, GoogLeNetOutputs, googlenet
from .inception import Inception3, Inception_V3_Weights, InceptionOutputs, inception_v3
from .resnet import (
    ResNet,
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    ResNet101_Weights,
    ResNet152_Weights,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from .vgg import (
    VGG,
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
