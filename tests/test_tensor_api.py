"""torch.Tensor's everyday API on ember.Tensor, against torch: Size, typed constructors, grad modes, keyword
aliases (dim/axis/keepdim/dtype), comparisons and logic, in-place updates (outside and inside graphs),
random fills, new_* factories, add/sub with alpha and div with rounding_mode."""

import numpy as np
import pytest
import torch

import ember
from ember import tensor_methods
from helpers import assert_close, check_op

X = np.array([[1.5, -2.0, 0.0, 3.25], [-0.5, 2.0, 7.0, -3.0], [0.25, 0.0, -1.0, 2.0]])


def both(data=X, dtype=None):
    return ember.tensor(data, dtype=dtype), torch.tensor(data, dtype=getattr(torch, str(dtype)) if dtype else None)


def same(e, t):
    """Same dtype, shape and values (exactly: these ops do no arithmetic that could round differently)."""
    assert str(e.dtype) == str(t.dtype).replace("torch.", ""), f"dtype {e.dtype} vs torch {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


# ---- Size and the legacy constructors ------------------------------------------------------------------------


def test_shape_and_size_are_size():
    x = ember.zeros(2, 3, 4)
    assert isinstance(x.shape, ember.Size) and isinstance(x.size(), ember.Size) and isinstance(x.shape, tuple)
    assert repr(x.shape) == "ember.Size([2, 3, 4])" and str(x.size()) == "ember.Size([2, 3, 4])"
    assert x.shape == (2, 3, 4) and x.shape.numel() == 24 and ember.Size([]).numel() == 1
    assert isinstance(x.shape[1:], ember.Size) and x.shape[1:] == (3, 4)
    assert isinstance(x.shape + (5,), ember.Size) and isinstance((1,) + x.shape, ember.Size)
    assert x.size(-1) == 4 and x.size(0) == 2
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)
    assert ember.zeros(x.shape).shape == (2, 3, 4)  # a Size is a valid size argument


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"])
def test_typed_constructors(name):
    e, t = getattr(ember, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
    same(e, t)
    e, t = getattr(ember, name)(2, 3), getattr(torch, name)(2, 3)
    assert e.shape == tuple(t.shape) and str(e.dtype) == str(t.dtype).replace("torch.", "")
    assert getattr(ember, name)(ember.Size([4])).shape == (4,)
    assert isinstance(e, getattr(ember, name)) and isinstance(e, ember.Tensor)


def test_typed_isinstance_checks_dtype():
    assert isinstance(ember.zeros(2), ember.FloatTensor) and not isinstance(ember.zeros(2), ember.LongTensor)
    assert not isinstance(np.zeros(2), ember.FloatTensor)


def test_cheap_module_functions():
    x = ember.zeros(2, 3)
    assert ember.is_tensor(x) and not ember.is_tensor(np.zeros(2)) and ember.numel(x) == 6
    assert ember.is_floating_point(x) and not ember.arange(2).is_floating_point()
    assert x.nelement() == 6 and x.element_size() == 4


# ---- grad modes ---------------------------------------------------------------------------------------------------


def test_inference_mode_context_and_decorators():
    w = ember.ones(2, requires_grad=True)
    with ember.inference_mode():
        assert not (w * 2).requires_grad and ember.is_inference_mode_enabled()
    assert (w * 2).requires_grad and not ember.is_inference_mode_enabled()
    with ember.inference_mode(False):
        assert (w * 2).requires_grad

    @ember.inference_mode()
    def called(t):
        return t * 2

    @ember.inference_mode
    def bare(t):
        return t * 2

    assert not called(w).requires_grad and not bare(w).requires_grad and bare.__name__ == "bare"
    assert (w * 2).requires_grad


def test_no_grad_set_grad_enabled_enable_grad():
    w = ember.ones(2, requires_grad=True)

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad
    with ember.no_grad():
        with ember.enable_grad():
            assert (w * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)

    @ember.set_grad_enabled(False)
    def g(t):
        return t * 2

    assert ember.is_grad_enabled() and not g(w).requires_grad


# ---- keyword names: dim / axis / keepdim / dtype -----------------------------------------------------------------

KEYWORDS = {
    "sum axis": lambda m, x: m.sum(x, axis=0),
    "sum dim keepdim": lambda m, x: m.sum(x, dim=1, keepdim=True),
    "sum dtype": lambda m, x: x.sum(dtype=m.float32),
    "method sum axis keepdim": lambda m, x: x.sum(axis=1, keepdim=True),
    "mean axis": lambda m, x: x.mean(axis=-1),
    "mean tuple dim": lambda m, x: m.mean(x, dim=(0, 1)),
    "max dim values": lambda m, x: m.max(x, dim=1).values,
    "max axis indices": lambda m, x: m.max(x, axis=1).indices,
    "min keepdim": lambda m, x: x.min(dim=0, keepdim=True).values,
    "amax axis": lambda m, x: m.amax(x, axis=0),
    "argmax axis": lambda m, x: x.argmax(axis=1),
    "argmin dim keepdim": lambda m, x: m.argmin(x, dim=0, keepdim=True),
    "std axis": lambda m, x: x.std(axis=0),
    "cat dim": lambda m, x: m.cat([x, x], dim=1),
    "cat axis": lambda m, x: m.cat((x, x), axis=0),
    "stack dim": lambda m, x: m.stack([x, x], dim=2),
    "prod dim": lambda m, x: m.prod(x, dim=1),
    "cumsum axis": lambda m, x: x.cumsum(axis=0),
    "sum axis keepdims": lambda m, x: x.sum(axis=1, keepdims=True),
    "function sum keepdims": lambda m, x: m.sum(x, axis=1, keepdims=True),
    "mean keepdims": lambda m, x: x.mean(1, keepdims=True),
    "max keepdims": lambda m, x: x.max(axis=1, keepdims=True).values,
    "argmax keepdims": lambda m, x: x.argmax(axis=1, keepdims=True),
    "std keepdims": lambda m, x: x.std(axis=1, keepdims=True),
    "prod keepdims": lambda m, x: x.prod(axis=1, keepdims=True),
    "any axis": lambda m, x: (x > 0).any(axis=1),
    "logsumexp axis": lambda m, x: m.logsumexp(x, axis=1),
    "sort axis": lambda m, x: x.sort(axis=0).values,
    "topk axis": lambda m, x: x.topk(1, axis=0).indices,
    "squeeze axis": lambda m, x: x[None].squeeze(axis=0),
    "unsqueeze axis": lambda m, x: x.unsqueeze(axis=1),
    "gather axis": lambda m, x: x.gather(axis=1, index=m.zeros(3, 1, dtype=m.int64)),
    "stack axis": lambda m, x: m.stack([x, x], axis=0),
    "concat": lambda m, x: m.concat([x, x]),
}


@pytest.mark.parametrize("name", list(KEYWORDS))
def test_keyword_names_match_torch(name):
    e, t = both()
    got, expected = KEYWORDS[name](ember, e), KEYWORDS[name](torch, t)
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    assert_close(got, expected)


def test_max_dim_result_unpacks():
    values, indices = ember.tensor(X).max(1)
    result = ember.tensor(X).max(dim=1)
    assert result.values.tolist() == values.tolist() and result.indices.tolist() == indices.tolist()


def test_mean_of_integers_raises_torch_error_and_dtype_fixes_it():
    with pytest.raises(RuntimeError, match="could not infer output dtype"):
        ember.arange(4).mean()
    assert ember.arange(4).mean(dtype=ember.float64).item() == 1.5


# ---- comparisons and logic ---------------------------------------------------------------------------------------

Y = np.array([[1.5, 2.0, 0.0, 3.0], [0.5, 2.0, 7.5, -3.0], [0.25, 1.0, -1.0, 2.0]])
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("name", COMPARE)
def test_binary_comparisons(name):
    (ex, tx), (ey, ty) = both(), both(Y)
    same(getattr(ember, name)(ex, ey), getattr(torch, name)(tx, ty))
    same(getattr(ex, name)(ey), getattr(tx, name)(ty))
    if not name.startswith("logical"):
        same(getattr(ember, name)(ex, 2.0), getattr(torch, name)(tx, 2.0))


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not", "isposinf", "isneginf"])
def test_value_tests(name):
    data = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    e, t = both(data)
    same(getattr(ember, name)(e), getattr(torch, name)(t))
    same(getattr(e, name)(), getattr(t, name)())


def test_equal_allclose_isclose():
    (ex, tx), (ey, ty) = both(), both(X * (1 + 1e-7))
    assert ember.equal(ex, ex.clone()) and not ember.equal(ex, ey) and not ember.equal(ex, ex[:1])
    assert ember.allclose(ex, ey) == torch.allclose(tx, ty) is True
    assert ember.allclose(ex, ey, rtol=0, atol=1e-9) == torch.allclose(tx, ty, rtol=0, atol=1e-9) is False
    same(ember.isclose(ex, ey, rtol=0, atol=2e-7), torch.isclose(tx, ty, rtol=0, atol=2e-7))
    assert ex.allclose(ey) and ex.equal(ex)


@pytest.mark.parametrize("args", [(), (0,), (1,), (1, True)])
def test_all_any(args):
    data = np.array([[1, 0, 2], [3, 4, 5]])
    e, t = both(data)
    same(ember.all(e, *args), torch.all(t, *args))
    same(e.any(*args), t.any(*args))
    eb, tb = both(data.astype(np.uint8))
    same(ember.all(eb, *args), torch.all(tb, *args))  # uint8 in, uint8 out, as torch


def test_nonzero_and_one_argument_where():
    data = np.array([[1, 0, 2], [0, 0, 5]])
    e, t = both(data)
    same(ember.nonzero(e), torch.nonzero(t))
    for got, expected in zip(e.nonzero(as_tuple=True), torch.nonzero(t, as_tuple=True)):
        same(got, expected)
    for got, expected in zip(ember.where(e > 0), torch.where(t > 0)):
        same(got, expected)
    same(ember.count_nonzero(e, dim=1), torch.count_nonzero(t, dim=1))


# ---- in-place updates ---------------------------------------------------------------------------------------------

INPLACE = {
    "add_ alpha": lambda x: x.add_(x * 2, alpha=0.5),
    "add_ scalar": lambda x: x.add_(1.5),
    "sub_ alpha": lambda x: x.sub_(1, alpha=3),
    "mul_": lambda x: x.mul_(x),
    "div_": lambda x: x.div_(4.0),
    "clamp_": lambda x: x.clamp_(-1, 2),
    "clamp_ min": lambda x: x.clamp_(min=0.5),
    "pow_": lambda x: x.pow_(2),
    "sqrt_": lambda x: x.abs_().sqrt_(),
    "exp_": lambda x: x.exp_(),
    "neg_": lambda x: x.neg_(),
    "relu_": lambda x: x.relu_(),
    "sigmoid_": lambda x: x.sigmoid_(),
    "tanh_": lambda x: x.tanh_(),
    "floor_": lambda x: x.floor_(),
    "masked_fill_": lambda x: x.masked_fill_(x > 1, -9.0),
    "fill_": lambda x: x.fill_(3.0),
    "zero_": lambda x: x.zero_(),
    "copy_": lambda x: x.copy_(x * 3),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_outside_graph_writes_the_same_tensor(name):
    e, t = both()
    view_e, view_t = e[1], t[1]
    out_e, out_t = INPLACE[name](e), INPLACE[name](t)
    assert out_e is e and e.dtype == ember.float64
    assert_close(e, t)
    assert_close(view_e, view_t)  # a view of the tensor sees the update


GRAPH = {
    "add_ alpha": lambda h, x: h.add_(x, alpha=0.5),
    "mul_": lambda h, x: h.mul_(x),
    "div_": lambda h, x: h.div_(x * x + 1),
    "sub_": lambda h, x: h.sub_(x.exp()),
    "relu_": lambda h, x: h.relu_(),
    "sigmoid_": lambda h, x: h.sigmoid_(),
    "pow_": lambda h, x: h.pow_(3),
    "clamp_": lambda h, x: h.clamp_(-1, 1),
    "masked_fill_": lambda h, x: h.masked_fill_(x > 0.5, 0.0),
    "exp_": lambda h, x: h.exp_(),
    "chain": lambda h, x: h.mul_(2).add_(x).sigmoid_(),
}


@pytest.mark.parametrize("name", list(GRAPH))
def test_inplace_inside_graph_has_torch_gradients(name):
    def run(m):
        def fn(x):
            h = x * 1.5  # a non-leaf: torch records the in-place op on it
            out = GRAPH[name](h, x)
            assert out is h
            return h * x
        return fn

    check_op(run(ember), run(torch), [(3, 4)])


def test_inplace_on_a_leaf_that_requires_grad():
    w = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1)
    with ember.no_grad():
        w.add_(ember.ones(3), alpha=-0.5).mul_(4)
    assert w.tolist() == [2.0, 2.0, 2.0] and w.is_leaf and w.requires_grad


def test_inplace_into_a_plain_tensor_from_one_that_requires_grad():
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    buf, tbuf = ember.zeros(3, dtype=ember.float64), torch.zeros(3, dtype=torch.float64)
    buf.add_(x * x)
    tbuf.add_(tx * tx)
    buf.sum().backward()
    tbuf.sum().backward()
    assert_close(x.grad, tx.grad)


def test_inplace_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.arange(3).add_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ember.zeros(3).add_(ember.zeros(2, 3))


def test_detach_():
    x = ember.ones(2, requires_grad=True)
    y = (x * 2).detach_()
    assert y.is_leaf and not y.requires_grad and y.tolist() == [2.0, 2.0]


# ---- random fills ---------------------------------------------------------------------------------------------------


def test_random_fills_are_seeded_and_distributed():
    ember.manual_seed(0)
    a = ember.zeros(20000).normal_(2.0, 0.5)
    ember.manual_seed(0)
    b = ember.zeros(20000).normal_(2.0, 0.5)
    assert a.tolist() == b.tolist() and a.dtype == ember.float32
    assert abs(a.mean().item() - 2.0) < 0.02 and abs(a.std().item() - 0.5) < 0.02
    u = ember.zeros(20000, dtype=ember.float64).uniform_(-1, 3)
    assert u.dtype == ember.float64 and -1 <= u.min().item() and u.max().item() < 3 and abs(u.mean().item() - 1) < 0.05
    assert ember.zeros(100).uniform_(**{"from": 5, "to": 6}).min().item() >= 5
    bern = ember.zeros(20000).bernoulli_(0.3)
    assert set(np.unique(bern.numpy())) == {0.0, 1.0}
    assert abs(bern.mean().item() - 0.3) < 0.02
    e = ember.zeros(20000).exponential_(2.0)
    assert e.min().item() >= 0 and abs(e.mean().item() - 0.5) < 0.02
    r = ember.zeros(1000, dtype=ember.int64).random_(3, 7)
    assert r.dtype == ember.int64 and set(np.unique(r.numpy())) == {3, 4, 5, 6}


def test_random_fill_of_a_leaf_that_requires_grad_needs_no_grad():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.normal_()
    with ember.no_grad():
        w.uniform_(-0.1, 0.1)
    assert w.abs().max().item() <= 0.1


# ---- new_* and arithmetic keywords ----------------------------------------------------------------------------------

NEW = {
    "new_zeros": lambda x: x.new_zeros(2, 3),
    "new_zeros tuple": lambda x: x.new_zeros((2, 3)),
    "new_ones dtype": lambda x: x.new_ones(2, dtype=x.int().dtype),
    "new_full": lambda x: x.new_full((2, 2), 7),
    "new_tensor": lambda x: x.new_tensor([1, 2, 3]),
    "new_empty shape": lambda x: x.new_empty(4, 1).zero_(),
}


@pytest.mark.parametrize("dtype", ["float64", "int32"])
@pytest.mark.parametrize("name", list(NEW))
def test_new_factories(name, dtype):
    e, t = both(X.astype(dtype))
    same(NEW[name](e), NEW[name](t))


ARITH = {
    "add alpha": lambda m, x, y: m.add(x, y, alpha=2),
    "sub alpha": lambda m, x, y: x.sub(y, alpha=0.5),
    "mul": lambda m, x, y: x.mul(y),
    "div": lambda m, x, y: m.div(x, y),
    "true_divide": lambda m, x, y: m.true_divide(x, y),
    "neg": lambda m, x, y: x.neg(),
}


@pytest.mark.parametrize("name", list(ARITH))
def test_arithmetic_methods_and_functions(name):
    check_op(lambda x, y: ARITH[name](ember, x, y), lambda x, y: ARITH[name](torch, x, y), arrays=[X, Y + 5])


@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize("kind", ["int64", "float64"])
def test_div_rounding_mode(mode, kind):
    a = np.array([7, -7, 6, -1, 0]).astype(kind)
    b = np.array([2, 2, -4, 3, 5]).astype(kind)
    same(ember.div(ember.tensor(a), ember.tensor(b), rounding_mode=mode),
         torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode))
    same(ember.tensor(a).div(3, rounding_mode=mode), torch.tensor(a).div(3, rounding_mode=mode))


