"""ember.vision.transforms' API surface: torchvision's names, signatures and defaults, containers, Module
behaviour, lazy imports, a DataLoader pipeline, and ember.data.transforms handing PIL images over."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageOps

import ember
import ember.vision.transforms as T
import ember.vision.transforms.functional as F
from ember.data import transforms as DT

# torchvision v1's signatures (parameter names and defaults) for the classes of the brief.
SIGNATURES = {
    "Normalize": "(mean, std, inplace=False)",
    "Resize": "(size, interpolation=<InterpolationMode.BILINEAR: 'bilinear'>, max_size=None, antialias=True)",
    "CenterCrop": "(size)",
    "RandomCrop": "(size, padding=None, pad_if_needed=False, fill=0, padding_mode='constant')",
    "RandomResizedCrop": "(size, scale=(0.08, 1.0), ratio=(0.75, 1.3333333333333333), "
    "interpolation=<InterpolationMode.BILINEAR: 'bilinear'>, antialias=True)",
    "RandomHorizontalFlip": "(p=0.5)",
    "RandomVerticalFlip": "(p=0.5)",
    "RandomRotation": "(degrees, interpolation=<InterpolationMode.NEAREST: 'nearest'>, expand=False, center=None, fill=0)",
    "RandomAffine": "(degrees, translate=None, scale=None, shear=None, "
    "interpolation=<InterpolationMode.NEAREST: 'nearest'>, fill=0, center=None)",
    "RandomPerspective": "(distortion_scale=0.5, p=0.5, interpolation=<InterpolationMode.BILINEAR: 'bilinear'>, fill=0)",
    "ColorJitter": "(brightness=0, contrast=0, saturation=0, hue=0)",
    "Grayscale": "(num_output_channels=1)",
    "RandomGrayscale": "(p=0.1)",
    "Pad": "(padding, fill=0, padding_mode='constant')",
    "Lambda": "(lambd)",
    "RandomApply": "(transforms, p=0.5)",
    "RandomChoice": "(transforms, p=None)",
    "RandomOrder": "(transforms)",
    "GaussianBlur": "(kernel_size, sigma=(0.1, 2.0))",
    "RandomErasing": "(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)",
    "FiveCrop": "(size)",
    "TenCrop": "(size, vertical_flip=False)",
    "LinearTransformation": "(transformation_matrix, mean_vector)",
    "RandomInvert": "(p=0.5)",
    "RandomPosterize": "(bits, p=0.5)",
    "RandomSolarize": "(threshold, p=0.5)",
    "RandomAdjustSharpness": "(sharpness_factor, p=0.5)",
    "RandomAutocontrast": "(p=0.5)",
    "RandomEqualize": "(p=0.5)",
    "ToPILImage": "(mode=None)",
    "ConvertImageDtype": "(dtype)",
    "Compose": "(transforms)",
}

FUNCTIONAL = (
    "to_tensor pil_to_tensor to_pil_image convert_image_dtype normalize resize crop center_crop resized_crop hflip "
    "vflip rotate affine pad adjust_brightness adjust_contrast adjust_saturation adjust_hue adjust_gamma "
    "rgb_to_grayscale to_grayscale gaussian_blur erase five_crop ten_crop perspective invert posterize solarize "
    "adjust_sharpness autocontrast equalize get_image_size get_dimensions get_image_num_channels"
).split()


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_class_signatures_are_torchvisions(name):
    assert str(inspect.signature(getattr(T, name))) == SIGNATURES[name]


def test_every_name_is_exported_at_torchvisions_paths():
    import ember.vision.transforms.transforms as TT

    for name in list(SIGNATURES) + ["ToTensor", "PILToTensor", "InterpolationMode"]:
        assert getattr(T, name) is getattr(TT, name)
        assert name in T.__all__
    for name in FUNCTIONAL:
        assert callable(getattr(F, name)), name
    assert F.InterpolationMode is T.InterpolationMode
    assert T.InterpolationMode.BILINEAR.value == "bilinear"
    assert inspect.signature(F.resize).parameters["antialias"].default is True
    assert str(inspect.signature(F.normalize)) == "(tensor, mean, std, inplace=False)"
    assert str(inspect.signature(F.affine)) == (
        "(img, angle, translate, scale, shear, interpolation=<InterpolationMode.NEAREST: 'nearest'>, fill=None, center=None)"
    )


def test_transforms_are_modules_and_compose_with_sequential():
    assert isinstance(T.Resize(4), ember.nn.Module)
    x = ember.tensor(np.random.default_rng(0).random((3, 12, 12)).astype(np.float32))
    seq = ember.nn.Sequential(T.CenterCrop(10), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))
    out = seq(x)
    np.testing.assert_allclose(out.array, (x.array[:, 1:11, 1:11] - 0.5) / 0.5, rtol=1e-6)
    assert repr(T.Resize(256)) == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.Compose([T.ToTensor()])) == "Compose(\n    ToTensor()\n)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"


def test_containers():
    img = Image.fromarray(np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8))
    assert T.Lambda(lambda i: i.size)(img) == (8, 6)
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    mirror = np.asarray(ImageOps.mirror(img))
    np.testing.assert_array_equal(np.asarray(T.RandomApply([T.RandomHorizontalFlip(1)], p=1.0)(img)), mirror)
    assert T.RandomApply([T.RandomHorizontalFlip(1)], p=0.0)(img) is img
    ember.manual_seed(0)
    picks = {T.RandomChoice([T.Lambda(lambda i: "a"), T.Lambda(lambda i: "b")])(img) for _ in range(30)}
    assert picks == {"a", "b"}
    assert {T.RandomChoice([T.Lambda(lambda i: "a"), T.Lambda(lambda i: "b")], p=[0, 1])(img) for _ in range(10)} == {"b"}
    orders = {T.RandomOrder([T.Lambda(lambda s: s + "x"), T.Lambda(lambda s: s + "y")])("") for _ in range(30)}
    assert orders == {"xy", "yx"}
    with pytest.raises(TypeError, match="sequence"):
        T.RandomOrder(T.ToTensor())


def test_argument_validation_messages():
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(ValueError, match="Please provide only two dimensions"):
        T.CenterCrop((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either"):
        T.Pad(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="must be of len 2"):
        T.RandomRotation((1, 2, 3))
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="Random erasing probability"):
        T.RandomErasing(p=2)
    assert T.RandomAffine(10, shear=5).shear == [-5.0, 5.0]
    assert T.RandomRotation(10).degrees == [-10.0, 10.0]


def test_lazy_imports():
    code = (
        "import sys, ember.vision; assert 'ember.vision.transforms' not in sys.modules; "
        "import ember.vision.transforms as T; assert 'PIL' not in sys.modules, 'Pillow imported eagerly'; "
        "import ember; x = T.RandomHorizontalFlip(1)(ember.zeros(3, 4, 4)); assert 'PIL' not in sys.modules; "
        "assert ember.vision.transforms is T; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=".")
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


class Digits(ember.data.Dataset):
    """A torchvision-style dataset: PIL images, transform applied in __getitem__."""

    def __init__(self, transform):
        rs = np.random.default_rng(0)
        self.images = [Image.fromarray(rs.integers(0, 256, (28, 28), dtype=np.uint8), "L") for _ in range(10)]
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.transform(self.images[index]), index % 3


def test_dataloader_pipeline_is_reproducible():
    tf = T.Compose([T.RandomResizedCrop(32, scale=(0.5, 1.0)), T.RandomRotation(10), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])

    def epoch(seed):
        ember.manual_seed(seed)
        return [x.array for x, _ in ember.data.DataLoader(Digits(tf), batch_size=4, shuffle=True)]

    first, second = epoch(1), epoch(1)
    assert first[0].shape == (4, 1, 32, 32) and first[0].dtype == np.float32
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], epoch(2)[0])


# ---- ember.data.transforms and PIL images -------------------------------------------------------------------------------


def test_data_transforms_hand_pil_images_to_vision():
    red = Image.new("RGB", (10, 6), (255, 0, 0))
    out = DT.RandomHorizontalFlip(p=1)(red)
    assert isinstance(out, Image.Image) and (np.asarray(out) == [255, 0, 0]).all()
    assert (np.asarray(DT.RandomVerticalFlip(p=1)(red)) == [255, 0, 0]).all()
    digit = Image.fromarray(np.random.default_rng(2).integers(0, 256, (28, 28), dtype=np.uint8), "L")
    assert DT.Compose([DT.Resize(224), DT.ToTensor()])(digit).shape == (1, 224, 224)
    photo = Image.fromarray(np.random.default_rng(3).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    resized = DT.Resize(256)(photo)
    assert resized.size == (341, 256)
    np.testing.assert_array_equal(np.asarray(resized), np.asarray(photo.resize((341, 256), Image.BILINEAR)))
    x = DT.ToTensor()(photo)
    assert x.shape == (3, 300, 400)
    np.testing.assert_allclose(x.array, np.asarray(photo).transpose(2, 0, 1) / 255, rtol=1e-6)
    assert DT.CenterCrop(100)(photo).size == (100, 100)
    assert DT.RandomCrop(32, padding=4)(photo).size == (32, 32)
    assert DT.RandomResizedCrop(64)(photo).size == (64, 64)
    assert DT.Grayscale()(photo).mode == "L"
    assert DT.RandomGrayscale(p=1)(photo).mode == "RGB"
    jitter = DT.ColorJitter(brightness=(1.5, 1.5))(photo)
    np.testing.assert_array_equal(np.asarray(jitter), np.asarray(F.adjust_brightness(photo, 1.5)))
    assert DT.ToDtype(ember.float32, scale=True)(red).shape == (3, 6, 10)


def test_data_transforms_statistics_refuse_pil_with_the_fix():
    red = Image.new("RGB", (4, 4), (255, 0, 0))
    for transform in (DT.Normalize((0.5,), (0.5,)), DT.MinMaxScale(data_range=(0, 255))):
        with pytest.raises(TypeError, match=r"got a PIL Image.*ToTensor\(\).*ember.vision.transforms"):
            transform(red)
