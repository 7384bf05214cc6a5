"""Cached dataset files are checked against their MD5s on first use: a damaged file (here: 1,000 flipped
bytes in a copy of a small fake dataset, in a temporary folder) is re-fetched with download=True, else
named with the fix; the verdict is remembered by size and mtime, so later uses hash nothing."""

import gzip
import os

import numpy as np
import pytest

from dataset_fakes import MNIST_NAMES, fake_mnist_arrays, idx_file_bytes, md5, serve, write_cifar_python_folder
from ember.data.datasets import CIFAR10, MNIST, DownloadError, write_idx
from ember.data.datasets import download as dl
from ember.data.datasets import integrity


@pytest.fixture
def fake_mnist(monkeypatch, tmp_path):
    """A fake MNIST in tmp_path whose 'official' sums are its own (as the real files have theirs)."""
    arrays = fake_mnist_arrays(n_train=200, n_test=50)
    gz = {name: gzip.compress(idx_file_bytes(a)) for name, a in arrays.items()}
    monkeypatch.setattr(MNIST, "raw_md5", {name: md5(idx_file_bytes(a)) for name, a in arrays.items()})
    monkeypatch.setattr(MNIST, "resources", [(name + ".gz", md5(gz[name])) for name in MNIST_NAMES])
    monkeypatch.setattr(MNIST, "mirrors", ["https://mirror.example/"])
    for name, array in arrays.items():
        write_idx(tmp_path / "MNIST" / "raw" / name, array)
    return arrays, {f"https://mirror.example/{n}.gz": data for n, data in gz.items()}


def flip(path, count=1000, offset=100):
    data = bytearray(path.read_bytes())
    for i in range(offset, offset + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def count_hashing(monkeypatch):
    calls = []
    real = dl.md5sum

    def counting(path, *args, **kwargs):
        calls.append(os.path.basename(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(dl, "md5sum", counting)
    return calls


def test_first_use_hashes_later_uses_only_stat(fake_mnist, monkeypatch, tmp_path):
    calls = count_hashing(monkeypatch)
    MNIST(root=tmp_path, train=True)
    assert sorted(calls) == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert (tmp_path / "MNIST" / integrity.RECORD).exists()
    calls.clear()
    MNIST(root=tmp_path, train=True)
    assert calls == []  # size and mtime unchanged: the recorded verdict stands
    os.utime(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte")  # touched: hashed again, still good
    MNIST(root=tmp_path, train=True)
    assert calls == ["train-labels-idx1-ubyte"]


def test_flipped_bytes_are_named_with_the_fix(fake_mnist, tmp_path):
    MNIST(root=tmp_path, train=True)  # verified once and recorded
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    flip(path)
    with pytest.raises(RuntimeError) as info:
        MNIST(root=tmp_path, train=True)
    text = str(info.value)
    assert str(path) in text and "damaged" in text and "expected" in text and "download=True" in text
    assert path.exists()  # without download=True nothing is deleted
    MNIST(root=tmp_path, train=False)  # the test split's files are fine


def test_damaged_file_is_fetched_again_with_download(fake_mnist, monkeypatch, tmp_path):
    arrays, table = fake_mnist
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    flip(path)
    calls = []
    serve(monkeypatch, table, calls)
    ds = MNIST(root=tmp_path, train=True, download=True)
    np.testing.assert_array_equal(ds.data, arrays["train-images-idx3-ubyte"])
    assert calls == ["https://mirror.example/train-images-idx3-ubyte.gz"]  # only the damaged file
    assert sorted(os.listdir(tmp_path / "MNIST" / "raw")) == sorted(MNIST_NAMES)


def test_damaged_file_and_no_network_says_both(fake_mnist, monkeypatch, tmp_path):
    flip(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte", count=20, offset=10)
    serve(monkeypatch, {})
    with pytest.raises(DownloadError) as info:
        MNIST(root=tmp_path, train=True, download=True)
    first = str(info.value).splitlines()[0]
    assert "train-labels-idx1-ubyte" in first and "was damaged" in first and "fetching it again failed" in first


def test_the_cli_names_the_damaged_file_in_one_line(fake_mnist, monkeypatch, tmp_path, capsys):
    from ember.cli import main

    flip(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte")
    serve(monkeypatch, {})
    code = main(["train", "lenet5", "--dataset", "mnist", "--root", str(tmp_path), "--out", str(tmp_path / "run"),
                 "--epochs", "1", "--val-size", "20", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "t10k-images-idx3-ubyte" in err and "damaged" in err, err


def test_files_without_official_sums_are_trusted_on_first_use_then_checked(tmp_path):
    batches = write_cifar_python_folder(tmp_path / "py")
    folder = tmp_path / "bin" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, batch in batches.items():
        labels = np.asarray(batch[b"labels"], np.uint8)[:, None]
        (folder / f"{name}.bin").write_bytes(np.concatenate([labels, batch[b"data"]], axis=1).tobytes())
    CIFAR10(root=tmp_path / "bin", train=False)  # the binary version has no published per-file sums
    flip(folder / "test_batch.bin", count=50)
    with pytest.raises(RuntimeError, match="test_batch.bin"):
        CIFAR10(root=tmp_path / "bin", train=False)


def test_cifar_python_batches_are_checked_against_their_sums(monkeypatch, tmp_path):
    write_cifar_python_folder(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    sums = {p.name: md5(p.read_bytes()) for p in folder.iterdir()}
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
    assert len(CIFAR10(root=tmp_path, train=True)) == 30
    flip(folder / "data_batch_3", count=100, offset=500)
    with pytest.raises(RuntimeError, match="data_batch_3.*damaged|damaged.*data_batch_3"):
        CIFAR10(root=tmp_path, train=True)


def test_the_real_files_sums_are_the_official_ones():
    # The tables the check relies on: torchvision's sums for the archives, those of the unpacked files.
    assert MNIST.raw_md5["train-images-idx3-ubyte"] == "6bbc9ace898e44ae57da46a324031adb"
    assert CIFAR10.train_list[0] == ["data_batch_1", "c99cafc152244af753f735de768cd75f"]


def test_a_read_only_record_is_only_a_missing_cache(fake_mnist, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(dl, "atomic_write", refuse)
    MNIST(root=tmp_path, train=True)  # verified, just not remembered
    assert not (tmp_path / "MNIST" / integrity.RECORD).exists()


def test_files_declared_not_official_are_checked_against_their_first_sums(tmp_path):
    arrays = fake_mnist_arrays()
    folder = tmp_path / "MNIST" / "raw"
    for name, array in arrays.items():
        write_idx(folder / name, array)
    with pytest.raises(RuntimeError, match="damaged"):  # the official sums do not describe these files
        MNIST(root=tmp_path)
    (folder / "ember-source.json").write_text('{"source": "my own subset"}')
    assert MNIST(root=tmp_path).source == "my own subset"
    flip(folder / "train-images-idx3-ubyte", count=10)
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte"):
        MNIST(root=tmp_path)
