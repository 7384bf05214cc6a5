"""Module, Parameter and the containers against torch.nn, on the same structures built in both frameworks.

The concrete layers are not used here: ``_classes(nn, tensor)`` defines small modules holding Parameters and
buffers with torch.nn or ember.nn, so every name, order, repr and error can be compared with PyTorch's.
"""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import torch.nn as tnn

RNG_SEED = 0


def _classes(nn, tensor):
    """The same test modules for torch (``nn=torch.nn, tensor=torch.tensor``) and for Ember."""

    def values(*shape):
        # One seeded stream per framework build, so the torch and Ember twins start with equal values.
        return tensor(_rng.standard_normal(shape).astype(np.float32))

    class Affine(nn.Module):
        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.weight = nn.Parameter(values(n_out, n_in))
            if bias:
                self.bias = nn.Parameter(values(n_out))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.n_in}, out_features={self.n_out}, bias={self.bias is not None}"

    class Norm(nn.Module):
        """Batch-norm-like state: two parameters, three persistent buffers and one non-persistent one."""

        def __init__(self, n):
            super().__init__()
            self.n = n
            self.weight = nn.Parameter(tensor(np.ones(n, np.float32)))
            self.bias = nn.Parameter(tensor(np.zeros(n, np.float32)))
            self.register_buffer("running_mean", tensor(np.zeros(n, np.float32)))
            self.register_buffer("running_var", tensor(np.ones(n, np.float32)))
            self.register_buffer("num_batches_tracked", tensor(np.array(0, np.int64)))
            self.register_buffer("cache", tensor(np.zeros(n, np.float32)), persistent=False)

        def forward(self, x):
            return x * self.weight + self.bias

        def extra_repr(self):
            return f"{self.n}, eps=1e-05"

    class Act(nn.Module):
        def forward(self, x):
            return x * 2

    class Multi(nn.Module):
        """A multi-line extra_repr, which PyTorch prints one line per item (a blank one stays blank when nested)."""

        def extra_repr(self):
            return "first line\n\nthird line"

    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = Affine(n, n)
            self.bn = Norm(n)
            self.act = Act()

        def forward(self, x):
            return self.act(self.bn(self.fc(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(Affine(4, 8), Act(), Affine(8, 8), Affine(8, 3))
            self.blocks = nn.ModuleList([Block(3), Block(3)])
            self.heads = nn.ModuleDict({"cls": Affine(3, 2), "reg": Affine(3, 1, bias=False)})
            self.absent = None  # a plain attribute, not a module
            self.add_module("maybe", None)
            self.multi = Multi()
            self.empty = nn.Sequential()
            # Registered after the children, yet state_dict lists a module's own entries first.
            self.scale = nn.Parameter(tensor(np.ones(1, np.float32)))
            self.register_buffer("step", tensor(np.zeros((), np.float32)))

        def forward(self, x):
            x = self.features(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["cls"](x) * self.scale

    class Tied(nn.Module):
        """Weight tying: a module under two names and a parameter shared by two modules."""

        def __init__(self):
            super().__init__()
            self.enc = Affine(3, 3)
            self.dec = Affine(3, 3)
            self.dec.weight = self.enc.weight
            self.again = self.enc
            self.seq = nn.Sequential(self.dec, Act(), self.dec)

    return dict(Affine=Affine, Norm=Norm, Act=Act, Multi=Multi, Block=Block, Net=Net, Tied=Tied)


_rng = np.random.default_rng(RNG_SEED)


def build(name, *args):
    """The torch and the Ember instance of test class ``name``, with equal initial values."""
    global _rng
    _rng = np.random.default_rng(RNG_SEED)
    t = _classes(tnn, torch.tensor)[name](*args)
    _rng = np.random.default_rng(RNG_SEED)
    e = _classes(enn, ember.tensor)[name](*args)
    return t, e


def names(pairs):
    return [name for name, _ in pairs]


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
    assert sd["features.0.weight"].data is e.features[0].weight.data
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
    arrays_before = {k: v.data for k, v in e.state_dict().items()}
    # float64 arrays into a float32 model: values copied, dtype and array objects kept.
    state = {k: v.numpy().astype(np.float64) if v.dtype.is_floating_point else v.numpy()
             for k, v in t.state_dict().items()}
    result = e.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert str(result) == str(t.load_state_dict(t.state_dict())) == "<All keys matched successfully>"
    for key, value in e.state_dict().items():
        assert value.data is arrays_before[key], f"{key} was replaced instead of filled in place"
        assert value.dtype == t.state_dict()[key].numpy().dtype
        np.testing.assert_allclose(value.data, t.state_dict()[key].numpy(), rtol=1e-7, err_msg=key)
    assert e.blocks[1].bn.num_batches_tracked.item() == 7
    assert e.features[0].weight.requires_grad and isinstance(e.features[0].weight, enn.Parameter)


def test_load_state_dict_from_ember_tensors_and_float64_model():
    src, dst = build("Net")[1], build("Net")[1]
    dst.double()
    with ember.no_grad():
        for v in src.state_dict().values():
            if v.dtype.kind == "f":
                v.data[...] = 3.5
    dst.load_state_dict(src.state_dict())
    assert dst.features[3].bias.dtype == ember.float64
    assert np.all(dst.features[3].bias.data == 3.5) and np.all(dst.blocks[0].bn.running_var.data == 3.5)
    # The copy is a copy: changing the source afterwards leaves the destination alone.
    src.features[3].bias.data[...] = 0
    assert np.all(dst.features[3].bias.data == 3.5)


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
    before = e.features[0].weight.data.copy()
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
    np.testing.assert_array_equal(e.features[0].weight.data, before)  # nothing half-loaded


def test_load_state_dict_non_strict_returns_keys_like_torch():
    t, e, state = _broken_state()
    e_result = e.load_state_dict(state, strict=False)
    t_result = t.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert e_result.missing_keys == t_result.missing_keys
    assert e_result.unexpected_keys == t_result.unexpected_keys
    missing, unexpected = e_result  # unpacks like torch's named tuple
    assert set(missing) == {"features.3.bias", "blocks.1.bn.running_mean", "scale"}
    # The keys that were present were loaded.
    np.testing.assert_array_equal(e.features[0].weight.data, state["features.0.weight"])
    # Shape mismatches are still errors without strict.
    state["heads.cls.weight"] = np.zeros((9, 9), np.float32)
    with pytest.raises(RuntimeError, match=r"size mismatch for heads\.cls\.weight") as err:
        e.load_state_dict(state, strict=False)
    assert "Missing key" not in str(err.value) and "Unexpected key" not in str(err.value)
    with pytest.raises(TypeError):
        e.load_state_dict([("scale", np.ones(1))])


# ---- modes, gradients, dtypes ---------------------------------------------------------------------------


def test_train_eval_propagate_and_call_children_train():
    t, e = build("Net")
    calls = []
    for m in (t, e):
        original = m.blocks[1].train
        m.blocks[1].train = lambda mode=True, original=original: (calls.append(mode), original(mode))[1]
    assert e.eval() is e
    t.eval()
    assert [m.training for m in e.modules()] == [m.training for m in t.modules()]
    assert not any(m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    # Each child's own (overridden) train() runs: torch's eval, Ember's eval, Ember's train.
    assert calls == [False, False, True]
    with pytest.raises(ValueError):
        e.train("yes")


def test_zero_grad_and_requires_grad():
    _, e = build("Block", 3)
    x = ember.randn(5, 3)
    e(x).sum().backward()
    grads = {n: p.grad for n, p in e.named_parameters()}
    assert all(g is not None for g in grads.values())
    e.zero_grad(set_to_none=False)
    for n, p in e.named_parameters():
        assert p.grad is grads[n] and p.grad.shape == p.shape and not p.grad.data.any()
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())
    x = ember.randn(5, 3, requires_grad=True)
    e(x).sum().backward()
    assert x.grad is not None and all(p.grad is None for p in e.parameters())
    e.fc.requires_grad_(True)
    assert [p.requires_grad for p in e.parameters()] == [True, True, False, False]


def test_apply_visits_in_torch_order():
    t, e = build("Net")
    t_names = {m: n for n, m in t.named_modules()}
    e_names = {m: n for n, m in e.named_modules()}
    t_seen, e_seen = [], []
    assert t.apply(lambda m: t_seen.append(t_names[m])) is t
    assert e.apply(lambda m: e_seen.append(e_names[m])) is e
    assert e_seen == t_seen
    assert e_seen[-1] == "" and e_seen[0] == "features.0"  # children first, the root last


def test_to_dtype_converts_floating_state_in_place():
    t, e = build("Net")
    params = list(e.parameters())
    e(ember.randn(2, 4)).sum().backward()
    t(torch.randn(2, 4)).sum().backward()
    assert e.to(ember.float64) is e
    t.to(torch.float64)
    assert [str(v.dtype) for v in e.state_dict().values()] == [
        str(v.dtype).replace("torch.", "") for v in t.state_dict().values()
    ]
    assert e.blocks[0].bn.num_batches_tracked.dtype == ember.int64  # integers untouched
    assert e.blocks[0].bn.cache.dtype == ember.float64  # non-persistent buffers move too
    assert len(list(e.parameters())) == len(params) and all(a is b for a, b in zip(e.parameters(), params))
    with_grad = [p for p in e.parameters() if p.grad is not None]
    assert len(with_grad) == sum(p.grad is not None for p in t.parameters()) > 0
    assert all(p.grad.dtype == ember.float64 for p in with_grad)
    e.float()
    assert all(p.dtype == ember.float32 for p in e.parameters())
    e.double()
    assert all(p.dtype == ember.float64 for p in e.parameters())
    e.to("cpu", dtype=ember.float32)
    assert e.features[0].weight.dtype == ember.float32
    with pytest.raises(TypeError):
        e.to(ember.int64)


def test_forward_hooks_and_pre_hooks():
    t, e = build("Block", 3)
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    expected = t(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    for m, X in ((t, torch.tensor(x)), (e, ember.tensor(x))):
        log = []
        h1 = m.fc.register_forward_pre_hook(lambda mod, args: log.append(("pre", type(mod).__name__, len(args))))
        h2 = m.fc.register_forward_hook(lambda mod, args, out: log.append(("post", tuple(out.shape))))
        h3 = m.bn.register_forward_pre_hook(lambda mod, args: args[0] * 0)  # a returned value replaces the input
        out = m(X).detach().numpy()
        assert log == [("pre", "Affine", 1), ("post", (4, 3))]
        assert np.all(out == 0)  # bn saw zeros, so gave its bias (0), doubled
        h4 = m.register_forward_hook(lambda mod, args, out: out * 0 + 1)  # a returned value replaces the output
        assert np.all(m(X).detach().numpy() == 1)
        for h in (h1, h2, h3, h4):
            h.remove()
        log.clear()
        np.testing.assert_allclose(m(X).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
        assert log == []


# ---- repr -----------------------------------------------------------------------------------------------


def test_repr_matches_torch():
    t, e = build("Net")
    assert str(e) == str(t)
    assert "(0-1): 2 x Block(" in str(e)  # ModuleList prints a run of identical members once
    assert "(maybe): None" in str(e) and "(empty): Sequential()" in str(e)
    t, e = build("Multi")
    assert repr(e) == repr(t) == "Multi(\n  first line\n  \n  third line\n)"
    t, e = build("Affine", 2, 3)
    assert repr(e) == repr(t) == "Affine(in_features=2, out_features=3, bias=True)"
    t, e = build("Tied")
    assert str(e) == str(t)
    assert repr(enn.ModuleList()) == repr(tnn.ModuleList()) == "ModuleList()"


def test_parameter_repr_and_defaults():
    p = enn.Parameter(ember.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, ember.Tensor)
    expected = "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(p) == repr(tnn.Parameter(torch.tensor([1.0, 2.0]))) == expected
    q = enn.Parameter(ember.tensor([1.0, 2.0]), requires_grad=False)
    assert not q.requires_grad
    assert repr(q) == repr(tnn.Parameter(torch.tensor([1.0, 2.0]), requires_grad=False))
    assert repr(enn.Parameter()) == repr(tnn.Parameter())
    src = ember.tensor([3.0])
    assert enn.Parameter(src).data is src.data  # shares memory with the tensor it wraps, like torch
    assert not src.requires_grad


# ---- containers -----------------------------------------------------------------------------------------


def _tagged(nn, tensor, n):
    Affine = _classes(nn, tensor)["Affine"]
    mods = [Affine(1, 1) for _ in range(n)]
    for i, m in enumerate(mods):
        m.tag = i
    return mods


def _layout(container):
    """The container's keys and which tagged module sits under each, for comparing with torch."""
    return [(k, getattr(m, "tag", None)) for k, m in container._modules.items()]


def _both(make):
    return make(tnn, torch.tensor), make(enn, ember.tensor)


def test_sequential_indexing_and_mutation_like_torch():
    t, e = _both(lambda nn, T: nn.Sequential(*_tagged(nn, T, 5)))
    assert len(e) == len(t) == 5
    assert [m.tag for m in e] == [m.tag for m in t]
    assert e[0].tag == t[0].tag == 0 and e[-1].tag == t[-1].tag == 4 and e[-5].tag == 0
    sub_t, sub_e = t[1:4:2], e[1:4:2]
    assert isinstance(sub_e, enn.Sequential) and _layout(sub_e) == _layout(sub_t) == [("1", 1), ("3", 3)]
    with pytest.raises(IndexError):
        e[5]
    with pytest.raises(IndexError):
        e[-6]
    with pytest.raises(TypeError):
        e[1.0]
    for m, nn, T in ((t, tnn, torch.tensor), (e, enn, ember.tensor)):
        new = _tagged(nn, T, 12)
        m[-2] = new[10]
        del m[1]
        m.append(new[11])
        del m[0:4:2]
        m.insert(1, new[7])
        popped = m.pop(0)
        assert popped.tag == 2
    assert _layout(e) == _layout(t)
    assert _layout(e) == [("0", 7), ("1", 4), ("2", 11)]
    with pytest.raises(TypeError):
        e[0] = "not a module"
    assert e(ember.ones(2, 1)).shape == (2, 1)
    assert _layout(e + e) == _layout(t + t)
    e += enn.Sequential(*_tagged(enn, ember.tensor, 1))
    assert len(e) == 4


def test_sequential_ordered_dict_names():
    def make(nn, T):
        a, b, c = _tagged(nn, T, 3)
        return nn.Sequential(OrderedDict([("conv1", a), ("act", b), ("conv2", c)]))

    t, e = _both(make)
    assert _layout(e) == _layout(t) == [("conv1", 0), ("act", 1), ("conv2", 2)]
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.conv2.tag == 2 and e[2] is e.conv2
    assert _layout(e[1:]) == _layout(t[1:]) == [("act", 1), ("conv2", 2)]
    for m in (t, e):
        del m[0]  # torch renumbers every key after a deletion
    assert _layout(e) == _layout(t) == [("0", 1), ("1", 2)]
    assert str(e) == str(t)


def test_module_list_like_torch():
    t, e = _both(lambda nn, T: nn.ModuleList(_tagged(nn, T, 3)))
    for m, nn, T in ((t, tnn, torch.tensor), (e, enn, ember.tensor)):
        new = _tagged(nn, T, 10)
        m.append(new[3])
        m.extend([new[4], new[5]])
        m.insert(1, new[6])
        m[0] = new[7]
        del m[2]
        del m[::3]
        assert m.pop(1).tag == 2
        m += [new[8]]
    assert _layout(e) == _layout(t)
    assert _layout(e[1:]) == _layout(t[1:]) and isinstance(e[1:], enn.ModuleList)
    assert [m.tag for m in e] == [m.tag for m in t] and len(e) == len(t)
    assert e[-1].tag == t[-1].tag == 8
    assert list(e.state_dict()) == list(t.state_dict())
    with pytest.raises(IndexError):
        e[len(e)]
    with pytest.raises(TypeError):
        e.extend(5)
    with pytest.raises(TypeError):
        e.append(np.zeros(2))
    with pytest.raises(NotImplementedError):
        e(ember.ones(1))


def test_module_dict_like_torch():
    def make(nn, T):
        a, b, c, d = _tagged(nn, T, 4)
        md = nn.ModuleDict({"b": a, "a": b})
        md["c"] = c
        md.update([("a", d), ("z", a)])
        del md["b"]
        return md

    t, e = _both(make)
    assert _layout(e) == _layout(t) == [("a", 3), ("c", 2), ("z", 0)]
    assert list(e.keys()) == list(t.keys()) and list(e) == list(t)
    assert "c" in e and "b" not in e and len(e) == 3
    assert [m.tag for m in e.values()] == [m.tag for m in t.values()]
    assert [(k, m.tag) for k, m in e.items()] == [(k, m.tag) for k, m in t.items()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.pop("c").tag == 2 and list(e) == ["a", "z"]
    e.update(enn.ModuleDict({"q": _tagged(enn, ember.tensor, 1)[0]}))
    assert list(e) == ["a", "z", "q"]
    with pytest.raises(ValueError):
        e.update([("x", e["a"], 1)])
    with pytest.raises(KeyError):
        e["x.y"] = e["a"]
    e.clear()
    assert len(e) == 0 and list(e.state_dict()) == []


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
        m = _classes(nn, lambda a: T(a.shape))["Norm"](2)
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
    np.testing.assert_array_equal(clone.features[0].weight.data, e.features[0].weight.data)
