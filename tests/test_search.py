"""ember.tools.search and `ember search`: ranges, draws, coarse to fine, grid, the CSV, resuming, the
plot, and the command end to end on LeNet-5 / DigitsMini."""

import csv
import math

import numpy as np
import pytest

from ember import nn
from ember.cli import main
from ember.tools import search as S
from ember.tools.search import Range, SearchError, parse_range

# ---- ranges ---------------------------------------------------------------------------------------------


def test_ranges_parse():
    assert parse_range("lr", "1e-4:1:log") == Range("lr", 1e-4, 1.0, log=True)
    assert parse_range("dropout", "0:0.5") == Range("dropout", 0.0, 0.5, log=False)
    assert parse_range("dropout", "0:0.5:lin") == Range("dropout", 0.0, 0.5, log=False)
    assert parse_range("momentum", "0.9") == Range("momentum", 0.9, 0.9)
    assert parse_range("momentum", "0.9").fixed and str(parse_range("lr", "1e-4:1:log")) == "0.0001:1:log"


@pytest.mark.parametrize("text, message", [
    ("1:1e-4:log", "--lr runs backwards (1:0.0001); write LOW:HIGH, e.g. 0.0001:1"),
    ("0:1:log", "--lr on a log scale needs positive ends, got 0:1"),
    ("-1:1:log", "--lr on a log scale needs positive ends"),
    ("1:1", "--lr 1:1 is an empty range"),
    ("a:b", "holds something that is not a number"),
    ("1:2:cube", "--lr must be LOW:HIGH, LOW:HIGH:log or one value"),
    ("1:2:3:log", "--lr must be LOW:HIGH, LOW:HIGH:log or one value"),
    ("nan:1", "--lr needs finite ends"),
    ("1e-4:inf:log", "--lr needs finite ends"),
])
def test_bad_ranges_are_refused_in_one_line(text, message):
    with pytest.raises(SearchError, match=None) as error:
        parse_range("lr", text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_each_end_obeys_the_flag_rule_of_ember_train():
    from ember.app.search import parse_range as app_range

    assert app_range("momentum", "0.5:0.99") == Range("momentum", 0.5, 0.99)
    with pytest.raises(SearchError, match=r"--momentum 0.5:1.5: each end must be a number in \[0, 1\)"):
        app_range("momentum", "0.5:1.5")
    with pytest.raises(SearchError, match="--weight-decay -1:1: each end must be a number >= 0"):
        app_range("weight_decay", "-1:1")


def test_log_draws_are_uniform_in_the_exponent():
    rng = np.random.default_rng(0)
    r = Range("lr", 1e-4, 1.0, log=True)
    draws = np.array([r.sample(rng) for _ in range(4000)])
    assert draws.min() >= 1e-4 and draws.max() <= 1.0
    decades = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1, 0])[0] / len(draws)
    np.testing.assert_allclose(decades, 0.25, atol=0.03)  # as many draws in [1e-4, 1e-3) as in [0.1, 1)
    linear = Range("dropout", 0.0, 0.5)
    lin = np.array([linear.sample(rng) for _ in range(4000)])
    assert abs(np.mean(lin < 0.25) - 0.5) < 0.03  # a linear range: half the draws below the middle
    assert all(float(f"{d:.3g}") == d for d in draws[:50])  # 3 significant digits: readable, reproducible


def test_grid_and_narrow():
    r = Range("lr", 1e-4, 1.0, log=True)
    assert r.grid(5) == [1e-4, 1e-3, 1e-2, 0.1, 1.0]
    assert Range("dropout", 0.0, 0.5).grid(3) == [0.0, 0.25, 0.5]
    assert Range("momentum", 0.9, 0.9).grid(4) == [0.9]
    fine = r.narrow(1e-2)  # a quarter of 4 decades, centred on the best: 1 decade
    assert fine.log and math.isclose(fine.low, 10**-2.5, rel_tol=1e-2) and math.isclose(fine.high, 10**-1.5, rel_tol=1e-2)
    edge = r.narrow(0.9)  # near the top the window shifts down instead of leaving the range
    assert edge.high == 1.0 and math.isclose(edge.low, 0.1)
    assert Range("dropout", 0.0, 0.5).narrow(0.0) == Range("dropout", 0.0, 0.125)


