"""Optimizers against torch.optim, step by step: the same parameters, the same gradients, the same numbers.

Every configuration runs 12 steps in float64 (relative 1e-9) and float32 (absolute 1e-5), with gradient
scales that change from step to step (so AMSGrad's maximum and RMSprop's averages really move) and one
parameter left without a gradient on some steps (it must be skipped, as torch skips it).
AdaBound has no torch twin: it is compared with an independent NumPy transcription of the paper.
"""

import gc
import json
import math
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.optim as optim
from ember.nn import Parameter

SHAPES = [(4, 3), (3,), (2, 2, 3), ()]
STEPS = 12

# (Ember class, torch class, kwargs): every hyper-parameter the brief names, alone and combined.
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.95, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1)),
    ("Adadelta", dict(eps=1e-3, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, eps=1e-4, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, amsgrad=True, betas=(0.5, 0.9))),
    ("AdamW", dict(lr=0.01, maximize=True)),
]
TORCH_TWINS = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]


def config_id(config):
    name, kwargs = config
    return name + "-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


def close(actual, expected, dtype, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5, err_msg=what)


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return [torch.nn.Parameter(torch.tensor(a)) for a in arrays], [Parameter(a.copy()) for a in arrays]


def gradient_stream(dtype, steps=STEPS, seed=1):
    """Per step, one gradient per parameter (None for parameter 1 on steps 3 and 7), at varying scales."""
    rng = np.random.default_rng(seed)
    for step in range(steps):
        scale = rng.uniform(0.05, 3.0)
        yield [None if (i == 1 and step in (3, 7)) else (scale * rng.standard_normal(s)).astype(dtype)
               for i, s in enumerate(SHAPES)]


def set_grads(t_params, e_params, grads):
    for tp, ep, g in zip(t_params, e_params, grads):
        tp.grad = None if g is None else torch.tensor(g)
        ep.grad = None if g is None else ember.Tensor(g.copy())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_matches_torch_step_by_step(config, dtype):
    name, kwargs = config
    t_params, e_params = make_params(dtype)
    t_opt = getattr(torch.optim, name)(t_params, **kwargs)
    e_opt = getattr(optim, name)(e_params, **kwargs)
    data = [p.array for p in e_params]
    for step, grads in enumerate(gradient_stream(dtype)):
        set_grads(t_params, e_params, grads)
        t_opt.step()
        e_opt.step()
        for i, (tp, ep) in enumerate(zip(t_params, e_params)):
            assert ep.array is data[i], "step() must update p.array in place, not replace it"
            assert ep.dtype == np.dtype(dtype), f"parameter {i} became {ep.dtype}"
            close(ep.array, tp.detach().numpy(), dtype, f"{name} {kwargs}: parameter {i} after step {step}")
    # The state has torch's names, values and dtypes, and holds no Tensors.
    t_state, e_state = t_opt.state_dict()["state"], e_opt.state_dict()["state"]
    assert sorted(e_state) == sorted(t_state)
    for index, t_entry in t_state.items():
        assert sorted(e_state[index]) == sorted(t_entry), f"state keys of parameter {index}"
        for key, t_value in t_entry.items():
            e_value = e_state[index][key]
            if key == "step":
                assert isinstance(e_value, int) and e_value == int(t_value.item())
            else:
                assert isinstance(e_value, np.ndarray) and e_value.dtype == np.dtype(dtype), f"state {key}"
                close(e_value, t_value.numpy(), dtype, f"state {key} of parameter {index}")


@pytest.mark.parametrize("name", TORCH_TWINS + ["AdaBound"])
def test_param_groups_with_their_own_hyper_parameters(name):
    t_params, e_params = make_params("float64")
    extra = {"SGD": dict(momentum=0.5), "Adagrad": dict(lr_decay=0.2), "RMSprop": dict(centered=True),
             "Adadelta": dict(rho=0.5), "Adam": dict(amsgrad=True), "AdamW": dict(weight_decay=0.3),
             "AdaBound": dict(final_lr=0.05)}[name]

    def groups(params):
        return [{"params": params[:2], "lr": 0.05}, {"params": params[2:], **extra}]

    e_opt = getattr(optim, name)(groups(e_params), lr=0.01)
    assert [g["lr"] for g in e_opt.param_groups] == [0.05, 0.01]
    assert all(e_opt.param_groups[1][k] == v for k, v in extra.items())
    assert all(e_opt.param_groups[0][k] == e_opt.defaults[k] for k in extra)
    if name == "AdaBound":  # the group hyper-parameters must reach the update: compare with the reference
        reference = [ReferenceAdaBound(p.array, lr=0.05) for p in e_params[:2]]
        reference += [ReferenceAdaBound(p.array, lr=0.01, **extra) for p in e_params[2:]]
    else:
        t_opt = getattr(torch.optim, name)(groups(t_params), lr=0.01)
    for step, grads in enumerate(gradient_stream("float64")):
        set_grads(t_params, e_params, grads)
        e_opt.step()
        if name == "AdaBound":
            expected = [r.step(g) for r, g in zip(reference, grads)]
        else:
            t_opt.step()
            expected = [tp.detach().numpy() for tp in t_params]
        for i, (ep, e) in enumerate(zip(e_params, expected)):
            close(ep.array, e, "float64", f"{name}: parameter {i} after step {step}")


