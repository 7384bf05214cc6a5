"""The nn layer classes against torch.nn: default initialisation (the same distributions), parameter, buffer
and state_dict names, reprs for the same arguments, and a torch state_dict loading 1:1 into the equivalent
Ember model (and back)."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import torch.nn as tnn
from helpers import assert_close, random_array

# ---- default initialisation -------------------------------------------------------------------------------


def _ks_two_sample(a, b):
    """The Kolmogorov–Smirnov distance between the empirical distributions of two samples."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size - np.searchsorted(b, grid, side="right") / b.size))


def _assert_uniform(values, bound, reference):
    """``values`` look like U(-bound, bound), and like torch's own ``reference`` sample of the same layer."""
    v = values.ravel().astype(np.float64)
    n = v.size
    assert np.all(np.abs(v) <= bound), f"values outside ±{bound}"
    assert np.abs(v).max() > bound * (1 - 10 / n), "the values do not reach the bound: a narrower distribution"
    assert abs(v.mean()) < 5 * bound / math.sqrt(3 * n)  # the mean of U(-b, b) has sd b/√(3n)
    assert abs(v.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3) + 5 * bound / math.sqrt(5 * n)
    # Against U(-b, b) (one-sample) and against torch's sample (two-sample), at the 0.1% level.
    u = np.sort((v + bound) / (2 * bound))
    d_uniform = np.max(np.maximum(np.arange(1, n + 1) / n - u, u - np.arange(n) / n))
    assert d_uniform < 1.95 / math.sqrt(n), f"KS distance {d_uniform} from the uniform distribution"
    m = reference.size
    assert _ks_two_sample(v, reference) < 1.95 * math.sqrt((n + m) / (n * m)), "distribution differs from torch's"


INIT_LAYERS = {
    "Linear(400, 300)": (lambda nn: nn.Linear(400, 300), 400),
    "Linear(30, 2000)": (lambda nn: nn.Linear(30, 2000), 30),
    "Conv2d(6, 16, 5)": (lambda nn: nn.Conv2d(6, 16, 5), 6 * 25),
    "Conv2d(8, 64, 3, groups=4)": (lambda nn: nn.Conv2d(8, 64, 3, groups=4), 2 * 9),
    "Conv2d(32, 32, (1, 3), groups=32)": (lambda nn: nn.Conv2d(32, 32, (1, 3), groups=32), 3),
}


@pytest.mark.parametrize("name", list(INIT_LAYERS))
def test_linear_and_conv_default_init_is_torch_uniform(name):
    make, fan_in = INIT_LAYERS[name]
    ember.manual_seed(0)
    torch.manual_seed(0)
    e_layer, t_layer = make(enn), make(tnn)
    bound = 1 / math.sqrt(fan_in)
    assert e_layer.weight.dtype == np.float32 and e_layer.bias.dtype == np.float32
    assert e_layer.weight.shape == tuple(t_layer.weight.shape) and e_layer.bias.shape == tuple(t_layer.bias.shape)
    assert e_layer.weight.requires_grad and e_layer.bias.requires_grad
    _assert_uniform(e_layer.weight.detach().numpy(), bound, t_layer.weight.detach().numpy())
    if e_layer.bias.shape[0] >= 100:  # enough values for the distribution tests
        _assert_uniform(e_layer.bias.detach().numpy(), bound, t_layer.bias.detach().numpy())
    b = e_layer.bias.detach().numpy()
    assert np.all(np.abs(b) <= bound) and np.unique(b).size == b.size  # random, within ±1/√fan_in


def test_bias_init_uses_the_full_fan_in():
    # Many small layers: the pooled biases are U(±1/√fan_in), fan_in = in/groups · kH · kW.
    ember.manual_seed(1)
    torch.manual_seed(1)
    e_b = np.concatenate([enn.Conv2d(12, 9, (3, 2), groups=3).bias.detach().numpy() for _ in range(300)])
    t_b = np.concatenate([tnn.Conv2d(12, 9, (3, 2), groups=3).bias.detach().numpy() for _ in range(300)])
    _assert_uniform(e_b, 1 / math.sqrt(4 * 6), t_b)
    e_b = np.concatenate([enn.Linear(50, 10).bias.detach().numpy() for _ in range(300)])
    t_b = np.concatenate([tnn.Linear(50, 10).bias.detach().numpy() for _ in range(300)])
    _assert_uniform(e_b, 1 / math.sqrt(50), t_b)


