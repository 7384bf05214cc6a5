"""ember.vision.transforms on PIL images: results equal Pillow's own operations (what torchvision's
functional_pil calls) and hand-computed values; PIL and Tensor paths agree."""

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

import ember
import ember.vision.transforms as T
import ember.vision.transforms.functional as F


def photo(width=53, height=37, seed=0, mode="RGB"):
    """A smooth random photo-like image (noise is the worst case for resampling filters)."""
    rs = np.random.default_rng(seed)
    small = rs.integers(0, 256, (height // 4 + 2, width // 4 + 2, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((width, height), Image.BILINEAR)
    return img.convert(mode)


def noise(width=23, height=17, seed=1):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def as_hwc(tensor):
    return tensor.array.transpose(1, 2, 0)


# ---- conversion -------------------------------------------------------------------------------------------------


def test_to_tensor_of_pil_is_chw_over_255():
    img = noise()
    x = T.ToTensor()(img)
    assert isinstance(x, ember.Tensor) and x.dtype == np.float32 and x.shape == (3, 17, 23)
    np.testing.assert_allclose(x.array, np.asarray(img).transpose(2, 0, 1) / 255, rtol=1e-6)


def test_to_tensor_modes_and_arrays():
    grey = noise().convert("L")
    assert T.ToTensor()(grey).shape == (1, 17, 23)
    binary = grey.convert("1")
    np.testing.assert_array_equal(T.ToTensor()(binary).array[0], np.asarray(binary).astype(np.float32))
    arr = np.random.default_rng(2).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    np.testing.assert_allclose(T.ToTensor()(arr).array, arr.transpose(2, 0, 1) / 255, rtol=1e-6)
    floats = np.random.default_rng(3).random((5, 7)).astype(np.float64)
    out = T.ToTensor()(floats)  # non-uint8 arrays keep dtype and values (torchvision)
    assert out.shape == (1, 5, 7) and out.dtype == np.float64
    np.testing.assert_array_equal(out.array[0], floats)


def test_pil_to_tensor_and_to_pil_image_round_trip():
    img = noise()
    x = T.PILToTensor()(img)
    assert x.dtype == np.uint8 and x.shape == (3, 17, 23)
    np.testing.assert_array_equal(as_hwc(x), np.asarray(img))
    back = T.ToPILImage()(x)
    assert back.mode == "RGB" and back.size == img.size
    np.testing.assert_array_equal(np.asarray(back), np.asarray(img))
    # float Tensors: (x * 255) truncated to uint8, as torchvision
    f = ember.tensor(np.array([[[0.5, 1.0], [0.0, 0.999]]], dtype=np.float32))
    grey = T.ToPILImage()(f)
    assert grey.mode == "L"
    np.testing.assert_array_equal(np.asarray(grey), [[127, 255], [0, 254]])
    rgba = T.ToPILImage()(np.zeros((4, 4, 4), dtype=np.uint8))
    assert rgba.mode == "RGBA"
    assert T.ToPILImage()(np.zeros((4, 4), dtype=np.float32), ).mode == "L"
    with pytest.raises(ValueError, match="channels"):
        T.ToPILImage()(ember.zeros(5, 4, 4))


# ---- geometry ----------------------------------------------------------------------------------------------------


def test_horizontal_flip_of_red_stays_red_and_is_mirror():
    red = Image.new("RGB", (10, 6), (255, 0, 0))
    out = T.RandomHorizontalFlip(p=1)(red)
    assert isinstance(out, Image.Image) and out.size == (10, 6)
    assert (np.asarray(out) == [255, 0, 0]).all()
    img = noise()
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=1)(img)), np.asarray(ImageOps.mirror(img)))
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1)(img)), np.asarray(ImageOps.flip(img)))
    assert T.RandomHorizontalFlip(p=0)(img) is img


