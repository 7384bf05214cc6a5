"""The notes' worked examples (examples/*.py) give the notes' numbers, computed by Ember."""

import importlib.util
import math
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_circuit_add_and_mul_gates():
    result, leaves, graph = example("circuit").add_mul()
    mul, add = result  # from the output down
    assert (add.value, mul.value) == (3.0, -12.0)  # q = x + y, f = q·z
    assert mul.local == {"q": -4.0, "z": 3.0} and mul.upstream == 1.0  # mul swaps: ∂f/∂q = z, ∂f/∂z = q
    assert add.local == {"x": 1.0, "y": 1.0} and add.upstream == -4.0  # add distributes ∂f/∂q
    assert add.downstream == {"x": -4.0, "y": -4.0} and mul.downstream["z"] == 3.0
    assert {k: t.grad.item() for k, t in leaves.items()} == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert [n.name for n in graph.functions()] == ["MulBackward0", "AddBackward0"]


def test_circuit_max_gate_routes_and_a_fork_adds():
    module = example("circuit")
    result, leaves = module.max_gate()
    gate = {g.output: g for g in result}
    assert [gate[k].value for k in "pmsf"] == [-12.0, 2.0, -10.0, -20.0]
    assert gate["m"].local == {"z": 1.0, "w": 0.0} and gate["m"].upstream == 2.0  # the larger input takes it all
    assert {k: t.grad.item() for k, t in leaves.items()} == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    result, leaves = module.fork()
    assert leaves["x"].grad.item() == -3.0  # 1 from the add gate + y = -4 from the mul gate
    assert sum(g.downstream.get("x", 0.0) for g in result) == -3.0


def test_circuit_script_runs(capsys, tmp_path):
    example("circuit").main([str(tmp_path / "circuit.dot")])
    out = capsys.readouterr().out
    assert "∂f/∂x = -4, ∂f/∂y = -4, ∂f/∂z = 3" in out
    assert "digraph autograd" in (tmp_path / "circuit.dot").read_text(encoding="utf-8")


def test_svm_loss_three_images():
    losses, mean, margins = example("svm_loss").svm_losses()
    assert losses == [2.9, 0.0, 12.9]
    assert round(mean, 2) == 5.27
    assert [round(m, 10) for m in margins[2]] == [6.3, 6.6, 0.0]  # not the note's 5.3 and 5.6


def test_softmax_probability_and_loss():
    e, p, loss = example("softmax_loss").softmax_example()
    assert [round(v, 2) for v in e] == [24.53, 164.02, 0.18]
    assert round(p[0], 2) == 0.13
    assert loss == pytest.approx(-math.log(p[0]), rel=1e-12)
    assert round(loss, 2) == 2.04 and round(loss / math.log(10), 2) == 0.89


def test_gradient_descent_on_x_squared():
    paths = example("gradient_descent").one_d()
    good, slow, bounce, bad = (paths[lr] for lr in (0.2, 0.01, 1.0, 1.1))
    assert good[:3] == pytest.approx([10.0, 6.0, 3.6]) and abs(good[10]) < 0.1  # converges in ~10 steps
    assert slow[20] == pytest.approx(10 * 0.98 ** 20) and slow[20] > 6 and slow[100] > 1  # crawls
    assert bounce[:5] == [10.0, -10.0, 10.0, -10.0, 10.0] and bounce[100] == 10.0  # oscillates
    assert bad[1:3] == pytest.approx([-12.0, 14.4]) and abs(bad[20]) > 380  # diverges
    assert all(abs(b) > abs(a) for a, b in zip(bad, bad[1:]))


def test_gradient_descent_in_2d():
    path, gradient = example("gradient_descent").two_d()
    assert gradient == [-7.0, -14.0]
    assert path[1] == pytest.approx([-2.8, -2.1])
    assert math.hypot(*path[20]) < 0.05 and path[20] == pytest.approx([-3.5 * 0.8 ** 20, -3.5 * 0.6 ** 20])


def test_gradient_descent_figure(tmp_path):
    pytest.importorskip("matplotlib")
    module = example("gradient_descent")
    png = module.plot(module.one_d(), module.two_d()[0], str(tmp_path / "gd.png"))
    assert pathlib.Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_conv_parameter_count():
    weights, biases, macs, shape = example("conv_counts").conv_params()
    assert (weights, biases, shape) == (7500, 100, (1, 100, 28, 28))
    assert macs == 5 * 5 * 3 * 28 * 28 * 100 == 5_880_000  # the note's count without weight sharing


def test_one_by_one_bottleneck_saving():
    direct, reduced, parts = example("conv_counts").bottleneck_macs()
    assert direct == 120_422_400 and round(direct / 1e6, 1) == 120.4
    assert parts == [2_408_448, 10_035_200] and round(reduced / 1e6, 1) == 12.4


def test_lenet_table():
    module = example("lenet_table")
    rows = module.lenet_rows()
    assert {k: v[1] for k, v in rows.items()} == {
        "c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164}
    assert {k: v[2] for k, v in rows.items()} == {
        "c1": 122304, "s2": 5880, "c3": 151600, "s4": 2000, "c5": 48120, "f6": 10164}
    for name, (params, connections) in module.NOTE.items():  # the note agrees except C3's 156,000
        if params is not None:
            assert rows[name][1] == params
        if connections is not None and name != "c3":
            assert rows[name][2] == connections
    assert [v[0] for v in rows.values()] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1), (84,)]


@pytest.mark.parametrize("name", ["svm_loss", "softmax_loss", "gradient_descent", "conv_counts", "lenet_table"])
def test_scripts_print(name, capsys):
    module = example(name)
    module.main([]) if name == "gradient_descent" else module.main()
    assert capsys.readouterr().out.strip()