def test_every_delegated_method_is_a_torch_method():
    missing = [name for name in tensor_methods.DELEGATED + list(tensor_methods.INPLACE) if not hasattr(torch.Tensor, name)]
    assert not missing
    x = ember.tensor(X)
    for name in tensor_methods.DELEGATED:
        assert callable(getattr(x, name))


def test_a_from_scratch_program_runs_unchanged_and_gives_torch_numbers():
    """d2l-style softmax regression with hand-written SGD and gradient clipping, written once for both."""

    def program(m, X_data, y_data, W_data):
        X, y = m.tensor(X_data), m.tensor(y_data)
        W = m.tensor(W_data, requires_grad=True)
        b = m.zeros(3, dtype=X.dtype, requires_grad=True)
        losses = []
        for _ in range(3):
            logits = m.mm(X, W) + b
            log_probs = logits - m.logsumexp(logits, dim=1, keepdim=True)
            loss = -log_probs.gather(1, y.unsqueeze(1)).mean()
            loss.backward()
            with m.no_grad():
                norm = m.sqrt(sum(m.sum(p.grad ** 2) for p in (W, b)))
                for p in (W, b):
                    p.grad.mul_(m.clamp(1.0 / norm, max=1.0))
                    p.sub_(p.grad, alpha=0.5)
                    p.grad.zero_()
            losses.append(loss.item())
        top2 = logits.topk(2, dim=1).indices
        accuracy = (logits.argmax(axis=1) == y).float().mean().item()
        return losses, top2.tolist(), accuracy, W.detach().norm(p=1).item()

    rng = np.random.default_rng(0)
    args = (rng.standard_normal((8, 4)), rng.integers(0, 3, 8), rng.standard_normal((4, 3)) * 0.1)
    got, expected = program(ember, *args), program(torch, *args)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-9)
    assert got[1] == expected[1] and got[2] == expected[2]
    np.testing.assert_allclose(got[3], expected[3], rtol=1e-9)


