"""``python -m ember.run script.py [args...]``: run an unmodified PyTorch program on Ember
(``torch`` and ``torchvision`` mapped to Ember's modules; see ember/app/torch_alias.py)."""

import os
import sys
import traceback


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ember.run SCRIPT [ARGS...]   (runs a PyTorch program with torch mapped to ember)")
        return 0 if argv else 2
    from .app.torch_alias import run_script

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
