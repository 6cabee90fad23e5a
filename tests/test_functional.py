"""The functional transforms: grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import functional
from chainrule.modes import state

rng = np.random.default_rng(7)


def fd_jacobian(f, x, eps=1e-6):
    """Central finite differences of a function of one array: shape ``f(x).shape + x.shape``
    (the gradient, for a scalar function)."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    out_shape = np.shape(columns[0])
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def close(actual, expected, tol=1e-8):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=tol, atol=tol)


@pytest.fixture(autouse=True)
def clean_state():
    yield
    assert not state.live_levels
    assert state.transform_depth == 0


# ---------------------------------------------------------------------------- the basics


def test_grad_of_a_scalar_function():
    x = rng.standard_normal(5)
    f = lambda x: cr.sum(cr.sin(x) * x)  # noqa: E731
    g = cr.grad(f)(x)
    assert isinstance(g, cr.Tensor)
    close(g, np.cos(x) * x + np.sin(x))
    close(g, fd_jacobian(f, x), 1e-6)


def test_grad_argnums_and_pytrees():
    a, b = rng.standard_normal(3), rng.standard_normal(3)

    def f(a, b, scale):
        return cr.sum(a * b) * scale

    ga, gb = cr.grad(f, argnums=(0, 1))(a, b, 2.0)
    close(ga, 2 * b)
    close(gb, 2 * a)
    close(cr.grad(f, argnums=-2)(a, b, 2.0), 2 * a)

    def g(params, x):
        return cr.sum(params["w"] * x) + params["bias"][0] * params["bias"][1]

    grads = cr.grad(g)({"w": a, "bias": [np.float64(2.0), np.float64(3.0)]}, b)
    assert set(grads) == {"w", "bias"} and isinstance(grads["bias"], list)
    close(grads["w"], b)
    close(grads["bias"][0], 3.0)
    close(grads["bias"][1], 2.0)


def test_value_and_grad_and_aux():
    x = rng.standard_normal(4)
    value, g = cr.value_and_grad(lambda x: cr.sum(x**2))(x)
    close(value, np.sum(x**2))
    close(g, 2 * x)
    (value, aux), g = cr.value_and_grad(lambda x: (cr.sum(x**2), "note"), has_aux=True)(x)
    assert aux == "note"
    g, aux = cr.grad(lambda x: (cr.sum(x**3), x * 2), has_aux=True)(x)
    close(g, 3 * x**2)
    close(aux, 2 * x)