def test_the_same_seed_draws_the_same_trials():
    ranges = [Range("lr", 1e-4, 1, log=True), Range("weight_decay", 1e-6, 1e-2, log=True), Range("momentum", 0.9, 0.9)]
    a, b = S.random_trials(ranges, 6, seed=3), S.random_trials(ranges, 6, seed=3)
    assert a == b and len({t["lr"] for t in a}) == 6 and all(t["momentum"] == 0.9 for t in a)
    assert S.random_trials(ranges, 6, seed=4) != a
    assert S.random_trials(ranges, 6, seed=3, stage="fine") != a
    assert S.random_trials(ranges, 8, seed=3)[:6] == a  # more trials: the first ones do not change
    assert len(S.grid_trials(ranges, 3)) == 9


# ---- the search with a cheap objective --------------------------------------------------------------------


class Bowl:
    """A fake training run: the accuracy peaks at lr = 0.01, weight decay = 1e-4; lr > 0.5 diverges."""

    def __init__(self, stop_after=None):
        self.calls, self.stop_after = [], stop_after

    def __call__(self, params):
        if self.stop_after is not None and len(self.calls) == self.stop_after:
            raise KeyboardInterrupt
        self.calls.append(params)
        if params["lr"] > 0.5:
            return {"val_accuracy": math.nan, "val_loss": math.nan, "epochs": 0, "status": "diverged"}
        miss = (math.log10(params["lr"]) + 2) ** 2 + 0.1 * (math.log10(params["weight_decay"]) + 4) ** 2
        return {"val_accuracy": 1 / (1 + miss), "val_loss": miss, "epochs": 1}


RANGES = [Range("lr", 1e-4, 1.0, log=True), Range("weight_decay", 1e-6, 1e-2, log=True)]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_coarse_then_fine_around_the_best(tmp_path):
    path = tmp_path / "trials.csv"
    objective = Bowl()
    rows = S.search(objective, RANGES, trials=10, fine_trials=5, seed=0, path=str(path), log=lambda m: None)
    table = read(path)
    assert [r["stage"] for r in table] == ["coarse"] * 10 + ["fine"] * 5
    assert [int(r["trial"]) for r in table] == [*range(1, 11), *range(1, 6)]
    assert list(table[0]) == ["stage", "trial", "lr", "weight_decay", *S.METRICS]
    best_coarse = S.best_row(rows[:10])
    for r in table[10:]:  # each fine trial lies in a decade of lr (a quarter of the range) around the best
        assert abs(math.log10(float(r["lr"])) - math.log10(float(best_coarse["lr"]))) <= 1.0 + 1e-9
    best = S.best_row(rows)
    assert float(best["val_accuracy"]) >= float(best_coarse["val_accuracy"])
    assert len(objective.calls) == 15 and all(float(r["seconds"]) >= 0 for r in table)


def test_rerunning_skips_finished_trials_and_an_interrupted_search_resumes(tmp_path):
    path = str(tmp_path / "trials.csv")
    full = S.search(Bowl(), RANGES, trials=6, fine_trials=3, path=path, log=lambda m: None)
    again = Bowl()
    S.search(again, RANGES, trials=6, fine_trials=3, path=path, log=lambda m: None)
    assert again.calls == []  # everything was in the CSV
    # Ctrl-C during the fourth trial: three rows are on disk; the rerun trains only what is missing.
    interrupted = str(tmp_path / "interrupted.csv")
    with pytest.raises(KeyboardInterrupt):
        S.search(Bowl(stop_after=3), RANGES, trials=6, fine_trials=3, path=interrupted, log=lambda m: None)
    assert len(read(interrupted)) == 3
    rest = Bowl()
    S.search(rest, RANGES, trials=6, fine_trials=3, path=interrupted, log=lambda m: None)
    assert len(rest.calls) == 6
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in read(interrupted)]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in read(path)]
    assert len(full) == 9


