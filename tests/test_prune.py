"""ember.nn.utils.prune against torch.nn.utils.prune: masks, pruned weights, state_dict keys, hooks, remove."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as TP

import ember
import ember.nn.utils.prune as P
from ember import nn


def _pair(kind="linear", seed=0):
    """An Ember layer and a torch layer with the same (tie-free) weights."""
    ember.manual_seed(seed)
    e = nn.Linear(7, 5) if kind == "linear" else nn.Conv2d(3, 6, 3)
    t = torch.nn.Linear(7, 5) if kind == "linear" else torch.nn.Conv2d(3, 6, 3)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(e.weight.array.copy()))
        t.bias.copy_(torch.from_numpy(e.bias.array.copy()))
    return e, t


def _same(e, t, name="weight"):
    np.testing.assert_array_equal(getattr(e, name + "_mask").numpy(), getattr(t, name + "_mask").numpy())
    np.testing.assert_array_equal(getattr(e, name).detach().numpy(), getattr(t, name).detach().numpy())
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]


@pytest.mark.parametrize("amount", [0, 0.3, 0.5, 0.9, 1.0, 4, 35])
@pytest.mark.parametrize("name", ["weight", "bias"])
def test_l1_unstructured_matches_torch(amount, name):
    e, t = _pair()
    if name == "bias" and isinstance(amount, int) and amount > 5:
        amount = 5
    P.l1_unstructured(e, name, amount)
    TP.l1_unstructured(t, name, amount)
    _same(e, t, name)


@pytest.mark.parametrize("amount,n,dim", [(0.5, 2, 0), (2, 1, 0), (1, float("inf"), 1), (0.34, 2, -1),
                                          (3, float("-inf"), 0), (0.5, 3, 1), (2, 0.5, 0)])
def test_ln_structured_matches_torch_on_a_conv(amount, n, dim):
    e, t = _pair("conv")
    P.ln_structured(e, "weight", amount, n, dim)
    TP.ln_structured(t, "weight", amount, n, dim)
    _same(e, t)


def test_pruning_twice_combines_masks_as_torch():
    e, t = _pair("conv")
    steps = [(P.l1_unstructured, TP.l1_unstructured, dict(amount=0.3)),
             (P.ln_structured, TP.ln_structured, dict(amount=2, n=2, dim=0)),
             (P.l1_unstructured, TP.l1_unstructured, dict(amount=10)),
             (P.ln_structured, TP.ln_structured, dict(amount=0.5, n=1, dim=1))]
    for ours, theirs, kw in steps:
        ours(e, "weight", **kw)
        theirs(t, "weight", **kw)
        _same(e, t)
    hooks = list(e._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], P.PruningContainer) and len(hooks[0]) == 4
    assert [type(m).__name__ for m in hooks[0]] == [type(m).__name__ for m in list(t._forward_pre_hooks.values())[0]]


def test_forward_backward_and_hook_recompute_match_torch():
    e, t = _pair()
    P.l1_unstructured(e, "weight", 0.6)
    TP.l1_unstructured(t, "weight", 0.6)
    x = np.random.RandomState(1).randn(4, 7).astype(np.float32)
    ye, yt = e(ember.tensor(x)), t(torch.from_numpy(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    g = e.weight_orig.grad.numpy()
    np.testing.assert_allclose(g, t.weight_orig.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert np.all(g[e.weight_mask.numpy() == 0] == 0)          # pruned entries get no gradient
    # An optimiser step changes weight_orig; the pre-hook recomputes weight before the next forward.
    with ember.no_grad():
        e.weight_orig.array[...] += 1.0
    e(ember.tensor(x))
    np.testing.assert_array_equal(e.weight.detach().numpy(), (e.weight_orig.array + 0) * e.weight_mask.array)


def test_remove_makes_it_permanent_like_torch():
    e, t = _pair()
    P.l1_unstructured(e, "weight", 0.5)
    TP.l1_unstructured(t, "weight", 0.5)
    orig = e.weight_orig
    P.remove(e, "weight")
    TP.remove(t, "weight")
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert isinstance(e.weight, nn.Parameter) and e.weight is orig   # the same Parameter object
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    assert not P.is_pruned(e) and not e._forward_pre_hooks
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        P.remove(e, "weight")


def test_global_unstructured_matches_torch():
    ember.manual_seed(3)
    em = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    tm = torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in em.state_dict().items()})
    P.l1_unstructured(em[2], "weight", 0.25)           # one layer pruned before: its mask is respected
    TP.l1_unstructured(tm[2], "weight", 0.25)
    P.global_unstructured([(em[0], "weight"), (em[2], "weight"), (em[0], "bias")], P.L1Unstructured, amount=0.6)
    TP.global_unstructured([(tm[0], "weight"), (tm[2], "weight"), (tm[0], "bias")], TP.L1Unstructured, amount=0.6)
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in em.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), tm.state_dict()[k].numpy(), err_msg=k)
    with pytest.raises(TypeError, match="unstructured"):
        P.global_unstructured([(em[0], "weight")], P.LnStructured, amount=1, n=2, dim=0)


def test_identity_custom_mask_and_importance_scores_match_torch():
    e, t = _pair()
    P.identity(e, "bias")
    TP.identity(t, "bias")
    _same(e, t, "bias")
    mask = (np.arange(35).reshape(5, 7) % 3 != 0).astype(np.float32)
    P.custom_from_mask(e, "weight", ember.tensor(mask))
    TP.custom_from_mask(t, "weight", torch.from_numpy(mask))
    _same(e, t)
    e2, t2 = _pair(seed=4)
    scores = np.random.RandomState(5).rand(5, 7).astype(np.float32)
    P.l1_unstructured(e2, "weight", 0.4, importance_scores=ember.tensor(scores))
    TP.l1_unstructured(t2, "weight", 0.4, importance_scores=torch.from_numpy(scores))
    _same(e2, t2)


def test_random_methods_prune_the_right_counts():
    ember.manual_seed(0)
    layer = nn.Linear(40, 25)
    P.random_unstructured(layer, "weight", 0.3)
    assert int((layer.weight_mask.numpy() == 0).sum()) == round(0.3 * 1000)
    conv = nn.Conv2d(4, 10, 3)
    P.random_structured(conv, "weight", 3, dim=0)
    per_channel = conv.weight_mask.numpy().reshape(10, -1)
    assert sorted(per_channel.sum(1).tolist()) == [0] * 3 + [36] * 7   # whole filters, exactly 3 of them
    # Over many draws every entry is equally likely to go (the mean pruned share per entry is ~0.3).
    counts = np.zeros(20)
    for seed in range(400):
        ember.manual_seed(seed)
        m = nn.Linear(20, 1)
        P.random_unstructured(m, "weight", 6)
        counts += m.weight_mask.numpy()[0] == 0
    assert np.all(np.abs(counts / 400 - 0.3) < 0.1)


def test_ties_prune_the_same_count_and_threshold_as_torch():
    e, t = nn.Linear(10, 10), torch.nn.Linear(10, 10)
    w = (np.arange(100) % 4).astype(np.float32).reshape(10, 10)      # 25 of each magnitude 0..3
    e.weight.array[...] = w
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(w))
    P.l1_unstructured(e, "weight", 40)
    TP.l1_unstructured(t, "weight", 40)
    me, mt = e.weight_mask.numpy(), t.weight_mask.numpy()
    assert (me == 0).sum() == (mt == 0).sum() == 40
    assert np.all(w[me == 0] <= w[me == 1].min()) and w[me == 0].max() == w[mt == 0].max()


def test_bad_amounts_and_dims_raise_torch_errors():
    e, t = _pair()
    for amount, err in [(-1, ValueError), (1.5, ValueError), ("a", TypeError), (36, ValueError)]:
        with pytest.raises(err):
            TP.l1_unstructured(t, "weight", amount)
        with pytest.raises(err):
            P.l1_unstructured(e, "weight", amount)
        assert "weight" in e._parameters and not P.is_pruned(e)      # a failed prune leaves the layer as it was
    with pytest.raises(ValueError, match="multidimensional"):
        P.ln_structured(e, "bias", 1, 2, 0)
    with pytest.raises(IndexError):
        P.ln_structured(e, "weight", 1, 2, 3)


def test_is_pruned_looks_inside_children_and_training_still_works():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    assert not P.is_pruned(model)
    P.l1_unstructured(model[0], "weight", 0.5)
    assert P.is_pruned(model)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    x, y = ember.randn(16, 4), ember.randint(0, 2, (16,))
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model(x)
    assert np.all(model[0].weight.detach().numpy()[model[0].weight_mask.numpy() == 0] == 0)