def test_layers_are_seeded_by_manual_seed():
    ember.manual_seed(5)
    a = enn.Conv2d(3, 4, 3).weight.detach().numpy()
    ember.manual_seed(5)
    b = enn.Conv2d(3, 4, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", ["BatchNorm1d", "BatchNorm2d"])
def test_batchnorm_default_state(cls):
    e_layer, t_layer = getattr(enn, cls)(5), getattr(tnn, cls)(5)
    for name, t in list(t_layer.named_parameters()) + list(t_layer.named_buffers()):
        e = dict(list(e_layer.named_parameters()) + list(e_layer.named_buffers()))[name]
        assert e.dtype == np.dtype(str(t.dtype).replace("torch.", "")), name
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy(), err_msg=name)
    np.testing.assert_array_equal(e_layer.weight.detach().numpy(), np.ones(5))
    np.testing.assert_array_equal(e_layer.bias.detach().numpy(), np.zeros(5))
    np.testing.assert_array_equal(e_layer.running_mean.numpy(), np.zeros(5))
    np.testing.assert_array_equal(e_layer.running_var.numpy(), np.ones(5))
    assert e_layer.num_batches_tracked.dtype == np.int64 and int(e_layer.num_batches_tracked.numpy()) == 0
    assert e_layer.weight.requires_grad and e_layer.bias.requires_grad
    assert not e_layer.running_mean.requires_grad


def test_reset_parameters_restores_the_defaults():
    layer = enn.BatchNorm2d(3)
    layer.weight.array[...] = 5
    layer(ember.randn(4, 3, 2, 2) * 3 + 1)
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones(3))
    np.testing.assert_array_equal(layer.running_var.numpy(), np.ones(3))
    assert int(layer.num_batches_tracked.numpy()) == 0


# ---- names: parameters, buffers, state_dict keys ---------------------------------------------------------

NAMED_LAYERS = {
    "Linear": lambda nn: nn.Linear(4, 3),
    "Linear no bias": lambda nn: nn.Linear(4, 3, bias=False),
    "Conv2d": lambda nn: nn.Conv2d(4, 6, 3),
    "Conv2d no bias": lambda nn: nn.Conv2d(4, 6, 3, bias=False),
    "Conv2d groups": lambda nn: nn.Conv2d(4, 6, (3, 2), groups=2, bias=False),
    "Conv2d depthwise": lambda nn: nn.Conv2d(4, 4, 3, groups=4, padding="same"),
    "BatchNorm1d": lambda nn: nn.BatchNorm1d(3),
    "BatchNorm2d": lambda nn: nn.BatchNorm2d(3),
    "Identity": lambda nn: nn.Identity(),
    "CrossEntropyLoss(weight)": lambda nn: nn.CrossEntropyLoss(weight=_t(nn, np.ones(3, np.float32))),
    "CrossEntropyLoss()": lambda nn: nn.CrossEntropyLoss(),
    "NLLLoss(weight)": lambda nn: nn.NLLLoss(weight=_t(nn, np.ones(3, np.float32))),
    "MultiMarginLoss(weight)": lambda nn: nn.MultiMarginLoss(weight=_t(nn, np.ones(3, np.float32))),
    "BCEWithLogitsLoss(weight, pos_weight)": lambda nn: nn.BCEWithLogitsLoss(
        weight=_t(nn, np.ones(3, np.float32)), pos_weight=_t(nn, np.full(3, 2.0, np.float32))),
    "BCEWithLogitsLoss(pos_weight)": lambda nn: nn.BCEWithLogitsLoss(pos_weight=_t(nn, np.ones(3, np.float32))),
}
for _cls in ("BatchNorm1d", "BatchNorm2d"):
    for _affine in (True, False):
        for _bias in (True, False):
            for _track in (True, False):
                for _momentum in (0.1, None):
                    NAMED_LAYERS[f"{_cls}(affine={_affine}, bias={_bias}, track={_track}, momentum={_momentum})"] = (
                        lambda nn, c=_cls, a=_affine, b=_bias, t=_track, m=_momentum: getattr(nn, c)(
                            3, affine=a, bias=b, track_running_stats=t, momentum=m))


