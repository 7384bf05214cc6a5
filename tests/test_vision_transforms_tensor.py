"""ember.vision.transforms on ember Tensors (C, H, W) and (B, C, H, W), against torch: torchvision's tensor
functions are thin wrappers over torch.nn.functional.interpolate / grid_sample / conv2d, so the torch
side below rebuilds those calls from torchvision's source (torchvision itself is not installed)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.vision.transforms as T
import ember.vision.transforms.functional as F
from ember.vision.transforms._resample import inverse_affine_matrix


def image(shape=(3, 19, 27), seed=0, dtype=np.float32):
    rs = np.random.default_rng(seed)
    if dtype == np.uint8:
        return ember.tensor(rs.integers(0, 256, shape, dtype=np.uint8))
    return ember.tensor(rs.random(shape).astype(dtype))


# ---- resize ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(8, 11), (40, 60), (19, 50)])
def test_resize_matches_torch_interpolate(mode, antialias, size):
    x = image((2, 3, 19, 27))
    out = F.resize(x, list(size), T.InterpolationMode(mode), antialias=antialias)
    expected = TF.interpolate(torch.from_numpy(x.array), size=size, mode=mode, align_corners=False, antialias=antialias)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out.array, expected.numpy(), atol=2e-5)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("shape, size", [((3, 240, 320), (24, 30)), ((3, 40, 48), (150, 170))])
def test_resize_banded_path_matches_torch(mode, shape, size):
    """Large shrinks and enlargements take the banded (gather) form instead of the GEMM."""
    x = image(shape)
    for antialias in (True, False):
        out = F.resize(x, list(size), T.InterpolationMode(mode), antialias=antialias)
        expected = TF.interpolate(torch.from_numpy(x.array[None]), size=size, mode=mode, align_corners=False, antialias=antialias)[0]
        np.testing.assert_allclose(out.array, expected.numpy(), atol=2e-5)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_resize_nearest_matches_torch(mode):
    x = image((3, 19, 27))
    for size in [(7, 9), (38, 54), (50, 20)]:
        out = F.resize(x, list(size), T.InterpolationMode(mode))
        expected = TF.interpolate(torch.from_numpy(x.array[None]), size=size, mode=mode)[0]
        np.testing.assert_array_equal(out.array, expected.numpy())


def test_resize_uint8_rounds_like_torchvision():
    x = image((3, 19, 27), dtype=np.uint8)
    out = T.Resize(10)(x)
    assert out.dtype == np.uint8 and out.shape == (3, 10, 14)  # int(10 * 27 / 19) = 14
    expected = TF.interpolate(torch.from_numpy(x.array[None]).float(), size=(10, 14), mode="bilinear",
                              align_corners=False, antialias=True)[0].round().to(torch.uint8)
    assert np.abs(out.array.astype(int) - expected.numpy()).max() <= 1  # float32 summation order at .5 ties


def test_resize_batch_and_errors():
    batch = image((4, 3, 30, 40))
    assert T.Resize(15)(batch).shape == (4, 3, 15, 20)
    assert T.Resize((12, 13))(batch).shape == (4, 3, 12, 13)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(batch, [10, 10], max_size=20)
    with pytest.raises(ValueError, match="strictly greater"):
        F.resize(batch, 20, max_size=20)
    with pytest.raises(ValueError, match="only supported for PIL"):
        F.resize(batch, 10, T.InterpolationMode.LANCZOS)


# ---- warps against grid_sample --------------------------------------------------------------------------------------


def torch_affine_grid(matrix, w, h, ow, oh):
    """torchvision's _gen_affine_grid."""
    theta = torch.tensor(matrix, dtype=torch.float32).reshape(1, 2, 3)
    d = 0.5
    base = torch.empty(1, oh, ow, 3)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + d, ow * 0.5 + d - 1, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + d, oh * 0.5 + d - 1, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h])
    return base.view(1, oh * ow, 3).bmm(rescaled).view(1, oh, ow, 2)


