"""chainrule.scipy.integrate.odeint: SciPy's values; derivatives in y0, t and args by the
adjoint method (reverse) and the sensitivity equations (forward), to second order."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.integrate  # noqa: E402
from scipy_checks import check  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.scipy.integrate import odeint  # noqa: E402

R = np.random.default_rng(11).standard_normal
TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def func(y, t, arg1, arg2):  # HIPS autograd's test system
    return -cr.sqrt(t) - y + arg1 - cr.mean((y + arg2) ** 2)


def numpy_func(y, t, arg1, arg2):
    return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)


Y0, T, ARG1, ARG2 = R(3), np.linspace(0.1, 0.2, 4), R(3), R(3)


def solve(y0, t, arg1, arg2):
    return odeint(func, y0, t, (arg1, arg2), **TIGHT)


def test_values_are_scipys():
    np.testing.assert_allclose(odeint(func, Y0, T, (ARG1, ARG2)).numpy(),
                               scipy.integrate.odeint(numpy_func, Y0, T, (ARG1, ARG2)))
    lotka = [1.0, 0.5]

    def predator_prey(t, y, a, b):  # tfirst, and a scalar y0 below
        return [a * y[0] - b * y[0] * y[1], b * y[0] * y[1] - y[1]]  # a list, as SciPy allows

    times = np.linspace(0, 2, 5)
    np.testing.assert_allclose(
        odeint(predator_prey, lotka, times, (1.0, 0.3), tfirst=True).numpy(),
        scipy.integrate.odeint(lambda t, y, a, b: [a * y[0] - b * y[0] * y[1],
                                                   b * y[0] * y[1] - y[1]],
                               lotka, times, (1.0, 0.3), tfirst=True))
    assert odeint(lambda y, t: -y, 1.0, times).shape == (5, 1)
    check(lambda y0, a: odeint(predator_prey, y0, times, (a, 0.3), tfirst=True, **TIGHT),
          (np.array(lotka), np.array(1.0)), order=1)


def test_derivatives_in_y0_t_and_args_both_modes():
    check(solve, (Y0, T, ARG1, ARG2), order=1)


def test_second_derivatives():
    check(solve, (Y0, T, ARG1, ARG2), order=2, atol=1e-4, batched=False)


def test_a_pytree_of_args_with_constants():
    def rate(y, t, params):
        return -params["k"] * y ** params["power"]

    def final(y0, k):
        return odeint(rate, y0, [0.0, 0.5, 1.0], ({"k": k, "power": 2},), **TIGHT)[-1]

    check(final, (np.array([1.0, 2.0]), np.array(0.7)), order=1)
    exact = 1.0 / (1.0 / np.array([1.0, 2.0]) + 0.7)  # y' = -k y^2
    np.testing.assert_allclose(final(np.array([1.0, 2.0]), np.array(0.7)).numpy(), exact,
                               rtol=1e-8)


def test_gradients_are_hips_autograds():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd.builtins import tuple as hips_tuple
    from autograd.scipy.integrate import odeint as hips_odeint

    def hips_func(y, t, arg1, arg2):
        return -anp.sqrt(t) - y + arg1 - anp.mean((y + arg2) ** 2)

    weights = R((4, 3))
    expected = autograd.grad(
        lambda y0, t, a1, a2: anp.sum(hips_odeint(hips_func, y0, t, hips_tuple((a1, a2)))
                                      * weights), argnum=[0, 1, 2, 3])(Y0, T, ARG1, ARG2)
    got = cr.grad(lambda *xs: cr.sum(odeint(func, xs[0], xs[1], xs[2:]) * weights),
                  argnums=(0, 1, 2, 3))(Y0, T, ARG1, ARG2)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-7, atol=1e-9)


def test_a_closed_over_tensor_that_requires_grad_is_refused():
    k = cr.tensor(0.5, dtype="float64", requires_grad=True)
    with pytest.raises(ValueError, match="through args="):
        odeint(lambda y, t: -k * y, Y0, T)


def test_unsupported_options_are_refused():
    with pytest.raises(NotImplementedError, match="full_output"):
        odeint(func, Y0, T, (ARG1, ARG2), full_output=True)
    with pytest.raises(TypeError, match="unexpected keyword"):
        odeint(func, Y0, T, (ARG1, ARG2), rtoll=1e-3)
    with pytest.raises(ValueError, match="y0 must be a vector"):
        odeint(func, np.ones((2, 2)), T, (ARG1, ARG2))


def test_dfun_serves_the_forward_solve():
    def jacobian(y, t, k):
        return np.diag(-k * np.ones_like(y))

    out = odeint(lambda y, t, k: -k * y, Y0, T, (0.3,), Dfun=jacobian)
    np.testing.assert_allclose(out.numpy(), Y0 * np.exp(-0.3 * (T - T[0]))[:, None], rtol=1e-6)
    grad = cr.grad(lambda k: odeint(lambda y, t, k: -k * y, Y0, T, (k,), Dfun=jacobian,
                                    **TIGHT)[-1, 0])(np.float64(0.3))
    np.testing.assert_allclose(float(grad), -(T[-1] - T[0]) * Y0[0] * np.exp(-0.3 * 0.1),
                               rtol=1e-6)


def test_hessians_agree_in_every_order_of_modes():
    def loss(arg1):
        return cr.sum(solve(Y0, T, arg1, ARG2)[-1] ** 2)

    hessians = [np.asarray(outer(inner(loss))(ARG1)) for outer in (cr.jacrev, cr.jacfwd)
                for inner in (cr.jacrev, cr.jacfwd)]
    for hessian in hessians[1:]:
        np.testing.assert_allclose(hessian, hessians[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(hessians[0], hessians[0].T, rtol=1e-6, atol=1e-9)
