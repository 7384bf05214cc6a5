"""Version counters: an in-place change to something backward still needs raises torch's error instead of
giving a wrong gradient (ember/autograd/version.py); what torch allows stays allowed."""

import numpy as np
import pytest
import torch

import ember

MESSAGE = "modified by an inplace operation"


def _both(build):
    """Run ``build(lib)`` with torch and with ember; return (torch outcome, ember outcome): the gradient
    it returns, or the exception type."""
    outcomes = []
    for lib in (torch, ember):
        try:
            outcomes.append(np.asarray(build(lib)))
        except RuntimeError as error:
            outcomes.append((RuntimeError, str(error)))
    return outcomes


def _mul_then(change):
    def build(lib):
        w = lib.tensor([0.1, -0.5, 0.3], requires_grad=True)
        x = lib.tensor([0.105, -0.536, 0.362])
        y = w * x
        change(lib, w, x)
        y.sum().backward()
        return w.grad.detach().numpy() if lib is torch else w.grad.numpy()
    return build


def _iadd(lib, w, x):
    x += 1


def _setitem(lib, w, x):
    x[0] = 100


def _zero(lib, w, x):
    x.zero_()


def _fill(lib, w, x):
    x.fill_(2.0)


def _copy(lib, w, x):
    x.copy_(lib.ones(3))


def _method(lib, w, x):
    x.mul_(3)


def _clamp(lib, w, x):
    x.clamp_(0, 0.2)


def _view_write(lib, w, x):
    x[1:].add_(1)


def _random(lib, w, x):
    x.uniform_()


def _out(lib, w, x):
    lib.add(lib.ones(3), 1, out=x)


RAISES = [_iadd, _setitem, _zero, _fill, _copy, _method, _clamp, _view_write, _random, _out]


@pytest.mark.parametrize("change", RAISES, ids=lambda f: f.__name__[1:])
def test_in_place_change_of_a_saved_input_raises_as_in_torch(change):
    torch_outcome, ember_outcome = _both(_mul_then(change))
    assert isinstance(torch_outcome, tuple) and torch_outcome[0] is RuntimeError
    assert isinstance(ember_outcome, tuple), f"Ember gave a gradient {ember_outcome} where torch raised"
    assert MESSAGE in ember_outcome[1] and "MulBackward0" in ember_outcome[1]
    assert "version 1" in ember_outcome[1] and "expected version 0" in ember_outcome[1]


def test_the_issue_case_names_the_op_and_the_fix():
    with pytest.raises(RuntimeError, match=MESSAGE) as info:
        _mul_then(_iadd)(ember)
    assert "[ember.FloatTensor [3]]" in str(info.value) and ".clone()" in str(info.value)


def test_parameter_changed_under_no_grad_raises():
    def build(lib):
        w = lib.tensor([0.1, -0.5, 0.3], requires_grad=True)
        y = (w * w).sum()
        with lib.no_grad():
            w -= 1
        y.backward()
        return w.grad
    torch_outcome, ember_outcome = _both(build)
    assert torch_outcome[0] is RuntimeError and ember_outcome[0] is RuntimeError


def test_saved_output_changed_under_no_grad_raises():
    def build(lib):
        w = lib.tensor([0.1, -0.5, 0.3], requires_grad=True)
        y = w.sigmoid()
        with lib.no_grad():
            y.mul_(2)
        y.sum().backward()
        return w.grad
    assert [o[0] for o in _both(build)] == [RuntimeError, RuntimeError]


def test_optimizer_step_between_forward_and_backward_raises():
    def build(lib):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2)
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        x = lib.ones(4, 3, requires_grad=True)
        loss = lin(x).sum()
        loss.backward(retain_graph=True)
        opt.step()
        loss.backward()
        return x.grad
    assert [o[0] for o in _both(build)] == [RuntimeError, RuntimeError]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_every_optimizer_step_moves_the_parameters_versions(optimizer):
    lin = ember.nn.Linear(3, 2)
    opt = getattr(ember.optim, optimizer)(lin.parameters(), lr=0.1)
    lin(ember.ones(2, 3)).sum().backward()
    before = lin.weight._version
    opt.step()
    assert lin.weight._version == before + 1


def test_allowed_patterns_still_work():
    """What torch accepts: changing what nothing saved, changing after backward, out-of-place updates,
    in-place ops inside the graph, a detached copy, the training loop."""
    w = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = ember.tensor([1.0, 1.0, 1.0])
    y = w + x  # add saves nothing
    x += 5
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1, 1, 1])

    w.grad = None
    x = ember.tensor([2.0, 2.0, 2.0])
    y = w * x
    y.sum().backward()
    x += 1  # after backward: nothing left to corrupt
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2, 2])

    w.grad = None
    h = w * 2
    h.relu_()  # in the graph: recorded as a node, as torch records it
    h.add_(1)
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2, 2])

    x = ember.tensor([1.0, 2.0, 3.0])
    c = x.clone()
    w.grad = None
    y = w * c
    x.zero_()  # the clone has its own storage and version
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1, 2, 3])


def test_training_loop_runs():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = ember.randn(16, 4), ember.randint(0, 2, (16,))
    for _ in range(3):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()


def test_versions_match_torch_counts():
    for lib in (torch, ember):
        x = lib.zeros(3)
        v = x[1:]
        x.add_(1)
        v.mul_(2)
        x[0] = 3
        assert x._version == v._version == 3, lib.__name__


def test_in_place_on_a_leaf_that_requires_grad_raises():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.__iadd__(1), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            change()


def test_custom_function_mark_dirty_bumps_the_version():
    class AddOneInPlace(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.array[...] += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    w = ember.tensor([1.0, 2.0], requires_grad=True)
    x = ember.tensor([1.0, 1.0])
    y = w * x
    AddOneInPlace.apply(x)
    with pytest.raises(RuntimeError, match=MESSAGE):
        y.sum().backward()


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_only_what_a_gradient_needs_is_guarded(lib):
    """mul and linear keep an operand only for the other operand's gradient (as torch does): changing
    the weight after forward on an input that needs no gradient is allowed, and the gradient is right."""
    w = lib.tensor([[1.0, 2.0]], requires_grad=True)
    x = lib.tensor([[3.0, 4.0]])
    y = lib.nn.functional.linear(x, w) + (w * x).sum()
    with lib.no_grad():
        w.mul_(10)
    y.sum().backward()
    assert w.grad.tolist() == [[6.0, 8.0]]