@pytest.mark.parametrize("name", TORCH_TWINS + ["AdaBound"])
def test_state_dict_round_trip_continues_identically(name):
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True), "RMSprop": dict(centered=True, momentum=0.5),
              "Adam": dict(amsgrad=True), "AdaBound": dict(amsbound=True)}.get(name, {})
    cls = getattr(optim, name)
    grads = list(gradient_stream("float64", steps=10))
    params = [Parameter(np.random.default_rng(3).standard_normal(s)) for s in SHAPES]
    uninterrupted = cls(params, **kwargs)
    for step in range(5):
        _set(params, grads[step])
        uninterrupted.step()
    saved = uninterrupted.state_dict()
    # A checkpoint writer needs data: arrays and numbers in 'state', JSON-able hyper-parameters.
    for entry in saved["state"].values():
        assert all(isinstance(v, (np.ndarray, int, float)) for v in entry.values()), entry
    # Through JSON, as a checkpoint stores them (betas become a list), the hyper-parameters still work.
    saved["param_groups"] = json.loads(json.dumps(saved["param_groups"]))
    snapshot = {k: {n: np.copy(v) for n, v in e.items()} for k, e in saved["state"].items()}

    resumed_params = [Parameter(p.array.copy()) for p in params]
    resumed = cls(resumed_params, **kwargs)
    resumed.load_state_dict(saved)
    for step in range(5, 10):
        _set(params, grads[step])
        _set(resumed_params, grads[step])
        uninterrupted.step()
        resumed.step()
        for p, q in zip(params, resumed_params):
            np.testing.assert_array_equal(q.array, p.array)
    # Training on did not change what was saved (a snapshot), and loading copied the arrays.
    for k, entry in snapshot.items():
        for n, v in entry.items():
            np.testing.assert_array_equal(saved["state"][k][n], v)


def _set(params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else ember.Tensor(g.copy())


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_torch_state_dict_loads_and_continues_like_torch(name):
    """A torch optimizer's state_dict, tensors turned into arrays, resumes in Ember exactly as in torch."""
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.01, amsgrad=True),
              "RMSprop": dict(centered=True, momentum=0.5)}[name]
    t_params, e_params = make_params("float64")
    t_opt = getattr(torch.optim, name)(t_params, **kwargs)
    grads = list(gradient_stream("float64"))
    for g in grads[:4]:
        for tp, a in zip(t_params, g):
            tp.grad = None if a is None else torch.tensor(a)
        t_opt.step()
    sd = t_opt.state_dict()
    as_arrays = {"state": {k: {n: v.numpy().copy() for n, v in e.items()} for k, e in sd["state"].items()},
                 "param_groups": sd["param_groups"]}
    for ep, tp in zip(e_params, t_params):
        ep.array[...] = tp.detach().numpy()
    e_opt = getattr(optim, name)(e_params, **kwargs)
    e_opt.load_state_dict(as_arrays)
    assert isinstance(e_opt.state[e_params[0]]["step" if name != "SGD" else "momentum_buffer"], (int, np.ndarray))
    for g in grads[4:]:
        set_grads(t_params, e_params, g)
        t_opt.step()
        e_opt.step()
        for ep, tp in zip(e_params, t_params):
            close(ep.array, tp.detach().numpy(), "float64", f"{name} resumed from torch's state")


