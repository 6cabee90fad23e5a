"""chainrule.scipy.linalg: SciPy's values and conventions, derivatives in both modes to second
order (batched Jacobians too); and ``import chainrule`` never imports SciPy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.linalg  # noqa: E402
from scipy_checks import check  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.scipy import linalg  # noqa: E402

R = np.random.default_rng(5).standard_normal


def spd(n):
    a = R((n, n))
    return a @ a.T + n * np.eye(n)


def symmetrized(f):
    return lambda x: f(0.5 * (x + cr.swapaxes(x, -1, -2)))


def test_import_chainrule_does_not_import_scipy():
    code = "import sys, chainrule; assert 'scipy' not in sys.modules, 'scipy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- sqrtm, solve_sylvester


def test_sqrtm_values_are_scipys_also_complex_and_stacked():
    for a in (spd(3), R((3, 3)), R((3, 3)) + 1j * R((3, 3))):
        np.testing.assert_allclose(linalg.sqrtm(a).numpy(), scipy.linalg.sqrtm(a), atol=1e-10)
    stack = np.stack([spd(3), spd(3)])
    np.testing.assert_allclose(linalg.sqrtm(stack).numpy(),
                               np.stack([scipy.linalg.sqrtm(m) for m in stack]), atol=1e-12)


def _real_root(a):
    """sqrtm of a matrix whose root is real (SciPy before 1.16 may still give complex dtype)."""
    root = linalg.sqrtm(a)
    return cr.real(root) if np.iscomplexobj(root.data) else root


def test_sqrtm_derivatives():
    check(_real_root, (spd(3),))
    check(symmetrized(_real_root), (R((3, 3)) + 4 * np.eye(3),))  # HIPS's test, shifted
    check(_real_root, (R((3, 3)) + 3 * np.eye(3),))  # not symmetric
    check(_real_root, (np.stack([spd(2), spd(2)]),))
    # a real matrix with a complex root: the derivative of a real function of it
    cr.gradcheck(lambda x: cr.real(linalg.sqrtm(x)), (np.diag([-1.0, 2.0]) + 0.1 * R((2, 2)),))


def test_sqrtm_refuses_disp_false_and_non_square():
    with pytest.raises(NotImplementedError, match="disp=False"):
        linalg.sqrtm(spd(2), disp=False)
    with pytest.raises(ValueError, match="square"):
        linalg.sqrtm(R((2, 3)))


def test_solve_sylvester_values_and_derivatives():
    a, b, q = R((3, 3)), R((2, 2)), R((3, 2))
    np.testing.assert_allclose(linalg.solve_sylvester(a, b, q).numpy(),
                               scipy.linalg.solve_sylvester(a, b, q))
    check(linalg.solve_sylvester, (R((3, 3)), R((3, 3)), R((3, 3))))
    check(linalg.solve_sylvester, (a, b, q))
    check(linalg.solve_sylvester, (a, b, R((2, 3, 2))))  # a stack of right-hand sides
    with pytest.raises(ValueError, match="q must have shape"):
        linalg.solve_sylvester(a, b, R((2, 3)))


def test_gradients_are_hips_autograds():
    autograd = pytest.importorskip("autograd")
    import autograd.scipy.linalg as hips_linalg

    a, b, q, w = R((3, 3)), R((3, 3)), R((3, 3)), R((3, 3))
    expected = autograd.grad(lambda *xs: (hips_linalg.solve_sylvester(*xs) * w).sum(),
                             argnum=[0, 1, 2])(a, b, q)
    got = cr.grad(lambda *xs: (linalg.solve_sylvester(*xs) * w).sum(), argnums=(0, 1, 2))(a, b, q)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e, atol=1e-10)
    ab, rhs = R((3, 5)) + np.array([[0.0], [4.0], [0.0]]), R(5)
    expected = autograd.grad(lambda ab, b: (hips_linalg.solve_banded((1, 1), ab, b) * w[0, 0]
                                            ).sum(), argnum=[0, 1])(ab, rhs)
    got = cr.grad(lambda ab, b: (linalg.solve_banded((1, 1), ab, b) * w[0, 0]).sum(),
                  argnums=(0, 1))(ab, rhs)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e, atol=1e-10)
    s = spd(3)
    np.testing.assert_allclose(
        cr.grad(lambda x: (linalg.sqrtm(x) * w).sum())(s).numpy(),
        autograd.grad(lambda x: (hips_linalg.sqrtm(x) * w).sum())(s), atol=1e-10)


# ---------------------------------------------------------------- triangular and banded


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular(trans, lower, unit_diagonal):
    a = R((4, 4)) + 3 * np.eye(4)
    options = {"trans": trans, "lower": lower, "unit_diagonal": unit_diagonal}
    for b in (R(4), R((4, 2))):
        np.testing.assert_allclose(linalg.solve_triangular(a, b, **options).numpy(),
                                   scipy.linalg.solve_triangular(a, b, **options))
        check(lambda a, b: linalg.solve_triangular(a, b, **options), (a, b))
    complex_a, b = a + 1j * R((4, 4)), R(4)
    np.testing.assert_allclose(linalg.solve_triangular(complex_a, b, **options).numpy(),
                               scipy.linalg.solve_triangular(complex_a, b, **options))


def test_solve_triangular_complex_derivatives_and_stacks():
    a = R((3, 3)) + 1j * R((3, 3)) + 3 * np.eye(3)
    for trans in (0, 1, 2):
        cr.gradcheck(lambda a, b, t=trans: linalg.solve_triangular(a, b, trans=t, lower=True),
                     (a, R((3, 2)) + 1j * R((3, 2))))
    check(lambda a, b: linalg.solve_triangular(a, b, lower=True),
          (R((2, 3, 3)) + 3 * np.eye(3), R((2, 3, 2))))
    check(lambda a, b: linalg.solve_triangular(a, b, trans=1),  # a stack of right-hand sides
          (R((3, 3)) + 3 * np.eye(3), R((2, 3, 2))))
    with pytest.raises(ValueError, match="trans"):
        linalg.solve_triangular(a, R(3), trans="X")
    with pytest.raises(ValueError, match="incompatible"):
        linalg.solve_triangular(a, R(4))


@pytest.mark.parametrize("l_and_u", [(1, 1), (0, 0), (2, 1), (0, 2)], ids=str)
def test_solve_banded(l_and_u):
    ab = R((sum(l_and_u) + 1, 5))
    ab[l_and_u[1]] += 4.0  # the diagonal
    for b in (R(5), R((5, 2))):
        np.testing.assert_allclose(linalg.solve_banded(l_and_u, ab, b).numpy(),
                                   scipy.linalg.solve_banded(l_and_u, ab, b))
        check(lambda ab, b: linalg.solve_banded(l_and_u, ab, b), (ab, b))


def test_solve_banded_checks_the_band_and_the_shapes():
    with pytest.raises(ValueError, match="does not equal ab.shape"):
        linalg.solve_banded((1, 1), R((2, 5)), R(5))
    with pytest.raises(ValueError, match="incompatible"):
        linalg.solve_banded((1, 1), R((3, 5)), R(4))


# ---------------------------------------------------------------- Cholesky and solve


def test_cholesky_cho_factor_and_cho_solve_are_scipys():
    a, b = spd(3), R(3)
    for lower in (False, True):
        np.testing.assert_allclose(linalg.cholesky(a, lower=lower).numpy(),
                                   scipy.linalg.cholesky(a, lower=lower))
        c, low = linalg.cho_factor(a, lower=lower)
        expected = scipy.linalg.cho_factor(a, lower=lower)
        assert low == expected[1]
        read = np.tril if lower else np.triu  # (SciPy leaves the other triangle unspecified)
        np.testing.assert_allclose(read(c.numpy()), read(expected[0]))
        np.testing.assert_allclose(linalg.cho_solve((c, low), b).numpy(),
                                   scipy.linalg.cho_solve(expected, b))
        check(lambda a, b, lower=lower: linalg.cho_solve(linalg.cho_factor(a, lower=lower), b),
              (a, b))
        check(lambda a, lower=lower: linalg.cholesky(a, lower=lower), (a,))
    complex_a = a + 1j * (R((3, 3)) - R((3, 3)).T) * 0.1
    np.testing.assert_allclose(linalg.cholesky(complex_a).numpy(), scipy.linalg.cholesky(complex_a))


@pytest.mark.parametrize("assume_a", [None, "gen", "sym", "her", "pos", "lower triangular",
                                      "upper triangular"])
def test_solve_reads_what_scipy_reads(assume_a):
    a = spd(3) + np.triu(0.1 * R((3, 3)))  # the two triangles disagree
    if assume_a in (None, "gen"):
        a = a + 0.1 * R((3, 3))
    for lower in (False, True):
        for b in (R(3), R((3, 2))):
            np.testing.assert_allclose(
                linalg.solve(a, b, lower=lower, assume_a=assume_a).numpy(),
                scipy.linalg.solve(a, b, lower=lower, assume_a=assume_a))
        check(lambda a, b, lower=lower: linalg.solve(a, b, lower=lower, assume_a=assume_a),
              (a, R(3)), order=1)
    np.testing.assert_allclose(linalg.solve(a, b, transposed=True).numpy(),
                               scipy.linalg.solve(a, b, transposed=True))
    with pytest.raises(ValueError, match="assume_a"):
        linalg.solve(a, b, assume_a="banded")


def test_numpy_names_run_chainrule_linalg_with_scipys_signatures():
    a, s = R((3, 3)), spd(3)
    np.testing.assert_allclose(linalg.inv(a).numpy(), scipy.linalg.inv(a))
    np.testing.assert_allclose(linalg.det(a).numpy(), scipy.linalg.det(a))
    np.testing.assert_allclose(linalg.norm(a, 1).numpy(), scipy.linalg.norm(a, 1))
    np.testing.assert_allclose(linalg.svdvals(a).numpy(), scipy.linalg.svdvals(a))
    np.testing.assert_allclose(linalg.svd(a, compute_uv=False).numpy(),
                               scipy.linalg.svd(a, compute_uv=False))
    u, values, vh = linalg.svd(a)
    np.testing.assert_allclose((u.numpy() * values.numpy()) @ vh.numpy(), a)
    skewed = s + np.triu(R((3, 3)), 1)  # the two triangles disagree
    for lower in (True, False):
        np.testing.assert_allclose(linalg.eigvalsh(skewed, lower=lower).numpy(),
                                   scipy.linalg.eigvalsh(skewed, lower=lower))
    w, v = linalg.eigh(s)
    np.testing.assert_allclose(s @ v.numpy(), v.numpy() * w.numpy(), atol=1e-10)
    with pytest.raises(NotImplementedError, match="generalized"):
        linalg.eigh(s, s)
    cr.gradcheck(lambda a: linalg.det(a) + linalg.inv(a).sum(), (a,))


@pytest.mark.parametrize("name", ["signal", "linalg", "integrate"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    module = importlib.import_module(f"chainrule.scipy.{name}")
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried and not failures
