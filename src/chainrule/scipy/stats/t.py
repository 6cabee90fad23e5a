"""``scipy.stats.t`` on tensors: pdf, logpdf, cdf, logcdf, sf, logsf, with SciPy's arguments
``(x, df, loc=0, scale=1)`` and values (``df = inf`` is the normal distribution). The densities
are differentiable in all four; the distribution functions in ``x``, ``loc`` and ``scale`` (in
``df`` SciPy's derivative has no closed form: NotImplementedError, as in HIPS autograd)."""

from __future__ import annotations

import numpy as np

from ...api import where
from ...ops import special
from ...ops.elementwise import array_value
from .._arrays import everywhere
from ._continuous import Continuous
from .norm import _norm


def _logpdf(z, df):
    finite = np.isfinite(array_value(df))
    if everywhere(finite):
        return special.student_t_logpdf(z, df)
    student = special.student_t_logpdf(z, where(finite, df, 1.0))
    return where(finite, student, _norm._logpdf(z))


_t = Continuous(
    "t", ("df",), safe=(0.0, 1.0), argcheck=lambda df: df > 0, logpdf=_logpdf,
    cdf=lambda z, df: special.stdtr(df, z), sf=lambda z, df: special.stdtr(df, -z),
)
pdf = _t.method("pdf")
logpdf = _t.method("logpdf")
cdf = _t.method("cdf")
logcdf = _t.method("logcdf")
sf = _t.method("sf")
logsf = _t.method("logsf")

__all__ = ["cdf", "logcdf", "logpdf", "logsf", "pdf", "sf"]
