"""Elementwise primitives. Broadcasting is the engine's business: rules return cotangents in
the output's shape and the engine sums them down to each input's shape.

Rules may call NumPy's ufuncs directly (``np.cos(x)``): on raw arrays that is NumPy with no
Python in between, and on tensors NumPy hands the call to chainrule's primitive of the same
name (``Tensor.__array_ufunc__``), so the rule still records under ``create_graph``."""

from __future__ import annotations

import operator

import numpy as np

from .primitive import elementwise, nondifferentiable


def _times(flow, factor, donated=(), fresh=False):
    """``flow * factor`` for arrays (rules multiply NumPy scalars directly). On the raw path the
    product goes into an array nobody else needs when there is one of the right shape and
    dtype: ``factor`` when the rule has just made it (``fresh``) or either one when the engine
    donated it (``donated``, see engine.run). Otherwise, and always on tensors, a new array."""
    if type(flow) is np.ndarray:
        if type(factor) is np.ndarray:
            same = factor.shape == flow.shape and factor.dtype == flow.dtype
            if same and (fresh or id(factor) in donated):
                return np.multiply(flow, factor, out=factor)
        else:  # a Python number is weakly typed: the product keeps the flow's dtype
            same = type(factor) is float or type(factor) is int
        if same and id(flow) in donated:
            return np.multiply(flow, factor, out=flow)
    return flow * factor


def _into(ufunc, x, donated):
    """``ufunc(x)``, written over ``x`` when the engine donated it."""
    if type(x) is np.ndarray and id(x) in donated:
        return ufunc(x, out=x)
    return ufunc(x)


# ---------------------------------------------------------------- arithmetic
# The arithmetic forwards are Python's operators (the ``operator`` module's functions) rather
# than the ufuncs: same results, but on NumPy scalars (0-d values, the chapter's scalar
# examples) the operators' fast path costs a tenth of a ufunc call.

add = elementwise(operator.add)
add.defrules(vjp=(lambda g: g, lambda g: g), jvp=(lambda t: t, lambda t: t))


subtract = elementwise(operator.sub, name="subtract")
subtract.defrules(vjp=(lambda g: g, lambda g: -g), jvp=(lambda t: t, lambda t: -t))


multiply = elementwise(operator.mul, name="multiply")
multiply.defrules(
    vjp=(
        lambda g, y, donated: _times(g, y, donated) if type(g) is np.ndarray else g * y,
        lambda g, x, donated: _times(g, x, donated) if type(g) is np.ndarray else g * x,
    ),
    jvp=("linear", "linear"),
)


true_divide = elementwise(operator.truediv, name="true_divide")
true_divide.defrules(
    vjp=(lambda g, y: g / y, lambda g, y, ans: -g * ans / y),
    jvp=(lambda t, y: t / y, lambda t, y, ans: -t * ans / y),
)


negative = elementwise(operator.neg, name="negative")
negative.defrules(vjp=lambda g: -g, jvp="linear")


def _log_base(x, y):
    """log(x) for d(x**y)/dy = x**y log(x): 0 where x == 0 and y >= 0 (there x**y is 0 or 1 and
    the derivative is 0 by convention, as PyTorch's), -inf where x == 0 and y < 0 (so the
    derivative is -inf there, not 0 * inf)."""
    exponent = real(y) if np.result_type(getattr(y, "_array", y)).kind == "c" else y
    return log(where(logical_and(x == 0, exponent >= 0), 1, x))


def _power_slope(x, y):
    """d(x**y)/dx = y * x**(y - 1), which is 0 where y == 0 (as PyTorch and JAX give), also at
    x == 0, where the formula is 0 * inf = NaN (and would make the derivatives of x**0, x**1,
    x**2... NaN there at the next order). Only there is the exponent replaced (by 1: the value
    stays 0, and so do its derivatives in x); elsewhere the formula is exact, derivatives in
    y included (d/dy at y == 0 is 1/x)."""
    if isinstance(y, (int, float)):  # a constant exponent
        return y * x ** (y - 1) if y != 0 else 0 * x
    return y * x ** where(logical_and(y == 0, x == 0), 1, y - 1)


