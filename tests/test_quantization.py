"""ember.quantization: the affine formulas against torch's, observers' qparams against torch's, the integer
kernels against int32 NumPy, int8 layers close to their float originals, sizes, eval-only errors."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.quantization import (
    DynamicQuantizedLinear, MinMaxObserver, PerChannelMinMaxObserver, QuantizedConv2d, QuantizedLinear,
    QuantizedLSTM, convert, model_size_bytes, prepare, quantize, quantize_dynamic, quantize_per_channel,
    quantize_per_tensor,
)
from ember.quantization import functional as QF

pytestmark = pytest.mark.filterwarnings("ignore:.*quantize_per_tensor.*deprecated")
_TORCH_Q = {ember.qint8: torch.qint8, ember.quint8: torch.quint8, ember.qint32: torch.qint32}


@pytest.mark.parametrize("dtype", [ember.qint8, ember.quint8, ember.qint32])
@pytest.mark.parametrize("seed", range(4))
def test_quantize_per_tensor_equals_torch_bit_for_bit(dtype, seed):
    rs = np.random.RandomState(seed)
    x = (rs.randn(10007) * rs.choice([0.1, 3, 40])).astype(np.float32)          # odd length: the kernel's tail too
    scale = float(np.float32(rs.rand() * 0.2 + 1e-3))
    zero = {ember.qint8: rs.randint(-20, 20), ember.quint8: rs.randint(100, 150), ember.qint32: rs.randint(-99, 99)}
    zero = int(zero[dtype])
    x[:2000] = ((rs.randint(-300, 300, 2000) + 0.5) * np.float32(scale)).astype(np.float32)   # exact halves
    ours = quantize_per_tensor(ember.tensor(x), scale, zero, dtype)
    theirs = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero, _TORCH_Q[dtype])
    a, b = ours.int_repr().numpy().astype(np.int64), theirs.int_repr().numpy().astype(np.int64)
    if dtype is ember.qint32:   # torch's qint32 kernel rounds near-halves its own way: within 1, and exact elsewhere
        assert np.abs(a - b).max() <= 1 and np.array_equal(a[2000:], b[2000:])
        return
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())
    assert ours.q_scale() == theirs.q_scale() and ours.q_zero_point() == theirs.q_zero_point()


@pytest.mark.parametrize("axis", [0, 1])
def test_quantize_per_channel_equals_torch(axis):
    rs = np.random.RandomState(7)
    x = (rs.randn(6, 9, 5) * 2).astype(np.float32)
    scales = (rs.rand(x.shape[axis]) * 0.05 + 0.01).astype(np.float64)
    zeros = rs.randint(-5, 5, x.shape[axis]).astype(np.int64)
    ours = quantize_per_channel(ember.tensor(x), ember.tensor(scales), ember.tensor(zeros), axis, ember.qint8)
    theirs = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales), torch.from_numpy(zeros), axis,
                                        torch.qint8)
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())


@pytest.mark.parametrize("qscheme,dtype", [("per_tensor_affine", "quint8"), ("per_tensor_symmetric", "qint8"),
                                           ("per_tensor_affine", "qint8"), ("per_tensor_symmetric", "quint8")])
def test_minmax_observer_qparams_equal_torch(qscheme, dtype):
    from torch.ao.quantization import MinMaxObserver as TorchMinMax

    rs = np.random.RandomState(1)
    ours = MinMaxObserver(getattr(ember, dtype), qscheme)
    theirs = TorchMinMax(dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme))
    for shift in (0.5, -2.0, 1.0):
        x = (rs.randn(50) + shift).astype(np.float32)
        ours(ember.tensor(x))
        theirs(torch.from_numpy(x))
    (s, z), (ts, tz) = ours.calculate_qparams(), theirs.calculate_qparams()
    np.testing.assert_array_equal(s.numpy().reshape(-1), ts.numpy().reshape(-1))
    np.testing.assert_array_equal(z.numpy().reshape(-1), tz.numpy().reshape(-1))


def test_per_channel_observer_equals_torch_and_zero_range_gets_eps():
    from torch.ao.quantization import PerChannelMinMaxObserver as TorchPC

    w = np.random.RandomState(2).randn(5, 3, 2, 2).astype(np.float32)
    w[3] = 0.0                                                # an all-zero channel: scale is eps, not 0
    ours, theirs = PerChannelMinMaxObserver(0), TorchPC(0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    ours(ember.tensor(w))
    theirs(torch.from_numpy(w))
    (s, z), (ts, tz) = ours.calculate_qparams(), theirs.calculate_qparams()
    np.testing.assert_array_equal(s.numpy(), ts.numpy())
    np.testing.assert_array_equal(z.numpy(), tz.numpy())
    assert s.numpy()[3] == np.finfo(np.float32).eps


def test_int_matmul_equals_int32_numpy_and_checks_the_bound():
    rs = np.random.RandomState(3)
    a = rs.randint(-255, 256, (37, 300)).astype(np.int32)
    b = rs.randint(-128, 128, (300, 23)).astype(np.int32)
    np.testing.assert_array_equal(QF.int_matmul(a, b), a @ b)
    with pytest.raises(OverflowError, match="int32"):
        QF.int_matmul(np.full((1, 70000), 255, np.int32), np.full((70000, 1), 255, np.int32))


def test_static_linear_is_the_integer_formula():
    """QuantizedLinear = requantize(s_x s_w (q_x - z_x)(q_w)ᵀ + b), computed here by hand in int64."""
    ember.manual_seed(0)
    lin = nn.Linear(16, 8).eval()
    prepared = prepare(lin)
    x = ember.randn(10, 16)
    prepared(x)
    q = convert(prepared)
    assert isinstance(q, QuantizedLinear)
    xs, xz = float(q.input_scale.array), int(q.input_zero_point.array)
    qx = np.clip(np.rint(x.numpy() / np.float32(xs)) + xz, 0, 255).astype(np.int64) - xz
    acc = qx @ q.weight_int8.numpy().astype(np.int64).T
    y = acc.astype(np.float32) * (np.float32(xs) * q.weight_scale.numpy()) + lin.bias.detach().numpy()
    os_, oz = float(q.scale.array), int(q.zero_point.array)
    expect = (np.clip(np.rint(y / np.float32(os_)) + oz, 0, 255) - oz).astype(np.float32) * np.float32(os_)
    np.testing.assert_allclose(q(x).numpy(), expect, atol=1.01 * os_)    # a half-way case may round the other way
    assert np.mean(np.abs(q(x).numpy() - expect) < 1e-6) > 0.98


def _rel_err(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("bias", [True, False])
def test_dynamic_linear_close_to_float(bias):
    ember.manual_seed(1)
    model = nn.Sequential(nn.Linear(64, 32, bias=bias), nn.ReLU(), nn.Linear(32, 10, bias=bias)).eval()
    q = quantize_dynamic(model, {nn.Linear}, dtype=ember.qint8)
    assert isinstance(q[0], DynamicQuantizedLinear) and isinstance(q[2], DynamicQuantizedLinear)
    assert isinstance(model[0], nn.Linear)                                       # the original is untouched
    x = ember.randn(20, 64)
    assert _rel_err(q(x).numpy(), model(x).detach().numpy()) < 0.03
    w = q[0].weight()
    np.testing.assert_allclose(w.dequantize().numpy(), model[0].weight.detach().numpy(), atol=w.q_scale() / 2 + 1e-7)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 1, 1, 1), (2, 0, 1, 2), (1, 2, 2, 1), (2, 1, 1, 4)])
def test_static_conv2d_close_to_float(stride, padding, dilation, groups):
    ember.manual_seed(2)
    conv = nn.Conv2d(4, 8, 3, stride=stride, padding=padding, dilation=dilation, groups=groups).eval()
    x = ember.randn(3, 4, 12, 12)
    calib = [ember.randn(4, 4, 12, 12) for _ in range(4)] + [x]      # x inside the calibrated range: no clipping
    q = quantize(conv, lambda m, data: [m(b) for b in data], (calib,))
    assert isinstance(q, QuantizedConv2d)
    y, yq = conv(x).detach().numpy(), q(x).numpy()
    assert yq.shape == y.shape and yq.dtype == np.float32
    assert _rel_err(yq, y) < 0.05


def test_static_model_accuracy_like_float_and_size_shrinks():
    ember.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(6 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 5)).eval()
    prepared = prepare(model)
    assert isinstance(prepared[0].activation_post_process, MinMaxObserver)
    for _ in range(8):
        prepared(ember.randn(16, 1, 8, 8))
    q = convert(prepared)
    x = ember.randn(64, 1, 8, 8)
    agree = (q(x).numpy().argmax(1) == model(x).detach().numpy().argmax(1)).mean()
    assert agree > 0.9
    n_weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
    before, after = model_size_bytes(model), model_size_bytes(q)
    assert before == 4 * sum(p.numel() for p in model.parameters())
    assert after < before / 3 and after >= n_weights


@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False), (2, True, True)])
def test_dynamic_lstm_close_to_float(layers, bidirectional, batch_first):
    ember.manual_seed(4)
    lstm = nn.LSTM(6, 12, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first).eval()
    q = quantize_dynamic(lstm, {nn.LSTM})
    assert isinstance(q, QuantizedLSTM)
    x = ember.randn(4, 7, 6)
    (o, (h, c)), (qo, (qh, qc)) = lstm(x), q(x)
    assert qo.shape == o.shape and qh.shape == h.shape and qc.shape == c.shape
    assert np.abs(qo.numpy() - o.detach().numpy()).max() < 0.03
    assert np.abs(qc.numpy() - c.detach().numpy()).max() < 0.05
    uo, (uh, _) = q(x[0] if not batch_first else x[:, 0])             # unbatched input
    assert uo.ndim == 2 and uh.ndim == 2


def test_eval_only_and_bad_configuration_errors():
    lin = nn.Linear(4, 3)                                              # training mode
    q = quantize_dynamic(lin, {nn.Linear})
    with pytest.raises(RuntimeError, match=r"model.eval\(\)"):
        q(ember.randn(2, 4))
    q.eval()
    assert q(ember.randn(2, 4)).shape == (2, 3)
    with pytest.raises(ValueError, match="qint8"):
        quantize_dynamic(lin, {nn.Linear}, dtype=ember.quint8)
    with pytest.raises(ValueError, match="Conv2d"):
        quantize_dynamic(lin, {nn.Conv2d})
    with pytest.raises(RuntimeError, match="calibration"):
        convert(prepare(nn.Linear(4, 3).eval()))
    with pytest.raises(RuntimeError, match="dtype"):
        quantize_per_tensor(ember.randn(3), 0.1, 0, ember.float32)


def test_convert_keeps_unobserved_layers_float_and_state_dict_is_int8():
    ember.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).eval()
    prepared = prepare(model)
    prepared(ember.randn(8, 4))
    q = convert(prepared)
    assert isinstance(q[1], nn.BatchNorm1d)
    sd = q.state_dict()
    assert sd["0.weight_int8"].array.dtype == np.int8 and sd["0.weight_scale"].shape == (4,)
    assert "0.input_scale" in sd and "0.zero_point" in sd


def test_fuse_conv_bn_eval_equals_torchs_before_quantising():
    """BN folded into the conv (what one does before int8): the fused module equals torch's fuse_conv_bn_eval."""
    ember.manual_seed(6)
    conv, bn = nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5)
    bn.running_mean.array[...] = np.random.RandomState(0).randn(5)
    bn.running_var.array[...] = np.random.RandomState(1).rand(5) + 0.5
    bn.weight.array[...] = np.random.RandomState(2).randn(5)
    tconv, tbn = torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.BatchNorm2d(5)
    tconv.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in conv.state_dict().items()})
    tbn.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in bn.state_dict().items()})
    fused = nn.utils.fuse_conv_bn_eval(conv.eval(), bn.eval())
    tfused = torch.nn.utils.fuse_conv_bn_eval(tconv.eval(), tbn.eval())
    np.testing.assert_allclose(fused.weight.detach().numpy(), tfused.weight.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fused.bias.detach().numpy(), tfused.bias.detach().numpy(), rtol=1e-6, atol=1e-7)
    x = np.random.RandomState(3).randn(2, 3, 6, 6).astype(np.float32)
    np.testing.assert_allclose(fused(ember.tensor(x)).detach().numpy(), tfused(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
