"""The classic CNNs: LeNet-5 as published (1998), AlexNet and ZFNet, VGG, NiN.

Parity with torch re-implementations written here (float64, forward and backward: output, input gradient,
every parameter gradient and buffer), LeCun's parameter and connection counts, torchvision's parameter
totals and state_dict keys, and one SGD step on every model's small (28×28 / 32×32) variant.

Full-size models are built with the random initialisers switched off (``no_init``): counting parameters and
listing keys needs shapes, not values, and drawing VGG-16's 138 M random numbers takes seconds. Their
parameters are then uninitialised memory that nothing reads.
"""

import math
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as tF

import ember
import ember.models as models
import ember.optim
from ember import nn
from ember.models.lenet_classic import C3_TABLE, EuclideanRBF, PartialConv2d, Subsampling, map_loss
from helpers import check_module

FAMILY = ["lenet5_classic", "alexnet", "zfnet", "nin", "vgg11", "vgg13", "vgg16", "vgg19",
          "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]


@contextmanager
def no_init():
    """Build models without drawing their random weights (the values are then garbage nothing reads, or
    weights copied from torch)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("default_layer_init_", "kaiming_normal_", "normal_", "constant_", "xavier_uniform_", "zeros_"):
            mp.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield


@pytest.fixture(scope="module")
def full_size():
    """The full-size (224×224, 1000 classes) models, built once."""
    with no_init():
        built = {name: models.create(name) for name in FAMILY[1:]}
        built["alexnet_paper"] = models.create("alexnet", paper=True)
        built["alexnet_paper_dense"] = models.create("alexnet", paper=True, groups=1)
    return built


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# ---- LeNet-5 as published ------------------------------------------------------------------------------

# Table I of LeCun et al. 1998, as printed: rows are S2 maps 0-5, columns C3 maps 0-15.
TABLE_I = """
X . . . X X X . . X X X X . X X
X X . . . X X X . . X X X X . X
X X X . . . X X X . . X . X X X
. X X X . . X X X X . . X . X X
. . X X X . . X X X X . X X . X
. . . X X X . . X X X X . X X X
"""


def table_one():
    """Table I read column by column: the S2 maps each C3 map is connected to."""
    rows = [line.split() for line in TABLE_I.strip().splitlines()]
    return [tuple(s2 for s2 in range(6) if rows[s2][c3] == "X") for c3 in range(16)]


def test_c3_connection_table_is_table_one():
    rows = [line.split() for line in TABLE_I.strip().splitlines()]
    assert list(C3_TABLE) == table_one()
    assert [len(inputs) for inputs in C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    mask = models.create("lenet5_classic").c3.mask
    np.testing.assert_array_equal(mask.T, [[x == "X" for x in row] for row in rows])


PAPER_COUNTS = {  # LeCun et al. 1998, Section II.B: (parameters, connections)
    "c1": (156, 122_304), "s2": (12, 5_880), "c3": (1_516, 151_600), "s4": (32, 2_000),
    "c5": (48_120, 48_120), "f6": (10_164, 10_164), "output": (840, 840),
}


@pytest.mark.parametrize("input_size", [32, 28])
def test_lenet5_classic_parameters_and_connections_are_the_papers(input_size):
    model = models.create("lenet5_classic", input_size=input_size)
    per_layer = {}
    for name, p in model.named_parameters():
        per_layer[name.split(".")[0]] = per_layer.get(name.split(".")[0], 0) + p.numel()
    assert per_layer == {k: params for k, (params, _) in PAPER_COUNTS.items()}
    # The custom layers count their own connections (the count_ops protocol of ember.tools.summary) ...
    assert model.s2.count_ops((1, 6, 28, 28), (1, 6, 14, 14)) == {"macs": 1_176, "connections": 5_880}
    assert model.c3.count_ops((1, 6, 14, 14), (1, 16, 10, 10)) == {"macs": 150_000, "connections": 151_600}
    assert model.s4.count_ops((1, 16, 10, 10), (1, 16, 5, 5))["connections"] == 2_000
    assert model.output.count_ops((1, 84), (1, 10)) == {"macs": 840, "connections": 840}
    # ... and the model's own table, from one forward pass, gives every row of the paper and its totals.
    table = model.layer_counts()
    assert {k: (row["params"], row["connections"]) for k, row in table.items()} == PAPER_COUNTS
    assert sum(row["trainable"] for row in table.values()) == 60_000  # "60,000 trainable parameters"
    assert sum(row["connections"] for row in table.values()) == 340_908  # "340,908 connections"
    assert not model.output.weight.requires_grad and set(np.unique(model.output.weight.detach().numpy())) == {-1.0, 1.0}


def test_lenet5_classic_summary_counts_the_papers_connections():
    from ember.tools.summary import summary

    rows = {r.name: r for r in summary(models.create("lenet5_classic"), (1, 32, 32)).rows}
    assert {k: rows[k].connections for k in PAPER_COUNTS} == {k: c for k, (_, c) in PAPER_COUNTS.items()}


class TSubsampling(tnn.Module):
    """4 × the 2×2 mean = the sum the paper describes, × a coefficient per map, + a bias per map."""

    def __init__(self, channels):
        super().__init__()
        self.weight = tnn.Parameter(torch.randn(channels))
        self.bias = tnn.Parameter(torch.randn(channels))

    def forward(self, x):
        return 4 * tF.avg_pool2d(x, 2) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class TPartialConv(tnn.Module):
    """C3 the slow, literal way: one single-channel convolution per connection of the table, summed per map."""

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.weight = tnn.Parameter(torch.randn(sum(map(len, table)), 5, 5))
        self.bias = tnn.Parameter(torch.randn(len(table)))

    def forward(self, x):
        maps, k = [], 0
        for o, inputs in enumerate(self.table):
            total = self.bias[o]
            for c in inputs:
                total = total + tF.conv2d(x[:, c : c + 1], self.weight[k].view(1, 1, 5, 5))
                k += 1
            maps.append(total)
        return torch.cat(maps, dim=1)


class TRBF(tnn.Module):
    def __init__(self):
        super().__init__()
        self.weight = tnn.Parameter(torch.randint(0, 2, (10, 84)).double() * 2 - 1, requires_grad=False)

    def forward(self, x):
        return ((x[:, None, :] - self.weight[None]) ** 2).sum(-1)


class TLeNet5Classic(tnn.Module):
    def __init__(self, padding, table):
        super().__init__()
        self.c1 = tnn.Conv2d(1, 6, 5, padding=padding)
        self.s2 = TSubsampling(6)
        self.c3 = TPartialConv(table)
        self.s4 = TSubsampling(16)
        self.c5 = tnn.Conv2d(16, 120, 5)
        self.f6 = tnn.Linear(120, 84)
        self.output = TRBF()

    def forward(self, x):
        f = lambda a: 1.7159 * torch.tanh(2 * a / 3)
        x = f(self.s4(f(self.c3(f(self.s2(f(self.c1(x))))))))
        x = f(self.f6(f(self.c5(x)).flatten(1)))
        return -self.output(x)


@pytest.mark.parametrize("input_size", [32, 28])
def test_lenet5_classic_matches_torch(input_size):
    reference = TLeNet5Classic(padding=(32 - input_size) // 2, table=table_one())
    model = models.create("lenet5_classic", input_size=input_size)
    check_module(model, reference, [(3, 1, input_size, input_size)])


def test_lenet5_classic_trains_with_cross_entropy_and_keeps_its_codes():
    ember.manual_seed(0)
    model = models.create("lenet5_classic", input_size=28)
    codes = model.output.weight.detach().numpy().copy()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = ember.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)
    x, y = ember.randn(16, 1, 28, 28), ember.randint(0, 10, (16,))
    losses = []
    for _ in range(10):
        loss = nn.CrossEntropyLoss()(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert model.output.weight.grad is None
    np.testing.assert_array_equal(model.output.weight.detach().numpy(), codes)
    # The output is −(squared distance to each code): the largest logit is the nearest code.
    with ember.no_grad():
        logits = model(x).numpy()
    assert (logits <= 0).all()


def test_map_loss_is_equation_nine():
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 50, size=(4, 10))  # distances
    target = np.array([3, 0, 9, 5])
    j = 7.0
    expected = np.mean(y[np.arange(4), target] + np.log(np.exp(-j) + np.exp(-y).sum(axis=1)))
    logits = ember.Tensor(-y, requires_grad=True)
    loss = map_loss(logits, ember.Tensor(target), j)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    loss.backward()
    t = torch.tensor(-y, requires_grad=True)
    tF.cross_entropy(torch.cat([t, torch.full((4, 1), -j, dtype=torch.float64)], 1), torch.tensor(target)).backward()
    np.testing.assert_allclose(logits.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_lenet_layers_by_themselves():
    assert math.isclose(1.7159 * math.tanh(2 / 3), 1.0, abs_tol=1e-4)  # f(1) = 1: why A and S
    sub = Subsampling(3)
    x = ember.randn(2, 3, 4, 6)
    manual = x.numpy().reshape(2, 3, 2, 2, 3, 2).sum(axis=(3, 5)) * sub.weight.detach().numpy()[:, None, None] \
        + sub.bias.detach().numpy()[:, None, None]
    np.testing.assert_allclose(sub(x).detach().numpy(), manual, rtol=1e-5)
    rbf = EuclideanRBF(5, 3)
    v = ember.randn(4, 5)
    np.testing.assert_allclose(rbf(v).numpy(), ((v.numpy()[:, None] - rbf.weight.detach().numpy()[None]) ** 2).sum(-1),
                               rtol=1e-5)
    conv = PartialConv2d(3, 2, 3, [(0, 2), (1,)])
    assert conv.weight.shape == (3, 3, 3) and conv.dense_weight().detach().numpy()[0, 1].tolist() == [[0.0] * 3] * 3
    with pytest.raises(ValueError, match="row 1"):
        PartialConv2d(3, 2, 3, [(0,), (0, 3)])
    with pytest.raises(ValueError, match="at most 32"):
        models.create("lenet5_classic", input_size=64)


# ---- AlexNet and ZFNet ---------------------------------------------------------------------------------


def t_alexnet(convs, pools, norm, ceil_mode, pool_size, hidden, num_classes, in_channels=3):
    """torchvision's AlexNet layout from (out, kernel, stride, padding, groups); norm: None, 'before', 'after'."""
    layers, c = [], in_channels
    for i, (out, k, s, p, g) in enumerate(convs):
        layers += [tnn.Conv2d(c, out, k, s, p, groups=g), tnn.ReLU(inplace=True)]
        lrn = [tnn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)] if norm and i < 2 else []
        pool = [tnn.MaxPool2d(3, 2, ceil_mode=ceil_mode)] if i in pools else []
        layers += lrn + pool if norm == "before" else pool + lrn
        c = out
    model = tnn.Sequential()
    model.add_module("features", tnn.Sequential(*layers))
    model.add_module("avgpool", tnn.AdaptiveAvgPool2d(pool_size))
    model.add_module("flatten", tnn.Flatten())
    model.add_module("classifier", tnn.Sequential(
        tnn.Dropout(0.0), tnn.Linear(c * pool_size[0] * pool_size[1], hidden), tnn.ReLU(inplace=True),
        tnn.Dropout(0.0), tnn.Linear(hidden, hidden), tnn.ReLU(inplace=True), tnn.Linear(hidden, num_classes)))
    return model


