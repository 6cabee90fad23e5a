"""Custom derivative rules (``cr.custom_jvp``, ``cr.custom_vjp``) and user primitives
(``cr.primitive``): JAX's documented examples, checked against finite differences in float64,
in both modes and to second order, with pytrees, nondiff_argnums, the tape, hooks and
gradcheck, and the errors a wrong rule gets."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _fd(f, x, eps=1e-6):
    """Central differences of ``f`` (array -> array) at ``x``: shape out + in."""
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        jac[(...,) + index] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps)
    return jac


def _np(value):
    return np.asarray(value._array if isinstance(value, cr.Tensor) else value)


# ---------------------------------------------------------------- log1pexp (custom_jvp)


@cr.custom_jvp
def log1pexp(x):
    return cr.log(1.0 + cr.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + cr.exp(x)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_log1pexp_is_stable_at_large_x_in_both_modes():
    with np.errstate(over="ignore", invalid="ignore"):
        assert float(cr.grad(log1pexp)(100.0)) == 1.0
        assert float(cr.jvp(log1pexp, (cr.tensor(100.0),), (cr.tensor(1.0),))[1]) == 1.0
        assert float(cr.grad(lambda x: cr.log(1.0 + cr.exp(x)))(100.0)) != 1.0  # (nan without)


def test_log1pexp_matches_finite_differences_to_second_order():
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    exact = _sigmoid(x)
    assert np.allclose(_np(cr.jacrev(log1pexp)(x)), np.diag(exact))
    assert np.allclose(_np(cr.jacfwd(log1pexp)(x)), np.diag(exact))
    assert np.allclose(_np(cr.jacrev(log1pexp)(x)), _fd(lambda v: np.logaddexp(0, v), x))
    second = exact * (1 - exact)
    loss = lambda v: log1pexp(v).sum()  # noqa: E731
    assert np.allclose(_np(cr.hessian(loss)(x)), np.diag(second))
    assert np.allclose(_np(cr.jacrev(cr.grad(loss))(x)), np.diag(second))
    assert np.allclose(_np(cr.grad(cr.grad(log1pexp))(0.5)), second[2])
    assert np.allclose(_np(cr.jvp(cr.grad(loss), (x,), (np.ones(4),))[1]), second)
    assert cr.gradcheck(log1pexp, [x])


def test_log1pexp_on_the_tape_with_create_graph_and_hooks():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = log1pexp(x)
    seen = []
    y.register_hook(lambda g: seen.append(g) or g * 2)
    (dx,) = cr.gradients(y.sum(), x, create_graph=True)
    assert np.allclose(_np(dx), 2 * _sigmoid(np.array([0.0, 1.0])))
    assert len(seen) == 1
    dx.sum().backward()
    s = _sigmoid(np.array([0.0, 1.0]))
    assert np.allclose(_np(x.grad), 2 * s * (1 - s))
    with cr.GradientTape() as tape:
        w = cr.tensor(0.5)
        tape.watch(w)
        z = log1pexp(w) * 3.0
    assert np.allclose(_np(tape.gradient(z, w)), 3 * _sigmoid(0.5))


# ---------------------------------------------------------------- f(x, y) = sin(x) * y


@cr.custom_jvp
def f_jvp(x, y):
    return cr.sin(x) * y


@f_jvp.defjvp
def f_jvp_rule(primals, tangents):
    x, y = primals
    x_dot, y_dot = tangents
    return f_jvp(x, y), cr.cos(x) * x_dot * y + cr.sin(x) * y_dot


@cr.custom_vjp
def f_vjp(x, y):
    return cr.sin(x) * y


def f_fwd(x, y):
    return f_vjp(x, y), (cr.cos(x), cr.sin(x), y)


def f_bwd(res, g):
    cos_x, sin_x, y = res
    return cos_x * g * y, sin_x * g


f_vjp.defvjp(f_fwd, f_bwd)


@pytest.mark.parametrize("f", [f_jvp, f_vjp], ids=["custom_jvp", "custom_vjp"])
def test_sin_times_y_first_and_second_order(f):
    x, y = 2.0, 3.0
    dx, dy = cr.grad(f, argnums=(0, 1))(x, y)
    assert np.allclose([_np(dx), _np(dy)], [np.cos(x) * y, np.sin(x)])
    assert np.allclose(_np(cr.grad(cr.grad(f))(x, y)), -np.sin(x) * y)
    assert np.allclose(_np(cr.grad(cr.grad(f), argnums=1)(x, y)), np.cos(x))
    xs = np.array([0.3, 1.0, 2.0])
    ys = np.array([1.5, -2.0, 0.5])
    jac = _np(cr.jacrev(f)(xs, ys))
    assert np.allclose(jac, _fd(lambda v: np.sin(v) * ys, xs))
    value, grads = cr.value_and_grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(xs, ys)
    assert np.allclose(_np(value), np.sum(np.sin(xs) * ys))
    assert np.allclose(_np(grads[1]), np.sin(xs))
    out, pull = cr.vjp(f, xs, ys)
    assert np.allclose(_np(pull(np.ones(3))[0]), np.cos(xs) * ys)
    assert cr.gradcheck(f, [xs, ys], modes=("rev",))


def test_sin_times_y_forward_mode():
    xs, ys = np.array([0.3, 1.0]), np.array([1.5, -2.0])
    _, t = cr.jvp(f_jvp, (xs, ys), (np.ones(2), np.zeros(2)))
    assert np.allclose(_np(t), np.cos(xs) * ys)
    assert np.allclose(_np(cr.jacfwd(f_jvp, argnums=1)(xs, ys)), np.diag(np.sin(xs)))
    hess = _np(cr.hessian(lambda a: f_jvp(a, ys).sum())(xs))
    assert np.allclose(hess, np.diag(-np.sin(xs) * ys))
    assert cr.gradcheck(f_jvp, [xs, ys])


def test_custom_vjp_refuses_forward_mode():
    with pytest.raises(TypeError, match="custom_jvp"):
        cr.jvp(f_vjp, (1.0, 2.0), (1.0, 0.0))
    with pytest.raises(TypeError, match="custom_jvp"):
        cr.jacfwd(f_vjp)(np.array([1.0]), np.array([2.0]))
    with pytest.raises(TypeError, match="custom_jvp"):
        cr.hessian(lambda a: f_vjp(a, 2.0))(1.0)


def test_without_differentiation_the_function_itself_runs():
    calls = []

    @cr.custom_vjp
    def g(x):
        calls.append("f")
        return x * 2

    g.defvjp(lambda x: (calls.append("fwd") or x * 2, None), lambda r, ct: (ct * 2,))
    assert np.allclose(_np(g(np.array([1.0]))), [2.0])
    assert calls == ["f"]
    cr.grad(lambda x: g(x).sum())(np.array([1.0]))
    assert calls == ["f", "fwd"]


# ---------------------------------------------------------------- clip_gradient (custom_vjp)


@cr.custom_vjp
def clip_gradient(lo, hi, x):
    return x


def clip_gradient_fwd(lo, hi, x):
    return x, (lo, hi)


def clip_gradient_bwd(res, g):
    lo, hi = res
    return None, None, cr.clip(g, lo, hi)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def test_clip_gradient():
    assert float(cr.grad(lambda x: clip_gradient(-0.75, 0.75, x) * 10.0, argnums=0)(2.0)) == 0.75
    assert float(cr.grad(lambda x: clip_gradient(-0.75, 0.75, x) * 0.5)(2.0)) == 0.5
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = clip_gradient(-1.0, 1.0, x)
    assert np.array_equal(_np(y), [1.0, 2.0])
    (y * cr.tensor([3.0, -0.25])).sum().backward()
    assert np.allclose(_np(x.grad), [1.0, -0.25])


# ---------------------------------------------------------------- implicit differentiation


@cr.custom_vjp
def solve(a, b):
    return cr.tensor(np.linalg.solve(_np(a), _np(b)))


def solve_fwd(a, b):
    x = cr.linalg.solve(a, b)
    return x, (a, x)


def solve_bwd(res, g):
    a, x = res
    v = cr.linalg.solve(cr.transpose(a), g)  # one more solve
    return -cr.outer(v, x), v


solve.defvjp(solve_fwd, solve_bwd)

A = np.array([[4.0, 1.0, 0.5], [0.3, 3.0, 0.2], [0.1, 0.4, 2.5]])
B = np.array([1.0, -2.0, 0.5])


def test_implicit_solve_against_finite_differences():
    assert np.allclose(_np(solve(A, B)), np.linalg.solve(A, B))
    assert cr.gradcheck(solve, [A, B], modes=("rev",))
    jac_b = _np(cr.jacrev(solve, argnums=1)(A, B))
    assert np.allclose(jac_b, np.linalg.inv(A))
    jac_a = _np(cr.jacrev(solve)(A, B))
    assert np.allclose(jac_a, _fd(lambda m: np.linalg.solve(m, B), A))


def test_implicit_solve_second_order():
    w = np.array([0.5, -1.0, 2.0])
    loss = lambda b: (solve(A, b) ** 2 * w).sum()  # noqa: E731
    hess = _np(cr.jacrev(cr.grad(loss))(B))
    exact = 2 * np.linalg.inv(A).T @ np.diag(w) @ np.linalg.inv(A)
    assert np.allclose(hess, exact)
    grad_a = lambda m: _np(cr.grad(lambda mm: (solve(mm, B) ** 2).sum())(m))  # noqa: E731
    second = _np(cr.jacrev(cr.grad(lambda m: (solve(m, B) ** 2).sum()))(A))
    assert np.allclose(second, _fd(grad_a, A), atol=1e-5)


# ---------------------------------------------------------------- nondiff_argnums, pytrees


def test_custom_jvp_nondiff_argnums_takes_a_function():
    from functools import partial

    @partial(cr.custom_jvp, nondiff_argnums=(0,))
    def app(f, x):
        return f(x)

    @app.defjvp
    def app_jvp(f, primals, tangents):
        (x,), (x_dot,) = primals, tangents
        return f(x), 2.0 * x_dot

    assert float(cr.grad(lambda x: app(cr.sin, x))(1.0)) == 2.0
    assert float(cr.jvp(lambda x: app(cr.sin, x), (1.0,), (3.0,))[1]) == 6.0
    assert np.allclose(_np(app(np.sin, np.array(1.0))), np.sin(1.0))


def test_custom_vjp_nondiff_argnums_come_first_in_bwd():
    from functools import partial

    @partial(cr.custom_vjp, nondiff_argnums=(1,))
    def scale(x, k):
        return x * k

    def fwd(x, k):
        return x * k, None

    def bwd(k, res, g):
        assert k == 3.0
        return (g * k,)

    scale.defvjp(fwd, bwd)
    assert float(cr.grad(lambda x: scale(x, 3.0))(2.0)) == 3.0


def test_pytrees_of_arguments_and_results():
    @cr.custom_jvp
    def polar(p):
        return {"x": p["r"] * cr.cos(p["t"]), "y": p["r"] * cr.sin(p["t"])}

    @polar.defjvp
    def polar_jvp(primals, tangents):
        (p,), (dp,) = primals, tangents
        r, t = p["r"], p["t"]
        return polar(p), {
            "x": dp["r"] * cr.cos(t) - r * cr.sin(t) * dp["t"],
            "y": dp["r"] * cr.sin(t) + r * cr.cos(t) * dp["t"],
        }

    @cr.custom_vjp
    def pair(x, y):
        return x * y, (x + y, [x])

    pair.defvjp(lambda x, y: (pair(x, y), (x, y)),
                lambda res, g: (g[0] * res[1] + g[1][0] + g[1][1][0], g[0] * res[0] + g[1][0]))
    p = {"r": 2.0, "t": 0.5}
    loss = lambda p: (polar(p)["x"] * polar(p)["y"])  # noqa: E731
    g = cr.grad(loss)(p)
    # x * y = r^2 sin(2t) / 2
    assert np.allclose([_np(g["r"]), _np(g["t"])], [2 * np.sin(1.0), 4 * np.cos(1.0)])
    _, tangent = cr.jvp(polar, (p,), ({"r": 1.0, "t": 0.0},))
    assert np.allclose([_np(tangent["x"]), _np(tangent["y"])], [np.cos(0.5), np.sin(0.5)])
    assert np.allclose(_np(cr.grad(lambda q: cr.grad(loss)(q)["r"])(p)["r"]), np.sin(1.0))
    assert np.allclose(_np(cr.grad(lambda q: cr.grad(loss)(q)["t"])(p)["r"]), 4 * np.cos(1.0))
    gx, gy = cr.grad(lambda x, y: sum(v.sum() for v in _leaves(pair(x, y))), argnums=(0, 1))(
        np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert np.allclose(_np(gx), [5.0, 6.0]) and np.allclose(_np(gy), [2.0, 3.0])


def _leaves(tree):
    return cr.tree_util.tree_leaves(tree)


def test_closures_over_constants_and_mixed_dtypes():
    scale = cr.tensor(3.0)

    @cr.custom_jvp
    def h(x):
        return cr.sin(x) * scale

    h.defjvp(lambda p, t: (h(p[0]), cr.cos(p[0]) * scale * t[0]))
    x32 = np.array([0.5, 1.0], dtype=np.float32)
    g = cr.grad(lambda x: h(x).sum())(x32)
    assert g.dtype == np.float32 and np.allclose(_np(g), 3 * np.cos(x32))


# ---------------------------------------------------------------- errors and NumPy rules


def _numpy_rule():
    @cr.custom_vjp
    def cube(x):
        return x ** 3

    def fwd(x):
        return cube(x), _np(x)

    def bwd(x, g):
        return (3 * np.asarray(x) ** 2 * np.asarray(g),)

    cube.defvjp(fwd, bwd)
    return cube


def test_a_numpy_bwd_gives_first_derivatives_and_refuses_the_second():
    cube = _numpy_rule()
    assert float(cr.grad(cube)(2.0)) == 12.0
    assert np.allclose(_np(cr.jacrev(cube)(np.array([1.0, 2.0]))), np.diag([3.0, 12.0]))
    with pytest.raises(TypeError, match="bwd.*cube.*NumPy array"):
        cr.grad(cr.grad(cube))(2.0)
    x = cr.tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match="NumPy array"):
        cr.gradients(cube(x), x, create_graph=True)


def _bad(bwd):
    @cr.custom_vjp
    def bad_fn(x, y):
        return x * y

    bad_fn.defvjp(lambda x, y: (x * y, (x, y)), bwd)
    return bad_fn


@pytest.mark.parametrize("bwd, error, match", [
    (lambda r, g: (g,), TypeError, r"bad_fn.*tuple of 2 cotangent\(s\).*got 1"),
    (lambda r, g: g, TypeError, r"tuple of 2"),
    (lambda r, g: (g, cr.ones(5)), ValueError,
     r"bwd rule <lambda> of .*bad_fn.*shape \(5,\).*\(2,\)"),
    (lambda r, g: (g, cr.astype(g, "float32")), TypeError, r"dtype float32.*float64"),
])
def test_wrong_rules_name_the_function_and_what_was_expected(bwd, error, match):
    f = _bad(bwd)
    with pytest.raises(error, match=match):
        cr.grad(lambda x: f(x, np.array([1.0, 2.0])).sum())(np.array([1.0, 2.0]))


def test_missing_and_malformed_rules():
    @cr.custom_jvp
    def nojvp(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined.*nojvp"):
        cr.grad(nojvp)(1.0)

    @cr.custom_vjp
    def novjp(x):
        return x

    with pytest.raises(AttributeError, match="No VJP defined.*novjp"):
        cr.grad(novjp)(1.0)

    @cr.custom_jvp
    def single(x):
        return x

    single.defjvp(lambda p, t: t[0])
    with pytest.raises(TypeError, match="single.*pair"):
        cr.jvp(single, (1.0,), (1.0,))

    @cr.custom_jvp
    def wrong_shape(x):
        return x

    wrong_shape.defjvp(lambda p, t: (p[0], cr.ones(3)))
    with pytest.raises(ValueError, match="wrong_shape.*shape \\(3,\\)"):
        cr.jvp(wrong_shape, (np.ones(2),), (np.ones(2),))


# ---------------------------------------------------------------- user primitives


def test_primitive_is_exported_with_defrules():
    @cr.primitive
    def cube_prim(x):
        return x ** 3

    cube_prim.defrules(vjp=lambda g, x: g * 3 * x ** 2, jvp=lambda t, x: t * 3 * x ** 2)
    x = cr.tensor([1.0, 2.0], dtype="float64")
    assert cr.gradcheck(lambda v: cube_prim(v), [x])
    assert np.allclose(_np(cr.grad(cr.grad(lambda v: cube_prim(v)))(2.0)), 12.0)
    from chainrule.ops.primitive import REGISTRY

    REGISTRY.pop("cube_prim")


def test_custom_jvp_closing_over_differentiated_tensors():
    """The rule gives the derivative in the arguments; in a tensor the function closes over,
    the function's own ops give it (reverse and forward mode, nested)."""

    def make(w):
        @cr.custom_jvp
        def h(x):
            return cr.sin(x) * w

        h.defjvp(lambda p, t: (h(p[0]), cr.cos(p[0]) * w * t[0]))
        return h

    x0, w0 = 0.7, 1.5
    loss = lambda x, w: make(w)(x) ** 2  # noqa: E731 - (sin(x) w)^2
    gx, gw = cr.grad(loss, argnums=(0, 1))(x0, w0)
    assert np.allclose([_np(gx), _np(gw)], [
        2 * np.sin(x0) * np.cos(x0) * w0 ** 2, 2 * np.sin(x0) ** 2 * w0])
    _, tw = cr.jvp(lambda w: loss(x0, w), (w0,), (1.0,))
    assert np.allclose(_np(tw), 2 * np.sin(x0) ** 2 * w0)
    mixed = cr.grad(lambda w: cr.grad(loss)(x0, w))(w0)
    assert np.allclose(_np(mixed), 4 * np.sin(x0) * np.cos(x0) * w0)
    w = cr.tensor(w0, requires_grad=True)
    x = cr.tensor(x0, requires_grad=True)
    loss(x, w).backward()
    assert np.allclose([_np(x.grad), _np(w.grad)], [_np(gx), _np(gw)])


