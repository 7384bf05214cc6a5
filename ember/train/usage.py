"""The one exception the command line turns into a one-line message instead of a traceback."""


class UsageError(Exception):
    """A mistake in what was asked for (unknown name, bad value, missing file); the CLI prints one line."""
