"""torchvision's dataset base: ``VisionDataset`` (root + transforms, the ``repr``) and ``StandardTransform``.

A torchvision dataset returns one ``(image, target)`` pair per index, the image a ``PIL.Image`` until a
transform (``transforms.ToTensor()``...) turns it into a Tensor. ``transform`` sees the image,
``target_transform`` the target; ``transforms`` (both at once) is the joint alternative, and giving it
together with either of the other two is an error, as in torchvision.
"""

import os

from ...data.dataset import Dataset


def pil_image():
    """The ``PIL.Image`` module (Pillow is an optional extra: datasets of images need it)."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "ember.vision.datasets returns PIL images and needs the optional Pillow package; install it with "
            "`pip install ember[images]` (or `pip install Pillow`)"
        ) from error
    return Image


class StandardTransform:
    """``(image, target) -> (transform(image), target_transform(target))``, either one optional."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def _format_transform_repr(self, transform, head):
        lines = repr(transform).splitlines()
        return [f"{head}{lines[0]}"] + [f"{' ' * len(head)}{line}" for line in lines[1:]]

    def __repr__(self):
        body = [type(self).__name__]
        if self.transform is not None:
            body += self._format_transform_repr(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format_transform_repr(self.target_transform, "Target transform: ")
        return "\n".join(body)


class VisionDataset(Dataset):
    """torchvision.datasets.VisionDataset: ``root`` (``~`` expanded) and the transforms.

    Subclasses implement ``__getitem__`` and ``__len__``; ``extra_repr`` adds lines to the ``repr``.
    """

    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        has_transforms = transforms is not None
        has_separate_transform = transform is not None or target_transform is not None
        if has_transforms and has_separate_transform:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        if has_separate_transform:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def _transformed(self, image, target):
        """``(transform(image), target_transform(target))`` with the transforms set now (programs often
        assign ``dataset.transform = ...`` after construction)."""
        return StandardTransform(getattr(self, "transform", None), getattr(self, "target_transform", None))(image, target)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")

    def extra_repr(self):
        return ""

    def __repr__(self):
        head = "Dataset " + type(self).__name__
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body += [repr(self.transforms)]
        return "\n".join([head] + [" " * self._repr_indent + line for line in body])
