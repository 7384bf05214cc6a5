"""ember.data: datasets, the DataLoader, image transforms, colour spaces (torch.utils.data and
torchvision.transforms, on NumPy), and text for language models (d2l chapter 8: ``ember.data.text``).

    from ember.data import DataLoader, TensorDataset, transforms as T

    train = DataLoader(TensorDataset(images, labels), batch_size=128, shuffle=True, prefetch=2,
                       transform=T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()]))
    for x, y in train:      # x float32 (128, 3, 32, 32), y int64 (128,): Tensors
        ...

The datasets are ``ember.utils.data``'s (torch.utils.data at torch's path); ``DataLoader`` is its loader
with ember's extras (``transform=``, ``prefetch=``, ``state_dict``). Random transforms draw from
``ember.data.rng()``, never from the model's generator (see dataloader.py).
The concrete datasets live in ``ember.data.datasets``, imported on first use.
"""

import importlib

from . import color, transforms
from .dataloader import DataLoader, rng, rng_scope, to_tensors
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from .text import (
    SeqDataLoader,
    Vocab,
    count_corpus,
    decode,
    encode,
    load_corpus,
    load_text,
    python_stdlib_corpus,
    seq_data_iter_random,
    seq_data_iter_sequential,
    tokenize,
)

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "SeqDataLoader",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "Vocab",
    "color",
    "count_corpus",
    "decode",
    "default_collate",
    "encode",
    "load_corpus",
    "load_text",
    "python_stdlib_corpus",
    "random_split",
    "rng",
    "rng_scope",
    "seq_data_iter_random",
    "seq_data_iter_sequential",
    "to_tensors",
    "tokenize",
    "transforms",
]


def __getattr__(name):
    # ember.data.datasets is imported lazily: it may pull in file formats and downloads nobody else needs.
    if name == "datasets":
        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
