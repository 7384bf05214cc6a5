"""Conversion and tensor-only transforms: ToTensor, PILToTensor, ToPILImage, ConvertImageDtype, Normalize,
LinearTransformation, RandomErasing."""

import math
import numbers
import warnings

from ... import backend
from ...backend import xp
from ...data.dataloader import rng
from ...tensor import Tensor
from . import functional as F
from ._base import Transform, rand, randint, uniform
from ._convert import is_tensor


class ToTensor:
    """PIL image or (H, W, C) uint8 ndarray -> float (C, H, W) Tensor in [0, 1] (v / 255).

    Other ndarrays keep their dtype and values (only transposed), as torchvision's ToTensor.
    """

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class PILToTensor:
    """PIL image -> (C, H, W) Tensor of the image's own dtype (uint8), values unscaled."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToPILImage:
    """(C, H, W) Tensor or (H, W, C) ndarray -> PIL image (floats scaled by 255 and truncated)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{type(self).__name__}(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


class ConvertImageDtype(Transform):
    """Convert a Tensor image to ``dtype``, rescaling: float [0, 1] <-> integer [0, max]."""

    _repr_attrs = ("dtype",)

    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        self._check(image, pil=False)
        return F.convert_image_dtype(image, self.dtype)


class Normalize(Transform):
    """output[c] = (input[c] - mean[c]) / std[c] for a float Tensor image (..., C, H, W)."""

    _repr_attrs = ("mean", "std")

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor):
        if not is_tensor(tensor):
            raise TypeError(
                f"Normalize: expected a float Tensor image (..., C, H, W), got {type(tensor).__name__}; "
                "put ToTensor() before Normalize() in the Compose"
            )
        return F.normalize(tensor, self.mean, self.std, self.inplace)


class LinearTransformation(Transform):
    """Flatten each (C, H, W) image, subtract ``mean_vector`` and multiply by ``transformation_matrix``
    (D x D, D = C·H·W): whitening such as ZCA (CS231n's PCA/whitening notes)."""

    def __init__(self, transformation_matrix, mean_vector):
        super().__init__()
        matrix = transformation_matrix.array if is_tensor(transformation_matrix) else xp.asarray(transformation_matrix)
        mean = mean_vector.array if is_tensor(mean_vector) else xp.asarray(mean_vector)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"transformation_matrix should be square. Got {tuple(matrix.shape)} rectangular matrix.")
        if mean.shape != (matrix.shape[0],):
            raise ValueError(
                f"mean_vector should have the same length {matrix.shape[0]} as any one of the dimensions of the "
                f"transformation_matrix [{tuple(matrix.shape)}], got {tuple(mean.shape)}"
            )
        object.__setattr__(self, "transformation_matrix", Tensor(matrix))
        object.__setattr__(self, "mean_vector", Tensor(mean))

    def forward(self, tensor):
        self._check(tensor, pil=False)
        array = tensor.array
        shape = array.shape
        n = math.prod(shape[-3:])
        if n != self.transformation_matrix.shape[0]:
            raise ValueError(
                "LinearTransformation: input tensor and transformation matrix have incompatible shape. "
                f"[{shape[-3]} x {shape[-2]} x {shape[-1]}] != {self.transformation_matrix.shape[0]}"
            )
        flat = array.reshape(-1, n) - self.mean_vector.array.astype(array.dtype)
        return Tensor((flat @ self.transformation_matrix.array.astype(array.dtype)).reshape(shape))

    def __repr__(self):
        return (
            f"{type(self).__name__}(transformation_matrix={self.transformation_matrix.array.tolist()}, "
            f"mean_vector={self.mean_vector.array.tolist()})"
        )


class RandomErasing(Transform):
    """With probability p erase a random rectangle of a Tensor image (Zhong et al., 2017): area a fraction
    in ``scale`` of the image, aspect ratio in ``ratio`` (log-uniform); filled with ``value`` (a number,
    one per channel, or 'random' for standard normal noise)."""

    _repr_attrs = ("p", "scale", "ratio", "value", "inplace")

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        super().__init__()
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, (tuple, list)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """(i, j, h, w, v): the box and its fill; the whole image itself when 10 tries fail."""
        img_c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * uniform(scale[0], scale[1])
            aspect_ratio = math.exp(uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = Tensor(rng().standard_normal((img_c, h, w), dtype=xp.float32))
            else:
                v = Tensor(xp.asarray(value, dtype=backend.float32)[:, None, None])
            i = randint(0, img_h - h + 1)
            j = randint(0, img_w - w + 1)
            return i, j, h, w, v
        return 0, 0, img_h, img_w, img

    def forward(self, img):
        if not is_tensor(img):
            raise TypeError(
                f"RandomErasing: expected a Tensor image (..., C, H, W), got {type(img).__name__}; "
                "put RandomErasing after ToTensor() in the Compose"
            )
        self._check(img, pil=False)
        if rand() < self.p:
            if isinstance(self.value, (int, float)):
                value = [float(self.value)]
            elif isinstance(self.value, str):
                value = None
            else:
                value = [float(v) for v in self.value]
            if value is not None and len(value) not in (1, img.shape[-3]):
                raise ValueError(
                    "If value is a sequence, it should have either a single value or "
                    f"{img.shape[-3]} (number of input channels)"
                )
            i, j, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio, value=value)
            return F.erase(img, i, j, h, w, v.array.astype(img.dtype, copy=False), self.inplace)
        return img
