"""chainrule.scipy.stats: SciPy's values (invalid parameters, points outside the support,
infinities and NaN included), argument conventions and errors; derivatives in both modes to
second order (each function is also in the op table: tests/op_samples_scipy.py), zero rather
than NaN where SciPy's value is a constant, and HIPS autograd's gradients where it has them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

st = pytest.importorskip("scipy.stats")

import chainrule as cr  # noqa: E402
from chainrule.scipy import stats  # noqa: E402

rng = np.random.default_rng(5)
mvn = stats.multivariate_normal

_X = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 2.5, np.nan, np.inf, -np.inf])
_XB = np.array([-0.1, 0.0, 0.2, 0.5, 0.9, 1.0, 1.2, np.nan])
_CONTINUOUS = {  # distribution: (x, shapes, loc, scale), with invalid shapes and scales
    "norm": (_X, (), 0.2, np.array([[1.5], [-1.0], [0.0]])),
    "t": (_X, (np.array([[2.5], [np.inf], [-1.0]]),), 0.2, 1.5),
    "gamma": (_X, (np.array([[2.5], [1.0], [0.5], [-1.0]]),), 0.0, 1.0),
    "chi2": (_X, (np.array([[2.5], [2.0], [1.0], [-1.0]]),), -0.1, 2.0),
    "beta": (_XB, (np.array([[2.5], [1.0], [0.5], [-1.0]]), 1.5), 0.0, 1.0),
}


def _same(ours, theirs):
    ours = ours.numpy() if isinstance(ours, cr.Tensor) else ours
    assert np.shape(ours) == np.shape(theirs) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"])
@pytest.mark.parametrize("name", sorted(_CONTINUOUS))
def test_continuous_values_are_scipys_everywhere(name, method):
    x, shapes, loc, scale = _CONTINUOUS[name]
    ours, theirs = getattr(getattr(stats, name), method), getattr(getattr(st, name), method)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        _same(ours(x, *shapes, loc, scale), theirs(x, *shapes, loc, scale))
        _same(ours(x, *shapes, loc=loc, scale=scale), theirs(x, *shapes, loc=loc, scale=scale))
        _same(ours(x.astype(np.float32), *shapes), theirs(x.astype(np.float32), *shapes))
        _same(ours(0.3, *[np.ravel(s)[0] for s in shapes]),
              theirs(0.3, *[np.ravel(s)[0] for s in shapes]))


def test_shapes_by_name_and_argument_errors():
    np.testing.assert_allclose(stats.t.pdf(0.3, df=2.5, scale=2.0).numpy(),
                               st.t.pdf(0.3, df=2.5, scale=2.0))
    with pytest.raises(TypeError, match="missing required argument.*'df'"):
        stats.t.pdf(0.3)
    with pytest.raises(TypeError, match="unexpected or repeated argument 'shape'"):
        stats.norm.pdf(0.3, shape=1.0)
    with pytest.raises(TypeError, match="at most"):
        stats.norm.cdf(0.3, 0.0, 1.0, 2.0)


@pytest.mark.parametrize("method", ["pmf", "logpmf", "cdf"])
def test_poisson_values_are_scipys_everywhere(method):
    k = np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 10.0, np.inf, np.nan])
    mu = np.array([[2.5], [0.0], [-1.0]])
    with np.errstate(all="ignore"):
        _same(getattr(stats.poisson, method)(k, mu), getattr(st.poisson, method)(k, mu))
        _same(getattr(stats.poisson, method)(k, 2.0, loc=1),
              getattr(st.poisson, method)(k, 2.0, loc=1))


def test_poisson_refuses_to_differentiate_in_the_count():
    k = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(NotImplementedError, match="not differentiable in k"):
        stats.poisson.pmf(k, 1.5)
    # the count as a constant: differentiable in mu, -pmf(k) for cdf
    mu = np.array([1.5, 3.0])
    grad = cr.grad(lambda mu: cr.sum(stats.poisson.cdf(np.array([1.7, 4.0]), mu)))(mu)
    np.testing.assert_allclose(grad, -st.poisson.pmf([1.0, 4.0], mu), rtol=1e-12)


def test_outside_the_support_the_gradient_is_zero_not_nan():
    x = np.array([-1.0, 0.5, 2.0])
    for f in (lambda x: stats.gamma.logpdf(x, 2.0), lambda x: stats.beta.pdf(x / 3, 2.0, 3.0),
              lambda x: stats.chi2.cdf(x, 3.0), lambda x: stats.norm.logpdf(x, 0.0, -1.0)):
        grad = np.asarray(cr.grad(lambda x, f=f: cr.sum(cr.where(cr.isfinite(f(x)), f(x), 0)))(x))
        assert np.isfinite(grad).all()
    grad = cr.grad(lambda a: cr.sum(stats.gamma.pdf(x, a)))(np.array([2.0, 2.0, -1.0]))
    assert grad[2] == 0 and grad[0] == 0 and grad[1] != 0


def test_densities_to_second_order_in_every_argument():
    x, loc, scale, shape = rng.standard_normal(3), rng.standard_normal(3), \
        rng.uniform(0.8, 2.0, 3), rng.uniform(1.5, 3.0, 3)
    cases = [
        (stats.norm.logcdf, (x, loc, scale)), (stats.norm.sf, (x, loc, scale)),
        (stats.t.logpdf, (x, shape, loc, scale)), (stats.t.cdf, (x, 3.0, loc, scale)),
        (stats.gamma.logpdf, (shape, scale, loc / 10, scale)),
        (stats.chi2.pdf, (shape, scale + 1, loc / 10, scale)),
        (stats.beta.logpdf, (scale / 4, shape, scale, loc / 10)),
    ]
    for f, args in cases:
        args = [np.asarray(a, dtype=np.float64) for a in args]
        differentiated = [i for i, a in enumerate(args) if a.ndim]

        def g(*values, f=f, args=args, differentiated=differentiated):
            full = list(args)
            for i, v in zip(differentiated, values, strict=True):
                full[i] = v
            return f(*full)

        values = [args[i] for i in differentiated]
        assert cr.gradcheck(g, values)
        gradient = cr.grad(lambda *v, g=g: cr.sum(g(*v)), argnums=tuple(range(len(values))))
        assert cr.gradcheck(lambda *v, gradient=gradient: cr.stack(gradient(*v)), values)


def test_distribution_functions_refuse_shapes_without_a_closed_form_derivative():
    with pytest.raises(NotImplementedError, match="df"):
        cr.grad(lambda df: cr.sum(stats.t.cdf(0.3, df)))(np.array([2.0, 3.0]))
    with pytest.raises(NotImplementedError, match="a"):
        cr.grad(lambda a: cr.sum(stats.gamma.cdf(0.3, a)))(np.array([2.0, 3.0]))
    with pytest.raises(NotImplementedError, match="b"):
        cr.grad(lambda b: cr.sum(stats.beta.sf(0.3, 2.0, b)))(np.array([2.0, 3.0]))


# ---------------------------------------------------------------- dirichlet


def test_dirichlet_values_checks_and_gradients():
    alpha = np.array([1.5, 2.0, 0.7])
    for x in (np.array([0.2, 0.3, 0.5]), np.array([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]]),
              np.array([0.2, 0.3])):
        _same(stats.dirichlet.logpdf(x, alpha), st.dirichlet.logpdf(x, alpha))
        _same(stats.dirichlet.pdf(x, alpha), st.dirichlet.pdf(x, alpha))
    for x, a, match in [([0.2, 0.3, 0.6], alpha, "simplex"), ([0.2, 0.3, 0.5], [1.0, -1.0, 1.0],
                        "greater than 0"), ([0.2, 0.8], [1.0, 1.0, 1.0, 1.0], "fewer"),
                        ([0.0, 0.5, 0.5], [0.5, 1.0, 1.0], "greater than zero if")]:
        with pytest.raises(ValueError, match=match):
            stats.dirichlet.logpdf(np.array(x), np.array(a))
    sample = stats.dirichlet.rvs(alpha, size=2, random_state=3)
    np.testing.assert_array_equal(sample.numpy(), st.dirichlet.rvs(alpha, size=2, random_state=3))
    assert not sample.requires_grad
    x = np.array([0.2, 0.3])  # (the last entry is 1 - the others: free to move)
    assert cr.gradcheck(lambda x, a: stats.dirichlet.logpdf(x, a), [x, alpha])
    gradient = cr.grad(lambda x, a: stats.dirichlet.pdf(x, a), argnums=(0, 1))
    assert cr.gradcheck(lambda x, a: cr.concatenate(gradient(x, a)), [x, alpha])


# ---------------------------------------------------------------- multivariate normal


def _psd(n):
    a = rng.standard_normal((n, n))
    return a @ a.T + np.eye(n)


def test_multivariate_normal_values_and_argument_forms_are_scipys():
    mean, cov = rng.standard_normal(4), _psd(4)
    for method in ("pdf", "logpdf"):
        ours, theirs = getattr(mvn, method), getattr(st.multivariate_normal, method)
        for x in (rng.standard_normal(4), rng.standard_normal((5, 4)),
                  rng.standard_normal((2, 3, 4))):
            _same(ours(x, mean, cov), theirs(x, mean, cov))
        _same(ours(0.3, 0.1, 2.0), theirs(0.3, 0.1, 2.0))
        _same(ours(np.array([0.3, -1.0]), None, 2.0), theirs(np.array([0.3, -1.0]), None, 2.0))
        _same(ours(np.ones(3), np.zeros(3), np.array([1.0, 2.0, 3.0])),
              theirs(np.ones(3), np.zeros(3), np.array([1.0, 2.0, 3.0])))
        _same(ours(np.ones(2)), theirs(np.ones(2)))
    _same(mvn.entropy(mean, cov), st.multivariate_normal.entropy(mean, cov))
    with pytest.raises(ValueError, match="positive semidefinite"):
        mvn.logpdf(np.zeros(2), None, np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        mvn.logpdf(np.zeros(2), None, np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="vector of length"):
        mvn.logpdf(np.zeros(2), np.zeros(3), np.eye(2))


def test_multivariate_normal_derivatives_to_second_order():
    x, mean, cov = rng.standard_normal((3, 3)), rng.standard_normal(3), _psd(3)

    def symmetric(f):
        return lambda x, mean, cov: f(x, mean, (cov + cov.T) / 2)

    for f in (symmetric(mvn.logpdf), symmetric(mvn.pdf)):
        assert cr.gradcheck(f, [x, mean, cov])
        gradient = cr.grad(lambda *a, f=f: cr.sum(f(*a)), argnums=(0, 1, 2))
        assert cr.gradcheck(
            lambda *a, gradient=gradient: cr.concatenate([cr.ravel(g) for g in gradient(*a)]),
            [x, mean, cov])
    # the Hessian in the mean is -n inv(cov), at an identity covariance too (repeated eigenvalues)
    for cov in (_psd(3), np.eye(3)):
        hessian = cr.hessian(lambda m, cov=cov: cr.sum(mvn.logpdf(x, m, cov)))(mean)
        np.testing.assert_allclose(hessian, -3 * np.linalg.inv(cov), rtol=1e-10)
    assert cr.gradcheck(lambda cov: mvn.entropy(None, (cov + cov.T) / 2), [_psd(3)])


def test_multivariate_normal_with_a_singular_covariance():
    cov = np.zeros((4, 4))
    cov[0, 0] = cov[1, 1] = 1
    x = np.array([[0.3, -0.2, 0.0, 0.0], [0.1, 0.2, 0.5, 0.0]])
    for method in ("pdf", "logpdf"):
        _same(getattr(mvn, method)(x, None, cov, allow_singular=True),
              getattr(st.multivariate_normal, method)(x, None, cov, allow_singular=True))
    mean = np.zeros(4)
    grad = cr.grad(lambda m: mvn.logpdf(x[0], m, cov, allow_singular=True))(mean)
    np.testing.assert_allclose(grad, [0.3, -0.2, 0.0, 0.0], rtol=1e-12, atol=1e-15)
    with pytest.raises(NotImplementedError, match="singular covariance"):
        cr.grad(lambda c: mvn.logpdf(x[0], mean, c, allow_singular=True))(cov)


# ---------------------------------------------------------------- against HIPS autograd


def test_gradients_are_hips_autograds():
    autograd = pytest.importorskip("autograd")
    hips = pytest.importorskip("autograd.scipy.stats")
    pytest.importorskip("autograd.scipy.stats.multivariate_normal")
    from autograd.scipy.stats import multivariate_normal as hips_mvn

    def pos(*shape):
        return rng.standard_normal(shape) ** 2 + 1.1

    def r(*shape):
        return rng.standard_normal(shape)

    cov = _psd(4)
    cases = [
        ("norm.pdf", (r(4, 3), r(1, 3), pos(4, 1)), (0, 1, 2)),
        ("norm.cdf", (r(4, 3), r(1, 3), pos(4, 1)), (0, 1, 2)),
        ("norm.logcdf", (r(4, 3), r(1, 3), pos(4, 1)), (0, 1, 2)),
        ("norm.logsf", (r(4), r(4), pos(4)), (0, 1, 2)),
        ("t.logpdf", (r(4, 3), pos(1, 3) + 1, r(4, 3), pos(4, 1) + 1), (0, 1, 2, 3)),
        ("t.cdf", (r(4, 3), pos(1, 3) + 1, r(4, 3), pos(4, 1) + 1), (0, 2)),
        ("t.logcdf", (r(4), pos(4) + 1, r(4), pos(4) + 1), (0, 2)),
        ("beta.logpdf", (rng.uniform(0, 1, 4), pos(4), pos(4)), (0, 1, 2)),
        ("beta.cdf", (rng.uniform(0, 1, 4), pos(4), pos(4)), (0,)),
        ("gamma.pdf", (pos(4), pos(4)), (0, 1)), ("gamma.cdf", (pos(4), pos(4)), (0,)),
        ("chi2.logpdf", (pos(4), np.array([1.0, 2.0, 3.0, 4.0])), (0,)),
        ("chi2.cdf", (pos(4), np.array([1.0, 2.0, 3.0, 4.0])), (0,)),
        ("poisson.logpmf", (np.round(r(4, 3) ** 2), pos(4, 1)), (1,)),
        ("poisson.cdf", (np.round(r(4, 3) ** 2), pos(4, 1)), (1,)),
        ("dirichlet.pdf", (np.array([0.2, 0.3, 0.5]), pos(3)), (0, 1)),
        ("multivariate_normal.logpdf", (r(5, 4), r(4), cov), (0, 1, 2)),
        ("multivariate_normal.pdf", (r(4), r(4), cov), (0, 1, 2)),
        ("multivariate_normal.entropy", (r(4), cov), (1,)),
    ]
    for name, args, argnums in cases:
        dist, method = name.split(".")
        theirs_f = getattr(hips_mvn if dist == "multivariate_normal" else getattr(hips, dist),
                           method)
        ours_f = getattr(getattr(stats, dist), method)
        for argnum in argnums:
            theirs = autograd.grad(lambda *a, f=theirs_f: autograd.numpy.sum(f(*a)), argnum)(*args)
            ours = cr.grad(lambda *a, f=ours_f: cr.sum(f(*a)), argnums=argnum)(*args)
            if dist == "multivariate_normal" and argnum == len(args) - 1:  # cov: symmetric parts
                theirs, ours = (theirs + theirs.T) / 2, (ours + ours.T) / 2
            np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} in argument {argnum}")