def torch_apply_grid(x, grid, mode, fill):
    """torchvision's _apply_grid_transform on a float batch."""
    grid = grid.expand(x.shape[0], *grid.shape[1:])
    if fill is not None:
        x = torch.cat((x, torch.ones((x.shape[0], 1, x.shape[2], x.shape[3]))), dim=1)
    out = TF.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        mask = mask.expand_as(out)
        fill_img = torch.tensor(fill, dtype=out.dtype).view(1, len(fill), 1, 1).expand_as(out)
        if mode == "nearest":
            out = torch.where(mask < 0.5, fill_img, out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    return out


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("fill", [None, [0.2, 0.5, 0.9]])
def test_affine_matches_grid_sample(mode, fill):
    x = image((2, 3, 19, 27))
    angle, translate, scale, shear = 30.0, [3, -2], 1.2, [10.0, 5.0]
    out = F.affine(x, angle, translate, scale, shear, T.InterpolationMode(mode), fill=fill)
    matrix = inverse_affine_matrix([0.0, 0.0], angle, [3.0, -2.0], scale, shear)
    expected = torch_apply_grid(torch.from_numpy(x.array), torch_affine_grid(matrix, 27, 19, 27, 19), mode, fill)
    # float32 grid coordinates in torch, float64 here: a handful of nearest picks may flip at .5 ties
    mismatch = np.abs(out.array - expected.numpy()) > 1e-4
    assert mismatch.mean() < 0.002


@pytest.mark.parametrize("expand", [False, True])
def test_rotate_matches_grid_sample(expand):
    x = image((3, 19, 27))
    out = F.rotate(x, 37.0, T.InterpolationMode.BILINEAR, expand=expand, center=None if expand else [10, 5])
    center_f = [0.0, 0.0] if expand else [10 - 27 * 0.5, 5 - 19 * 0.5]
    matrix = inverse_affine_matrix(center_f, -37.0, [0.0, 0.0], 1.0, [0.0, 0.0])
    oh, ow = out.shape[-2:]
    if expand:  # the bounding box of the rotated 27 x 19 rectangle, the size Pillow gives
        from PIL import Image

        assert (ow, oh) == Image.new("RGB", (27, 19)).rotate(37.0, expand=True).size == (33, 33)
        for angle in (10, 30, 45, 90):
            expected = Image.new("RGB", (27, 19)).rotate(angle, expand=True).size
            assert F.rotate(x, angle, expand=True).shape[::-1][:2] == expected
    expected = torch_apply_grid(torch.from_numpy(x.array[None]), torch_affine_grid(matrix, 27, 19, ow, oh), "bilinear", None)[0]
    np.testing.assert_allclose(out.array, expected.numpy(), atol=1e-4)


def test_rotate_90_is_rot90():
    x = image((3, 15, 15))
    np.testing.assert_allclose(F.rotate(x, 90).array, np.rot90(x.array, 1, axes=(1, 2)), atol=1e-6)


def test_perspective_matches_grid_sample():
    x = image((3, 19, 27))
    start = [[0, 0], [26, 0], [26, 18], [0, 18]]
    end = [[3, 2], [24, 1], [25, 16], [2, 17]]
    out = F.perspective(x, start, end, fill=[0.0, 0.0, 0.0])
    from ember.vision.transforms._resample import perspective_coeffs

    c = perspective_coeffs(start, end)
    theta1 = torch.tensor([[c[0], c[1], c[2]], [c[3], c[4], c[5]]], dtype=torch.float32).unsqueeze(0)
    theta2 = torch.tensor([[c[6], c[7], 1.0], [c[6], c[7], 1.0]], dtype=torch.float32).unsqueeze(0)
    h, w = 19, 27
    base = torch.empty(1, h, w, 3)
    base[..., 0].copy_(torch.linspace(0.5, w - 0.5, steps=w))
    base[..., 1].copy_(torch.linspace(0.5, h - 0.5, steps=h).unsqueeze_(-1))
    base[..., 2].fill_(1)
    g1 = base.view(1, h * w, 3).bmm(theta1.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h]))
    g2 = base.view(1, h * w, 3).bmm(theta2.transpose(1, 2))
    grid = (g1 / g2 - 1.0).view(1, h, w, 2)
    expected = torch_apply_grid(torch.from_numpy(x.array[None]), grid, "bilinear", [0.0, 0.0, 0.0])[0]
    np.testing.assert_allclose(out.array, expected.numpy(), atol=1e-4)


