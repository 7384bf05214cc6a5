"""The shape every image-classification dataset here shares: uint8 HWC images in memory, int64 labels.

A dataset holds all its images in one array ``data`` — ``(N, H, W)`` for grey images (MNIST), ``(N, H, W, 3)``
for colour (CIFAR), the layout torchvision uses — and the labels in ``targets`` (int64, ``(N,)``).

* ``ds[i]`` returns ``(image, label)``: the image as a uint8 ``(H, W, C)`` array (grey images get ``C = 1``)
  passed through ``transform``, the label as a Python int passed through ``target_transform``.
* ``ds.__getitems__(indices)`` returns a whole batch in one fancy-indexing gather — ``(B, H, W, C)`` uint8
  images through ``transform`` and ``(B,)`` int64 labels through ``target_transform`` — so the DataLoader
  never loops over samples in Python. Transforms accept a single image or a batch alike.
"""

import operator

from ...backend import xp
from ..dataset import Dataset


class ImageClassificationDataset(Dataset):
    """Base for in-memory image datasets; subclasses fill ``data``, ``targets`` and ``classes``."""

    classes = []

    def __init__(self, root=None, transform=None, target_transform=None):
        self.root = root
        self.transform = transform
        self.target_transform = target_transform
        self.data = xp.zeros((0, 1, 1), dtype=xp.uint8)
        self.targets = xp.zeros((0,), dtype=xp.int64)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        # operator.index: an int or NumPy integer only; a slice or a list would silently return a batch
        # (use __getitems__ for those). A copy, so a transform that works in place cannot edit the dataset.
        index = operator.index(index)
        image = self.data[index].copy()
        if image.ndim == 2:
            image = image[:, :, None]
        label = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __getitems__(self, indices):
        index = xp.asarray(indices)
        if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
            raise TypeError(
                f"{type(self).__name__}.__getitems__ expects a 1-D sequence of integer indices, "
                f"got {index.dtype} with shape {index.shape}"
            )
        index = index.astype(xp.intp, copy=False)
        images = self.data[index]  # fancy indexing: one gather, and a fresh array
        if images.ndim == 3:
            images = images[..., None]
        labels = self.targets[index]
        if self.transform is not None:
            images = self.transform(images)
        if self.target_transform is not None:
            labels = self.target_transform(labels)
        return images, labels

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"    Root location: {self.root}")
        lines += [f"    {line}" for line in self.extra_repr().splitlines()]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
