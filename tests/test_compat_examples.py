"""Patterns from pytorch/examples programs that failed under `ember run`, each checked against torch.

- torch's layer constructors take ``device`` (before ``dtype``) positionally and by keyword; a subclass of
  ``nn.Linear`` that forwards ``(in, out, bias, device, dtype)`` (mnist_forward_forward) must build;
- ``torch.xpu`` / ``torch.mps`` answer the availability probes programs run before choosing the CPU.
"""

import inspect

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn

FACTORY_LAYERS = [
    ("Linear", (3, 4)), ("Conv1d", (2, 3, 3)), ("Conv2d", (2, 3, 3)), ("ConvTranspose2d", (2, 3, 3)),
    ("BatchNorm1d", (4,)), ("BatchNorm2d", (4,)), ("InstanceNorm2d", (4,)), ("LayerNorm", (4,)),
    ("GroupNorm", (2, 4)), ("Embedding", (5, 3)), ("PReLU", ()), ("RNN", (3, 4)), ("GRU", (3, 4)),
    ("LSTM", (3, 4)), ("RNNCell", (3, 4)), ("GRUCell", (3, 4)), ("LSTMCell", (3, 4)),
]


@pytest.mark.parametrize("name,args", FACTORY_LAYERS, ids=[n for n, _ in FACTORY_LAYERS])
def test_layers_take_device_and_dtype_keywords_as_torch(name, args):
    for device in ("cpu", torch.device("cpu")):
        t = getattr(torch.nn, name)(*args, device=device, dtype=torch.float64)
        e = getattr(enn, name)(*args, device=str(device), dtype=ember.float64)
        t_params = dict(t.named_parameters())
        e_params = dict(e.named_parameters())
        assert sorted(t_params) == sorted(e_params)
        for key, p in e_params.items():
            assert p.dtype == ember.float64 and p.device.type == "cpu"
            assert tuple(p.shape) == tuple(t_params[key].shape)


@pytest.mark.parametrize("name", ["Linear", "BatchNorm1d", "BatchNorm2d", "PReLU", "LSTMCell", "GRUCell", "RNNCell",
                                  "Conv2d", "LayerNorm", "GroupNorm", "Embedding"])
def test_device_sits_before_dtype_in_the_positional_signature(name):
    def tail(cls):
        names = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.kind == p.POSITIONAL_OR_KEYWORD]
        return names[names.index("device"):names.index("dtype") + 1]

    assert tail(getattr(enn, name)) == tail(getattr(torch.nn, name)) == ["device", "dtype"]


def test_linear_subclass_forwarding_factory_arguments_positionally():
    """mnist_forward_forward: ``class Layer(nn.Linear)`` calls ``super().__init__(in, out, bias, device, dtype)``."""
    outputs = {}
    for lib, nn in (("torch", torch.nn), ("ember", enn)):
        class Layer(nn.Linear):
            def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
                super().__init__(in_features, out_features, bias, device, dtype)

            def forward(self, x):
                direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
                return (direction @ self.weight.T + self.bias.unsqueeze(0)).relu()

        outputs[lib] = Layer(4, 3, True, None, None)
    w = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal(3).astype(np.float32)
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        outputs["torch"].weight.copy_(torch.from_numpy(w))
        outputs["torch"].bias.copy_(torch.from_numpy(b))
    outputs["ember"].weight.data = ember.tensor(w)
    outputs["ember"].bias.data = ember.tensor(b)
    expected = outputs["torch"](torch.from_numpy(x)).detach().numpy()
    got = outputs["ember"](ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_layer_asked_for_a_missing_gpu_fails_as_torch_does():
    if torch.cuda.is_available() or ember.cuda.is_available():
        pytest.skip("a GPU is present: this compares the CPU-only answer")  # the oracle is a CPU build of torch
    with pytest.raises(AssertionError):
        torch.nn.Linear(2, 2, device="cuda")
    with pytest.raises(AssertionError, match="CUDA"):
        enn.Linear(2, 2, device="cuda")


def test_xpu_answers_the_availability_probe_as_a_torch_build_without_xpu():
    assert ember.xpu.is_available() is torch.xpu.is_available() is False
    assert ember.xpu.device_count() == torch.xpu.device_count() == 0
    assert ember.xpu.is_initialized() is torch.xpu.is_initialized() is False
    assert ember.xpu.memory_allocated() == torch.xpu.memory_allocated() == 0
    ember.xpu.manual_seed(1), ember.xpu.manual_seed_all(1), ember.xpu.empty_cache()
    for call in ("current_device", "synchronize", "get_device_name"):
        with pytest.raises(AssertionError):
            getattr(torch.xpu, call)()
        with pytest.raises(AssertionError, match="XPU"):
            getattr(ember.xpu, call)()


def test_mps_module_answers_as_a_torch_build_without_mps():
    assert ember.mps.is_available() is torch.mps.is_available() is False
    assert ember.mps.device_count() == torch.mps.device_count() == 0
    ember.mps.manual_seed(3)
    for call in ("synchronize", "empty_cache", "current_allocated_memory"):
        with pytest.raises(RuntimeError):
            getattr(torch.mps, call)()
        with pytest.raises(RuntimeError, match="without MPS backend"):
            getattr(ember.mps, call)()


def test_the_classes_word_language_model_allowlists_exist_at_torchs_paths():
    """word_language_model/main.py names these in ``torch.serialization.safe_globals([...])`` before loading."""
    import importlib

    for path in ("nn.modules.linear.NonDynamicallyQuantizableLinear", "nn.modules.sparse.Embedding",
                 "nn.modules.rnn.LSTM", "nn.modules.rnn.GRU", "nn.modules.rnn.RNN", "nn.modules.dropout.Dropout",
                 "nn.modules.activation.MultiheadAttention", "nn.modules.container.ModuleList",
                 "nn.modules.normalization.LayerNorm", "nn.modules.transformer.TransformerEncoderLayer"):
        module, _, name = path.rpartition(".")
        t_cls = getattr(importlib.import_module("torch." + module), name)
        e_cls = getattr(importlib.import_module("ember." + module), name)
        assert e_cls.__name__ == t_cls.__name__
    from ember.nn.modules.linear import NonDynamicallyQuantizableLinear

    assert issubclass(NonDynamicallyQuantizableLinear, enn.Linear)
    assert type(enn.MultiheadAttention(4, 2).out_proj) is NonDynamicallyQuantizableLinear
    assert type(torch.nn.MultiheadAttention(4, 2).out_proj).__name__ == "NonDynamicallyQuantizableLinear"


# ---- torch.save(model, f) / torch.load(f) of a whole module (word_language_model) ------------------------


class TiedLanguageModel(enn.Module):
    """The shape of word_language_model's RNNModel: embedding, LSTM, decoder tied to the embedding."""

    def __init__(self, ntoken=11, nhid=6):
        super().__init__()
        self.encoder = enn.Embedding(ntoken, nhid)
        self.rnn = enn.LSTM(nhid, nhid, 2, dropout=0.2)
        self.decoder = enn.Linear(nhid, ntoken)
        self.decoder.weight = self.encoder.weight
        self.rnn_type, self.nhid = "LSTM", nhid

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.encoder(input), hidden)
        return self.decoder(output), hidden


