"""Fake data and a fake network for the dataset tests (test_datasets.py and test_downloads.py).

MNIST-like arrays and their IDX bytes, CIFAR-10 batches pickled the way Python 2 wrote them (and folders of
them), npm-style tarballs, and ``serve``: a dict url -> bytes in place of the network. Plain functions and
classes; the pytest fixtures stay in the test files that use them.
"""

import hashlib
import io
import pickle
import struct
import tarfile
import urllib.error

import numpy as np

from ember.data.datasets import download as dl

MNIST_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


# ----------------------------------------------------------------------- MNIST, tarballs and the network


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


# ---------------------------------------------------------------------------------------------- CIFAR-10


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


def forget_official_sums(monkeypatch):
    """The fake files are not the official ones, so the official MD5s cannot vouch for them: drop the sums
    of the files a dataset reads (it then checks them by the sum seen on first use, see integrity.py).
    Sums of archives fetched by downloads are kept."""
    from ember.data.datasets import CIFAR10, MNIST, FashionMNIST

    for cls in (MNIST, FashionMNIST):
        monkeypatch.setattr(cls, "raw_md5", {})
        monkeypatch.setattr(cls, "npm_split_md5", {}, raising=False)
        monkeypatch.setattr(cls, "resources", [(name, None) for name, _ in cls.resources])
    monkeypatch.setattr(CIFAR10, "train_list", [[name, None] for name, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[name, None] for name, _ in CIFAR10.test_list])