def test_resize_smaller_edge_keeps_aspect_ratio_like_pillow():
    img = photo(400, 300)
    out = T.Resize(256)(img)
    assert out.size == (341, 256)  # int(256 * 400 / 300) = 341
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((341, 256), Image.BILINEAR)))
    portrait = photo(300, 400)
    assert T.Resize(256)(portrait).size == (256, 341)
    assert T.Resize([256])(portrait).size == (256, 341)
    assert T.Resize((100, 50))(img).size == (50, 100)  # (h, w)
    assert T.Resize(100, max_size=120)(img).size == (120, 90)  # the long edge capped: int(120 * 100 / 133)
    near = T.Resize(30, interpolation=T.InterpolationMode.NEAREST)(img)
    np.testing.assert_array_equal(np.asarray(near), np.asarray(img.resize((40, 30), Image.NEAREST)))
    bicubic = T.Resize(30, interpolation=Image.BICUBIC)(img)  # Pillow's integer constants are accepted
    np.testing.assert_array_equal(np.asarray(bicubic), np.asarray(img.resize((40, 30), Image.BICUBIC)))
    assert T.Resize(300)(img) is img  # already the size: unchanged, as torchvision


def test_resize_tensor_matches_pil_within_rounding():
    img = photo(120, 90)
    for size in (45, 200):
        pil = np.asarray(T.Resize(size)(img)).astype(int)
        tensor = as_hwc(T.Resize(size)(T.PILToTensor()(img))).astype(int)
        assert pil.shape == tensor.shape
        # Pillow rounds the horizontal pass to uint8 before the vertical one: at most 1 apart here
        assert np.abs(pil - tensor).max() <= 1


def test_compose_resize_to_tensor_on_small_digit():
    digit = Image.fromarray(np.random.default_rng(4).integers(0, 256, (28, 28), dtype=np.uint8), "L")
    x = T.Compose([T.Resize(224), T.ToTensor()])(digit)
    assert x.shape == (1, 224, 224) and x.dtype == np.float32
    assert 0.0 <= float(x.array.min()) and float(x.array.max()) <= 1.0


def test_center_crop_geometry_and_padding():
    img = noise(23, 17)
    out = T.CenterCrop(10)(img)
    top, left = round((17 - 10) / 2), round((23 - 10) / 2)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img)[top : top + 10, left : left + 10])
    out = T.CenterCrop((5, 8))(img)
    assert out.size == (8, 5)
    big = T.CenterCrop(21)(img)  # larger than the image: zero padding around it
    assert big.size == (21, 21)
    arr = np.asarray(big)
    assert (arr[:2] == 0).all() and (arr[:, 21 - 0 :] == 0).all()
    np.testing.assert_array_equal(arr[2:19, 0:21], np.asarray(img)[:, 1:22])


def test_pad_modes_like_numpy_and_imageops():
    img = noise(9, 7)
    a = np.asarray(img)
    out = T.Pad(2)(img)
    assert out.size == (13, 11)
    np.testing.assert_array_equal(np.asarray(out), np.pad(a, ((2, 2), (2, 2), (0, 0))))
    out = T.Pad((1, 2), fill=(10, 20, 30))(img)  # (left/right, top/bottom)
    assert out.size == (11, 11)
    assert (np.asarray(out)[0, 0] == [10, 20, 30]).all()
    out = T.Pad((1, 2, 3, 4))(img)  # left, top, right, bottom
    assert out.size == (9 + 4, 7 + 6)
    np.testing.assert_array_equal(np.asarray(out)[2:9, 1:10], a)
    for mode in ("edge", "reflect", "symmetric"):
        out = np.asarray(T.Pad(3, padding_mode=mode)(img))
        np.testing.assert_array_equal(out, np.pad(a, ((3, 3), (3, 3), (0, 0)), mode=mode))
    cropped = F.pad(img, [-1, -2, 0, 0])  # negative padding crops
    np.testing.assert_array_equal(np.asarray(cropped), a[2:, 1:])


def test_pad_keeps_palette_images_paletted():
    p = noise(7, 6).convert("P")
    for mode in ("constant", "reflect"):
        out = T.Pad(2, padding_mode=mode)(p)
        assert out.mode == "P" and out.getpalette() == p.getpalette()
        np.testing.assert_array_equal(np.asarray(out)[2:8, 2:9], np.asarray(p))


