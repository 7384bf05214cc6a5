"""Geometric transforms: Resize, crops, flips, Pad, rotations, affine and perspective warps."""

import math
import numbers
import warnings

from . import functional as F
from ._base import Transform, check_sequence_input, rand, randint, setup_angle, setup_size, uniform
from ._convert import InterpolationMode, interpolation_mode, is_tensor

_SIZE_MSG = "Please provide only two dimensions (h, w) for size."


def _warp_fill(img, fill):
    """torchvision's per-call fill: one float per channel for Tensors, as given for PIL images."""
    if not is_tensor(img):
        return fill
    channels = F.get_dimensions(img)[0]
    if isinstance(fill, (int, float)):
        return [float(fill)] * channels
    return [float(f) for f in fill]


class Resize(Transform):
    """Resize to ``size``: (h, w), or an int that the SMALLER edge becomes, the longer one
    int(size · long / short) (aspect ratio kept). E.g. Resize(256) makes a 400x300 (W x H) photo
    341x256. PIL images go through Pillow's filter; Tensors through torch's interpolate semantics."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        super().__init__()
        if not isinstance(size, (int, list, tuple)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = interpolation_mode(interpolation, "Resize")

    def forward(self, img):
        self._check(img)
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (
            f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )


class CenterCrop(Transform):
    """The central (h, w) crop (zero-padded when the image is smaller)."""

    _repr_attrs = ("size",)

    def __init__(self, size):
        super().__init__()
        self.size = setup_size(size, error_msg=_SIZE_MSG)

    def forward(self, img):
        self._check(img)
        return F.center_crop(img, self.size)


class RandomCrop(Transform):
    """A crop of ``size`` at a random position, after optional ``padding`` (e.g. CIFAR's
    RandomCrop(32, padding=4)); ``pad_if_needed`` pads an image smaller than the crop."""

    _repr_attrs = ("size", "padding")

    @staticmethod
    def get_params(img, output_size):
        """(i, j, th, tw) of a random crop of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        return randint(0, h - th + 1), randint(0, w - tw + 1), th, tw

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = tuple(setup_size(size, error_msg=_SIZE_MSG))
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def forward(self, img):
        self._check(img)
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)


class RandomResizedCrop(Transform):
    """A random crop (area a fraction in ``scale`` of the image, aspect ratio log-uniform in ``ratio``)
    resized to ``size``: the Inception / ResNet training augmentation."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = setup_size(size, error_msg=_SIZE_MSG)
        if not isinstance(scale, (tuple, list)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (tuple, list)):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.interpolation = interpolation_mode(interpolation, "RandomResizedCrop")
        self.antialias, self.scale, self.ratio = antialias, scale, ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """(i, j, h, w): up to 10 tries at a box of the drawn area and ratio; then a central crop."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * uniform(scale[0], scale[1])
            aspect_ratio = math.exp(uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return randint(0, height - h + 1), randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        self._check(img)
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self):
        return (
            f"{type(self).__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
            f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
            f"antialias={self.antialias})"
        )


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability p."""

    _repr_attrs = ("p",)

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        self._check(img)
        return F.hflip(img) if rand() < self.p else img


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability p."""

    def forward(self, img):
        self._check(img)
        return F.vflip(img) if rand() < self.p else img


class Pad(Transform):
    """Pad every side by ``padding`` (p, (lr, tb) or (l, t, r, b)) with ``fill`` or edge / reflect /
    symmetric padding."""

    _repr_attrs = ("padding", "fill", "padding_mode")

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        self._check(img)
        return F.pad(img, self.padding, self.fill, self.padding_mode)


class FiveCrop(Transform):
    """The four corner crops and the central crop, as a tuple of 5 images."""

    _repr_attrs = ("size",)

    def __init__(self, size):
        super().__init__()
        self.size = setup_size(size, error_msg=_SIZE_MSG)

    def forward(self, img):
        self._check(img)
        return F.five_crop(img, self.size)


