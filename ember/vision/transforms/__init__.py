"""torchvision.transforms (v1) at ember's path: ``import ember.vision.transforms as transforms``.

Every transform accepts a PIL image (processed by Pillow, so pixels match torchvision's) or an ember
Tensor image of shape (C, H, W) or (B, C, H, W) (NumPy, torch's tensor semantics; a batch gets ONE
random draw, as in torchvision). PIL in, PIL out; Tensor in, Tensor out of the same dtype.
``ToTensor`` converts a PIL image or an (H, W, C) uint8 array to a float32 (C, H, W) Tensor in [0, 1].

Random transforms draw from ``ember.data.rng()`` (the DataLoader's per-batch generator, or the pipeline
generator that ``ember.manual_seed`` reseeds), so seeded runs are reproducible.

    import ember.vision.transforms as T
    train_tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

Pillow is an optional extra (``pip install ember[images]``), imported only when a PIL image is handled.
"""

from . import functional  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
