"""Learning-rate schedulers against torch.optim.lr_scheduler: the same lr (and momentum) sequence over 100 steps,
on an optimizer with two param groups, and a state_dict round trip (through JSON) mid-way that continues
identically."""

import json
import math
import warnings

import numpy as np
import pytest
import torch

import ember.optim as optim
from ember.nn import Parameter
from ember.optim import lr_scheduler as E

T = torch.optim.lr_scheduler
STEPS = 100


class Scale:
    """A callable object: LambdaLR saves its attributes (a plain function it cannot)."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, epoch):
        return self.factor ** epoch


# name -> (build(lib, optimizer) -> scheduler, optimizer name, optimizer kwargs)
SCHEDULERS = {
    "StepLR": (lambda L, o: L.StepLR(o, step_size=7, gamma=0.5), "SGD", {}),
    "MultiStepLR": (lambda L, o: L.MultiStepLR(o, milestones=[10, 30, 60, 60, 75], gamma=0.3), "SGD", {}),
    "ExponentialLR": (lambda L, o: L.ExponentialLR(o, gamma=0.95), "SGD", {}),
    "LambdaLR": (lambda L, o: L.LambdaLR(o, lambda e: 0.97**e + 0.1 * (e % 5)), "SGD", {}),
    "LambdaLR-per-group": (lambda L, o: L.LambdaLR(o, [Scale(0.9), lambda e: 1 / (1 + e)]), "SGD", {}),
    "LinearLR-warmup": (lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=20), "SGD", {}),
    "LinearLR-decay": (lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=40), "SGD", {}),
    "CosineAnnealingLR": (lambda L, o: L.CosineAnnealingLR(o, T_max=30, eta_min=0.001), "SGD", {}),
    "SequentialLR": (lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=10), L.CosineAnnealingLR(o, T_max=90)], milestones=[10]),
        "SGD", {}),
    "SequentialLR-three": (lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.2, total_iters=5), L.ExponentialLR(o, gamma=0.9),
            L.StepLR(o, step_size=10, gamma=0.5)], milestones=[10, 50]), "SGD", {}),
    "OneCycleLR-SGD": (lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS), "SGD",
                       dict(momentum=0.9)),
    "OneCycleLR-Adam": (lambda L, o: L.OneCycleLR(o, max_lr=0.01, epochs=10, steps_per_epoch=10), "Adam", {}),
    "OneCycleLR-three-phase": (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, three_phase=True,
                                                         pct_start=0.25), "SGD", dict(momentum=0.9)),
    "OneCycleLR-linear": (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, anneal_strategy="linear",
                                                    base_momentum=[0.8, 0.7], max_momentum=0.9), "Adam", {}),
    "OneCycleLR-no-momentum": (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, cycle_momentum=False,
                                                         div_factor=10.0, final_div_factor=100.0), "SGD", {}),
}


def optimizers(name, kwargs):
    """The same two-group optimizer in torch and Ember."""
    t = getattr(torch.optim, name)([{"params": [torch.nn.Parameter(torch.ones(2))], "lr": 0.1},
                                    {"params": [torch.nn.Parameter(torch.ones(3))], "lr": 0.05}], **kwargs)
    e = getattr(optim, name)([{"params": [Parameter(np.ones(2))], "lr": 0.1},
                              {"params": [Parameter(np.ones(3))], "lr": 0.05}], **kwargs)
    return t, e


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def assert_same_lrs(e_sched, e_opt, t_sched, t_opt, what):
    t_lrs = [float(lr) for lr in t_sched.get_last_lr()]
    np.testing.assert_allclose(e_sched.get_last_lr(), t_lrs, rtol=1e-12, atol=0, err_msg=what)
    np.testing.assert_allclose([g["lr"] for g in e_opt.param_groups], [g["lr"] for g in t_opt.param_groups],
                               rtol=1e-12, atol=0, err_msg=what)
    assert momenta(e_opt) == pytest.approx(momenta(t_opt), rel=1e-12), f"{what}: momentum"


def run(build, e_sched, e_opt, t_sched, t_opt, steps, start=0):
    for step in range(start, start + steps):
        t_opt.step()
        e_opt.step()
        t_sched.step()
        e_sched.step()
        assert_same_lrs(e_sched, e_opt, t_sched, t_opt, f"step {step + 1}")


@pytest.mark.parametrize("name", SCHEDULERS)
def test_lr_sequence_matches_torch(name):
    build, opt_name, kwargs = SCHEDULERS[name]
    t_opt, e_opt = optimizers(opt_name, kwargs)
    t_sched, e_sched = build(T, t_opt), build(E, e_opt)
    assert_same_lrs(e_sched, e_opt, t_sched, t_opt, "after construction")
    assert e_sched.last_epoch == t_sched.last_epoch
    seen = {tuple(e_sched.get_last_lr())}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # optimizer.step() comes first: no order warning may fire
        run(build, e_sched, e_opt, t_sched, t_opt, STEPS)
    seen.add(tuple(e_sched.get_last_lr()))
    assert len(seen) > 1, "the schedule never changed the lr"
    if hasattr(t_sched, "base_lrs"):
        assert e_sched.base_lrs == pytest.approx([float(b) for b in t_sched.base_lrs])


@pytest.mark.parametrize("name", SCHEDULERS)
def test_state_dict_round_trip_through_json_continues_identically(name):
    build, opt_name, kwargs = SCHEDULERS[name]
    t_opt, e_opt = optimizers(opt_name, kwargs)
    t_sched, e_sched = build(T, t_opt), build(E, e_opt)
    run(build, e_sched, e_opt, t_sched, t_opt, 40)
    saved = json.loads(json.dumps(e_sched.state_dict()))  # plain data, or this raises
    saved_opt = e_opt.state_dict()

    _, fresh_opt = optimizers(opt_name, kwargs)
    fresh = build(E, fresh_opt)  # the scheduler first, then the optimizer's state (it holds the lrs)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    assert fresh.last_epoch == e_sched.last_epoch
    assert_same_lrs(fresh, fresh_opt, t_sched, t_opt, "after loading")
    run(build, fresh, fresh_opt, t_sched, t_opt, STEPS - 40, start=40)


def test_lambda_lr_state_dict_keeps_callable_objects_and_skips_functions():
    _, opt = optimizers("SGD", {})
    scale = Scale(0.9)
    sched = E.LambdaLR(opt, [scale, lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.9}, None]
    assert "optimizer" not in state
    scale.factor = 0.5
    sched.load_state_dict(state)
    assert scale.factor == 0.9
    assert state["lr_lambdas"] == [{"factor": 0.9}, None]  # the caller's dict is left as it was


def test_inverse_time_lr_follows_the_formula():
    for decay_rate, decay_steps, staircase in [(0.5, 1, False), (0.1, 10, False), (2.0, 7, True)]:
        _, opt = optimizers("SGD", {})
        sched = E.InverseTimeLR(opt, decay_rate=decay_rate, decay_steps=decay_steps, staircase=staircase)
        for t in range(STEPS + 1):
            progress = math.floor(t / decay_steps) if staircase else t / decay_steps
            expected = [lr0 / (1 + decay_rate * progress) for lr0 in (0.1, 0.05)]
            assert sched.get_last_lr() == pytest.approx(expected, rel=1e-15), f"t={t}"
            assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
            opt.step()
            sched.step()
        saved = json.loads(json.dumps(sched.state_dict()))
        _, opt2 = optimizers("SGD", {})
        resumed = E.InverseTimeLR(opt2, decay_rate=decay_rate, decay_steps=decay_steps, staircase=staircase)
        resumed.load_state_dict(saved)
        opt2.step()
        resumed.step()
        opt.step()
        sched.step()
        assert resumed.get_last_lr() == sched.get_last_lr()
    with pytest.raises(ValueError, match="decay_rate"):
        E.InverseTimeLR(opt, decay_rate=-1)
    with pytest.raises(ValueError, match="decay_steps"):
        E.InverseTimeLR(opt, decay_rate=1, decay_steps=0)


PLATEAU = [
    dict(patience=3),
    dict(threshold=0.03, patience=2),
    dict(mode="max", factor=0.5, patience=2),
    dict(threshold_mode="abs", threshold=0.05, patience=1, cooldown=2),
    dict(factor=0.5, patience=0, min_lr=[0.02, 0.001]),
    dict(factor=0.9, patience=1, eps=0.006),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    # Improves quickly, plateaus with noise, improves a little, holds exactly (ties are not improvements),
    # then stalls with noise.
    metrics = np.concatenate([np.linspace(1.0, 0.5, 20), 0.5 + 0.02 * rng.standard_normal(30),
                              np.linspace(0.5, 0.4, 10), np.full(10, 0.4), 0.4 + 0.01 * rng.standard_normal(30)])
    if kwargs.get("mode") == "max":
        metrics = -metrics
    t_opt, e_opt = optimizers("SGD", {})
    t_sched, e_sched = T.ReduceLROnPlateau(t_opt, **kwargs), E.ReduceLROnPlateau(e_opt, **kwargs)
    for step, metric in enumerate(metrics):
        if step == 50:  # round trip mid-way (through JSON: the best value may be infinite)
            saved = json.loads(json.dumps(e_sched.state_dict()))
            _, fresh_opt = optimizers("SGD", {})
            fresh_opt.load_state_dict(e_opt.state_dict())
            e_opt, e_sched = fresh_opt, E.ReduceLROnPlateau(fresh_opt, **kwargs)
            e_sched.load_state_dict(saved)
        t_opt.step()
        e_opt.step()
        t_sched.step(float(metric))
        e_sched.step(float(metric))
        assert_same_lrs(e_sched, e_opt, t_sched, t_opt, f"step {step}, metric {metric}")
        assert (e_sched.num_bad_epochs, e_sched.cooldown_counter) == (t_sched.num_bad_epochs, t_sched.cooldown_counter)
    assert e_opt.param_groups[0]["lr"] < 0.1, "the metric sequence never triggered a reduction"


def test_one_cycle_cycles_momentum_inversely_to_the_lr():
    t_opt, e_opt = optimizers("SGD", dict(momentum=0.9))
    t_sched, e_sched = T.OneCycleLR(t_opt, max_lr=1.0, total_steps=STEPS), E.OneCycleLR(e_opt, max_lr=1.0, total_steps=STEPS)
    lrs, moms = [], []
    for _ in range(STEPS - 1):
        e_opt.step()
        e_sched.step()
        lrs.append(e_opt.param_groups[0]["lr"])
        moms.append(e_opt.param_groups[0]["momentum"])
    peak = int(np.argmax(lrs))
    assert lrs[peak] == pytest.approx(1.0) and moms[peak] == pytest.approx(0.85)
    assert moms[-1] == pytest.approx(0.95) and lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        e_sched.step()
        e_sched.step()


def test_a_changed_lr_reaches_the_optimizer_step():
    p = Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    sched = E.StepLR(opt, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        p.grad = Parameter(np.ones(1))
        before = p.array.copy()
        opt.step()
        sched.step()
        moves.append(float(before[0] - p.array[0]))
    assert moves == [1.0, 0.5, 0.25]


def test_warnings_and_errors_like_torch():
    _, opt = optimizers("SGD", {})
    sched = E.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        E.StepLR(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1), step_size=2)
    _, fresh = optimizers("SGD", {})
    with pytest.raises(KeyError, match="initial_lr"):
        E.ExponentialLR(fresh, gamma=0.9, last_epoch=3)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        E.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        E.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        E.SequentialLR(opt, [E.StepLR(opt, 2), E.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        E.SequentialLR(opt, [E.StepLR(opt, 2), E.ReduceLROnPlateau(opt)], milestones=[3])
    with pytest.raises(ValueError, match="total_steps OR"):
        E.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        E.OneCycleLR(optim.Adagrad([Parameter(np.ones(1))]), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        E.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode 'maximum' is unknown"):
        E.ReduceLROnPlateau(opt, mode="maximum")
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        E.ReduceLROnPlateau(opt, min_lr=[0.1])


def test_step_with_epoch_uses_the_closed_form_like_torch():
    for build in (lambda L, o: L.StepLR(o, 3, 0.5), lambda L, o: L.CosineAnnealingLR(o, 20),
                  lambda L, o: L.MultiStepLR(o, [2, 5]), lambda L, o: L.ExponentialLR(o, 0.9)):
        t_opt, e_opt = optimizers("SGD", {})
        t_sched, e_sched = build(T, t_opt), build(E, e_opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (4, 9, 2):
                t_opt.step(), e_opt.step()
                t_sched.step(epoch)
                e_sched.step(epoch)
                assert_same_lrs(e_sched, e_opt, t_sched, t_opt, f"epoch {epoch}")
