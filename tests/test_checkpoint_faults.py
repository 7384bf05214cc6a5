"""Checkpoints under faults: files that are not checkpoints are named as what they are, a save killed with
SIGKILL never damages a checkpoint, its stray temporary file is removed by the next save (and never a
file that is not ours), and a run resumes from what survived."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from ember.serialization import remove_stray_temporaries, write_atomically
from ember.train import checkpoint
from ember.train.checkpoint import CheckpointError


def test_bad_files_are_named_never_with_numpys_pickle_advice(tmp_path):
    good = tmp_path / "good.npz"
    checkpoint.save(good, {"config": {"model": "lenet5"}, "w": np.arange(50_000.0)})
    blob = good.read_bytes()
    cases = {
        "empty.npz": (b"", "empty (0 bytes)"),
        "truncated.npz": (blob[:1000], "truncated or damaged"),
        "tail-cut.npz": (blob[:-100], "truncated or damaged"),
        "random.npz": (os.urandom(3000), "not an .npz (zip) archive"),
        "pickle.pt": (b"\x80\x02}q\x00.", "pickle file"),
        "array.npy": (None, "single NumPy array"),
    }
    np.save(tmp_path / "array.npy", np.ones(3))
    for name, (data, message) in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError) as info:
            checkpoint.load(tmp_path / name)
        text = str(info.value)
        assert message in text and str(tmp_path / name) in text and "allow_pickle" not in text, text
        assert isinstance(info.value, ValueError)
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(CheckpointError, match="without Ember's __meta__.json"):
        checkpoint.load(tmp_path / "plain.npz")
    # An .npz holding a pickled object array: refused, without NumPy's "allow_pickle=True" advice.
    checkpoint.save(tmp_path / "obj.npz", {"a": np.ones(2)})
    import zipfile

    with zipfile.ZipFile(tmp_path / "obj.npz") as archive:
        meta = archive.read("__meta__.json.npy")
    with zipfile.ZipFile(tmp_path / "obj.npz", "w") as archive:
        archive.writestr("__meta__.json.npy", meta)
        with archive.open("a.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(tmp_path / "obj.npz")
    assert "allow_pickle" not in str(info.value)
    with pytest.raises(FileNotFoundError):
        checkpoint.load(tmp_path / "nothing.npz")


def test_flipped_bytes_are_damage_not_a_crash(tmp_path):
    path = tmp_path / "c.npz"
    checkpoint.save(path, {"w": np.arange(100_000.0), "config": {"model": "mlp"}})
    blob = bytearray(path.read_bytes())
    for i in range(len(blob) // 2, len(blob) // 2 + 500):
        blob[i] ^= 0x5A
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="is damaged"):
        checkpoint.load(path)


def test_stray_temporaries_of_dead_writers_are_removed_and_nothing_else(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # a process that has exited: its temporary files are strays
    stray = tmp_path / f"last.npz.{dead_pid}-abcd_123.tmp"
    live = tmp_path / f"last.npz.{os.getppid()}-zzzz0000.tmp"  # a live process (our parent) may be writing
    mine = tmp_path / "notes.tmp"  # a user's file: not of our shape
    odd = tmp_path / f"last.npz.{dead_pid}-TOOLONGNAME.tmp"
    for p in (stray, live, mine, odd):
        p.write_bytes(b"x")
    checkpoint.save(tmp_path / "last.npz", {"a": np.ones(3)})
    names = set(os.listdir(tmp_path))
    assert stray.name not in names
    assert {live.name, mine.name, odd.name, "last.npz"} <= names
    assert remove_stray_temporaries(tmp_path / "no-such-folder") == []


def test_write_atomically_names_its_writer_and_cleans_up_after_a_failure(tmp_path):
    seen = []

    def write(f):
        seen.extend(os.listdir(tmp_path))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_atomically(str(tmp_path / "a.npz"), write)
    assert seen[0].startswith(f"a.npz.{os.getpid()}-") and seen[0].endswith(".tmp")
    assert os.listdir(tmp_path) == []


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from ember.train import checkpoint

    folder, steps, die_in_write = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    last = os.path.join(folder, "last.npz")
    step = checkpoint.load(last)["step"] + 1 if os.path.exists(last) else 1  # resume where it stopped
    print("start", step, flush=True)
    while step <= steps:
        state = {"step": step, "weights": np.full(300_000, float(step)), "config": {"model": "mlp"}}
        if die_in_write and step == steps:
            from ember import serialization
            real = serialization.write_atomically
            def dying(path, write):
                def half(f):
                    f.write(b"PK\\x03\\x04 half a checkpoint")
                    f.flush()
                    os.kill(os.getpid(), signal.SIGKILL)  # a kill -9 in the middle of the save
                real(path, half)
            checkpoint.write_atomically = dying
        checkpoint.save(os.path.join(folder, f"epoch-{step}.npz"), state)
        checkpoint.save(last, state)
        step += 1
    """
)


