"""Elementwise primitives. Broadcasting is the engine's business: rules return cotangents in
the output's shape and the engine sums them down to each input's shape.

Most are declared by their local derivative (``tanh = elementwise(np.tanh, d=...)``), from which
:func:`elementwise` builds both rules, ``g * d`` and ``t * d`` (the transpose convention: no
conjugate, right for holomorphic ops), and the reverse rule's reuse of buffers. Ops whose rules
are not a product with a derivative (selections, identities, complex-only terms) keep
``defrules``.

Rules may call NumPy's ufuncs directly (``np.cos(x)``): on raw arrays that is NumPy with no
Python in between, and on tensors NumPy hands the call to chainrule's primitive of the same
name (``Tensor.__array_ufunc__``), so the rule still records under ``create_graph``."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backends import asarray
from ..tensor import Tensor, array_of
from .primitive import Primitive


def elementwise(
    impl: Callable | None = None, name: str | None = None, *, d: Any = None
) -> Any:
    """A primitive applied elementwise, its inputs broadcast against each other (the engine
    sums cotangents back down to their shapes). ``d`` is its local derivative, one per input (a
    tuple for several, None for an input without one): a function that asks for the op's
    inputs by name and/or ``ans``, as rules do; for an op of one input, a NumPy ufunc applied
    to that input; or the name of the one value it equals (``"ans"`` for ``exp``). A derivative
    of one value may also take ``out``, an array it may write into (ufuncs do). Both rules
    are built from it (:func:`_reverse_rule`, :func:`_tangent_rule`). Used bare, or with
    ``name``/``d`` only, it decorates a forward."""
    if impl is None:
        return lambda forward: elementwise(forward, name, d=d)
    prim = Primitive(impl, name=name, elementwise=True)
    if d is not None:
        derivatives = d if isinstance(d, tuple) else (d,)
        prim.defrules(
            vjp=tuple(None if f is None else _reverse_rule(prim, f) for f in derivatives),
            jvp=tuple(None if f is None else _tangent_rule(prim, f) for f in derivatives),
        )
    return prim


def nondifferentiable(impl: Callable) -> Primitive:
    """A primitive whose output never carries a gradient (comparisons, argmax, floor...)."""
    return Primitive(impl, differentiable=False)


ndarray = np.ndarray  # (one global lookup in the rules below, which run per recorded op)


def _asks_for(prim: Primitive, derivative: Any) -> tuple[tuple, bool]:
    """The names a derivative reads (its parameters, a ufunc's one input, or the value it
    names), and whether it takes ``out``."""
    if isinstance(derivative, str):
        return (derivative,), False
    if isinstance(derivative, np.ufunc):
        return prim.inputs[:1], True
    names = tuple(inspect.signature(derivative).parameters)
    if "out" not in names:
        return names, False
    names = tuple(name for name in names if name != "out")
    if len(names) != 1:
        raise TypeError(f"a derivative of {prim.name} that takes out= must read one value")
    return names, True


def _with_parameters(rule: Callable, names: tuple) -> Callable:
    """``rule`` (which takes ``*values``) declared with the parameter names it is fetched by."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    rule.__signature__ = inspect.Signature([inspect.Parameter(n, kind) for n in names])
    return rule


def _reverse_rule(prim: Primitive, derivative: Any) -> Callable:
    """``cotangent * derivative``. On raw arrays (the first-order path) the product goes into an
    array nobody else holds when one has the result's shape and dtype (see :func:`_product`),
    and a derivative that takes ``out`` is computed into the value it reads when the engine
    donates that value. (A derivative of one value gets a rule of that one parameter: this is
    every recorded op's backward step, and a ``*values`` call costs more.)"""
    names, writes = _asks_for(prim, derivative)
    by_value = isinstance(derivative, str)  # the factor is the value itself: no call

    def vjp(cotangent, donated, value):
        if type(cotangent) is not ndarray:  # a tensor (recorded) or a NumPy scalar
            return cotangent * (value if by_value else derivative(value))
        if by_value:
            factor = value
        elif writes and type(value) is ndarray and id(value) in donated:
            factor = derivative(value, out=value)
        else:
            factor = derivative(value)
        return _product(cotangent, factor, (value,), donated)

    def vjp_of_values(cotangent, donated, *values):
        if type(cotangent) is not ndarray:
            return cotangent * derivative(*values)
        return _product(cotangent, derivative(*values), values, donated)

    rule = vjp if len(names) == 1 else vjp_of_values
    return _with_parameters(rule, ("cotangent", "donated") + names)


