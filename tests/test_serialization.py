"""ember.save / ember.load: Ember's own files round-trip, PyTorch's .pt files load, and no file runs code."""

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.optim as optim
from ember.serialization import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from tests.helpers import assert_close


def roundtrip(obj, tmp_path=None):
    if tmp_path is None:
        buffer = io.BytesIO()
        ember.save(obj, buffer)
        buffer.seek(0)
        return ember.load(buffer)
    path = tmp_path / "obj.pt"
    ember.save(obj, path)
    return ember.load(path)


def torch_file(obj, tmp_path, name="t.pt", **kwargs):
    path = tmp_path / name
    torch.save(obj, path, **kwargs)
    return path


# ---- Ember's own format -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"])
def test_tensor_roundtrip_keeps_dtype_shape_values(dtype, tmp_path):
    a = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    t = ember.tensor(a)
    out = roundtrip(t, tmp_path)
    assert isinstance(out, ember.Tensor) and not isinstance(out, nn.Parameter)
    assert out.dtype == np.dtype(dtype) and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.numpy(), a)


def test_noncontiguous_tensor_and_requires_grad_and_parameter(tmp_path):
    base = ember.randn(4, 5)
    p = nn.Parameter(ember.randn(3))
    frozen = nn.Parameter(ember.randn(2), requires_grad=False)
    leaf = ember.randn(2, requires_grad=True)
    out = roundtrip({"t": base.transpose(0, 1), "p": p, "frozen": frozen, "leaf": leaf}, tmp_path)
    np.testing.assert_array_equal(out["t"].numpy(), base.numpy().T)
    assert type(out["p"]) is nn.Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is nn.Parameter and not out["frozen"].requires_grad
    assert type(out["leaf"]) is ember.Tensor and out["leaf"].requires_grad


def test_nested_containers_keep_their_types_and_keys(tmp_path):
    obj = {
        "tuple": (1, 2.5, "x", None, True),
        "list": [1, [2, (3,)]],
        7: "int key",
        (1, "a"): "tuple key",
        2.5: "float key",
        "set": {1, 2},
        "frozenset": frozenset({"a"}),
        "bytes": b"\x00\xff",
        "nan": float("nan"),
        "inf": -float("inf"),
        "dtype": ember.float16,
        "array": np.arange(3, dtype=np.int16),
        "scalar": np.float32(1.5),
        "od": collections.OrderedDict([("b", 1), ("a", 2)]),
    }
    out = roundtrip(obj, tmp_path)
    assert list(out) == list(obj)
    assert out["tuple"] == (1, 2.5, "x", None, True) and type(out["tuple"]) is tuple
    assert out["list"] == [1, [2, (3,)]] and type(out["list"][1][1]) is tuple
    assert out[7] == "int key" and out[(1, "a")] == "tuple key" and out[2.5] == "float key"
    assert out["set"] == {1, 2} and type(out["frozenset"]) is frozenset
    assert out["bytes"] == b"\x00\xff"
    assert np.isnan(out["nan"]) and out["inf"] == -float("inf")
    assert out["dtype"] == ember.float16
    assert type(out["array"]) is np.ndarray and out["array"].dtype == np.int16
    assert type(out["scalar"]) is np.float32 and out["scalar"] == 1.5
    assert type(out["od"]) is collections.OrderedDict and list(out["od"]) == ["b", "a"]
    assert type(out["tuple"][3]) is type(None) and type(out["tuple"][4]) is bool


def test_same_tensor_twice_comes_back_as_one_object(tmp_path):
    w = ember.randn(3)
    out = roundtrip({"a": w, "b": [w]}, tmp_path)
    assert out["a"] is out["b"][0]


def make_ember_net():
    layers = [nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5)]
    return nn.Sequential(*layers)


def make_torch_net():
    t = torch.nn
    return t.Sequential(t.Conv2d(1, 4, 3), t.BatchNorm2d(4), t.ReLU(), t.MaxPool2d(2), t.Flatten(), t.Linear(36, 5))


