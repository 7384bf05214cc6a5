"""The command-line application's pieces that are more than argument parsing (see ember/cli.py)."""
