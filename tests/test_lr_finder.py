"""ember.tools.lr_finder and `ember lr-find`: the schedule, the smoothing, the stop at divergence, the
restored model, the suggestion, the files.

The surface where the test must stop is f(w) = w² under plain SGD: w ← (1 - 2·lr)·w shrinks for lr < 1 and
grows without bound for lr > 1, so the range test's loss falls, then blows up once the rate passes 1.
"""

import math
import re

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import backend, optim
from ember.cli import main
from ember.tools.lr_finder import LRFinderResult, lr_find


def quadratic():
    """A single weight w = 1 and an input of 1: MSE against 0 is w²."""
    model = nn.Linear(1, 1, bias=False)
    with ember.no_grad():
        model.weight.fill_(1.0)
    x, y = ember.ones(4, 1), ember.zeros(4, 1)
    return model, [(x, y)], nn.MSELoss()


def test_stops_at_divergence_on_the_quadratic():
    model, loader, loss = quadratic()
    opt = optim.SGD(model.parameters(), lr=0.5)
    result = lr_find(model, opt, loader, start_lr=1e-4, end_lr=10.0, steps=100, loss_fn=loss)
    assert result.stop_reason == "diverged" and result.stopped_early
    assert 1.0 < result.lrs[-1] < 10.0 and len(result.lrs) < 100  # past lr = 1, before the end of the range
    assert result.smoothed[-1] > 4 * min(result.smoothed[:-1])  # the step that stopped it is recorded
    assert all(s <= 4 * min(result.smoothed[: i + 1]) for i, s in enumerate(result.smoothed[:-1]))
    # the suggestion lies in the range where w shrinks
    assert result.steepest_lr is not None and 1e-4 < result.steepest_lr < 1.0
    # The smoothed minimum lags behind the true one (lr ≈ 0.5, where w jumps to 0): the average with β = 0.98
    # remembers ~50 steps, and w² fell by orders of magnitude within a few. It still comes before the stop.
    assert result.steepest_lr <= result.minimum_lr < result.lrs[-1]


def test_restores_weights_and_optimizer():
    model, loader, loss = quadratic()
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    lr_find(model, opt, loader, start_lr=1e-3, end_lr=10.0, steps=50, loss_fn=loss)
    assert model.weight.item() == 1.0  # it trained to ~0 and diverged, then was put back
    assert opt.param_groups[0]["lr"] == 0.5 and opt.state_dict()["state"] == {}  # no momentum buffer left
    assert model.weight.grad is None or model.weight.grad.item() == 0


def test_schedule_and_smoothing():
    model, loader, loss = quadratic()
    opt = optim.SGD(model.parameters(), lr=0.1)
    result = lr_find(model, opt, loader, start_lr=1e-6, end_lr=1e-2, steps=5, loss_fn=loss, beta=0.9)
    assert result.stop_reason == "end" and not result.stopped_early
    np.testing.assert_allclose(result.lrs, [1e-6, 1e-5, 1e-4, 1e-3, 1e-2], rtol=1e-12)  # ×10 per step
    w, average = 1.0, 0.0
    for i, lr in enumerate(result.lrs):  # the loop by hand: loss w², EMA with bias correction
        assert result.losses[i] == pytest.approx(w * w, rel=1e-6)
        average = 0.9 * average + 0.1 * w * w
        assert result.smoothed[i] == pytest.approx(average / (1 - 0.9 ** (i + 1)), rel=1e-6)
        w *= 1 - 2 * lr
    assert result.smoothed[0] == result.losses[0]  # bias correction: the first average is the first loss


def test_nan_loss_stops_and_restores():
    model, loader, mse = quadratic()
    calls = []

    def poisoned(outputs, targets):
        calls.append(1)
        value = mse(outputs, targets)
        return value * math.nan if len(calls) == 6 else value

    opt = optim.SGD(model.parameters(), lr=0.1)
    result = lr_find(model, opt, loader, start_lr=1e-5, end_lr=1e-1, steps=20, loss_fn=poisoned)
    assert result.stop_reason == "nan" and len(result.lrs) == 5  # the NaN step is not recorded
    assert model.weight.item() == 1.0


def test_nan_from_the_first_step(tmp_path):
    model, loader, mse = quadratic()
    result = lr_find(model, optim.SGD(model.parameters(), lr=0.1), loader, steps=10,
                     loss_fn=lambda out, y: mse(out, y) * math.nan)
    assert result.stop_reason == "nan" and result.lrs == [] and result.suggestion is None
    assert "first loss was already NaN" in result.describe()
    result.to_csv(str(tmp_path / "empty.csv"))
    result.plot(str(tmp_path / "empty.png"))
    assert (tmp_path / "empty.csv").read_text() == "step,lr,loss,smoothed_loss\n"


def test_suggestions():
    curve = LRFinderResult(lrs=[1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0], losses=[2.3] * 6,
                           smoothed=[2.3, 2.29, 2.0, 1.0, 0.8, 5.0], stop_reason="diverged", steps_planned=10)
    from ember.tools.lr_finder import _suggest

    _suggest(curve)
    # slopes per decade by central differences before the minimum: -0.01, -0.15, -0.645, -0.6
    assert curve.minimum_lr == 1e-1 and curve.steepest_lr == 1e-3
    assert curve.suggestion == 1e-3 and curve.method == "steepest"
    curve.method = "minimum"
    assert curve.suggestion == pytest.approx(1e-2)  # a tenth of the rate at the minimum
    flat = LRFinderResult(lrs=[1e-5, 1e-4, 1e-3, 1e-2], losses=[1.0] * 4, smoothed=[1.0, 1.1, 1.2, 1.3],
                          stop_reason="end", steps_planned=4)
    _suggest(flat)
    assert flat.suggestion is None and "never went down" in flat.note
    flat.method = "minimum"
    assert flat.suggestion is None  # no minimum / 10 either: the loss only rose


