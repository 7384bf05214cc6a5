"""ember.tools.trajectories and `ember trajectories`: each optimizer's path against the textbook update
written out by hand (with the surfaces' gradients derived by hand), what the pictures teach, the files."""

import numpy as np
import pytest

from ember.cli import main
from ember.tools import trajectories as T

# ---- the surfaces' gradients, by hand ------------------------------------------------------------------


def grad_bowl(x, y):
    return np.array([0.2 * x, 4 * y])


def grad_rosenbrock(x, y):
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def grad_beale(x, y):
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return np.array([2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
                     2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y**2])


def grad_saddle(x, y):
    return np.array([2 * x, -2 * y])


GRADIENTS = {"bowl": grad_bowl, "rosenbrock": grad_rosenbrock, "beale": grad_beale, "saddle": grad_saddle}


# ---- the updates, as the notes write them (with torch's conventions for ε and the momentum buffer) -------


def hand_path(name, grad, start, lr, steps, final_lr):
    """The optimizer ``name``'s points, written out by hand in NumPy."""
    p = np.array(start, dtype=np.float64)
    b = m = v = G = None
    points = [p.copy()]
    for t in range(1, steps + 1):
        g = grad(*p)
        if name == "sgd":
            p = p - lr * g
        elif name in ("momentum", "nesterov"):  # b = g on the first step, then b ← 0.9 b + g
            b = g.copy() if b is None else 0.9 * b + g
            p = p - lr * (g + 0.9 * b if name == "nesterov" else b)
        elif name == "adagrad":  # grad_squared += dx²; x -= lr dx / (√grad_squared + ε)
            G = g * g if G is None else G + g * g
            p = p - lr * g / (np.sqrt(G) + 1e-10)
        elif name == "rmsprop":  # decay_rate 0.9
            v = 0.1 * g * g if v is None else 0.9 * v + 0.1 * g * g
            p = p - lr * g / (np.sqrt(v) + 1e-8)
        elif name in ("adam", "adabound"):
            m = 0.1 * g if m is None else 0.9 * m + 0.1 * g
            v = 0.001 * g * g if v is None else 0.999 * v + 0.001 * g * g
            if name == "adam":  # bias-corrected moments
                p = p - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
            else:  # Luo et al. 2019, Algorithm 2 as the reference code runs it (γ = 1e-3)
                step = lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
                lower = final_lr * (1 - 1 / (1e-3 * t + 1))
                upper = final_lr * (1 + 1 / (1e-3 * t))
                p = p - np.clip(step / (np.sqrt(v) + 1e-8), lower, upper) * m
        points.append(p.copy())
    return np.stack(points)


@pytest.mark.parametrize("surface", list(T.SURFACES))
@pytest.mark.parametrize("name", list(T.OPTIMIZERS))
def test_each_optimizer_takes_the_textbook_steps(surface, name):
    surf = T.SURFACES[surface]
    path = T.trajectory(surface, name, steps=3)
    expected = hand_path(name, GRADIENTS[surface], surf.start, T.learning_rate(surf, name), 3, surf.lr["sgd"])
    assert path.shape == (4, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-12, atol=1e-15)


def test_adabound_clips_the_step_adam_would_take():
    # At t = 1 AdaBound's upper bound is η*(1 + 1/γ) ≈ 1000 η* = 1.0 on Rosenbrock (η* = 1e-3), while
    # Adam's per-coordinate rate α/(√v + ε) with lr 500 is about 5000/|g| ≈ 23 at the start: clipped.
    grad, start = grad_rosenbrock, (-1.2, 1.0)
    path = T.trajectory("rosenbrock", "adabound", steps=1, lr=500.0)
    expected = hand_path("adabound", grad, start, 500.0, 1, T.SURFACES["rosenbrock"].lr["sgd"])
    np.testing.assert_allclose(path, expected, rtol=1e-12)
    adam = hand_path("adam", grad, start, 500.0, 1, None)
    assert np.abs(adam[1] - adam[0]).max() > 10 * np.abs(path[1] - path[0]).max()