def test_five_crop_and_ten_crop_positions():
    img = noise(23, 17)
    a = np.asarray(img)
    tl, tr, bl, br, center = T.FiveCrop((6, 8))(img)
    np.testing.assert_array_equal(np.asarray(tl), a[:6, :8])
    np.testing.assert_array_equal(np.asarray(tr), a[:6, -8:])
    np.testing.assert_array_equal(np.asarray(bl), a[-6:, :8])
    np.testing.assert_array_equal(np.asarray(br), a[-6:, -8:])
    np.testing.assert_array_equal(np.asarray(center), np.asarray(T.CenterCrop((6, 8))(img)))
    ten = T.TenCrop(5)(img)
    assert len(ten) == 10
    np.testing.assert_array_equal(np.asarray(ten[5]), a[:5, ::-1][:, :5])  # top-left of the mirror image
    ten_v = T.TenCrop(5, vertical_flip=True)(img)
    np.testing.assert_array_equal(np.asarray(ten_v[5]), a[::-1][:5, :5])
    with pytest.raises(ValueError, match="bigger than input size"):
        T.FiveCrop(30)(img)


def test_random_crop_padding_and_pad_if_needed():
    img = noise(9, 7)
    ember.manual_seed(0)
    out = T.RandomCrop(9, padding=4)(img)
    assert out.size == (9, 9)
    out = T.RandomCrop((10, 12), pad_if_needed=True)(img)
    assert out.size == (12, 10)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(20)(img)
    # without padding, the crop is a window of the image
    out = np.asarray(T.RandomCrop(4)(img))
    a = np.asarray(img)
    assert any((a[i : i + 4, j : j + 4] == out).all() for i in range(4) for j in range(6))


def test_rotate_and_affine_like_pillow():
    img = noise()
    np.testing.assert_array_equal(np.asarray(F.rotate(img, 30)), np.asarray(img.rotate(30)))
    expanded = T.RandomRotation((45, 45), expand=True)(img)
    assert expanded.size == img.rotate(45, expand=True).size
    # a pure translation by whole pixels shifts the image
    shifted = np.asarray(F.affine(img, 0.0, [2, 1], 1.0, [0.0, 0.0]))
    np.testing.assert_array_equal(shifted[1:, 2:], np.asarray(img)[:-1, :-2])
    assert (shifted[0] == 0).all() and (shifted[:, :2] == 0).all()
    filled = np.asarray(F.affine(img, 0.0, [2, 1], 1.0, 0.0, fill=(1, 2, 3)))
    assert (filled[0] == [1, 2, 3]).all()


def test_perspective_identity_and_fill():
    img = noise()
    w, h = img.size
    corners = [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]
    same = F.perspective(img, corners, corners, T.InterpolationMode.NEAREST)
    np.testing.assert_array_equal(np.asarray(same), np.asarray(img))
    # Pillow's bilinear is fixed-point: the identity map comes back within 1
    assert np.abs(np.asarray(F.perspective(img, corners, corners)).astype(int) - np.asarray(img)).max() <= 1
    ember.manual_seed(1)
    out = T.RandomPerspective(distortion_scale=0.5, p=1.0, fill=7)(img)
    assert out.size == img.size and (np.asarray(out) == 7).any()


# ---- colour -------------------------------------------------------------------------------------------------------


def test_color_jitter_with_fixed_factors_equals_image_enhance():
    img = photo()
    pairs = [
        (T.ColorJitter(brightness=(1.3, 1.3)), ImageEnhance.Brightness(img).enhance(1.3)),
        (T.ColorJitter(contrast=(0.6, 0.6)), ImageEnhance.Contrast(img).enhance(0.6)),
        (T.ColorJitter(saturation=(1.7, 1.7)), ImageEnhance.Color(img).enhance(1.7)),
    ]
    for jitter, expected in pairs:
        np.testing.assert_array_equal(np.asarray(jitter(img)), np.asarray(expected))
    # hue: H of Pillow's HSV shifted by int(0.1 * 255) mod 256
    h, s, v = img.convert("HSV").split()
    shifted = Image.fromarray(((np.asarray(h).astype(int) + 25) % 256).astype(np.uint8), "L")
    expected = Image.merge("HSV", (shifted, s, v)).convert("RGB")
    np.testing.assert_array_equal(np.asarray(T.ColorJitter(hue=(0.1, 0.1))(img)), np.asarray(expected))
    assert T.ColorJitter()(img) is img


