"""Module behaviour against torch.nn: modes, gradients, dtypes, apply, hooks, repr and the containers.

On the same structures built in both frameworks by module_twins.py: train/eval, zero_grad and requires_grad_,
``to``/``float``/``double``, forward (pre-)hooks, the repr of modules and Parameters, and Sequential,
ModuleList and ModuleDict. Registration and state_dict are tested in test_module.py.
"""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import torch.nn as tnn
from module_twins import build, twin_classes


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
        assert p.grad is grads[n] and p.grad.shape == p.shape and not p.grad.array.any()
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
    assert enn.Parameter(src).array is src.array  # shares memory with the tensor it wraps, like torch
    assert not src.requires_grad


# ---- containers -----------------------------------------------------------------------------------------


def _tagged(nn, tensor, n):
    Affine = twin_classes(nn, tensor)["Affine"]
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
