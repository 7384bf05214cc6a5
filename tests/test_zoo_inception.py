"""GoogLeNet and Inception v3: parity with torch twins of torchvision's modules (written out below, since
torchvision is not a dependency), state_dict keys and parameter totals as torchvision's, the training /
evaluation outputs with auxiliary heads, the auxiliary losses, and one SGD step on the small variants."""

import re

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember import models
from ember.models.googlenet import GoogLeNet, GoogLeNetOutputs, Inception, googlenet_loss
from ember.models.googlenet import InceptionAux as GoogLeNetAux
from ember.models.inception import (
    Inception3,
    InceptionA,
    InceptionAux,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
    InceptionOutputs,
    inception_loss,
)
from ember.optim import SGD
from helpers import check_module

# ---- torch twins of torchvision's modules (same module names, same registration order) --------------------


def _scale(width_mult):
    return lambda n: max(1, round(n * width_mult))


class TBasicConv2d(tnn.Module):
    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = tnn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = tnn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return TF.relu(self.bn(self.conv(x)))


class TInception(tnn.Module):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = TBasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = tnn.Sequential(TBasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                      TBasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = tnn.Sequential(TBasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                      TBasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                      TBasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TGoogLeNetAux(tnn.Module):
    def __init__(self, in_channels, num_classes, dropout=0.7, conv_channels=128, hidden=1024):
        super().__init__()
        self.conv = TBasicConv2d(in_channels, conv_channels, kernel_size=1)
        self.fc1 = tnn.Linear(conv_channels * 16, hidden)
        self.fc2 = tnn.Linear(hidden, num_classes)
        self.dropout = tnn.Dropout(p=dropout)

    def forward(self, x):
        x = torch.flatten(self.conv(TF.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(self.dropout(TF.relu(self.fc1(x))))


GOOGLENET_BLOCKS = [  # torchvision's inception3a ... inception5b
    ("3a", 192, 64, 96, 128, 16, 32, 32), ("3b", 256, 128, 128, 192, 32, 96, 64),
    ("4a", 480, 192, 96, 208, 16, 48, 64), ("4b", 512, 160, 112, 224, 24, 64, 64),
    ("4c", 512, 128, 128, 256, 24, 64, 64), ("4d", 512, 112, 144, 288, 32, 64, 64),
    ("4e", 528, 256, 160, 320, 32, 128, 128), ("5a", 832, 256, 160, 320, 32, 128, 128),
    ("5b", 832, 384, 192, 384, 48, 128, 128),
]


class TGoogLeNet(tnn.Module):
    """torchvision's GoogLeNet; small_input/width_mult/in_channels as Ember's variant."""

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, dropout=0.2, dropout_aux=0.7,
                 in_channels=3, small_input=False, width_mult=1.0):
        super().__init__()
        c = _scale(width_mult)
        self.aux_logits, self.transform_input = aux_logits, transform_input
        if small_input:
            self.conv1 = TBasicConv2d(in_channels, c(64), kernel_size=3, padding=1)
        else:
            self.conv1 = TBasicConv2d(in_channels, c(64), kernel_size=7, stride=2, padding=3)
        self.maxpool1 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TBasicConv2d(c(64), c(64), kernel_size=1)
        self.conv3 = TBasicConv2d(c(64), c(192), kernel_size=3, padding=1)
        self.maxpool2 = tnn.Identity() if small_input else tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        channels = c(192)
        for name, _, *widths in GOOGLENET_BLOCKS:
            widths = [c(n) for n in widths]
            setattr(self, f"inception{name}", TInception(channels, *widths))
            channels = widths[0] + widths[2] + widths[4] + widths[5]
            if name == "3b":
                self.maxpool3 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
            if name == "4e":
                self.maxpool4 = tnn.MaxPool2d(2, stride=2, ceil_mode=True)
            if name == "4a":
                aux1_in = channels
            if name == "4d":
                aux2_in = channels
        if aux_logits:
            self.aux1 = TGoogLeNetAux(aux1_in, num_classes, dropout_aux, c(128), c(1024))
            self.aux2 = TGoogLeNetAux(aux2_in, num_classes, dropout_aux, c(128), c(1024))
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(p=dropout)
        self.fc = tnn.Linear(channels, num_classes)

    def forward(self, x):
        if self.transform_input:
            x = torch.cat([torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
                           torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
                           torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5], 1)
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if self.training and self.aux_logits:
            return x, aux2, aux1
        return x


class TInceptionA(tnn.Module):
    def __init__(self, in_channels, pool_features, width_mult=1.0):
        super().__init__()
        c = _scale(width_mult)
        self.branch1x1 = TBasicConv2d(in_channels, c(64), kernel_size=1)
        self.branch5x5_1 = TBasicConv2d(in_channels, c(48), kernel_size=1)
        self.branch5x5_2 = TBasicConv2d(c(48), c(64), kernel_size=5, padding=2)
        self.branch3x3dbl_1 = TBasicConv2d(in_channels, c(64), kernel_size=1)
        self.branch3x3dbl_2 = TBasicConv2d(c(64), c(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = TBasicConv2d(c(96), c(96), kernel_size=3, padding=1)
        self.branch_pool = TBasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(TF.avg_pool2d(x, kernel_size=3, stride=1, padding=1))], 1)


class TInceptionB(tnn.Module):
    def __init__(self, in_channels, width_mult=1.0):
        super().__init__()
        c = _scale(width_mult)
        self.branch3x3 = TBasicConv2d(in_channels, c(384), kernel_size=3, stride=2)
        self.branch3x3dbl_1 = TBasicConv2d(in_channels, c(64), kernel_size=1)
        self.branch3x3dbl_2 = TBasicConv2d(c(64), c(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = TBasicConv2d(c(96), c(96), kernel_size=3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          TF.max_pool2d(x, kernel_size=3, stride=2)], 1)


class TInceptionC(tnn.Module):
    def __init__(self, in_channels, channels_7x7, width_mult=1.0):
        super().__init__()
        c, c7 = _scale(width_mult), channels_7x7
        self.branch1x1 = TBasicConv2d(in_channels, c(192), kernel_size=1)
        self.branch7x7_1 = TBasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = TBasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = TBasicConv2d(c7, c(192), kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = TBasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = TBasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = TBasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = TBasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = TBasicConv2d(c7, c(192), kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = TBasicConv2d(in_channels, c(192), kernel_size=1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = conv(bd)
        return torch.cat([self.branch1x1(x), b7, bd,
                          self.branch_pool(TF.avg_pool2d(x, kernel_size=3, stride=1, padding=1))], 1)


class TInceptionD(tnn.Module):
    def __init__(self, in_channels, width_mult=1.0):
        super().__init__()
        c = _scale(width_mult)
        self.branch3x3_1 = TBasicConv2d(in_channels, c(192), kernel_size=1)
        self.branch3x3_2 = TBasicConv2d(c(192), c(320), kernel_size=3, stride=2)
        self.branch7x7x3_1 = TBasicConv2d(in_channels, c(192), kernel_size=1)
        self.branch7x7x3_2 = TBasicConv2d(c(192), c(192), kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = TBasicConv2d(c(192), c(192), kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = TBasicConv2d(c(192), c(192), kernel_size=3, stride=2)

    def forward(self, x):
        b7 = self.branch7x7x3_1(x)
        for conv in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = conv(b7)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, TF.max_pool2d(x, kernel_size=3, stride=2)], 1)


class TInceptionE(tnn.Module):
    def __init__(self, in_channels, width_mult=1.0):
        super().__init__()
        c = _scale(width_mult)
        self.branch1x1 = TBasicConv2d(in_channels, c(320), kernel_size=1)
        self.branch3x3_1 = TBasicConv2d(in_channels, c(384), kernel_size=1)
        self.branch3x3_2a = TBasicConv2d(c(384), c(384), kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = TBasicConv2d(c(384), c(384), kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = TBasicConv2d(in_channels, c(448), kernel_size=1)
        self.branch3x3dbl_2 = TBasicConv2d(c(448), c(384), kernel_size=3, padding=1)
        self.branch3x3dbl_3a = TBasicConv2d(c(384), c(384), kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = TBasicConv2d(c(384), c(384), kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = TBasicConv2d(in_channels, c(192), kernel_size=1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        return torch.cat([self.branch1x1(x), b3, bd,
                          self.branch_pool(TF.avg_pool2d(x, kernel_size=3, stride=1, padding=1))], 1)


class TInceptionAux(tnn.Module):
    def __init__(self, in_channels, num_classes, width_mult=1.0):
        super().__init__()
        c = _scale(width_mult)
        self.conv0 = TBasicConv2d(in_channels, c(128), kernel_size=1)
        self.conv1 = TBasicConv2d(c(128), c(768), kernel_size=5)
        self.fc = tnn.Linear(c(768), num_classes)

    def forward(self, x):
        x = self.conv1(self.conv0(TF.avg_pool2d(x, kernel_size=5, stride=3)))
        return self.fc(torch.flatten(TF.adaptive_avg_pool2d(x, (1, 1)), 1))


class TInception3(tnn.Module):
    """torchvision's Inception3 (aux head included), with Ember's small_input/width_mult/in_channels."""

    def __init__(self, num_classes=1000, aux_logits=True, dropout=0.5, in_channels=3, small_input=False,
                 width_mult=1.0):
        super().__init__()
        c, w, pad = _scale(width_mult), dict(width_mult=width_mult), 1 if small_input else 0
        self.aux_logits = aux_logits
        self.Conv2d_1a_3x3 = TBasicConv2d(in_channels, c(32), kernel_size=3, stride=1 if small_input else 2,
                                          padding=pad)
        self.Conv2d_2a_3x3 = TBasicConv2d(c(32), c(32), kernel_size=3, padding=pad)
        self.Conv2d_2b_3x3 = TBasicConv2d(c(32), c(64), kernel_size=3, padding=1)
        self.maxpool1 = tnn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = TBasicConv2d(c(64), c(80), kernel_size=1)
        self.Conv2d_4a_3x3 = TBasicConv2d(c(80), c(192), kernel_size=3, padding=pad)
        self.maxpool2 = tnn.Identity() if small_input else tnn.MaxPool2d(kernel_size=3, stride=2)
        a_out = lambda pool: c(64) + c(64) + c(96) + pool
        self.Mixed_5b = TInceptionA(c(192), c(32), **w)
        self.Mixed_5c = TInceptionA(a_out(c(32)), c(64), **w)
        self.Mixed_5d = TInceptionA(a_out(c(64)), c(64), **w)
        self.Mixed_6a = TInceptionB(a_out(c(64)), **w)
        six = c(384) + c(96) + a_out(c(64))
        self.Mixed_6b = TInceptionC(six, c(128), **w)
        self.Mixed_6c = TInceptionC(4 * c(192), c(160), **w)
        self.Mixed_6d = TInceptionC(4 * c(192), c(160), **w)
        self.Mixed_6e = TInceptionC(4 * c(192), c(192), **w)
        self.AuxLogits = TInceptionAux(4 * c(192), num_classes, **w) if aux_logits else None
        self.Mixed_7a = TInceptionD(4 * c(192), **w)
        seven = c(320) + c(192) + 4 * c(192)
        self.Mixed_7b = TInceptionE(seven, **w)
        self.Mixed_7c = TInceptionE(c(320) + 4 * c(384) + c(192), **w)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(p=dropout)
        self.fc = tnn.Linear(c(320) + 4 * c(384) + c(192), num_classes)

    def forward(self, x):
        for m in (self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3, self.maxpool1, self.Conv2d_3b_1x1,
                  self.Conv2d_4a_3x3, self.maxpool2, self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a,
                  self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = m(x)
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        x = self.fc(torch.flatten(self.dropout(self.avgpool(x)), 1))
        return (x, aux) if self.training and self.aux_logits else x


# ---- helpers ------------------------------------------------------------------------------------------------


# Whole networks: ~60 batch-norm backward passes in a row sum many terms of both signs, so gradients of size
# ~0.1 carry absolute rounding differences up to ~1e-11 (still 1e-10 relative to their scale) in float64.
NET_ATOL = 1e-10


def _concat_outputs(out, framework):
    """Several outputs (logits and auxiliary logits) as one tensor, so that check_module compares them all."""
    if not isinstance(out, tuple):
        return out
    return torch.cat(list(out), 1) if framework == "torch" else ember.cat(list(out), 1)


def _eval_ready(torch_module, seed=0):
    """Random running statistics and ReLU-preserving (Kaiming) conv weights, so that in evaluation mode the
    signal neither vanishes nor explodes through the depth (batch norm does not rescale it then)."""
    g = torch.Generator().manual_seed(seed)
    for m in torch_module.modules():
        if isinstance(m, tnn.Conv2d):
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / m.weight[0].numel()) ** 0.5)
        elif isinstance(m, tnn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return torch_module.eval()


def _count(module):
    return sum(p.numel() for p in module.parameters())


# ---- GoogLeNet -------------------------------------------------------------------------------------------------


def test_googlenet_parameter_totals_are_torchvisions():
    assert _count(GoogLeNet(aux_logits=False, init_weights=False)) == 6_624_904
    assert _count(GoogLeNet(init_weights=False)) == 13_004_888  # aux heads: 3,188,968 + 3,191,016
    assert _count(models.create("googlenet")) == 6_624_904  # the registry's default: no aux heads


def test_googlenet_state_dict_keys_are_torchvisions():
    model = GoogLeNet(init_weights=False)
    state = model.state_dict()
    # 57 BasicConv2d (3 in the stem, 6 per block × 9) with 6 entries each, the fc, and 2 aux heads × 10.
    assert len(state) == 57 * 6 + 2 + 2 * 10 == 364
    assert list(state) == list(TGoogLeNet().state_dict())  # same names, same order
    patterns = [r"conv[123]\.(conv\.weight|bn\.\w+)", r"inception[345][a-e]\.branch1\.(conv\.weight|bn\.\w+)",
                r"inception[345][a-e]\.branch[234]\.[01]\.(conv\.weight|bn\.\w+)",
                r"aux[12]\.conv\.(conv\.weight|bn\.\w+)", r"aux[12]\.fc[12]\.(weight|bias)", r"fc\.(weight|bias)"]
    assert all(any(re.fullmatch(p, k) for p in patterns) for k in state), [k for k in state]
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["conv1.conv.weight"] == (64, 3, 7, 7)
    assert shapes["inception3a.branch3.1.conv.weight"] == (32, 16, 3, 3)  # torchvision's 3×3, not the paper's 5×5
    assert shapes["inception4a.branch4.1.conv.weight"] == (64, 480, 1, 1)
    assert shapes["inception5b.branch2.1.bn.running_var"] == (384,)
    assert shapes["aux1.fc1.weight"] == (1024, 2048) and shapes["aux2.conv.conv.weight"] == (128, 528, 1, 1)
    assert shapes["fc.weight"] == (1000, 1024)
    without = GoogLeNet(aux_logits=False, init_weights=False).state_dict()
    assert len(without) == 344 and not any(k.startswith("aux") for k in without)


def test_googlenet_full_architecture_training_mode_matches_torch():
    """The whole torchvision architecture at 56×56 (partial ceil-mode windows, aux heads pooling 3×3 up to
    4×4), training mode: logits, both aux logits, every gradient and the updated running statistics."""
    torch.manual_seed(0)
    reference = TGoogLeNet(num_classes=5, dropout=0.0, dropout_aux=0.0)
    model = GoogLeNet(num_classes=5, dropout=0.0, dropout_aux=0.0, init_weights=False)
    check_module(model, reference, [(2, 3, 56, 56)], loss=_concat_outputs, atol=NET_ATOL)


def test_googlenet_full_architecture_eval_mode_matches_torch():
    torch.manual_seed(1)
    reference = _eval_ready(TGoogLeNet(num_classes=7, aux_logits=False))
    model = GoogLeNet(num_classes=7, aux_logits=False, init_weights=False).eval()
    check_module(model, reference, [(2, 3, 64, 64)], atol=NET_ATOL)


def test_googlenet_small_variant_matches_torch_with_aux_heads_and_transform_input():
    torch.manual_seed(2)
    kw = dict(num_classes=10, dropout=0.0, dropout_aux=0.0, in_channels=3, small_input=True, width_mult=0.125,
              transform_input=True)
    check_module(GoogLeNet(init_weights=False, **kw), TGoogLeNet(**kw), [(3, 3, 28, 28)], loss=_concat_outputs,
                 atol=NET_ATOL)


def test_googlenet_inception_block_and_aux_head_match_torch():
    torch.manual_seed(3)
    check_module(Inception(12, 8, 6, 10, 2, 4, 4), TInception(12, 8, 6, 10, 2, 4, 4), [(2, 12, 7, 7)])
    # Aux head: a 14×14 grid adaptively pooled to 4×4 (overlapping windows); dropout 0 to compare training mode.
    check_module(GoogLeNetAux(16, 5, dropout=0.0), TGoogLeNetAux(16, 5, dropout=0.0), [(2, 16, 14, 14)])
    head, twin = GoogLeNetAux(16, 5), TGoogLeNetAux(16, 5)  # dropout 0.7 is the identity in evaluation
    check_module(head.eval(), _eval_ready(twin), [(2, 16, 14, 14)])


def test_googlenet_outputs_in_training_and_eval_and_the_weighted_loss():
    ember.manual_seed(0)
    model = GoogLeNet(num_classes=4, in_channels=1, small_input=True, width_mult=0.125, dropout=0.0, dropout_aux=0.0)
    x, y = ember.randn(3, 1, 28, 28), ember.tensor(np.array([0, 3, 1]))
    out = model(x)
    assert isinstance(out, GoogLeNetOutputs) and [o.shape for o in out] == [(3, 4)] * 3
    expected = F.cross_entropy(out.logits, y) + 0.3 * (F.cross_entropy(out.aux_logits2, y)
                                                      + F.cross_entropy(out.aux_logits1, y))
    assert model.loss(out, y).item() == pytest.approx(expected.item(), rel=1e-6)
    assert googlenet_loss(out, y).item() == pytest.approx(expected.item(), rel=1e-6)
    assert model.loss(out, y).item() > F.cross_entropy(out.logits, y).item()  # the aux terms count
    model.eval()
    logits = model(x)
    assert isinstance(logits, ember.Tensor) and logits.shape == (3, 4)
    assert model.loss(logits, y).item() == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    # Without aux heads the training-mode output is the logits Tensor (a plain training loop works).
    plain = models.create("googlenet", num_classes=4, in_channels=1, input_size=28).train()
    assert plain.aux1 is None and isinstance(plain(x), ember.Tensor)


def test_googlenet_factory_picks_the_small_variant_for_small_inputs():
    small = models.create("googlenet", num_classes=10, in_channels=1, input_size=28)
    assert small.conv1.conv.kernel_size == (3, 3) and small.conv1.conv.stride == (1, 1)
    assert type(small.maxpool2).__name__ == "Identity"
    assert _count(small) < 200_000
    assert set(small.state_dict()) == set(GoogLeNet(aux_logits=False, init_weights=False).state_dict())
    assert models.create("googlenet", input_size=96).conv1.conv.kernel_size == (7, 7)
    assert models.create("googlenet", input_size=28, aux_logits=True).aux1 is not None
    with pytest.raises(ValueError, match="transform_input"):
        GoogLeNet(in_channels=1, transform_input=True, init_weights=False)


# ---- Inception v3 ---------------------------------------------------------------------------------------------


def test_inception_v3_parameter_totals_are_torchvisions():
    assert _count(Inception3(init_weights=False)) == 27_161_264
    assert _count(Inception3(aux_logits=False, init_weights=False)) == 23_834_568  # the aux head: 3,326,696
    assert _count(TInception3()) == 27_161_264  # the torch twin used below is torchvision's size too


def test_inception_v3_state_dict_keys_are_torchvisions():
    state = Inception3(init_weights=False).state_dict()
    # 96 BasicConv2d (stem 5, A 7×3, B 4, C 10×4, D 6, E 9×2, aux 2) with 6 entries each, 2 fc layers.
    assert len(state) == 96 * 6 + 2 * 2 == 580
    assert list(state) == list(TInception3().state_dict())
    block = r"(conv\.weight|bn\.(weight|bias|running_mean|running_var|num_batches_tracked))"
    patterns = [rf"Conv2d_(1a_3x3|2a_3x3|2b_3x3|3b_1x1|4a_3x3)\.{block}", rf"Mixed_[567][a-e]\.branch\w+\.{block}",
                rf"AuxLogits\.conv[01]\.{block}", r"(AuxLogits\.)?fc\.(weight|bias)"]
    assert all(any(re.fullmatch(p, k) for p in patterns) for k in state)
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Mixed_5b.branch5x5_2.conv.weight"] == (64, 48, 5, 5)
    assert shapes["Mixed_6b.branch7x7_2.conv.weight"] == (128, 128, 1, 7)
    assert shapes["Mixed_6e.branch7x7dbl_5.conv.weight"] == (192, 192, 1, 7)
    assert shapes["Mixed_7a.branch3x3_2.conv.weight"] == (320, 192, 3, 3)
    assert shapes["Mixed_7b.branch3x3_2b.conv.weight"] == (384, 384, 3, 1)
    assert shapes["Mixed_7c.branch3x3dbl_1.conv.weight"] == (448, 2048, 1, 1)
    assert shapes["AuxLogits.conv1.conv.weight"] == (768, 128, 5, 5) and shapes["AuxLogits.fc.weight"] == (1000, 768)
    assert shapes["fc.weight"] == (1000, 2048)
    assert len(Inception3(aux_logits=False, init_weights=False).state_dict()) == 566


BLOCKS = {  # name: (Ember block, torch twin, input shape); torchvision's widths, few input channels, small grids
    "A": (lambda: InceptionA(8, pool_features=4), lambda: TInceptionA(8, 4), (2, 8, 5, 5)),
    "B": (lambda: InceptionB(8), lambda: TInceptionB(8), (2, 8, 7, 7)),
    "C": (lambda: InceptionC(8, channels_7x7=6), lambda: TInceptionC(8, 6), (2, 8, 5, 5)),
    "D": (lambda: InceptionD(8), lambda: TInceptionD(8), (2, 8, 9, 9)),
    "E": (lambda: InceptionE(8), lambda: TInceptionE(8), (2, 8, 3, 3)),
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_inception_v3_blocks_match_torch(name):
    make, make_twin, shape = BLOCKS[name]
    torch.manual_seed(4)
    block = make()
    out = check_module(block, make_twin(), [shape])
    assert out.shape[1] == block.out_channels


def test_inception_v3_aux_head_matches_torch():
    torch.manual_seed(5)
    check_module(InceptionAux(16, 5), TInceptionAux(16, 5), [(2, 16, 17, 17)])
    with pytest.raises(ValueError, match="17×17"):
        InceptionAux(16, 5)(ember.randn(1, 16, 8, 8))


def test_inception_v3_small_variant_matches_torch():
    torch.manual_seed(6)
    kw = dict(num_classes=10, in_channels=3, small_input=True, width_mult=0.125, dropout=0.0, aux_logits=False)
    check_module(Inception3(init_weights=False, **kw), TInception3(**kw), [(2, 3, 32, 32)], atol=NET_ATOL)


def test_inception_v3_reduced_width_model_with_aux_head_matches_torch():
    """The full 299-pixel geometry is needed for the aux head; at width 1/16 the whole net (aux included)
    runs quickly: logits and aux logits in training mode, every gradient."""
    torch.manual_seed(7)
    kw = dict(num_classes=6, in_channels=3, width_mult=1 / 16, dropout=0.0)
    check_module(Inception3(init_weights=False, **kw), TInception3(**kw), [(2, 3, 299, 299)], loss=_concat_outputs,
                 atol=NET_ATOL)


def test_inception_v3_outputs_in_training_and_eval_and_the_weighted_loss():
    model = Inception3(num_classes=3, width_mult=1 / 16, dropout=0.0)
    x, y = ember.randn(2, 3, 299, 299), ember.tensor(np.array([2, 0]))
    out = model(x)
    assert isinstance(out, InceptionOutputs) and out.logits.shape == out.aux_logits.shape == (2, 3)
    expected = F.cross_entropy(out.logits, y) + 0.4 * F.cross_entropy(out.aux_logits, y)
    assert model.loss(out, y).item() == pytest.approx(expected.item(), rel=1e-6)
    assert inception_loss(out, y).item() == pytest.approx(expected.item(), rel=1e-6)
    model.eval()
    logits = model(x)
    assert isinstance(logits, ember.Tensor) and logits.shape == (2, 3)


def test_inception_v3_factory_small_variant():
    small = models.create("inception_v3", num_classes=10, in_channels=1, input_size=28)
    assert small.AuxLogits is None and small.Conv2d_1a_3x3.conv.stride == (1, 1)
    assert _count(small) < 400_000
    assert set(small.state_dict()) == set(Inception3(aux_logits=False, init_weights=False).state_dict())
    with pytest.raises(ValueError, match="aux_logits=False"):
        models.create("inception_v3", input_size=32, aux_logits=True)


# ---- one training step on each registered model's small variant ------------------------------------------------


@pytest.mark.parametrize("name, kw", [
    ("googlenet", dict(in_channels=1, input_size=28)),
    ("googlenet", dict(in_channels=1, input_size=28, aux_logits=True)),
    ("inception_v3", dict(in_channels=3, input_size=32)),
])
def test_one_sgd_step_on_the_small_variant(name, kw):
    ember.manual_seed(0)
    model = models.create(name, num_classes=10, **kw).train()
    size, channels = kw["input_size"], kw["in_channels"]
    x, y = ember.randn(4, channels, size, size), ember.randint(0, 10, (4,))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    outputs = model(x)
    assert isinstance(outputs, tuple) == kw.get("aux_logits", False)
    loss = model.loss(outputs, y)
    optimizer.zero_grad()
    loss.backward()
    assert np.isfinite(loss.item())
    for name_, p in model.named_parameters():
        assert p.grad is not None and np.all(np.isfinite(p.grad.numpy())), name_
    optimizer.step()
    after = {k: v.numpy() for k, v in model.state_dict().items()}
    assert all(np.all(np.isfinite(v)) for v in after.values())
    assert not np.allclose(after["fc.weight"], before["fc.weight"])
    assert not np.allclose(after["conv1.conv.weight" if name == "googlenet" else "Conv2d_1a_3x3.conv.weight"],
                           before["conv1.conv.weight" if name == "googlenet" else "Conv2d_1a_3x3.conv.weight"])


def test_the_trainer_trains_the_registered_small_googlenet():
    """``ember train googlenet`` path: the Trainer calls loss_fn(model(x), y) and reads logits.array."""
    from ember.train import Trainer

    model = models.create("googlenet", num_classes=10, in_channels=1, input_size=28)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.05), progress=False)
    batches = [(ember.randn(4, 1, 28, 28), ember.randint(0, 10, (4,))) for _ in range(2)]
    result = trainer.train_epoch(batches)
    assert np.isfinite(result["loss"])