def _every_checkpoint_loads(folder):
    steps = []
    for name in os.listdir(folder):
        if name.endswith(".npz"):
            state = checkpoint.load(os.path.join(folder, name))
            assert np.all(state["weights"] == state["step"]), name  # never a mix of two saves
            steps.append(state["step"])
    return steps


def test_kill_9_during_saves_loses_nothing_and_resume_continues(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folder = tmp_path / "run"
    folder.mkdir()
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    starts = []
    # Killed from outside at several moments (while it imports, saves or renames)...
    for delay in (0.2, 0.35, 0.5, 0.65, 0.8):
        child = subprocess.Popen([sys.executable, str(script), str(folder), "10000", "0"],
                                 stdout=subprocess.PIPE, text=True, env=env)
        starts.append(int(child.stdout.readline().split()[1]))
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        _every_checkpoint_loads(folder)
    assert starts == sorted(starts) and starts[-1] > starts[0]  # each run went on from the last
    # ...and from inside, in the middle of writing a file: the temporary file stays behind.
    last_step = checkpoint.load(folder / "last.npz")["step"]
    result = subprocess.run([sys.executable, str(script), str(folder), str(last_step + 2), "1"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL
    strays = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    assert strays, "the kill in the middle of a save should have left its temporary file"
    assert max(_every_checkpoint_loads(folder)) == last_step + 1  # the half-written one never got its name
    # The next run resumes from the last good checkpoint, and its first save removes the strays.
    result = subprocess.run([sys.executable, str(script), str(folder), str(last_step + 3), "0"], env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.split()[:2] == ["start", str(last_step + 2)]
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]
    assert checkpoint.load(folder / "last.npz")["step"] == last_step + 3
    _every_checkpoint_loads(folder)


def test_opening_a_run_folder_removes_strays_and_names_an_unwritable_one(tmp_path):
    from ember.app.rundir import RunDirectory
    from ember.app.usage import UsageError

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stray = tmp_path / f"best.npz.{int(dead.stdout)}-q1w2e3r4.tmp"
    stray.write_bytes(b"half")
    assert RunDirectory(str(tmp_path)).path == str(tmp_path)
    assert os.listdir(tmp_path) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="cannot write in the output folder .*file/run"):
        RunDirectory(str(tmp_path / "file" / "run"))


def test_a_killed_dataset_download_leaves_a_part_file_the_next_write_removes(tmp_path):
    from ember.data.datasets.download import atomic_write

    code = textwrap.dedent(
        f"""
        import os, signal
        from ember.data.datasets.download import atomic_write
        with atomic_write({str(tmp_path / "train-images")!r}) as f:
            f.write(b"x" * 1000)
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert result.returncode == -signal.SIGKILL
    (tmp_path / ".hidden.part").write_bytes(b"not ours")
    [stray] = [n for n in os.listdir(tmp_path) if n.startswith(".train-images.")]
    with atomic_write(tmp_path / "labels") as f:
        f.write(b"y")
    assert sorted(os.listdir(tmp_path)) == [".hidden.part", "labels"]


def test_write_atomically_by_path_keeps_the_extension_and_its_strays_are_recognised(tmp_path):
    seen = []

    def write(name):  # a writer that opens the file itself (PIL picks the format by the name)
        seen.append(name)
        with open(name, "wb") as f:
            f.write(b"GIF89a")

    write_atomically(tmp_path / "paths.gif", write, by_path=True)
    assert (tmp_path / "paths.gif").read_bytes() == b"GIF89a"
    assert os.path.basename(seen[0]).startswith(f"paths.gif.{os.getpid()}-") and seen[0].endswith(".tmp.gif")
    assert os.listdir(tmp_path) == ["paths.gif"]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stray = tmp_path / f"paths.gif.{int(dead.stdout)}-abcd_123.tmp.gif"
    stray.write_bytes(b"x")
    assert remove_stray_temporaries(tmp_path) == [stray.name]
