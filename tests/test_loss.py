"""Every loss against torch, functional and as a module: cross-entropy (class indices and probabilities,
(N, C), (N, C, d1, d2) and unbatched (C,) logits, weight, ignore_index, label_smoothing), NLL, multi-margin,
MSE, L1, smooth L1, Huber and BCE-with-logits, over every reduction and both float dtypes; numerical
stability for logits of magnitude 1000; gradcheck of every Function in loss.py."""


import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as F
import torch.nn as tnn
from ember.ops import loss as loss_ops
from helpers import assert_close, check_op, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]
REDUCTIONS = ["mean", "sum", "none"]

# logits shape -> the class-index target shape
CE_SHAPES = {"(N,C)": (5, 4), "(N,C,d1)": (3, 4, 5), "(N,C,d1,d2)": (2, 4, 3, 2), "unbatched (C,)": (4,)}


def _target_shape(shape):
    return () if len(shape) == 1 else (shape[0],) + shape[2:]


def _class_targets(shape, seed=0, ignore=None, n_ignored=2):
    """Random class indices in [0, C); with ``ignore`` some of them are set to that value."""
    rng = np.random.default_rng(seed)
    c = shape[0] if len(shape) == 1 else shape[1]
    t = rng.integers(0, c, size=_target_shape(shape)).astype(np.int64)
    if ignore is not None and t.ndim:
        flat = t.reshape(-1)
        flat[rng.choice(flat.size, size=min(n_ignored, flat.size - 1), replace=False)] = ignore
    return t


def _weights(c, dtype, seed=1):
    return np.random.default_rng(seed).uniform(0.2, 2.0, size=c).astype(dtype)


def _twin(value):
    """(Ember version, torch version) of an optional array argument."""
    if value is None:
        return None, None
    return ember.tensor(value), torch.tensor(value)


# ---- cross-entropy with class indices --------------------------------------------------------------------

CE_OPTIONS = {
    "plain": {},
    "weight": dict(weight=True),
    "ignore_index -100 unused": dict(ignore_index=-100),
    "ignore_index 1 (a real class)": dict(ignore_index=1, ignore_in_target=True),
    "ignore_index -1": dict(ignore_index=-1, ignore_in_target=True),
    "weight + ignore_index": dict(weight=True, ignore_index=-1, ignore_in_target=True),
    "label_smoothing 0.1": dict(label_smoothing=0.1),
    "label_smoothing 0.3 + weight": dict(label_smoothing=0.3, weight=True),
    "label_smoothing + ignore_index": dict(label_smoothing=0.2, ignore_index=-1, ignore_in_target=True),
    "everything": dict(label_smoothing=0.25, weight=True, ignore_index=2, ignore_in_target=True),
    "label_smoothing 1.0": dict(label_smoothing=1.0),
}


def _ce_args(shape, option, dtype):
    opts = dict(CE_OPTIONS[option])
    c = shape[0] if len(shape) == 1 else shape[1]
    ignore_in_target = opts.pop("ignore_in_target", False)
    weight = _weights(c, dtype) if opts.pop("weight", False) else None
    ignore = opts.get("ignore_index") if ignore_in_target and len(shape) > 1 else None
    target = _class_targets(shape, ignore=ignore)
    return target, weight, opts


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("option", list(CE_OPTIONS))
def test_cross_entropy_class_indices(option, shape, reduction, dtype):
    shape = CE_SHAPES[shape]
    target, weight, opts = _ce_args(shape, option, dtype)
    e_w, t_w = _twin(weight)
    logits = random_array(shape, dtype, np.random.default_rng(3)) * 2
    (out,) = check_op(
        lambda z, y: F.cross_entropy(z, y, weight=e_w, reduction=reduction, **opts),
        lambda z, y: TF.cross_entropy(z, y, weight=t_w, reduction=reduction, **opts),
        arrays=[logits, target], dtype=dtype,
    )
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("option", ["plain", "weight + ignore_index", "everything"])
def test_cross_entropy_module(option, dtype):
    shape = (6, 4)
    target, weight, opts = _ce_args(shape, option, dtype)
    for reduction in REDUCTIONS:
        e_loss = enn.CrossEntropyLoss(weight=None if weight is None else ember.tensor(weight), reduction=reduction, **opts)
        t_loss = tnn.CrossEntropyLoss(weight=None if weight is None else torch.tensor(weight), reduction=reduction,
                                      **opts)
        check_op(e_loss, t_loss, arrays=[random_array(shape, dtype), target], dtype=dtype)