def test_steepest_is_the_steepest_point_before_the_minimum():
    lrs = list(np.logspace(-6, 0, 13))
    smoothed = [2.3, 2.3, 2.29, 2.2, 1.6, 0.9, 0.6, 0.5, 0.45, 0.44, 0.6, 1.5, 3.0]
    curve = LRFinderResult(lrs, smoothed, smoothed, "end", 13)
    from ember.tools.lr_finder import _suggest

    _suggest(curve)
    slopes = np.gradient(np.array(smoothed), np.log10(lrs))
    assert curve.steepest_lr == lrs[int(np.argmin(slopes[:9]))] == lrs[4]
    assert curve.minimum_lr == lrs[9]


def test_restores_batchnorm_buffers_on_real_data(tmp_path):
    from ember.app.probes import training_data

    data = training_data("digits-mini", seed=0)
    backend.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))
    before = {k: v.array.copy() for k, v in model.state_dict().items()}
    model.eval()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    result = lr_find(model, opt, data.loader(64, 0), start_lr=1e-5, end_lr=10.0, steps=40)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k].array) for k in before)  # running_mean/var too
    assert not model.training  # its mode is put back
    assert opt.state_dict()["state"] == {} and opt.param_groups[0]["lr"] == 1e-3
    assert len(result.lrs) > 10 and min(result.smoothed) < result.smoothed[0]  # it learned on the way


def test_csv_and_plot(tmp_path):
    model, loader, loss = quadratic()
    result = lr_find(model, optim.SGD(model.parameters(), lr=0.1), loader, start_lr=1e-4, end_lr=10, steps=60,
                     loss_fn=loss)
    csv = (tmp_path / "lr.csv")
    result.to_csv(str(csv))
    lines = csv.read_text().splitlines()
    assert lines[0] == "step,lr,loss,smoothed_loss" and len(lines) == len(result.lrs) + 1
    step, lr, value, smooth = lines[3].split(",")
    assert int(step) == 3 and float(lr) == result.lrs[2] and float(smooth) == result.smoothed[2]
    png = tmp_path / "lr.png"
    result.plot(str(png), title="w²")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no temporary left
    text = result.describe()
    assert "diverged" in text and "suggested lr" in text and "steepest descent" in text


@pytest.mark.parametrize("kwargs, message", [
    (dict(start_lr=1.0, end_lr=0.1), "0 < start_lr < end_lr"),
    (dict(start_lr=0.0), "0 < start_lr < end_lr"),
    (dict(steps=1), "steps must be a whole number >= 2"),
    (dict(beta=1.0), "beta"),
    (dict(suggest="valley"), "suggest must be one of"),
])
def test_bad_arguments(kwargs, message):
    model, loader, loss = quadratic()
    with pytest.raises(ValueError, match=message):
        lr_find(model, optim.SGD(model.parameters(), lr=0.1), loader, loss_fn=loss, **kwargs)


def test_empty_loader_is_an_error():
    model, _, loss = quadratic()
    with pytest.raises(ValueError, match="no batches"):
        lr_find(model, optim.SGD(model.parameters(), lr=0.1), [], loss_fn=loss)
    assert model.weight.item() == 1.0


# ---- the command line ---------------------------------------------------------------------------------------


def test_cli_writes_csv_and_plot(tmp_path, capsys):
    out = tmp_path / "lf"
    assert main(["lr-find", "lenet5", "--dataset", "digits-mini", "--steps", "30", "--batch-size", "32",
                 "--start-lr", "1e-4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "suggested lr" in printed and str(out / "lr_find.png") in printed
    lines = (out / "lr_find.csv").read_text().splitlines()
    assert lines[0] == "step,lr,loss,smoothed_loss" and 2 < len(lines) <= 31
    assert float(lines[1].split(",")[1]) == pytest.approx(1e-4)
    assert (out / "lr_find.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_adam_and_minimum(tmp_path, capsys):
    assert main(["lr-find", "lenet5", "--dataset", "digits-mini", "--steps", "12", "--batch-size", "16",
                 "--optimizer", "adam", "--suggest", "minimum", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    tenth = re.search(r"lowest smoothed loss \S+ at lr (\S+) \(a tenth of it: (\S+)\)", out)
    assert float(tenth.group(2)) == pytest.approx(float(tenth.group(1)) / 10, rel=1e-2)
    assert f"suggested lr: {tenth.group(2)} (minimum / 10)" in out


@pytest.mark.parametrize("argv, message", [
    (["--start-lr", "1", "--end-lr", "0.1"], "--start-lr (1) must be below --end-lr (0.1)"),
    (["--steps", "1"], "--steps must be a whole number >= 2"),
    (["--end-lr", "0"], "--end-lr must be a positive number"),
    (["--suggest", "valley"], "invalid choice"),
])
def test_cli_usage_errors(argv, message, capsys, tmp_path):
    assert main(["lr-find", "lenet5", "--dataset", "digits-mini", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_unusable_out_or_model_fails_before_the_test(tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert main(["lr-find", "lenet5", "--dataset", "digits-mini", "--out", str(a_file), "--no-progress"]) == 2
    assert "a-file: File exists" in capsys.readouterr().err
    assert main(["lr-find", "lenet6", "--dataset", "digits-mini", "--out", str(tmp_path / "x")]) == 2
    assert "unknown model 'lenet6'" in capsys.readouterr().err and not (tmp_path / "x").exists()