power = elementwise(operator.pow, name="power")
power.defrules(
    vjp=(lambda g, x, y: g * _power_slope(x, y), lambda g, x, y, ans: g * ans * _log_base(x, y)),
    jvp=(lambda t, x, y: t * _power_slope(x, y), lambda t, x, y, ans: t * ans * _log_base(x, y)),
)


square = elementwise(np.square)
square.defrules(vjp=lambda g, x: g * 2 * x, jvp=lambda t, x: t * 2 * x)


reciprocal = elementwise(np.reciprocal)
reciprocal.defrules(vjp=lambda g, ans: -g * ans * ans, jvp=lambda t, ans: -t * ans * ans)


sqrt = elementwise(np.sqrt)
sqrt.defrules(vjp=lambda g, ans: g / (2 * ans), jvp=lambda t, ans: t / (2 * ans))


def _unit(z):
    """z / |z| (0 at 0) for complex z, differentiable (unlike sign, it varies with z)."""
    safe = where(z == 0, 1, z)
    return where(z == 0, 0, safe / absolute(safe))


def _abs_vjp(g, x):
    if x.dtype.kind != "c":
        return g * np.sign(x)
    return g * conj(_unit(x))


def _abs_jvp(t, x):
    if x.dtype.kind != "c":
        return t * np.sign(x)
    return real(conj(_unit(x)) * t)  # d|z| = Re(conj(z) dz) / |z|


absolute = elementwise(np.absolute)
absolute.defrules(vjp=_abs_vjp, jvp=_abs_jvp)

# ---------------------------------------------------------------- exponentials and logarithms


exp = elementwise(np.exp)
exp.defrules(
    vjp=lambda g, ans, donated: _times(g, ans, donated) if type(g) is np.ndarray else g * ans,
    jvp=lambda t, ans: t * ans,
)


expm1 = elementwise(np.expm1)
expm1.defrules(vjp=lambda g, ans: g * (ans + 1), jvp=lambda t, ans: t * (ans + 1))


log = elementwise(np.log)
log.defrules(vjp=lambda g, x: g / x, jvp=lambda t, x: t / x)


log1p = elementwise(np.log1p)
log1p.defrules(vjp=lambda g, x: g / (1 + x), jvp=lambda t, x: t / (1 + x))


log2 = elementwise(np.log2)
log2.defrules(vjp=lambda g, x: g / (x * np.log(2.0)), jvp=lambda t, x: t / (x * np.log(2.0)))


log10 = elementwise(np.log10)
log10.defrules(vjp=lambda g, x: g / (x * np.log(10.0)), jvp=lambda t, x: t / (x * np.log(10.0)))

# ---------------------------------------------------------------- trigonometric and hyperbolic


sin = elementwise(np.sin)
sin.defrules(
    vjp=lambda g, x, donated: _times(g, _into(np.cos, x, donated), donated, fresh=True)
    if type(g) is np.ndarray else g * np.cos(x),
    jvp=lambda t, x: t * np.cos(x),
)


cos = elementwise(np.cos)
cos.defrules(vjp=lambda g, x: -g * np.sin(x), jvp=lambda t, x: -t * np.sin(x))


tan = elementwise(np.tan)
tan.defrules(vjp=lambda g, ans: g * (1 + ans * ans), jvp=lambda t, ans: t * (1 + ans * ans))


arcsin = elementwise(np.arcsin)
arcsin.defrules(
    vjp=lambda g, x: g / np.sqrt(1 - x * x), jvp=lambda t, x: t / np.sqrt(1 - x * x)
)


arccos = elementwise(np.arccos)
arccos.defrules(
    vjp=lambda g, x: -g / np.sqrt(1 - x * x), jvp=lambda t, x: -t / np.sqrt(1 - x * x)
)


arctan = elementwise(np.arctan)
arctan.defrules(vjp=lambda g, x: g / (1 + x * x), jvp=lambda t, x: t / (1 + x * x))