def test_cross_entropy_every_target_ignored_is_nan_like_torch():
    z = random_array((3, 4))
    y = np.full(3, -100, dtype=np.int64)
    with np.errstate(all="raise"):  # no floating-point warning on the way to the nan
        e = F.cross_entropy(ember.tensor(z), ember.tensor(y))
    t = TF.cross_entropy(torch.tensor(z), torch.tensor(y))
    assert np.isnan(e.numpy()) and torch.isnan(t)
    check_op(lambda a, b: F.cross_entropy(a, b, reduction="sum"), lambda a, b: TF.cross_entropy(a, b, reduction="sum"),
             arrays=[z, y])


def test_cross_entropy_accepts_int32_targets():
    z, y = random_array((4, 3)), np.array([0, 2, 1, 2], dtype=np.int32)
    check_op(lambda a: F.cross_entropy(a, ember.tensor(y)), lambda a: TF.cross_entropy(a, torch.tensor(y).long()),
             arrays=[z])


# ---- cross-entropy with probability targets ----------------------------------------------------------------

SOFT_OPTIONS = {
    "plain": {},
    "weight": dict(weight=True),
    "label_smoothing": dict(label_smoothing=0.2),
    "weight + label_smoothing": dict(weight=True, label_smoothing=0.1),
}


def _probabilities(shape, dtype, seed=4):
    z = random_array(shape, "float64", np.random.default_rng(seed))
    axis = 0 if len(shape) == 1 else 1
    p = np.exp(z - z.max(axis=axis, keepdims=True))
    return (p / p.sum(axis=axis, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("option", list(SOFT_OPTIONS))
def test_cross_entropy_probability_targets(option, shape, reduction, dtype):
    shape = CE_SHAPES[shape]
    opts = dict(SOFT_OPTIONS[option])
    c = shape[0] if len(shape) == 1 else shape[1]
    e_w, t_w = _twin(_weights(c, dtype) if opts.pop("weight", False) else None)
    logits = random_array(shape, dtype, np.random.default_rng(3)) * 2
    # The target is a float tensor that requires grad: torch differentiates the loss with respect to it too.
    check_op(
        lambda z, q: F.cross_entropy(z, q, weight=e_w, reduction=reduction, **opts),
        lambda z, q: TF.cross_entropy(z, q, weight=t_w, reduction=reduction, **opts),
        arrays=[logits, _probabilities(shape, dtype)], dtype=dtype,
    )


def test_cross_entropy_probability_targets_that_are_not_normalised():
    # Any non-negative target works in torch (the loss is linear in it); so it must in Ember.
    rng = np.random.default_rng(9)
    q = rng.uniform(0, 3, size=(4, 5))
    check_op(lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1), lambda z, t: TF.cross_entropy(z, t, label_smoothing=0.1),
             arrays=[random_array((4, 5)), q])


def test_cross_entropy_one_hot_probabilities_equal_class_indices():
    z = random_array((6, 5))
    y = _class_targets((6, 5))
    one_hot = np.eye(5)[y]
    a = F.cross_entropy(ember.tensor(z), ember.tensor(y), label_smoothing=0.1).numpy()
    b = F.cross_entropy(ember.tensor(z), ember.tensor(one_hot), label_smoothing=0.1).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12)


# ---- NLL -----------------------------------------------------------------------------------------------------

