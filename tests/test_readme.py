"""The README's quick start runs as written (it is the first thing a newcomer types)."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_quick_start_runs_and_trains():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope = {}
    exec(compile(code, "README quick start", "exec"), scope)
    model, x, y, loss = scope["model"], scope["x"], scope["y"], scope["loss"]
    assert np.isfinite(loss.item())
    assert all(p.grad is not None for p in model.parameters())
    # The SGD step in the snippet must have changed the model: the loss on the same batch moves.
    import ember.nn.functional as F

    assert F.cross_entropy(model(x), y).item() != loss.item()


def test_subpackages_are_reachable_from_import_ember():
    import subprocess
    import sys

    code = "import ember; ember.optim.SGD; ember.data.DataLoader; ember.models.create; ember.train.Trainer; ember.nn.LSTM"
    subprocess.run([sys.executable, "-c", code], check=True)  # a fresh interpreter: nothing imported before
