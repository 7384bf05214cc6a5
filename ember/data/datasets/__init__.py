"""Ready-made datasets: MNIST, Fashion-MNIST, CIFAR-10, and DigitsMini (shipped, no download).

    from ember.data.datasets import MNIST, DigitsMini
    train = MNIST(train=True, download=True)       # into $EMBER_DATA or ~/.cache/ember
    images, labels = train.__getitems__([0, 1, 2])  # (3, 28, 28, 1) uint8, (3,) int64
    demo = DigitsMini(train=False)                   # 400 real MNIST digits, offline

Every dataset holds uint8 HWC images in ``data`` and int64 labels in ``targets`` (see :mod:`.vision`);
the file formats live in :mod:`.idx` and :mod:`.cifar`, the cache and downloads in :mod:`.download`.
"""

from .cifar import CIFAR10, UnsafePickleError, read_binary_batch, read_python_batch, safe_load_pickle
from .download import ChecksumError, DownloadError, cache_root
from .idx import IDXError, read_idx, write_idx
from .mnist import MNIST, DigitsMini, FashionMNIST
from .vision import ImageClassificationDataset

#: The names the CLI and configs use.
DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10, "digits-mini": DigitsMini}


def get_dataset(name, **kwargs):
    """``get_dataset('digits-mini', train=False)``: a dataset by name (``-``/``_`` and case ignored)."""
    key = name.lower().replace("_", "-")
    key = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10", "digitsmini": "digits-mini"}.get(key, key)
    if key not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[key](**kwargs)


__all__ = [
    "CIFAR10",
    "DATASETS",
    "ChecksumError",
    "DigitsMini",
    "DownloadError",
    "FashionMNIST",
    "IDXError",
    "ImageClassificationDataset",
    "MNIST",
    "UnsafePickleError",
    "cache_root",
    "get_dataset",
    "read_binary_batch",
    "read_idx",
    "read_python_batch",
    "safe_load_pickle",
    "write_idx",
]
