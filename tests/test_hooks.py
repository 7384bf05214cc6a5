"""Tensor.register_hook / retain_grad / retains_grad, compared with torch."""

import numpy as np
import pytest
import torch

import ember


def _run(mod, with_remove=False):
    """The same program in torch and Ember: hooks on a leaf used twice and on a non-leaf, one replacing."""
    x = mod.tensor([1.0, -2.0, 3.0], dtype=mod.float64, requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: g * 10)
    y = x * 2
    y.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    y.retain_grad()
    z = (y * y).sum() + (x * 3).sum()
    if with_remove:
        handle.remove()
    z.backward()
    return x.grad.numpy(), y.grad.numpy(), seen


@pytest.mark.parametrize("with_remove", [False, True])
def test_hooks_match_torch(with_remove):
    e, t = _run(ember, with_remove), _run(torch, with_remove)
    np.testing.assert_allclose(e[0], t[0])
    np.testing.assert_allclose(e[1], t[1])
    assert len(e[2]) == len(t[2]) == 1
    np.testing.assert_allclose(e[2][0], t[2][0])


def test_leaf_hook_sees_the_sum_of_all_paths_once():
    calls = []
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: calls.append(g.numpy().copy()))
    (x * 2 + x * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0, 5.0])


def test_nonleaf_hook_replaces_gradient_before_backward_and_retain_grad():
    def program(mod):
        a = mod.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mod.float64, requires_grad=True)
        b = a.exp()
        b.retain_grad()
        b.register_hook(lambda g: g * 0 + 1)
        c = b.sin()
        c.register_hook(lambda g: g.clamp(max=0.5))
        (c * c).sum().backward()
        return a.grad.numpy(), b.grad.numpy()

    for e, t in zip(program(ember), program(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-12)


def test_hook_modifying_in_place_and_order():
    def program(mod):
        x = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
        x.register_hook(lambda g: g + 1)
        x.register_hook(lambda g: g * 3)
        (x * x).sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(program(ember), program(torch))


def test_hooks_in_autograd_grad():
    def program(mod):
        x = mod.tensor([1.0, 2.0], dtype=mod.float64, requires_grad=True)
        x.register_hook(lambda g: g * 2)
        y = x ** 2
        y.register_hook(lambda g: g + 1)
        return mod.autograd.grad(y.sum(), x)[0].numpy()

    np.testing.assert_allclose(program(ember), program(torch))


def test_retains_grad_property():
    for mod in (ember, torch):
        x = mod.ones(2, requires_grad=True)
        y = x * 2
        assert x.retains_grad is False and y.retains_grad is False
        y.retain_grad()
        assert y.retains_grad is True


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.ones(2).register_hook(lambda g: g)


def test_handle_is_a_context_manager_and_wrong_shape_is_refused():
    x = ember.ones(3, requires_grad=True)
    with x.register_hook(lambda g: g * 100):
        pass
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1])
    x.grad = None
    x.register_hook(lambda g: ember.ones(4))
    with pytest.raises(RuntimeError, match="shape"):
        (x * 1).sum().backward()


def test_hook_on_parameter_in_a_module_training_step():
    def program(mod):
        mod.manual_seed(0)
        lin = mod.nn.Linear(3, 2).double()
        with mod.no_grad():
            lin.weight.copy_(mod.tensor(np.arange(6.0).reshape(2, 3)))
            lin.bias.zero_()
        lin.weight.register_hook(lambda g: g.clamp(-0.1, 0.1))
        x = mod.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
        lin(x).pow(2).mean().backward()
        return lin.weight.grad.numpy(), lin.bias.grad.numpy()

    for e, t in zip(program(ember), program(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-12)