@pytest.mark.parametrize("surface", list(GRADIENTS))
def test_the_gradient_ember_computes_is_the_one_derived_by_hand(surface):
    from ember import tensor

    point = tensor([0.7, -0.4], dtype="float64", requires_grad=True)
    T.SURFACES[surface].f(point[0], point[1]).backward()
    np.testing.assert_allclose(point.grad.array, GRADIENTS[surface](0.7, -0.4), rtol=1e-12)
    x, y = T.SURFACES[surface].minimum
    assert np.allclose(GRADIENTS[surface](x, y), 0)  # the star is where the gradient vanishes


def test_the_pictures_teach_what_the_notes_say():
    saddle = T.trajectories("saddle")
    # SGD slides into the saddle and barely leaves it; dividing by √v escapes along y at once.
    assert abs(saddle["sgd"][-1, 1]) < 0.5
    for name in ("rmsprop", "adam", "adabound"):
        assert abs(saddle[name][-1, 1]) > 3, name
    bowl = T.trajectories("bowl")
    # SGD zig-zags across the steep direction (y changes sign from step to step) ...
    assert np.all(np.sign(bowl["sgd"][1:6, 1]) == [1, -1, 1, -1, 1])
    # ... momentum overshoots the minimum along the flat one (x passes 0), and most reach the bottom.
    assert bowl["momentum"][:, 0].max() > 0.2
    for name in ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adabound"):
        assert np.hypot(*bowl[name][-1]) < 0.1, name
    assert np.hypot(*bowl["adagrad"][-1]) > 0.5  # AdaGrad's steps shrink like 1/√t: it stalls
    rosen = T.trajectories("rosenbrock", ["sgd", "momentum", "nesterov"])
    for name in ("momentum", "nesterov"):  # momentum runs along the banana valley to (1, 1)
        assert np.hypot(*(rosen[name][-1] - 1)) < 0.02
    assert np.hypot(*(rosen["sgd"][-1] - 1)) > 0.5  # plain SGD is still crawling


def test_a_diverging_path_stops_beyond_the_view():
    path = T.trajectory("rosenbrock", "sgd", steps=100, lr=0.1)
    assert len(path) < 101
    assert not np.all(np.isfinite(path[-1])) or np.abs(path[-1]).max() > T._reach(T.SURFACES["rosenbrock"])
    assert np.all(np.isfinite(path[:-1]))


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown surface 'himmelblau'; choose one of: bowl"):
        T.trajectory("himmelblau", "sgd")
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        T.trajectory("bowl", "lion")


def test_draw_writes_a_png_and_an_animated_gif(tmp_path):
    from PIL import Image

    written = T.draw(["saddle"], ["sgd", "adam"], steps=12, out=str(tmp_path), log=lambda m: None)
    assert written == [str(tmp_path / "trajectories-saddle.png"), str(tmp_path / "trajectories-saddle.gif")]
    with Image.open(written[0]) as png:
        assert png.format == "PNG" and png.size[0] > 400
    with Image.open(written[1]) as gif:
        assert gif.format == "GIF" and gif.n_frames > 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trajectories-saddle.gif", "trajectories-saddle.png"]


def test_cli_draws_the_surfaces_it_is_asked_for(tmp_path, capsys):
    code = main(["trajectories", "--surface", "bowl", "--steps", "5", "--optimizers", "sgd", "momentum",
                 "--out", str(tmp_path), "--no-gif"])
    assert code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["trajectories-bowl.png"]
    assert "bowl: sgd (" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--surface", "himmelblau"], "invalid choice: 'himmelblau'"),
    (["--steps", "0"], "--steps must be a whole number >= 1"),
    (["--optimizers", "lion"], "invalid choice: 'lion'"),
])
def test_cli_mistakes_are_one_line_and_exit_2(argv, message, capsys, tmp_path):
    assert main(["trajectories", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
