"""torchvision.models.alexnet over Ember's AlexNet (``ember.models.alexnet``): torchvision's one-GPU
variant (64-192-384-256-256 channels, no LRN), its modules, keys and initialisation; 224×224 inputs."""

from ...models import alexnet as _zoo
from ._api import Weights, WeightsEnum, check_weights, handle_legacy_interface, register_model


class AlexNet(_zoo.AlexNet):
    """features → AdaptiveAvgPool2d((6, 6)) → classifier (Dropout, 9216→4096, ReLU, Dropout, 4096→4096,
    ReLU, 4096→num_classes): torchvision's signature ``AlexNet(num_classes=1000, dropout=0.5)``."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__(num_classes, dropout=dropout)


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
                            meta={"num_params": 61100840, "min_size": (63, 63)})
    DEFAULT = IMAGENET1K_V1


@register_model(weights=AlexNet_Weights)
@handle_legacy_interface(AlexNet_Weights.IMAGENET1K_V1)
def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet (Krizhevsky et al. 2012), torchvision's version; 61,100,840 parameters for 1000 classes."""
    check_weights("alexnet", AlexNet_Weights.verify(weights))
    return AlexNet(**kwargs)