def test_load_state_dict_casts_to_the_parameter_dtype_and_validates():
    params64 = [Parameter(np.ones(s)) for s in SHAPES]
    opt = optim.Adam(params64, lr=0.1)
    _set(params64, next(gradient_stream("float64")))
    opt.step()
    saved = opt.state_dict()

    params32 = [Parameter(np.ones(s, dtype=np.float32)) for s in SHAPES]
    opt32 = optim.Adam(params32)
    opt32.load_state_dict(saved)
    assert opt32.param_groups[0]["lr"] == 0.1 and opt32.param_groups[0]["params"][0] is params32[0]
    state = opt32.state[params32[0]]
    assert state["exp_avg"].dtype == np.float32 and state["step"] == 1
    assert not np.shares_memory(state["exp_avg"], saved["state"][0]["exp_avg"])

    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": params32[:2]}, {"params": params32[2:]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam(params32[:3]).load_state_dict(saved)
    swapped = [Parameter(np.ones(s)) for s in reversed(SHAPES)]
    with pytest.raises(ValueError, match="has shape"):
        optim.Adam(swapped).load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam(params32).load_state_dict({"state": {}})
    # Keys that became strings on a trip through JSON still load.
    stringly = {"state": {str(k): v for k, v in saved["state"].items()}, "param_groups": saved["param_groups"]}
    optim.Adam(params32).load_state_dict(stringly)


def test_step_preserves_dtype_with_numpy_scalar_hyper_parameters():
    """np.float64 hyper-parameters must not promote float32 parameters or state to float64."""
    for name, kwargs in CONFIGS + [("AdaBound", dict(amsbound=True, weight_decay=0.1))]:
        kwargs = {k: (np.float64(v) if isinstance(v, float) and k != "betas" else v) for k, v in kwargs.items()}
        params = [Parameter(np.ones(s, dtype=np.float32)) for s in SHAPES]
        opt = getattr(optim, name)(params, **kwargs)
        for _ in range(2):
            for p in params:  # float64 gradients on float32 parameters: cast, not promoted
                p.grad = ember.Tensor(np.full(p.shape, 0.5))
            opt.step()
        for p in params:
            assert p.dtype == np.float32, f"{name}: parameter became {p.dtype}"
            for key, value in opt.state[p].items():
                assert not isinstance(value, np.ndarray) or value.dtype == np.float32, f"{name}: state {key}"