def _tangent_rule(prim: Primitive, derivative: Any) -> Callable:
    """``tangent * derivative``."""
    names = _asks_for(prim, derivative)[0]
    by_value = isinstance(derivative, str)

    def jvp(tangent, value):
        return tangent * (value if by_value else derivative(value))

    def jvp_of_values(tangent, *values):
        return tangent * derivative(*values)

    return _with_parameters(jvp if len(names) == 1 else jvp_of_values, ("tangent",) + names)


def _product(cotangent: np.ndarray, factor: Any, values: tuple, donated: Any) -> Any:
    """``cotangent * factor``, written into ``factor`` when the derivative has just made it (an
    array that is none of its arguments, nor a view) or the engine donated it, else into the
    cotangent when donated (see chainrule.donation); otherwise a new array. A derivative returns its
    arguments or new arrays, never an array held elsewhere."""
    if type(factor) is np.ndarray:
        if factor.shape != cotangent.shape or factor.dtype != cotangent.dtype:
            return cotangent * factor
        if id(factor) in donated:
            return np.multiply(cotangent, factor, out=factor)
        if factor.base is None:
            for value in values:
                if factor is value:
                    break
            else:
                return np.multiply(cotangent, factor, out=factor)
    elif type(factor) is not float and type(factor) is not int:
        return cotangent * factor  # (a Python number keeps the cotangent's dtype)
    if id(cotangent) in donated:
        return np.multiply(cotangent, factor, out=cotangent)
    return cotangent * factor


# ---------------------------------------------------------------- arithmetic
# The arithmetic forwards are Python's operators (the ``operator`` module's functions) rather
# than the ufuncs: same results, but on NumPy scalars (0-d values, the chapter's scalar
# examples) the operators' fast path costs a tenth of a ufunc call.

# Rules that are the same in both modes (linear in the flow, but not a product with a local
# derivative) are written once and given as both.
def _passed(flow):
    return flow


def _negated(flow):
    return -flow


add = elementwise(operator.add)
add.defrules(vjp=(_passed, _passed), jvp=(_passed, _passed))


subtract = elementwise(operator.sub, name="subtract")
subtract.defrules(vjp=(_passed, _negated), jvp=(_passed, _negated))


multiply = elementwise(operator.mul, name="multiply", d=("y", "x"))


# Quotient rules divide (as PyTorch's do) rather than multiply by a reciprocal: one operation
# less, and gradients bit for bit PyTorch's. Each is one rule, given for both modes.
def _over_y(flow, y):
    return flow / y


def _quotient_y(flow, y, ans):
    return -flow * ans / y


true_divide = elementwise(operator.truediv, name="true_divide")
true_divide.defrules(vjp=(_over_y, _quotient_y), jvp=(_over_y, _quotient_y))


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


power = elementwise(
    operator.pow, name="power", d=(_power_slope, lambda x, y, ans: ans * _log_base(x, y))
)
square = elementwise(np.square, d=lambda x: 2 * x)
reciprocal = elementwise(np.reciprocal, d=lambda ans: -ans * ans)
sqrt = elementwise(np.sqrt, d=lambda ans: 0.5 / ans)


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


exp = elementwise(np.exp, d="ans")
expm1 = elementwise(np.expm1, d=lambda ans: ans + 1)
def _over_x(flow, x):
    return flow / x


def _over_1_plus_x(flow, x):
    return flow / (1 + x)


def _over_x_log(base):
    def rule(flow, x):
        return flow / (x * np.log(base))

    return rule


log = elementwise(np.log)
log.defrules(vjp=_over_x, jvp=_over_x)
log1p = elementwise(np.log1p)
log1p.defrules(vjp=_over_1_plus_x, jvp=_over_1_plus_x)
log2 = elementwise(np.log2)
log2.defrules(vjp=_over_x_log(2.0), jvp=_over_x_log(2.0))
log10 = elementwise(np.log10)
log10.defrules(vjp=_over_x_log(10.0), jvp=_over_x_log(10.0))