def test_gaussian_blur_matches_conv2d():
    x = image((2, 3, 19, 27))
    out = F.gaussian_blur(x, [5, 3], [1.3, 0.7])

    def kernel(k, s):
        t = torch.linspace(-(k - 1) * 0.5, (k - 1) * 0.5, steps=k)
        pdf = torch.exp(-0.5 * (t / s).pow(2))
        return pdf / pdf.sum()

    k2d = torch.mm(kernel(3, 0.7)[:, None], kernel(5, 1.3)[None, :]).expand(3, 1, 3, 5)
    padded = TF.pad(torch.from_numpy(x.array), [2, 2, 1, 1], mode="reflect")
    expected = TF.conv2d(padded, k2d, groups=3)
    np.testing.assert_allclose(out.array, expected.numpy(), atol=1e-6)
    assert F.gaussian_blur(x, 3).shape == x.shape  # sigma=None: 0.15 k + 0.35


# ---- colour and photometric ------------------------------------------------------------------------------------------


def test_colour_formulas_on_float_tensors():
    x = image((3, 6, 7))
    a = x.array.astype(np.float64)
    grey = 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]
    np.testing.assert_allclose(F.rgb_to_grayscale(x).array[0], grey, rtol=1e-5)
    np.testing.assert_allclose(T.Grayscale(3)(x).array, np.broadcast_to(grey, (3, 6, 7)), rtol=1e-5)
    np.testing.assert_allclose(F.adjust_brightness(x, 1.5).array, np.clip(1.5 * a, 0, 1), rtol=1e-5)
    np.testing.assert_allclose(F.adjust_contrast(x, 0.3).array, np.clip(0.3 * a + 0.7 * grey.mean(), 0, 1), rtol=1e-5)
    np.testing.assert_allclose(F.adjust_saturation(x, 2.0).array, np.clip(2 * a - grey, 0, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F.invert(x).array, 1 - a, rtol=1e-6)
    np.testing.assert_allclose(F.solarize(x, 0.5).array, np.where(a >= 0.5, 1 - a, a), rtol=1e-6)
    np.testing.assert_allclose(F.adjust_gamma(x, 2.0).array, a**2, rtol=1e-5)
    lo, hi = a.min(axis=(1, 2), keepdims=True), a.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(F.autocontrast(x).array, (a - lo) / (hi - lo), rtol=1e-5, atol=1e-6)


def test_adjust_hue_rotates_the_colour_wheel():
    red = ember.tensor(np.broadcast_to(np.array([1.0, 0, 0], dtype=np.float32)[:, None, None], (3, 2, 2)).copy())
    np.testing.assert_allclose(F.adjust_hue(red, 1 / 3).array[:, 0, 0], [0, 1, 0], atol=1e-6)  # red -> green
    np.testing.assert_allclose(F.adjust_hue(red, -1 / 3).array[:, 0, 0], [0, 0, 1], atol=1e-6)  # red -> blue
    x = image((3, 5, 5))
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).array, x.array, atol=1e-6)
    import colorsys

    r, g, b = x.array[:, 2, 3]
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    np.testing.assert_allclose(F.adjust_hue(x, 0.25).array[:, 2, 3], colorsys.hsv_to_rgb((h + 0.25) % 1, s, v), atol=1e-5)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        F.adjust_hue(x, 0.7)


def test_convert_image_dtype():
    u = image((3, 4, 4), dtype=np.uint8)
    f = T.ConvertImageDtype(ember.float32)(u)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.array, u.array / 255, rtol=1e-6)
    back = F.convert_image_dtype(f, ember.uint8)
    np.testing.assert_array_equal(back.array, u.array)  # x * (255 + 1 - 1e-3), truncated
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(f, ember.int32)