class TenCrop(Transform):
    """FiveCrop of the image and of its mirror image (vertical when ``vertical_flip``): 10 images."""

    _repr_attrs = ("size", "vertical_flip")

    def __init__(self, size, vertical_flip=False):
        super().__init__()
        self.size = setup_size(size, error_msg=_SIZE_MSG)
        self.vertical_flip = vertical_flip

    def forward(self, img):
        self._check(img)
        return F.ten_crop(img, self.size, self.vertical_flip)


def _check_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _check_center(center):
    if center is not None:
        check_sequence_input(center, "center", req_sizes=(2,))
    return center


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (d means (-d, d)), counter-clockwise."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        super().__init__()
        self.interpolation = interpolation_mode(interpolation, "RandomRotation")
        self.degrees = setup_angle(degrees, name="degrees", req_sizes=(2,))
        self.center, self.expand, self.fill = _check_center(center), expand, _check_fill(fill)

    @staticmethod
    def get_params(degrees):
        return uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img):
        self._check(img)
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, _warp_fill(img, self.fill))

    def __repr__(self):
        return (
            f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, "
            f"expand={self.expand}" + (f", center={self.center}" if self.center is not None else "")
            + (f", fill={self.fill}" if self.fill is not None else "") + ")"
        )


class RandomAffine(Transform):
    """A random affine map keeping the centre fixed: rotation from ``degrees``, translation up to
    ``translate`` = (a, b) of the width / height, scale from ``scale`` = (lo, hi), shear (degrees) from
    ``shear`` (a number s for x in (-s, s); 2 values for x; 4 values for x then y)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        super().__init__()
        self.interpolation = interpolation_mode(interpolation, "RandomAffine")
        self.degrees = setup_angle(degrees, name="degrees", req_sizes=(2,))
        if translate is not None:
            check_sequence_input(translate, "translate", req_sizes=(2,))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translation values should be between 0 and 1")
        if scale is not None:
            check_sequence_input(scale, "scale", req_sizes=(2,))
            if any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else setup_angle(shear, name="shear", req_sizes=(2, 4))
        self.fill, self.center = _check_fill(fill), _check_center(center)

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)); img_size is [width, height]."""
        angle = uniform(float(degrees[0]), float(degrees[1]))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(uniform(-max_dx, max_dx))), int(round(uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        self._check(img)
        img_size = F.get_image_size(img)
        angle, translate, scale, shear = self.get_params(self.degrees, self.translate, self.scale, self.shear, img_size)
        return F.affine(img, angle, list(translate), scale, list(shear), self.interpolation,
                        _warp_fill(img, self.fill), self.center)

    def __repr__(self):
        parts = [f"degrees={self.degrees}"]
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={getattr(self, name)}")
        if self.interpolation != InterpolationMode.NEAREST:
            parts.append(f"interpolation={self.interpolation.value}")
        if self.fill != 0:
            parts.append(f"fill={self.fill}")
        if self.center is not None:
            parts.append(f"center={self.center}")
        return f"{type(self).__name__}({', '.join(parts)})"


class RandomPerspective(Transform):
    """With probability p, move each corner inwards by up to ``distortion_scale`` of half the side and
    warp the image accordingly."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR, fill=0):
        super().__init__()
        self.p, self.distortion_scale = p, distortion_scale
        self.interpolation = interpolation_mode(interpolation, "RandomPerspective")
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(width, height, distortion_scale):
        """(startpoints, endpoints): the image corners and where they go, clockwise from top-left."""
        half_height, half_width = height // 2, width // 2
        dx, dy = int(distortion_scale * half_width), int(distortion_scale * half_height)
        topleft = [randint(0, dx + 1), randint(0, dy + 1)]
        topright = [randint(width - dx - 1, width), randint(0, dy + 1)]
        botright = [randint(width - dx - 1, width), randint(height - dy - 1, height)]
        botleft = [randint(0, dx + 1), randint(height - dy - 1, height)]
        startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return startpoints, [topleft, topright, botright, botleft]

    def forward(self, img):
        self._check(img)
        fill = _warp_fill(img, self.fill)
        if rand() < self.p:
            width, height = F.get_image_size(img)
            startpoints, endpoints = self.get_params(width, height, self.distortion_scale)
            return F.perspective(img, startpoints, endpoints, self.interpolation, fill)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"
