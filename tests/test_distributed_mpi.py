"""ember.distributed across processes: programs in tests/mpi/programs.py run under ``mpirun -n 2``.

N = 2 processes, each on half of every batch, must end with the same weights as one process on the whole
batch (float64: 1e-12, float32: 1e-6), for LeNet-5 and for a BatchNorm network with SyncBatchNorm; every
collective gives every rank what torch's documentation says; a rank that hangs or fails ends the job with a
clear message instead of a hang. (The machine has 2 cores: each rank runs single-threaded.)
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="the 2-process tests need the extra ember[distributed] (CI installs it)")

from ember.distributed.launch import mpirun_command  # noqa: E402

PROGRAMS = os.path.join(os.path.dirname(__file__), "mpi", "programs.py")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, nproc=2, timeout=120):
    """``python tests/mpi/programs.py ARGS`` on ``nproc`` processes (alone, without MPI, when nproc is 0)."""
    program = [sys.executable, PROGRAMS, *map(str, args)]
    command = mpirun_command(nproc, program) if nproc else program
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def weights(tmp_path, model, dtype, nproc):
    out = tmp_path / f"{model}-{dtype}-{nproc}.npz"
    done = run(["train", model, dtype, 20, out], nproc)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(out))


@pytest.mark.parametrize("model", ["lenet", "syncbn"])
@pytest.mark.parametrize("dtype, atol", [("float64", 1e-12), ("float32", 1e-6)])
def test_two_processes_on_half_batches_equal_one_on_the_whole(tmp_path, model, dtype, atol):
    alone, two = weights(tmp_path, model, dtype, 0), weights(tmp_path, model, dtype, 2)
    assert alone.keys() == two.keys()
    for key in alone:
        assert alone[key].dtype == two[key].dtype
        tolerance = atol
        if dtype == "float32" and "running_" in key:
            # BatchNorm's running means sum 20 batch means of activations up to ~3 in float32: one process
            # alone already differs from float64 by 6.5e-6 there, two processes by 4-6e-6 (the parameters,
            # the "weights", stay within 1e-6). So the running statistics get the float32 standard.
            tolerance = 1e-5
        np.testing.assert_allclose(two[key], alone[key], rtol=0, atol=tolerance, err_msg=key)
    moved = max(np.abs(alone[k]).max() for k in alone if k.endswith("weight"))
    assert moved > 0.01  # the weights trained (a test of two zero arrays would prove nothing)


def test_collectives_on_two_processes(tmp_path):
    out = tmp_path / "collectives.json"
    done = run(["collectives", out])
    assert done.returncode == 0, done.stderr[-3000:]
    r0, r1 = json.loads(out.read_text())
    for rank in (r0, r1):
        assert rank["SUM"] == [3.0, -2.0] and rank["AVG"] == [1.5, -1.0]
        assert rank["MAX"] == [2.0, 0.0] and rank["MIN"] == [1.0, -2.0] and rank["PRODUCT"] == [2.0, 0.0]
        assert rank["BOR"] == [3, 6] and rank["async"] == [True, [2.0, 2.0, 2.0]]
        assert rank["strided"] == [[0.0, 6.0], [2.0, 8.0], [4.0, 10.0]]
        assert rank["broadcast"] == [1.0, 1.0, 1.0]
        assert rank["all_gather"] == [[0.0, 0.0], [1.0, 10.0]]
        assert rank["all_gather_into_tensor"] == [0.0, 0.5, 1.0, 1.5]
        assert rank["all_gather_object"] == [{"rank": 0, "name": "r0"}, {"rank": 1, "name": "r1"}]
        assert rank["broadcast_object_list"] == [1, "x", {"k": [1, 2]}]
    # arange(4)·1 + arange(4)·2 = [0, 3, 6, 9]: rank 0 keeps the first half, rank 1 the second
    assert r0["reduce_scatter_tensor"] == [0.0, 3.0] and r1["reduce_scatter_tensor"] == [6.0, 9.0]
    assert r1["reduce"] == [3.0] and r0["reduce"] == [1.0]  # only dst=1 receives the sum
    assert r0["gather"] == [[0.0], [3.0]] and r1["gather"] is None
    assert r0["scatter"] == [0.0, 0.0] and r1["scatter"] == [1.0, -1.0]
    assert r1["recv"] == [0, [5.0, 6.0]]
    assert r0["subgroup_rank"] == -1 and r1["subgroup_rank"] == 0 and r1["subgroup_sum"] == [2.0]


def test_a_rank_that_hangs_makes_the_other_fail_with_a_timeout():
    start = time.monotonic()
    done = run(["fail", "stuck", 2])
    assert done.returncode != 0
    assert time.monotonic() - start < 60  # rank 1 sleeps 120 s: the job was stopped, not waited out
    assert "DistBackendError: rank 0 of 2 waited 2 s in all_reduce" in done.stderr
    assert "init_process_group(timeout=" in done.stderr


def test_a_rank_that_raises_ends_the_job_at_once():
    start = time.monotonic()
    done = run(["fail", "raise", 300])  # a 5-minute timeout that must not be waited for
    assert done.returncode != 0
    assert time.monotonic() - start < 60
    assert "ValueError: rank 1 fails on purpose" in done.stderr


def test_launcher_sets_torchruns_variables(tmp_path):
    script = tmp_path / "env.py"
    script.write_text(
        "import json, os, sys\n"
        "import ember, ember.distributed as dist\n"
        "dist.init_process_group('gloo')\n"
        "keys = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR')\n"
        "row = {k: os.environ[k] for k in keys}\n"
        "row.update(rank=dist.get_rank(), threads=ember.get_num_threads(), main=__name__, argv=sys.argv[1:])\n"
        "rows = [None] * dist.get_world_size()\n"
        "dist.all_gather_object(rows, row)\n"
        "if dist.get_rank() == 0:\n"
        f"    open({str(tmp_path / 'rows.json')!r}, 'w').write(json.dumps(rows))\n"
    )
    done = subprocess.run([sys.executable, "-m", "ember.distributed.launch", "--nproc", "2", str(script), "--x", "1"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "rows.json").read_text())
    for rank, row in enumerate(rows):
        assert row["RANK"] == str(rank) == str(row["rank"]) and row["LOCAL_RANK"] == str(rank)
        assert row["WORLD_SIZE"] == "2" == row["LOCAL_WORLD_SIZE"]
        assert row["main"] == "__main__" and row["argv"] == ["--x", "1"]
        expected = 1 if (os.cpu_count() or 1) <= 3 else (os.cpu_count() // 2)
        assert row["threads"] == expected  # the cores are shared between the processes


def test_ddp_no_sync_and_unused_parameters(tmp_path):
    out = tmp_path / "ddp.json"
    done = run(["ddp_features", out])
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(out.read_text())
    assert got["local"] == [[1.0] * 3] * 2  # rank 0's own gradient, not averaged inside no_sync
    assert got["synced"] == [[3.0] * 3] * 2  # (1 + 1 on rank 0, 2 + 2 on rank 1) averaged
    assert got["find=True"] == [[1.5] * 3]
    assert "find_unused_parameters=True" in got["find=False"]


# ---- ember train --nproc ---------------------------------------------------------------------------------------


def ember(*args, timeout=300):
    command = [sys.executable, "-m", "ember.cli", "train", "lenet5", "--dataset", "digits-mini", "--no-progress", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT))


def test_train_on_two_processes_and_resume_with_any_number(tmp_path):
    two = ember("--epochs", "1", "--nproc", "2", "--scheduler", "none", "--out", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stderr.count("epoch 1,") == 1  # rank 0 logs; rank 1 does not
    files = sorted(os.listdir(tmp_path / "two"))
    assert files == ["best.npz", "curves.png", "epoch-1.npz", "last.npz", "metrics.json", "steps.jsonl"]
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["test"]["test_accuracy"] > 0.15 and len(metrics["history"]) == 1  # chance is 0.1
    # steps.jsonl: one line per optimizer step, as many as one process takes on the same global batch
    steps = (tmp_path / "two" / "steps.jsonl").read_text().splitlines()
    from ember.data.datasets import DigitsMini

    images = len(DigitsMini(train=True))
    assert len(steps) == -(-(images - images // 5) // 128)  # a fifth held out for validation; global batch 128
    # a 2-process checkpoint resumes on one process, and a 1-process one on two
    one = ember("--epochs", "2", "--resume", str(tmp_path / "two" / "last.npz"), "--out", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-3000:]
    assert len(json.loads((tmp_path / "one" / "metrics.json").read_text())["history"]) == 2
    back = ember("--epochs", "3", "--nproc", "2", "--resume", str(tmp_path / "one" / "last.npz"),
                 "--out", str(tmp_path / "back"))
    assert back.returncode == 0, back.stderr[-3000:]
    assert len(json.loads((tmp_path / "back" / "metrics.json").read_text())["history"]) == 3


def test_train_nproc_failures_are_one_line(tmp_path):
    uneven = ember("--epochs", "1", "--nproc", "2", "--batch-size", "7", "--out", str(tmp_path / "x"))
    assert uneven.returncode == 2
    assert uneven.stderr.strip().splitlines() == [
        "ember train: error: --batch-size 7 is the global batch, split evenly over --nproc 2 processes: "
        "choose a multiple of 2"]
    lm = subprocess.run([sys.executable, "-m", "ember.cli", "train", "char-lm", "--nproc", "2"], capture_output=True,
                        text=True, timeout=60, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert lm.returncode == 2 and lm.stderr.strip().splitlines() == [
        "ember train: error: char-lm trains on one process; --nproc (and mpirun) train the image models. Drop --nproc"]


def test_a_pytorch_ddp_program_runs_on_two_processes(tmp_path):
    """torchrun's DDP recipe (gloo, RANK/WORLD_SIZE/LOCAL_RANK, DistributedSampler, DDP) under ember run --nproc 2,
    against the same program as one process on the whole batch."""
    program = os.path.join(ROOT, "tests", "torch_programs", "ddp_train.py")
    env = dict(os.environ, PYTHONPATH=ROOT)
    outs = {}
    for nproc in (1, 2):
        out = tmp_path / f"w{nproc}.json"
        done = subprocess.run([sys.executable, "-m", "ember.cli", "run", "--nproc", str(nproc), program,
                               "--steps", "20", "--out", str(out)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path,
                              env=dict(env, RANK="0", WORLD_SIZE="1", LOCAL_RANK="0") if nproc == 1 else env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"on {nproc} processes" in done.stdout
        outs[nproc] = json.loads(out.read_text())
    for key, value in outs[1].items():
        np.testing.assert_allclose(outs[2][key], value, rtol=0, atol=1e-6, err_msg=key)


def test_pytorch_ddp_tutorial_with_mp_spawn_runs_under_ember_run_nproc(tmp_path):
    """torch's "Getting started with DDP" (mp.spawn, MASTER_ADDR, gloo): each MPI process runs its own rank."""
    program = os.path.join(ROOT, "tests", "torch_programs", "ddp_spawn.py")
    done = subprocess.run([sys.executable, "-m", "ember.cli", "run", "--nproc", "2", program], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rank 0: the 2 replicas hold the same weights" in done.stdout
    assert sorted(line for line in done.stdout.splitlines() if line.startswith("Running")) == [
        "Running basic DDP example on rank 0.", "Running basic DDP example on rank 1."]
    alone = subprocess.run([sys.executable, "-m", "ember.cli", "run", program], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT))
    assert alone.returncode != 0 and "ember run --nproc 2 SCRIPT" in alone.stderr  # says how to start it


