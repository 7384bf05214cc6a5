"""torchvision.models.googlenet over Ember's GoogLeNet (``ember.models.googlenet``).

As torchvision builds it without weights: ``aux_logits=True`` (two auxiliary heads, 13,004,888 parameters;
in training mode the forward returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``, in eval mode
the logits), 224×224 inputs. ``googlenet(aux_logits=False)`` gives the 6,624,904-parameter network.
"""

from ...models.googlenet import BasicConv2d, GoogLeNet, GoogLeNetOutputs, Inception, InceptionAux
from ._api import Weights, WeightsEnum, check_weights, handle_legacy_interface, register_model

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "GoogLeNet_Weights", "googlenet", "BasicConv2d", "Inception",
           "InceptionAux"]


class GoogLeNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights("https://download.pytorch.org/models/googlenet-1378be20.pth",
                            meta={"num_params": 6624904, "min_size": (15, 15)})
    DEFAULT = IMAGENET1K_V1


@register_model(weights=GoogLeNet_Weights)
@handle_legacy_interface(GoogLeNet_Weights.IMAGENET1K_V1)
def googlenet(*, weights=None, progress=True, **kwargs):
    """GoogLeNet (Inception v1, Szegedy et al. 2014) as torchvision builds it; ``**kwargs`` go to ``GoogLeNet``."""
    check_weights("googlenet", GoogLeNet_Weights.verify(weights))
    return GoogLeNet(**kwargs)
