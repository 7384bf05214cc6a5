"""Bad arguments to Tensor methods raise what torch raises, with a message that names the method and the
value (in-place random fills, in-place changes of leaves)."""

import pytest
import torch

import ember

CASES = [
    ("normal_ std<0", lambda m: m.empty(3).normal_(0, -1), "std -1"),
    ("normal_ std nan", lambda m: m.empty(3).normal_(0, float("nan")), "std nan"),
    ("uniform_ from>to", lambda m: m.empty(3).uniform_(1, 0), "from=1 > to=0"),
    ("exponential_ lambda<0", lambda m: m.empty(3).exponential_(-1), "lambda=-1"),
    ("exponential_ lambda=0", lambda m: m.empty(3).exponential_(0), "lambda=0"),
    ("bernoulli_ p>1", lambda m: m.empty(3).bernoulli_(1.5), "p=1.5"),
    ("bernoulli_ p<0", lambda m: m.empty(3).bernoulli_(-0.5), "p=-0.5"),
    ("random_ from>=to", lambda m: m.empty(3).random_(5, 2), "from=5 >= to=2"),
    ("add_ on a leaf", lambda m: m.ones(2, requires_grad=True).add_(1), "leaf Variable"),
    ("zero_ on a leaf", lambda m: m.ones(2, requires_grad=True).zero_(), "leaf Variable"),
    ("setitem on a leaf", lambda m: m.ones(2, requires_grad=True).__setitem__(0, 3.0), "leaf Variable"),
    ("fill_ on a leaf", lambda m: m.ones(2, requires_grad=True).fill_(3.0), "leaf Variable"),
    ("movedim source out of range", lambda m: m.zeros(2, 3, 4).movedim(5, 0), "got 5"),
    ("movedim destination out of range", lambda m: m.zeros(2, 3, 4).movedim(0, -4), "got -4"),
    ("movedim repeated source", lambda m: m.zeros(2, 3, 4).movedim((0, 0), (1, 2)), "repeated dim"),
    ("ragged nested list", lambda m: m.tensor([[1, 2], [3]]), "length"),
    ("strings", lambda m: m.tensor(["a"]), "'a'"),
    ("object array", lambda m: m.tensor(__import__("numpy").array([1, "a"], dtype=object)), "numpy.object_"),
    ("from_numpy object array", lambda m: m.from_numpy(__import__("numpy").array([1, "a"], dtype=object)), "object_"),
    ("requires_grad on int", lambda m: m.ones(2, dtype=m.int64).requires_grad_(), "floating point"),
]


@pytest.mark.parametrize("name, call, words", CASES, ids=[c[0] for c in CASES])
def test_raises_like_torch(name, call, words):
    with pytest.raises(Exception) as torch_error:
        call(torch)
    with pytest.raises(Exception) as ember_error:
        call(ember)
    assert ember_error.type is torch_error.type, f"{name}: torch raises {torch_error.type.__name__}"
    assert words in str(ember_error.value), str(ember_error.value)


def test_valid_fills_still_work():
    x = ember.empty(1000)
    assert float(x.uniform_(2, 3).min()) >= 2
    assert float(x.normal_(0, 0).abs().max()) == 0
    assert set(x.bernoulli_(ember.full((1000,), 0.0)).tolist()) == {0.0}
    assert float(x.random_(3, 4).min()) == 3