arctan2 = elementwise(np.arctan2)
def _squared_radius(x, y):
    """x² + y², as 1 at the origin, where arctan2's derivatives are taken as 0 (PyTorch's)."""
    radius = x * x + y * y
    return where(radius == 0, 1, radius)


arctan2.defrules(
    vjp=(lambda g, x, y: g * y / _squared_radius(x, y),
         lambda g, x, y: -g * x / _squared_radius(x, y)),
    jvp=(lambda t, x, y: t * y / _squared_radius(x, y),
         lambda t, x, y: -t * x / _squared_radius(x, y)),
)


sinh = elementwise(np.sinh)
sinh.defrules(vjp=lambda g, x: g * np.cosh(x), jvp=lambda t, x: t * np.cosh(x))


cosh = elementwise(np.cosh)
cosh.defrules(vjp=lambda g, x: g * np.sinh(x), jvp=lambda t, x: t * np.sinh(x))


tanh = elementwise(np.tanh)
def _one_minus_square(x, donated=()):
    """1 - x², computed in one fresh array on the raw path (in ``x`` itself if donated)."""
    if type(x) is np.ndarray and x.ndim:
        out = np.multiply(x, x, out=x if id(x) in donated else None)
        return np.subtract(1, out, out=out)
    return 1 - x * x


tanh.defrules(
    vjp=lambda g, ans, donated: _times(g, _one_minus_square(ans, donated), donated, fresh=True),
    jvp=lambda t, ans: _times(t, _one_minus_square(ans), fresh=True),
)

# ---------------------------------------------------------------- activations, piecewise


@elementwise
def sigmoid(x):
    # tanh form: no overflow warning for large |x|
    return 0.5 * (1 + np.tanh(0.5 * x))


sigmoid.defrules(vjp=lambda g, ans: g * ans * (1 - ans), jvp=lambda t, ans: t * ans * (1 - ans))


@elementwise
def relu(x):
    return np.maximum(x, 0)


relu.defrules(vjp=lambda g, x: g * (x > 0), jvp=lambda t, x: t * (x > 0))


def _pick(x, y):
    """Weight of ``x`` in max(x, y): 1 where it wins, 1/2 on ties (as JAX)."""
    return (x > y) + 0.5 * (x == y)


maximum = elementwise(np.maximum)
maximum.defrules(
    vjp=(lambda g, x, y: g * _pick(x, y), lambda g, x, y: g * _pick(y, x)),
    jvp=(lambda t, x, y: t * _pick(x, y), lambda t, x, y: t * _pick(y, x)),
)


minimum = elementwise(np.minimum)
minimum.defrules(
    vjp=(lambda g, x, y: g * _pick(y, x), lambda g, x, y: g * _pick(x, y)),
    jvp=(lambda t, x, y: t * _pick(y, x), lambda t, x, y: t * _pick(x, y)),
)


def _clip_winners(x, a_min, a_max):
    """Which of x, a_min, a_max each element of clip(x, a_min, a_max) = min(max(x, a_min), a_max)
    takes (a bound that is None never wins; x wins its ties with the bounds, as in PyTorch)."""
    high = None
    if a_max is not None:
        high = x > a_max
        if a_min is not None:
            high = logical_or(high, a_min > a_max)  # crossed bounds: a_max, as NumPy
    low = None
    if a_min is not None:
        low = x < a_min if high is None else logical_and(x < a_min, logical_not(high))
    outside = high if low is None else low if high is None else logical_or(low, high)
    return logical_not(outside), low, high


@elementwise
def clip(x, a_min, a_max):
    return np.clip(x, a_min, a_max)


clip.defrules(
    vjp=(
        lambda g, x, a_min, a_max: g * _clip_winners(x, a_min, a_max)[0],
        lambda g, x, a_min, a_max: g * _clip_winners(x, a_min, a_max)[1],
        lambda g, x, a_min, a_max: g * _clip_winners(x, a_min, a_max)[2],
    ),
    jvp=(
        lambda t, x, a_min, a_max: t * _clip_winners(x, a_min, a_max)[0],
        lambda t, x, a_min, a_max: t * _clip_winners(x, a_min, a_max)[1],
        lambda t, x, a_min, a_max: t * _clip_winners(x, a_min, a_max)[2],
    ),
)


