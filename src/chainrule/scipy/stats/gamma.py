"""``scipy.stats.gamma`` on tensors: pdf, logpdf, cdf, logcdf, sf, logsf, with SciPy's
arguments ``(x, a, loc=0, scale=1)`` and values. The densities are differentiable in all four;
the distribution functions in ``x``, ``loc`` and ``scale`` (in ``a``: NotImplementedError, as
in HIPS autograd)."""

from __future__ import annotations

import numpy as np

from ...ops import special
from ._continuous import Continuous

_gamma = Continuous(
    "gamma", ("a",), safe=(1.0, 1.0), argcheck=lambda a: a > 0, support=(0.0, np.inf),
    logpdf=lambda z, a: special.xlogy(a - 1.0, z) - z - special.gammaln(a),
    cdf=lambda z, a: special.gammainc(a, z), sf=lambda z, a: special.gammaincc(a, z),
)
pdf = _gamma.method("pdf")
logpdf = _gamma.method("logpdf")
cdf = _gamma.method("cdf")
logcdf = _gamma.method("logcdf")
sf = _gamma.method("sf")
logsf = _gamma.method("logsf")

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