def test_color_jitter_argument_checks():
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="single number or a list/tuple"):
        T.ColorJitter(contrast=(1, 2, 3))
    assert T.ColorJitter(brightness=0.5).brightness == (0.5, 1.5)
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)


def test_grayscale_is_itu_r_601_2():
    img = noise()
    a = np.asarray(img).astype(np.float64)
    grey = T.Grayscale()(img)
    assert grey.mode == "L"
    luma = a[..., 0] * 299 / 1000 + a[..., 1] * 587 / 1000 + a[..., 2] * 114 / 1000
    assert np.abs(np.asarray(grey) - luma).max() <= 0.5 + 1e-6  # Pillow rounds the same sum
    np.testing.assert_array_equal(np.asarray(grey), np.asarray(img.convert("L")))
    three = T.Grayscale(num_output_channels=3)(img)
    assert three.mode == "RGB"
    b = np.asarray(three)
    assert (b[..., 0] == b[..., 1]).all() and (b[..., 1] == b[..., 2]).all()
    assert T.RandomGrayscale(p=1.0)(img).mode == "RGB"  # keeps the channel count
    assert T.RandomGrayscale(p=1.0)(img.convert("L")).mode == "L"


def test_imageops_transforms():
    img = photo()
    for transform, expected in [
        (T.RandomInvert(p=1), ImageOps.invert(img)),
        (T.RandomPosterize(3, p=1), ImageOps.posterize(img, 3)),
        (T.RandomSolarize(128, p=1), ImageOps.solarize(img, 128)),
        (T.RandomAutocontrast(p=1), ImageOps.autocontrast(img)),
        (T.RandomEqualize(p=1), ImageOps.equalize(img)),
        (T.RandomAdjustSharpness(2.0, p=1), ImageEnhance.Sharpness(img).enhance(2.0)),
    ]:
        np.testing.assert_array_equal(np.asarray(transform(img)), np.asarray(expected), err_msg=repr(transform))
        assert transform.__class__(*([transform.__dict__[k] for k in transform._repr_attrs[:-1]]), p=0)(img) is img


def test_gaussian_blur_pil_keeps_mode_and_smooths():
    img = noise()
    out = T.GaussianBlur(5, sigma=(1.0, 1.0))(img)
    assert out.mode == "RGB" and out.size == img.size
    assert np.asarray(out).astype(float).std() < np.asarray(img).astype(float).std()
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)


# ---- PIL and Tensor paths agree ---------------------------------------------------------------------------------------

AGREE_EXACT = [
    ("hflip", F.hflip),
    ("vflip", F.vflip),
    ("crop", lambda i: F.crop(i, 2, 3, 9, 11)),
    ("crop_outside", lambda i: F.crop(i, -2, -3, 9, 30)),
    ("center_crop", lambda i: F.center_crop(i, [8, 30])),
    ("pad", lambda i: F.pad(i, [1, 2, 3, 4], fill=9)),
    ("pad_reflect", lambda i: F.pad(i, 3, padding_mode="reflect")),
    ("pad_symmetric", lambda i: F.pad(i, [2, 1], padding_mode="symmetric")),
    ("pad_edge", lambda i: F.pad(i, 2, padding_mode="edge")),
    ("invert", F.invert),
    ("posterize", lambda i: F.posterize(i, 2)),
    ("solarize", lambda i: F.solarize(i, 100)),
    ("autocontrast", F.autocontrast),
    ("equalize", F.equalize),
    ("brightness", lambda i: F.adjust_brightness(i, 1.4)),
    ("blur", lambda i: F.gaussian_blur(i, [5, 3], [1.2, 0.8])),
    ("rotate90", lambda i: F.rotate(i, 90)),
    ("affine_nearest", lambda i: F.affine(i, 30.0, [3, -2], 1.2, [10.0, 5.0])),
]