def test_a_whole_module_saved_and_loaded_with_its_class_allowlisted(tmp_path):
    import io

    ember.manual_seed(0)
    model = TiedLanguageModel().eval()
    buffer = io.BytesIO()
    ember.save(model, buffer)
    buffer.seek(0)
    with ember.serialization.safe_globals([TiedLanguageModel]):
        loaded = ember.load(buffer)
    assert type(loaded) is TiedLanguageModel and loaded.rnn_type == "LSTM" and not loaded.training
    assert loaded.decoder.weight is loaded.encoder.weight  # tied weights stay one Parameter
    assert type(loaded.rnn) is enn.LSTM and loaded.rnn.num_layers == 2 and loaded.rnn.dropout == 0.2
    assert sorted(loaded.state_dict()) == sorted(model.state_dict())
    tokens = ember.tensor([[1, 2], [3, 4], [5, 6]])
    hidden = (ember.zeros(2, 2, 6), ember.zeros(2, 2, 6))
    with ember.no_grad():
        np.testing.assert_array_equal(loaded(tokens, hidden)[0].numpy(), model(tokens, hidden)[0].numpy())
    loaded.train()  # the rebuilt module trains: parameters are leaves that receive gradients
    loaded(tokens, hidden)[0].sum().backward()
    assert loaded.encoder.weight.grad is not None and loaded.rnn.weight_hh_l1.grad is not None


def test_loading_a_module_whose_class_is_not_allowlisted_is_refused_as_torch_does(tmp_path):
    import pickle

    ember.save(TiedLanguageModel(), tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="safe_globals"):
        ember.load(tmp_path / "m.pt")
    t_model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    torch.save(_TorchWrapper(t_model), tmp_path / "t.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "t.pt")  # torch's default weights_only load refuses an unlisted class too


class _TorchWrapper(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner


def test_embers_own_layers_and_functions_load_without_an_allowlist(tmp_path):
    layer = enn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)  # holds activation=F.relu
    model = enn.Sequential(enn.Linear(3, 8), enn.ReLU(), layer).eval()
    ember.save(model, tmp_path / "seq.pt")
    loaded = ember.load(tmp_path / "seq.pt")
    x = ember.randn(4, 5, 3)
    with ember.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-7)


def test_a_module_holding_a_lambda_cannot_be_saved():
    model = enn.Linear(2, 2)
    model.act = lambda x: x
    with pytest.raises(TypeError, match="lambda"):
        ember.save(model, __import__("io").BytesIO())


class TrustedNet(ember.nn.Module):
    """A program's own model class, saved whole and loaded back with weights_only=False."""

    def __init__(self):
        super().__init__()
        self.body = ember.nn.Linear(3, 2)

    def forward(self, x):
        return self.body(x).relu()


def test_weights_only_false_rebuilds_the_programs_own_module_classes(tmp_path):
    import pickle

    net = TrustedNet()
    ember.save(net, tmp_path / "net.pt")
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        ember.load(tmp_path / "net.pt")
    back = ember.load(tmp_path / "net.pt", weights_only=False)
    x = ember.randn(4, 3)
    assert type(back) is TrustedNet
    np.testing.assert_array_equal(back(x).detach().numpy(), net(x).detach().numpy())
    with pytest.raises(pickle.UnpicklingError):  # the flag is not left on after the load
        ember.load(tmp_path / "net.pt")