def test_another_searchs_csv_is_refused(tmp_path):
    path = str(tmp_path / "trials.csv")
    S.search(Bowl(), RANGES, trials=2, fine_trials=0, seed=0, path=path, log=lambda m: None)
    with pytest.raises(SearchError, match="holds coarse trial 1 with lr=.* but this search draws"):
        S.search(Bowl(), RANGES, trials=2, fine_trials=0, seed=1, path=path, log=lambda m: None)
    with pytest.raises(SearchError, match="has the columns stage,trial,lr,weight_decay"):
        S.search(Bowl(), RANGES[:1], trials=2, fine_trials=0, path=path, log=lambda m: None)


def test_diverged_trials_are_recorded_and_never_best(tmp_path):
    high = [Range("lr", 0.3, 1.0, log=True), Range("weight_decay", 1e-6, 1e-2, log=True)]
    rows = S.search(Bowl(), high, trials=12, fine_trials=0, path=str(tmp_path / "t.csv"), log=lambda m: None)
    statuses = {r["status"] for r in rows}
    assert statuses == {"ok", "diverged"}
    assert float(S.best_row(rows)["lr"]) <= 0.5
    messages = []
    S.search(Bowl(), [Range("lr", 0.6, 1.0), RANGES[1]], trials=3, fine_trials=2, path=str(tmp_path / "d.csv"),
             log=messages.append)
    assert any("every coarse trial diverged: no fine stage" in m for m in messages)


def test_grid_search_tries_every_combination(tmp_path):
    objective = Bowl()
    rows = S.search(objective, RANGES, grid=True, grid_points=3, path=str(tmp_path / "g.csv"), log=lambda m: None)
    assert [r["stage"] for r in rows] == ["grid"] * 9
    assert sorted({r["lr"] for r in rows}) == [1e-4, 1e-2, 1.0]  # only three values of each: random tries nine


def test_scatter_plot(tmp_path):
    from PIL import Image

    rows = S.search(Bowl(), RANGES + [Range("momentum", 0.9, 0.9)], trials=8, fine_trials=4,
                    path=str(tmp_path / "t.csv"), log=lambda m: None)
    png = S.plot_search(rows, RANGES + [Range("momentum", 0.9, 0.9)], str(tmp_path / "s.png"), title="bowl")
    with Image.open(png) as image:  # two panels: the fixed momentum is not plotted
        assert image.format == "PNG" and image.size[0] > 1.8 * image.size[1]
    with pytest.raises(SearchError, match="no hyper-parameter was searched"):
        S.plot_search(rows, [Range("momentum", 0.9, 0.9)], str(tmp_path / "x.png"))


# ---- `ember search` on LeNet-5 and DigitsMini -------------------------------------------------------------

QUICK = ["--dataset", "digits-mini", "--subset", "96", "--batch-size", "32", "--val-size", "64"]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("search")
    code = main(["search", "lenet5", *QUICK, "--trials", "2", "--fine-trials", "1", "--out", str(out)])
    return code, out


