"""chainrule.scipy on arrays of other libraries, beyond the op table (tests/test_backends.py):
a Dask graph stays lazy through the distributions and special functions and their gradients
(masks are never read in Python), NumPy parameters mixed with another library's arrays are
refused naming both, and SciPy's NumPy-only code refuses such arrays instead of converting."""

from __future__ import annotations

import numpy as np
import pytest
from strict_array import StrictArray

import chainrule as cr
from chainrule.scipy import integrate, linalg, signal, special, stats

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def _refuse_compute(*args, **kwargs):
    raise AssertionError("a Dask array was computed while building the graph")


@pytest.mark.parametrize("function", [
    lambda x: stats.norm.logcdf(x, 0.5, 2.0),
    lambda x: stats.t.logpdf(x, 3.0, scale=2.0),
    lambda x: stats.gamma.sf(x, 2.0),
    lambda x: special.logsumexp(x, axis=0, b=x * x),
    lambda x: special.polygamma(1, x),
], ids=["norm.logcdf", "t.logpdf", "gamma.sf", "logsumexp", "polygamma"])
def test_dask_stays_lazy(function):
    values = np.array([[0.3, 1.5, 4.0], [2.0, -1.0, 0.7]])
    x = cr.tensor(da.from_array(values, chunks=(1, 3)), requires_grad=True)
    with dask.config.set(scheduler=_refuse_compute):
        out = function(x)
        (grad,) = cr.gradients(cr.sum(out), [x])
    assert isinstance(out._array, da.Array) and isinstance(grad._array, da.Array)
    leaf = cr.tensor(values, requires_grad=True)
    want = function(leaf)
    (want_grad,) = cr.gradients(cr.sum(want), [leaf])
    got, got_grad = cr.compute(out, grad)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got_grad.numpy(), want_grad.detach().numpy(), rtol=1e-12)


def test_numbers_join_the_library_numpy_arrays_are_refused():
    x = StrictArray(np.array([0.5, 1.5]))
    out = stats.norm.pdf(x, 1.0, [2.0, 3.0])  # (numbers and lists: made in x's library)
    assert type(out._array) is StrictArray
    with pytest.raises(TypeError, match="two libraries, strict_array and numpy"):
        stats.gamma.cdf(x, np.array([2.0, 3.0]))
    with pytest.raises(TypeError, match="two libraries"):
        special.iv(np.array([0.5, 1.0]), cr.tensor(x))


@pytest.mark.parametrize("make", [StrictArray, lambda a: da.from_array(a)],
                         ids=["strict", "dask"])
@pytest.mark.parametrize("function", [
    lambda m: linalg.sqrtm(m(np.eye(2) * 4.0)),
    lambda m: linalg.solve_triangular(m(np.eye(2)), m(np.ones((2, 1))), lower=True),
    lambda m: signal.convolve(m(np.ones(4)), m(np.ones(2))),
    lambda m: integrate.odeint(lambda y, t: -y, m(np.ones(2)), m(np.linspace(0.0, 1.0, 3))),
    lambda m: stats.dirichlet.rvs(m(np.ones(3))),
], ids=["sqrtm", "solve_triangular", "convolve", "odeint", "dirichlet.rvs"])
def test_numpy_only_code_refuses_other_libraries(make, function):
    with pytest.raises(NotImplementedError, match="NumPy code, which (strict_array|dask)"):
        function(make)
