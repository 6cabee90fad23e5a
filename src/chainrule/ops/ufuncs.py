"""NumPy's further elementwise functions: inverse hyperbolics, base-2 exponentials, angle
conversions, NaN-aware extrema, ``logaddexp``, ``hypot``, ``sinc``, ``nan_to_num``, ``fmod``,
and the rounding functions (no derivative).

Their rules are written out (see :mod:`chainrule.ops.elementwise` for the ones derived from a
local derivative); a rule linear in the flow serves both modes."""

from __future__ import annotations

import numpy as np

from .elementwise import (
    absolute,
    cos,
    elementwise,
    exp,
    imag,
    isfinite,
    isnan,
    logical_not,
    real,
    sign,
    sqrt,
    trunc,
    where,
)
from .primitive import Primitive

# ---------------------------------------------------------------- exponentials, hyperbolics

_LOG_2 = float(np.log(2.0))


def _times_ans_log_2(flow, ans):
    return flow * ans * _LOG_2


exp2 = elementwise(np.exp2)
exp2.defrules(vjp=_times_ans_log_2, jvp=_times_ans_log_2)


def _over_hypotenuse(flow, x):
    return flow / sqrt(x * x + 1)


def _over_cosh_of_arccosh(flow, x):
    # sqrt(x - 1) sqrt(x + 1) rather than sqrt(x² - 1): the principal branch for complex x
    return flow / (sqrt(x - 1) * sqrt(x + 1))


def _over_one_minus_square(flow, x):
    return flow / (1 - x * x)


arcsinh = elementwise(np.arcsinh)
arcsinh.defrules(vjp=_over_hypotenuse, jvp=_over_hypotenuse)
arccosh = elementwise(np.arccosh)
arccosh.defrules(vjp=_over_cosh_of_arccosh, jvp=_over_cosh_of_arccosh)
arctanh = elementwise(np.arctanh)
arctanh.defrules(vjp=_over_one_minus_square, jvp=_over_one_minus_square)


def _logaddexp_x(flow, x, ans):
    return flow * exp(x - ans)  # exp(x) / (exp(x) + exp(y)), without overflow


def _logaddexp_y(flow, y, ans):
    return flow * exp(y - ans)


def _logaddexp2_x(flow, x, ans):
    return flow * exp2(x - ans)


def _logaddexp2_y(flow, y, ans):
    return flow * exp2(y - ans)


logaddexp = elementwise(np.logaddexp)
logaddexp.defrules(vjp=(_logaddexp_x, _logaddexp_y), jvp=(_logaddexp_x, _logaddexp_y))
logaddexp2 = elementwise(np.logaddexp2)
logaddexp2.defrules(vjp=(_logaddexp2_x, _logaddexp2_y), jvp=(_logaddexp2_x, _logaddexp2_y))

# ---------------------------------------------------------------- real-valued geometry


def _times_sign(flow, x):
    return flow * sign(x)


fabs = elementwise(np.fabs)  # (NumPy's fabs refuses complex values)
fabs.defrules(vjp=_times_sign, jvp=_times_sign)

# Linear: each is its own transpose, and its own tangent map.
deg2rad = elementwise(np.deg2rad)
deg2rad.defrules(vjp=lambda g: deg2rad(g), jvp="linear")
rad2deg = elementwise(np.rad2deg)
rad2deg.defrules(vjp=lambda g: rad2deg(g), jvp="linear")


def _hypot_leg(flow, leg, ans):
    """d hypot / d leg = leg / hypot; 0 at the origin (as the 2-norm's gradient there)."""
    return flow * leg / where(ans == 0, 1, ans)


hypot = elementwise(np.hypot)
hypot.defrules(
    vjp=(lambda g, x, ans: _hypot_leg(g, x, ans), lambda g, y, ans: _hypot_leg(g, y, ans)),
    jvp=(lambda t, x, ans: _hypot_leg(t, x, ans), lambda t, y, ans: _hypot_leg(t, y, ans)),
)


def _nan_pick(x, y, wins):
    """Weight of ``x`` in fmax/fmin(x, y): 1 where it is taken (it wins, or ``y`` is NaN and
    ``x`` is not), 1/2 on ties, 0 where ``x`` is NaN."""
    return where(isnan(y), logical_not(isnan(x)), wins(x, y) + 0.5 * (x == y))


def _fmax_x(flow, x, y):
    return flow * _nan_pick(x, y, np.greater)