def test_custom_vjp_closing_over_differentiated_tensors():
    """bwd gives the cotangents of the arguments; a tensor the function closes over gets its
    gradient through the function's own ops."""

    def make(w):
        @cr.custom_vjp
        def h(x):
            return cr.sin(x) * w

        h.defvjp(lambda x: (cr.sin(x) * w, (cr.cos(x), w)), lambda r, g: (r[0] * r[1] * g,))
        return h

    x0, w0 = 0.7, 1.5
    loss = lambda x, w: make(w)(x) ** 2  # noqa: E731
    gx, gw = cr.grad(loss, argnums=(0, 1))(x0, w0)
    assert np.allclose([_np(gx), _np(gw)], [
        2 * np.sin(x0) * np.cos(x0) * w0 ** 2, 2 * np.sin(x0) ** 2 * w0])
    w = cr.tensor(w0, requires_grad=True)
    x = cr.tensor(x0, requires_grad=True)
    loss(x, w).backward()
    assert np.allclose([_np(x.grad), _np(w.grad)], [_np(gx), _np(gw)])
    _, tw = cr.jvp(lambda w: loss(x0, w), (w0,), (1.0,))  # (only w carries a tangent)
    assert np.allclose(_np(tw), _np(gw))
    mixed = cr.jvp(lambda w: cr.grad(loss)(x0, w), (w0,), (1.0,))[1]
    assert np.allclose(_np(mixed), 4 * np.sin(x0) * np.cos(x0) * w0)
    with pytest.raises(TypeError, match="custom_jvp"):
        cr.jvp(lambda x: loss(x, w0), (x0,), (1.0,))


def test_a_jvp_rule_calling_its_function_on_another_librarys_arrays():
    """JAX's pattern (the rule calls the function on its primals) with Dask arrays: the
    primals the rule gets are Dask arrays, which are arrays."""
    da = pytest.importorskip("dask.array")

    @cr.custom_jvp
    def softplus(x):
        return cr.log(1.0 + cr.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t * 2.0 * cr.sigmoid(x)  # (2x: the rule, not the derivative)

    values = np.array([0.1, 1.0, -2.0])
    got = cr.grad(lambda x: cr.sum(softplus(x)))(da.from_array(values, chunks=2))
    np.testing.assert_allclose(np.asarray(got), 2.0 / (1.0 + np.exp(-values)))
