"""nn.utils.parametrize and nn.utils.parametrizations.weight_norm against torch: state_dict keys, values,
gradients reaching the originals, assignment through right_inverse, caching and removal."""

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from ember.nn.utils import parametrizations, parametrize
from tests.helpers import assert_close, check_module, copy_weights


class Symmetric(enn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(0, 1)


class TSymmetric(torch.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(0, 1)


class Scale(enn.Module):
    def forward(self, x):
        return x * 2.0

    def right_inverse(self, x):
        return x / 2.0


class TScale(torch.nn.Module):
    def forward(self, x):
        return x * 2.0

    def right_inverse(self, x):
        return x / 2.0


def test_symmetric_weight_matches_torch():
    e, t = enn.Linear(3, 3), torch.nn.Linear(3, 3).double()
    e.to("float64")
    copy_weights(t, e)
    parametrize.register_parametrization(e, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(t, "weight", TSymmetric())
    assert list(e.state_dict()) == list(t.state_dict())
    assert type(e).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert parametrize.is_parametrized(e) and parametrize.is_parametrized(e, "weight")
    assert not parametrize.is_parametrized(e, "bias")
    w = e.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    check_module(e, t, [(2, 3)])
    assert parametrize.type_before_parametrizations(e) is enn.Linear


def test_chained_and_assigned_through_right_inverse():
    e, t = enn.Linear(2, 2), torch.nn.Linear(2, 2)
    copy_weights(t, e)
    for lib_e, m, p in ((True, e, Scale()), (False, t, TScale())):
        (parametrize if lib_e else torch.nn.utils.parametrize).register_parametrization(m, "weight", p)
    assert_close(e.weight, t.weight, "float32")
    e.weight = ember.ones(2, 2)
    with torch.no_grad():
        t.weight = torch.ones(2, 2)
    assert_close(e.parametrizations.weight.original, t.parametrizations.weight.original, "float32")
    assert_close(e.weight, t.weight, "float32")
    with parametrize.cached():
        assert e.weight is e.weight
    assert e.weight is not e.weight
    parametrize.remove_parametrizations(e, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert type(e) is enn.Linear and list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight, "float32")


@pytest.mark.parametrize("dim", [0, 1])
def test_parametrizations_weight_norm_matches_torch(dim):
    e, t = enn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
    copy_weights(t, e)
    parametrizations.weight_norm(e, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, [(2, 2, 5, 5)])
    parametrize.remove_parametrizations(e, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert list(e.state_dict()) == list(t.state_dict())


def test_errors():
    with pytest.raises(ValueError, match="does not have"):
        parametrize.register_parametrization(enn.Linear(2, 2), "nope", Symmetric())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(enn.Linear(2, 2), "weight")