def _fmax_y(flow, x, y):
    return flow * _nan_pick(y, x, np.greater)


def _fmin_x(flow, x, y):
    return flow * _nan_pick(x, y, np.less)


def _fmin_y(flow, x, y):
    return flow * _nan_pick(y, x, np.less)


fmax = elementwise(np.fmax)
fmax.defrules(vjp=(_fmax_x, _fmax_y), jvp=(_fmax_x, _fmax_y))
fmin = elementwise(np.fmin)
fmin.defrules(vjp=(_fmin_x, _fmin_y), jvp=(_fmin_x, _fmin_y))


def _fmod_y(flow, x, y):
    return -flow * trunc(x / y)  # fmod(x, y) = x - trunc(x / y) * y


fmod = elementwise(np.fmod)
fmod.defrules(vjp=(lambda g: g, _fmod_y), jvp=(lambda t: t, _fmod_y))

# ---------------------------------------------------------------- sinc, nan_to_num

# sinc'(x) = (cos(pi x) - sinc(x)) / x, whose two terms cancel near 0: there its Taylor series,
# sum over k >= 1 of (-1)^k 2k pi^2k x^(2k-1) / (2k+1)!, which keeps every higher derivative
# at 0 exact as well (the series is itself differentiated by the ops it is written in).
_SERIES_RADIUS = 0.1
_SERIES = tuple(
    (-1) ** k * 2 * k * np.pi ** (2 * k) / float(np.prod(np.arange(1, 2 * k + 2)))
    for k in range(1, 9)
)


def _sinc_slope(x):
    near = absolute(x) < _SERIES_RADIUS
    square = x * x
    series = 0.0
    for coefficient in reversed(_SERIES):
        series = series * square + coefficient
    safe = where(near, 1, x)
    formula = (cos(np.pi * safe) - sinc(safe)) / safe
    return where(near, series * x, formula)


def _sinc_rule(flow, x):
    return flow * _sinc_slope(x)


sinc = elementwise(np.sinc)
sinc.defrules(vjp=_sinc_rule, jvp=_sinc_rule)


def _kept(flow, x):
    """The flow where nan_to_num keeps ``x``, 0 where it replaces it; for complex values part
    by part (NumPy replaces the real and imaginary parts separately)."""
    if x.dtype.kind != "c":
        return where(isfinite(x), flow, 0)
    return where(isfinite(real(x)), real(flow), 0) + 1j * where(
        isfinite(imag(x)), imag(flow), 0
    )


@elementwise(name="nan_to_num")
def replace_non_finite(x, *, nan=0.0, posinf=None, neginf=None):
    if isinstance(x, np.ndarray | np.generic):
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    # Another library's (Dask's takes no replacement values): NumPy's rule, part by part.
    if x.dtype.kind == "c":
        parts = (replace_non_finite.impl(part, nan=nan, posinf=posinf, neginf=neginf)
                 for part in (x.real, x.imag))
        return next(parts) + 1j * next(parts)
    if x.dtype.kind != "f":
        return x
    limits = np.finfo(x.dtype)
    big = limits.max if posinf is None else posinf
    small = limits.min if neginf is None else neginf
    return np.where(np.isnan(x), nan, np.where(np.isinf(x), np.where(x > 0, big, small), x))


replace_non_finite.defrules(vjp=_kept, jvp=_kept)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN replaced by ``nan``, infinities by ``posinf``/``neginf`` (the largest finite values
    by default), as ``numpy.nan_to_num``; the gradient is 0 where a value was replaced.
    (``copy`` is there for NumPy's signature: tensors are never changed in place.)

    >>> import chainrule as cr
    >>> cr.nan_to_num(cr.tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    return replace_non_finite(x, nan=nan, posinf=posinf, neginf=neginf)

# ---------------------------------------------------------------- rounding (no derivative)


def _round(x, *, decimals=0):
    return np.round(x, decimals)


rounded = Primitive(_round, name="round", differentiable=False)


def round(a, decimals=0):  # noqa: A001
    """Rounded to ``decimals`` places, halves to even (``numpy.round``); no gradient."""
    return rounded(a, decimals=decimals)


around = round


def _fix(x):
    return np.trunc(x)  # (np.fix's values and dtypes; np.fix is deprecated from NumPy 2.5)


fix = Primitive(_fix, name="fix", differentiable=False)
