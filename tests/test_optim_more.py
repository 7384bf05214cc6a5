"""NAdam, RAdam, Adamax, ASGD, Rprop and LBFGS against torch.optim step by step: the same parameters, the same
gradients (changing scale each step, one parameter sometimes without one), the same numbers after every step;
LBFGS on a real closure (a small least-squares + tanh model), with and without the strong-Wolfe line search."""

import numpy as np
import pytest
import torch

import ember
import ember.optim as optim
from ember.nn import Parameter
from tests.test_optim import STEPS, close, gradient_stream, make_params, set_grads

CONFIGS = [
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.9))),  # ρ_t > 5 from step 5 on: both branches run
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1)),
    ("Adamax", dict(maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=4, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=2, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(maximize=True)),
]


def config_id(config):
    return config[0] + "-" + ",".join(f"{k}={v}" for k, v in config[1].items())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_matches_torch_step_by_step(config, dtype):
    name, kwargs = config
    previous = torch.get_default_dtype()
    # NAdam's mu_product and ASGD's eta/mu are kept in the default dtype (torch's "scalar dtype"): the same in both
    torch.set_default_dtype(getattr(torch, dtype))
    ember.set_default_dtype(getattr(ember, dtype))
    try:
        t_params, e_params = make_params(dtype)
        t_opt = getattr(torch.optim, name)(t_params, **kwargs)
        e_opt = getattr(optim, name)(e_params, **kwargs)
        data = [p.array for p in e_params]
        for step, grads in enumerate(gradient_stream(dtype, steps=STEPS + 8)):
            set_grads(t_params, e_params, grads)
            t_opt.step()
            e_opt.step()
            for i, (tp, ep) in enumerate(zip(t_params, e_params)):
                assert ep.array is data[i], "step() must update p.array in place"
                assert ep.dtype == np.dtype(dtype)
                close(ep.array, tp.detach().numpy(), dtype, f"{name} {kwargs}: parameter {i} after step {step}")
        t_state, e_state = t_opt.state_dict()["state"], e_opt.state_dict()["state"]
        for index, t_entry in t_state.items():
            assert sorted(e_state[index]) == sorted(t_entry), f"state keys of parameter {index}"
            for key, t_value in t_entry.items():
                e_value = e_state[index][key]
                if isinstance(e_value, np.ndarray) and e_value.shape == tuple(t_value.shape) and t_value.ndim:
                    close(e_value, t_value.numpy(), dtype, f"state {key}")
                else:
                    assert float(e_value) == pytest.approx(float(t_value), rel=1e-6), f"state {key}"
    finally:
        torch.set_default_dtype(previous)
        ember.set_default_dtype(getattr(ember, str(previous).replace("torch.", "")))


def test_hyper_parameters_are_validated_as_torch():
    p = [Parameter(np.ones(2))]
    for name, kwargs in [("NAdam", dict(lr=-1)), ("RAdam", dict(betas=(1.0, 0.9))), ("Adamax", dict(eps=-1)),
                         ("Rprop", dict(etas=(1.5, 1.2)))]:
        with pytest.raises(ValueError):
            getattr(optim, name)(p, **kwargs)
        with pytest.raises(ValueError):
            getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kwargs)


# ---- LBFGS ----------------------------------------------------------------------------------------------------


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((20, 3)).astype(dtype)
    y = (np.tanh(x @ np.array([1.5, -2.0, 0.5])) + 0.1 * rng.standard_normal(20)).astype(dtype)
    w0 = (0.1 * rng.standard_normal(3)).astype(dtype)
    b0 = np.zeros(1, dtype=dtype)
    return x, y, w0, b0


def _run_lbfgs(lib, dtype, steps, **kwargs):
    x, y, w0, b0 = _problem(dtype)
    if lib is torch:
        w, b = torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))
        X, Y = torch.tensor(x), torch.tensor(y)
        opt = torch.optim.LBFGS([w, b], **kwargs)
    else:
        w, b = Parameter(w0.copy()), Parameter(b0.copy())
        X, Y = ember.tensor(x), ember.tensor(y)
        opt = optim.LBFGS([w, b], **kwargs)
    evals = [0]

    def closure():
        evals[0] += 1
        opt.zero_grad()
        loss = ((lib.tanh(X @ w + b) - Y) ** 2).mean()
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return losses, w.detach().numpy().copy(), b.detach().numpy().copy(), evals[0]


@pytest.mark.parametrize("kwargs", [dict(), dict(lr=0.5, max_iter=5), dict(history_size=2, max_iter=7),
                                    dict(line_search_fn="strong_wolfe"),
                                    dict(line_search_fn="strong_wolfe", history_size=3, max_iter=4, lr=0.8)], ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lbfgs_matches_torch(kwargs, dtype):
    t_losses, t_w, t_b, t_evals = _run_lbfgs(torch, dtype, 3, **kwargs)
    e_losses, e_w, e_b, e_evals = _run_lbfgs(ember, dtype, 3, **kwargs)
    assert e_evals == t_evals, "a different number of closure evaluations"
    tol = dict(rtol=1e-7) if dtype == "float64" else dict(rtol=1e-3, atol=1e-4)  # many iterations compound rounding
    np.testing.assert_allclose(e_losses, t_losses, **tol)
    np.testing.assert_allclose(e_w, t_w, **tol)
    np.testing.assert_allclose(e_b, t_b, **tol)
    assert e_losses[-1] < e_losses[0]


def test_lbfgs_rules():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [p]}, {"params": [Parameter(np.ones(1))]}])
    opt = optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step(None)
