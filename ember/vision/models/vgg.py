"""torchvision.models.vgg: ``vgg11`` ... ``vgg19_bn`` over Ember's VGG (``ember.models.vgg``).

``VGG(features, num_classes=1000, init_weights=True, dropout=0.5)`` and ``make_layers(cfg, batch_norm)``
take torchvision's arguments; the modules (``features``, ``avgpool`` 7×7, ``classifier.0/3/6``) and the
initialisation are torchvision's. Always the full-size ImageNet network (224×224 inputs).
"""

from ...models import vgg as _zoo
from ._api import Weights, WeightsEnum, check_weights, handle_legacy_interface, register_model

cfgs = {"A": _zoo.CONFIGS[11], "B": _zoo.CONFIGS[13], "D": _zoo.CONFIGS[16], "E": _zoo.CONFIGS[19]}


class VGG(_zoo.VGG):
    """features → AdaptiveAvgPool2d((7, 7)) → flatten → Linear 25088→4096 → ReLU → Dropout → Linear
    4096→4096 → ReLU → Dropout → Linear 4096→num_classes (torchvision's signature)."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__(features, num_classes, dropout=dropout, init_weights=init_weights)


def make_layers(cfg, batch_norm=False):
    """torchvision's ``make_layers``: ``'M'`` a 2×2 max-pool, a number a 3×3 conv (+ BatchNorm) + ReLU."""
    return _zoo.make_layers(cfg, batch_norm)


_URL = "https://download.pytorch.org/models/"


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg11-8a719046.pth", meta={"num_params": 132863336, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg11_bn-6002323d.pth", meta={"num_params": 132868840, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg13-19584684.pth", meta={"num_params": 133047848, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg13_bn-abd245e5.pth", meta={"num_params": 133053736, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg16-397923af.pth", meta={"num_params": 138357544, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg16_bn-6c64b313.pth", meta={"num_params": 138365992, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg19-dcbb9e9d.pth", meta={"num_params": 143667240, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(_URL + "vgg19_bn-c79401a0.pth", meta={"num_params": 143678248, "min_size": (32, 32)})
    DEFAULT = IMAGENET1K_V1


def _vgg(name, cfg, batch_norm, weights, progress, **kwargs):
    check_weights(name, weights)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


def _builder(name, cfg, batch_norm, weights_enum, doc):
    @register_model(name, weights=weights_enum)
    @handle_legacy_interface(weights_enum.IMAGENET1K_V1)
    def build(*, weights=None, progress=True, **kwargs):
        return _vgg(name, cfg, batch_norm, weights_enum.verify(weights), progress, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc
    build.__module__ = __name__
    return build


vgg11 = _builder("vgg11", "A", False, VGG11_Weights, "VGG-11 (configuration A); 132,863,336 parameters.")
vgg11_bn = _builder("vgg11_bn", "A", True, VGG11_BN_Weights, "VGG-11 with batch norm; 132,868,840 parameters.")
vgg13 = _builder("vgg13", "B", False, VGG13_Weights, "VGG-13 (configuration B); 133,047,848 parameters.")
vgg13_bn = _builder("vgg13_bn", "B", True, VGG13_BN_Weights, "VGG-13 with batch norm; 133,053,736 parameters.")
vgg16 = _builder("vgg16", "D", False, VGG16_Weights, "VGG-16 (configuration D); 138,357,544 parameters.")
vgg16_bn = _builder("vgg16_bn", "D", True, VGG16_BN_Weights, "VGG-16 with batch norm; 138,365,992 parameters.")
vgg19 = _builder("vgg19", "E", False, VGG19_Weights, "VGG-19 (configuration E); 143,667,240 parameters.")
vgg19_bn = _builder("vgg19_bn", "E", True, VGG19_BN_Weights, "VGG-19 with batch norm; 143,678,248 parameters.")