# ---------------------------------------------------------------- trigonometric and hyperbolic


sin = elementwise(np.sin, d=np.cos)
cos = elementwise(np.cos, d=lambda x: -np.sin(x))
tan = elementwise(np.tan, d=lambda ans: 1 + ans * ans)
arcsin = elementwise(np.arcsin, d=lambda x: 1 / np.sqrt(1 - x * x))
arccos = elementwise(np.arccos, d=lambda x: -1 / np.sqrt(1 - x * x))
arctan = elementwise(np.arctan, d=lambda x: 1 / (1 + x * x))


def _squared_radius(x, y):
    """x² + y², as 1 at the origin, where arctan2's derivatives are taken as 0 (PyTorch's)."""
    radius = x * x + y * y
    return where(radius == 0, 1, radius)


arctan2 = elementwise(
    np.arctan2,
    d=(lambda x, y: y / _squared_radius(x, y), lambda x, y: -x / _squared_radius(x, y)),
)
sinh = elementwise(np.sinh, d=np.cosh)
cosh = elementwise(np.cosh, d=np.sinh)
def _one_minus_square(ans, out=None):
    """1 - ans², computed in ``out`` when given."""
    if out is None:
        return 1 - ans * ans
    square = np.multiply(ans, ans, out=out)
    return np.subtract(1, square, out=square)


tanh = elementwise(np.tanh, d=_one_minus_square)

# ---------------------------------------------------------------- activations, piecewise


@elementwise(d=lambda ans: ans * (1 - ans))
def sigmoid(x):
    # tanh form: no overflow warning for large |x|
    return 0.5 * (1 + np.tanh(0.5 * x))


@elementwise(d=lambda x: x > 0)
def relu(x):
    return np.maximum(x, 0)


def _pick(x, y):
    """Weight of ``x`` in max(x, y): 1 where it wins, 1/2 on ties (as JAX)."""
    return (x > y) + 0.5 * (x == y)


maximum = elementwise(np.maximum, d=(_pick, lambda x, y: _pick(y, x)))
minimum = elementwise(np.minimum, d=(lambda x, y: _pick(y, x), _pick))


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


@elementwise(d=(
    lambda x, a_min, a_max: _clip_winners(x, a_min, a_max)[0],
    lambda x, a_min, a_max: _clip_winners(x, a_min, a_max)[1],
    lambda x, a_min, a_max: _clip_winners(x, a_min, a_max)[2],
))
def clip(x, a_min, a_max):
    return np.clip(x, a_min, a_max)


@elementwise
def where(condition, x, y):
    return np.where(condition, x, y)


# (a selection, not a product: an infinite cotangent where the other branch is taken stays 0)
_where_rules = (
    None,
    lambda flow, condition: where(condition, flow, 0),
    lambda flow, condition: where(condition, 0, flow),
)
where.defrules(vjp=_where_rules, jvp=_where_rules)

# ---------------------------------------------------------------- identity-like


@elementwise
def identity(x):
    return x


identity.defrules(vjp=lambda g: g, jvp="linear")
identity.defview(lambda base, value: value)


@elementwise
def copy(x):
    return x.copy()  # (ndarray.copy: row-major; another library's: its own)


copy.defrules(vjp=lambda g: g, jvp="linear")


@elementwise
def astype(x, *, dtype):
    return x.astype(dtype) if hasattr(x, "astype") else np.asarray(x, dtype)


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


def _remainder_y(flow, x, y):
    return -flow * floor(x / y)


remainder = elementwise(np.remainder)
remainder.defrules(vjp=(_passed, _remainder_y), jvp=(_passed, _remainder_y))


def array_value(x):
    """The NumPy array of a tensor or an array-like: what constants computed from a value
    (masks, permutations, dtypes) are computed from."""
    return asarray(array_of(x))


def stop_gradient(x):
    """The same values with no history and no tangents: gradients stop here."""
    return x.detach() if isinstance(x, Tensor) else x
