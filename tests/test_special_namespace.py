"""ember.special: torch.special's names, compared with torch (values and, for the new compositions, gradients)."""

import numpy as np
import pytest
import torch

import ember
from helpers import check_op

X = np.linspace(-3, 3, 13)
CASES = {
    "expit": (X,), "ndtr": (X,), "log_ndtr": (X,), "gammaln": (np.abs(X) + 0.1,), "psi": (np.abs(X) + 0.1,),
    "digamma": (np.abs(X) + 0.1,), "erfinv": (X / 3.5,), "entr": (np.array([-1.0, 0.0, 0.5, 2.0]),),
    "logit": (np.abs(X) / 4 + 0.01,), "sinc": (X,), "i0": (X,), "erf": (X,), "erfc": (X,), "expm1": (X,),
    "log1p": (np.abs(X),), "exp2": (X,), "xlogy": (X, np.abs(X) + 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch_special(name):
    args = CASES[name]
    got = getattr(ember.special, name)(*[ember.tensor(a) for a in args]).numpy()
    want = getattr(torch.special, name)(*[torch.tensor(a) for a in args]).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["ndtr", "log_ndtr", "entr"])
def test_gradients_of_the_compositions_match_torch(name):
    arrays = [np.array([0.3, 1.2, 2.5])] if name == "entr" else [np.linspace(-2, 2, 5)]
    check_op(getattr(ember.special, name), getattr(torch.special, name), arrays=arrays)


def test_the_torch_special_path_resolves_under_ember_run():
    from ember.app.torch_alias import target

    assert target("torch.special") == "ember.special"
