"""Issue 11's leaner optimizer step and gradient accumulation.

SGD's step now makes one temporary per parameter (out=) instead of three: the parameters and the momentum
buffers must come out bit for bit as the textbook formula computed with fresh arrays, and the caller's
.grad must never be written. A second backward adds into the existing .grad in place, as torch's
AccumulateGrad does (the same Tensor, now holding the sum), unless that array may not be written.
"""

import numpy as np
import pytest
import torch

import ember
from helpers import assert_close

CONFIGS = {
    "plain": dict(),
    "weight decay": dict(weight_decay=5e-4),
    "momentum": dict(momentum=0.9),
    "momentum + weight decay": dict(momentum=0.9, weight_decay=5e-4),
    "dampening": dict(momentum=0.9, dampening=0.3, weight_decay=1e-3),
    "nesterov": dict(momentum=0.9, nesterov=True, weight_decay=5e-4),
    "maximize": dict(momentum=0.9, weight_decay=5e-4, maximize=True),
}


def _reference_sgd(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """The update rule with a fresh array for every intermediate (the code before issue 11)."""
    buf = None
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            if buf is None:
                buf = g.copy()
            else:
                buf = buf * momentum
                buf += g if dampening == 0 else (1.0 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
    return theta, buf


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_sgd_step_same_bits_as_the_formula_and_grad_untouched(config, dtype):
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal((7, 5)).astype(dtype)
    grads = [rng.standard_normal((7, 5)).astype(dtype) for _ in range(4)]
    p = ember.nn.Parameter(ember.Tensor(theta0.copy()))
    opt = ember.optim.SGD([p], lr=0.05, **config)
    for g in grads:
        p.grad = ember.Tensor(g.copy())
        opt.step()
        assert np.array_equal(p.grad.array, g), "the step wrote into .grad"
    theta, buf = _reference_sgd(theta0, grads, 0.05, **config)
    assert p.array.dtype == np.dtype(dtype)
    assert np.array_equal(p.array, theta)
    if buf is not None:
        assert np.array_equal(opt.state[p]["momentum_buffer"], buf)


def test_sgd_step_on_a_scalar_parameter_matches_torch():
    ep = ember.nn.Parameter(ember.tensor(1.5))
    tp = torch.nn.Parameter(torch.tensor(1.5, dtype=torch.float32))
    eo = ember.optim.SGD([ep], lr=0.1, momentum=0.9, weight_decay=1e-2)
    to = torch.optim.SGD([tp], lr=0.1, momentum=0.9, weight_decay=1e-2)
    for g in (0.5, -0.25, 1.0):
        ep.grad, tp.grad = ember.tensor(g), torch.tensor(g)
        eo.step()
        to.step()
    assert ep.shape == () and abs(float(ep.item()) - float(tp.item())) < 1e-6


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_second_backward_adds_into_the_same_grad_as_torch(dtype):
    rng = np.random.default_rng(1)
    a, w = rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    ex, ew = ember.Tensor(a), ember.Tensor(w.copy(), requires_grad=True)
    tx, tw = torch.tensor(a), torch.tensor(w, requires_grad=True)
    (ex @ ew).tanh().sum().backward()
    (tx @ tw).tanh().sum().backward()
    e_first, t_first = ew.grad, tw.grad
    (ex @ ew).sin().sum().backward()
    (tx @ tw).sin().sum().backward()
    assert (ew.grad is e_first) == (tw.grad is t_first) == True  # noqa: E712  (both accumulate in place)
    assert_close(ew.grad, tw.grad, dtype)
    assert ew.grad.dtype == ew.dtype


def test_grad_that_may_not_be_written_is_replaced_not_written():
    w = ember.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    frozen = np.zeros(3, dtype=np.float32)
    frozen.flags.writeable = False
    w.grad = ember.Tensor(frozen)
    (w * 2).sum().backward()
    assert np.array_equal(frozen, np.zeros(3)) and np.array_equal(w.grad.array, np.full(3, 2.0))


def test_accumulating_a_grad_bumps_its_version():
    w = ember.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (w * 2).sum().backward()
    g = w.grad
    x = ember.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = x * g  # the mul gate saves g for dy/dx
    (w * 3).sum().backward()  # adds into g in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
