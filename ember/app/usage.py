"""The one exception the command line turns into a one-line message instead of a traceback."""

import os

from ..train import checkpoint


class UsageError(Exception):
    """A mistake in what was asked for (unknown name, bad value, missing file); the CLI prints one line."""


def read_checkpoint(path):
    """A checkpoint's state, with a missing or unreadable file reported as a UsageError."""
    if not os.path.exists(path):
        raise UsageError(f"no checkpoint at {path}")
    try:
        state = checkpoint.load(path)
    except (ValueError, OSError) as error:
        raise UsageError(str(error) if str(path) in str(error) else f"{path}: {error}") from error
    from ..app.resume import check_state  # no config, an unknown model: refused before anything is built

    check_state(path, state)
    return state
