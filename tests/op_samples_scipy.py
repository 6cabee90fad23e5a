"""Samples of SciPy's functions (``chainrule.scipy``: the special functions' primitives in
chainrule.ops.special, and the distributions built on them), added to the tables of
tests/op_samples.py, which imports this module at its end when SciPy is installed: the op-table
tests then check each against SciPy, finite differences, both modes, every order and batched
flows.

An argument a function is not differentiable in (an order, the parameters of the incomplete
gamma and beta functions) is held fixed by the sample's function, so only the others are
differentiated.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sc
import scipy.stats as st
from op_samples import COMPLEX_SAMPLES, REAL_ONLY, SAMPLES, Sample, cnormal, normal, uniform

import chainrule.scipy.special as special
import chainrule.scipy.stats as stats
from chainrule.ops import special as ops_special


def _prim(name, *args, label=""):
    """A sample of the primitive ``name`` (differentiated in its float64 arguments)."""
    SAMPLES.append(Sample(name, getattr(ops_special, name), args, getattr(sc, name), label,
                          getattr(ops_special, name).differentiable))


def _fixed(name, constants, *args, label=""):
    """A sample of ``name`` with its first arguments held at ``constants``."""
    prim, reference = getattr(ops_special, name), getattr(sc, name)
    SAMPLES.append(Sample(name, lambda *xs: prim(*constants, *xs), args,
                          lambda *xs: reference(*constants, *xs), label or "fixed order"))


def _public(name, fn, reference, *args, label=""):
    SAMPLES.append(Sample(f"scipy.{name}", fn, args, reference, label))


def _positive(*shape):
    return uniform(0.6, 3.0, *shape)


# ---------------------------------------------------------------- special functions

for _name in ("gammaln", "digamma", "gamma", "rgamma", "entr"):
    _prim(_name, _positive(2, 3))
_prim("gammasgn", np.array([-1.5, -0.5, 0.5, 2.0]))
_prim("polygamma", np.array([0, 1, 2]), _positive(2, 3))
_prim("poch", _positive(2, 3), uniform(0.2, 1.5, 3))
_prim("beta", _positive(2, 3), _positive(3))
_prim("betaln", _positive(2, 3), _positive(2, 1))
_fixed("gammainc", (np.array([0.7, 1.0, 2.5]),), _positive(2, 3))
_fixed("gammaincc", (np.array([0.7, 1.0, 2.5]),), _positive(2, 3))
_fixed("betainc", (np.array([0.8, 2.0, 3.5]), 1.5), uniform(0.1, 0.9, 2, 3))
_fixed("betaincc", (1.5, np.array([0.8, 2.0, 3.5])), uniform(0.1, 0.9, 2, 3))
_fixed("stdtr", (np.array([1.0, 2.5, 30.0]),), normal(2, 3))
_prim("xlogy", normal(2, 3), _positive(3))
_prim("xlog1py", normal(2, 3), uniform(-0.5, 1.0, 2, 3))
for _name in ("erf", "erfc", "ndtr", "log_ndtr", "expit"):
    _prim(_name, normal(2, 3))
_prim("log_ndtr", np.array([-30.0, -8.0, -2.0, 5.0]), label="tails")
_prim("erfinv", uniform(-0.8, 0.8, 2, 3))
_prim("erfcinv", uniform(0.2, 1.8, 2, 3))
_prim("ndtri", uniform(0.1, 0.9, 2, 3))
_prim("logit", uniform(0.1, 0.9, 2, 3))
for _name in ("j0", "j1", "y0", "y1", "i0", "i1"):
    _prim(_name, uniform(0.5, 5.0, 2, 3))
_prim("jn", np.array([0, 1, 3]), uniform(0.5, 5.0, 2, 3))
_prim("yn", np.array([0, 1, 3]), uniform(0.5, 5.0, 2, 3))
_fixed("iv", (np.array([0.5, 1.0, 2.5]),), uniform(0.5, 5.0, 2, 3))
_fixed("ive", (np.array([0.5, 1.0, 2.5]),), uniform(0.5, 5.0, 2, 3))
_fixed("ive", (np.array([1.0, 2.0, 3.0]),), np.array([[0.5, -1.5, 4.0], [-3.0, 2.0, 1.0]]),
       label="integer orders, negative x")

# Holomorphic on complex numbers: erf and erfc; the others are sampled on real numbers only.
COMPLEX_SAMPLES.append(Sample("erf", ops_special.erf, (0.5 * cnormal(2, 3),), sc.erf,
                              "complex"))
COMPLEX_SAMPLES.append(Sample("erfc", ops_special.erfc, (0.5 * cnormal(2, 3),), sc.erfc,
                              "complex"))
REAL_ONLY.update(set(ops_special.__all__) - {"erf", "erfc", "student_t_logpdf"})

# ---------------------------------------------------------------- composites

_public("special.logsumexp", lambda a: special.logsumexp(a, axis=1),
        lambda a: sc.logsumexp(a, axis=1), normal(3, 4))
_public("special.logsumexp", lambda a, b: special.logsumexp(a, axis=(0, 2), b=b, keepdims=True),
        lambda a, b: sc.logsumexp(a, axis=(0, 2), b=b, keepdims=True),
        normal(2, 3, 2), np.exp(normal(2, 3, 2)), label="b keepdims")
_public("special.multigammaln", lambda a: special.multigammaln(a, 3),
        lambda a: sc.multigammaln(a, 3), uniform(4.0, 5.0, 2, 3))

_LOCATED = (normal(4, 3), normal(1, 3), _positive(4, 1))
for _method in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"):
    _public(f"stats.norm.{_method}", getattr(stats.norm, _method), getattr(st.norm, _method),
            *_LOCATED)
for _method in ("pdf", "logpdf"):
    _public(f"stats.t.{_method}", getattr(stats.t, _method), getattr(st.t, _method),
            normal(4, 3), _positive(1, 3) + 1.5, normal(4, 1), _positive(3))
for _method in ("cdf", "logcdf", "sf", "logsf"):
    _public(f"stats.t.{_method}", lambda x, loc, scale, m=_method: getattr(stats.t, m)(
        x, np.array([2.5, 4.0, 9.0]), loc, scale),
        lambda x, loc, scale, m=_method: getattr(st.t, m)(x, np.array([2.5, 4.0, 9.0]), loc,
                                                          scale),
        normal(4, 3), normal(4, 1), _positive(3))
for _dist, _shape in (("gamma", _positive(1, 3)), ("chi2", _positive(1, 3) + 1)):
    for _method in ("pdf", "logpdf"):
        _public(f"stats.{_dist}.{_method}", getattr(getattr(stats, _dist), _method),
                getattr(getattr(st, _dist), _method), _positive(4, 3), _shape, uniform(0.1, 0.5),
                _positive(4, 1))
    for _method in ("cdf", "logcdf", "sf", "logsf"):
        _public(f"stats.{_dist}.{_method}",
                lambda x, loc, scale, d=_dist, m=_method, s=_shape: getattr(
                    getattr(stats, d), m)(x, s, loc, scale),
                lambda x, loc, scale, d=_dist, m=_method, s=_shape: getattr(
                    getattr(st, d), m)(x, s, loc, scale),
                _positive(4, 3), uniform(0.1, 0.5), _positive(4, 1))
for _method in ("pdf", "logpdf"):
    _public(f"stats.beta.{_method}", getattr(stats.beta, _method), getattr(st.beta, _method),
            uniform(0.1, 0.9, 4, 3), _positive(1, 3), _positive(4, 1))
_BETA_SHAPES = (np.array([[0.8, 2.0, 3.5]]), np.array([[1.5], [2.0], [0.9], [3.0]]))
for _method in ("cdf", "logcdf", "sf", "logsf"):
    _public(f"stats.beta.{_method}",
            lambda x, loc, m=_method: getattr(stats.beta, m)(x, *_BETA_SHAPES, loc),
            lambda x, loc, m=_method: getattr(st.beta, m)(x, *_BETA_SHAPES, loc),
            uniform(0.3, 0.7, 4, 3), uniform(-0.1, 0.1))
_COUNTS = np.array([[0.0, 1.0, 4.0], [2.0, 3.0, 7.0]])
for _method in ("pmf", "logpmf", "cdf"):
    _public(f"stats.poisson.{_method}",
            lambda mu, m=_method: getattr(stats.poisson, m)(_COUNTS, mu),
            lambda mu, m=_method: getattr(st.poisson, m)(_COUNTS, mu), _positive(2, 1))
_ALPHA = _positive(3)
for _method in ("pdf", "logpdf"):
    _public(f"stats.dirichlet.{_method}", getattr(stats.dirichlet, _method),
            getattr(st.dirichlet, _method), np.array([[0.2, 0.5], [0.3, 0.1]]), _ALPHA,
            label="last entries 1 - the others")


def _psd(n):
    a = normal(n, n)
    return a @ a.T + n * np.eye(n)


def _symmetric(fn):
    """``fn`` of a symmetrized covariance (its derivative along symmetric directions)."""
    return lambda x, mean, cov: fn(x, mean, (cov + cov.T) / 2)


for _method in ("pdf", "logpdf"):
    _public(f"stats.multivariate_normal.{_method}",
            _symmetric(getattr(stats.multivariate_normal, _method)),
            getattr(st.multivariate_normal, _method), normal(5, 3), normal(3), _psd(3))
_public("stats.multivariate_normal.entropy",
        lambda cov: stats.multivariate_normal.entropy(None, (cov + cov.T) / 2),
        lambda cov: st.multivariate_normal.entropy(None, cov), _psd(3))
