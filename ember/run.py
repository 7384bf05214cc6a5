"""``python -m ember.run script.py [args...]``: run an unmodified PyTorch program on Ember
(``torch`` and ``torchvision`` mapped to Ember's modules; see ember/app/torch_alias.py)."""

import os
import sys
import traceback


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--nproc"]:  # torchrun's job: N copies under MPI's launcher (ember/distributed/launch.py)
        return _on_processes(argv[1:])
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ember.run [--nproc N] SCRIPT [ARGS...]   (runs a PyTorch program with torch mapped "
              "to ember, on N processes with --nproc)")
        return 0 if argv else 2
    from .app.torch_alias import run_script
    from .distributed import mpi

    if mpi.launched_by_mpi():  # one of N copies: RANK, WORLD_SIZE, LOCAL_RANK... as torchrun sets them
        from .distributed.launch import worker_environment

        worker_environment()

    try:
        run_script(argv[0], argv[1:])
    except FileNotFoundError as error:
        if str(error).startswith("ember run:"):
            print(str(error), file=sys.stderr)
            return 2
        _print_program_traceback(argv[0])
        return 1
    except Exception:
        _print_program_traceback(argv[0])
        return 1
    return 0


def _on_processes(argv):
    import subprocess

    from .distributed.launch import check_nproc, mpirun_command

    try:
        nproc = int(argv[0]) if argv and argv[0].isdigit() else argv[0] if argv else None
        check_nproc(nproc)
        if len(argv) < 2:
            raise ValueError("--nproc N is followed by the program: ember run --nproc 2 SCRIPT [ARGS...]")
        command = mpirun_command(nproc, [sys.executable, "-m", "ember.run", *argv[1:]]) if nproc > 1 else None
    except (ValueError, RuntimeError) as error:
        print(f"ember run: error: {error}", file=sys.stderr)
        return 2
    return subprocess.call(command) if command else main(argv[1:])


def _print_program_traceback(script):
    """The traceback as ``python script.py`` would print it: from the program's first frame on."""
    kind, error, tb = sys.exc_info()
    program = os.path.abspath(script)
    start = tb
    while start is not None and os.path.abspath(start.tb_frame.f_code.co_filename) != program:
        start = start.tb_next
    traceback.print_exception(kind, error, start or tb)


if __name__ == "__main__":
    sys.exit(main())
