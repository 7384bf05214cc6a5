"""The shared plumbing of the transforms (batch/single handling, Transform, Compose) and conversion."""

import importlib
import sys

from ...backend import xp
from ...tensor import Tensor

# ---- shared plumbing --------------------------------------------------------------------------------------


def is_pil(image):
    """Is ``image`` a PIL image? (Looks in sys.modules: whoever holds one has imported Pillow.)"""
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(image, module.Image)


def vision():
    """``ember.vision.transforms`` (torchvision's transforms), imported on first use. A PIL image is laid
    out (H, W, C) and is what torchvision's PIL code handles, so the transforms here hand it over."""
    return importlib.import_module("ember.vision.transforms")


def unwrap(image, name=None):
    if isinstance(image, Tensor):
        return image.array, True
    if is_pil(image):
        raise TypeError(
            f"{name or 'transform'}: got a PIL Image, but ember.data.transforms works on (C, H, W) arrays and "
            "Tensors; put ToTensor() before it, or use ember.vision.transforms (torchvision's transforms, "
            "which accept PIL images)"
        )
    return xp.asarray(image), False


def as_batch(image, name):
    """(B, C, H, W) array, was it a Tensor, was it a single (C, H, W) image."""
    array, was_tensor = unwrap(image, name)
    if array.ndim not in (3, 4):
        raise ValueError(
            f"{name}: expected a (C, H, W) image or a (B, C, H, W) batch, got shape {tuple(array.shape)}; "
            "convert HWC images with ToTensor() first"
        )
    return (array[None] if array.ndim == 3 else array), was_tensor, array.ndim == 3


def finish(batch, was_tensor, single):
    out = batch[0] if single else batch
    return Tensor(out) if was_tensor else out


def float_array(image, name):
    array, _ = unwrap(image, name)
    if array.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point image, got dtype {array.dtype}; apply ToTensor() first")
    return array


def pair(size, name):
    if isinstance(size, int):
        return (size, size)
    size = tuple(size)
    if len(size) == 1:
        return (size[0], size[0])
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or a (height, width) pair, got {size}")
    return size


class Transform:
    """Base class: a callable with a readable repr."""

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for t in self.transforms:
            image = t(image)
        return image

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r},\n" for t in self.transforms) + ")"


class Lambda(Transform):
    """Apply a user function."""

    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)


# ---- conversion -------------------------------------------------------------------------------------------


class ToTensor(Transform):
    """HWC image(s) -> CHW float Tensor: uint8 values v become v / 255 in [0, 1] (float32); float images keep
    their values and dtype. (H, W, C) -> (C, H, W); (H, W) grayscale -> (1, H, W); a batch (B, H, W, C) ->
    (B, C, H, W) and (B, H, W) -> (B, 1, H, W).

    A 3-D input is ambiguous: it is read as one (H, W, C) image when its last axis has at most 4 entries
    (grey, RGB, RGBA) and as a (B, H, W) batch of grayscale images otherwise. Pass ``batched=True/False``
    to decide explicitly.
    """

    def __init__(self, batched=None):
        self.batched = batched

    def __call__(self, pic):
        if is_pil(pic):  # torchvision's conversion: (H, W, C) pixels -> (C, H, W) float in [0, 1]
            return vision().functional.to_tensor(pic)
        array, _ = unwrap(pic, "ToTensor")
        batched = self.batched
        if batched is None:
            batched = array.ndim == 4 or (array.ndim == 3 and array.shape[-1] > 4)
        if batched and array.ndim in (3, 4):
            array = array[:, None] if array.ndim == 3 else array.transpose(0, 3, 1, 2)
        elif not batched and array.ndim in (2, 3):
            array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        else:
            raise ValueError(
                f"ToTensor: expected an (H, W[, C]) image or a (B, H, W[, C]) batch, got shape {tuple(array.shape)}"
            )
        if array.dtype == xp.uint8:  # one contiguous float32 copy, then scaled in place
            out = xp.ascontiguousarray(array, dtype=xp.float32)
            out /= 255
            return Tensor(out)
        return Tensor(xp.ascontiguousarray(array, dtype=xp.float32 if array.dtype.kind == "b" else None))


class ToDtype(Transform):
    """Cast to ``dtype`` keeping the layout (torchvision v2). With ``scale=True`` integer images are mapped
    to [0, 1] when cast to float (v / max, e.g. v / 255 for uint8) and float images back to the integer
    range (round(v · max)), e.g. for CHW uint8 data that ToTensor would read as HWC."""

    def __init__(self, dtype, scale=False):
        self.dtype = xp.dtype(dtype)
        self.scale = scale

    def __call__(self, image):
        if is_pil(image):
            image = vision().functional.pil_to_tensor(image)
        array, _ = unwrap(image, "ToDtype")
        if self.scale and array.dtype.kind in "iu" and self.dtype.kind == "f":
            return Tensor(array.astype(self.dtype) / self.dtype.type(xp.iinfo(array.dtype).max))
        if self.scale and array.dtype.kind == "f" and self.dtype.kind in "iu":
            top = xp.iinfo(self.dtype).max
            return Tensor(xp.clip(xp.rint(array * top), 0, top).astype(self.dtype))
        return Tensor(array.astype(self.dtype))