def test_alexnet_matches_torchvision_layout():
    """torchvision's AlexNet, in two checks that together cover it and take a second, not the 13 s of
    comparing 61 M gradients: the full-width features on two 64×64 images, and the whole model (features,
    avgpool, flatten, classifier) in its small form, whose layout is the same, on 28×28 images."""
    convs = [(64, 11, 4, 2, 1), (192, 5, 1, 2, 1), (384, 3, 1, 1, 1), (256, 3, 1, 1, 1), (256, 3, 1, 1, 1)]
    reference = t_alexnet(convs, (0, 1, 4), None, False, (6, 6), 4096, 10)
    with no_init():
        model = models.create("alexnet", num_classes=10, input_size=224)
    check_module(model.features, reference.features, [(2, 3, 64, 64)])
    small = [(32, 3, 1, 1, 1), (96, 5, 1, 2, 1), (192, 3, 1, 1, 1), (128, 3, 1, 1, 1), (128, 3, 1, 1, 1)]
    check_module(models.create("alexnet", num_classes=10, in_channels=1, input_size=28, dropout=0.0),
                 t_alexnet(small, (0, 1, 4), None, False, (2, 2), 512, 10, in_channels=1), [(2, 1, 28, 28)])


def test_alexnet_paper_and_zfnet_small_match_torch():
    paper = [(48, 3, 1, 1, 1), (128, 5, 1, 2, 2), (192, 3, 1, 1, 1), (192, 3, 1, 1, 2), (128, 3, 1, 1, 2)]
    check_module(models.create("alexnet", num_classes=10, in_channels=1, input_size=28, paper=True, dropout=0.0),
                 t_alexnet(paper, (0, 1, 4), "before", False, (2, 2), 512, 10, in_channels=1), [(2, 1, 28, 28)])
    zf = [(48, 3, 1, 1, 1), (128, 5, 2, 2, 1), (192, 3, 1, 1, 1), (192, 3, 1, 1, 1), (128, 3, 1, 1, 1)]
    check_module(models.create("zfnet", num_classes=10, in_channels=3, input_size=32, dropout=0.0),
                 t_alexnet(zf, (0, 1, 4), "after", True, (2, 2), 512, 10), [(2, 3, 32, 32)])