@elementwise
def where(condition, x, y):
    return np.where(condition, x, y)


where.defrules(
    vjp=(None, lambda g, condition: where(condition, g, 0), lambda g, condition: where(
        condition, 0, g
    )),
    jvp=(None, lambda t, condition: where(condition, t, 0), lambda t, condition: where(
        condition, 0, t
    )),
)

# ---------------------------------------------------------------- identity-like


@elementwise
def identity(x):
    return x


identity.defrules(vjp=lambda g: g, jvp="linear")
identity.defview(lambda base, value: value)


@elementwise
def copy(x):
    return np.array(x, copy=True, order="C")  # (as ndarray.copy: row-major)


copy.defrules(vjp=lambda g: g, jvp="linear")


@elementwise
def astype(x, *, dtype):
    return x.astype(dtype) if isinstance(x, np.ndarray | np.generic) else np.asarray(x, dtype)


astype.defrules(vjp=lambda g: g, jvp="linear")


@elementwise
def real(x):
    return np.real(x)


real.defrules(vjp=lambda g: g, jvp="linear")
# (NumPy's real and imag of a complex array are views; of a real one, real is the array)
# (a Python complex on the left of a NumPy scalar gives a Python complex: the array goes first)
real.defview(lambda base, value: value + imag(base) * 1j if base.dtype.kind == "c" else value)


@elementwise
def imag(x):
    return np.imag(x)


imag.defrules(vjp=lambda g: g * -1j, jvp="linear")
imag.defview(lambda base, value: real(base) + value * 1j)


@elementwise
def conj(x):
    return np.conj(x)


conj.defrules(vjp=lambda g: conj(g), jvp="linear")

def _sign_rule(flow, x, ans, reverse):
    """sign is piecewise constant on real numbers (a zero derivative: None), and z / |z| on
    complex ones: d s = (dz - s^2 conj(dz)) / (2|z|), whose transpose is
    (g - conj(g) conj(s)^2) / (2|z|) (0 at z == 0, as PyTorch's sgn)."""
    if x.dtype.kind != "c":
        return None
    size = absolute(where(x == 0, 1, x))
    if reverse:
        return where(x == 0, 0, (flow - conj(flow) * conj(ans) ** 2) / (2 * size))
    return where(x == 0, 0, (flow - ans**2 * conj(flow)) / (2 * size))


sign = elementwise(np.sign)
sign.defrules(
    vjp=lambda g, x, ans: _sign_rule(g, x, ans, True),
    jvp=lambda t, x, ans: _sign_rule(t, x, ans, False),
)

# ---------------------------------------------------------------- no derivative

equal = nondifferentiable(np.equal)
not_equal = nondifferentiable(np.not_equal)
less = nondifferentiable(np.less)
less_equal = nondifferentiable(np.less_equal)
greater = nondifferentiable(np.greater)
greater_equal = nondifferentiable(np.greater_equal)
logical_not = nondifferentiable(np.logical_not)
logical_and = nondifferentiable(np.logical_and)
logical_or = nondifferentiable(np.logical_or)
logical_xor = nondifferentiable(np.logical_xor)
isnan = nondifferentiable(np.isnan)
isinf = nondifferentiable(np.isinf)
isfinite = nondifferentiable(np.isfinite)
floor = nondifferentiable(np.floor)
ceil = nondifferentiable(np.ceil)
trunc = nondifferentiable(np.trunc)
rint = nondifferentiable(np.rint)
floor_divide = nondifferentiable(np.floor_divide)


remainder = elementwise(np.remainder)
remainder.defrules(
    vjp=(lambda g: g, lambda g, x, y: -g * floor(x / y)),
    jvp=(lambda t: t, lambda t, x, y: -t * floor(x / y)),
)
