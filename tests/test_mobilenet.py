"""MobileNetV2 against a torch twin written after torchvision/models/mobilenetv2.py (torchvision itself is not
installed here): the same state_dict keys and shapes in the same order, the same forward and gradients with
copied weights, torchvision's parameter count, and ``ember summary``'s counts."""

import numpy as np
import pytest
import torch
from torch import nn as tnn

import ember
from ember import models
from ember.cli import main
from ember.models.mobilenet import InvertedResidual, make_divisible

from helpers import check_module

TORCHVISION_PARAMETERS = 3_504_872  # torchvision.models.mobilenet_v2() (its documentation: 3.5 M, 0.30 GFLOPS)


# ---- the twin: torchvision's modules, in torch ------------------------------------------------------------


def _conv_bn_relu6(inp, oup, kernel=3, stride=1, groups=1):
    return tnn.Sequential(tnn.Conv2d(inp, oup, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True))


class TorchInvertedResidual(tnn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        self.use_res_connect = stride == 1 and inp == oup
        layers = [_conv_bn_relu6(inp, hidden, 1)] if t != 1 else []
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, hidden), tnn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                   tnn.BatchNorm2d(oup)]
        self.conv = tnn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class TorchMobileNetV2(tnn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                   [6, 320, 1, 1]]
        inp, features = 32, [_conv_bn_relu6(3, 32, stride=2)]
        for t, c, n, s in setting:
            for i in range(n):
                features.append(TorchInvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        features.append(_conv_bn_relu6(inp, 1280, 1))
        self.features = tnn.Sequential(*features)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

    def forward(self, x):
        x = tnn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# ---- the tests ------------------------------------------------------------------------------------------------


def test_parameter_count_is_torchvisions():
    model = models.create("mobilenet_v2")
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_PARAMETERS
    assert sum(p.numel() for p in TorchMobileNetV2().parameters()) == TORCHVISION_PARAMETERS


def test_state_dict_keys_and_shapes_are_torchvisions_in_order():
    ours = [(k, tuple(v.shape)) for k, v in models.create("mobilenet_v2").state_dict().items()]
    theirs = [(k, tuple(v.shape)) for k, v in TorchMobileNetV2().state_dict().items()]
    assert ours == theirs
    known = dict(ours)  # a few keys as torchvision's checkpoint names them
    assert known["features.0.0.weight"] == (32, 3, 3, 3)
    assert known["features.1.conv.0.0.weight"] == (32, 1, 3, 3)  # t = 1: no expansion, depthwise first
    assert known["features.1.conv.1.weight"] == (16, 32, 1, 1)
    assert known["features.2.conv.0.0.weight"] == (96, 16, 1, 1)
    assert known["features.18.0.weight"] == (1280, 320, 1, 1)
    assert known["classifier.1.weight"] == (1000, 1280)
    assert known["features.17.conv.2.weight"] == (320, 960, 1, 1)


def test_forward_and_gradients_match_the_torch_twin():
    torch.manual_seed(0)
    twin = TorchMobileNetV2(num_classes=7).eval()  # eval: dropout off (its mask would differ), BN on statistics
    with torch.no_grad():  # non-trivial running statistics, so the eval-mode BN is really tested
        for m in twin.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    model = models.create("mobilenet_v2", num_classes=7).eval()
    check_module(model, twin, [(2, 3, 64, 64)])


def test_training_mode_batch_statistics_match_the_twin():
    twin = TorchMobileNetV2(num_classes=5)
    twin.classifier[0].p = 0.0  # the dropout masks of two libraries cannot agree
    model = models.create("mobilenet_v2", num_classes=5, dropout=0.0)
    # 52 batch norms on batch statistics of 4 samples (1×1 maps at the end) amplify float64 rounding to
    # ~1e-7 relative in the input gradient (seen here), hence the looser tolerance
    check_module(model, twin, [(4, 3, 32, 32)], rtol=1e-6, atol=1e-9)


def test_small_inputs_keep_resolution_with_the_same_keys():
    small = models.create("mobilenet_v2", num_classes=10, in_channels=1, input_size=28)
    big = models.create("mobilenet_v2", num_classes=10, in_channels=1)
    assert [k for k in small.state_dict()] == [k for k in big.state_dict()]
    assert small.features[0][0].stride == (1, 1) and small.features[2].stride == 1  # stride 8 instead of 32
    x = ember.randn(3, 1, 28, 28)
    assert tuple(small.features(x).shape) == (3, 1280, 4, 4)
    assert tuple(small(x).shape) == (3, 10)
    assert sum(p.numel() for p in small.parameters()) == TORCHVISION_PARAMETERS - 1000 * 1281 - 2 * 9 * 32 + 10 * 1281


def test_the_shortcut_is_used_exactly_where_shapes_agree():
    model = models.create("mobilenet_v2")
    blocks = [m for m in model.features if isinstance(m, InvertedResidual)]
    assert len(blocks) == 17
    assert [b.use_res_connect for b in blocks] == [False, False, True, False, True, True, False, True, True, True,
                                                   False, True, True, False, True, True, False]


@pytest.mark.parametrize("v, expected", [(32, 32), (32 * 0.5, 16), (32 * 0.35, 16), (1280 * 1.4, 1792), (10, 16),
                                         (3, 8), (100, 104)])
def test_make_divisible_is_torchvisions(v, expected):
    assert make_divisible(v) == expected


def test_ember_summary_counts(capsys):
    assert main(["summary", "mobilenet_v2"]) == 0
    out = capsys.readouterr().out
    assert "Params: 3,504,872 (3,504,872 trainable, 0 frozen)" in out
    assert "MACs: 300,774,272 (300.77 MMACs) per sample" in out  # torchvision: 0.30 GFLOPS (multiply-adds)
    assert main(["summary", "mobilenet_v2", "--input-size", "1", "28", "28", "--num-classes", "10"]) == 0
    assert "Params: 2,236,106 (2,236,106 trainable, 0 frozen)" in capsys.readouterr().out


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="inverted_residual_setting should be a non-empty list"):
        ember.models.mobilenet.MobileNetV2(inverted_residual_setting=[[1, 16, 1]])
    with pytest.raises(ValueError, match="stride should be 1 or 2, got 3"):
        InvertedResidual(16, 16, 3, 6)


def test_ember_train_runs_mobilenet_v2_end_to_end(tmp_path):
    assert main(["train", "mobilenet_v2", "--dataset", "digits-mini", "--train-size", "64", "--val-size", "50",
                 "--epochs", "1", "--batch-size", "32", "--out", str(tmp_path), "--no-progress"]) == 0
    from ember.train import checkpoint

    state = checkpoint.load(tmp_path / "last.npz")
    assert np.isfinite(state["history"][-1]["loss"])