def test_zfnet_full_size_geometry_is_the_papers():
    with no_init():
        features = models.create("zfnet", num_classes=10, lrn=False).features
    for p in features.parameters():
        p.array[...] = 0
    sides, x = [], ember.zeros(1, 3, 224, 224)
    with ember.no_grad():
        for layer in features:
            x = layer(x)
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
                sides.append(x.shape[-1])
    assert sides == [110, 55, 26, 13, 13, 13, 13, 6]  # Figure 3 of Zeiler & Fergus
    conv1 = features[0]
    assert (conv1.out_channels, conv1.kernel_size, conv1.stride) == (96, (7, 7), (2, 2))


def test_alexnet_options_place_lrn_and_groups_as_the_paper():
    types = [type(m).__name__ for m in models.create("alexnet", lrn=True, num_classes=10, input_size=32).features]
    assert types[:8] == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d"] * 2
    lrn = models.create("alexnet", lrn=True, num_classes=10, input_size=32).features[2]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 2.0)
    zf = [type(m).__name__ for m in models.create("zfnet", num_classes=10, input_size=32).features]
    assert zf[:8] == ["Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm"] * 2
    convs = [m for m in models.create("alexnet", paper=True, num_classes=10, input_size=32).features
             if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]


@pytest.mark.parametrize("name", ["alexnet", "zfnet"])
def test_small_alexnets_are_he_initialised(name):
    ember.manual_seed(0)
    model = models.create(name, num_classes=10, in_channels=1, input_size=28)
    conv = [m for m in model.features if isinstance(m, nn.Conv2d)][3]
    fan_out = conv.out_channels * 9
    assert abs(conv.weight.detach().numpy().std() / math.sqrt(2 / fan_out) - 1) < 0.02
    fc = model.classifier[4]
    assert abs(fc.weight.detach().numpy().std() / math.sqrt(2 / 512) - 1) < 0.02
    assert not any(m.bias.detach().numpy().any() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


ALEXNET_KEYS = ([f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias")]
                + [f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")])


def test_alexnet_totals_and_keys_are_torchvisions(full_size):
    assert n_params(full_size["alexnet"]) == 61_100_840
    assert list(full_size["alexnet"].state_dict()) == ALEXNET_KEYS
    shapes = {k: tuple(v.shape) for k, v in full_size["alexnet"].state_dict().items()}
    assert shapes["features.0.weight"] == (64, 3, 11, 11) and shapes["classifier.1.weight"] == (4096, 9216)
    assert n_params(full_size["alexnet_paper"]) == 60_965_224  # Caffe's reference AlexNet: two groups
    assert n_params(full_size["alexnet_paper_dense"]) == 62_378_344
    assert n_params(full_size["zfnet"]) == 62_357_608


# ---- VGG -----------------------------------------------------------------------------------------------

VGG_TOTALS = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
              "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992, "vgg19_bn": 143_678_248}

# torchvision's indices of the convolutions in ``features`` (with BN, the BatchNorm2d sits right after each).
VGG_CONVS = {
    "vgg11": [0, 3, 6, 8, 11, 13, 16, 18],
    "vgg13": [0, 2, 5, 7, 10, 12, 15, 17, 20, 22],
    "vgg16": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28],
    "vgg19": [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34],
    "vgg11_bn": [0, 4, 8, 11, 15, 18, 22, 25],
    "vgg13_bn": [0, 3, 7, 10, 14, 17, 21, 24, 28, 31],
    "vgg16_bn": [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40],
    "vgg19_bn": [0, 3, 7, 10, 14, 17, 20, 23, 27, 30, 33, 36, 40, 43, 46, 49],
}


@pytest.mark.parametrize("name", list(VGG_TOTALS))
def test_vgg_totals_and_keys_are_torchvisions(full_size, name):
    model = full_size[name]
    assert n_params(model) == VGG_TOTALS[name]
    keys = []
    for i in VGG_CONVS[name]:
        keys += [f"features.{i}.weight", f"features.{i}.bias"]
        if name.endswith("_bn"):
            keys += [f"features.{i + 1}.{k}" for k in ("weight", "bias", "running_mean", "running_var",
                                                      "num_batches_tracked")]
    keys += [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert list(model.state_dict()) == keys
    assert len(model.features) == VGG_CONVS[name][-1] + (4 if name.endswith("_bn") else 3)  # ... ReLU, MaxPool
    assert model.avgpool.output_size == (7, 7)
    assert tuple(model.classifier[0].weight.shape) == (4096, 512 * 7 * 7)
    assert [type(m).__name__ for m in model.classifier] == ["Linear", "ReLU", "Dropout"] * 2 + ["Linear"]


def t_vgg(cfg, batch_norm, in_channels):
    """torchvision's make_layers, re-typed."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers.append(tnn.Conv2d(in_channels, v, 3, padding=1))
            layers += [tnn.BatchNorm2d(v)] if batch_norm else []
            layers.append(tnn.ReLU(inplace=True))
            in_channels = v
    return tnn.Sequential(*layers)


def test_vgg11_bn_full_size_features_match_torch():
    """The full-width VGG-11-BN feature extractor (9.2 M parameters) on two 32×32 images (five pools: 1×1)."""
    cfg = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
    with no_init():
        model = models.create("vgg11_bn", num_classes=10, input_size=224)
    check_module(model.features, t_vgg(cfg, True, 3), [(2, 3, 32, 32)])


def test_vgg11_bn_small_matches_torch():
    """The whole small VGG-11-BN: widths / 4, three pools (28 → 14 → 7 → 3), classifier 1152 → 512 → 512."""
    reference = tnn.Sequential(OrderedDict(
        features=t_vgg([16, "M", 32, "M", 64, 64, "M", 128, 128, 128, 128], True, 1),
        avgpool=tnn.AdaptiveAvgPool2d((3, 3)), flatten=tnn.Flatten(),
        classifier=tnn.Sequential(tnn.Linear(128 * 9, 512), tnn.ReLU(), tnn.Dropout(0.0), tnn.Linear(512, 512),
                                  tnn.ReLU(), tnn.Dropout(0.0), tnn.Linear(512, 10))))
    model = models.create("vgg11_bn", num_classes=10, in_channels=1, input_size=28, dropout=0.0)
    check_module(model, reference, [(2, 1, 28, 28)])


def test_vgg_initialisation_is_torchvisions():
    from ember.models.vgg import VGG, make_layers

    ember.manual_seed(0)
    model = VGG(make_layers([64, "M", 128, 128], batch_norm=True), num_classes=10, pool_size=(1, 1), hidden=512)
    conv = model.features[-3]  # 128 → 128, 3×3: 147,456 weights
    std = math.sqrt(2 / (128 * 9))  # kaiming_normal_, fan_out, relu
    assert abs(conv.weight.detach().numpy().std() / std - 1) < 0.02
    assert abs(conv.weight.detach().numpy().mean()) < 0.01 * std
    assert abs(model.classifier[3].weight.detach().numpy().std() / 0.01 - 1) < 0.02  # N(0, 0.01)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            assert not m.bias.detach().numpy().any()
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.detach().numpy() == 1).all()
    # The small variant's classifier is He-initialised (see the vgg module docstring).
    small = models.create("vgg11", num_classes=10, input_size=32).classifier[3]
    assert abs(small.weight.detach().numpy().std() / math.sqrt(2 / 512) - 1) < 0.02


# ---- NiN -----------------------------------------------------------------------------------------------


def t_nin(widths, first, num_classes, in_channels):
    def block(i, o, k, s, p):
        return tnn.Sequential(tnn.Conv2d(i, o, k, s, p), tnn.ReLU(), tnn.Conv2d(o, o, 1), tnn.ReLU(),
                              tnn.Conv2d(o, o, 1), tnn.ReLU())

    w1, w2, w3 = widths
    return tnn.Sequential(OrderedDict(
        features=tnn.Sequential(block(in_channels, w1, *first), tnn.MaxPool2d(3, 2), block(w1, w2, 5, 1, 2),
                                tnn.MaxPool2d(3, 2), block(w2, w3, 3, 1, 1), tnn.MaxPool2d(3, 2), tnn.Dropout(0.0),
                                block(w3, num_classes, 3, 1, 1)),
        avgpool=tnn.AdaptiveAvgPool2d((1, 1)), flatten=tnn.Flatten()))


def test_nin_matches_torch():
    check_module(models.create("nin", num_classes=10, input_size=224, dropout=0.0),
                 t_nin((96, 256, 384), (11, 4, 0), 10, 3), [(2, 3, 96, 96)])
    check_module(models.create("nin", num_classes=10, in_channels=1, input_size=28, dropout=0.0),
                 t_nin((24, 64, 96), (3, 1, 1), 10, 1), [(2, 1, 28, 28)])


def test_nin_has_no_fully_connected_layer():
    model = models.create("nin", num_classes=10)
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert n_params(model) == 2_015_398
    assert list(model.state_dict())[:6] == ["features.0.0.weight", "features.0.0.bias", "features.0.2.weight",
                                            "features.0.2.bias", "features.0.4.weight", "features.0.4.bias"]


# ---- every model: registered, small variants train -------------------------------------------------------


def test_registered_with_the_cli_signature():
    assert set(FAMILY) <= set(models.list())
    for name in FAMILY:
        accepted = models.signature(name)
        assert {"num_classes", "in_channels", "input_size"} <= set(accepted), name


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 32)])
def test_one_sgd_step_on_the_small_variant(name, channels, size):
    ember.manual_seed(0)
    model = models.create(name, num_classes=10, in_channels=channels, input_size=size)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    before = {n: p.detach().numpy().copy() for n, p in trainable}
    opt = ember.optim.SGD([p for _, p in trainable], lr=0.01, momentum=0.9)
    x, y = ember.randn(2, channels, size, size), ember.tensor([3, 7])
    out = model(x)
    assert out.shape == (2, 10) and out.dtype == ember.float32
    loss = nn.CrossEntropyLoss()(out, y)
    opt.zero_grad()
    loss.backward()
    for n, p in trainable:
        assert p.grad is not None and p.grad.shape == p.shape, n
        assert np.isfinite(p.grad.numpy()).all(), n
    opt.step()
    assert any(not np.array_equal(before[n], p.detach().numpy()) for n, p in trainable)
    assert np.isfinite(loss.item())
