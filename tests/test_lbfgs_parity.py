"""ember.optim.LBFGS against torch.optim.LBFGS, step by step: the same parameters, returned losses and
evaluation counts after every step, on the Rosenbrock function and a small logistic regression (float64,
relative 1e-9), with and without the strong-Wolfe line search, short histories and each stopping rule."""

import numpy as np
import pytest
import torch

import ember
from ember.nn import functional as F


def _rosenbrock(x, lib):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _logistic_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    X[:, 0] *= 10  # an ill-conditioned feature
    y = (X @ np.array([0.3, -1.0, 2.0, 0.5, 0.0]) + 0.5 * rng.standard_normal(60) > 0).astype(np.float64)
    return X, y


def _logistic(params, lib, data):
    X, y = data
    w, b = params
    if lib == "torch":
        logits = torch.tensor(X) @ w + b
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y)) + 1e-3 * (w * w).sum()
    logits = ember.tensor(X) @ w + b
    return F.binary_cross_entropy_with_logits(logits, ember.tensor(y)) + 1e-3 * (w * w).sum()


def _run(problem, start, steps, **options):
    """Run both optimizers from the same start; yield per step (ember params, torch params, losses, states)."""
    t_params = [torch.tensor(a, requires_grad=True) for a in start]
    e_params = [ember.tensor(a, requires_grad=True) for a in start]
    t_opt = torch.optim.LBFGS(t_params, **options)
    e_opt = ember.optim.LBFGS(e_params, **options)
    data = _logistic_data()

    def closure_for(lib, params, opt):
        def closure():
            opt.zero_grad()
            loss = problem(params[0] if len(params) == 1 else params, lib, data) if problem is _logistic else \
                problem(params[0], lib)
            loss.backward()
            return loss
        return closure

    for _ in range(steps):
        t_loss = t_opt.step(closure_for("torch", t_params, t_opt))
        e_loss = e_opt.step(closure_for("ember", e_params, e_opt))
        yield e_params, t_params, (float(e_loss), float(t_loss.detach())), (e_opt.state[e_params[0]], t_opt.state[t_params[0]])


def _assert_same(e_params, t_params, losses, states, rtol=1e-9):
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=1e-12)
    assert losses[0] == pytest.approx(losses[1], rel=rtol, abs=1e-11)
    e_state, t_state = states
    assert e_state["func_evals"] == t_state["func_evals"] and e_state["n_iter"] == t_state["n_iter"]


ROSENBROCK_START = [np.array([-1.5, 2.0])]


@pytest.mark.parametrize("options", [
    dict(lr=1, line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=5, line_search_fn="strong_wolfe", history_size=2),
    dict(lr=0.05, max_iter=4),  # a fixed step, no line search
    dict(lr=0.05, max_iter=7, history_size=2),
    dict(lr=1, max_iter=50, max_eval=30, line_search_fn="strong_wolfe"),  # the evaluation budget stops it
])
def test_rosenbrock_step_by_step(options):
    for step in _run(_rosenbrock, ROSENBROCK_START, steps=8, **options):
        _assert_same(*step)


def test_rosenbrock_short_history_follows_torchs_path():
    """history_size=3 along Rosenbrock's curved valley amplifies rounding about tenfold per iteration: torch's
    ``add_(v, alpha=a)`` rounds a·v + x once (a fused multiply-add), NumPy twice. Measured: equal to the bit for
    5 iterations, 1.6e-16 at the 6th, 8e-9 after the 20 of the first step. The path itself — every line-search
    decision, evaluation and iteration count — is the same, and the values agree to 1e-7."""
    for step in _run(_rosenbrock, ROSENBROCK_START, steps=8, lr=1, line_search_fn="strong_wolfe", history_size=3):
        _assert_same(*step, rtol=1e-7)


def test_the_line_search_shares_the_evaluation_budget():
    """max_iter=1 gives max_eval=1: torch's line search then has no evaluation left beyond its first trial and
    keeps t = 0 when the trial is worse (the parameters stay put), as Ember must."""
    steps = list(_run(_rosenbrock, ROSENBROCK_START, steps=3, lr=1, max_iter=1, line_search_fn="strong_wolfe"))
    for step in steps:
        _assert_same(*step)
    np.testing.assert_array_equal(steps[-1][0][0].detach().numpy(), ROSENBROCK_START[0])


