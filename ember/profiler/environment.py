"""``EMBER_PROFILE=1``: profile a whole program and print where its time went, on stderr, at exit.

    EMBER_PROFILE=1 ember train mnist --epochs 1
    EMBER_PROFILE=1 python my_training.py          # any program that imports ember

``import ember`` starts a profile when the variable is set (to anything but ``0`` or empty) and an
``atexit`` handler prints the op table (sorted by self CPU time) and the layer table (sorted by each
layer's own forward + backward time). The profile keeps running sums only, not single events, so a long
training run costs no memory. More settings:

- ``EMBER_PROFILE_ROWS=N``: rows per table (default 25);
- ``EMBER_PROFILE_SHAPES=1``: split rows by input shapes (``record_shapes=True``);
- ``EMBER_PROFILE_TRACE=trace.json``: also keep every event and write a Chrome trace there at exit
  (for short runs: every op of every step is kept in memory).

Only the main process is profiled (DataLoader workers are not), and only its main thread. A
``with ember.profiler.profile()`` block inside such a run records its own block instead (that time is
missing from the at-exit tables).
"""

import atexit
import multiprocessing
import os
import sys
import time

_profile = None


def _on(name):
    return os.environ.get(name, "").strip() not in ("", "0")


def start_from_environment():
    """Start the program-wide profile if ``EMBER_PROFILE`` asks for one (called by ``import ember``)."""
    global _profile
    if _profile is not None or not _on("EMBER_PROFILE") or multiprocessing.parent_process() is not None:
        return None
    from .profile import profile

    trace = os.environ.get("EMBER_PROFILE_TRACE", "").strip()
    _profile = profile(record_shapes=_on("EMBER_PROFILE_SHAPES"), keep_events=bool(trace))
    _profile.started_at = time.perf_counter()
    _profile.start()
    atexit.register(report, _profile, trace or None)
    return _profile


def report(prof, trace=None, file=None):
    """Stop ``prof`` and print both tables (to stderr unless ``file`` is given)."""
    file = file or sys.stderr
    prof.stop()
    try:
        rows = int(os.environ.get("EMBER_PROFILE_ROWS", "25"))
    except ValueError:
        rows = 25
    wall = time.perf_counter() - getattr(prof, "started_at", time.perf_counter())
    print(f"\nEMBER_PROFILE: {wall:.3f} s from `import ember` to exit; ops, engine and optimizer below", file=file)
    print(prof.key_averages(group_by_input_shape=prof.record_shapes).table(sort_by="self_cpu_time_total",
                                                                           row_limit=rows), file=file)
    if prof.recorder.layers:
        print("EMBER_PROFILE: layers (own forward + backward time, largest first)", file=file)
        print(prof.layer_table(sort_by="self_total", row_limit=rows), file=file)
    if trace:
        prof.export_chrome_trace(trace)
        print(f"EMBER_PROFILE: Chrome trace written to {trace}", file=file)
    file.flush()
