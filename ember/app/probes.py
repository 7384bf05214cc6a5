"""What ``ember check`` and ``ember lr-find`` probe: exactly what ``ember train`` would train on.

The same training split (the validation images held out with the same seed), standardised with the
statistics of that split, the model from the registry in the dataset's shape, and the optimizer from the
one table (optimizers.py). A check that passes here speaks for the run that ``ember train`` would make.
"""

from dataclasses import dataclass

from .. import models
from ..backend import xp
from ..data import DataLoader, random_split
from ..factories import tensor
from . import recipes
from .flags import validation_size
from .usage import UsageError


@dataclass
class TrainingData:
    """The training split of a dataset (``subset``), its DataInfo and the fitted standardisation."""

    info: object
    subset: object
    standardize: object

    def batch(self, count):
        """The first ``count`` examples of the (already shuffled) split as (images, labels) Tensors."""
        if not 1 <= count <= len(self.subset):
            raise UsageError(f"asked for {count} examples, but the training split has {len(self.subset)}")
        indices = xp.asarray(self.subset.indices[:count])
        full = self.subset.dataset
        images = recipes._eval_transform(self.standardize)(full.data[indices])  # (N, C, H, W)
        labels = tensor(xp.asarray(full.targets)[indices].astype(xp.int64))  # (N,)
        return images, labels

    def loader(self, batch_size, seed):
        """Shuffled minibatches of the split, as ``ember train`` draws them (without augmentation)."""
        return DataLoader(self.subset, batch_size=batch_size, shuffle=True, generator=seed, prefetch=2,
                          transform=recipes._train_transform(self.info, self.standardize, False))


def training_data(dataset, root=None, seed=0):
    """The training split of ``dataset`` that ``ember train --dataset DATASET --seed SEED`` trains on."""
    info = recipes._data_info(dataset)
    full = recipes._dataset(dataset, True, root)
    val_size = validation_size(None, len(full), recipes.DEFAULTS["val_size"])
    subset, _ = random_split(full, [len(full) - val_size, val_size], generator=xp.random.default_rng(seed))
    standardize = recipes._standardizer(full.data[xp.asarray(subset.indices)])
    return TrainingData(info, subset, standardize)


def build_model(name, info):
    """The registered model ``name`` shaped for the dataset (``info``); an unknown name is a UsageError."""
    try:
        return models.create(name, num_classes=info.classes, in_channels=info.channels, input_size=info.size)
    except (KeyError, TypeError) as error:
        raise UsageError(error.args[0]) from error


def known_model(name):
    """``name`` if it is a registered model, else a UsageError listing the close and the known names
    (checked before any data is loaded or anything is printed)."""
    try:
        models.signature(name)
    except KeyError as error:
        raise UsageError(error.args[0]) from error
    return name
