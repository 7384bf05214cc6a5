"""``ember.nn.modules.<submodule>`` mirrors ``torch.nn.modules.<submodule>``: every layer Ember has sits at
torch's import path and is the very same class as ``ember.nn.X``; torch's private base classes that torch
code subclasses or isinstance-checks are there too; RNN.flatten_parameters is a harmless no-op."""

import importlib

import numpy as np
import pytest
import torch.nn as tnn

import ember
import ember.nn as enn
import ember.nn.modules as emodules


def _torch_layers():
    """(name, torch submodule) of every public torch.nn class defined under torch.nn.modules."""
    out = []
    for name in dir(tnn):
        obj = getattr(tnn, name)
        if isinstance(obj, type) and obj.__module__.startswith("torch.nn.modules."):
            out.append((name, obj.__module__.rsplit(".", 1)[1]))
    return out


TORCH_LAYERS = _torch_layers()
# Layers other branches add (LayerNorm, GroupNorm, MultiheadAttention, Transformer...) are checked by this
# same test once they are in ember.nn: only the layers Ember has are required at torch's path.
SHARED = [(name, sub) for name, sub in TORCH_LAYERS if hasattr(enn, name)]


def test_enough_layers_are_checked():
    names = {name for name, _ in SHARED}
    assert {"Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "AdaptiveMaxPool2d", "GELU", "PReLU", "LSTM",
            "Embedding", "Sequential", "Module", "ReflectionPad2d", "CrossEntropyLoss", "BatchNorm2d",
            "LocalResponseNorm", "Flatten", "Upsample", "Dropout1d", "Identity", "ModuleDict"} <= names
    assert len(SHARED) >= 80


@pytest.mark.parametrize("name,submodule", SHARED, ids=[n for n, _ in SHARED])
def test_layer_is_at_torchs_path(name, submodule):
    module = importlib.import_module(f"ember.nn.modules.{submodule}")
    assert getattr(module, name) is getattr(enn, name), f"ember.nn.modules.{submodule}.{name}"
    assert getattr(emodules, name) is getattr(enn, name), f"ember.nn.modules.{name}"
    assert name in module.__all__


def test_from_imports_as_torch_code_writes_them():
    from ember.nn.modules.activation import GELU, ReLU, Softmax
    from ember.nn.modules.batchnorm import BatchNorm2d, _BatchNorm
    from ember.nn.modules.container import ModuleList, Sequential
    from ember.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d, _ConvNd
    from ember.nn.modules.linear import Identity, Linear
    from ember.nn.modules.loss import CrossEntropyLoss, _Loss
    from ember.nn.modules.module import Module
    from ember.nn.modules.normalization import LocalResponseNorm
    from ember.nn.modules.padding import ZeroPad2d
    from ember.nn.modules.pooling import AdaptiveMaxPool2d, MaxPool2d
    from ember.nn.modules.rnn import LSTM, RNNBase
    from ember.nn.modules.sparse import Embedding
    from ember.nn.modules.utils import _pair, _reverse_repeat_tuple, _single

    assert Conv2d is enn.Conv2d and ConvTranspose2d is enn.ConvTranspose2d and Conv1d is enn.Conv1d
    assert issubclass(Conv2d, _ConvNd) and issubclass(enn.BatchNorm1d, _BatchNorm)
    assert issubclass(CrossEntropyLoss, _Loss) and issubclass(LSTM, RNNBase)
    assert Module is enn.Module and Sequential is enn.Sequential and ModuleList is enn.ModuleList
    assert (GELU, ReLU, Softmax, BatchNorm2d, Identity, Linear, LocalResponseNorm, ZeroPad2d, AdaptiveMaxPool2d,
            MaxPool2d, Embedding) == (enn.GELU, enn.ReLU, enn.Softmax, enn.BatchNorm2d, enn.Identity, enn.Linear,
                                      enn.LocalResponseNorm, enn.ZeroPad2d, enn.AdaptiveMaxPool2d, enn.MaxPool2d,
                                      enn.Embedding)
    assert _pair(3) == (3, 3) and _pair([1, 2]) == (1, 2) and _single(4) == (4,)
    assert _reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)


def test_submodules_export_only_layers():
    for sub in ("conv", "pooling", "activation", "padding", "dropout", "loss", "rnn"):
        module = importlib.import_module(f"ember.nn.modules.{sub}")
        assert module.__all__, sub
        assert all(issubclass(getattr(module, n), enn.Module) for n in module.__all__), sub


@pytest.mark.parametrize("make", [
    lambda m: m.LSTM(3, 4, num_layers=2), lambda m: m.GRU(3, 4, bidirectional=True), lambda m: m.RNN(3, 4)])
def test_flatten_parameters_is_a_no_op_returning_none(make):
    ember.manual_seed(0)
    layer = make(enn)
    x = ember.randn(5, 2, 3)
    before = layer(x)[0].detach().numpy()
    weights = {k: v.detach().numpy().copy() for k, v in layer.state_dict().items()}
    assert layer.flatten_parameters() is None
    assert make(tnn).flatten_parameters() is None  # torch's on the CPU: None as well
    np.testing.assert_array_equal(layer(x)[0].detach().numpy(), before)
    assert all(np.array_equal(v.detach().numpy(), weights[k]) for k, v in layer.state_dict().items())
