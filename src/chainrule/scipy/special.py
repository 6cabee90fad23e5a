"""``chainrule.scipy.special``: SciPy's special functions, differentiable in both modes to any
order, with SciPy's values and dtypes (SciPy evaluates them: see ``chainrule.ops.special``).

>>> import chainrule as cr
>>> from chainrule.scipy import special
>>> x = cr.tensor([0.5, 2.0], dtype="float64", requires_grad=True)
>>> special.gammaln(x).sum().backward()
>>> x.grad  # digamma
tensor([-1.96351003,  0.42278434], dtype=float64)
>>> float(special.logsumexp([0.0, 1.0], b=[2.0, 0.5]))
1.2116852609945028

Derivatives are taken in the arguments SciPy's derivative has a closed form in; in the others
(the order of a Bessel function or of polygamma, ``a`` of ``gammainc``/``gammaincc``, ``a``
and ``b`` of ``betainc``) differentiating raises NotImplementedError, as HIPS autograd does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import api, backends
from ..api import where
from ..ops import special as _special
from ..ops.elementwise import array_value
from ..tensor import Tensor


def _as_tensor(value: Any) -> Tensor:
    """A tensor of ``value`` with NumPy's dtype (a Python float is float64, as SciPy sees it);
    an array of another library stays one."""
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(backends.seen(value) if backends.is_foreign(value) else np.asarray(value))


def _public(prim: Any, name: str) -> Callable:
    function = api._elementwise(
        prim, name, f"``scipy.special.{name}`` on tensors, differentiable (elementwise).",
        _as_tensor)
    function.__wrapped__, function.__module__ = prim.impl, __name__  # (SciPy's signature)
    return function


beta = _public(_special.beta, "beta")
betainc = _public(_special.betainc, "betainc")
betaincc = _public(_special.betaincc, "betaincc")
betaln = _public(_special.betaln, "betaln")
digamma = _public(_special.digamma, "digamma")
psi = _public(_special.digamma, "psi")
entr = _public(_special.entr, "entr")
erf = _public(_special.erf, "erf")
erfc = _public(_special.erfc, "erfc")
erfcinv = _public(_special.erfcinv, "erfcinv")
erfinv = _public(_special.erfinv, "erfinv")
expit = _public(_special.expit, "expit")
gamma = _public(_special.gamma, "gamma")
gammainc = _public(_special.gammainc, "gammainc")
gammaincc = _public(_special.gammaincc, "gammaincc")
gammaln = _public(_special.gammaln, "gammaln")
gammasgn = _public(_special.gammasgn, "gammasgn")
i0 = _public(_special.i0, "i0")
i1 = _public(_special.i1, "i1")
iv = _public(_special.iv, "iv")
ive = _public(_special.ive, "ive")
j0 = _public(_special.j0, "j0")
j1 = _public(_special.j1, "j1")
jn = _public(_special.jn, "jn")
log_ndtr = _public(_special.log_ndtr, "log_ndtr")
logit = _public(_special.logit, "logit")
ndtr = _public(_special.ndtr, "ndtr")
ndtri = _public(_special.ndtri, "ndtri")
poch = _public(_special.poch, "poch")
polygamma = _public(_special.polygamma, "polygamma")
rgamma = _public(_special.rgamma, "rgamma")
stdtr = _public(_special.stdtr, "stdtr")
xlog1py = _public(_special.xlog1py, "xlog1py")
xlogy = _public(_special.xlogy, "xlogy")
y0 = _public(_special.y0, "y0")
y1 = _public(_special.y1, "y1")
yn = _public(_special.yn, "yn")


def multigammaln(a: Any, d: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``d`` (SciPy's formula:
    d(d-1)/4 log(pi) + sum_j gammaln(a - j/2)), differentiable in ``a``.

    >>> float(multigammaln(23.5, 10))
    457.1766747829046
    """
    d = np.asarray(d)[()]
    if not np.isscalar(d) or np.floor(d) != d:
        raise ValueError("d should be a positive integer (dimension)")
    a = _as_tensor(a)
    value = array_value(a)
    if np.any(value <= 0.5 * (d - 1)):  # (read in Python, as SciPy does: a Dask array computed)
        raise ValueError(f"condition a ({value}) > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    # (the terms added in turn, as a sum over their stack would: no stacked copy of them)
    terms = [_special.gammaln(a - (j - 1.0) / 2) for j in range(1, int(d) + 1)]
    return sum(terms[1:], terms[0]) + (d * (d - 1) * 0.25) * np.log(np.pi)


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` over ``axis``, computed stably, with SciPy's arguments: terms
    whose weight ``b`` is 0 are left out, a negative sum gives NaN unless ``return_sign``
    (then the result is ``(log|sum|, sign)``). Differentiable in ``a`` and ``b``.

    >>> float(logsumexp([1.0, 2.0], b=[1.0, -2.0], return_sign=True)[1])
    -1.0
    """
    a = _as_tensor(a)
    if b is not None:
        b = _as_tensor(b)
        a = where(b != 0, a, -np.inf)
    top = api.max(a.detach(), axis=axis, keepdims=True)
    top = where(api.isfinite(top), top, 0)
    terms = api.exp(a - top)
    total = api.sum(terms if b is None else b * terms, axis=axis, keepdims=True)
    out = api.log(api.abs(total)) + top
    sign = api.sign(total).detach()
    if not keepdims:
        out, sign = api.squeeze(out, axis=axis), api.squeeze(sign, axis=axis)
    if return_sign:
        return out, sign
    return where(sign < 0, np.nan, out)


__all__ = [
    "beta", "betainc", "betaincc", "betaln", "digamma", "entr", "erf", "erfc", "erfcinv", "erfinv",
    "expit", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i1", "iv", "ive",
    "j0", "j1", "jn", "log_ndtr", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "poch",
    "polygamma", "psi", "rgamma", "stdtr", "xlog1py", "xlogy", "y0", "y1", "yn",
]
