"""The losses of ember.ops.loss_more and ember.ops.distance against torch: forward, every gradient (inputs and
targets where torch differentiates them), all reductions, float64 and float32, layers and a float64 gradcheck."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
from tests.helpers import assert_close, check_op, gradcheck

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)
SIGNS = np.where(rng.random(6) > 0.5, 1.0, -1.0)


def probs(shape, seed=1):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape)


def _t(lib, a):
    return (torch.tensor if lib is torch else ember.tensor)(a)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, dtype):
    x, y, w = probs((4, 5)).astype(dtype), probs((4, 5), 2).astype(dtype), probs((5,), 3).astype(dtype)
    check_op(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
             lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), arrays=[x, y], dtype=dtype)
    check_op(lambda a, b: F.binary_cross_entropy(a, b, weight=ember.tensor(w), reduction=reduction),
             lambda a, b: TF.binary_cross_entropy(a, b, weight=torch.tensor(w), reduction=reduction),
             arrays=[x, y], dtype=dtype)


def test_binary_cross_entropy_clamps_log_at_minus_100_and_checks_range():
    x, y = np.array([0.0, 1.0, 0.5, 1.0]), np.array([1.0, 0.0, 0.3, 1.0])
    assert_close(F.binary_cross_entropy(ember.tensor(x), ember.tensor(y), reduction="none"),
                 TF.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none"))
    assert float(F.binary_cross_entropy(ember.tensor([0.0]), ember.tensor([1.0]))) == 100.0
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(ember.tensor([0.5, 0.5]), ember.tensor([1.0]))


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
def test_kl_div(reduction, log_target):
    x = np.log(probs((3, 4)))
    t = np.log(probs((3, 4), 2)) if log_target else probs((3, 4), 2)
    with pytest.warns(UserWarning) if reduction == "mean" else _nothing():
        check_op(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                 lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), arrays=[x, t])
    check_op(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target),
             lambda a, b: TF.kl_div(a, b, reduction="batchmean", log_target=log_target),
             arrays=[x.astype("float32"), t.astype("float32")], dtype="float32")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_kl_div_zero_target_contributes_nothing():
    x, t = np.log(probs((2, 3))), np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    assert_close(F.kl_div(ember.tensor(x), ember.tensor(t), reduction="sum"),
                 TF.kl_div(torch.tensor(x), torch.tensor(t), reduction="sum"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    y = SIGNS
    check_op(lambda a, b: F.margin_ranking_loss(a, b, ember.tensor(y), margin=0.3, reduction=reduction),
             lambda a, b: TF.margin_ranking_loss(a, b, torch.tensor(y), margin=0.3, reduction=reduction), [(6,), (6,)])
    check_op(lambda a: F.hinge_embedding_loss(a, ember.tensor(y), margin=0.5, reduction=reduction),
             lambda a: TF.hinge_embedding_loss(a, torch.tensor(y), margin=0.5, reduction=reduction), [(6,)])
    check_op(lambda a: F.soft_margin_loss(a, ember.tensor(y), reduction=reduction),
             lambda a: TF.soft_margin_loss(a, torch.tensor(y), reduction=reduction), arrays=[rng.standard_normal(6) * 5])
    y2 = np.where(rng.random((3, 6)) > 0.5, 1.0, 0.0)
    w = probs((6,))
    check_op(lambda a, b: F.multilabel_soft_margin_loss(a, b, weight=ember.tensor(w), reduction=reduction),
             lambda a, b: TF.multilabel_soft_margin_loss(a, b, weight=torch.tensor(w), reduction=reduction),
             arrays=[rng.standard_normal((3, 6)), y2])
    yc = SIGNS[:3]
    check_op(lambda a, b: F.cosine_embedding_loss(a, b, ember.tensor(yc), margin=0.2, reduction=reduction),
             lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(yc), margin=0.2, reduction=reduction),
             [(3, 5), (3, 5)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    target = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]])
    check_op(lambda a: F.multilabel_margin_loss(a, ember.tensor(target), reduction=reduction),
             lambda a: TF.multilabel_margin_loss(a, torch.tensor(target), reduction=reduction), [(3, 4)])
    check_op(lambda a: F.multilabel_margin_loss(a, ember.tensor(target[0]), reduction=reduction),
             lambda a: TF.multilabel_margin_loss(a, torch.tensor(target[0]), reduction=reduction), [(4,)])


@pytest.mark.parametrize("kwargs", [dict(), dict(p=1.0, margin=0.5), dict(swap=True), dict(p=3.0, eps=1e-3)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(kwargs, reduction):
    check_op(lambda a, p, n: F.triplet_margin_loss(a, p, n, reduction=reduction, **kwargs),
             lambda a, p, n: TF.triplet_margin_loss(a, p, n, reduction=reduction, **kwargs), [(5, 4)] * 3)


@pytest.mark.parametrize("kwargs", [dict(), dict(full=True), dict(log_input=False), dict(log_input=False, full=True)],
                         ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(kwargs, reduction):
    x = probs((4, 3)) * 3
    y = np.random.default_rng(5).poisson(2.0, (4, 3)).astype("float64")
    check_op(lambda a, b: F.poisson_nll_loss(a, b, reduction=reduction, **kwargs),
             lambda a, b: TF.poisson_nll_loss(a, b, reduction=reduction, **kwargs), arrays=[x, y + 2])
    # torch's target gradient of the Stirling term is nan where y <= 1 (Ember's is 0): compare the input's only
    check_op(lambda a: F.poisson_nll_loss(a, ember.tensor(y), reduction=reduction, **kwargs),
             lambda a: TF.poisson_nll_loss(a, torch.tensor(y), reduction=reduction, **kwargs), arrays=[x])


@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1)])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss(var_shape, full, reduction):
    var = probs(var_shape)
    var.flat[0] = 1e-8  # clamped to eps, but still differentiated as the identity (torch's behaviour)
    check_op(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=full, reduction=reduction),
             lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full=full, reduction=reduction),
             arrays=[rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), var], rtol=1e-8)
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(ember.zeros(2), ember.zeros(2), -ember.ones(2))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_distances(dtype):
    check_op(lambda a: F.normalize(a), lambda a: TF.normalize(a), [(3, 4)], dtype=dtype)
    check_op(lambda a: F.normalize(a, p=1.0, dim=0), lambda a: TF.normalize(a, p=1.0, dim=0), [(3, 4)], dtype=dtype)
    check_op(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), [(3, 4), (3, 4)],
             dtype=dtype)
    check_op(lambda a, b: F.cosine_similarity(a, b, dim=-1), lambda a, b: TF.cosine_similarity(a, b, dim=-1),
             [(2, 3, 4), (4,)], dtype=dtype)
    for p in (2.0, 1.0, 3.0):
        check_op(lambda a, b: F.pairwise_distance(a, b, p=p), lambda a, b: TF.pairwise_distance(a, b, p=p),
                 [(3, 4), (3, 4)], dtype=dtype)
        check_op(lambda a: F.pdist(a, p=p), lambda a: torch.pdist(a, p=p), [(5, 3)], dtype=dtype)
    check_op(lambda a, b: F.pairwise_distance(a, b, keepdim=True),
             lambda a, b: TF.pairwise_distance(a, b, keepdim=True), [(3, 4), (3, 4)], dtype=dtype)


def test_normalize_zero_vector_is_zero():
    assert_close(F.normalize(ember.zeros(2, 3)), TF.normalize(torch.zeros(2, 3, dtype=torch.float64)))


LAYERS = [
    (lambda m: m.BCELoss(weight=_t(m is torch.nn and torch or ember, probs((5,)))), "probs2"),
    (lambda m: m.KLDivLoss(reduction="batchmean"), "logp_p"),
    (lambda m: m.KLDivLoss(reduction="sum", log_target=True), "logp_logp"),
    (lambda m: m.SoftMarginLoss(), "x_sign"),
    (lambda m: m.MultiLabelSoftMarginLoss(), "x_01"),
    (lambda m: m.PoissonNLLLoss(full=True), "x_counts"),
    (lambda m: m.HingeEmbeddingLoss(margin=2.0, reduction="sum"), "x_sign_nograd"),
]


def _layer_inputs(kind):
    x, p = rng.standard_normal((4, 5)), probs((4, 5), 7)
    sign = np.where(rng.random((4, 5)) > 0.5, 1.0, -1.0)
    return {"probs2": [probs((4, 5)), p], "logp_p": [np.log(p), probs((4, 5), 8)],
            "logp_logp": [np.log(p), np.log(probs((4, 5), 8))], "x_sign": [x, sign],
            "x_01": [x, (sign > 0).astype("float64")], "x_counts": [x, rng.poisson(2.0, (4, 5)).astype("float64")],
            "x_sign_nograd": [np.abs(x), sign]}[kind]


@pytest.mark.parametrize("build,kind", LAYERS, ids=[k for _, k in LAYERS])
def test_loss_layers_match_torch(build, kind):
    arrays = _layer_inputs(kind)
    e_layer, t_layer = build(enn), build(torch.nn)
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=i == 0 or kind in ("probs2", "logp_p", "logp_logp", "x_01"))
            for i, a in enumerate(arrays)]
    e_out, t_out = e_layer(*e_in), t_layer(*t_in)
    assert_close(e_out, t_out)
    e_out.backward()
    t_out.backward()
    for ei, ti in zip(e_in, t_in):
        if ti.grad is not None:
            assert_close(ei.grad, ti.grad)
    assert sorted(dict(e_layer.named_buffers())) == sorted(dict(t_layer.named_buffers()))


def test_three_input_layers_and_distances():
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    y = SIGNS[:4]
    pairs = [
        (enn.TripletMarginLoss(margin=0.7, swap=True), torch.nn.TripletMarginLoss(margin=0.7, swap=True), [a, p, n]),
        (enn.CosineEmbeddingLoss(0.1), torch.nn.CosineEmbeddingLoss(0.1), [a, p, y]),
        (enn.MarginRankingLoss(0.2), torch.nn.MarginRankingLoss(0.2), [a[:, 0], p[:, 0], y]),
        (enn.GaussianNLLLoss(full=True), torch.nn.GaussianNLLLoss(full=True), [a, p, np.abs(n)]),
        (enn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0), [a, p]),
        (enn.PairwiseDistance(p=1.0, keepdim=True), torch.nn.PairwiseDistance(p=1.0, keepdim=True), [a, p]),
    ]
    for e_layer, t_layer, arrays in pairs:
        e_out, t_out = e_layer(*map(ember.tensor, arrays)), t_layer(*map(torch.tensor, arrays))
        assert_close(e_out, t_out, what=type(e_layer).__name__)


def test_legacy_size_average_and_reduce():
    x, y = probs((3,)), probs((3,), 2)
    with pytest.warns(UserWarning):
        e = enn.BCELoss(size_average=False)(ember.tensor(x), ember.tensor(y))
    assert_close(e, torch.nn.BCELoss(reduction="sum")(torch.tensor(x), torch.tensor(y)))


def test_gradcheck_float64():
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), (3, 4), (3, 4), low=0.1, high=0.9)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), (3, 4), (3, 4), low=0.1, high=0.9)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), (3, 4), (3, 4))
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (3, 4), (3, 4))
    assert gradcheck(lambda a: F.normalize(a, p=3.0), (3, 4))
    assert gradcheck(lambda a, b, n: F.triplet_margin_loss(a, b, n), (4, 3), (4, 3), (4, 3))
    assert gradcheck(lambda a, b: F.gaussian_nll_loss(a, a, b), (4, 3), (4, 3), low=0.5, high=2.0)


def test_every_function_is_gradchecked_above():
    from ember.ops import distance, loss_more
    from tests.helpers import function_classes
    assert function_classes(loss_more) == {"BinaryCrossEntropy", "KLDiv"}  # both in test_gradcheck_float64
    assert function_classes(distance) == set()  # compositions of differentiable ops