def test_cli_writes_the_csv_and_the_plot(searched, capsys):
    code, out = searched
    assert code == 0
    table = read(out / "trials.csv")
    assert [(r["stage"], r["trial"]) for r in table] == [("coarse", "1"), ("coarse", "2"), ("fine", "1")]
    for r in table:
        assert r["status"] in ("ok", "diverged") and r["epochs"] in ("0", "1")
        if r["status"] == "ok":
            assert 0 <= float(r["val_accuracy"]) <= 1 and float(r["val_loss"]) > 0
    assert (out / "search.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_rerun_skips_finished_trials(searched, capsys):
    code, out = searched
    before = (out / "trials.csv").read_text()
    assert main(["search", "lenet5", *QUICK, "--trials", "2", "--fine-trials", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "coarse 1/2" not in printed and "best: " in printed and "train it: ember train lenet5" in printed
    assert (out / "trials.csv").read_text() == before


def test_a_trial_is_the_same_run_every_time(searched):
    from ember.app.search import ImageTrial

    _, out = searched
    first = read(out / "trials.csv")[0]
    trial = ImageTrial("lenet5", "digits-mini", epochs=1, subset=96, batch_size=32, val_size=64)
    again = trial({"lr": float(first["lr"]), "weight_decay": float(first["weight_decay"])})
    assert repr(again["val_loss"]) == first["val_loss"] or math.isnan(again["val_loss"])


def test_dropout_reaches_the_model_that_has_it(tmp_path):
    from ember.app.recipes import DEFAULTS, image_model

    config = dict(DEFAULTS, model="mlp", dataset="digits-mini", lr=0.1)
    model, _, _, _ = image_model(config, 10, dropout=0.3)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    code = main(["search", "mlp", *QUICK, "--dropout", "0:0.5", "--trials", "2", "--fine-trials", "0",
                 "--out", str(tmp_path)])
    assert code == 0
    table = read(tmp_path / "trials.csv")
    assert list(table[0])[2:5] == ["lr", "weight_decay", "dropout"]
    assert all(0 <= float(r["dropout"]) <= 0.5 for r in table)


def test_cli_grid(tmp_path):
    code = main(["search", "lenet5", *QUICK, "--grid", "--grid-points", "2", "--lr", "0.01:0.1:log",
                 "--weight-decay", "1e-4", "--out", str(tmp_path)])
    assert code == 0
    table = read(tmp_path / "trials.csv")
    assert [r["stage"] for r in table] == ["grid", "grid"] and [float(r["lr"]) for r in table] == [0.01, 0.1]
    assert all(float(r["weight_decay"]) == 1e-4 for r in table)


@pytest.mark.parametrize("argv, message", [
    (["--lr", "1:1e-4:log"], "--lr runs backwards"),
    (["--lr", "0:1:log"], "--lr on a log scale needs positive ends"),
    (["--weight-decay", "x"], "--weight-decay must be LOW:HIGH"),
    (["--momentum", "0.5:1.5"], "--momentum 0.5:1.5: each end must be a number in [0, 1)"),
    (["--trials", "0"], "--trials must be a whole number >= 1"),
    (["--dropout", "0:0.5"], "--dropout: lenet5 has no dropout layer to tune; models that have one: alexnet"),
    (["--optimizer", "adam", "--momentum", "0.5:0.9"], "--momentum applies to --optimizer sgd or rmsprop"),
    (["--lr", "0.1", "--weight-decay", "0"], "nothing to search"),
    (["--resume", "--fresh"], "--resume and --fresh contradict"),
    (["--subset", "5000"], "--subset must be between 1 and 1536, got 5000"),
])
def test_cli_mistakes_are_one_line_and_exit_2(argv, message, capsys, tmp_path):
    assert main(["search", "lenet5", *QUICK, "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "trials.csv").exists()


def test_cli_refuses_another_searchs_csv_and_fresh_starts_over(tmp_path, capsys):
    args = ["search", "lenet5", *QUICK, "--trials", "1", "--fine-trials", "0", "--out", str(tmp_path)]
    assert main(args) == 0
    assert main([*args, "--seed", "5"]) == 2
    assert "it is another search's file" in capsys.readouterr().err
    assert main([*args, "--seed", "5", "--fresh"]) == 0
    assert len(read(tmp_path / "trials.csv")) == 1


def test_more_trials_extend_the_coarse_stage_and_fewer_reuse_its_start(tmp_path):
    path = str(tmp_path / "trials.csv")
    S.search(Bowl(), RANGES, trials=4, fine_trials=0, path=path, log=lambda m: None)
    more = Bowl()
    rows = S.search(more, RANGES, trials=6, fine_trials=0, path=path, log=lambda m: None)
    assert len(more.calls) == 2 and [int(r["trial"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    fewer = Bowl()
    rows = S.search(fewer, RANGES, trials=3, fine_trials=0, path=path, log=lambda m: None)
    assert fewer.calls == [] and len(rows) == 3 and len(read(path)) == 6  # the CSV keeps every trial run


def test_cli_unknown_model_is_one_line(capsys, tmp_path):
    assert main(["search", "lenet6", *QUICK, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'lenet6'. Did you mean 'lenet5'" in err and err.count("\n") == 1
