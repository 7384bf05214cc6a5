"""CIFAR-10: 60,000 32x32 colour images of ten classes, read without ever unpickling.

Two official distributions exist (https://www.cs.toronto.edu/~kriz/cifar.html), and both are read:

* **The Python version** (``cifar-10-batches-py/``: ``data_batch_1`` ... ``data_batch_5``, ``test_batch``,
  ``batches.meta``). Each batch is a Python 2 pickle of a dict: ``b'data'`` a uint8 NumPy array of shape
  (10000, 3072) — per image 1024 red, then 1024 green, then 1024 blue values, each plane row-major —
  ``b'labels'`` a list of 10,000 ints 0-9, plus ``b'batch_label'`` and ``b'filenames'``.
* **The binary version** (``cifar-10-batches-bin/``: ``data_batch_1.bin`` ... ``test_batch.bin``,
  ``batches.meta.txt``). Each file is 10,000 records of 3,073 bytes: 1 label byte, then the same 3,072
  pixel bytes. No pickle at all.

Either way the images end up HWC, ``(N, 32, 32, 3)`` uint8, as torchvision holds them.

Why not ``pickle.load``: unpickling runs whatever callables the file names (``os.system`` included), so a
tampered ``data_batch_1`` would run code on the reader's machine. A ``pickle.Unpickler`` whose
``find_class`` allows only NumPy's reconstruction functions is the usual fix, but it still *calls* those
functions with arguments taken from the file and trusts NumPy's ``__setstate__`` with them. Instead,
:func:`safe_load_pickle` runs ``ember.safe_pickle``, a small interpreter of the pickle opcodes (decoded by
``pickletools.genops``, which only parses) that builds dicts, lists, tuples, numbers and strings itself,
maps the handful of global names NumPy writes for an array (``_reconstruct``, ``ndarray``, ``dtype``, and
``_frombuffer`` for protocol 5; ``_codecs.encode`` for bytes written by Python 3 at protocol 2) to its own
functions, and makes the array itself with ``frombuffer`` from a whitelisted numeric dtype and a
size-checked byte string. Nothing named in the file is imported or called. Any other global, or an opcode
outside the plain-data subset (``INST``, ``OBJ``, ``NEWOBJ``, persistent ids, extensions, out-of-band
buffers), raises :class:`UnsafePickleError` before anything happens.
"""

import os

from ...backend import xp
from ...safe_pickle import NUMPY_GLOBALS, UnsafePickleError, interpret, table_lookup
from . import download as dl
from . import integrity
from .vision import ImageClassificationDataset

_find_global = table_lookup(NUMPY_GLOBALS, "this reader only builds plain data and NumPy arrays")


def safe_load_pickle(data):
    """Interpret the pickle ``data`` (bytes) as plain data plus numeric NumPy arrays; never runs code.

    Python 2 ``str`` (the ``STRING`` opcodes) comes back as ``bytes``, as ``pickle.load(...,
    encoding='bytes')`` would give it. See the module docstring for what is accepted.
    """
    return interpret(data, _find_global)


