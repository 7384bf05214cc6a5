"""benchmarks/bench_vs_torch.py: one worker per framework runs and prints the JSON the parent reads, and the
parent's tables summarise rounds as documented. No timing is asserted: timings belong to the benchmark."""

import argparse
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "bench_vs_torch.py")


def load_script():
    spec = importlib.util.spec_from_file_location("bench_vs_torch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_worker(framework, model, *extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, SCRIPT, "--worker", framework, model, "--threads", "1", *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_lenet_worker_prints_training_and_inference_json(framework):
    result = run_worker(framework, "lenet5", "--steps", "1", "--warmup", "0")
    assert result["framework"] == framework and result["model"] == "lenet5" and result["threads"] == 1
    assert len(result["train_ms"]) == 1 and result["train_ms"][0] > 0
    assert result["train_ms_median"] == result["train_ms"][0]
    assert len(result["infer_ms"]) == 1 and result["infer_images_per_s"] > 0
    assert [d.replace("torch.", "") for d in result["dtypes"]] == ["float32", "float32"]


@pytest.mark.parametrize("framework", ["ember", "torch"])
def test_info_worker_reports_versions_and_threads(framework):
    info = run_worker(framework, "info")
    assert info["threads"] == 1 and info["numpy"]
    if framework == "ember":  # the worker must time this checkout's ember, not an installed one
        assert os.path.samefile(info["ember"], os.path.join(ROOT, "ember"))
    else:
        assert info["torch"] and info["torch_blas"]


def fake_run(framework, model, rnd, ms, ips=None):
    run = {"framework": framework, "model": model, "round": rnd, "train_ms_median": ms}
    if ips is not None:
        run["infer_images_per_s"] = ips
    return run


def test_tables_take_ratios_within_rounds_and_report_median_and_spread():
    bench = load_script()
    runs = [fake_run("ember", "lenet5", 0, 10.0, 1000.0), fake_run("torch", "lenet5", 0, 5.0, 2000.0),
            fake_run("torch", "lenet5", 1, 4.0, 2000.0), fake_run("ember", "lenet5", 1, 12.0, 500.0),
            fake_run("ember", "lenet5", 2, 8.0, 1000.0), fake_run("torch", "lenet5", 2, 8.0, 1000.0)]
    text = "\n".join(bench.tables(runs, ["lenet5"]))
    # per-round ratios 2.0, 3.0, 1.0 -> median 2.00 (1.00–3.00); times: median (min–max) per framework
    assert f"| {bench.TITLES['lenet5']} | 10.0 (8.0–12.0) | 5.0 (4.0–8.0) | 2.00 (1.00–3.00) |" in text
    # inference ratio is a time ratio: torch's images/s over Ember's (2, 4, 1)
    assert "| 1000 (500–1000) | 2000 (1000–2000) | 2.00 (1.00–4.00) |" in text


def test_mnist_table_reports_time_to_target_and_ratio():
    bench = load_script()

    def mnist(framework, rnd, seconds, reached):
        history = [{"epoch": 1, "test_accuracy": 0.985, "wall_s": seconds / 2, "train_s": seconds / 2 - 1},
                   {"epoch": 2, "test_accuracy": 0.991, "wall_s": seconds, "train_s": seconds - 2}]
        return {"framework": framework, "model": "mnist", "round": rnd, "history": history,
                "time_to_target_s": seconds if reached else None, "epoch_reached": 2 if reached else None}

    text = "\n".join(bench.tables([mnist("ember", 0, 30.0, True), mnist("torch", 0, 20.0, True)], []))
    assert "| Ember | 30.0 | 2 | 14.0 | 0.9910 |" in text
    assert "Time-to-99 % ratio Ember/torch: 1.50" in text
    text = "\n".join(bench.tables([mnist("ember", 0, 30.0, False), mnist("torch", 0, 20.0, True)], []))
    assert "| Ember | not reached |" in text and "Time-to-99 % ratio" not in text


def test_machine_report_warns_about_the_slow_openblas_variables_and_a_busy_machine(monkeypatch):
    bench = load_script()
    info = {"ember": {"python": "3", "numpy": "2", "numpy_blas": "openblas", "ember": ROOT, "threads": 2},
            "torch": {"torch": "2.13", "torch_blas": "mkl", "threads": 2}}
    args = argparse.Namespace(threads=2, rounds=3, warmup=3, steps=10)
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert not any("WARNING" in line for line in bench.machine_report(info, args))
    monkeypatch.setattr(bench.os, "getloadavg", lambda: (2.5, 1.0, 1.0))
    assert any("WARNING: the machine is busy (load 2.50)" in line for line in bench.machine_report(info, args))
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    lines = bench.machine_report(info, args)
    assert any("WARNING" in line and "OPENBLAS_CORETYPE=Haswell" in line for line in lines)
    assert lines[0].startswith("Machine: ") and "logical CPUs" in lines[0]
