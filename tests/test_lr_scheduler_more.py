"""The schedules of ember/optim/lr_scheduler_extra.py against torch.optim.lr_scheduler: the same lr (and
momentum) over 100 steps on a two-group optimizer, a JSON state_dict round trip mid-way, torch's paths
and errors."""

import json
import math
import warnings

import numpy as np
import pytest
import torch

from ember.optim import lr_scheduler as E
from tests.test_lr_scheduler import STEPS, Scale, assert_same_lrs, optimizers, run

T = torch.optim.lr_scheduler

SCHEDULERS = {
    "MultiplicativeLR": (lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97 if e % 3 else 1.01), "SGD", {}),
    "MultiplicativeLR-per-group": (lambda L, o: L.MultiplicativeLR(o, [Scale(0.99), lambda e: 0.95]), "SGD", {}),
    "ConstantLR": (lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=7), "SGD", {}),
    "PolynomialLR": (lambda L, o: L.PolynomialLR(o, total_iters=60, power=2.0), "SGD", {}),
    "PolynomialLR-linear": (lambda L, o: L.PolynomialLR(o, total_iters=30), "SGD", {}),
    "CosineAnnealingWarmRestarts": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.001), "SGD", {}),
    "CosineAnnealingWarmRestarts-mult": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2), "SGD", {}),
    "CyclicLR-triangular": (lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7), "SGD",
                            dict(momentum=0.9)),
    "CyclicLR-triangular2": (lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=5,
                                                     step_size_down=9, mode="triangular2"), "SGD", dict(momentum=0.9)),
    "CyclicLR-exp-range-Adam": (lambda L, o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=4,
                                                        mode="exp_range", gamma=0.97, base_momentum=0.7), "Adam", {}),
    "CyclicLR-no-momentum": (lambda L, o: L.CyclicLR(o, 0.01, 0.05, step_size_up=3, cycle_momentum=False), "SGD", {}),
    "CyclicLR-scale-fn": (lambda L, o: L.CyclicLR(o, 0.01, 0.05, step_size_up=6, scale_fn=Scale(0.9),
                                                  scale_mode="iterations"), "SGD", dict(momentum=0.5)),
    "ChainedScheduler": (lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=3),
                                                          L.ExponentialLR(o, gamma=0.97)]), "SGD", {}),
    "ChainedScheduler-three": (lambda L, o: L.ChainedScheduler([L.LinearLR(o, 0.2, total_iters=10),
                                                                L.StepLR(o, 15, 0.5), L.PolynomialLR(o, 80, 0.5)]),
                               "SGD", {}),
    "SequentialLR-warm-restarts": (lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=5),
                                                                   L.PolynomialLR(o, 50, 1.5)], milestones=[5]),
                                   "SGD", {}),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_lr_sequence_matches_torch(name):
    build, opt_name, kwargs = SCHEDULERS[name]
    t_opt, e_opt = optimizers(opt_name, kwargs)
    t_sched, e_sched = build(T, t_opt), build(E, e_opt)
    assert_same_lrs(e_sched, e_opt, t_sched, t_opt, "after construction")
    seen = {tuple(e_sched.get_last_lr())}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
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
    saved = json.loads(json.dumps(e_sched.state_dict()))
    saved_opt = e_opt.state_dict()
    _, fresh_opt = optimizers(opt_name, kwargs)
    fresh = build(E, fresh_opt)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    assert_same_lrs(fresh, fresh_opt, t_sched, t_opt, "after loading")
    run(build, fresh, fresh_opt, t_sched, t_opt, STEPS - 40, start=40)


def test_warm_restarts_with_fractional_epochs_match_torch():
    t_opt, e_opt = optimizers("SGD", {})
    t_sched = T.CosineAnnealingWarmRestarts(t_opt, T_0=3, T_mult=2, eta_min=0.01)
    e_sched = E.CosineAnnealingWarmRestarts(e_opt, T_0=3, T_mult=2, eta_min=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(20):
            for i in range(4):
                t_opt.step()
                e_opt.step()
                t_sched.step(epoch + i / 4)
                e_sched.step(epoch + i / 4)
                assert_same_lrs(e_sched, e_opt, t_sched, t_opt, f"epoch {epoch + i / 4}")
    with pytest.raises(ValueError, match="non-negative epoch"):
        e_sched.step(-1)


def test_errors_match_torch():
    _, opt = optimizers("SGD", {})
    for build in [lambda L: L.ConstantLR(opt, factor=1.5), lambda L: L.CosineAnnealingWarmRestarts(opt, T_0=0),
                  lambda L: L.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0.5),
                  lambda L: L.CyclicLR(opt, 0.1, 1.0, mode="bogus"), lambda L: L.ChainedScheduler([]),
                  lambda L: L.MultiplicativeLR(opt, [lambda e: 1.0])]:
        with pytest.raises(ValueError):
            build(E)
    _, adagrad = optimizers("Adagrad", {})
    with pytest.raises(ValueError, match="momentum"):
        E.CyclicLR(adagrad, 0.01, 0.1)
    with pytest.raises(ValueError, match="momentum"):
        T.CyclicLR(torch.optim.Adagrad([torch.nn.Parameter(torch.ones(1))]), 0.01, 0.1)


def test_every_torch_scheduler_is_at_its_path():
    names = [n for n in dir(T) if isinstance(getattr(T, n), type) and n.endswith(("LR", "Scheduler", "Plateau",
                                                                                   "Restarts"))]
    missing = [n for n in names if not hasattr(E, n)]
    assert missing == [], f"missing schedulers: {missing}"
    assert math.isfinite(E.PolynomialLR(optimizers("SGD", {})[1], total_iters=4).get_last_lr()[0])


def test_old_base_class_name_can_be_subclassed():
    class Halving(E._LRScheduler):
        def get_lr(self):
            return [base_lr * 0.5**self.last_epoch for base_lr in self.base_lrs]

    _, opt = optimizers("SGD", {})
    sched = Halving(opt)
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.05, 0.025]