NLL_OPTIONS = {
    "plain": {},
    "weight": dict(weight=True),
    "ignore_index 0": dict(ignore_index=0, ignore_in_target=True),
    "weight + ignore_index -1": dict(weight=True, ignore_index=-1, ignore_in_target=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("option", list(NLL_OPTIONS))
def test_nll_loss(option, shape, reduction, dtype):
    shape = CE_SHAPES[shape]
    opts = dict(NLL_OPTIONS[option])
    c = shape[0] if len(shape) == 1 else shape[1]
    ignore = opts.pop("ignore_in_target", False)
    e_w, t_w = _twin(_weights(c, dtype) if opts.pop("weight", False) else None)
    target = _class_targets(shape, ignore=opts["ignore_index"] if ignore and len(shape) > 1 else None)
    log_probs = np.log(_probabilities(shape, "float64")).astype(dtype)
    (out,) = check_op(
        lambda x, y: F.nll_loss(x, y, weight=e_w, reduction=reduction, **opts),
        lambda x, y: TF.nll_loss(x, y, weight=t_w, reduction=reduction, **opts),
        arrays=[log_probs, target], dtype=dtype,
    )
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_loss_module_after_log_softmax(dtype):
    target = _class_targets((5, 3))
    w = _weights(3, dtype)
    for reduction in REDUCTIONS:
        e_loss = enn.NLLLoss(weight=ember.tensor(w), reduction=reduction)
        t_loss = tnn.NLLLoss(weight=torch.tensor(w), reduction=reduction)
        check_op(lambda z, y: e_loss(enn.LogSoftmax(dim=1)(z), y), lambda z, y: t_loss(tnn.LogSoftmax(dim=1)(z), y),
                 arrays=[random_array((5, 3), dtype), target], dtype=dtype)


# ---- multi-margin (SVM) -------------------------------------------------------------------------------------

MARGIN_OPTIONS = {
    "p=1": dict(p=1),
    "p=2": dict(p=2),
    "p=1 margin 0.5": dict(p=1, margin=0.5),
    "p=2 margin 2": dict(p=2, margin=2.0),
    "p=1 weight": dict(p=1, weight=True),
    "p=2 weight margin 0.7": dict(p=2, weight=True, margin=0.7),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (4,)], ids=str)
@pytest.mark.parametrize("option", list(MARGIN_OPTIONS))
def test_multi_margin_loss(option, shape, reduction, dtype):
    opts = dict(MARGIN_OPTIONS[option])
    c = shape[-1]
    e_w, t_w = _twin(_weights(c, dtype) if opts.pop("weight", False) else None)
    check_op(
        lambda x, y: F.multi_margin_loss(x, y, weight=e_w, reduction=reduction, **opts),
        lambda x, y: TF.multi_margin_loss(x, y, weight=t_w, reduction=reduction, **opts),
        arrays=[random_array(shape, dtype, np.random.default_rng(5)), _class_targets(shape)], dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_margin_module(dtype):
    w = _weights(5, dtype)
    for kwargs in (dict(p=1), dict(p=2, margin=0.5, weight=True)):
        kw_e = dict(kwargs, weight=ember.tensor(w)) if kwargs.get("weight") else kwargs
        kw_t = dict(kwargs, weight=torch.tensor(w)) if kwargs.get("weight") else kwargs
        check_op(enn.MultiMarginLoss(**kw_e), tnn.MultiMarginLoss(**kw_t),
                 arrays=[random_array((7, 5), dtype), _class_targets((7, 5))], dtype=dtype)


# ---- regression losses --------------------------------------------------------------------------------------

REGRESSION = {
    "mse": (F.mse_loss, TF.mse_loss, {}),
    "l1": (F.l1_loss, TF.l1_loss, {}),
    "smooth_l1 beta 1": (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=1.0)),
    "smooth_l1 beta 0.5": (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=0.5)),
    "smooth_l1 beta 2": (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=2.0)),
    "smooth_l1 beta 0": (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=0.0)),
    "huber delta 1": (F.huber_loss, TF.huber_loss, dict(delta=1.0)),
    "huber delta 0.3": (F.huber_loss, TF.huber_loss, dict(delta=0.3)),
    "huber delta 2.5": (F.huber_loss, TF.huber_loss, dict(delta=2.5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2), ()], ids=str)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_losses(name, shape, reduction, dtype):
    e_fn, t_fn, kw = REGRESSION[name]
    # Both arguments require grad: the target's gradient is compared with torch's as well.
    (out,) = check_op(lambda x, y: e_fn(x, y, reduction=reduction, **kw),
                      lambda x, y: t_fn(x, y, reduction=reduction, **kw),
                      shapes=[shape, shape], dtype=dtype, seed=len(shape))
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_losses_noncontiguous(name):
    e_fn, t_fn, kw = REGRESSION[name]
    check_op(lambda x, y: e_fn(x, y, **kw), lambda x, y: t_fn(x, y, **kw), shapes=[(4, 3), (4, 3)], noncontiguous=True)


REGRESSION_MODULES = {
    "MSELoss": {}, "L1Loss": {}, "SmoothL1Loss": dict(beta=0.5), "HuberLoss": dict(delta=0.7),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(REGRESSION_MODULES))
def test_regression_modules(name, dtype):
    for reduction in REDUCTIONS:
        kw = dict(REGRESSION_MODULES[name], reduction=reduction)
        check_op(getattr(enn, name)(**kw), getattr(tnn, name)(**kw), shapes=[(3, 4), (3, 4)], dtype=dtype)


