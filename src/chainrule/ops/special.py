"""SciPy's special functions (``scipy.special``) as elementwise primitives.

SciPy evaluates them: its ufuncs are the forwards, so values, dtypes and edge cases are SciPy's.
Their rules are written with chainrule's ops (these primitives among them: gammaln's derivative
is digamma, digamma's is polygamma(1, x)...), so every order works in both modes. Each rule is
linear in the flow (``flow * derivative``) and serves both modes.

Where a function has no derivative SciPy can evaluate in closed form (the order of a Bessel
function or of polygamma, the parameters of the incomplete gamma and beta functions), that
input's rule raises NotImplementedError, as HIPS autograd does: differentiating there is
refused, never answered with zero. Such an input may still be a tensor that is not
differentiated.

Only ``chainrule.scipy`` imports this module, so ``import chainrule`` never imports SciPy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

try:
    import scipy.special as sc
except ModuleNotFoundError as error:  # (an optional dependency)
    raise ModuleNotFoundError(
        "chainrule.scipy needs SciPy: pip install 'chainrule[scipy]' (or scipy itself)",
        name=error.name,
    ) from error

from ..backends import is_foreign
from .elementwise import elementwise, exp, log, log1p, nondifferentiable, sign

if TYPE_CHECKING:
    from .primitive import Primitive

_TWO_OVER_ROOT_PI = 2.0 / float(np.sqrt(np.pi))
_ROOT_PI_OVER_TWO = float(np.sqrt(np.pi)) / 2.0
_ROOT_TWO_PI = float(np.sqrt(2.0 * np.pi))
_LOG_PI = float(np.log(np.pi))


def _times(derivative: Callable) -> Callable:
    """The rule ``flow * derivative(...)``, asking for the values ``derivative`` names."""
    names = tuple(inspect.signature(derivative).parameters)

    def rule(flow, *values):
        return flow * derivative(*values)

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    rule.__signature__ = inspect.Signature(
        [inspect.Parameter(name, kind) for name in ("flow", *names)]
    )
    return rule


def _refused(function: str, argument: str, why: str) -> Callable:
    """The rule of an input ``function`` is not differentiated in: it raises, saying so."""
    message = (
        f"scipy.special.{function} is not differentiable in {argument} ({why}): "
        f"differentiate in the other arguments only, with {argument} a constant or "
        "passed through stop_gradient"
    )

    def refuse(flow):
        raise NotImplementedError(message)

    return refuse


def _declare(impl: Callable, name: str, *derivatives: Callable) -> Primitive:
    """An elementwise primitive of SciPy's ``impl`` whose rules multiply the flow by each
    input's derivative (or refuse: a rule from :func:`_refused`)."""
    prim = elementwise(impl, name)
    rules = tuple(d if d.__name__ == "refuse" else _times(d) for d in derivatives)
    prim.defrules(vjp=rules, jvp=rules)
    return prim


_NO_CLOSED_FORM = "SciPy has no closed form for that derivative"
_ORDER = "an order is an integer, or has no closed-form derivative"

# ---------------------------------------------------------------- gamma family


def _polygamma(n, x):
    """SciPy's polygamma: a Python function, not a ufunc, that makes its arguments NumPy
    arrays; on another library's arrays, its formula, whose ufuncs dispatch to that library."""
    if not (is_foreign(x) or is_foreign(n)):
        return sc.polygamma(n, x)
    derivative = (-1.0) ** (n + 1) * sc.gamma(n + 1.0) * sc.zeta(n + 1, x)
    return np.where(n == 0, sc.psi(x), derivative)


polygamma: Primitive = _declare(
    _polygamma, "polygamma",
    _refused("polygamma", "the order n", _ORDER),
    lambda n, x: polygamma(n + 1, x),
)
digamma = _declare(sc.digamma, "digamma", lambda x: polygamma(1, x))
gammaln = _declare(sc.gammaln, "gammaln", lambda x: digamma(x))
gamma = _declare(sc.gamma, "gamma", lambda x, ans: ans * digamma(x))
rgamma = _declare(sc.rgamma, "rgamma", lambda x, ans: -ans * digamma(x))
gammasgn = nondifferentiable(sc.gammasgn)


def _regularized_gamma_density(a, x):
    """x^(a-1) e^(-x) / Gamma(a): the derivative of gammainc(a, x) in x."""
    return exp(xlogy(a - 1, x) - x - gammaln(a))


gammainc = _declare(
    lambda a, x: sc.gammainc(a, x), "gammainc",
    _refused("gammainc", "a", _NO_CLOSED_FORM),
    _regularized_gamma_density,
)
gammaincc = _declare(
    lambda a, x: sc.gammaincc(a, x), "gammaincc",
    _refused("gammaincc", "a", _NO_CLOSED_FORM),
    lambda a, x: -_regularized_gamma_density(a, x),
)

poch = _declare(  # Gamma(z + m) / Gamma(z)
    lambda z, m: sc.poch(z, m), "poch",
    lambda z, m, ans: ans * (digamma(z + m) - digamma(z)),
    lambda z, m, ans: ans * digamma(z + m),
)

# ---------------------------------------------------------------- beta family

beta = _declare(
    lambda a, b: sc.beta(a, b), "beta",
    lambda a, b, ans: ans * (digamma(a) - digamma(a + b)),
    lambda a, b, ans: ans * (digamma(b) - digamma(a + b)),
)
betaln = _declare(
    lambda a, b: sc.betaln(a, b), "betaln",
    lambda a, b: digamma(a) - digamma(a + b),
    lambda a, b: digamma(b) - digamma(a + b),
)