def test_format_swapaxes_movedim_type_as_like_torch():
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    e, t = ember.tensor(x), torch.tensor(x)
    assert f"{e.sum():.3f}" == f"{t.sum():.3f}" and f"{e[0, 0, 1]}" == f"{t[0, 0, 1].item()}"
    for args in [(0, 2), (-1, 1)]:
        np.testing.assert_array_equal(e.swapaxes(*args).numpy(), t.swapaxes(*args).numpy())
        np.testing.assert_array_equal(e.swapdims(*args).numpy(), t.swapdims(*args).numpy())
    for src, dst in [(0, 2), ([0, 1], [2, 0]), (-1, 0)]:
        np.testing.assert_array_equal(e.movedim(src, dst).numpy(), t.movedim(src, dst).numpy())
        np.testing.assert_array_equal(e.moveaxis(src, dst).numpy(), t.moveaxis(src, dst).numpy())
    assert e.type_as(ember.tensor([1])).dtype == ember.int64 and e.ndimension() == 3 and e.is_contiguous()
    assert e.reshape_as(ember.zeros(6, 4)).shape == (6, 4)


def test_the_tensor_constructor_follows_torchs_legacy_rules():
    for args in [([1, 2],), ([[1.5, 2], [3, 4]],), (2, 3), ()]:
        e, t = ember.Tensor(*args), torch.Tensor(*args)
        assert tuple(e.shape) == tuple(t.shape) and e.dtype == np.float32 and str(t.dtype) == "torch.float32"
        if args and isinstance(args[0], list):
            np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert ember.Tensor(ember.Size([2, 4])).shape == (2, 4)
    assert ember.Tensor(np.arange(3)).dtype == np.int64  # an array is wrapped as it is (Ember's own use)
