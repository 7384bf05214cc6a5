"""Tools that read models and runs: plots of training curves (and, later, summaries and profilers)."""