def test_inputs_numbers_arrays_tensors_and_dtypes():
    assert cr.grad(lambda x: x**2)(3.0).item() == pytest.approx(6.0)
    g32 = cr.grad(lambda x: cr.sum(x**2))(np.ones(3, dtype=np.float32))
    assert g32.dtype == np.float32
    g64 = cr.grad(lambda x: cr.sum(x**2))(cr.tensor([1.0, 2.0], dtype="float64"))
    assert g64.dtype == np.float64
    assert cr.jacfwd(lambda x: x * 2)(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert cr.jacrev(lambda x: x * 2)(np.ones(2, dtype=np.float32)).dtype == np.float32


def test_vjp_and_jvp_signatures():
    x = rng.standard_normal(3)
    out, vjp_fn = cr.vjp(lambda x: cr.sin(x), x)
    close(out, np.sin(x))
    u = rng.standard_normal(3)
    (ct,) = vjp_fn(u)
    close(ct, u * np.cos(x))
    (again,) = vjp_fn(2 * u)  # callable several times
    close(again, 2 * u * np.cos(x))

    out, tangent = cr.jvp(lambda x: cr.sin(x), (x,), (u,))
    close(out, np.sin(x))
    close(tangent, u * np.cos(x))


def test_multiple_outputs_as_pytrees():
    x, y = rng.standard_normal(3), rng.standard_normal(3)

    def f(x, y):
        return {"sum": x + y, "prod": (x * y, cr.sum(x))}

    out, tangent = cr.jvp(f, (x, y), (np.ones(3), np.zeros(3)))
    close(tangent["sum"], np.ones(3))
    close(tangent["prod"][0], y)
    close(tangent["prod"][1], 3.0)
    out, vjp_fn = cr.vjp(f, x, y)
    cx, cy = vjp_fn({"sum": np.ones(3), "prod": (np.ones(3), np.float64(1.0))})
    close(cx, 1 + y + 1)
    close(cy, 1 + x)
    jac = cr.jacrev(f, argnums=(0, 1))(x, y)
    close(jac["prod"][0][1], np.diag(x))
    close(jac["prod"][1][0], np.ones(3))
    jac_f = cr.jacfwd(f, argnums=(0, 1))(x, y)
    close(jac_f["prod"][0][1], np.diag(x))
    close(jac_f["sum"][0], np.eye(3))


def test_unused_inputs_and_constant_outputs_give_zeros():
    x = rng.standard_normal(3)
    close(cr.grad(lambda x, y: cr.sum(y * 2.0), argnums=0)(x, x), np.zeros(3))
    close(cr.jacrev(lambda x: cr.ones(2))(x), np.zeros((2, 3)))
    close(cr.jacfwd(lambda x: cr.ones(2))(x), np.zeros((2, 3)))
    close(cr.jvp(lambda x: cr.ones(2), (x,), (x,))[1], np.zeros(2))


# ---------------------------------------------------------------------------- Jacobians


@pytest.mark.parametrize("jac", [cr.jacrev, cr.jacfwd, cr.jacobian])
def test_jacobians_against_finite_differences(jac):
    a = rng.standard_normal((4, 3))

    def f(x):
        return cr.tanh(cr.tensor(a) @ x) * cr.sum(x**2)

    x = rng.standard_normal(3)
    close(jac(f)(x), fd_jacobian(f, x), 1e-6)
    m = rng.standard_normal((2, 3))
    g = lambda m: cr.exp(m) @ cr.tensor(a.T)  # noqa: E731
    result = jac(g)(m)
    assert result.shape == (2, 4, 2, 3)
    close(result, fd_jacobian(g, m), 1e-6)


def test_batched_identity_is_one_pass(monkeypatch):
    """jacrev, jacfwd and hessian push a whole identity at once: no loop over basis vectors."""
    calls = {"backward": 0, "levels": 0}
    engine_gradients = functional.gradients
    new_level = functional.new_level

    def counting_gradients(*args, **kwargs):
        calls["backward"] += 1
        return engine_gradients(*args, **kwargs)

    def counting_level():
        calls["levels"] += 1
        return new_level()

    monkeypatch.setattr(functional, "gradients", counting_gradients)
    monkeypatch.setattr(functional, "new_level", counting_level)
    a = rng.standard_normal((64, 64)) / 8
    x = rng.standard_normal(64)
    f = lambda x: cr.sum(cr.tanh(cr.tensor(a) @ x))  # noqa: E731
    h = cr.hessian(f)(x)
    assert calls == {"backward": 1, "levels": 1}
    t = np.tanh(a @ x)
    close(h, (a.T * (-2 * t * (1 - t * t))) @ a, 1e-12)
    calls.update(backward=0, levels=0)
    g = lambda x: cr.tanh(cr.tensor(a) @ x)  # noqa: E731
    cr.jacrev(g)(x)
    cr.jacfwd(g)(x)
    assert calls == {"backward": 1, "levels": 1}


def test_batched_identity_equals_looping():
    a = rng.standard_normal((5, 4))
    f = lambda x: cr.sin(cr.tensor(a) @ x) * x[:1]  # noqa: E731
    x = rng.standard_normal(4)
    rows = [np.asarray(cr.vjp(f, x)[1](e)[0]) for e in np.eye(5)]
    columns = [np.asarray(cr.jvp(f, (x,), (e,))[1]) for e in np.eye(4)]
    close(cr.jacrev(f)(x), np.stack(rows), 1e-13)
    close(cr.jacfwd(f)(x), np.stack(columns, axis=-1), 1e-13)


# ---------------------------------------------------------------------------- Hessians


def test_hessian_of_a_quadratic_form():
    a = rng.standard_normal((5, 5))
    b = rng.standard_normal(5)
    f = lambda x: x @ cr.tensor(a) @ x + cr.sum(cr.tensor(b) * x)  # noqa: E731
    x = rng.standard_normal(5)
    close(cr.hessian(f)(x), a + a.T, 1e-12)
    close(cr.jacrev(cr.jacrev(f))(x), a + a.T, 1e-12)


def rosenbrock(x):
    return cr.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


def test_hessian_of_rosenbrock():
    x = rng.standard_normal(6)
    close(cr.hessian(rosenbrock)(x), rosenbrock_hessian(x), 1e-10)
    close(cr.grad(rosenbrock)(np.ones(6)), np.zeros(6))


def test_hessian_of_log_det():
    m = np.eye(3) * 2 + 0.3 * rng.standard_normal((3, 3))
    inv = np.linalg.inv(m)
    expected = -np.einsum("li,jk->ijkl", inv, inv)  # d2 log|det X| / dX_ij dX_kl
    log_det = lambda x: cr.linalg.slogdet(x)[1]  # noqa: E731
    close(cr.grad(log_det)(m), inv.T, 1e-12)
    close(cr.hessian(log_det)(m), expected, 1e-12)
    close(cr.jacrev(cr.jacfwd(log_det))(m), expected, 1e-12)


def test_hvp():
    x = rng.standard_normal(6)
    v = rng.standard_normal(6)
    close(cr.hvp(rosenbrock, (x,), (v,)), rosenbrock_hessian(x) @ v, 1e-10)


# ---------------------------------------------------------------------------- the chapter


def chapter_f(x):
    return cr.log(x**2) * cr.sin(x) + 1 / x


def chapter_df(x):
    return 2 * np.sin(x) / x + np.log(x**2) * np.cos(x) - 1 / x**2


def test_chapter_exercise_forward_and_backward():
    x = np.linspace(0.1, 5.0, 50)
    forward = cr.jvp(chapter_f, (x,), (np.ones_like(x),))[1]
    backward = cr.grad(lambda x: cr.sum(chapter_f(x)))(x)
    close(forward, chapter_df(x), 1e-12)
    close(backward, chapter_df(x), 1e-12)
    for point in (0.5, -2.0, 3.0):
        close(cr.grad(chapter_f)(np.float64(point)), chapter_df(point), 1e-12)
        close(cr.jvp(chapter_f, (np.float64(point),), (np.float64(1.0),))[1],
              chapter_df(point), 1e-12)


def chapter_control_flow(a):
    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_control_flow_scalar_vector_matrix(shape):
    a = rng.standard_normal(shape)
    out = np.asarray(chapter_control_flow(a))
    factor = out / a  # the function is linear in a along this path
    size = int(np.prod(shape))
    expected = np.diag(factor.reshape(-1)).reshape(shape + shape)
    close(cr.grad(lambda a: cr.sum(chapter_control_flow(a)))(a), factor)
    close(cr.jacrev(chapter_control_flow)(a), expected)
    close(cr.jacfwd(chapter_control_flow)(a), expected)
    close(cr.jvp(chapter_control_flow, (a,), (np.ones(shape),))[1], factor)
    hessian = cr.hessian(lambda a: cr.sum(chapter_control_flow(a)))(a)
    close(hessian, np.zeros((size, size)).reshape(shape + shape))


# ---------------------------------------------------------------------------- composition


def test_higher_derivatives_any_order():
    x = np.float64(0.7)
    f = cr.sin
    d1, d2, d3 = cr.grad(f), cr.grad(cr.grad(f)), cr.grad(cr.grad(cr.grad(f)))
    close(d1(x), np.cos(x))
    close(d2(x), -np.sin(x))
    close(d3(x), -np.cos(x))
    fwd = lambda g: lambda x: cr.jvp(g, (x,), (np.float64(1.0),))[1]  # noqa: E731
    close(fwd(fwd(fwd(f)))(x), -np.cos(x))
    close(fwd(cr.grad(fwd(f)))(x), -np.cos(x))
    close(cr.grad(fwd(cr.grad(f)))(x), -np.cos(x))


def test_second_order_jacobians_agree_including_square_case():
    """n == m is where nested batch axes could silently pair up instead of multiplying."""
    for m in (3, 4):
        a = rng.standard_normal((m, 4))
        f = lambda x, a=a: cr.sin(cr.tensor(a) @ x) * cr.sum(x**2)  # noqa: E731
        x = rng.standard_normal(4)
        fd = fd_jacobian(lambda x, f=f: np.asarray(cr.jacrev(f)(x)), x)
        for outer in (cr.jacfwd, cr.jacrev):
            for inner in (cr.jacfwd, cr.jacrev):
                close(outer(inner(f))(x), fd, 1e-6)


def test_jvp_of_grad_and_grad_of_jvp():
    x = rng.standard_normal(4)
    v = rng.standard_normal(4)
    f = lambda x: cr.sum(x**3)  # noqa: E731
    close(cr.jvp(cr.grad(f), (x,), (v,))[1], 6 * x * v)
    close(cr.grad(lambda x: cr.jvp(f, (x,), (v,))[1])(x), 6 * x * v)


def test_grad_of_a_function_that_calls_backward():
    x = rng.standard_normal(3)

    def f(x):
        y = cr.sum(x**3)
        y.backward(create_graph=True)
        return cr.sum(x.grad)  # sum of 3 x^2

    close(cr.grad(f)(x), 6 * x)

    def f3(x):  # sum(3 x^3), through x.grad
        cr.sum(x**3).backward(create_graph=True)
        return cr.sum(x.grad * x)

    close(cr.grad(lambda x: cr.sum(cr.grad(f3)(x)))(x), 18 * x)  # nested: x.grad still filled
    close(cr.hessian(f3)(x), np.diag(18 * x))

    def g(x):
        (dx,) = cr.gradients(cr.sum(x**3), x, create_graph=True)
        return cr.sum(dx * dx)

    close(cr.grad(g)(x), 36 * x**3)
    close(cr.hessian(g)(x), np.diag(108 * x**2), 1e-10)


def test_grad_of_vjp_inside():
    x = rng.standard_normal(3)
    u = rng.standard_normal(3)

    def f(x):
        _, vjp_fn = cr.vjp(lambda x: x**3, x)
        return cr.sum(vjp_fn(u)[0])  # sum(3 x^2 u)

    close(cr.grad(f)(x), 6 * x * u)


def test_results_stay_differentiable_for_inputs_that_require_grad():
    x = cr.tensor(rng.standard_normal(3), dtype="float64", requires_grad=True)
    g = cr.grad(lambda x: cr.sum(x**3))(x)
    cr.sum(g).backward()
    close(x.grad, 6 * x.detach().numpy())


def test_transforms_record_inside_no_grad():
    with cr.no_grad():
        close(cr.grad(lambda x: x * x)(np.float64(3.0)), 6.0)
        close(cr.hessian(lambda x: cr.sum(x**3))(np.ones(2)), 6 * np.eye(2))


# ---------------------------------------------------------------------------- perturbations


def test_no_perturbation_confusion():
    """d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x, and d/dx [x * d/dy (x + y)] = 1."""
    x0, y0, one = np.float64(3.0), np.float64(5.0), np.float64(1.0)

    def d_fwd(f, at):
        return cr.jvp(f, (at,), (one,))[1]

    close(d_fwd(lambda x: x * d_fwd(lambda y: x * y, y0), x0), 2 * x0)
    close(d_fwd(lambda x: x * d_fwd(lambda y: x + y, y0), x0), 1.0)
    close(cr.grad(lambda x: x * cr.grad(lambda y: x * y)(y0))(x0), 2 * x0)
    close(cr.grad(lambda x: x * cr.grad(lambda y: x + y)(y0))(x0), 1.0)
    close(d_fwd(lambda x: x * cr.grad(lambda y: x * y)(y0), x0), 2 * x0)
    close(cr.grad(lambda x: x * d_fwd(lambda y: x * y, y0))(x0), 2 * x0)


# ---------------------------------------------------------------------------- errors


def test_grad_of_a_non_scalar_output():
    with pytest.raises(TypeError, match="scalar output.*vjp.*jacrev"):
        cr.grad(lambda x: x * 2)(np.ones(3))


def test_integer_inputs_are_refused():
    with pytest.raises(TypeError, match="floating"):
        cr.grad(lambda x: x * 2)(3)
    with pytest.raises(TypeError, match="floating"):
        cr.jacfwd(lambda x: x * 2)(np.arange(3))
    with pytest.raises(TypeError, match="floating"):
        cr.jvp(lambda x: x * 2, (np.arange(3),), (np.ones(3),))


def test_tangents_must_match_their_primals():
    with pytest.raises(ValueError, match="shape"):
        cr.jvp(cr.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match="dtype"):
        cr.jvp(cr.sin, (np.ones(3),), (np.ones(3, dtype=np.float32),))
    with pytest.raises(ValueError, match="one tangent per primal"):
        cr.jvp(cr.sin, (np.ones(3),), ())
    with pytest.raises(ValueError, match="shape"):
        cr.vjp(cr.sin, np.ones(3))[1](np.ones(2))


def test_misuse_of_argnums_and_aux():
    with pytest.raises(ValueError, match="argnums"):
        cr.grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(TypeError, match="has_aux"):
        cr.grad(lambda x: x, has_aux=True)(1.0)


def test_errors_leave_no_level_behind():
    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cr.jvp(broken, (np.ones(2),), (np.ones(2),))
    with pytest.raises(RuntimeError, match="boom"):
        cr.hessian(broken)(np.ones(2))


def test_pytree_round_trip():
    tree = {"a": [1.0, (2.0, None)], "b": 3.0}
    leaves, treedef = functional.tree_flatten(tree)
    assert leaves == [1.0, 2.0, 3.0]
    assert functional.tree_unflatten(treedef, leaves) == tree


def test_escaped_tensors_do_not_confuse_later_jvps():
    kept = []

    def f(x):
        kept.append(x * 1.0)  # escapes the jvp, still carrying its tangent
        return x * 2.0

    cr.jvp(f, (np.float64(1.0),), (np.float64(1.0),))
    # A later jvp in which the escaped tensor is a constant: its old tangent must not count.
    _, tangent = cr.jvp(lambda y: y * kept[0], (np.float64(3.0),), (np.float64(1.0),))
    close(tangent, 1.0)


def test_aux_outputs_and_identity_functions():
    x = rng.standard_normal(3)
    out, tangent, aux = cr.jvp(lambda x: (x * 2, x**2), (x,), (np.ones(3),), has_aux=True)
    close(aux, x**2)
    assert not aux._tangents
    jac, aux = cr.jacfwd(lambda x: (x * 2, x**2), has_aux=True)(x)
    close(jac, 2 * np.eye(3))
    assert not aux._tangents
    h, aux = cr.hessian(lambda x: (cr.sum(x**3), cr.sum(x)), has_aux=True)(x)
    close(h, np.diag(6 * x))
    close(aux, np.sum(x))
    close(cr.jacrev(lambda x: x)(x), np.eye(3))
    close(cr.jacfwd(lambda x: x)(x), np.eye(3))


def test_docstring_examples():
    import doctest

    failures, tried = doctest.testmod(functional, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0


def test_results_stay_differentiable_for_closed_over_parameters():
    """A gradient penalty: grad with respect to x, then backward to the weights w."""
    w = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    x = np.array([3.0, 4.0])
    g = cr.grad(lambda x: cr.sum(w * x**2))(x)  # 2 w x
    cr.sum(g * g).backward()  # d/dw sum(4 w^2 x^2) = 8 w x^2
    close(w.grad, 8 * np.array([1.0, 2.0]) * x**2)
    jac = cr.jacrev(lambda x: w * x**2)(x)
    assert jac.requires_grad
    with cr.no_grad():
        assert not cr.grad(lambda x: cr.sum(w * x**2))(x).requires_grad
    assert not cr.grad(lambda x: cr.sum(x**2))(x).requires_grad


# ---------------------------------------------------------------- mixed modes, third order


def _f3(x):
    return cr.sin(x) * x**3


def _third(x):  # d3/dx3 sin(x) x^3
    s, c = np.sin(x), np.cos(x)
    return -c * x**3 - 9 * s * x**2 + 18 * c * x + 6 * s


def test_forward_over_reverse_over_reverse_is_not_zero():
    # the retain_grad hook of the outer grad's input used to drop the tangents
    x = np.float64(1.3)
    expected = _third(x)
    close(cr.jvp(cr.grad(cr.grad(_f3)), (x,), (1.0,))[1], expected)
    close(cr.jacfwd(cr.grad(cr.grad(_f3)))(x), expected)
    close(cr.grad(cr.grad(cr.grad(_f3)))(x), expected)
    close(cr.hessian(cr.grad(_f3))(np.float64(x)), expected)


def test_hessian_of_a_function_that_calls_grad():
    x = np.array([0.7, 1.3])
    inner = lambda x: cr.grad(lambda y: cr.sum(cr.sin(y) * y**3))(x).sum()  # noqa: E731
    close(cr.hessian(inner)(x), np.diag(_third(x)))


def test_forward_mode_through_a_vjp_function_keeps_the_cotangents_tangents():
    x0 = np.array([0.5, 1.0])
    _, vjp_fn = cr.vjp(lambda x: cr.sin(x) * x, x0)
    slope = np.sin(x0) + x0 * np.cos(x0)
    out, tangent = cr.jvp(lambda c: vjp_fn(c)[0], (np.array([1.0, 2.0]),),
                          (np.array([1.0, 0.0]),))
    close(out, slope * [1.0, 2.0])
    close(tangent, slope * [1.0, 0.0])
    assert tangent.grad_fn is None and out.grad_fn is None  # results leave the graph behind


def test_results_and_aux_of_transforms_convert_to_numpy():
    x = np.array([0.5, 1.0])
    g, aux = cr.grad(lambda x: (cr.sum(x**3), x * 2), has_aux=True)(x)
    (value, aux2), _ = cr.value_and_grad(lambda x: (cr.sum(x), {"y": x * 3}), has_aux=True)(x)
    h = cr.jacrev(cr.jacfwd(lambda x: cr.sum(cr.sin(x))))(x)  # no dead tangents left on it
    for result in (g, aux, value, aux2["y"], h):
        np.asarray(result)
    assert not h._tangents
