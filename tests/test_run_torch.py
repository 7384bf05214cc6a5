"""`ember run`: unmodified PyTorch programs with torch and torchvision mapped onto Ember's modules."""

import subprocess
import sys
import textwrap

import pytest


def _run(tmp_path, source, *args, entry=("-m", "ember.run")):
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, *entry, str(script), *args], capture_output=True, text=True, timeout=300)


def test_torch_modules_are_embers_modules_and_argv_is_the_programs(tmp_path):
    result = _run(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.autograd import Variable
        import ember
        assert torch is ember and nn is ember.nn and F is ember.nn.functional
        assert torch.nn.Linear is ember.nn.Linear and isinstance(nn.Linear(2, 3), ember.nn.Module)
        assert __name__ == "__main__"
        print("argv", sys.argv[1:])
    """, "--epochs", "1", "-h")
    assert result.returncode == 0, result.stderr
    assert "argv ['--epochs', '1', '-h']" in result.stdout


def test_the_ember_cli_runs_programs_too(tmp_path):
    result = _run(tmp_path, "import torch; print(torch.ones(2).sum().item())", entry=("-m", "ember.cli", "run"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2.0"


def test_a_failing_program_shows_its_own_traceback_and_exit_status(tmp_path):
    result = _run(tmp_path, """
        import torch
        raise ValueError("boom")
    """)
    assert result.returncode == 1
    assert "ValueError: boom" in result.stderr and "program.py" in result.stderr
    assert "runpy" not in result.stderr
    assert _run(tmp_path, "import sys; sys.exit(3)").returncode == 3


def test_a_module_ember_lacks_is_named(tmp_path):
    result = _run(tmp_path, "import torch.no_such_module")
    assert result.returncode == 1
    assert "No module named 'torch.no_such_module'" in result.stderr and "ember.no_such_module" in result.stderr


def test_a_missing_program_is_one_line_and_status_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ember.run", str(tmp_path / "nope.py")], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ember run: no such program {str(tmp_path / 'nope.py')!r}"


def test_install_refuses_when_the_real_torch_is_loaded():
    import torch  # noqa: F401  (the test process has the real torch as the oracle)

    from ember.app.torch_alias import install

    with pytest.raises(RuntimeError, match="the real 'torch.* is already imported"):
        install()
