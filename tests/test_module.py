"""Module registration and state against torch.nn: registering, traversal, state_dict, load_state_dict, errors.

On the same structures built in both frameworks by module_twins.py. Modes, gradients, dtypes, hooks, repr and
the containers are tested in test_module_behaviour.py.
"""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import torch.nn as tnn
from module_twins import build, names, twin_classes


# ---- registration and traversal -------------------------------------------------------------------------


def test_state_dict_keys_and_order_match_torch():
    t, e = build("Net")
    keys = list(e.state_dict())
    assert keys == list(t.state_dict())
    # The nesting the brief names, and the rules behind the order:
    assert keys[:2] == ["scale", "step"]  # own entries before the children's
    for key in ["features.3.bias", "features.0.weight", "blocks.1.bn.running_mean", "heads.cls.weight"]:
        assert key in keys
    assert "blocks.0.bn.cache" not in keys  # non-persistent
    assert "heads.reg.bias" not in keys  # registered as None
    assert keys.index("blocks.0.fc.weight") < keys.index("blocks.0.bn.weight") < keys.index("blocks.1.fc.weight")


def test_state_dict_values_share_memory_and_keep_vars():
    _, e = build("Net")
    sd = e.state_dict()
    assert sd["features.0.weight"].array is e.features[0].weight.array
    assert not sd["features.0.weight"].requires_grad and not isinstance(sd["features.0.weight"], enn.Parameter)
    assert e.state_dict(keep_vars=True)["features.0.weight"] is e.features[0].weight
    assert list(e.state_dict(prefix="model.")) == list(build("Net")[0].state_dict(prefix="model."))


