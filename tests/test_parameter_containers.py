"""ParameterList and ParameterDict: registered under torch's names, seen by parameters(), state_dict and
optimizers, and behaving as a list / dict."""

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn


class WithList(enn.Module):
    def __init__(self):
        super().__init__()
        self.ws = enn.ParameterList([enn.Parameter(ember.ones(2, 2)) for _ in range(3)])
        self.d = enn.ParameterDict({"b": enn.Parameter(ember.zeros(2)), "a": enn.Parameter(ember.ones(1))})

    def forward(self, x):
        for w in self.ws:
            x = x @ w
        return x + self.d["b"]


class TorchWithList(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ws = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 2)) for _ in range(3)])
        self.d = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.zeros(2)), "a": torch.nn.Parameter(torch.ones(1))})


def test_state_dict_keys_match_torch():
    assert list(WithList().state_dict()) == list(TorchWithList().state_dict())
    assert len(list(WithList().parameters())) == 5


def test_parameter_list_behaves_as_a_list():
    pl = enn.ParameterList()
    pl.append(ember.randn(3))  # a plain Tensor becomes a Parameter, as in torch
    pl.extend([enn.Parameter(ember.randn(2)), enn.Parameter(ember.randn(1))])
    assert len(pl) == 3 and isinstance(pl[0], enn.Parameter) and pl[0].requires_grad
    assert pl[-1].shape == (1,)
    assert [p.shape for p in pl[1:]] == [(2,), (1,)]
    pl[0] = enn.Parameter(ember.zeros(4))
    assert pl[0].shape == (4,)
    with pytest.raises(IndexError):
        pl[3]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)


def test_parameter_dict_behaves_as_a_dict():
    pd = enn.ParameterDict()
    pd["x"] = ember.ones(2)
    pd.update([("y", enn.Parameter(ember.zeros(1)))])
    assert list(pd.keys()) == ["x", "y"] and "x" in pd and len(pd) == 2
    assert isinstance(pd["x"], enn.Parameter)
    assert pd.pop("x").shape == (2,) and list(pd) == ["y"]
    assert pd.get("nope") is None
    assert [n for n, _ in pd.named_parameters()] == ["y"]


def test_an_optimizer_trains_through_them():
    m = WithList()
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    loss = m(ember.ones(1, 2)).sum()
    loss.backward()
    opt.step()
    assert not np.allclose(m.ws[0].array, 1.0)
    assert m.d["a"].grad is None


def test_buffer_assignment_registers_as_torch():
    class E(enn.Module):
        def __init__(self):
            super().__init__()
            self.a = enn.Buffer(ember.zeros(2))
            self.b = enn.Buffer(ember.ones(1), persistent=False)

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Buffer(torch.zeros(2))
            self.b = torch.nn.Buffer(torch.ones(1), persistent=False)

    e, t = E(), T()
    assert list(e.state_dict()) == list(t.state_dict()) == ["a"]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()] == ["a", "b"]
    assert type(e.a) is ember.Tensor and not e.a.requires_grad
    assert list(e.parameters()) == []