def _text_keys(d):
    if not isinstance(d, dict):
        raise ValueError(f"expected a pickled dict, found a {type(d).__name__}")
    return {(k.decode("latin-1") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _planes_to_hwc(rows):
    """(N, 3072) rows of R, G, B planes -> (N, 32, 32, 3) HWC uint8."""
    return xp.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def read_python_batch(path):
    """One batch of the Python version: ``(images (N, 32, 32, 3) uint8, labels (N,) int64)``."""
    with open(path, "rb") as f:
        batch = _text_keys(safe_load_pickle(f.read()))
    data, labels = batch.get("data"), batch.get("labels")
    if data is None or labels is None:
        raise ValueError(f"{path}: a CIFAR-10 batch has 'data' and 'labels'; found keys {sorted(batch)}")
    if not (hasattr(data, "dtype") and data.dtype == xp.uint8 and data.ndim == 2 and data.shape[1] == 3072):
        raise ValueError(
            f"{path}: 'data' must be a uint8 array of shape (N, 3072), got {getattr(data, 'shape', type(data))}"
        )
    if not isinstance(labels, list) or len(labels) != len(data) or not all(type(v) is int for v in labels):
        raise ValueError(f"{path}: 'labels' must be a list of {len(data)} ints")
    return _planes_to_hwc(data), xp.asarray(labels, dtype=xp.int64)


def read_python_meta(path):
    """``batches.meta`` of the Python version: the list of class names."""
    with open(path, "rb") as f:
        meta = _text_keys(safe_load_pickle(f.read()))
    return [n.decode("latin-1") if isinstance(n, bytes) else str(n) for n in meta["label_names"]]


def read_binary_batch(path):
    """One batch of the binary version: records of 1 label byte + 3,072 pixel bytes."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) % 3073:
        raise ValueError(f"{path}: {len(raw)} bytes is not a whole number of 3,073-byte CIFAR-10 records")
    records = xp.frombuffer(raw, dtype=xp.uint8).reshape(-1, 3073)
    return _planes_to_hwc(records[:, 1:]), records[:, 0].astype(xp.int64)


class CIFAR10(ImageClassificationDataset):
    """CIFAR-10 (Krizhevsky, 2009): 50,000 training and 10,000 test colour images, 32x32, ten classes.

    Args as torchvision's: ``root`` — the folder that holds ``cifar-10-batches-py/`` (or
    ``cifar-10-batches-bin/``; default: the cache), ``train``, ``download``, ``transform``,
    ``target_transform``. Attributes: ``data`` uint8 ``(N, 32, 32, 3)`` (HWC), ``targets`` int64,
    ``classes``.

    ``download=True`` fetches the Python-version tarball from cs.toronto.edu (MD5-checked, as is every
    batch taken from it), falling back to the binary-version tarball; only the batch files are taken out
    of the archive, and the archive is deleted afterwards.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    binary_folder = "cifar-10-batches-bin"
    binary_url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    binary_filename = "cifar-10-binary.tar.gz"
    binary_tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    binary_train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    binary_test_list = ["test_batch.bin"]

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        super().__init__(dl.dataset_root(root), transform, target_transform)
        self.train = bool(train)
        if download:
            self.download()
        if self._have_python():
            names = self.train_list if self.train else self.test_list
            folder = os.path.join(self.root, self.base_folder)
            official = integrity.declared_source(folder) is None  # else files of one's own (see integrity.py)
            sums = [(os.path.join(folder, n), md5 if official else None) for n, md5 in names]
            integrity.check_or_refetch("CIFAR10", folder, sums, download, lambda: (self.download(), sums)[1])
            batches = [read_python_batch(os.path.join(self.root, self.base_folder, n)) for n, _ in names]
            meta = os.path.join(self.root, self.base_folder, self.meta["filename"])
            if os.path.exists(meta):
                self.classes = read_python_meta(meta)
        elif self._have_binary():
            names = self.binary_train_list if self.train else self.binary_test_list
            folder = os.path.join(self.root, self.binary_folder)
            sums = [(os.path.join(folder, n), None) for n in names]  # no official sums: checked on first use
            integrity.check_or_refetch("CIFAR10", folder, sums, download, lambda: (self.download(), sums)[1])
            batches = [read_binary_batch(os.path.join(self.root, self.binary_folder, n)) for n in names]
        else:
            raise RuntimeError(
                f"CIFAR10: no dataset found in {os.path.join(self.root, self.base_folder)} (Python version) "
                f"or {os.path.join(self.root, self.binary_folder)} (binary version). Pass download=True, "
                f"or extract cifar-10-python.tar.gz or cifar-10-binary.tar.gz into {self.root}."
            )
        self.data = xp.concatenate([images for images, _ in batches])
        self.targets = xp.concatenate([labels for _, labels in batches])

    def _have_python(self):
        names = [n for n, _ in self.train_list + self.test_list]
        return all(os.path.isfile(os.path.join(self.root, self.base_folder, n)) for n in names)

    def _have_binary(self):
        names = self.binary_train_list + self.binary_test_list
        return all(os.path.isfile(os.path.join(self.root, self.binary_folder, n)) for n in names)

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def download(self):
        """Fetch and unpack the batches unless either version is already complete in ``root``."""
        if self._have_python() or self._have_binary():
            return
        python_members = [(n, md5) for n, md5 in self.train_list + self.test_list]
        python_members.append((self.meta["filename"], self.meta["md5"]))
        binary_members = [(n, None) for n in self.binary_train_list + self.binary_test_list]
        binary_members.append(("batches.meta.txt", None))
        errors = []
        for url, filename, md5, folder, members in (
            (self.url, self.filename, self.tgz_md5, self.base_folder, python_members),
            (self.binary_url, self.binary_filename, self.binary_tgz_md5, self.binary_folder, binary_members),
        ):
            try:
                with dl.temporary_folder(self.root) as scratch:
                    tarball = dl.download_url(url, os.path.join(scratch, filename), md5=md5)
                    with dl.open_tarball(tarball) as tar:
                        for name, member_md5 in members:
                            target = os.path.join(self.root, folder, name)
                            dl.extract_member(tar, f"{folder}/{name}", target, member_md5)
                return
            except (dl.DownloadError, OSError, ValueError) as e:
                errors.append(f"{url}: {e}")
        tried = "\n".join(f"  - {e}" for e in errors)
        raise dl.DownloadError(
            f"CIFAR10: every source failed:\n{tried}\n"
            + dl.manual_instructions(
                "CIFAR10",
                os.path.join(self.root, self.base_folder),
                [n for n, _ in python_members],
                [self.url, self.binary_url + f" (extract into {os.path.join(self.root, self.binary_folder)})"],
            )
        )
