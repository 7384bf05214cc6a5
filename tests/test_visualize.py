"""ember.tools.visualize and ``ember visualize``: filters, feature maps, per-layer statistics, saliency,
Grad-CAM and the deconvnet, checked against hand computations and torch twins (same weights, float64)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from PIL import Image

import ember
import ember.nn as nn
from ember.cli import main
from ember.data.datasets import DigitsMini
from ember.models.lenet import LeNet5
from ember.tools import visualize as viz
from ember.vision.utils import make_grid, save_image
from tests.helpers import copy_weights


def small_net():
    """A LeNet-like pair of twins: ember and torch, the same float64 weights."""
    ember.manual_seed(0)
    torch.manual_seed(0)
    layers = lambda m: m.Sequential(  # noqa: E731
        m.Conv2d(2, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
        m.Conv2d(4, 5, 3), m.ReLU(), m.MaxPool2d(2),
        m.Flatten(), m.Linear(5 * 2 * 2, 3))
    theirs = layers(torch.nn).double().eval()
    ours = layers(nn).double().eval()
    copy_weights(theirs, ours)
    return ours, theirs


def images(n=3, c=2, size=12, seed=1):
    return np.random.default_rng(seed).standard_normal((n, c, size, size))


def png_size(path):
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


# ---- filters and feature maps ------------------------------------------------------------------------

def test_filter_grid_tiles_the_first_convolution_one_picture_per_filter():
    model = LeNet5()
    grid = viz.filter_grid(model).array
    cell = 12 * 5  # 5×5 kernels enlarged 12× (64 // 5) to about 64 pixels
    assert grid.shape == (3, 2 * (cell + 2) + 2, 3 * (cell + 2) + 2)  # 6 filters: 3 per row, 2 rows
    first = grid[0, 2 : 2 + cell, 2 : 2 + cell]
    assert first.min() == 0 and first.max() == 1  # each filter stretched over black..white
    weight = model.features[0].weight.array[0, 0]
    expected = (weight - weight.min()) / (weight.max() - weight.min())
    np.testing.assert_allclose(first[::12, ::12], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(grid[0], grid[2])  # grey: the plane three times


def test_filter_grid_of_colour_and_deeper_layers():
    rgb = nn.Sequential(nn.Conv2d(3, 4, 3))
    grid = viz.filter_grid(rgb, cell=3).array
    assert grid.shape == (3, 2 * 5 + 2, 2 * 5 + 2) and not np.array_equal(grid[0], grid[1])
    deep = viz.filter_grid(LeNet5(), "features.3", cell=5).array  # 16 filters × 6 input channels
    assert deep.shape == (3, 16 * 7 + 2, 6 * 7 + 2)
    with pytest.raises(ValueError, match="'features.1' \\(ReLU\\) has no 2-D convolution filters"):
        viz.filter_grid(LeNet5(), "features.1")


def test_make_grid_takes_torchvisions_old_range_name_and_refuses_unknown_keywords(tmp_path):
    x = ember.tensor(images(4, 3, 5))
    with pytest.warns(UserWarning, match="range will be deprecated, please use value_range instead"):
        old = make_grid(x, normalize=True, range=(-1, 1))
    np.testing.assert_array_equal(old.array, make_grid(x, normalize=True, value_range=(-1, 1)).array)
    with pytest.raises(TypeError, match="make_grid\\(\\) got an unexpected keyword argument 'nrows'"):
        make_grid(x, nrows=2)  # a typo used to be ignored silently
    with pytest.raises(TypeError, match="unexpected keyword argument 'normalise'"):
        save_image(x, tmp_path / "g.png", normalise=True)


def test_save_filters_writes_the_grid(tmp_path):
    model = LeNet5()
    path = viz.save_filters(model, tmp_path / "f.png")
    grid = viz.filter_grid(model).array
    assert png_size(path) == (grid.shape[2], grid.shape[1])


def test_feature_maps_are_the_layers_output_for_one_image(tmp_path):
    model, _ = small_net()
    x = ember.tensor(images(1))
    maps = viz.feature_maps(model, x, "1")
    expected = model[1](model[0](x)).array[0]
    np.testing.assert_array_equal(maps.array, expected)
    assert viz.feature_maps(model, x[0], "7").shape == (3,)  # one image (C, H, W); a linear layer: a vector
    png_size(viz.plot_feature_maps(maps, tmp_path / "maps.png", image=x[0]))
    png_size(viz.plot_feature_maps(viz.feature_maps(model, x, "7"), tmp_path / "vec.png"))
    with pytest.raises(ValueError, match="has no layer named 'conv9'; its layers are: 0, 1, 2"):
        viz.feature_maps(model, x, "conv9")
    with pytest.raises(ValueError, match="one image"):
        viz.feature_maps(model, ember.tensor(images(2)), "1")


# ---- per-layer statistics ----------------------------------------------------------------------------

def test_statistics_match_the_definitions_and_torchs_gradients(tmp_path):
    ember.manual_seed(0)
    torch.manual_seed(0)
    make = lambda m: m.Sequential(m.Linear(6, 8), m.Tanh(), m.Linear(8, 5), m.ReLU(), m.Dropout(0.5),  # noqa: E731
                                  m.Linear(5, 4), m.Sigmoid(), m.Linear(4, 3))
    theirs, ours = make(torch.nn).double().eval(), make(nn).double().eval()
    with torch.no_grad():
        theirs[0].weight.mul_(6.0)  # large weights: the tanh saturates in places
        theirs[2].bias[:2] = -50.0  # two ReLU units that no input lights: dead
    copy_weights(theirs, ours)
    x = np.random.default_rng(0).standard_normal((16, 6))
    y = np.arange(16) % 3
    stats = viz.layer_statistics(ours, ember.tensor(x), ember.tensor(y))
    assert [s.name for s in stats] == ["0", "1", "2", "3", "5", "6", "7"]  # Dropout only passes data on
    assert all(p.grad is None for p in ours.parameters())  # autograd.grad: no .grad was touched

    outputs, h = [], torch.tensor(x)
    for layer in theirs:
        h = layer(h)
        h.retain_grad()
        outputs.append(h)
    TF.cross_entropy(h, torch.tensor(y)).backward()
    by_name = {s.name: s for s in stats}
    for i in (0, 1, 2, 3, 5, 6, 7):
        s, t = by_name[str(i)], outputs[i]
        assert s.shape == tuple(t.shape)
        np.testing.assert_allclose([s.mean, s.std], [t.mean().item(), t.std(unbiased=False).item()], rtol=1e-9)
        np.testing.assert_allclose([s.grad_mean, s.grad_std], [t.grad.mean().item(),
                                                                t.grad.std(unbiased=False).item()], rtol=1e-7)
    tanh, relu, sigmoid = outputs[1].detach().numpy(), outputs[3].detach().numpy(), outputs[6].detach().numpy()
    assert by_name["1"].saturated == pytest.approx((np.abs(tanh) > 0.99).mean()) and by_name["1"].saturated > 0
    assert by_name["6"].saturated == pytest.approx(((sigmoid < 0.01) | (sigmoid > 0.99)).mean())
    assert by_name["3"].dead == pytest.approx((relu == 0).all(axis=0).mean()) and by_name["3"].dead >= 2 / 5
    assert by_name["0"].saturated is None and by_name["0"].dead is None

    table = viz.format_statistics(stats)
    assert table.splitlines()[0].split()[:3] == ["layer", "type", "output"]
    assert f"{100 * by_name['3'].dead:.1f}%" in table and "Tanh" in table and "16x8" in table
    png_size(viz.plot_statistics(stats, tmp_path / "stats.png"))
    png_size(viz.plot_statistics({"a": stats, "b": stats[:2]}, tmp_path / "two.png"))


def test_statistics_without_a_target_record_activations_only():
    model, _ = small_net()
    stats = viz.layer_statistics(model, ember.tensor(images()), layers=["0", "4"])
    assert [s.name for s in stats] == ["0", "4"] and stats[0].grad_std is None and stats[0].grads is None
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        viz.layer_statistics(model, ember.tensor(images()), layers=["nope"])


# ---- saliency and Grad-CAM ---------------------------------------------------------------------------

def test_saliency_is_the_absolute_input_gradient_max_over_channels():
    ours, theirs = small_net()
    x = images(3)
    target = [2, 0, 1]
    heat = viz.saliency(ours, ember.tensor(x), ember.tensor(target)).array
    tx = torch.tensor(x, requires_grad=True)
    theirs(tx)[torch.arange(3), torch.tensor(target)].sum().backward()
    np.testing.assert_allclose(heat, tx.grad.abs().amax(1).numpy(), rtol=1e-9, atol=1e-15)
    assert all(p.grad is None for p in ours.parameters())

    # By default the predicted class; and Ember's own backward through the same score gives the same map.
    ex = ember.tensor(x[:1], requires_grad=True)
    scores = ours(ex)
    scores[0, int(scores.array.argmax())].backward()
    np.testing.assert_array_equal(viz.saliency(ours, ember.tensor(x[0])).array, np.abs(ex.grad.array).max(1)[0])


def test_grad_cam_matches_a_torch_computation_and_is_a_non_negative_image_sized_map():
    ours, theirs = small_net()
    x = images(2)
    raw = viz.grad_cam(ours, ember.tensor(x), ember.tensor([1, 2]), layer="3", normalize=False,
                       upsample="stretch").array
    caught = {}
    theirs[3].register_forward_hook(lambda m, i, o: caught.update(a=o))
    scores = theirs(torch.tensor(x))
    (grad,) = torch.autograd.grad(scores[[0, 1], [1, 2]].sum(), caught["a"])
    cam = TF.relu((grad.mean((2, 3), keepdim=True) * caught["a"]).sum(1, keepdim=True))
    expected = TF.interpolate(cam, size=(12, 12), mode="bilinear", align_corners=False)[:, 0]
    np.testing.assert_allclose(raw, expected.detach().numpy(), rtol=1e-9, atol=1e-12)

    cam = viz.grad_cam(ours, ember.tensor(x[0])).array  # one image, the predicted class, the last conv's ReLU
    assert cam.shape == (12, 12) and cam.min() >= 0 and cam.max() in (0.0, 1.0)
    np.testing.assert_array_equal(cam, viz.grad_cam(ours, ember.tensor(x[0]), layer="4").array)
    assert not np.array_equal(cam, viz.grad_cam(ours, ember.tensor(x[0]), layer="3").array)
    with pytest.raises(ValueError, match="layer '7' should output feature maps"):
        viz.grad_cam(ours, ember.tensor(x), layer="7")


def test_display_image_brings_any_layout_to_what_imshow_takes():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(viz.display_image(rgb), rgb / 255.0)  # (H, W, C) uint8: /255
    chw = ember.tensor(np.moveaxis(rgb, 2, 0)[None].astype(np.float64))  # (1, C, H, W) floats: min..max
    np.testing.assert_allclose(viz.display_image(chw), (rgb - rgb.min()) / (rgb.max() - rgb.min()))
    grey = viz.display_image(np.array([[-2.0, 0.0], [1.0, 2.0]]), value_range=(-1, 1))
    np.testing.assert_array_equal(grey, [[0, 0.5], [1, 1]])
    assert viz.display_image(np.ones((2, 6, 6))).shape == (6, 6)  # two channels: their mean, in grey


def test_grad_cam_puts_each_value_at_its_receptive_fields_centre():
    ember.manual_seed(6)
    model = nn.Sequential(nn.Conv2d(1, 3, 5), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 8 * 8, 2)).double().eval()
    x = ember.tensor(images(1, 1, 12))
    cam = viz.grad_cam(model, x, 1, layer="1", normalize=False).array[0]  # (12, 12) from an 8 × 8 map
    maps = viz.feature_maps(model, x, "1").array
    weights = model[3].weight.array[1].reshape(3, 8, 8).mean(axis=(1, 2))  # dS/dA averaged: the Linear's row
    expected = np.maximum((weights[:, None, None] * maps).sum(0), 0)
    # A 5 × 5 valid convolution: output unit k is centred on input pixel k + 2; the border pixels repeat the edge.
    np.testing.assert_allclose(cam[2:10, 2:10], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cam[:2, 2:10], np.broadcast_to(expected[0], (2, 8)), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="upsample must be 'field' or 'stretch'"):
        viz.grad_cam(model, x, layer="1", upsample="nearest")


def test_plot_heatmap_writes_three_panels(tmp_path):
    digit = DigitsMini(train=False).data[0]
    assert png_size(viz.plot_heatmap(digit, np.random.rand(28, 28), tmp_path / "h.png", title="t")) == (950, 340)


# ---- deconvnet ---------------------------------------------------------------------------------------

def test_deconvnet_through_pooling_alone_puts_the_maximum_back_at_its_switch():
    x = images(1, 1, 6)
    p = viz.deconvnet(nn.Sequential(nn.MaxPool2d(2)), ember.tensor(x), "0")
    image = p.image.array
    assert image.shape == x.shape and np.count_nonzero(image) == 1  # every window but one routes nothing
    where = np.unravel_index(np.argmax(x), x.shape)
    assert image[where] == x.max() == p.activation
    assert p.position == (where[2] // 2, where[3] // 2) and p.channel == 0


def test_deconvnet_unpools_rectifies_and_filters_with_the_layers_own_weights():
    ember.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)).double()
    x = images(1, 1, 8)
    p = viz.deconvnet(model, ember.tensor(x), "2")
    image = p.image.array[0, 0]
    # The chosen switch sits at one input position; a 3×3 transposed filter reaches only its neighbours.
    pooled, indices = TF.max_pool2d(TF.relu(TF.conv2d(torch.tensor(x), torch.tensor(model[0].weight.array),
                                                      torch.tensor(model[0].bias.array), padding=1)), 2,
                                    return_indices=True)
    switch = int(indices[0, p.channel, p.position[0], p.position[1]])
    r, c = divmod(switch, 8)
    outside = np.ones((8, 8), bool)
    outside[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2] = False
    assert np.all(image[outside] == 0) and np.any(image[~outside] != 0)
    assert p.activation == pytest.approx(float(pooled.max()))


def test_deconvnet_matches_the_same_projection_in_torch():
    ember.manual_seed(4)
    torch.manual_seed(4)
    make = lambda m: m.Sequential(m.Conv2d(2, 4, 3, stride=2, padding=1), m.ReLU(),  # noqa: E731
                                  m.MaxPool2d(2), m.Conv2d(4, 3, 3), m.ReLU(), m.MaxPool2d(2, ceil_mode=True))
    theirs, ours = make(torch.nn).double().eval(), make(nn).double().eval()
    copy_weights(theirs, ours)
    x = images(1, 2, 17)
    p = viz.deconvnet(ours, ember.tensor(x), "5", channel=1)
    assert p.image.shape == x.shape and p.channel == 1

    t = torch.tensor(x)
    c1 = TF.relu(theirs[0](t))
    p1, i1 = TF.max_pool2d(c1, 2, return_indices=True)
    c2 = TF.relu(theirs[3](p1))
    p2, i2 = TF.max_pool2d(c2, 2, ceil_mode=True, return_indices=True)
    only = torch.zeros_like(p2)
    k = int(p2[0, 1].argmax())
    only[0, 1].view(-1)[k] = p2[0, 1].view(-1)[k]
    r = TF.relu(TF.max_unpool2d(only, i2, 2, output_size=c2.shape[2:]))
    r = TF.conv_transpose2d(r, theirs[3].weight)
    r = TF.relu(TF.max_unpool2d(r, i1, 2, output_size=c1.shape[2:]))
    r = TF.conv_transpose2d(r, theirs[0].weight, stride=2, padding=1, output_padding=0)
    assert r.shape == t.shape
    np.testing.assert_allclose(p.image.array, r.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert p.position == divmod(k, p2.shape[3])


@pytest.mark.parametrize("name, size", [("lenet5", 28), ("vgg11", 32)])
def test_deconvnet_reverses_the_zoos_sequential_conv_nets(name, size):
    from ember import models
    from ember.tools.layers import last_conv

    ember.manual_seed(0)
    channels = 1 if name == "lenet5" else 3
    model = models.create(name, num_classes=10, in_channels=channels, input_size=size).eval()
    x = ember.randn(1, channels, size, size)
    p = viz.deconvnet(model, x, last_conv(model, "test"))
    assert p.image.shape == x.shape and np.isfinite(p.image.array).all() and np.abs(p.image.array).max() > 0


def test_deconvnet_passes_over_local_response_norm_as_zfnet_did():
    ember.manual_seed(5)
    with_lrn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.LocalResponseNorm(3), nn.MaxPool2d(2)).double()
    without = nn.Sequential(with_lrn[0], with_lrn[1], nn.Identity(), nn.MaxPool2d(2))
    x = ember.tensor(images(1, 1, 9))
    a, b = viz.deconvnet(with_lrn, x, "3", channel=2), viz.deconvnet(without, x, "3", channel=2)
    # The normalisation changes the activation's value (here not the switches), and nothing on the way back.
    assert a.activation != b.activation and a.position == b.position
    np.testing.assert_allclose(a.image.array / a.activation, b.image.array / b.activation, rtol=1e-9, atol=1e-15)


class Skip(nn.Module):
    """Conv, ReLU, a skip connection, conv: leaves the deconvnet knows, wired as it cannot reverse."""

    def __init__(self):
        super().__init__()
        self.conv1, self.relu, self.conv2 = nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.relu(self.conv1(x)) + x)


def test_deconvnet_refuses_what_it_cannot_reverse_and_says_what():
    x = ember.tensor(images(1, 1, 8), dtype=ember.float32)
    viz.deconvnet(Skip(), x, "conv1")  # up to conv1 the layers do run in order
    with pytest.raises(NotImplementedError, match="does not run its layers one after another up to 'conv2'"):
        viz.deconvnet(Skip(), x, "conv2")
    bn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU()).eval()
    with pytest.raises(NotImplementedError, match="'1' \\(BatchNorm2d\\)"):
        viz.deconvnet(bn, x, "2")
    with pytest.raises(NotImplementedError, match="'classifier.0' \\(Flatten\\)"):
        viz.deconvnet(LeNet5(), ember.randn(1, 1, 28, 28), "classifier.1")
    dropout = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout(0.5), nn.ReLU())
    with pytest.raises(RuntimeError, match="'1' \\(Dropout\\) is in training mode .* call model.eval\\(\\) first"):
        viz.deconvnet(dropout, x, "2")
    assert viz.deconvnet(dropout.eval(), x, "2").image.shape == (1, 1, 8, 8)
    with pytest.raises(IndexError, match="channel must be in \\[0, 5\\]"):
        viz.deconvnet(LeNet5(), ember.randn(1, 1, 28, 28), "features.0", channel=6)
    p = viz.deconvnet(LeNet5().eval(), ember.randn(1, 28, 28), "features")  # a container: up to its last layer
    assert p.layer == "features.5" and p.image.shape == (1, 28, 28)


def test_plot_projections(tmp_path):
    model = LeNet5().eval()
    x = ember.randn(1, 1, 28, 28)
    projections = [viz.deconvnet(model, x, "features.3", channel=c) for c in range(3)]
    png_size(viz.plot_projections(x, projections, tmp_path / "d.png"))


# ---- the command line --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    assert main(["train", "lenet5", "--dataset", "digits-mini", "--train-size", "64", "--epochs", "1",
                 "--val-size", "100", "--out", str(run), "--no-progress"]) == 0
    return run / "best.npz"


def test_visualize_writes_every_picture(checkpoint, tmp_path, capsys):
    out = tmp_path / "viz"
    assert main(["visualize", str(checkpoint), "--index", "5", "--out", str(out), "--batch-size", "32"]) == 0
    printed = capsys.readouterr().out
    files = {"filters.png", "features-features.0.png", "stats.png", "stats.txt", "saliency.png", "gradcam.png",
             "deconv-features.3.png"}
    assert {p.name for p in out.iterdir()} == files
    for name in files - {"stats.txt"}:
        width, height = png_size(out / name)
        assert width > 100 and height > 80
    assert "digits-mini test image 5: predicted" in printed and ", true 1 - one" in printed
    table = (out / "stats.txt").read_text()
    assert table.startswith("32 digits-mini test images") and "features.4" in table and "classifier.5" in table


def test_visualize_an_image_file_and_a_chosen_layer(checkpoint, tmp_path, capsys):
    Image.fromarray(DigitsMini(train=False).data[0]).save(tmp_path / "digit.png")
    out = tmp_path / "viz"
    assert main(["visualize", str(checkpoint), "--image", str(tmp_path / "digit.png"), "--layer", "features.4",
                 "--what", "features,deconv", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"features-features.4.png", "deconv-features.4.png"}
    assert f"{tmp_path / 'digit.png'}: predicted" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--layer", "features.9"], "--layer: lenet5 has no layer named 'features.9'; its layers are: features, "),
    (["--layer", "classifier.1", "--what", "deconv"], "cannot reverse layer 'classifier.0' (Flatten)"),
    (["--index", "400"], "--index must be below the 400 images of the digits-mini test set, got 400"),
    (["--index", "-1"], "--index must be a whole number >= 0"),
    (["--what", "filters,colours"], "--what must be a comma-separated list of filters, features, stats"),
    (["--image", "a.png", "--index", "1"], "not allowed with argument --image"),
])
def test_visualize_mistakes_are_one_line_and_exit_2(checkpoint, tmp_path, capsys, argv, message):
    out = tmp_path / "viz"
    assert main(["visualize", str(checkpoint), "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ember visualize: error: ") and message in err and err.count("\n") == 1
    assert not out.exists()  # refused before anything was written


def test_a_model_without_convolutions_gets_what_it_can_and_a_note_on_the_rest(tmp_path, capsys):
    run, out = tmp_path / "mlp", tmp_path / "viz"
    assert main(["train", "mlp", "--dataset", "digits-mini", "--train-size", "64", "--epochs", "1",
                 "--val-size", "100", "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["visualize", str(run / "best.npz"), "--out", str(out), "--batch-size", "16"]) == 0
    assert {p.name for p in out.iterdir()} == {"stats.png", "stats.txt", "saliency.png"}
    printed = capsys.readouterr().out
    assert "gradcam: left out: mlp has no convolution (nn.Conv2d) to draw gradcam from" in printed
    assert main(["visualize", str(run / "best.npz"), "--out", str(out), "--what", "features",
                 "--layer", "layers.1"]) == 0  # a named layer needs no convolution: a linear layer's vector
    assert (out / "features-layers.1.png").exists()
    assert main(["visualize", str(run / "best.npz"), "--what", "gradcam"]) == 2  # asked for by name: refused
    assert "mlp has no convolution (nn.Conv2d) to draw gradcam from; --what stats,saliency work on any model" in (
        capsys.readouterr().err)
