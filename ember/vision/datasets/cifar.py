"""torchvision.datasets.CIFAR10 and CIFAR100 over Ember's pickle-free readers and downloader.

The batches are read by :mod:`ember.data.datasets.cifar`'s byte-level pickle interpreter (nothing in the
file is ever run) from torchvision's layout, ``root/cifar-10-batches-py/data_batch_1`` ... (or the binary
version, ``root/cifar-10-batches-bin/``). As in torchvision, ``data`` is a uint8 NumPy array
``(N, 32, 32, 3)``, ``targets`` a list of ints, and ``ds[i] == (PIL image in mode 'RGB', int)`` before
the transforms.
"""

import os

from ...backend import xp
from ...data.datasets import cifar as _cifar
from ...data.datasets import download as dl
from .vision import VisionDataset, pil_image


class CIFAR10(VisionDataset, _cifar.CIFAR10):
    """`CIFAR-10 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: 50,000 training and 10,000 test colour
    images, 32x32, ten classes.

    Args: ``root`` — the folder holding ``cifar-10-batches-py/``; ``train``; ``transform`` (on the PIL
    image); ``target_transform`` (on the int label); ``download`` — fetch and unpack the archive into
    ``root`` when the batches are missing.
    """

    __getitems__ = None  # sample by sample: transforms expect PIL images (see mnist.py)
    class_to_idx = None  # torchvision's is an attribute (ember.data's base has a read-only property)

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        VisionDataset.__init__(self, root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        self._load(train)
        # ember.data's reader set its own root and transforms: torchvision's again
        VisionDataset.__init__(self, root, transform=transform, target_transform=target_transform)
        self.train = train
        self.targets = [int(t) for t in self.targets]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _load(self, train):
        _cifar.CIFAR10.__init__(self, self.root, train)  # data (N, 32, 32, 3) uint8, targets, classes

    def _check_integrity(self):
        # Presence of every batch; their MD5s are checked when they are downloaded (ember.data.datasets).
        return self._have_python() or self._have_binary()

    def __getitem__(self, index):
        """``(image, target)``: a mode 'RGB' PIL image through ``transform``, an int through ``target_transform``."""
        img, target = self.data[index], self.targets[index]
        img = pil_image().fromarray(img)  # (32, 32, 3) uint8 is a mode 'RGB' image
        return self._transformed(img, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """`CIFAR-100 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: the same images format, 100 classes
    (``targets`` are the fine labels), in ``root/cifar-100-python/{train,test,meta}``."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    classes = []

    def _have_binary(self):
        return False  # CIFAR-100's binary version has two label bytes per record: only the Python one is read

    def _load(self, train):
        folder = os.path.join(self.root, self.base_folder)
        name = (self.train_list if train else self.test_list)[0][0]
        with open(os.path.join(folder, name), "rb") as f:
            entry = _cifar._text_keys(_cifar.safe_load_pickle(f.read()))
        data, labels = entry.get("data"), entry.get("fine_labels")
        if not (hasattr(data, "shape") and data.dtype == xp.uint8 and data.ndim == 2 and data.shape[1] == 3072):
            raise ValueError(f"{name}: 'data' must be a uint8 array of shape (N, 3072)")
        if not isinstance(labels, list) or len(labels) != len(data):
            raise ValueError(f"{name}: 'fine_labels' must be a list of {len(data)} ints")
        self.data = _cifar._planes_to_hwc(data)
        self.targets = labels
        with open(os.path.join(folder, self.meta["filename"]), "rb") as f:
            meta = _cifar._text_keys(_cifar.safe_load_pickle(f.read()))
        self.classes = [n.decode("latin-1") if isinstance(n, bytes) else str(n) for n in meta[self.meta["key"]]]

    def download(self):
        """Fetch the Python-version archive (MD5-checked) and take out its three members."""
        if self._have_python():
            return
        members = [(n, md5) for n, md5 in self.train_list + self.test_list]
        members.append((self.meta["filename"], self.meta["md5"]))
        try:
            with dl.temporary_folder(self.root) as scratch:
                tarball = dl.download_url(self.url, os.path.join(scratch, self.filename), md5=self.tgz_md5)
                with dl.open_tarball(tarball) as tar:
                    for name, md5 in members:
                        target = os.path.join(self.root, self.base_folder, name)
                        dl.extract_member(tar, f"{self.base_folder}/{name}", target, md5)
        except (dl.DownloadError, OSError, ValueError) as e:
            raise dl.DownloadError(
                f"CIFAR100: {self.url}: {e}\n"
                + dl.manual_instructions("CIFAR100", os.path.join(self.root, self.base_folder),
                                         [n for n, _ in members], [self.url])
            ) from e