def test_normalize_and_inplace():
    x = image((2, 3, 4, 5))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(x)
    np.testing.assert_allclose(out.array, (x.array - np.reshape(mean, (3, 1, 1))) / np.reshape(std, (3, 1, 1)), rtol=1e-6)
    assert out.dtype == np.float32
    y = ember.tensor(x.array.copy())
    assert T.Normalize(mean, std, inplace=True)(y) is y
    np.testing.assert_allclose(y.array, out.array, rtol=1e-6)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize(mean, std)(image((3, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize(mean, (1.0, 0.0, 1.0))(x)


def test_uint8_only_operations():
    x = image((3, 5, 5))
    with pytest.raises(TypeError, match="only uint8"):
        F.posterize(x, 3)
    with pytest.raises(TypeError, match="only uint8"):
        F.equalize(x)
    u = image((3, 5, 5), dtype=np.uint8)
    np.testing.assert_array_equal(F.posterize(u, 3).array, u.array & 0b11100000)
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\]"):
        F.invert(image((4, 5, 5)))


# ---- random tensor transforms ---------------------------------------------------------------------------------------


def test_batch_gets_one_draw_like_torchvision():
    batch = image((4, 3, 8, 8))
    out = T.RandomHorizontalFlip(p=1.0)(batch)
    np.testing.assert_array_equal(out.array, batch.array[..., ::-1])
    ember.manual_seed(0)
    crops = T.RandomCrop(5)(batch)
    assert crops.shape == (4, 3, 5, 5)
    # one window, the same for every image of the batch
    found = [(r, c) for r in range(4) for c in range(4) if np.array_equal(batch.array[:, :, r : r + 5, c : c + 5], crops.array)]
    assert len(found) == 1


def test_random_erasing():
    x = image((3, 20, 20))
    ember.manual_seed(3)
    out = T.RandomErasing(p=1.0, value=0.5)(x)
    changed = np.any(out.array != x.array, axis=0)
    rows, cols = np.nonzero(changed)
    assert changed.sum() > 0 and (out.array[:, changed] == 0.5).all()
    box = out.array[:, rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert (box == 0.5).all()  # a rectangle
    assert np.array_equal(x.array, image((3, 20, 20)).array)  # not in place
    ember.manual_seed(3)
    a = T.RandomErasing(p=1.0, value="random")(x).array
    ember.manual_seed(3)
    np.testing.assert_array_equal(a, T.RandomErasing(p=1.0, value="random")(x).array)
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")


def test_linear_transformation_whitening():
    x = image((1, 2, 2))
    rs = np.random.default_rng(1)
    matrix, mean = rs.random((4, 4)).astype(np.float32), rs.random(4).astype(np.float32)
    out = T.LinearTransformation(ember.tensor(matrix), ember.tensor(mean))(x)
    np.testing.assert_allclose(out.array.reshape(-1), (x.array.reshape(-1) - mean) @ matrix, rtol=1e-5)
    with pytest.raises(ValueError, match="square"):
        T.LinearTransformation(ember.zeros(3, 4), ember.zeros(3))
    with pytest.raises(ValueError, match="incompatible shape"):
        T.LinearTransformation(ember.tensor(matrix), ember.tensor(mean))(image((3, 2, 2)))


def test_random_geometry_on_tensors_keeps_shape_and_dtype():
    x = image((3, 24, 32), dtype=np.uint8)
    ember.manual_seed(0)
    for t in [T.RandomRotation(20), T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
              T.RandomPerspective(p=1.0), T.ColorJitter(0.3, 0.3, 0.3, 0.05), T.GaussianBlur(3),
              T.RandomEqualize(p=1), T.RandomPosterize(4, p=1), T.RandomAutocontrast(p=1), T.RandomGrayscale(p=1)]:
        out = t(x)
        assert out.shape == (3, 24, 32) and out.dtype == np.uint8, repr(t)
    assert T.RandomResizedCrop(16)(x).shape == (3, 16, 16)
    assert T.RandomResizedCrop((10, 12), scale=(0.5, 0.5), ratio=(1.0, 1.0))(x).shape == (3, 10, 12)
    i, j, h, w = T.RandomResizedCrop.get_params(x, (0.08, 1.0), (3 / 4, 4 / 3))
    assert 0 <= i <= 24 - h and 0 <= j <= 32 - w
    # fallback when no box fits: a central crop narrowed to the ratio bounds
    assert T.RandomResizedCrop.get_params(image((3, 10, 100)), (2.0, 3.0), (1.0, 1.0)) == (0, 45, 10, 10)
    angles = [T.RandomRotation.get_params([-5.0, 5.0]) for _ in range(20)]
    assert all(-5.0 <= a <= 5.0 for a in angles) and len(set(angles)) == 20