def test_a_nan_on_one_rank_stops_every_rank_at_the_same_step(tmp_path):
    out = tmp_path / "nan"
    done = run(["nan", out])
    assert done.returncode == 0, done.stderr[-3000:]
    results = [(tmp_path / f"nan.{rank}").read_text() for rank in (0, 1)]
    assert results[0] == results[1]  # rank 0's own batches were finite: it stopped because rank 1's loss was not
    assert results[0].startswith("stopped after 1 steps: the training loss became nan at epoch 1, step 2/4")


def test_ctrl_c_on_two_processes_writes_the_record_and_exits_130(tmp_path):
    import signal

    out = tmp_path / "run"
    command = [sys.executable, "-m", "ember.cli", "train", "lenet5", "--dataset", "digits-mini", "--no-progress",
               "--epochs", "200", "--nproc", "2", "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
                               env=dict(os.environ, PYTHONPATH=ROOT))
    deadline = time.monotonic() + 60
    while not (out / "last.npz").exists() and time.monotonic() < deadline:  # an epoch is done: interrupt
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-3000:]
    assert stderr.count("ember train: interrupted") == 1 and stderr.rstrip().endswith("ember train: interrupted")
    assert "-----" not in stderr  # Open MPI's report of the stopped job is not shown
    record = json.loads((out / "metrics.json").read_text())
    assert record["stopped"]["reason"] == "interrupted (Ctrl-C)" and record["stopped"]["epochs_completed"] >= 1


def test_data_parallel_example_by_hand_and_with_ddp_equals_one_process():
    done = subprocess.run(mpirun_command(2, [sys.executable, os.path.join(ROOT, "examples", "data_parallel.py")]),
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "2 process(es), 10 steps, batch 32 (16 per process)"
    for line in lines[1:]:
        assert float(line.split()[-1]) < 1e-12, line