def test_smooth_l1_and_huber_at_the_boundary():
    # |x - y| exactly at beta / delta, and exactly 0.
    x = np.array([0.0, 1.0, -1.0, 0.5, -0.5, 2.0])
    y = np.zeros_like(x)
    for beta in (1.0, 0.5, 0.0):
        check_op(lambda a, b: F.smooth_l1_loss(a, b, beta=beta, reduction="none"),
                 lambda a, b: TF.smooth_l1_loss(a, b, beta=beta, reduction="none"), arrays=[x, y])
    for delta in (1.0, 0.5):
        check_op(lambda a, b: F.huber_loss(a, b, delta=delta, reduction="none"),
                 lambda a, b: TF.huber_loss(a, b, delta=delta, reduction="none"), arrays=[x, y])
    check_op(lambda a, b: F.l1_loss(a, b, reduction="none"), lambda a, b: TF.l1_loss(a, b, reduction="none"),
             arrays=[x, y])


# ---- BCE with logits ------------------------------------------------------------------------------------------

BCE_OPTIONS = {
    "plain": {},
    "weight (C,)": dict(weight=(3,)),
    "weight full": dict(weight="full"),
    "pos_weight": dict(pos_weight=(3,)),
    "weight + pos_weight": dict(weight=(3,), pos_weight=(3,)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)], ids=str)
@pytest.mark.parametrize("option", list(BCE_OPTIONS))
def test_bce_with_logits(option, shape, reduction, dtype):
    rng = np.random.default_rng(6)
    opts = BCE_OPTIONS[option]
    weight = opts.get("weight")
    weight = None if weight is None else rng.uniform(0.2, 2, size=shape if weight == "full" else weight).astype(dtype)
    pos_weight = opts.get("pos_weight")
    pos_weight = None if pos_weight is None else rng.uniform(0.5, 3, size=pos_weight).astype(dtype)
    (e_w, t_w), (e_pw, t_pw) = _twin(weight), _twin(pos_weight)
    logits = random_array(shape, dtype, rng) * 3
    target = rng.uniform(0, 1, size=shape).astype(dtype)  # soft targets; their gradient is compared too
    (out,) = check_op(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, weight=e_w, reduction=reduction, pos_weight=e_pw),
        lambda x, y: TF.binary_cross_entropy_with_logits(x, y, weight=t_w, reduction=reduction, pos_weight=t_pw),
        arrays=[logits, target], dtype=dtype,
    )
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_module_and_hard_targets(dtype):
    rng = np.random.default_rng(8)
    w, pw = rng.uniform(0.5, 2, size=4).astype(dtype), rng.uniform(0.5, 2, size=4).astype(dtype)
    target = rng.integers(0, 2, size=(5, 4)).astype(dtype)
    for reduction in REDUCTIONS:
        e_loss = enn.BCEWithLogitsLoss(weight=ember.tensor(w), reduction=reduction, pos_weight=ember.tensor(pw))
        t_loss = tnn.BCEWithLogitsLoss(weight=torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(pw))
        check_op(e_loss, t_loss, arrays=[random_array((5, 4), dtype, rng), target], dtype=dtype)


# ---- numerical stability ------------------------------------------------------------------------------------


def _huge_logits(shape, dtype):
    rng = np.random.default_rng(10)
    return (rng.choice([-1000.0, 1000.0, 0.0, 999.0], size=shape) + rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_huge_logits_is_finite(dtype):
    z = _huge_logits((6, 4), dtype)
    y = _class_targets((6, 4), seed=3)
    z_sp = _huge_logits((2, 4, 3, 2), dtype)
    y_sp = _class_targets((2, 4, 3, 2))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for kw in ({}, dict(label_smoothing=0.1), dict(weight="w", reduction="sum")):
            e_kw, t_kw = dict(kw), dict(kw)
            if "weight" in kw:
                e_kw["weight"], t_kw["weight"] = _twin(_weights(4, dtype))
            for logits, target in ((z, y), (z_sp, y_sp)):
                (out,) = check_op(lambda a, b: F.cross_entropy(a, b, **e_kw), lambda a, b: TF.cross_entropy(a, b, **t_kw),
                                  arrays=[logits, target], dtype=dtype)
                assert np.isfinite(out.detach().numpy()).all()
        q = _probabilities((6, 4), dtype)
        (out,) = check_op(F.cross_entropy, TF.cross_entropy, arrays=[z, q], dtype=dtype)
        assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_with_huge_logits_is_finite(dtype):
    x = _huge_logits((5, 4), dtype)
    y = np.random.default_rng(11).uniform(0, 1, size=(5, 4)).astype(dtype)
    pw = np.array([0.5, 1.0, 2.0, 3.0], dtype=dtype)
    e_pw, t_pw = _twin(pw)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for reduction in REDUCTIONS:
            (out,) = check_op(
                lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=e_pw),
                lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=t_pw),
                arrays=[x, y], dtype=dtype,
            )
            assert np.isfinite(out.detach().numpy()).all()


