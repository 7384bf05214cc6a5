"""ember.profiler: op and backward-node counts, layer attribution, record_function, Chrome traces, schedules,
the cost-free path when off, and EMBER_PROFILE=1 from a subprocess. Tests never assert timings, only what
was counted and how the times relate (self <= total, sums that must add up)."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember import profiler
from ember.autograd import profiling

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_net():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def train_steps(model, steps, opt=None):
    opt = opt or optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        loss = model(ember.randn(16, 4)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return opt


def rows(prof, **kwargs):
    return {r.key: r for r in prof.key_averages(**kwargs)}


class Block(nn.Module):
    """A residual block whose add and final relu are functional: their nodes belong to the block itself."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.act = nn.ReLU()

    def forward(self, x):
        return F.relu(self.act(self.fc(x)) + x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 6)
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


# ---- op rows ------------------------------------------------------------------------------------------------


def test_ops_and_backward_nodes_are_counted_per_call():
    model = small_net()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_steps(model, 1, opt)  # before the block: not counted
    with profiler.profile() as prof:
        train_steps(model, 3, opt)
    train_steps(model, 1, opt)  # after the block: not counted
    r = rows(prof)
    expected = {"Linear": 6, "LinearBackward0": 6, "ReLU": 3, "ReLUBackward0": 3, "Sum": 3, "SumBackward0": 3,
                "autograd::engine::backward": 3, "autograd::engine::topological_sort": 3,
                "Optimizer.step#SGD.step": 3, "Optimizer.zero_grad#SGD.zero_grad": 3}
    for name, count in expected.items():
        assert r[name].count == count, (name, r[name].count)
    # one accumulate per backward node
    assert r["autograd::engine::accumulate_grad"].count == 3 * 4
    assert r["Linear"].kind == "forward" and r["LinearBackward0"].kind == "backward"
    assert r["autograd::engine::backward"].kind == "engine" and r["Optimizer.step#SGD.step"].kind == "optimizer"
    for row in r.values():
        assert 0 <= row.self_cpu_time_total <= row.cpu_time_total + 1e-9
        assert row.cpu_time == pytest.approx(row.cpu_time_total / row.count)
    # the backward pass holds its nodes: its total covers their totals
    nodes = sum(row.cpu_time_total for row in r.values() if row.kind == "backward")
    assert r["autograd::engine::backward"].cpu_time_total >= nodes
    # self times add up to the time covered, each counted once
    top = r["autograd::engine::backward"].cpu_time_total + r["Optimizer.step#SGD.step"].cpu_time_total
    top += r["Optimizer.zero_grad#SGD.zero_grad"].cpu_time_total
    top += sum(r[n].cpu_time_total for n in ("Linear", "ReLU", "Sum"))
    assert prof.self_cpu_time_total == pytest.approx(top, rel=1e-9)


def test_the_table_shows_forward_and_backward_rows_with_calls():
    model = small_net()
    with profiler.profile() as prof:
        train_steps(model, 2)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=50)
    for text in ("Name", "Self CPU %", "Self CPU", "CPU total", "# of Calls", "Linear", "LinearBackward0",
                 "ReLUBackward0", "Self CPU time total:"):
        assert text in table
    line = next(l for l in table.splitlines() if l.startswith("LinearBackward0 "))
    assert line.split()[-1] == "4"
    short = prof.key_averages().table(sort_by="count", row_limit=3)
    assert len([l for l in short.splitlines() if l and not l.startswith(("-", "Name", "Self CPU time"))]) == 3


def test_op_view_puts_forward_and_backward_side_by_side():
    model = small_net()
    with profiler.profile() as prof:
        train_steps(model, 2)
    ops = {r.key: r for r in prof.key_averages(group_by="op")}
    assert set(ops) == {"Linear", "ReLU", "Sum"}  # engine, optimizer and labels are not ops
    r = rows(prof)
    assert ops["Linear"].forward_calls == 4 and ops["Linear"].backward_calls == 4
    assert ops["Linear"].forward == pytest.approx(r["Linear"].self_cpu_time_total)
    assert ops["Linear"].backward == pytest.approx(r["LinearBackward0"].self_cpu_time_total)
    table = prof.key_averages(group_by="op").table(sort_by="total")
    assert "Forward" in table and "Backward" in table and "not ops: " in table
    line = next(l for l in table.splitlines() if l.startswith("ReLU "))
    assert line.split()[1] == "2" and line.split()[4] == "2"