def test_module_state_dict_roundtrip_loads_strictly(tmp_path):
    ember.manual_seed(0)
    net = make_ember_net()
    net(ember.randn(2, 1, 8, 8))  # move the BatchNorm running statistics
    sd = roundtrip(net.state_dict(), tmp_path)
    assert type(sd) is collections.OrderedDict and list(sd) == list(net.state_dict())
    assert sd["1.num_batches_tracked"].dtype == np.int64
    other = make_ember_net()
    other.load_state_dict(sd)
    net.eval(), other.eval()
    x = ember.randn(3, 1, 8, 8)
    np.testing.assert_array_equal(other(x).detach().numpy(), net(x).detach().numpy())


def test_optimizer_state_dict_roundtrip(tmp_path):
    ember.manual_seed(0)
    net = make_ember_net()
    opt = optim.Adam(net.parameters(), lr=1e-2, betas=(0.8, 0.9))
    for _ in range(2):
        opt.zero_grad()
        net(ember.randn(2, 1, 8, 8)).sum().backward()
        opt.step()
    saved = opt.state_dict()
    out = roundtrip(saved, tmp_path)
    assert sorted(out["state"]) == sorted(saved["state"]) and all(isinstance(k, int) for k in out["state"])
    assert out["param_groups"][0]["betas"] == (0.8, 0.9) and out["param_groups"][0]["params"] == list(range(6))
    for k, state in saved["state"].items():
        for name, value in state.items():
            loaded = out["state"][k][name]
            expected = np.asarray(getattr(value, "array", value))
            np.testing.assert_array_equal(np.asarray(getattr(loaded, "array", loaded)), expected)
    fresh = optim.Adam(make_ember_net().parameters())
    fresh.load_state_dict(out)
    assert fresh.param_groups[0]["lr"] == 1e-2


def test_bytesio_roundtrip_and_position():
    buffer = io.BytesIO()
    buffer.write(b"junk")
    ember.save({"x": ember.ones(2)}, buffer)
    buffer.seek(4)
    np.testing.assert_array_equal(ember.load(buffer)["x"].numpy(), [1, 1])


def test_saving_an_optimizer_or_object_is_refused_with_the_fix(tmp_path):
    # a whole nn.Module is saved as data since torch.save(model) programs exist (tests/test_compat_examples.py)
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        ember.save(ember.optim.SGD(make_ember_net().parameters(), lr=0.1), tmp_path / "m.pt")
    with pytest.raises(TypeError, match="object"):
        ember.save({"f": object()}, tmp_path / "o.pt")
    assert not os.listdir(tmp_path)  # nothing half-written


def test_atomic_write_a_crash_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    ember.save({"x": ember.zeros(3)}, path)
    before = path.read_bytes()
    calls = []

    def failing_write_array(entry, array, **kwargs):
        calls.append(1)
        entry.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"x": ember.ones(3)}, path)
    assert calls and path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file is gone
    monkeypatch.undo()
    np.testing.assert_array_equal(ember.load(path)["x"].numpy(), [0, 0, 0])


def test_ember_file_is_data_only(tmp_path):
    path = tmp_path / "e.pt"
    ember.save({"w": ember.ones(2), "k": (1, "a")}, path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert "ember.json" in names and all(n == "ember.json" or n.endswith(".npy") for n in names)
        assert not any(n.endswith(".pkl") for n in names)


# ---- PyTorch's files ------------------------------------------------------------------------------------


def test_torch_state_dict_of_a_conv_net_gives_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    tnet = make_torch_net()
    tnet(torch.randn(4, 1, 8, 8))  # running statistics
    tnet.eval()
    path = torch_file(tnet.state_dict(), tmp_path, "net.pth")
    sd = ember.load(path, map_location="cpu", weights_only=True)
    assert type(sd) is collections.OrderedDict and list(sd) == list(tnet.state_dict())
    assert all(type(v) is ember.Tensor for v in sd.values())
    net = make_ember_net()
    net.load_state_dict(sd)
    net.eval()
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    assert_close(net(ember.tensor(x)), tnet(torch.tensor(x)), "float32", "outputs")


def test_torch_views_keep_storage_sharing_offsets_and_strides(tmp_path):
    x = torch.arange(24.0).reshape(4, 6)
    obj = {"x": x, "t": x.t(), "s": x[1:, ::2], "row": x[2], "e": x[:0]}
    out = ember.load(torch_file(obj, tmp_path))
    for key, value in obj.items():
        assert out[key].shape == tuple(value.shape)
        np.testing.assert_array_equal(out[key].numpy(), value.numpy())
    assert np.shares_memory(out["x"].array, out["t"].array) and np.shares_memory(out["x"].array, out["s"].array)
    out["x"].array[1, 2] = -1.0  # a write through one view shows in the others, as in torch
    assert out["s"].numpy()[0, 1] == -1.0 and out["t"].numpy()[2, 1] == -1.0


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
              torch.uint8, torch.bool]
)
def test_torch_dtypes(dtype, tmp_path):
    t = (torch.arange(-6, 6).reshape(3, 4) % 5).to(dtype)
    out = ember.load(torch_file(t, tmp_path))
    assert out.dtype == np.dtype(str(dtype).replace("torch.", ""))
    np.testing.assert_array_equal(out.numpy(), t.numpy())


