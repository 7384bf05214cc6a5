"""torchvision.datasets on Ember: MNIST, FashionMNIST, CIFAR10, CIFAR100, ImageFolder, DatasetFolder,
FakeData.

    from ember.vision import datasets
    train = datasets.FashionMNIST(root="../data", train=True, download=True, transform=to_tensor)
    image, label = datasets.MNIST("../data", download=True)[0]       # a PIL image (mode 'L'), an int
    folder = datasets.ImageFolder("hotdog/train", transform=...)      # one sub-folder per class

Samples are PIL images (Pillow is needed: ``pip install ember[images]``) until a transform converts
them; the files and their layout under ``root`` are torchvision's, so a folder torchvision filled is read
as it is and ``download=True`` writes what torchvision would.
"""

from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder, default_loader, has_file_allowed_extension, is_image_file
from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "DatasetFolder",
    "FakeData",
    "FashionMNIST",
    "ImageFolder",
    "MNIST",
    "StandardTransform",
    "VisionDataset",
    "default_loader",
    "has_file_allowed_extension",
    "is_image_file",
]
