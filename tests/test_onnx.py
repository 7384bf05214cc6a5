"""ember.onnx.export: the exported graph, run by onnxruntime, gives Ember's outputs."""

import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import models
from ember.autograd import Function
from ember.autograd.function import Function as BaseFunction

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def export_and_run(model, inputs, feeds=None, **kwargs):
    """Export ``model`` on ``inputs``; run the file on ``feeds`` (default: the same inputs) with onnxruntime."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    buffer = io.BytesIO()
    ember.onnx.export(model, inputs, buffer, **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    feeds = inputs if feeds is None else feeds
    names = [i.name for i in session.get_inputs()]
    return session.run(None, {n: x.numpy() for n, x in zip(names, feeds)}), proto


def flat(outputs):
    if isinstance(outputs, (tuple, list)):
        return [t for o in outputs for t in flat(o)]
    return [outputs]


def assert_same(got, model, inputs, atol=1e-5):
    model.eval()
    with ember.no_grad():
        expected = flat(model(*(inputs if isinstance(inputs, tuple) else (inputs,))))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e.numpy(), atol=atol, rtol=1e-4)


def warm_batchnorm(model, x):
    """One training-mode forward so the running statistics are not the initial 0 and 1."""
    model.train()
    with ember.no_grad():
        model(x)
    model.eval()


def test_lenet5(tmp_path):
    ember.manual_seed(0)
    model = models.create("lenet5")
    x = ember.randn(2, 1, 28, 28)
    path = tmp_path / "lenet.onnx"
    ember.onnx.export(model, (x,), path, input_names=["image"], output_names=["logits"])
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    assert [i.name for i in proto.graph.input] == ["image"] and [o.name for o in proto.graph.output] == ["logits"]
    assert {i.name for i in proto.graph.initializer} >= {"features.0.weight", "classifier.5.bias"}
    got = ort.InferenceSession(str(path)).run(None, {"image": x.numpy()})
    assert_same(got, model, x)
    assert [o.op_type for o in proto.graph.node].count("Conv") == 2


def test_lenet5_dynamic_batch():
    ember.manual_seed(1)
    model = models.create("lenet5")
    x, other = ember.randn(2, 1, 28, 28), ember.randn(5, 1, 28, 28)
    got, proto = export_and_run(model, x, feeds=(other,), input_names=["x"], output_names=["y"],
                                dynamic_axes={"x": {0: "batch"}, "y": [0]})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "y_dynamic_axes_1"
    assert_same(got, model, other)


def test_resnet20_with_residual_adds_and_zero_padding_shortcuts():
    ember.manual_seed(0)
    model = models.create("resnet20")
    x = ember.randn(2, 3, 16, 16)
    warm_batchnorm(model, x)
    got, proto = export_and_run(model, x)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Add") == 9 and ops.count("BatchNormalization") == 19 and ops.count("Conv") == 19
    assert_same(got, model, x)
    assert not model.training


@pytest.mark.parametrize(
    "kwargs",
    [dict(cell="lstm"), dict(cell="lstm", embedding_dim=8, num_layers=2), dict(cell="gru", embedding_dim=8),
     dict(cell="rnn", bidirectional=True)],
    ids=["lstm-onehot", "lstm-embedding-2layers", "gru", "rnn-bidirectional"],
)
def test_charlm(kwargs):
    ember.manual_seed(0)
    model = models.CharLM(20, hidden_size=16, **kwargs)
    tokens = ember.randint(0, 20, (3, 7))
    got, _ = export_and_run(model, tokens, output_names=["logits"])
    assert_same(got, model, tokens)  # logits, then the final state(s)


def test_lstm_with_initial_state_and_dynamic_batch():
    ember.manual_seed(0)
    lstm = nn.LSTM(4, 6, batch_first=True)
    x, h0, c0 = ember.randn(2, 5, 4), ember.randn(1, 2, 6), ember.randn(1, 2, 6)
    got, _ = export_and_run(lstm, (x, (h0, c0)))
    assert_same(got, lstm, (x, (h0, c0)))


class OpZoo(nn.Module):
    """Most translated ops in one forward."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(6)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.adaptive = nn.AdaptiveAvgPool2d((2, 3))
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.lrn = nn.LocalResponseNorm(3)
        self.w = nn.Parameter(ember.randn(6, 6))

    def forward(self, image, v):
        a = self.adaptive(self.lrn(image)).flatten(1)  # (N, 3·2·3 = 18)
        b = self.avg(image)[:, 1:, ::2, None, -1].reshape(image.shape[0], -1)
        c = self.pool(F.leaky_relu(image, 0.2)).mean((2, 3))
        h = self.bn(v) @ self.w
        h = F.elu(h).clamp(-0.5, 2.0) - h.sigmoid() * 2 / (h.abs() + 1) + (h ** 2).sqrt()
        h = ember.where(h > 0.1, h, -h.exp())
        s = ember.stack([h, h.tanh()], dim=-1).permute(0, 2, 1).sum(1)
        stats = ember.cat([s.var(1, keepdim=True), s.amax(1, keepdim=True), s.max(1)[0][:, None],
                           s.softmax(1)[:, :2], s.log_softmax(-1)[:, -1:], v[..., :1].expand(-1, 2)], dim=1)
        picked = (s.argmax(1) == 3).float()[:, None] + (s % 0.5)[:, :1]
        return ember.cat([a, b, c, stats, picked], dim=1), ember.maximum(h, s)