# Pillow rounds blends, torch's .to(uint8) truncates them: one level apart at most.
AGREE_WITHIN_ONE = [
    ("sharpness", lambda i: F.adjust_sharpness(i, 1.8)),
    ("grayscale", F.rgb_to_grayscale),
    ("grayscale3", lambda i: F.rgb_to_grayscale(i, 3)),
    ("contrast", lambda i: F.adjust_contrast(i, 0.6)),
    ("saturation", lambda i: F.adjust_saturation(i, 1.5)),
]


@pytest.mark.parametrize("name, fn", AGREE_EXACT + AGREE_WITHIN_ONE, ids=[n for n, _ in AGREE_EXACT + AGREE_WITHIN_ONE])
def test_pil_and_tensor_paths_agree(name, fn):
    img = noise(23, 17) if name != "rotate90" else noise(19, 19)
    pil = np.asarray(fn(img)).astype(int)
    tensor = fn(T.PILToTensor()(img))
    assert isinstance(tensor, ember.Tensor) and tensor.dtype == np.uint8
    out = as_hwc(tensor).astype(int).reshape(pil.shape)
    tolerance = 0 if (name, fn) in AGREE_EXACT else 1
    assert np.abs(pil - out).max() <= tolerance, name


def test_normalize_agrees_on_to_tensor_of_pil():
    img = noise()
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    x = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(img)
    expected = (np.asarray(img).transpose(2, 0, 1) / 255 - np.reshape(mean, (3, 1, 1))) / np.reshape(std, (3, 1, 1))
    np.testing.assert_allclose(x.array, expected, rtol=1e-5, atol=1e-6)
    assert x.dtype == np.float32


# ---- reproducibility and errors ----------------------------------------------------------------------------------------


def _augment():
    return T.Compose([
        T.RandomResizedCrop(24),
        T.RandomHorizontalFlip(),
        T.ColorJitter(0.4, 0.4, 0.4, 0.1),
        T.RandomRotation(15),
        T.RandomApply([T.GaussianBlur(3)], p=0.5),
        T.ToTensor(),
        T.RandomErasing(p=0.5),
    ])


def test_seeded_pipeline_is_reproducible():
    img = photo(64, 48)
    ember.manual_seed(123)
    first = [_augment()(img).array for _ in range(3)]
    ember.manual_seed(123)
    second = [_augment()(img).array for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # successive draws differ


def test_draws_come_from_the_data_pipeline_generator():
    ember.manual_seed(5)
    model_stream = ember.backend.generator().bit_generator.state
    T.RandomResizedCrop(16)(photo())
    assert ember.backend.generator().bit_generator.state == model_stream  # the model's generator untouched
    with ember.data.rng_scope(7):
        a = T.RandomResizedCrop.get_params(photo(), (0.08, 1.0), (0.75, 4 / 3))
    with ember.data.rng_scope(7):
        b = T.RandomResizedCrop.get_params(photo(), (0.08, 1.0), (0.75, 4 / 3))
    assert a == b


def test_bad_inputs_name_the_transform_and_the_fix():
    arr = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(TypeError, match=r"RandomHorizontalFlip: expected a PIL Image or an ember Tensor.*ToTensor"):
        T.RandomHorizontalFlip()(arr)
    with pytest.raises(TypeError, match=r"Resize: expected an image Tensor of shape"):
        T.Resize(4)(ember.zeros(8))
    with pytest.raises(TypeError, match=r"Normalize: .*ToTensor\(\) before Normalize"):
        T.Normalize([0.5], [0.5])(Image.new("L", (4, 4)))
    with pytest.raises(TypeError, match=r"RandomErasing: .*after ToTensor"):
        T.RandomErasing()(Image.new("L", (4, 4)))
    with pytest.raises(TypeError, match=r"pic should be PIL Image or ndarray.*already a Tensor"):
        T.ToTensor()(ember.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), dtype=np.uint8))
    with pytest.raises(TypeError, match="ColorJitter"):
        T.ColorJitter(0.5)("image.png")
    with pytest.raises(TypeError, match="interpolation should be an InterpolationMode"):
        T.Resize(4, interpolation="cubic-ish")
