"""``scipy.stats.chi2`` on tensors: pdf, logpdf, cdf, logcdf, sf, logsf, with SciPy's
arguments ``(x, df, loc=0, scale=1)`` and values. The densities are differentiable in all four
(in ``df`` too, where HIPS autograd has no derivative); the distribution functions in ``x``,
``loc`` and ``scale`` (in ``df``: NotImplementedError)."""

from __future__ import annotations

import numpy as np

from ...ops import special
from ._continuous import Continuous

_LOG_2 = np.log(2)

_chi2 = Continuous(
    "chi2", ("df",), safe=(1.0, 2.0), argcheck=lambda df: df > 0, support=(0.0, np.inf),
    logpdf=lambda z, df: (special.xlogy(df / 2.0 - 1, z) - z / 2.0 - special.gammaln(df / 2.0)
                          - (_LOG_2 * df) / 2.0),
    # (SciPy's chdtr and chdtrc are the regularized incomplete gamma functions at df/2, x/2)
    cdf=lambda z, df: special.gammainc(df / 2.0, z / 2.0),
    sf=lambda z, df: special.gammaincc(df / 2.0, z / 2.0),
)
pdf = _chi2.method("pdf")
logpdf = _chi2.method("logpdf")
cdf = _chi2.method("cdf")
logcdf = _chi2.method("logcdf")
sf = _chi2.method("sf")
logsf = _chi2.method("logsf")

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
