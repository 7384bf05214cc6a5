"""Element-wise ops against torch: + - * / ** unary -, comparisons, exp log sqrt abs clamp, maximum minimum,
where and casts, over broadcasting edge cases, both float dtypes, non-contiguous inputs and Python scalars."""


import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from ember.ops import elementwise
from helpers import check_op, function_classes, gradcheck, random_array

DTYPES = ["float64", "float32"]

# Broadcasting edge cases: equal shapes, (3,1)+(1,4), 0-d with n-d, two 0-d, different ranks, size-1 dims.
SHAPE_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((), (3,)),
    ((2, 3), ()),
    ((), ()),
    ((4,), (2, 3, 4)),
    ((2, 1, 4), (3, 1)),
    ((1,), (5,)),
    ((5, 1, 1), (1,)),
    ((1, 1), (1, 1)),
]


def arrays_for(shapes, dtype, seed=0, positive=(), away_from_zero=()):
    """Random inputs; the ones listed in ``positive`` are in [0.5, 2), those in ``away_from_zero`` in ±[0.5, 2)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, shape in enumerate(shapes):
        if i in positive or i in away_from_zero:
            a = rng.uniform(0.5, 2.0, size=shape)
            if i in away_from_zero:
                a = a * rng.choice([-1.0, 1.0], size=shape)
            out.append(np.asarray(a, dtype=dtype))
        else:
            out.append(random_array(shape, dtype, rng))
    return out


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, {}),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, {}),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, {}),
    "div": (lambda a, b: a / b, lambda a, b: a / b, {"away_from_zero": (1,)}),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, {"positive": (0,)}),
    "maximum": (ember.maximum, torch.maximum, {}),
    "minimum": (ember.minimum, torch.minimum, {}),
    "functional add": (ember.ops.add, torch.add, {}),
    "functional div": (ember.ops.div, torch.div, {"away_from_zero": (1,)}),
    "functional pow": (ember.pow, torch.pow, {"positive": (0,)}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcasting(name, shapes, dtype):
    e_fn, t_fn, domain = BINARY[name]
    check_op(e_fn, t_fn, arrays=arrays_for(shapes, dtype, **domain), dtype=dtype)


@settings(max_examples=40, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
    name=st.sampled_from(["add", "sub", "mul", "div", "pow", "maximum"]),
    dtype=st.sampled_from(DTYPES),
)
def test_binary_random_broadcast_shapes(shapes, name, dtype):
    e_fn, t_fn, domain = BINARY[name]
    check_op(e_fn, t_fn, arrays=arrays_for(shapes.input_shapes, dtype, **domain), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((4, 3), (3,)), ((2, 3, 4), (2, 3, 4))], ids=str)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "maximum", "minimum"])
def test_binary_noncontiguous(name, shapes, dtype):
    e_fn, t_fn, _ = BINARY[name]
    check_op(e_fn, t_fn, shapes=shapes, dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_div_and_pow_noncontiguous(dtype):
    check_op(lambda a, b: a / b, lambda a, b: a / b, shapes=[(3, 4), (3, 4)], low=0.5, high=2.0, dtype=dtype,
             noncontiguous=True)
    check_op(lambda a, b: a**b, lambda a, b: a**b, shapes=[(3, 4), (3, 4)], low=0.5, high=2.0, dtype=dtype,
             noncontiguous=True)


# Python and NumPy scalar operands, on either side: the tensor's dtype must survive (no float64 from 2.0).
SCALAR_EXPRS = {
    "x+2.0": (lambda x: x + 2.0, False),
    "2.0+x": (lambda x: 2.0 + x, False),
    "x+1": (lambda x: x + 1, False),
    "x-1": (lambda x: x - 1, False),
    "1-x": (lambda x: 1 - x, False),
    "1.5-x": (lambda x: 1.5 - x, False),
    "x*2.0": (lambda x: x * 2.0, False),
    "2*x": (lambda x: 2 * x, False),
    "x/3": (lambda x: x / 3, False),
    "x/3.0": (lambda x: x / 3.0, False),
    "3/x": (lambda x: 3 / x, True),
    "x**2": (lambda x: x**2, False),
    "x**3": (lambda x: x**3, False),
    "x**0": (lambda x: x**0, False),
    "x**0.5": (lambda x: x**0.5, True),
    "x**-1": (lambda x: x**-1, True),
    "x**-1.5": (lambda x: x**-1.5, True),
    "2**x": (lambda x: 2**x, False),
    "2.5**x": (lambda x: 2.5**x, False),
    "-x": (lambda x: -x, False),
    "+x": (lambda x: +x, False),
    "x*np.float64": (lambda x: x * np.float64(2.0), False),
    "np.float64*x": (lambda x: np.float64(2.0) * x, False),
    "x/np.float32": (lambda x: x / np.float32(3.0), False),
    "x-np.int64": (lambda x: x - np.int64(2), False),
    "x.pow(2)": (lambda x: x.pow(2), False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), ()], ids=str)
@pytest.mark.parametrize("name", list(SCALAR_EXPRS))
def test_python_scalar_operands_keep_dtype(name, shape, dtype):
    fn, positive = SCALAR_EXPRS[name]
    (out,) = check_op(fn, fn, arrays=arrays_for([shape], dtype, positive=(0,) if positive else ()), dtype=dtype)
    assert out.dtype == np.dtype(dtype)


def test_scalar_op_on_0d_float32_keeps_float32():
    # NumPy turns 0-d arrays into scalars in ufuncs; the Tensor must still hold a float32 array.
    x = ember.tensor(np.float32(1.5), requires_grad=True)
    for y in (x * 2.0, x + 1, 1 - x, x / 3, x**2, x.exp(), x * x, x.reshape(1) @ x.reshape(1)):
        assert isinstance(y.array, np.ndarray) and y.dtype == np.float32 and y.shape == ()


INT_CASES = {
    "int*int": (lambda a: a * 2, np.int64),
    "int+float": (lambda a: a + 2.5, np.int64),
    "int/int": (lambda a: a / 2, np.int64),
    "int/int tensor": (lambda a: a / (a + 1), np.int64),
    "int32+float": (lambda a: a + 1.5, np.int32),
    "int32*int": (lambda a: a * 3, np.int32),
    "int**2": (lambda a: a**2, np.int64),
    "2.0**int": (lambda a: 2.0**a, np.int64),
    "uint8-float": (lambda a: a - 0.5, np.uint8),
    "-int": (lambda a: -a, np.int64),
}


@pytest.mark.parametrize("name", list(INT_CASES))
def test_integer_tensors_promote_like_torch(name):
    fn, dtype = INT_CASES[name]
    check_op(fn, fn, arrays=[np.array([[1, 2, 3], [4, 5, 6]], dtype=dtype)], grad=False)


MIXED_DTYPES = [
    ("float32", (3,), "float64", (3,)),  # both dimensioned: the wider dtype
    ("float32", (3,), "float64", ()),  # a 0-d float64 does not widen a dimensioned float32 (torch's rule)
    ("float64", (), "float32", (2, 3)),
    ("float32", (), "float64", ()),  # two 0-d: the wider dtype
    ("int64", (3,), "float64", ()),  # a 0-d float of a higher category decides the dtype
    ("int64", (3,), "float64", (3,)),  # int meets a float tensor: that tensor's dtype
    ("int32", (), "float32", (2,)),
]


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum"])
@pytest.mark.parametrize("dtypes", MIXED_DTYPES, ids=str)
def test_mixed_dtype_promotion(dtypes, op):
    da, sa, db, sb = dtypes
    rng = np.random.default_rng(1)
    a = (rng.uniform(1, 3, size=sa)).astype(da)
    b = (rng.uniform(1, 3, size=sb)).astype(db)
    e_fn, t_fn, _ = BINARY[op]
    for x, y in ((a, b), (b, a)):
        (out,) = check_op(e_fn, t_fn, arrays=[x, y], dtype="float32")  # float32 tolerance: one side is float32
        expected = t_fn(torch.tensor(x), torch.tensor(y)).dtype
        assert str(out.dtype) == str(expected).replace("torch.", "")


# ---- unary --------------------------------------------------------------------------------------------

UNARY = {
    "exp": (ember.exp, torch.exp, False),
    "log": (ember.log, torch.log, True),
    "sqrt": (ember.sqrt, torch.sqrt, True),
    "abs": (ember.abs, torch.abs, False),
    "neg": (ember.ops.neg, torch.neg, False),
    "method exp": (lambda x: x.exp(), lambda x: x.exp(), False),
    "method log": (lambda x: x.log(), lambda x: x.log(), True),
    "method sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), True),
    "method abs": (lambda x: x.abs(), lambda x: x.abs(), False),
    "builtin abs": (lambda x: abs(x), lambda x: abs(x), False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape, dtype):
    e_fn, t_fn, positive = UNARY[name]
    check_op(e_fn, t_fn, arrays=arrays_for([shape], dtype, positive=(0,) if positive else ()), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_noncontiguous(name, dtype):
    e_fn, t_fn, positive = UNARY[name]
    low, high = (0.5, 2.0) if positive else (-2.0, 2.0)
    check_op(e_fn, t_fn, shapes=[(3, 4, 2)], low=low, high=high, dtype=dtype, noncontiguous=True)


def test_abs_gradient_at_zero_is_zero():
    check_op(ember.abs, torch.abs, arrays=[np.array([-1.0, 0.0, 2.0])])


# ---- clamp --------------------------------------------------------------------------------------------

# Values sit exactly on the bounds: torch passes the gradient there (lo <= x <= hi, both ends included).
CLAMP_INPUT = np.array([[-2.0, -0.5, -0.25, 0.0], [0.25, 0.5, 1.0, 0.5]])
CLAMP_ARGS = [
    dict(min=-0.5),
    dict(max=0.5),
    dict(min=-0.5, max=0.5),
    dict(min=0.0, max=0.0),
    dict(min=0.5, max=-0.5),  # min > max: everything becomes max, no gradient anywhere
    dict(min=-0.5, max=None),
    dict(min=None, max=0.5),
    dict(min=-1, max=1),  # Python ints on a float tensor
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", CLAMP_ARGS, ids=str)
def test_clamp_bounds_and_boundary_gradient(kwargs, dtype):
    for fn in (lambda x: x.clamp(**kwargs), lambda x: x.clip(**kwargs)):
        check_op(fn, fn, arrays=[CLAMP_INPUT.astype(dtype)], dtype=dtype)
    check_op(lambda x: ember.clamp(x, **kwargs), lambda x: torch.clamp(x, **kwargs), arrays=[CLAMP_INPUT.astype(dtype)],
             dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_random_noncontiguous(dtype):
    fn = lambda x: x.clamp(-0.3, 0.4)  # noqa: E731
    check_op(fn, fn, shapes=[(4, 5)], dtype=dtype, noncontiguous=True)
    check_op(fn, fn, shapes=[()], dtype=dtype)


def test_clamp_integer_tensors_like_torch():
    data = np.array([[-3, 0, 2], [5, 1, -1]])
    for kwargs in (dict(min=0), dict(min=-1, max=2), dict(min=0.5), dict(max=1.5), dict(min=-0.5, max=3)):
        fn = lambda x: x.clamp(**kwargs)  # noqa: E731
        check_op(fn, fn, arrays=[data], grad=False)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min"):
        ember.ones(2).clamp()


# ---- maximum / minimum with ties ----------------------------------------------------------------------

TIE_CASES = [
    (np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 0.0, 3.0, 5.0])),
    (np.array([[1.0], [2.0], [0.5]]), np.array([[1.0, 2.0, 0.5, 0.0]])),  # broadcast ties
    (np.array([2.0, 2.0, 2.0]), np.array(2.0)),  # every element ties with a 0-d tensor
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(TIE_CASES)))
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_in_half(name, case, dtype):
    a, b = (v.astype(dtype) for v in TIE_CASES[case])
    e_fn, t_fn, _ = BINARY[name]
    check_op(e_fn, t_fn, arrays=[a, b], dtype=dtype)
    check_op(e_fn, t_fn, arrays=[b, a], dtype=dtype)


def test_maximum_tie_gradient_is_half_each():
    a = ember.tensor([1.0, 3.0], requires_grad=True)
    b = ember.tensor([1.0, 2.0], requires_grad=True)
    ember.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0])


def test_maximum_with_python_scalar():
    fn_e = lambda x: ember.maximum(x, 0.0)  # noqa: E731
    check_op(fn_e, lambda x: torch.maximum(x, torch.tensor(0.0, dtype=x.dtype)), arrays=[np.array([-1.0, 0.0, 2.0])])


# ---- pow specials -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_zero_base_with_tensor_exponent(dtype):
    # d(a^b)/db = a^b ln a, which torch defines as 0 where a = 0 and b >= 0 (not nan); d/da at a = 0.
    a = np.array([0.0, 0.0, 0.0, 1.5, 2.0, 0.5], dtype=dtype)
    b = np.array([2.0, 0.0, 3.0, 0.0, -1.0, 2.5], dtype=dtype)
    with np.errstate(all="ignore"):
        check_op(lambda x, y: x**y, lambda x, y: x**y, arrays=[a, b], dtype=dtype)


def test_pow_negative_base_integer_exponents():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    for fn in (lambda t: t**2, lambda t: t**3, lambda t: t**4, lambda t: t.pow(2.0)):
        check_op(fn, fn, arrays=[x])


def test_scalar_base_tensor_exponent():
    for fn in (lambda t: 2**t, lambda t: 0.5**t, lambda t: 10.0**t):
        check_op(fn, fn, shapes=[(3, 2)])
        check_op(fn, fn, shapes=[(3, 2)], dtype="float32")


# ---- where --------------------------------------------------------------------------------------------

WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)), ((4,), (3, 4), ()), ((), (2,), (2,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where(shapes, dtype):
    sc, sa, sb = shapes
    rng = np.random.default_rng(3)
    cond = rng.random(sc) > 0.5
    a, b = random_array(sa, dtype, rng), random_array(sb, dtype, rng)
    check_op(ember.where, torch.where, arrays=[cond, a, b], dtype=dtype)
    check_op(lambda c, x, y: x.where(c, y), lambda c, x, y: x.where(c, y), arrays=[cond, a, b], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_with_scalar_and_tensor_condition(dtype):
    def e_fn(x):
        return ember.where(x > 0, x, 0.0)

    def t_fn(x):
        return torch.where(x > 0, x, 0.0)

    check_op(e_fn, t_fn, shapes=[(4, 3)], dtype=dtype)
    check_op(lambda x: ember.where(x > 0, 1.5, x), lambda x: torch.where(x > 0, 1.5, x), shapes=[(4, 3)], dtype=dtype)


def test_where_with_two_python_scalars_uses_default_dtypes():
    rng = np.random.default_rng(6)
    cond = rng.random((3, 2)) > 0.5
    for a, b in ((1.0, 0.0), (1, 0), (1, 0.5), (True, 2)):
        check_op(lambda c: ember.where(c, a, b), lambda c: torch.where(c, a, b), arrays=[cond], grad=False)


# ---- comparisons --------------------------------------------------------------------------------------

COMPARISONS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_comparisons_give_bool_without_grad(name):
    fn = COMPARISONS[name]
    a = np.array([[1.0, 2.0, 3.0], [0.0, 2.0, -1.0]])
    b = np.array([[2.0], [2.0]])
    for x, y in ((a, b), (b, a), (a, a)):
        (out,) = check_op(fn, fn, arrays=[x, y])  # check_op also compares dtype: bool, and that no gradient exists
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    scalar_fn = lambda x: fn(x, 2.0)  # noqa: E731
    (out,) = check_op(scalar_fn, scalar_fn, arrays=[a.astype("float32")], dtype="float32")
    assert out.dtype == np.bool_ and not out.requires_grad


def test_logical_ops_on_masks():
    a, b = ember.tensor([True, False, True]), ember.tensor([True, True, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, True]
    assert (~a).tolist() == [False, True, False]


# ---- casts --------------------------------------------------------------------------------------------


def test_double_and_float_keep_gradients_flowing():
    # float32 leaf -> float64 computation: the gradient reaches the leaf, in float32
    check_op(lambda x: x.double() * 3.0, lambda x: x.double() * 3.0, shapes=[(3, 2)], dtype="float32")
    check_op(lambda x: (x.float() ** 2).double(), lambda x: (x.float() ** 2).double(), shapes=[(4,)], dtype="float32")
    (out,) = check_op(lambda x: x.float() * 2, lambda x: x.float() * 2, shapes=[(3, 2)], dtype="float32")
    assert out.dtype == np.float32
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_to_and_same_dtype_cast():
    check_op(lambda x: x.to(ember.float64) * 2, lambda x: x.to(torch.float64) * 2, shapes=[(2, 2)], dtype="float32")
    x = ember.ones(2, requires_grad=True)
    assert x.float() is x  # no-op cast, as torch returns self
    assert x.double().dtype == np.float64


def test_integer_cast_leaves_the_graph():
    x = ember.tensor([1.7, -2.2], requires_grad=True)
    for y in (x.long(), x.int(), x.bool()):
        assert not y.requires_grad and y.grad_fn is None
    assert x.long().tolist() == torch.tensor([1.7, -2.2]).long().tolist()


# ---- gradcheck of every Function in elementwise.py ------------------------------------------------------

GRADCHECK = {
    "Add": (lambda a, b: a + b, [(2, 3), (3,)], {}),
    "Sub": (lambda a, b: a - b, [(2, 1), (1, 3)], {}),
    "Mul": (lambda a, b: a * b, [(2, 3), (2, 3)], {}),
    "Div": (lambda a, b: a / b, [(2, 3), (3,)], dict(low=0.5, high=2.0)),
    "Pow": (lambda a, b: a**b, [(2, 3), (2, 3)], dict(low=0.5, high=2.0)),
    "Neg": (lambda a: -a, [(3, 2)], {}),
    "Exp": (lambda a: a.exp(), [(3, 2)], {}),
    "Log": (lambda a: a.log(), [(3, 2)], dict(low=0.5, high=2.0)),
    "Sqrt": (lambda a: a.sqrt(), [(3, 2)], dict(low=0.5, high=2.0)),
    "Abs": (lambda a: a.abs(), [(3, 2)], dict(low=0.1, high=2.0)),
    "Clamp": (lambda a: a.clamp(-0.5, 0.5), [(4, 3)], {}),
    "Maximum": (ember.maximum, [(3, 2), (3, 2)], {}),
    "Minimum": (ember.minimum, [(3, 2), (2,)], {}),
    "Where": (lambda a, b: ember.where(a > 0, a, b), [(3, 2), (3, 2)], {}),
    "Cast": (lambda a: elementwise.Cast.apply(a, ember.float64), [(3, 2)], {}),
    # a in [0.1, 0.9], b in [1.1, 1.9]: a / b stays inside (0, 1), away from the jumps of mod and floor
    "Remainder": (lambda a, b: (a + 2) % b, [(3, 2), (3, 2)], dict(low=0.1, high=0.9)),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name):
    fn, shapes, kwargs = GRADCHECK[name]
    assert gradcheck(fn, *shapes, **kwargs)


def test_pow_gradcheck_scalar_exponent_and_base():
    assert gradcheck(lambda a: a**3, (2, 3))
    assert gradcheck(lambda a: 1.7**a, (2, 3))
    assert gradcheck(lambda a: a**-0.5, (2, 3), low=0.5, high=2.0)


def test_every_elementwise_function_is_gradchecked():
    assert function_classes(elementwise) == set(GRADCHECK)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_remainder_and_floor_divide_match_torch(dtype):
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((4, 5)) * 5).astype(dtype)
    b = (rng.uniform(0.5, 2.0, (5,)) * rng.choice([-1, 1], 5)).astype(dtype)
    check_op(lambda x, y: x % y, lambda x, y: x % y, arrays=[a, b], dtype=dtype)
    check_op(lambda x: x % 1.5, lambda x: x % 1.5, arrays=[a], dtype=dtype)
    # torch has no derivative for a scalar mod a tensor; Ember's is covered by the Remainder gradcheck
    check_op(lambda x: 2.5 % x, lambda x: 2.5 % x, arrays=[b], dtype=dtype, grad=False)
    got = (ember.tensor(a) // ember.tensor(b)).numpy()
    np.testing.assert_array_equal(got, (torch.tensor(a) // torch.tensor(b)).numpy())
    ints = ember.arange(-7, 8)
    assert (ints // 3).tolist() == (torch.arange(-7, 8) // 3).tolist()
    assert (ints % 3).tolist() == (torch.arange(-7, 8) % 3).tolist()
    assert (ints // 3).dtype == ember.int64
