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
        return checkpoint.load(path)
    except (ValueError, OSError) as error:
        raise UsageError(f"{path}: {error}") from error
