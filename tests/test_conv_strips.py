"""Convolution by strips (ember/ops/conv_rows.py) against torch: every strip width B that divides OW —
B = 1 … OW, from im2col's shape to one GEMM per whole row — with stride and dilation in height, dilation in
width, padding, bias or none, batches that do not fill the last shard; float64 at 1e-9, float32; gradcheck.
And the rule that picks strips: LeNet's first convolution, not ResNet's or VGG's 3×3 ones."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.ops import conv, conv_rows
from helpers import check_op, gradcheck

# (input shape, weight shape, stride, padding, dilation)
CASES = {
    "lenet conv1": ((3, 1, 28, 28), (6, 1, 5, 5), 1, 2, 1),
    "lenet conv2": ((2, 6, 14, 14), (16, 6, 5, 5), 1, 0, 1),
    "stride 2 in height": ((2, 2, 11, 12), (3, 2, 5, 5), (2, 1), (1, 2), 1),
    "dilation 2": ((2, 2, 12, 16), (3, 2, 3, 3), 1, 0, (2, 2)),
    "rectangular kernel": ((2, 3, 9, 12), (4, 3, 2, 3), (3, 1), 0, 1),
    "batch past one shard": ((conv_rows.IMAGES + 3, 1, 10, 10), (2, 1, 3, 3), 1, 1, 1),
}


# A weight-gradient entry sums thousands of products (3·28·28 for LeNet's first layer), entries reach ~100:
# float32 rounding differs from torch's summation order by up to ~1e-4 on entries near zero.
FLOAT32_ATOL = 2e-4


def divisors(n):
    return [b for b in range(1, n + 1) if n % b == 0]


def out_width(shape, wshape, padding, dilation):
    pw = padding[1] if isinstance(padding, tuple) else padding
    dw = dilation[1] if isinstance(dilation, tuple) else dilation
    return shape[3] + 2 * pw - dw * (wshape[3] - 1)


@pytest.fixture
def force_strips(monkeypatch):
    """Make Conv2d take strips of the given width (None: its own choice), wherever it may."""
    def force(width):
        monkeypatch.setattr(conv, "WIDE_WASTE", 0)  # the whole-row im2col path would come first
        monkeypatch.setattr(conv_rows, "strip_width", lambda *args: width)
    return force


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_strip_width_matches_torch(name, bias, dtype, force_strips):
    shape, wshape, stride, padding, dilation = CASES[name]
    reach = (dilation[1] if isinstance(dilation, tuple) else dilation) * (wshape[3] - 1)
    widths = [b for b in divisors(out_width(shape, wshape, padding, dilation)) if b >= reach]
    assert widths
    shapes = [shape, wshape] + ([(wshape[0],)] if bias else [])
    for width in widths:
        force_strips(width)
        check_op(lambda x, w, *b: F.conv2d(x, w, *b, stride=stride, padding=padding, dilation=dilation),
                 lambda x, w, *b: TF.conv2d(x, w, *b, stride=stride, padding=padding, dilation=dilation),
                 shapes, dtype=dtype, seed=width, atol=FLOAT32_ATOL if dtype == "float32" else None)


def test_strips_run_where_forced(force_strips, monkeypatch):
    widths = []
    forward = conv_rows.forward
    monkeypatch.setattr(conv_rows, "forward", lambda *args: widths.append(args[-1]) or forward(*args))
    force_strips(4)
    F.conv2d(ember.randn(2, 1, 8, 8), ember.randn(2, 1, 5, 5), padding=2)
    assert widths == [4]


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_only_the_gradients_asked_for(needs, force_strips):
    force_strips(14)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 1, 28, 28)), rng.standard_normal((6, 1, 5, 5))
    ex, ew = ember.tensor(x, requires_grad=needs[0]), ember.tensor(w, requires_grad=needs[1])
    tx, tw = torch.tensor(x, requires_grad=needs[0]), torch.tensor(w, requires_grad=needs[1])
    F.conv2d(ex, ew, padding=2).sum().backward()
    TF.conv2d(tx, tw, padding=2).sum().backward()
    for e, t in ((ex, tx), (ew, tw)):
        assert (e.grad is None) == (t.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-9)


def test_gradcheck_by_strips(force_strips):
    force_strips(3)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (2, 2, 5, 6), (3, 2, 3, 3), (3,))


def test_the_rule_picks_lenets_first_layer_only():
    # LeNet-5: 1 → 6 channels, 5×5, padding 2 on 28×28 (OW 28) takes strips of 14; its 6 → 16 layer and
    # the 3×3 layers of ResNet-20 / VGG (16 to 256 channels) stay with im2col.
    assert conv_rows.strip_width(1, 6, (5, 5), 28, 1, 1, 1) == 14
    assert conv_rows.strip_width(6, 16, (5, 5), 10, 1, 1, 1) is None
    for channels, size in ((16, 32), (32, 16), (64, 8), (64, 32), (256, 8)):
        assert conv_rows.strip_width(channels, channels, (3, 3), size, 1, 1, 1) is None
    assert conv_rows.strip_width(1, 6, (5, 5), 28, 2, 1, 1) is None  # stride in width: im2col
    assert conv_rows.strip_width(2, 4, (5, 5), 28, 1, 1, 2) is None  # groups: im2col