def test_rosenbrock_reaches_the_minimum_like_torch():
    for e_params, t_params, losses, states in _run(_rosenbrock, ROSENBROCK_START, steps=6, lr=1, max_iter=100,
                                                   line_search_fn="strong_wolfe"):
        _assert_same(e_params, t_params, losses, states)
    np.testing.assert_allclose(e_params[0].detach().numpy(), [1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize("options", [
    dict(lr=1, line_search_fn="strong_wolfe", history_size=5),
    dict(lr=0.1, max_iter=10),
    dict(lr=1, line_search_fn="strong_wolfe", tolerance_change=1e-4),  # the loss-change / step-size stop
    dict(lr=1, line_search_fn="strong_wolfe", tolerance_grad=1e-3),  # the gradient stop
])
def test_logistic_regression_step_by_step(options):
    start = [np.zeros(5), np.zeros(())]
    for step in _run(_logistic, start, steps=5, **options):
        _assert_same(*step)


def test_a_converged_start_returns_at_once_like_torch():
    """‖g‖∞ <= tolerance_grad on the first evaluation: one closure call, no iteration, state n_iter 0."""
    for e_params, t_params, losses, states in _run(_rosenbrock, [np.array([1.0, 1.0])], steps=2, lr=1):
        _assert_same(e_params, t_params, losses, states)
        assert states[0]["func_evals"] == states[1]["func_evals"]
        assert states[0]["n_iter"] == 0


def test_lbfgs_requires_a_closure_and_one_group():
    p = ember.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        ember.optim.LBFGS([p]).step(None)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe'"):
        opt = ember.optim.LBFGS([p], line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = ((p - 1) ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)


# ---------------------------------------------------------------------------------------------- examples/second_order.py


def _second_order():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "second_order.py"
    spec = importlib.util.spec_from_file_location("second_order_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_newton_solves_a_quadratic_in_one_step():
    """f = ½ wᵀAw - bᵀw has the constant Hessian A: one Newton step lands on A⁻¹b, whatever A's conditioning."""
    so = _second_order()
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = ember.tensor(Q @ np.diag(np.logspace(0, 4, 6)) @ Q.T)  # condition number 10⁴
    b = ember.tensor(rng.standard_normal(6))
    objective = lambda w: 0.5 * (w @ (A @ w)) - b @ w  # noqa: E731
    losses, w = so.newton(objective, lambda w: A, ember.zeros(6, dtype=ember.float64), steps=3)
    exact = np.linalg.solve(A.numpy(), b.numpy())
    optimum = -0.5 * b.numpy() @ exact
    assert losses[1] == pytest.approx(optimum, rel=1e-10)  # after one step
    np.testing.assert_allclose(w.numpy(), exact, rtol=1e-8)


def test_the_hand_written_hessian_is_torchs():
    so = _second_order()
    X, y = so.make_problem(n=50, d=4, seed=1)
    w = np.random.default_rng(2).standard_normal(4) * 0.1
    tX, ty = torch.tensor(X.numpy()), torch.tensor(y.numpy())

    def f(tw):
        z = -ty * (tX @ tw)
        return torch.logaddexp(torch.zeros_like(z), z).mean() + 0.5 * so.LAMBDA * (tw * tw).sum()

    expected = torch.autograd.functional.hessian(f, torch.tensor(w))
    np.testing.assert_allclose(so.hessian(ember.tensor(w), X).numpy(), expected.numpy(), rtol=1e-9, atol=1e-12)
    assert so.loss_fn(ember.tensor(w), X, y).item() == pytest.approx(f(torch.tensor(w)).item(), rel=1e-12)


def test_newton_converges_in_a_handful_of_steps_and_lbfgs_beats_sgd(tmp_path):
    so = _second_order()
    results, optimum, facts = so.compare(steps=200)
    newton, lbfgs, sgd = results.values()
    assert facts["condition"] > 1000  # the problem is ill-conditioned, as the example says
    assert so.steps_to(newton, optimum) <= 8
    reached = so.steps_to(lbfgs, optimum)
    assert reached is not None and reached < 60
    assert so.steps_to(sgd, optimum) is None  # 200 gradient steps do not get there
    assert lbfgs[40] - optimum < 1e-3 * (sgd[200] - optimum)  # L-BFGS after 40 beats SGD after 200
    out = tmp_path / "second_order.png"
    so.main([str(out)])
    assert out.stat().st_size > 10_000