def test_op_zoo_matches_at_several_opsets():
    ember.manual_seed(0)
    model = OpZoo()
    image, v = ember.randn(2, 3, 7, 7), ember.randn(2, 6)
    model.train()
    with ember.no_grad():
        model(image, v)  # BatchNorm running statistics
    for opset in (13, 17, 18):
        got, proto = export_and_run(model, (image, v), opset_version=opset)
        assert proto.opset_import[0].version == opset
        assert_same(got, model, (image, v))


class Doubler(BaseFunction):
    """An array-level op with no ONNX translation."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class TensorDoubler(Function):
    """A user's custom Function on Tensors: export records the ops inside its forward (torch inlines too)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_a_custom_tensor_function_is_inlined():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    model.forward = lambda x: TensorDoubler.apply(nn.Sequential.forward(model, x))
    x = ember.randn(2, 3)
    got, _ = export_and_run(model, (x,))
    np.testing.assert_allclose(got[0], model(x).detach().numpy(), atol=1e-5)


def test_unsupported_op_is_named():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    model.forward = lambda x: Doubler.apply(nn.Sequential.forward(model, x))
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="Doubler"):
        ember.onnx.export(model, ember.randn(2, 3), io.BytesIO())
    assert BaseFunction.tracer is None  # the trace was stopped

    class TrainingDropout(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5, training=True)

    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="Dropout"):
        ember.onnx.export(TrainingDropout(), ember.randn(2, 3), io.BytesIO())


def test_values_computed_outside_ember_ops_are_refused():
    class Sneaky(nn.Module):
        def forward(self, x):
            return (ember.tensor(x.numpy() * 2) + 1).relu()  # numpy arithmetic the tracer cannot see

    with pytest.raises(RuntimeError, match="depends on the model's input"):
        ember.onnx.export(Sneaky(), ember.randn(2, 3), io.BytesIO())
    assert ember.onnx.is_in_onnx_export() is False


def test_export_restores_training_mode_and_writes_atomically(tmp_path):
    model = models.create("lenet5")
    model.train()
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    ember.onnx.export(model, ember.randn(1, 1, 28, 28), path)
    assert model.training and path.read_bytes() != b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    with pytest.raises(ValueError, match="export_params"):
        ember.onnx.export(model, ember.randn(1, 1, 28, 28), path, export_params=False)


def test_lazy_attribute_and_missing_onnx_message(monkeypatch):
    import builtins

    assert ember.onnx.export is not None
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ImportError, match=r"ember\[onnx\]"):
        ember.onnx.export(nn.Linear(2, 2), ember.randn(1, 2), io.BytesIO())


def test_comparisons_and_arg_extremes():
    class Picks(nn.Module):
        def forward(self, x):
            mask = ((x <= 0.5) & (x != 0)) | (x >= 1.5)
            return mask, x.argmax(), x.argmin(1, keepdim=True), (x < 0).float().sum()

    x = ember.randn(3, 4)
    got, _ = export_and_run(Picks(), x)
    assert_same(got, Picks(), x)
