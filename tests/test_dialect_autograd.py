"""chainrule.autograd: HIPS autograd's spelling and conventions over chainrule's core.

Own cases for the behaviours HIPS's suite exercises (tools/hips_suite.py runs that suite
itself), and comparisons with the real HIPS autograd where it is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from pathlib import Path

import numpy as onp
import pytest

import chainrule as cr
import chainrule.autograd.numpy as np
import chainrule.autograd.numpy.random as npr
from chainrule.autograd import (
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    tensor_jacobian_product,
    value_and_grad,
)
from chainrule.autograd import dict as ag_dict
from chainrule.autograd import isinstance as ag_isinstance
from chainrule.autograd import list as ag_list
from chainrule.autograd import tuple as ag_tuple
from chainrule.autograd.extend import (
    def_linear,
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    notrace_primitive,
    primitive,
    vspace,
)
from chainrule.autograd.misc import flatten
from chainrule.autograd.misc.optimizers import adam, rmsprop, sgd
from chainrule.autograd.numpy import _wrap
from chainrule.autograd.test_util import check_equivalent, check_grads, combo_check, scalar_close
from chainrule.tensor import Tensor


def _is_plain(value):
    if isinstance(value, (list, tuple)):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_is_plain(item) for item in value.values())
    return not isinstance(value, Tensor)


def f_scalar(x):
    return np.sum(np.tanh(x) * np.exp(0.3 * x))


# ---------------------------------------------------------------- transforms


def test_argnum_int_and_list_and_kwargs():
    f = lambda x, y, scale=1.0: scale * x * y ** 2  # noqa: E731
    assert grad(f, 1)(2.0, 3.0, scale=2.0) == pytest.approx(24.0)
    gx, gy = grad(f, [0, 1])(2.0, 3.0)
    assert (gx, gy) == (pytest.approx(9.0), pytest.approx(12.0))
    assert isinstance(grad(f, (0, 1))(2.0, 3.0), tuple)


def test_names_follow_hips():
    def foo(x, y):
        return x * y

    assert grad(foo, 1).__name__ == "grad_of_foo_wrt_argnum_1"
    assert jacobian(foo).__name__ == "jacobian_of_foo_wrt_argnum_0"
    # (Python 3.13 strips docstrings' indentation)
    assert grad(foo, 1).__doc__.lstrip().startswith("grad of function foo with")
    assert grad.__doc__.lstrip().startswith("Returns a function which")


def test_every_transform_returns_numpy_on_plain_inputs():
    x = onp.array([0.3, -0.7, 1.1])
    v = onp.array([1.0, 0.5, -2.0])
    results = [
        grad(f_scalar)(x), value_and_grad(f_scalar)(x), elementwise_grad(np.sin)(x),
        deriv(np.sin)(0.4), jacobian(np.sin)(x), hessian(f_scalar)(x),
        make_hvp(f_scalar)(x)[0](v), make_hvp(f_scalar)(x)[1],
        hessian_tensor_product(f_scalar)(x, v), tensor_jacobian_product(np.sin)(x, v),
        make_jvp(np.sin)(x)(v), make_vjp(np.sin)(x)[0](v), make_vjp(np.sin)(x)[1],
        make_ggnvp(np.sin)(x)(v), grad_and_aux(lambda x: (f_scalar(x), x * 2))(x),
        grad_named(lambda a, b: a * b, "b")(2.0, 3.0), holomorphic_grad(np.sin)(0.5 + 0.5j),
    ]
    assert all(_is_plain(result) for result in results)


def test_values_against_closed_forms():
    x = onp.array([0.3, -0.7, 1.1])
    v = onp.array([1.0, 0.5, -2.0])
    cube = lambda x: np.sum(x ** 3)  # noqa: E731
    onp.testing.assert_allclose(grad(cube)(x), 3 * x ** 2)
    onp.testing.assert_allclose(hessian(cube)(x), onp.diag(6 * x))
    onp.testing.assert_allclose(make_hvp(cube)(x)[0](v), 6 * x * v)
    onp.testing.assert_allclose(hessian_tensor_product(cube)(x, v), 6 * x * v)
    onp.testing.assert_allclose(jacobian(np.sin)(x), onp.diag(onp.cos(x)))
    onp.testing.assert_allclose(tensor_jacobian_product(np.sin)(x, v), onp.cos(x) * v)
    onp.testing.assert_allclose(elementwise_grad(np.sin)(x), onp.cos(x))
    ans, jvp = make_jvp(np.sin)(x)(v)
    onp.testing.assert_allclose(ans, onp.sin(x))
    onp.testing.assert_allclose(jvp, onp.cos(x) * v)
    vjp, ans = make_vjp(np.sin)(x)
    onp.testing.assert_allclose(vjp(v), onp.cos(x) * v)
    # g(y) = |y|^2 / 2 over f = sin: the Gauss-Newton matrix is J^T J
    onp.testing.assert_allclose(make_ggnvp(np.sin)(x)(v), onp.cos(x) ** 2 * v)
    gradient, aux = grad_and_aux(lambda x: (cube(x), x * 2))(x)
    onp.testing.assert_allclose(gradient, 3 * x ** 2)
    onp.testing.assert_allclose(aux, 2 * x)
    assert deriv(lambda x: x ** 3)(2.0) == pytest.approx(12.0)


def test_derivatives_compose_in_every_order():
    cube = lambda x: x ** 3  # noqa: E731
    for outer in (grad, deriv):
        for inner in (grad, deriv):
            assert outer(inner(cube))(2.0) == pytest.approx(12.0)
    assert grad(grad(grad(cube)))(2.0) == pytest.approx(6.0)


def test_grad_refuses_non_scalar_and_complex_outputs():
    with pytest.raises(TypeError, match="scalar"):
        grad(np.sin)(onp.ones(2))
    with pytest.raises(TypeError, match="complex"):
        grad(lambda x: x * (1.0 + 0.2j))(1.0)
    with pytest.raises(TypeError, match="complex"):
        elementwise_grad(lambda x: x * 1j)(onp.ones(2))
    with pytest.raises(ValueError, match="complex"):
        jacobian(lambda x: x * 1j)(onp.ones(2))


def test_holomorphic_grad():
    g = holomorphic_grad(lambda z: z * (1.0 + 0.2j))(1.0 + 0.0j)
    assert g == pytest.approx(1.0 + 0.2j)
    assert holomorphic_grad(lambda z: z ** 2)(1.0 + 1.0j) == pytest.approx(2.0 + 2.0j)
    with pytest.warns(UserWarning, match="not complex"):
        holomorphic_grad(lambda z: z ** 2)(1.0)


# ---------------------------------------------------------------- conventions


def test_python_floats_are_float64():
    assert onp.asarray(grad(lambda x: x ** 2)(3.0)).dtype == onp.float64
    assert grad(lambda x: x * (1 / 3))(1.0) == 1 / 3  # float32 would round it


@pytest.mark.parametrize("dtype", [onp.float16, onp.float32, onp.float64, onp.longdouble])
def test_gradients_keep_dtypes(dtype):
    x = onp.array([0.5, 1.5], dtype=dtype)
    gradient = grad(lambda x: np.sum(np.sin(x) * x))(x)
    assert gradient.dtype == dtype
    onp.testing.assert_allclose(gradient.astype(float), (onp.cos(x) * x + onp.sin(x)).astype(
        float), rtol=1e-2 if dtype == onp.float16 else 1e-6)


def test_complex_gradients_are_hips_conjugates():
    z = 1.0 + 2.0j
    assert grad(lambda z: np.abs(z) ** 2)(z) == pytest.approx(2 * onp.conj(z))
    assert cr.grad(lambda z: cr.abs(z) ** 2)(z).item() == pytest.approx(2 * z)  # native API's
    # a real function of a complex argument: dL/dRe z - i dL/dIm z
    w = onp.array([0.3 + 0.4j, -1.0 + 0.5j])
    f = lambda w: np.sum(np.real(w) ** 3 + np.imag(w) * np.real(w))  # noqa: E731
    expected = (3 * w.real ** 2 + w.imag) - 1j * w.real
    onp.testing.assert_allclose(grad(f)(w), expected)
    assert onp.isrealobj(grad(lambda x: np.sum(np.real(x)))(2.0))
    assert onp.iscomplexobj(grad(lambda x: np.sum(np.real(x)))(1.0j))


def test_assigning_into_a_traced_array_raises_type_error():
    def f(x):
        y = x * 2
        y[0] = 1.0
        return np.sum(y)

    with pytest.raises(TypeError, match="item assignment"):
        grad(f)(onp.ones(3))
    f(onp.ones(3))  # plain arrays are NumPy's


def test_traced_values_refuse_becoming_python_numbers():
    for convert in (float, int, complex):
        with pytest.raises(TypeError, match="lose its derivative"):
            grad(lambda x, convert=convert: convert(x) * x)(1.0)

    def fill(x):
        buffer = onp.zeros(2)
        buffer[0] = x[0]  # NumPy would store a number: the derivative lost
        return np.sum(buffer * x)

    with pytest.raises((TypeError, ValueError, RuntimeError)):  # (HIPS: ValueError)
        grad(fill)(onp.ones(2))


def test_where_and_comparisons_as_in_hips():
    assert np.where(True, 1, 2) == 1 and type(np.where(True, 1, 2)) is int
    assert np.where([True, False], [1, 2], [3, 4]) == [1, 4]
    assert np.where(onp.array(True), 3.0, 4.0).dtype == onp.float64
    onp.testing.assert_array_equal(np.where(onp.array([0, 1, 1]))[0], [1, 2])
    f = lambda x: np.sum(np.where(x > 0, x ** 2, -x))  # noqa: E731
    onp.testing.assert_allclose(grad(f)(onp.array([-1.0, 2.0])), [-1.0, 4.0])

    def comparisons(x):
        mask = np.greater(x, 0)
        assert not isinstance(mask, Tensor)  # HIPS's comparisons give plain arrays
        assert not isinstance(np.argmax(x), Tensor)
        return np.sum(x * mask)

    onp.testing.assert_allclose(grad(comparisons)(onp.array([-1.0, 2.0])), [0.0, 1.0])


def test_array_boxing_patterns():
    A = onp.array([[1.0, 2.0], [3.0, 4.0]])  # noqa: N806

    def f(x):
        y = np.array([x[0] * x[1], x[1], 2.0])
        assert y.shape == (3,) and x.shape == (2,) and x.T.shape == (2,)
        assert ag_isinstance(x, np.ndarray) and not ag_isinstance(x, list)
        return np.sum(x.dot(A.T) ** 2, axis=0) + np.sum(y) + x.dot(x)

    x = onp.array([0.5, -1.5])
    check_grads(f)(x)
    onp.testing.assert_allclose(
        grad(f)(x), 2 * A.T @ (A @ x) + onp.array([x[1], x[0] + 1]) + 2 * x)
    check_grads(lambda x: np.sum(np.r_[x, 3.0, 0:2, x[:1] * 2] ** 2))(x)
    check_grads(lambda x: np.sum(np.c_[x, x ** 2]))(x)
    check_grads(lambda x: np.sum((A @ x) * np.dot(A, x)))(x)
    assert np.int64(x * 2).dtype == onp.int64  # integer types take traced values
    # NumPy's array methods the tensor lacks come from the dialect's functions
    onp.testing.assert_allclose(grad(lambda M: M.trace() + M.ravel()[1])(A), [[1, 1], [0, 1]])
    with pytest.raises(AttributeError, match="no attribute 'not_a_method'"):
        grad(lambda x: x.not_a_method())(1.0)


def test_numpy_namespace_is_resolved_from_the_core():
    assert np.__version__ == onp.__version__
    assert np.pi == onp.pi and np.ndarray is onp.ndarray and np.float32 is onp.float32
    refused = []
    for name in dir(np):
        value = getattr(np, name)
        if name.startswith("_") or not callable(value) or isinstance(value, type):
            continue
        core = getattr(cr, name, None)
        # a name is there because the core has it, because HIPS gives it no derivative, or
        # because it is one of HIPS's own helpers; any other refuses traced values
        if not (callable(core) or name in _wrap.NONDIFFERENTIABLE or name in (
                "array", "asarray", "where", "make_diagonal", "metadata", "r_", "c_")):
            refused.append(name)
    assert "meshgrid" in refused and "sin" not in refused and "sort" not in refused
    x, y = np.meshgrid(onp.arange(2.0), onp.arange(3.0))  # plain values: NumPy's own
    assert x.shape == (3, 2) and isinstance(x, onp.ndarray)
    with pytest.raises(NotImplementedError, match="numpy.meshgrid has no derivative"):
        grad(lambda v: np.sum(np.meshgrid(v, v)[0]))(onp.ones(2))
    assert isinstance(np.sin(onp.ones(2)), onp.ndarray)
    assert isinstance(np.zeros(3), onp.ndarray)


def test_stacking_an_array_of_rows_and_appending_lists_as_in_hips():
    x = onp.array([[0.5, -1.0], [2.0, 0.3]])
    for name in ("vstack", "hstack", "column_stack"):
        stack = getattr(np, name)
        onp.testing.assert_array_equal(stack(x), stack(list(x)))  # an array: its rows
        check_grads(stack)(x)
    check_grads(np.append, argnum=(0, 1))([[1.0, 2.0]], [[3.0, 4.0]], axis=0)


def test_random_is_numpys_global_generator():
    npr.seed(3)
    ours = npr.randn(4)
    onp.random.seed(3)
    onp.testing.assert_array_equal(ours, onp.random.randn(4))


def test_linalg_and_make_diagonal():
    A = onp.array([[2.0, 0.5], [0.3, 1.5]])  # noqa: N806
    check_grads(lambda A: np.linalg.det(A))(A)
    check_grads(lambda A: np.sum(np.linalg.inv(A)))(A)
    check_grads(lambda x: np.linalg.norm([x[0], x[1] * 2]))(onp.array([0.3, 0.4]))
    onp.testing.assert_array_equal(np.linalg.T(onp.ones((2, 1, 3))), onp.ones((2, 3, 1)))
    check_grads(lambda A: np.linalg._dot(np.linalg.T(A), A))(A)
    D = onp.array([[1.0, 2.0], [3.0, 4.0]])  # noqa: N806
    onp.testing.assert_array_equal(np.make_diagonal(D, axis1=-1, axis2=-2)[1], onp.diag(D[1]))
    check_grads(lambda D: np.make_diagonal(D, axis1=-1, axis2=-2))(D)
    with pytest.raises(NotImplementedError):
        np.make_diagonal(D)


# ---------------------------------------------------------------- containers


def test_container_gradients_keep_their_types():
    g = grad(lambda d: d["a"] * d["b"][0] * d["b"][1][0])({"a": 2.0, "b": (3.0, [4.0])})
    assert type(g) is dict and type(g["b"]) is tuple and type(g["b"][1]) is list
    assert g == {"a": 12.0, "b": (8.0, [6.0])}
    assert grad(lambda x: ag_list((x, x))[1] * 3)(1.0) == 3.0
    check_grads(lambda x: ag_tuple((x, 2 * x)))(1.0)
    check_grads(lambda x: ag_dict([("a", x)], b=x), modes=["rev"])(1.0)
    check_grads(lambda d, x: d.get("item", x) ** 2, argnum=(0, 1))({"item": 3.0}, 2.0)
    assert grad(lambda xs: 1.0)([]) == []


def test_flatten_and_optimizers():
    value = {"a": onp.ones((2, 2)), "b": [1.0, (onp.arange(3.0),)]}
    vector, unflatten = flatten(value)
    assert vector.shape == (8,) and isinstance(vector, onp.ndarray)
    again = unflatten(vector)
    assert type(again["b"][1]) is tuple
    onp.testing.assert_array_equal(again["b"][1][0], onp.arange(3.0))

    def loss(params, i):
        return np.sum((params["w"] - 3.0) ** 2) + (params["b"] + 1.0) ** 2

    calls = []

    def callback(params, i, g):
        assert set(params) == {"w", "b"} and set(g) == {"w", "b"}
        calls.append(i)

    for optimizer, kwargs in ((sgd, {"step_size": 0.1, "num_iters": 400}),
                              (rmsprop, {"step_size": 0.05, "num_iters": 400}),
                              (adam, {"step_size": 0.1, "num_iters": 400})):
        calls.clear()
        best = optimizer(grad(loss), {"w": onp.zeros(2), "b": 0.0}, callback, **kwargs)
        onp.testing.assert_allclose(best["w"], [3.0, 3.0], atol=0.05)
        assert best["b"] == pytest.approx(-1.0, abs=0.05)
        assert calls == list(range(kwargs["num_iters"]))


# ---------------------------------------------------------------- extend


@primitive
def cube(x):
    return x ** 3


defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
defjvp(cube, lambda g, ans, x: g * 3 * x ** 2)


@primitive
def scaled(x, y, scale=1.0):
    return scale * x * y


defvjp_argnums(scaled, lambda argnums, ans, args, kwargs: lambda g: tuple(
    g * kwargs.get("scale", 1.0) * args[1 - argnum] for argnum in argnums))
defjvp_argnums(scaled, lambda argnums, gs, ans, args, kwargs: sum(
    g * kwargs.get("scale", 1.0) * args[1 - argnum] for argnum, g in zip(argnums, gs)))


@primitive
def twice(x, y):
    return 2 * x + y


defvjp_argnum(twice, lambda argnum, ans, args, kwargs: lambda g: g * (2.0 - argnum))
defjvp_argnum(twice, lambda argnum, g, ans, args, kwargs: g * (2.0 - argnum))


@primitive
def linear(x, y):
    return np.dot(x, y)


def_linear(linear)
defvjp(linear, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * x)


def test_primitives_in_both_modes_to_second_order():
    x = onp.array([0.3, -0.8, 1.2])
    check_grads(lambda x: np.sum(cube(x) * x))(x)
    check_grads(scaled, argnum=(0, 1))(x, x[::-1], scale=2.0)
    check_grads(twice, argnum=(0, 1))(x, x ** 2)
    check_grads(lambda x: linear(x, x[::-1]))(x)
    assert grad(grad(cube))(2.0) == pytest.approx(12.0)


def test_primitives_work_under_every_chainrule_transform():
    x = cr.tensor([1.0, 2.0], dtype="float64")
    onp.testing.assert_allclose(cr.grad(lambda x: cr.sum(cube(x)))(x).numpy(), [3.0, 12.0])
    onp.testing.assert_allclose(cr.jacfwd(cube)(x).numpy(), onp.diag([3.0, 12.0]))
    onp.testing.assert_allclose(cr.jacrev(cube)(x).numpy(), onp.diag([3.0, 12.0]))
    onp.testing.assert_allclose(cr.hessian(lambda x: cr.sum(cube(x)))(x).numpy(),
                                onp.diag([6.0, 12.0]))
    assert cr.gradcheck(lambda x: cube(x), (cr.tensor([0.5, 1.5], dtype="float64"),))
    assert not isinstance(cube(onp.array(2.0)), Tensor)  # a plain call runs the function


def test_primitive_without_a_rule_raises_not_implemented():
    @primitive
    def no_rules(x):
        return x * 2

    with pytest.raises(NotImplementedError, match="VJP of no_rules"):
        grad(no_rules)(1.0)
    with pytest.raises(NotImplementedError, match="JVP of no_rules"):
        deriv(no_rules)(1.0)
    defvjp(no_rules, None)
    assert grad(no_rules)(1.0) == 0.0  # None: a zero gradient, as in HIPS
    with pytest.raises(NotImplementedError, match="argnums \\[1\\]"):
        grad(twice_vjp_0_only, 1)(1.0, 2.0)


@primitive
def twice_vjp_0_only(x, y):
    return x * y


defvjp(twice_vjp_0_only, lambda ans, x, y: lambda g: g * y)


def test_primitive_with_several_outputs_is_refused():
    pair = primitive(lambda x: (x, 2 * x))
    defvjp(pair, lambda ans, x: lambda g: g)
    with pytest.raises(TypeError, match="one array"):
        grad(lambda x: pair(x)[0])(1.0)


def test_notrace_primitive_and_vspace():
    shape_of = notrace_primitive(lambda x: onp.shape(x))
    assert grad(lambda x: np.sum(x) * shape_of(x)[0])(onp.ones(3)).tolist() == [3.0] * 3
    assert vspace(onp.ones((2, 3))).size == 6 and vspace(1j).size == 2
    assert vspace([1.0, {"a": onp.ones(2)}]).size == 3
    with pytest.raises(TypeError, match="vector space"):
        vspace("text")


# ---------------------------------------------------------------- test_util


def test_check_grads_catches_wrong_rules_in_each_mode_and_order():
    @primitive
    def wrong_vjp(x):
        return x ** 2

    defvjp(wrong_vjp, lambda ans, x: lambda g: g * 2.1 * x)
    defjvp(wrong_vjp, lambda g, ans, x: g * 2 * x)
    check_grads(wrong_vjp, modes=["fwd"])(1.3)
    with pytest.raises(AssertionError, match="VJP"):
        check_grads(wrong_vjp, modes=["rev"])(1.3)

    @primitive
    def wrong_jvp(x):
        return x ** 2

    defvjp(wrong_jvp, lambda ans, x: lambda g: g * 2 * x)
    defjvp(wrong_jvp, lambda g, ans, x: g * 2.1 * x)
    with pytest.raises(AssertionError):
        check_grads(wrong_jvp, modes=["fwd"])(1.3)

    @primitive
    def wrong_second(x):  # right derivative, wrong derivative of the derivative
        return x ** 3

    defvjp(wrong_second, lambda ans, x: lambda g: g * 3 * onp.asarray(x) ** 2 if not isinstance(
        x, Tensor) else g * 3 * cr.stop_gradient(x) ** 2)
    check_grads(wrong_second, modes=["rev"], order=1)(1.3)
    with pytest.raises(AssertionError):
        check_grads(wrong_second, modes=["rev"], order=2)(1.3)


def test_combo_check_scalar_close_and_check_equivalent():
    combo_check(np.sum, (0,))([onp.ones((2, 3)), onp.arange(3.0)], axis=[None, 0],
                              keepdims=[True, False])
    assert scalar_close(1.0, 1.0 + 1e-9) and not scalar_close(1.0, 1.001)
    check_equivalent(onp.ones(3), onp.ones(3))
    with pytest.raises(AssertionError):
        check_equivalent(onp.ones(3), onp.ones(4))


def test_deprecated_quick_grad_check():
    from chainrule.autograd.util import quick_grad_check

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        quick_grad_check(lambda x, y: x ** 2 + y, 1.0, (2.0,))


# ---------------------------------------------------------------- against HIPS itself


def _oracle_cases(anp):
    A = onp.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]])  # noqa: N806
    return {
        "tanh_exp": lambda x: anp.sum(anp.tanh(x) * anp.exp(0.3 * x)),
        "quadratic": lambda x: anp.dot(anp.dot(A, x), anp.dot(A, x)),
        "softplus_mean": lambda x: anp.mean(anp.log1p(anp.exp(x)), axis=0),
        "norm_max": lambda x: anp.linalg.norm(x) + anp.max(x ** 2),
        "reshape_T": lambda x: anp.sum(anp.reshape(x, (3, 1)).T @ anp.ones((3, 2))),
        "array_of_scalars": lambda x: anp.sum(anp.array([x[0] * x[1], x[2] ** 2]) ** 3),
        "where": lambda x: anp.sum(anp.where(x > 0, anp.sin(x), x ** 3)),
    }


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("case", list(_oracle_cases(np)))
def test_against_hips_autograd(case):
    hips = pytest.importorskip("autograd")
    import autograd.numpy as anp

    ours, theirs = _oracle_cases(np)[case], _oracle_cases(anp)[case]
    x = onp.array([0.4, -0.9, 1.3])
    v = onp.array([1.0, -0.5, 0.25])
    for transform in ("grad", "hessian", "elementwise_grad"):
        onp.testing.assert_allclose(
            globals()[transform](ours)(x), getattr(hips, transform)(theirs)(x), rtol=1e-10)
    onp.testing.assert_allclose(
        make_jvp(ours)(x)(v)[1], hips.make_jvp(theirs)(x)(v)[1], rtol=1e-10)
    onp.testing.assert_allclose(
        make_hvp(ours)(x)[0](v), hips.make_hvp(theirs)(x)[0](v), rtol=1e-10)


def test_against_hips_autograd_complex_and_containers():
    hips = pytest.importorskip("autograd")
    import autograd.misc
    import autograd.numpy as anp

    z = onp.array([0.3 + 0.4j, -1.0 + 0.5j])
    for f in (lambda np: lambda z: np.sum(np.abs(z) ** 2),
              lambda np: lambda z: np.sum(np.real(z * np.conj(z) * z)),
              lambda np: lambda z: np.sum(np.imag(np.exp(z)) * np.real(z))):
        onp.testing.assert_allclose(grad(f(np))(z), hips.grad(f(anp))(z), rtol=1e-10)
    onp.testing.assert_allclose(
        make_vjp(lambda z: np.exp(z) * 2)(z)[0](z[::-1]),
        hips.make_vjp(lambda z: anp.exp(z) * 2)(z)[0](z[::-1]), rtol=1e-10)
    onp.testing.assert_allclose(
        jacobian(lambda z: np.abs(z))(z), hips.jacobian(lambda z: anp.abs(z))(z), rtol=1e-10)
    params = {"w": onp.array([1.0, 2.0]), "b": [0.5, (1.5,)]}
    f = lambda np: lambda p: np.sum(p["w"] ** 2) * p["b"][0] + p["b"][1][0] ** 3  # noqa: E731
    ours, theirs = grad(f(np))(params), hips.grad(f(anp))(params)
    assert type(theirs["b"][1]) is type(ours["b"][1]) is tuple
    onp.testing.assert_allclose(flatten(ours)[0], autograd.misc.flatten(theirs)[0])


def _complex_primitive_cases(ag, anp, ext):
    @ext.primitive
    def square(z):
        return z ** 2

    ext.defvjp(square, lambda ans, z: lambda g: g * 2 * z)
    ext.defjvp(square, lambda g, ans, z: g * 2 * z)
    z, x = onp.array([0.3 + 0.4j, 1.0 - 0.5j]), onp.array([0.5, 2.0])
    return [
        ag.grad(lambda z: anp.sum(anp.abs(square(z)) ** 2))(z),
        ag.grad(lambda x: anp.sum(anp.imag(square(x * (1 + 1j)))))(x),
        ag.make_jvp(square)(z)(z[::-1])[1],
        ag.make_vjp(lambda z: square(z) * 1j)(z)[0](z),
    ]


def test_complex_primitive_rules_against_hips_autograd():
    hips = pytest.importorskip("autograd")
    import autograd.extend
    import autograd.numpy as anp

    import chainrule.autograd as ag
    import chainrule.autograd.extend as ext

    ours = _complex_primitive_cases(ag, np, ext)
    theirs = _complex_primitive_cases(hips, anp, autograd.extend)
    for mine, reference in zip(ours, theirs, strict=True):
        onp.testing.assert_allclose(mine, reference, rtol=1e-12)


# ---------------------------------------------------------------- the suite's runner


def _suite_runner():
    path = Path(__file__).parents[1] / "tools" / "hips_suite.py"
    spec = importlib.util.spec_from_file_location("hips_suite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_suite_runner_rewrites_only_imports():
    source = (
        "import autograd.numpy as np\n"
        "import autograd.scipy.signal\n"
        "from autograd import (\n    grad,\n    jacobian,\n)\n"
        "from autograd.core import make_vjp\n"
        "from autograd.tracer import primitive, isbox\n"
        "from autograd.misc import const_graph, flatten\n"
        "x = np.ones(3)  # autograd stays in comments\n"
    )
    rewritten = _suite_runner().rewrite(source)
    assert "np = _m('chainrule.autograd.numpy')" in rewritten
    assert "autograd = _m('chainrule.autograd.scipy.signal', True)" in rewritten
    assert "grad = _p('chainrule.autograd', 'grad')" in rewritten
    assert "make_vjp = _i('autograd.core', 'make_vjp')" in rewritten
    assert "primitive = _p('chainrule.autograd.extend', 'primitive')" in rewritten
    assert "isbox = _i('autograd.tracer', 'isbox')" in rewritten
    assert "const_graph = _i('autograd.misc', 'const_graph')" in rewritten
    assert "flatten = _p('chainrule.autograd.misc', 'flatten')" in rewritten
    assert rewritten.endswith("x = np.ones(3)  # autograd stays in comments\n")


@pytest.mark.parametrize("name", [
    "chainrule.autograd", "chainrule.autograd.differential_operators", "chainrule.autograd._vspace",
    "chainrule.autograd.numpy", "chainrule.autograd.extend", "chainrule.autograd.builtins",
    "chainrule.autograd.misc.flatten", "chainrule.autograd.misc.optimizers",
    "chainrule.autograd.misc.fixed_points", "chainrule.autograd.test_util",
])
def test_docstring_examples(name):
    import doctest

    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0


def test_fixed_point_is_differentiated_implicitly_to_second_order():
    from chainrule.autograd.misc.fixed_points import fixed_point

    def sqrt(a):
        step = lambda a: lambda x: x - 0.05 * (x**2 - a)  # noqa: E731 (converges to sqrt(a))
        return fixed_point(step, a, 10.0, lambda x, y: np.abs(x - y), 1e-12)

    assert sqrt(2.0) == pytest.approx(2.0**0.5, abs=1e-9)
    assert grad(sqrt)(2.0) == pytest.approx(0.5 * 2.0**-0.5, rel=1e-8)
    assert grad(grad(sqrt))(2.0) == pytest.approx(-0.25 * 2.0**-1.5, rel=1e-8)


def test_fixed_point_matches_hips():
    hips_fixed_points = pytest.importorskip("autograd.misc.fixed_points")
    hips_np = pytest.importorskip("autograd.numpy")
    import autograd as hips

    from chainrule.autograd.misc.fixed_points import fixed_point

    def root(fixed_point, np):
        step = lambda a: lambda x: 0.5 * (x + a / x)  # noqa: E731 (Newton's, for sqrt(a))
        return lambda a: fixed_point(step, a, 1.0, lambda x, y: np.abs(x - y), 1e-6)

    ours, theirs = root(fixed_point, np), root(hips_fixed_points.fixed_point, hips_np)
    assert grad(ours)(3.0) == pytest.approx(hips.grad(theirs)(3.0), rel=1e-12)


def test_checkpoint_recomputes_with_plain_results():
    from chainrule.autograd import checkpoint

    block = checkpoint(lambda x: np.sin(x) * 2.0)
    x = onp.array([0.0, 1.0])
    assert isinstance(block(x), onp.ndarray)
    onp.testing.assert_allclose(grad(lambda x: np.sum(block(block(x))))(x),
                                2.0 * onp.cos(2.0 * onp.sin(x)) * 2.0 * onp.cos(x))