def test_huge_logits_give_finite_gradients():
    z = ember.tensor(_huge_logits((4, 3), "float32"), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        F.cross_entropy(z, ember.tensor(np.array([0, 1, 2, 0]))).backward()
        F.binary_cross_entropy_with_logits(z, ember.ones(4, 3)).backward()
    assert np.isfinite(z.grad.numpy()).all()


# ---- the loss modules: reprs, buffers, defaults -------------------------------------------------------------


def test_loss_module_reprs_match_torch():
    w = np.ones(3, dtype=np.float32)
    pairs = [
        (enn.CrossEntropyLoss(), tnn.CrossEntropyLoss()),
        (enn.CrossEntropyLoss(weight=ember.tensor(w), label_smoothing=0.1), tnn.CrossEntropyLoss(weight=torch.tensor(w),
                                                                                                  label_smoothing=0.1)),
        (enn.NLLLoss(), tnn.NLLLoss()),
        (enn.MultiMarginLoss(), tnn.MultiMarginLoss()),
        (enn.MSELoss(), tnn.MSELoss()),
        (enn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum")),
        (enn.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5)),
        (enn.HuberLoss(), tnn.HuberLoss()),
        (enn.BCEWithLogitsLoss(), tnn.BCEWithLogitsLoss()),
    ]
    for e, t in pairs:
        assert str(e) == str(t)


def test_invalid_reduction():
    with pytest.raises(ValueError, match="reduction"):
        enn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1]), reduction="avg")


def test_loss_values_match_torch_after_module_to_double():
    # A weight buffer follows .to(): a float32 weight becomes float64 with the module.
    w = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    e_loss = enn.CrossEntropyLoss(weight=ember.tensor(w)).double()
    t_loss = tnn.CrossEntropyLoss(weight=torch.tensor(w)).double()
    assert e_loss.weight.dtype == np.float64
    z, y = random_array((4, 3)), _class_targets((4, 3))
    assert_close(e_loss(ember.tensor(z), ember.tensor(y)), t_loss(torch.tensor(z), torch.tensor(y)))


# ---- gradcheck of every Function in loss.py -----------------------------------------------------------------

_Y = np.array([0, 2, 1, 2])
_Y_SPATIAL = np.array([[[0, 1], [2, 2]], [[1, 0], [-1, 2]]])
_W = np.array([0.5, 1.5, 1.0])


def _probs():
    return np.random.default_rng(12).dirichlet(np.ones(3), size=4)


GRADCHECK = {
    "CrossEntropy": [
        (lambda z: F.cross_entropy(z, ember.tensor(_Y)), [(4, 3)]),
        (lambda z: F.cross_entropy(z, ember.tensor(_Y), weight=ember.tensor(_W), label_smoothing=0.2), [(4, 3)]),
        (lambda z: F.cross_entropy(z, ember.tensor(_Y_SPATIAL), ignore_index=-1, reduction="none"), [(2, 3, 2, 2)]),
    ],
    "SoftCrossEntropy": [
        (lambda z: F.cross_entropy(z, ember.tensor(_probs())), [(4, 3)]),
        (lambda z, q: F.cross_entropy(z, q, weight=ember.tensor(_W), label_smoothing=0.1, reduction="sum"),
         [(4, 3), (4, 3)]),
    ],
    "NLL": [
        (lambda x: F.nll_loss(x, ember.tensor(_Y), weight=ember.tensor(_W)), [(4, 3)]),
        (lambda x: F.nll_loss(x, ember.tensor(_Y_SPATIAL), ignore_index=-1, reduction="none"), [(2, 3, 2, 2)]),
    ],
    "MultiMargin": [
        (lambda x: F.multi_margin_loss(x, ember.tensor(_Y)), [(4, 3)]),
        (lambda x: F.multi_margin_loss(x, ember.tensor(_Y), p=2, margin=1.5, weight=ember.tensor(_W), reduction="none"),
         [(4, 3)]),
    ],
    "SmoothL1": [
        (lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), [(3, 4), (3, 4)]),
        (lambda x, y: F.huber_loss(x, y, delta=0.7, reduction="sum"), [(3, 4), (3, 4)]),
    ],
    "BCEWithLogits": [
        (lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=ember.tensor(_W)), [(4, 3), (4, 3)]),
        (lambda x, y: F.binary_cross_entropy_with_logits(x, y, weight=ember.tensor(_W), reduction="none"),
         [(4, 3), (4, 3)]),
    ],
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    for fn, shapes in GRADCHECK[name]:
        assert gradcheck(fn, *shapes)


def test_every_loss_function_is_gradchecked():
    assert function_classes(loss_ops) == set(GRADCHECK)