def _t(nn, array):
    return torch.tensor(array) if nn is tnn else ember.tensor(array)


@pytest.mark.parametrize("name", list(NAMED_LAYERS))
def test_parameter_buffer_and_state_dict_names_match_torch(name):
    e_layer, t_layer = NAMED_LAYERS[name](enn), NAMED_LAYERS[name](tnn)
    assert [n for n, _ in e_layer.named_parameters()] == [n for n, _ in t_layer.named_parameters()]
    assert [n for n, _ in e_layer.named_buffers()] == [n for n, _ in t_layer.named_buffers()]
    e_state, t_state = e_layer.state_dict(), t_layer.state_dict()
    assert list(e_state) == list(t_state)
    for key, value in t_state.items():
        assert e_state[key].shape == tuple(value.shape), key
        assert e_state[key].dtype == np.dtype(str(value.dtype).replace("torch.", "")), key
    # The absent ones are attributes that are None, as in torch (layer.bias is None for bias=False).
    for attr in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked", "pos_weight"):
        if hasattr(t_layer, attr):
            assert (getattr(e_layer, attr) is None) == (getattr(t_layer, attr) is None), attr


# ---- reprs -----------------------------------------------------------------------------------------------

REPR_LAYERS = [
    "Linear(3, 4)", "Linear(3, 4, bias=False)", "Linear(in_features=120, out_features=84)",
    "Conv2d(1, 6, 5, padding=2)", "Conv2d(6, 16, 5)", "Conv2d(3, 8, 3, stride=2, padding=1, bias=False)",
    "Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1))", "Conv2d(4, 8, 3, groups=4)",
    "Conv2d(4, 4, 3, padding='same')", "Conv2d(4, 4, 4, padding='same', dilation=2)", "Conv2d(4, 4, 3, padding='valid')",
    "Conv2d(2, 2, [3, 2], padding=[1, 0])", "Conv2d(2, 2, 1, padding=0, dilation=1, groups=1, bias=True)",
    "MaxPool2d(2)", "MaxPool2d(2, 2)", "MaxPool2d(3, stride=2, padding=1)", "MaxPool2d((2, 3))",
    "MaxPool2d(2, dilation=2, ceil_mode=True)", "MaxPool2d(3, 1, 1, return_indices=True)",
    "AvgPool2d(2)", "AvgPool2d(3, stride=2, padding=1)", "AvgPool2d((2, 3), ceil_mode=True, count_include_pad=False)",
    "AvgPool2d(2, divisor_override=3)",
    "AdaptiveAvgPool2d(1)", "AdaptiveAvgPool2d((1, 1))", "AdaptiveAvgPool2d((None, 3))", "AdaptiveAvgPool2d(output_size=7)",
    "BatchNorm1d(10)", "BatchNorm2d(6)", "BatchNorm2d(6, eps=0.001, momentum=0.01)", "BatchNorm1d(4, momentum=None)",
    "BatchNorm2d(3, affine=False)", "BatchNorm2d(3, bias=False)", "BatchNorm1d(3, track_running_stats=False)",
    "Dropout()", "Dropout(0.2)", "Dropout(p=0.1, inplace=True)", "Dropout2d()", "Dropout2d(0.3)",
    "ReLU()", "ReLU(inplace=True)", "LeakyReLU()", "LeakyReLU(0.2)", "LeakyReLU(0.1, inplace=True)", "ELU()",
    "ELU(alpha=0.5)", "Sigmoid()", "Tanh()", "Softmax(dim=1)", "Softmax()", "LogSoftmax(dim=-1)",
    "Flatten()", "Flatten(0, 2)", "Unflatten(1, (16, 5, 5))", "Unflatten(1, [16, 5, 5])", "Identity()",
    "CrossEntropyLoss()", "CrossEntropyLoss(label_smoothing=0.1, reduction='sum')", "NLLLoss()",
    "MultiMarginLoss(p=2)", "MSELoss()", "L1Loss()", "SmoothL1Loss(beta=0.5)", "HuberLoss(delta=2.0)",
    "BCEWithLogitsLoss()",
]