def test_input_shapes_split_rows_when_recorded():
    model = small_net()
    with profiler.profile(record_shapes=True) as prof:
        model(ember.randn(16, 4)).sum().backward()
        model(ember.randn(5, 4)).sum().backward()
    split = [r for r in prof.key_averages(group_by_input_shape=True) if r.key == "Linear"]
    assert sorted(r.input_shapes for r in split) == [[[5, 4], [8, 4], [8]], [[5, 8], [2, 8], [2]],
                                                      [[16, 4], [8, 4], [8]], [[16, 8], [2, 8], [2]]]
    assert all(r.count == 1 for r in split)
    assert rows(prof)["Linear"].count == 4
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()
    back = [r for r in prof.key_averages(group_by_input_shape=True) if r.key == "ReLUBackward0"]
    assert sorted(r.input_shapes for r in back) == [[[5, 8]], [[16, 8]]]
    with profiler.profile() as plain:
        model(ember.randn(2, 4))
    with pytest.raises(ValueError, match="record_shapes"):
        plain.key_averages(group_by_input_shape=True)


def test_memory_counts_the_bytes_ops_return():
    model = small_net()
    with profiler.profile(profile_memory=True) as prof:
        model(ember.randn(16, 4))
    r = rows(prof)
    assert r["Linear"].self_cpu_memory_usage == 16 * 8 * 4 + 16 * 2 * 4  # float32 outputs of both layers
    assert "CPU Mem" in prof.key_averages().table()


def test_bad_sort_key_names_the_valid_ones():
    with profiler.profile() as prof:
        ember.randn(3, requires_grad=True).sum().backward()
    with pytest.raises(ValueError, match="self_cpu_time_total"):
        prof.key_averages().table(sort_by="cuda_time_total")
    with pytest.raises(ValueError, match="layer"):
        prof.key_averages(group_by="module")


# ---- layers -------------------------------------------------------------------------------------------------


def test_layer_rows_follow_the_model_and_split_forward_and_backward():
    model = Net()
    with profiler.profile(record_shapes=True) as prof:
        for _ in range(2):
            model(ember.randn(8, 4)).sum().backward()
    layers = {r.key: r for r in prof.key_averages(group_by="layer")}
    assert list(layers) == ["Net", "stem", "blocks", "blocks.0", "blocks.0.fc", "blocks.0.act", "blocks.1",
                            "blocks.1.fc", "blocks.1.act", "head"]
    assert all(r.count == 2 for r in layers.values())
    assert layers["blocks.0.fc"].type == "Linear" and layers["blocks.0"].type == "Block"
    assert layers["blocks.0.fc"].input_shapes == [[8, 6]]
    events = prof.events()
    # backward nodes are attributed to the module whose forward created them
    by_layer = {}
    for e in events:
        if e.kind == "backward":
            by_layer.setdefault(e.layer, []).append(e.name)
    assert sorted(by_layer["blocks.0.fc"]) == ["LinearBackward0"] * 2
    assert sorted(by_layer["blocks.0.act"]) == ["ReLUBackward0"] * 2
    assert sorted(by_layer["blocks.0"]) == ["AddBackward0"] * 2 + ["ReLUBackward0"] * 2  # the block's own F.relu
    assert sorted(by_layer[""]) == ["SumBackward0"] * 2  # .sum() ran outside the model
    for key, r in layers.items():
        own = sum(e.cpu_time_total for e in events if e.kind == "backward" and e.layer == key)
        assert r.self_backward == pytest.approx(own, rel=1e-9, abs=1e-6)
    # a container's backward is the sum over its subtree; its forward holds its children's
    block = layers["blocks.0"]
    assert block.backward_total == pytest.approx(
        block.self_backward + layers["blocks.0.fc"].backward_total + layers["blocks.0.act"].backward_total)
    assert layers["Net"].backward_total == pytest.approx(sum(r.self_backward for r in layers.values()))
    assert block.forward_total >= layers["blocks.0.fc"].forward_total + layers["blocks.0.act"].forward_total
    assert block.self_forward == pytest.approx(
        block.forward_total - layers["blocks.0.fc"].forward_total - layers["blocks.0.act"].forward_total)
    # forward ops carry their layer too
    assert {e.layer for e in events if e.name == "Add"} == {"blocks.0", "blocks.1"}


def test_layer_table_prints_in_model_order_and_sorted():
    model = Net()
    with profiler.profile() as prof:
        model(ember.randn(8, 4)).sum().backward()
    table = prof.layer_table()
    lines = table.splitlines()
    for text in ("Layer", "Forward total", "Backward total", "Self bwd", "blocks.0.fc"):
        assert text in table
    assert lines[3].startswith("Net ") and lines[4].startswith("  stem ")
    assert any(l.startswith("      blocks.1.act ") for l in lines)  # indented by depth
    top = prof.layer_table(sort_by="total", row_limit=1).splitlines()[3]
    assert top.startswith("Net ")
    with pytest.raises(ValueError, match="sort_by"):
        prof.layer_table(sort_by="flops")


