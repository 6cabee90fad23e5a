"""``mxnet.np``: NumPy's names, with MXNet's float32 default (even ``arange(4)``).

>>> from chainrule.mxnet import np
>>> np.arange(4)
array([0., 1., 2., 3.])
>>> np.random.normal().shape
()
"""

from __future__ import annotations

import builtins
import functools
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as onp

import chainrule as cr

from .. import ops
from ._ndarray import _as, binary, floating, ndarray

float16, float32, float64 = cr.float16, cr.float32, cr.float64
int8, int32, int64, uint8, bool_ = (onp.dtype(t) for t in ("int8", "int32", "int64", "uint8",
                                                           "bool"))
pi, e, inf, nan, newaxis = onp.pi, onp.e, onp.inf, onp.nan, None


def _lift(function: Callable) -> Callable:
    """The core function, returning MXNet arrays."""

    @functools.wraps(function)
    def lifted(*args: Any, **kwargs: Any) -> Any:
        return _as(function(*args, **kwargs))

    return lifted


# NumPy names the core already provides with NumPy's signatures
_SAME = (
    "negative square abs absolute logical_not sign dot matmul vdot tensordot einsum sum mean "
    "prod max min amax amin argmax argmin var std cumsum where clip reshape transpose swapaxes "
    "moveaxis expand_dims squeeze broadcast_to concatenate stack split flip tile ravel "
    "zeros_like ones_like full_like"
).split()
globals().update({name: _lift(getattr(cr, name)) for name in _SAME})
# Arithmetic and the floating functions promote as MXNet (see _promotion).
_ARITHMETIC = {"add": ops.add, "subtract": ops.subtract, "multiply": ops.multiply,
               "power": ops.power, "floor_divide": ops.floor_divide, "mod": ops.remainder,
               "remainder": ops.remainder, "maximum": ops.maximum, "minimum": ops.minimum,
               "equal": ops.equal, "not_equal": ops.not_equal, "less": ops.less,
               "less_equal": ops.less_equal, "greater": ops.greater,
               "greater_equal": ops.greater_equal}
globals().update({name: binary(prim) for name, prim in _ARITHMETIC.items()})
divide = true_divide = binary(ops.true_divide, divide=True)
_FLOATING = ("sqrt exp expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan sinh cosh "
             "tanh floor ceil trunc rint").split()
globals().update({name: floating(getattr(ops, name)) for name in _FLOATING})

if TYPE_CHECKING:
    # NumPy's names above are made at import (globals().update), where type checkers cannot
    # see them: they take each as Any instead of reporting it missing.
    def __getattr__(name: str) -> Any: ...


def array(object: Any, dtype: Any = None, ctx: Any = None) -> ndarray:  # noqa: A002
    """A new array; Python numbers and lists become float32 (MXNet's default)."""
    if dtype is None and not hasattr(object, "dtype"):
        data = onp.asarray(object)
        dtype = data.dtype if data.dtype.kind == "b" else float32
    return _as(cr.tensor(object, dtype))


asarray = array


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None,
           ctx: Any = None) -> ndarray:
    args = (start,) if stop is None else (start, stop, step)
    return _as(cr.arange(*args, dtype=dtype or float32))


def zeros(shape: Any, dtype: Any = None, ctx: Any = None) -> ndarray:
    return _as(cr.zeros(shape, dtype=dtype or float32))


def ones(shape: Any, dtype: Any = None, ctx: Any = None) -> ndarray:
    return _as(cr.ones(shape, dtype=dtype or float32))


empty = zeros


def full(shape: Any, fill_value: Any, dtype: Any = None, ctx: Any = None) -> ndarray:
    return _as(cr.full(shape, fill_value, dtype or float32))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> ndarray:  # noqa: N803
    return _as(cr.tensor(onp.eye(N, M, k, dtype=dtype or float32)))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             dtype: Any = None) -> ndarray:
    return _as(cr.tensor(onp.linspace(start, stop, num, endpoint, dtype=dtype or float32)))


def _normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: Any = None,
            ctx: Any = None, out: Any = None) -> ndarray:
    return _as(cr.random.normal(loc, scale, size=() if size is None else size, dtype=dtype))


def _uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None, dtype: Any = None,
             ctx: Any = None, out: Any = None) -> ndarray:
    return _as(cr.random.uniform(low, high, size=() if size is None else size, dtype=dtype))


random = types.SimpleNamespace(
    normal=_normal,
    uniform=_uniform,
    randn=lambda *shape: _as(cr.random.randn(*shape)),
    randint=lambda low, high=None, size=None, dtype=None: _as(
        cr.random.randint(low, high, size=() if size is None else size)),
    seed=cr.random.seed,
)
random.__doc__ = "``mxnet.np.random``: samples are float32 and 0-d when ``size`` is omitted."
linalg = types.SimpleNamespace(norm=_lift(cr.linalg.norm))


def shape(a: Any) -> tuple:
    return onp.shape(a)


def size(a: Any) -> int:
    return builtins.int(onp.size(a))


__all__ = [n for n in dir() if not n.startswith("_")
           and n not in ("builtins", "functools", "types", "onp", "cr")] + ["ndarray"]
