"""``scipy.stats.norm`` on tensors: pdf, logpdf, cdf, logcdf, sf, logsf, with SciPy's
arguments ``(x, loc=0, scale=1)`` and values, differentiable in all three to any order."""

from __future__ import annotations

import numpy as np

from ... import api
from ...ops import special
from ._continuous import Continuous

_ROOT_TWO_PI = np.sqrt(2 * np.pi)
_LOG_ROOT_TWO_PI = np.log(_ROOT_TWO_PI)

_norm = Continuous(
    "norm", (), safe=(0.0,),
    logpdf=lambda z: -z**2 / 2.0 - _LOG_ROOT_TWO_PI,
    pdf=lambda z: api.exp(-z**2 / 2.0) / _ROOT_TWO_PI,
    cdf=special.ndtr, sf=lambda z: special.ndtr(-z),
    logcdf=special.log_ndtr, logsf=lambda z: special.log_ndtr(-z),
)
pdf = _norm.method("pdf")
logpdf = _norm.method("logpdf")
cdf = _norm.method("cdf")
logcdf = _norm.method("logcdf")
sf = _norm.method("sf")
logsf = _norm.method("logsf")

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