def test_zero_grad_both_modes_and_none_grads_are_skipped():
    params = [Parameter(np.ones(s, dtype=np.float32)) for s in SHAPES]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    grad = ember.Tensor(np.full((4, 3), 2.0, dtype=np.float32))
    params[0].grad = grad
    opt.step()
    assert np.allclose(params[0].array, 1 - 0.1 * 2.0)
    for p in params[1:]:  # no gradient: untouched, and no state created for it
        assert np.all(p.array == 1) and p not in opt.state
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad and np.all(grad.array == 0) and grad.dtype == np.float32
    assert params[1].grad is None
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    before = params[0].array.copy()
    opt.step()  # nothing has a gradient: nothing moves (the momentum buffer is not applied)
    np.testing.assert_array_equal(params[0].array, before)


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    torch_model, model = torch.nn.Linear(3, 2).double(), ember.nn.Linear(3, 2)
    model.load_state_dict({k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()})
    model.double()
    x = np.random.default_rng(0).standard_normal((5, 3))
    t_opt = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    e_opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def e_closure():
        e_opt.zero_grad()
        loss = (model(ember.Tensor(x)) ** 2).mean()
        loss.backward()
        return loss

    def t_closure():
        t_opt.zero_grad()
        loss = (torch_model(torch.tensor(x)) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(5):
        with ember.no_grad():  # step() must switch grad on for the closure
            e_loss = e_opt.step(e_closure)
        t_loss = t_opt.step(t_closure)
        close(e_loss.item(), t_loss.item(), "float64", "closure loss")
    for (name, tp), ep in zip(torch_model.named_parameters(), model.parameters()):
        close(ep.array, tp.detach().numpy(), "float64", name)
    assert optim.Adam(model.parameters()).step() is None


def _live_tensors():
    gc.collect()
    return sum(issubclass(type(o), ember.Tensor) for o in gc.get_objects())


def test_step_creates_no_graph_and_no_tensors():
    optimizers, params = [], []
    for name in TORCH_TWINS + ["AdaBound"]:
        group = [Parameter(np.ones(s)) for s in SHAPES]
        for p in group:
            p.grad = ember.Tensor(np.full(p.shape, 0.1))
        optimizers.append(getattr(optim, name)(group))
        params += group
    counts = []
    for _ in range(2):
        for opt in optimizers:
            opt.step()
            opt.step()
        counts.append(_live_tensors())
    assert counts[1] == counts[0], f"{counts[1] - counts[0]} Tensors created by optimizer steps"
    assert all(p.is_leaf and p.requires_grad and p.grad_fn is None for p in params)
    for opt in optimizers:
        for state in opt.state.values():
            assert not any(isinstance(v, ember.Tensor) for v in state.values()), type(opt).__name__


# ---- AdaBound against an independent transcription of the paper ----------------------------------------


class ReferenceAdaBound:
    """Algorithm 2 of Luo et al. (2019) with the reference code's details, one parameter, plain NumPy."""

    def __init__(self, theta, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0,
                 amsbound=False):
        self.theta = np.array(theta, dtype=np.float64)
        self.lr, self.base_lr, self.beta1, self.beta2 = lr, lr, betas[0], betas[1]
        self.final_lr, self.gamma, self.eps, self.wd, self.amsbound = final_lr, gamma, eps, weight_decay, amsbound
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.v_max = np.zeros_like(self.theta)
        self.t = 0
        self.clipped = 0

    def step(self, g):
        if g is None:
            return self.theta
        self.t += 1
        t = self.t
        g = g + self.wd * self.theta
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        self.v_max = np.maximum(self.v_max, self.v)
        v = self.v_max if self.amsbound else self.v
        alpha_t = self.lr * math.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        eta_star = self.final_lr * self.lr / self.base_lr
        eta_l = eta_star * (1 - 1 / (self.gamma * t + 1))
        eta_u = eta_star * (1 + 1 / (self.gamma * t))
        raw = alpha_t / (np.sqrt(v) + self.eps)
        self.clipped += int(np.sum((raw < eta_l) | (raw > eta_u)))
        eta = np.minimum(np.maximum(raw, eta_l), eta_u)
        self.theta = self.theta - eta * self.m
        return self.theta


ADABOUND_CONFIGS = [
    dict(),
    dict(lr=0.01, final_lr=0.05, gamma=0.1),
    dict(lr=0.01, gamma=0.5, amsbound=True),
    dict(lr=0.01, betas=(0.8, 0.99), gamma=0.2, weight_decay=0.1, eps=1e-4),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", ADABOUND_CONFIGS, ids=str)
def test_adabound_matches_the_paper(kwargs, dtype):
    _, e_params = make_params(dtype)
    reference = [ReferenceAdaBound(p.array, **kwargs) for p in e_params]
    opt = optim.AdaBound(e_params, **kwargs)
    for step, grads in enumerate(gradient_stream(dtype, steps=30)):
        _set(e_params, grads)
        opt.step()
        for i, (p, r) in enumerate(zip(e_params, reference)):
            expected = r.step(None if grads[i] is None else grads[i].astype(np.float64))
            assert p.dtype == np.dtype(dtype)
            close(p.array, expected, dtype, f"AdaBound {kwargs}: parameter {i} after step {step}")
    if kwargs.get("gamma", 1e-3) >= 0.1:  # the bounds must really have clipped, or the test proves little
        assert sum(r.clipped for r in reference) > 0


def test_adabound_scales_final_lr_with_the_scheduled_lr():
    _, e_params = make_params("float64")
    reference = [ReferenceAdaBound(p.array, lr=0.01, gamma=0.3) for p in e_params]
    opt = optim.AdaBound(e_params, lr=0.01, gamma=0.3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    for step, grads in enumerate(gradient_stream("float64", steps=20)):
        _set(e_params, grads)
        opt.step()
        for p, r, g in zip(e_params, reference, grads):
            close(p.array, r.step(g), "float64", f"AdaBound under StepLR, step {step}")
        sched.step()
        for r in reference:
            r.lr = opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["lr"] < 0.01 and opt.param_groups[0]["base_lr"] == 0.01
    assert sum(r.clipped for r in reference) > 0


def test_adabound_becomes_sgd_with_momentum_at_final_lr():
    """Late in training both bounds close in on final_lr: the step is final_lr times the first moment."""
    p = Parameter(np.random.default_rng(0).standard_normal(50))
    opt = optim.AdaBound([p], lr=0.01, final_lr=0.1, gamma=0.9)
    for _ in range(2000):
        p.grad = ember.Tensor(np.random.default_rng(1).standard_normal(50))
        opt.step()
    before = p.array.copy()
    p.grad = ember.Tensor(np.random.default_rng(2).standard_normal(50))
    opt.step()
    np.testing.assert_allclose(before - p.array, 0.1 * opt.state[p]["exp_avg"], rtol=1e-3)


# ---- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kwargs, message", [
    ("SGD", dict(lr=-0.1), "SGD: Invalid learning rate: -0.1"),
    ("SGD", dict(momentum=-0.5), "SGD: Invalid momentum value: -0.5"),
    ("SGD", dict(weight_decay=-1), "SGD: Invalid weight_decay value: -1"),
    ("SGD", dict(nesterov=True), "SGD: Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ("Adagrad", dict(lr=-1.0), "Adagrad: Invalid learning rate"),
    ("Adagrad", dict(lr_decay=-1.0), "Adagrad: Invalid lr_decay value"),
    ("Adagrad", dict(eps=-1.0), "Adagrad: Invalid epsilon value"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value"),
    ("RMSprop", dict(alpha=-0.1), "RMSprop: Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-0.1), "RMSprop: Invalid momentum value"),
    ("RMSprop", dict(eps=-1e-8), "RMSprop: Invalid epsilon value"),
    ("Adadelta", dict(rho=1.5), "Adadelta: Invalid rho value: 1.5"),
    ("Adadelta", dict(lr=-1.0), "Adadelta: Invalid learning rate"),
    ("Adam", dict(betas=(1.0, 0.999)), "Adam: Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Adam: Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(eps=-1.0), "Adam: Invalid epsilon value"),
    ("Adam", dict(lr=-1e-3), "Adam: Invalid learning rate"),
    ("AdamW", dict(betas=(0.9, 1.0)), "AdamW: Invalid beta parameter at index 1"),
    ("AdamW", dict(weight_decay=-0.1), "AdamW: Invalid weight_decay value"),
    ("AdaBound", dict(final_lr=-0.1), "AdaBound: Invalid final learning rate"),
    ("AdaBound", dict(gamma=1.0), "AdaBound: Invalid gamma parameter"),
    ("AdaBound", dict(betas=(1.2, 0.9)), "AdaBound: Invalid beta parameter at index 0"),
])
def test_invalid_hyper_parameters_raise_naming_the_optimizer(name, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        getattr(optim, name)([Parameter(np.ones(2))], **kwargs)
    if name in TORCH_TWINS:  # and torch rejects the same values
        with pytest.raises(ValueError):
            getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kwargs)


def test_invalid_parameter_lists_raise():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    with pytest.raises(ValueError, match="SGD got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Adam got an empty parameter list"):
        optim.Adam(iter([]))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p, q]}, {"params": [q]}], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": p})
    with pytest.raises(TypeError, match="single Parameter"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p, q}, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([p, np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    p.grad = ember.Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\)"):
        opt.step()


def test_add_param_group_fills_defaults_and_is_optimized():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [q]
    q.grad = ember.Tensor(np.ones(3))
    opt.step()
    np.testing.assert_allclose(q.array, 0.5)
    named = optim.Adam([("w", Parameter(np.ones(2)))])
    assert named.param_groups[0]["param_names"] == ["w"]
    assert "Parameter Group 0" in repr(opt) and "momentum: 0.9" in repr(opt)


def test_re_exports_and_torch_defaults():
    assert optim.clip_grad_norm_ is ember.nn.utils.clip_grad_norm_
    assert optim.clip_grad_value_ is ember.nn.utils.clip_grad_value_
    p = [Parameter(np.ones(2))]
    for name in TORCH_TWINS:
        e_defaults = getattr(optim, name)(p).defaults
        t_defaults = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))]).defaults
        for key, value in e_defaults.items():
            assert t_defaults[key] == value, f"{name} default {key}: {value} vs torch {t_defaults[key]}"


def test_a_torch_style_subclass_with_its_own_step_works_with_schedulers():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            with ember.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p.array -= group["lr"] * np.sign(p.grad.array)

    p = Parameter(np.array([1.0, -1.0]))
    opt = SignSGD([p])
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    p.grad = ember.Tensor(np.array([3.0, -0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its step() counts as called: no order warning
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.array, [0.9, -0.9])
    assert opt.param_groups[0]["lr"] == 0.05
    with pytest.raises(NotImplementedError, match="_update"):
        optim.Optimizer([p], dict(lr=0.1)).step()