def test_two_roots_keep_their_own_rows():
    model, criterion = small_net(), nn.CrossEntropyLoss()
    other = nn.Sequential(nn.Linear(2, 2))
    with profiler.profile() as prof:
        out = other(model(ember.randn(4, 4)))
        criterion(out, ember.tensor([0, 1, 1, 0])).backward()
    keys = [r.key for r in prof.key_averages(group_by="layer")]
    assert keys == ["Sequential", "0", "1", "2", "Sequential#2", "Sequential#2.0", "CrossEntropyLoss"]
    layers = {r.key: r for r in prof.key_averages(group_by="layer")}
    assert layers["Sequential#2.0"].depth == 1 and layers["Sequential#2"].self_backward == 0
    with profiler.profile() as prof:
        for _ in range(3):
            nn.ReLU()(ember.randn(2))  # a module made per call, at the top: one row, not one per object
    assert [(r.key, r.count) for r in prof.key_averages(group_by="layer")] == [("ReLU", 3)]
    assert prof.recorder.roots == {}


# ---- labels, custom functions, traces ------------------------------------------------------------------------


def test_record_function_labels_hold_their_ops():
    model = small_net()

    @profiler.record_function("decorated")
    def forward(x):
        return model(x)

    with profiler.profile() as prof:
        with profiler.record_function("train_step"):
            with profiler.record_function("forward_pass"):
                out = forward(ember.randn(16, 4))
            out.sum().backward()
    r = rows(prof)
    assert r["train_step"].count == 1 and r["forward_pass"].count == 1 and r["decorated"].count == 1
    assert r["train_step"].kind == "label"
    assert r["train_step"].cpu_time_total >= r["forward_pass"].cpu_time_total >= r["decorated"].cpu_time_total
    assert r["train_step"].self_cpu_time_total < r["train_step"].cpu_time_total
    assert r["train_step"].cpu_time_total == pytest.approx(prof.self_cpu_time_total)  # it holds everything
    names = [e.name for e in prof.events()]
    assert names.index("Linear") < names.index("decorated") < names.index("forward_pass")  # inner ends first
    # outside a profile a label does nothing
    with profiler.record_function("nobody listens"):
        ember.randn(2) * 2


def test_custom_function_and_its_inner_ops():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = ember.randn(5, requires_grad=True)
    with profiler.profile() as prof:
        Square.apply(x).sum().backward()
    r = rows(prof)
    assert r["Square"].count == 1 and r["SquareBackward0"].count == 1
    assert r["Mul"].count >= 1  # the ops inside the custom forward are its children
    assert r["Square"].self_cpu_time_total < r["Square"].cpu_time_total
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_chrome_trace_is_valid_json_written_atomically(tmp_path):
    model = Net()
    with profiler.profile(record_shapes=True) as prof:
        with profiler.record_function("step"):
            model(ember.randn(8, 4)).sum().backward()
    path = tmp_path / "trace.json"
    assert prof.export_chrome_trace(str(path)) == str(path)
    assert os.listdir(tmp_path) == ["trace.json"]  # no temporary left behind
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert all(e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0 for e in events)
    names = {e["name"] for e in events}
    assert {"step", "Linear", "LinearBackward0", "nn.Module: blocks.0.fc", "nn.Module: Net",
            "autograd::engine::backward"} <= names
    fc = next(e for e in events if e["name"] == "Linear" and e["args"].get("layer") == "blocks.0.fc")
    assert fc["args"]["Input Dims"] == [[8, 6], [6, 6], [6]]
    step = next(e for e in events if e["name"] == "step")
    assert all(step["ts"] <= e["ts"] and e["ts"] + e["dur"] <= step["ts"] + step["dur"] + 1e-3
               for e in events if e["name"] != "step")
    path.write_text("old")
    prof.export_chrome_trace(path)  # a path object, overwriting
    assert json.loads(path.read_text())["traceEvents"]


def test_with_stack_groups_by_the_callers_frames():
    with profiler.profile(with_stack=True) as prof:
        ember.randn(3, requires_grad=True).exp().sum().backward()
    exp = [r for r in prof.key_averages(group_by_stack_n=2) if r.key == "Exp"]
    assert len(exp) == 1 and "test_profiler.py" in exp[0].stack[0]


# ---- schedule, start/stop, the cost-free path -----------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Profiler won't be using warmup")  # torch's warning for warmup=0
def test_schedule_matches_torch():
    for kwargs in (dict(wait=1, warmup=1, active=2), dict(wait=2, warmup=0, active=1, repeat=2),
                   dict(wait=0, warmup=2, active=3, repeat=1, skip_first=3)):
        ours = profiler.schedule(**kwargs)
        theirs = torch.profiler.schedule(**kwargs)
        assert [ours(i).name for i in range(20)] == [theirs(i).name for i in range(20)], kwargs


