"""ember.data.datasets: the IDX and CIFAR readers, the safe pickle reader, DigitsMini and the dataset API.

Everything here reads files written in the test (or DigitsMini's shipped asset) and never needs the network.
The cache, the downloads and the npm fallbacks are tested in test_downloads.py; the fake data both files
use comes from dataset_fakes.py.
"""

import collections
import gzip
import hashlib
import os
import pickle
import pickletools
import struct
import subprocess
import sys

import numpy as np
import pytest

from ember.data import datasets
from ember.data.datasets import (
    CIFAR10,
    MNIST,
    DigitsMini,
    FashionMNIST,
    IDXError,
    UnsafePickleError,
    read_binary_batch,
    read_idx,
    read_python_batch,
    safe_load_pickle,
    write_idx,
)
from ember.data.datasets.idx import parse_idx
from dataset_fakes import cifar_batch, idx_file_bytes, pickle_bytes, write_cifar_python_folder
from dataset_fakes import forget_official_sums


@pytest.fixture(autouse=True)
def _fakes_are_not_the_official_files(monkeypatch):
    forget_official_sums(monkeypatch)  # the datasets check what they read against the official MD5s


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
