"""``scipy.stats.beta`` on tensors: pdf, logpdf, cdf, logcdf, sf, logsf, with SciPy's
arguments ``(x, a, b, loc=0, scale=1)`` and values. The densities are differentiable in all
five; the distribution functions in ``x``, ``loc`` and ``scale`` (in ``a`` and ``b``:
NotImplementedError, as in HIPS autograd)."""

from __future__ import annotations

from ...ops import special
from ._continuous import Continuous

_beta = Continuous(
    "beta", ("a", "b"), safe=(0.5, 1.0, 1.0), argcheck=lambda a, b: (a > 0) & (b > 0),
    support=(0.0, 1.0),
    logpdf=lambda z, a, b: (special.xlog1py(b - 1.0, -z) + special.xlogy(a - 1.0, z)
                            - special.betaln(a, b)),
    cdf=lambda z, a, b: special.betainc(a, b, z), sf=lambda z, a, b: special.betaincc(a, b, z),
)
pdf = _beta.method("pdf")
logpdf = _beta.method("logpdf")
cdf = _beta.method("cdf")
logcdf = _beta.method("logcdf")
sf = _beta.method("sf")
logsf = _beta.method("logsf")

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