def test_traversals_match_torch():
    t, e = build("Net")
    assert names(e.named_parameters()) == names(t.named_parameters())
    assert names(e.named_buffers()) == names(t.named_buffers())  # non-persistent buffers included
    assert "blocks.1.bn.cache" in names(e.named_buffers())
    assert names(e.named_modules()) == names(t.named_modules())
    assert names(e.named_children()) == names(t.named_children())
    assert names(e.named_parameters(prefix="net", recurse=True)) == names(t.named_parameters(prefix="net"))
    assert names(e.named_parameters(recurse=False)) == names(t.named_parameters(recurse=False)) == ["scale"]
    assert names(e.named_buffers(recurse=False)) == names(t.named_buffers(recurse=False)) == ["step"]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert [p.shape for p in e.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert [b.shape for b in e.buffers()] == [tuple(b.shape) for b in t.buffers()]
    assert len(list(e.children())) == len(list(t.children()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert [type(m).__name__ for m in e.modules()] == [type(m).__name__ for m in t.modules()]


def test_shared_modules_and_parameters_deduplicated_like_torch():
    t, e = build("Tied")
    assert names(e.named_parameters()) == names(t.named_parameters())
    assert names(e.named_parameters(remove_duplicate=False)) == names(t.named_parameters(remove_duplicate=False))
    assert names(e.named_modules()) == names(t.named_modules())
    assert names(e.named_modules(remove_duplicate=False)) == names(t.named_modules(remove_duplicate=False))
    assert names(e.named_children()) == names(t.named_children())
    # state_dict does NOT deduplicate: a tied weight is saved under every name, so either name loads.
    assert list(e.state_dict()) == list(t.state_dict())
    assert "again.weight" in e.state_dict() and "seq.2.bias" in e.state_dict()
    ids = [id(p) for p in e.parameters()]
    assert len(ids) == len(set(ids)) == 3  # enc.weight (shared), enc.bias, dec.bias


def test_reassigning_keeps_registration_order():
    t, e = build("Affine", 2, 3)
    for m, nn, T in ((t, tnn, torch.tensor), (e, enn, ember.tensor)):
        m.weight = nn.Parameter(T(np.zeros((3, 2), np.float32)))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    t, e = build("Block", 2)
    t.fc, e.fc = build("Affine", 2, 2)
    assert names(e.named_modules()) == names(t.named_modules())
    assert names(e.named_children())[0] == "fc"


def test_attribute_kinds_replace_each_other():
    _, e = build("Norm", 2)
    e.running_mean = enn.Parameter(ember.zeros(2))  # a Parameter replaces a buffer of that name
    assert "running_mean" in dict(e.named_parameters()) and "running_mean" not in dict(e.named_buffers())
    e.running_var = None  # None keeps the buffer slot, like torch
    assert "running_var" not in e.state_dict() and e.running_var is None
    del e.weight
    assert "weight" not in dict(e.named_parameters())
    with pytest.raises(AttributeError):
        e.weight


# ---- load_state_dict ------------------------------------------------------------------------------------


def _randomised_torch_net():
    t, e = build("Net")
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for v in t.state_dict().values():
            if v.dtype.is_floating_point:
                v.copy_(torch.randn(v.shape, generator=gen, dtype=torch.float64))
            else:
                v.fill_(7)
    return t, e


def test_load_state_dict_from_numpy_arrays():
    t, e = _randomised_torch_net()
    arrays_before = {k: v.array for k, v in e.state_dict().items()}
    # float64 arrays into a float32 model: values copied, dtype and array objects kept.
    state = {k: v.numpy().astype(np.float64) if v.dtype.is_floating_point else v.numpy()
             for k, v in t.state_dict().items()}
    result = e.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert str(result) == str(t.load_state_dict(t.state_dict())) == "<All keys matched successfully>"
    for key, value in e.state_dict().items():
        assert value.array is arrays_before[key], f"{key} was replaced instead of filled in place"
        assert value.dtype == t.state_dict()[key].numpy().dtype
        np.testing.assert_allclose(value.array, t.state_dict()[key].numpy(), rtol=1e-7, err_msg=key)
    assert e.blocks[1].bn.num_batches_tracked.item() == 7
    assert e.features[0].weight.requires_grad and isinstance(e.features[0].weight, enn.Parameter)


def test_load_state_dict_from_ember_tensors_and_float64_model():
    src, dst = build("Net")[1], build("Net")[1]
    dst.double()
    with ember.no_grad():
        for v in src.state_dict().values():
            if v.dtype.kind == "f":
                v.array[...] = 3.5
    dst.load_state_dict(src.state_dict())
    assert dst.features[3].bias.dtype == ember.float64
    assert np.all(dst.features[3].bias.array == 3.5) and np.all(dst.blocks[0].bn.running_var.array == 3.5)
    # The copy is a copy: changing the source afterwards leaves the destination alone.
    src.features[3].bias.array[...] = 0
    assert np.all(dst.features[3].bias.array == 3.5)


def _broken_state():
    t, e = _randomised_torch_net()
    state = OrderedDict((k, v.numpy()) for k, v in t.state_dict().items())
    for key in ("features.3.bias", "blocks.1.bn.running_mean", "scale"):
        del state[key]
    state["features.9.weight"] = np.zeros(2, np.float32)
    state["blocks.0.bn.cache"] = np.zeros(3, np.float32)  # non-persistent: unexpected, as in torch
    state["extra"] = np.zeros(1, np.float32)
    return t, e, state


def test_load_state_dict_strict_lists_every_problem_like_torch():
    t, e, state = _broken_state()
    before = e.features[0].weight.array.copy()
    with pytest.raises(RuntimeError) as e_err:
        e.load_state_dict(dict(state, **{"features.0.weight": np.zeros((2, 2), np.float32),
                                         "heads.cls.bias": np.zeros(5, np.float32)}))
    with pytest.raises(RuntimeError) as t_err:
        t.load_state_dict({k: torch.tensor(v) for k, v in dict(state, **{
            "features.0.weight": np.zeros((2, 2), np.float32), "heads.cls.bias": np.zeros(5, np.float32)}).items()})
    e_lines, t_lines = str(e_err.value).split("\n\t"), str(t_err.value).split("\n\t")
    # Header, then every missing key, then every unexpected key, in torch's words and order.
    assert e_lines[:3] == t_lines[:3]
    assert e_lines[0] == "Error(s) in loading state_dict for Net:"
    for key in ("features.3.bias", "blocks.1.bn.running_mean", "scale"):
        assert f'"{key}"' in e_lines[1]
    for key in ("features.9.weight", "blocks.0.bn.cache", "extra"):
        assert f'"{key}"' in e_lines[2]
    # Then every shape mismatch (torch writes torch.Size([...]), Ember the shape tuple).
    assert len(e_lines) == len(t_lines) == 5
    assert "size mismatch for features.0.weight" in e_lines[3] and "(2, 2)" in e_lines[3] and "(8, 4)" in e_lines[3]
    assert "size mismatch for heads.cls.bias" in e_lines[4] and "(5,)" in e_lines[4] and "(2,)" in e_lines[4]
    np.testing.assert_array_equal(e.features[0].weight.array, before)  # nothing half-loaded


def test_load_state_dict_non_strict_returns_keys_like_torch():
    t, e, state = _broken_state()
    e_result = e.load_state_dict(state, strict=False)
    t_result = t.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert e_result.missing_keys == t_result.missing_keys
    assert e_result.unexpected_keys == t_result.unexpected_keys
    missing, unexpected = e_result  # unpacks like torch's named tuple
    assert set(missing) == {"features.3.bias", "blocks.1.bn.running_mean", "scale"}
    # The keys that were present were loaded.
    np.testing.assert_array_equal(e.features[0].weight.array, state["features.0.weight"])
    # Shape mismatches are still errors without strict.
    state["heads.cls.weight"] = np.zeros((9, 9), np.float32)
    with pytest.raises(RuntimeError, match=r"size mismatch for heads\.cls\.weight") as err:
        e.load_state_dict(state, strict=False)
    assert "Missing key" not in str(err.value) and "Unexpected key" not in str(err.value)
    with pytest.raises(TypeError):
        e.load_state_dict([("scale", np.ones(1))])


# ---- errors ---------------------------------------------------------------------------------------------


def test_assigning_non_parameter_to_parameter_name_raises():
    t, e = build("Affine", 2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        e.weight = ember.zeros(2, 2)
    with pytest.raises(TypeError):
        t.weight = torch.zeros(2, 2)
    with pytest.raises(TypeError, match="buffer"):
        build("Norm", 2)[1].running_mean = np.zeros(2)
    e.weight = None  # None is allowed: the slot stays, the value goes
    assert "weight" not in e.state_dict() and e.weight is None


def test_assigning_before_super_init_raises_clear_error():
    class Early(enn.Module):
        def __init__(self):
            self.w = enn.Parameter(ember.zeros(1))
            super().__init__()

    class EarlyModule(enn.Module):
        def __init__(self):
            self.child = enn.Sequential()
            super().__init__()

    class EarlyBuffer(enn.Module):
        def __init__(self):
            self.register_buffer("b", ember.zeros(1))

    for cls in (Early, EarlyModule, EarlyBuffer):
        with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call.*super\(\).__init__\(\)"):
            cls()


def test_registration_name_checks_like_torch():
    for nn, T in ((tnn, torch.zeros), (enn, ember.zeros)):
        m = twin_classes(nn, lambda a: T(a.shape))["Norm"](2)
        with pytest.raises(KeyError):
            m.register_buffer("a.b", T(1))
        with pytest.raises(KeyError):
            m.register_buffer("", T(1))
        with pytest.raises(KeyError):
            m.register_buffer("weight", T(1))  # already a parameter
        with pytest.raises(KeyError):
            m.add_module("running_mean", nn.Module())  # already a buffer
        with pytest.raises(KeyError):
            m.register_parameter("forward", nn.Parameter(T(1)))  # would shadow a method
        with pytest.raises(TypeError):
            m.register_parameter("p", T(1))
        with pytest.raises(TypeError):
            m.add_module("x", T(1))
    with pytest.raises(ValueError, match="non-leaf"):
        enn.Module().register_parameter("p", _nonleaf_parameter())


def _nonleaf_parameter():
    """A Parameter object carrying a graph node: the mistake torch rejects with a ValueError."""
    p = enn.Parameter(ember.ones(1))
    p._ctx = (enn.Parameter(ember.ones(1)) * 2)._ctx
    return p


def test_get_submodule_and_deepcopy():
    t, e = build("Net")
    assert e.get_submodule("blocks.1.bn") is e.blocks[1].bn
    assert type(e.get_submodule("blocks.1.bn")).__name__ == type(t.get_submodule("blocks.1.bn")).__name__
    assert e.get_submodule("") is e
    with pytest.raises(AttributeError):
        e.get_submodule("blocks.7")
    clone = copy.deepcopy(e)
    assert list(clone.state_dict()) == list(e.state_dict())
    assert clone.features[0].weight is not e.features[0].weight
    assert isinstance(clone.features[0].weight, enn.Parameter) and clone.features[0].weight.requires_grad
    np.testing.assert_array_equal(clone.features[0].weight.array, e.features[0].weight.array)
