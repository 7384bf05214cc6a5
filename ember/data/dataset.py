"""ember.data's datasets are torch.utils.data's, defined once in ``ember.utils.data.dataset`` (see there
for the batched ``__getitems__`` conventions) and re-exported here."""

from ..utils.data._utils.collate import default_collate
from ..utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    fetch,
    random_split,
)

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "fetch",
    "random_split",
]