@pytest.mark.parametrize("expr", REPR_LAYERS)
def test_repr_matches_torch(expr):
    e_layer, t_layer = eval("enn." + expr), eval("tnn." + expr)
    assert str(e_layer) == str(t_layer)
    assert repr(e_layer) == repr(t_layer)


def _lenet_like(nn):
    return nn.Sequential(OrderedDict([
        ("features", nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2))),
        ("flatten", nn.Flatten()),
        ("classifier", nn.Sequential(nn.Dropout(0.5), nn.Linear(400, 120), nn.BatchNorm1d(120), nn.ReLU(),
                                     nn.Linear(120, 10))),
    ]))


def test_nested_model_repr_matches_torch():
    assert str(_lenet_like(enn)) == str(_lenet_like(tnn))


# ---- a torch state_dict loads 1:1 -------------------------------------------------------------------------


def _model(nn):
    class Net(nn.Module):
        """features / classifier naming, as torchvision's models."""

        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8, affine=False), nn.ReLU()),
                nn.Conv2d(8, 12, 1), nn.BatchNorm2d(12, momentum=None), nn.AdaptiveAvgPool2d((2, 2)),
            )
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Dropout(0.3), nn.Linear(48, 20), nn.BatchNorm1d(20, bias=False), nn.ReLU(),
                nn.Linear(20, 5),
            )
            self.loss = nn.CrossEntropyLoss(weight=_t(nn, np.linspace(0.5, 1.5, 5).astype(np.float32)))

        def forward(self, x):
            return self.classifier(self.features(x))

    return Net()


def _trained_torch_model():
    torch.manual_seed(0)
    t_model = _model(tnn)
    t_model.train()
    opt = torch.optim.SGD(t_model.parameters(), lr=0.1)
    for step in range(2):  # non-trivial running statistics and num_batches_tracked
        x = torch.tensor(random_array((4, 3, 8, 8), "float32", np.random.default_rng(step)))
        loss = t_model.loss(t_model(x), torch.tensor([0, 1, 2, 3]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return t_model.eval()


def test_torch_state_dict_loads_into_ember_model():
    t_model = _trained_torch_model()
    e_model = _model(enn).eval()
    state = {k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()}
    result = e_model.load_state_dict(state)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    e_state = e_model.state_dict()
    assert list(e_state) == list(t_model.state_dict())
    for key, value in t_model.state_dict().items():
        assert e_state[key].dtype == np.dtype(str(value.dtype).replace("torch.", "")), key
        np.testing.assert_array_equal(e_state[key].numpy(), value.numpy(), err_msg=key)
    x = random_array((3, 3, 8, 8), "float32", np.random.default_rng(9))
    with torch.no_grad():
        expected = t_model(torch.tensor(x))
    with ember.no_grad():
        got = e_model(ember.tensor(x))
    assert_close(got, expected, "float32", "eval logits")


def test_ember_state_dict_loads_into_torch_model():
    ember.manual_seed(3)
    e_model = _model(enn)
    e_model(ember.randn(4, 3, 8, 8))  # one training step of the running statistics
    t_model = _model(tnn)
    t_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e_model.state_dict().items()})
    e_model.eval()
    t_model.eval()
    x = random_array((2, 3, 8, 8), "float32", np.random.default_rng(10))
    with torch.no_grad():
        expected = t_model(torch.tensor(x))
    with ember.no_grad():
        assert_close(e_model(ember.tensor(x)), expected, "float32", "eval logits")