def test_torch_bfloat16_becomes_float32_exactly(tmp_path):
    t = torch.tensor([1.5, -2.0, 3.140625, 1e30], dtype=torch.bfloat16)
    out = ember.load(torch_file(t, tmp_path))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), t.float().numpy())


def test_torch_parameters_scalars_and_misc_globals(tmp_path):
    obj = {
        "p": torch.nn.Parameter(torch.ones(2)),
        "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
        "leaf": torch.zeros(3, requires_grad=True),
        "size": torch.Size([2, 3]),
        "dtype": torch.float64,
        "device": torch.device("cpu"),
        "od": collections.OrderedDict(a=1),
        "nested": [(1, 2.0), {"k": None}],
    }
    out = ember.load(torch_file(obj, tmp_path))
    assert type(out["p"]) is nn.Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is nn.Parameter and not out["frozen"].requires_grad
    assert type(out["leaf"]) is ember.Tensor and out["leaf"].requires_grad
    assert out["size"] == (2, 3) and out["dtype"] == ember.float64 and out["device"] == "cpu"
    assert out["od"] == {"a": 1} and out["nested"] == [(1, 2.0), {"k": None}]


def test_torch_optimizer_state_dict_continues_training_in_ember(tmp_path):
    torch.manual_seed(0)
    tnet = torch.nn.Linear(4, 3)
    topt = torch.optim.Adam(tnet.parameters(), lr=0.01)
    x = torch.randn(5, 4)
    for _ in range(2):
        topt.zero_grad()
        tnet(x).pow(2).sum().backward()
        topt.step()
    torch.save({"model": tnet.state_dict(), "optimizer": topt.state_dict()}, tmp_path / "ckpt.pt")
    ckpt = ember.load(tmp_path / "ckpt.pt")
    assert sorted(ckpt["optimizer"]["state"]) == [0, 1]
    assert ckpt["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    net = nn.Linear(4, 3)
    net.load_state_dict(ckpt["model"])
    opt = optim.Adam(net.parameters(), lr=0.01)
    opt.load_state_dict(ckpt["optimizer"])
    topt.zero_grad()
    tnet(x).pow(2).sum().backward()
    topt.step()
    opt.zero_grad()
    net(ember.tensor(x.numpy())).pow(2).sum().backward()
    opt.step()
    assert_close(net.weight, tnet.weight, "float32", "weight after a third step")


def test_map_location_forms_are_accepted(tmp_path):
    path = torch_file({"w": torch.ones(2)}, tmp_path)
    seen = []

    def move(storage, location):
        seen.append(location)
        return storage

    for where in ("cpu", {"cuda:0": "cpu"}, move, None):
        np.testing.assert_array_equal(ember.load(path, map_location=where)["w"].numpy(), [1, 1])
    assert seen == ["cpu"]
    with pytest.raises(TypeError, match="map_location"):
        ember.load(path, map_location=3.5)


def rewrite_zip(path, change):
    """Rewrite the zip at ``path``, passing each (name, bytes) through ``change``."""
    with zipfile.ZipFile(path) as archive:
        entries = [(n, archive.read(n)) for n in archive.namelist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(name, change(name, data))


def test_big_endian_torch_file(tmp_path):
    t = torch.tensor([[1.5, -2.25], [3.0, 4e10]], dtype=torch.float64)
    path = torch_file({"t": t, "i": torch.tensor([1, -2], dtype=torch.int32)}, tmp_path)
    dtypes = {"0": ">f8", "1": ">i4"}

    def to_big(name, data):
        if name.endswith("byteorder"):
            return b"big"
        key = name.rsplit("/", 1)[-1]
        if "/data/" in name:
            return np.frombuffer(data, dtype="<" + dtypes[key][1:]).astype(dtypes[key]).tobytes()
        return data

    rewrite_zip(path, to_big)
    out = ember.load(path)
    np.testing.assert_array_equal(out["t"].numpy(), t.numpy())
    np.testing.assert_array_equal(out["i"].numpy(), [1, -2])
    assert out["t"].dtype == np.float64 and out["t"].array.dtype.isnative


def test_legacy_torch_format_raises_a_clear_error(tmp_path):
    path = torch_file({"w": torch.ones(2)}, tmp_path, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="legacy"):
        ember.load(path)
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(RuntimeError, match="neither"):
        ember.load(tmp_path / "garbage.pt")


# ---- malicious files ---------------------------------------------------------------------------------------


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Harmless:
    def __init__(self, value=1):
        self.value = value


def test_pickle_that_calls_os_system_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = torch_file({"w": torch.ones(2), "evil": RunsCode(marker)}, tmp_path, "evil.pt")
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match=r"refusing to load '(posix|nt|os)\.system' from .*evil\.pt"):
            ember.load(path, weights_only=weights_only)
    assert not marker.exists()


def test_hand_built_pickle_in_a_torch_zip_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = torch_file({"w": torch.ones(2)}, tmp_path, "evil.pt")
    code = b"open('pwned', 'w').close()"
    # PROTO 2, GLOBAL builtins.exec, BINUNICODE code, TUPLE1, REDUCE, STOP: exec(code) under pickle.load.
    payload = b"\x80\x02cbuiltins\nexec\nX" + len(code).to_bytes(4, "little") + code + b"\x85R."
    rewrite_zip(path, lambda name, data: payload if name.endswith("data.pkl") else data)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(pickle.UnpicklingError, match="builtins.exec"):
            ember.load(path)
    finally:
        os.chdir(cwd)
    assert not marker.exists()


def test_class_outside_the_allowlist_is_refused_unless_added(tmp_path):
    path = torch_file({"h": Harmless(5)}, tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="Harmless.*add_safe_globals"):
        ember.load(path)
    try:
        add_safe_globals([Harmless])
        assert Harmless in get_safe_globals()
        assert ember.load(path)["h"].value == 5
    finally:
        clear_safe_globals()
    assert get_safe_globals() == []
    with safe_globals([Harmless]):
        assert ember.load(path)["h"].value == 5
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path)


def test_tensor_running_past_its_storage_is_refused(tmp_path):
    path = torch_file({"w": torch.ones(4)}, tmp_path)
    # Shrink the storage record to two elements: the tensor's geometry no longer fits.
    rewrite_zip(path, lambda name, data: data[:8] if "/data/" in name else data)
    with pytest.raises(pickle.UnpicklingError, match="bytes"):
        ember.load(path)


def test_torch_file_with_numpy_arrays_and_unsupported_dtype(tmp_path):
    out = ember.load(torch_file({"a": np.arange(3, dtype=np.int16), "b": np.float64(2.5)}, tmp_path))
    np.testing.assert_array_equal(out["a"], [0, 1, 2])
    assert out["a"].dtype == np.int16 and out["b"] == 2.5
    with pytest.raises(pickle.UnpicklingError, match="ComplexFloatStorage.*dtype Ember does not have"):
        ember.load(torch_file(torch.ones(2, dtype=torch.complex64), tmp_path, "c.pt"))
