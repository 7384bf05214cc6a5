"""What *Dive into Deep Learning* 1.0's PyTorch code (with its ``d2l.torch`` helper module) needs from Ember,
each compared with torch: ``reversed(tensor)`` (the bidirectional RNN), loading a ``state_dict`` into a
freshly built lazy model (builders' guide, read-write), the RuntimeError of a window larger than its input
(shrinking AlexNet/NiN inputs), and a d2l-1.0-style program run through ``ember run``."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from ember import nn
from helpers import assert_close

PROGRAM = pathlib.Path(__file__).parent / "torch_programs" / "d2l_oo_design.py"
ROOT = pathlib.Path(__file__).resolve().parents[1]  # this checkout's ember, not an installed one


# ---- reversed(tensor) ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4,), (3, 2), (5, 2, 3)])
def test_reversed_is_flip_on_dim0_like_torch(shape):
    values = np.random.default_rng(0).standard_normal(shape)
    got = reversed(ember.tensor(values))
    want = reversed(torch.tensor(values))
    assert isinstance(got, ember.Tensor)
    assert tuple(got.shape) == tuple(want.shape)
    assert_close(got.numpy(), want.numpy())
    # iterating it gives the rows last to first, as the d2l BiRNN does
    assert [r.tolist() for r in got] == [r.tolist() for r in want]


def test_reversed_is_differentiable_like_torch():
    values = np.random.default_rng(1).standard_normal((4, 2, 3))
    weights = np.arange(24.0).reshape(4, 2, 3)
    x, tx = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    (reversed(x) * ember.tensor(weights)).sum().backward()
    (reversed(tx) * torch.tensor(weights)).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy())


def test_reversed_zero_dim_returns_the_tensor_like_torch():
    x, tx = ember.tensor(3.0), torch.tensor(3.0)
    assert reversed(x) is x and reversed(tx) is tx


# ---- load_state_dict into lazy layers ------------------------------------------------------------------------

def _lazy_pair():
    """The same small lazy CNN in Ember and torch."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.LazyConv2d(4, kernel_size=3, padding=1), lib.nn.LazyBatchNorm2d(),
                                 lib.nn.ReLU(), lib.nn.Flatten(), lib.nn.LazyLinear(3))
    return build(ember), build(torch)


def test_fresh_lazy_model_loads_a_state_dict_and_matches_torch(tmp_path):
    values = np.random.default_rng(2).standard_normal((2, 2, 5, 5)).astype(np.float32)
    source, _ = _lazy_pair()
    source(ember.tensor(values))
    source.train()(ember.tensor(values * 2))  # move the running statistics off their defaults
    ember.save(source.state_dict(), tmp_path / "m.params")

    clone, tclone = _lazy_pair()
    result = clone.load_state_dict(ember.load(tmp_path / "m.params"))
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    tclone.load_state_dict({k: torch.tensor(v.numpy()) for k, v in source.state_dict().items()})

    # as in torch: the shapes come from the checkpoint, the class changes at the first call
    assert [type(m).__name__ for m in clone] == [type(m).__name__ for m in tclone]
    for key, value in tclone.state_dict().items():
        assert tuple(clone.state_dict()[key].shape) == tuple(value.shape), key
    clone.eval(), tclone.eval(), source.eval()
    out = clone(ember.tensor(values))
    with torch.no_grad():
        tout = tclone(torch.tensor(values))
    assert [type(m).__name__ for m in clone] == [type(m).__name__ for m in tclone]
    assert type(clone[0]) is nn.Conv2d and type(clone[4]) is nn.Linear
    assert_close(out.detach().numpy(), tout.numpy(), dtype="float32")
    assert_close(out.detach().numpy(), source(ember.tensor(values)).detach().numpy(), dtype="float32")
    assert (clone[0].in_channels, clone[1].num_features, clone[4].in_features) == (2, 4, 100)


def test_lazy_load_keeps_parameter_identity_for_an_optimizer_built_before():
    model = nn.Sequential(nn.LazyLinear(3))
    weight = model[0].weight
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    model.load_state_dict({"0.weight": ember.ones(3, 4), "0.bias": ember.zeros(3)})
    assert model[0].weight is weight and tuple(weight.shape) == (3, 4)
    model(ember.ones(2, 4)).sum().backward()
    optimizer.step()
    assert_close(weight.detach().numpy(), np.full((3, 4), 1 - 0.1 * 2), dtype="float32")


def test_lazy_load_with_wrong_keys_still_reports_like_torch():
    model, tmodel = nn.Sequential(nn.LazyLinear(3)), torch.nn.Sequential(torch.nn.LazyLinear(3))
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        model.load_state_dict({"0.weight": ember.ones(3, 4)})
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        tmodel.load_state_dict({"0.weight": torch.ones(3, 4)})


# ---- a window larger than its input raises RuntimeError, as in torch ------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.MaxPool2d(kernel_size=3, stride=2),
    lambda lib: lib.nn.AvgPool2d(kernel_size=3),
    lambda lib: lib.nn.Conv2d(1, 1, kernel_size=5),
])
def test_window_larger_than_input_is_a_runtime_error_like_torch(make):
    with pytest.raises(RuntimeError):
        make(torch)(torch.zeros(1, 1, 2, 2))
    with pytest.raises(RuntimeError, match="kernel spans"):
        make(ember)(ember.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError):  # still a ValueError for Ember's own callers
        make(ember)(ember.zeros(1, 1, 2, 2))


# ---- a d2l-1.0-style program, unchanged, through `ember run` ----------------------------------------------------

def test_d2l_style_program_runs_and_learns(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ember.run", str(PROGRAM), "5"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])})
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    assert "'Conv2d'" in out and "'Linear'" in out and "'BatchNorm2d'" in out and "Lazy" not in out
    first = float(out.split("first train loss ")[1].split()[0])
    last = float(out.split("last train loss ")[1].split()[0])
    accuracy = float(out.split("val acc ")[1].split()[0])
    assert last < 0.6 * first, out
    assert accuracy >= 0.7, out  # four classes: chance is 0.25
    assert "clone matches: True" in out
    assert "birnn outputs 4 (2, 6) grad (4, 2, 5)" in out
    assert "too small input: RuntimeError caught" in out


def test_a_lazy_transposed_conv_takes_its_sizes_from_a_loaded_state_dict():
    source = ember.nn.ConvTranspose2d(6, 4, 3, groups=2)
    lazy = ember.nn.LazyConvTranspose2d(4, 3, groups=2)
    lazy.load_state_dict(source.state_dict())
    assert lazy.in_channels == 6
    x = ember.randn(1, 6, 5, 5)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), source(x).detach().numpy())
