"""torchvision.models.inception_v3 over Ember's Inception3 (``ember.models.inception``).

As torchvision builds it without weights: ``aux_logits=True`` (27,161,264 parameters; in training mode the
forward returns ``InceptionOutputs(logits, aux_logits)``), 299×299 inputs (75×75 at least).
"""

from ...models.inception import (
    InceptionA,
    InceptionAux,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
    Inception3,
    InceptionOutputs,
)
from ._api import Weights, WeightsEnum, check_weights, handle_legacy_interface, register_model

__all__ = ["Inception3", "InceptionOutputs", "Inception_V3_Weights", "inception_v3", "InceptionA", "InceptionB",
           "InceptionC", "InceptionD", "InceptionE", "InceptionAux"]


class Inception_V3_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights("https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
                            meta={"num_params": 27161264, "min_size": (75, 75)})
    DEFAULT = IMAGENET1K_V1


@register_model(weights=Inception_V3_Weights)
@handle_legacy_interface(Inception_V3_Weights.IMAGENET1K_V1)
def inception_v3(*, weights=None, progress=True, **kwargs):
    """Inception v3 (Szegedy et al. 2015) as torchvision builds it; ``**kwargs`` go to ``Inception3``."""
    check_weights("inception_v3", Inception_V3_Weights.verify(weights))
    return Inception3(**kwargs)