def _beta_density(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b): the derivative of betainc(a, b, x) in x."""
    return exp(xlogy(a - 1, x) + xlog1py(b - 1, -x) - betaln(a, b))


betainc = _declare(
    lambda a, b, x: sc.betainc(a, b, x), "betainc",
    _refused("betainc", "a", _NO_CLOSED_FORM),
    _refused("betainc", "b", _NO_CLOSED_FORM),
    _beta_density,
)
betaincc = _declare(
    lambda a, b, x: sc.betaincc(a, b, x), "betaincc",
    _refused("betaincc", "a", _NO_CLOSED_FORM),
    _refused("betaincc", "b", _NO_CLOSED_FORM),
    lambda a, b, x: -_beta_density(a, b, x),
)

# ---------------------------------------------------------------- logarithms

xlogy = _declare(
    lambda x, y: sc.xlogy(x, y), "xlogy", lambda x, y: log(y), lambda x, y: x / y,
)
xlog1py = _declare(
    lambda x, y: sc.xlog1py(x, y), "xlog1py", lambda x, y: log1p(y), lambda x, y: x / (1 + y),
)
entr = _declare(sc.entr, "entr", lambda x: -(log(x) + 1))

# ---------------------------------------------------------------- error function and normal

erf = _declare(sc.erf, "erf", lambda x: _TWO_OVER_ROOT_PI * exp(-(x * x)))
erfc = _declare(sc.erfc, "erfc", lambda x: -_TWO_OVER_ROOT_PI * exp(-(x * x)))
erfinv = _declare(sc.erfinv, "erfinv", lambda ans: _ROOT_PI_OVER_TWO * exp(ans * ans))
erfcinv = _declare(sc.erfcinv, "erfcinv", lambda ans: -_ROOT_PI_OVER_TWO * exp(ans * ans))
ndtr = _declare(sc.ndtr, "ndtr", lambda x: exp(-0.5 * x * x) / _ROOT_TWO_PI)
log_ndtr = _declare(sc.log_ndtr, "log_ndtr", lambda x, ans: exp(-0.5 * x * x - ans) / _ROOT_TWO_PI)
ndtri = _declare(sc.ndtri, "ndtri", lambda ans: _ROOT_TWO_PI * exp(0.5 * ans * ans))


def student_t_logpdf(x, df):
    """The log density of Student's t distribution with ``df`` degrees of freedom (finite),
    SciPy's formula: log(poch(df/2, 1/2)) - (log(df) + log(pi)) / 2 - (df+1)/2 log1p(x²/df)."""
    return (log(poch(0.5 * df, 0.5)) - 0.5 * (log(df) + _LOG_PI)
            - (df + 1) / 2 * log1p(x * x / df))


stdtr = _declare(  # the distribution function of Student's t
    lambda df, x: sc.stdtr(df, x), "stdtr",
    _refused("stdtr", "the degrees of freedom df", _NO_CLOSED_FORM),
    lambda df, x: exp(student_t_logpdf(x, df)),
)
expit = _declare(sc.expit, "expit", lambda ans: ans * (1 - ans))
logit = _declare(sc.logit, "logit", lambda x: 1 / (x * (1 - x)))

# ---------------------------------------------------------------- Bessel functions
# (derivatives by the recurrences: J'_n = (J_{n-1} - J_{n+1}) / 2, I'_v = (I_{v-1} + I_{v+1}) / 2)

jn: Primitive = _declare(
    lambda n, x: sc.jn(n, x), "jn",
    _refused("jn", "the order n", _ORDER),
    lambda n, x: (jn(n - 1, x) - jn(n + 1, x)) / 2,
)
yn: Primitive = _declare(
    lambda n, x: sc.yn(n, x), "yn",
    _refused("yn", "the order n", _ORDER),
    lambda n, x: (yn(n - 1, x) - yn(n + 1, x)) / 2,
)
iv: Primitive = _declare(
    lambda v, x: sc.iv(v, x), "iv",
    _refused("iv", "the order v", _ORDER),
    lambda v, x: (iv(v - 1, x) + iv(v + 1, x)) / 2,
)
ive: Primitive = _declare(  # iv(v, x) exp(-|x|)
    lambda v, x: sc.ive(v, x), "ive",
    _refused("ive", "the order v", _ORDER),
    lambda v, x, ans: (ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) * ans,
)
j1 = _declare(sc.j1, "j1", lambda x: (j0(x) - jn(2, x)) / 2)
j0: Primitive = _declare(sc.j0, "j0", lambda x: -j1(x))
y1 = _declare(sc.y1, "y1", lambda x: (y0(x) - yn(2, x)) / 2)
y0: Primitive = _declare(sc.y0, "y0", lambda x: -y1(x))
i1 = _declare(sc.i1, "i1", lambda x: (i0(x) + iv(2, x)) / 2)
i0: Primitive = _declare(sc.i0, "i0", lambda x: i1(x))

__all__ = [
    "beta", "betainc", "betaincc", "betaln", "digamma", "entr", "erf", "erfc", "erfcinv", "erfinv",
    "expit", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i1", "iv", "ive",
    "j0", "j1", "jn", "log_ndtr", "logit", "ndtr", "ndtri", "poch", "polygamma", "rgamma", "stdtr",
    "student_t_logpdf", "xlog1py", "xlogy", "y0", "y1", "yn",
]