def test_schedule_records_only_active_steps_and_reports_each_cycle():
    model = small_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    reports = []

    def ready(prof):
        reports.append({r.key: r.count for r in prof.key_averages()})

    plan = profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    with profiler.profile(schedule=plan, on_trace_ready=ready) as prof:
        for _ in range(10):
            train_steps(model, 1, opt)
            prof.step()
    assert len(reports) == 2
    for counts in reports:
        assert counts["Optimizer.step#SGD.step"] == 2 and counts["Linear"] == 4
        assert sum(1 for k in counts if k.startswith("ProfilerStep#")) == 2
    assert "ProfilerStep#2" in reports[0] and "ProfilerStep#6" in reports[1]


def test_start_stop_and_nothing_recorded_outside():
    assert profiling.recorder is None
    model = small_net()
    prof = profiler.profile()
    prof.start()
    assert profiling.recorder is prof.recorder
    model(ember.randn(2, 4))
    prof.stop()
    assert profiling.recorder is None
    before = rows(prof)["Linear"].count
    model(ember.randn(2, 4)).sum().backward()
    assert rows(prof)["Linear"].count == before == 2
    assert sum(len(r.stats) for r in [prof.recorder]) == len(prof.key_averages())


def test_an_error_inside_leaves_the_profiler_off_and_consistent():
    with pytest.raises(RuntimeError):
        with profiler.profile() as prof:
            with profiler.record_function("outer"):
                ember.randn(2, 3) @ ember.randn(4, 5)
    assert profiling.recorder is None
    assert prof.recorder.open == [] and prof.recorder.modules == []
    with profiler.profile() as prof:
        with pytest.raises(RuntimeError):
            nn.Linear(3, 2)(ember.randn(2, 5))
        with profiler.record_function("after"):
            ember.randn(2) * 2
    assert rows(prof)["after"].count == 1 and prof.recorder.open == []


def test_other_threads_are_not_recorded():
    with profiler.profile() as prof:
        t = threading.Thread(target=lambda: ember.randn(3, requires_grad=True).exp().sum().backward())
        t.start()
        t.join()
        ember.randn(3).tanh()
    r = rows(prof)
    assert "Exp" not in r and r["Tanh"].count == 1


def test_results_are_the_same_with_the_profiler_on():
    grads = []
    for on in (False, True):
        model = small_net()
        x = ember.randn(16, 4)
        if on:
            with profiler.profile(record_shapes=True, profile_memory=True):
                model(x).sum().backward()
        else:
            model(x).sum().backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_torch_api_names():
    assert profiler.ProfilerActivity.CPU in profiler.supported_activities()
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU], record_shapes=False, profile_memory=False,
                          with_stack=False) as prof:
        ember.randn(2, requires_grad=True).sum().backward()
    avg = prof.key_averages()[0]
    for name in ("key", "count", "cpu_time_total", "self_cpu_time_total", "cpu_time", "input_shapes",
                 "cpu_memory_usage", "self_cpu_memory_usage"):
        assert hasattr(avg, name)
    with pytest.warns(UserWarning, match="host"):
        profiler.profile(activities=[profiler.ProfilerActivity.CPU, profiler.ProfilerActivity.CUDA])
    with pytest.raises(RuntimeError, match="nothing was recorded"):
        profiler.profile().key_averages()


# ---- EMBER_PROFILE ------------------------------------------------------------------------------------------

PROGRAM = """
import ember, ember.nn as nn, ember.optim as optim
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = optim.SGD(model.parameters(), lr=0.1)
for _ in range(3):
    loss = model(ember.randn(16, 4)).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
print("done")
"""


def run_program(env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_PROFILE")}
    env.update(env_extra)
    env["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)


def test_ember_profile_prints_the_tables_at_exit(tmp_path):
    done = run_program({"EMBER_PROFILE": "1", "EMBER_PROFILE_TRACE": str(tmp_path / "t.json")}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    err = done.stderr
    assert "EMBER_PROFILE:" in err and "Self CPU time total:" in err
    line = next(l for l in err.splitlines() if l.startswith("LinearBackward0 "))
    assert line.split()[-1] == "6"
    assert "Optimizer.step#SGD.step" in err and "Backward total" in err
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    quiet = run_program({"EMBER_PROFILE": "0"}, tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_torch_autograd_profiler_path():
    import ember.autograd.profiler as legacy

    model = small_net()
    with legacy.profile(record_shapes=True) as prof:
        with legacy.record_function("fwd"):
            model(ember.randn(3, 4)).sum().backward()
    assert rows(prof)["fwd"].count == 1 and rows(prof)["LinearBackward0"].count == 2
    assert "Linear" in prof.table(sort_by="cpu_time_total")
    assert prof.total_average().self_cpu_time_total == pytest.approx(prof.self_cpu_time_total)
    with legacy.profile(enabled=False) as off:
        model(ember.randn(3, 4))
    assert off.recorder is None and profiling.recorder is None
    assert ember.autograd.profiler is legacy
