"""What the tracer knows of NumPy's functions, methods and attributes beyond their protocols:
which answer with metadata (no guard), which write into an argument, whose results' shapes
depend on the values, and which ufuncs the program writes as Python operators.

This module imports nothing of chainrule.
"""

from __future__ import annotations

import importlib
import operator
import os
import sys
import warnings
from typing import Any

import numpy as np

# Python values that hold no array: the program writes them as they are.
PLAIN = frozenset({float, int, bool, complex, str, type(None), type(Ellipsis)})

# Functions whose result is about shapes, dtypes or memory, fixed by the signature: given to
# Python as they are, with no guard.
METADATA = {
    np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
    np.iscomplexobj, np.isrealobj, np.can_cast, np.min_scalar_type, np.broadcast_shapes,
}
# Functions that write into their first argument.
WRITES_FIRST = {
    np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis,
}
# Functions whose result's shape depends on the values (guarded at replay).
DATA_SHAPED = {
    np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.compress, np.extract,
    np.trim_zeros,
}
# Methods that write into the array they are called on.
WRITING_METHODS = {"fill", "sort", "partition", "put", "itemset", "resize", "setfield"}
# Attributes that are metadata (the rest of the non-callable ones are traced arrays: T, real).
METADATA_ATTRS = {
    "shape", "dtype", "ndim", "size", "itemsize", "nbytes", "strides", "flags",
}

# ufuncs written as Python operators (the same NumPy call, faster on NumPy scalars); ``**`` is
# recorded as operator.pow, since np.power is not always what it does
BINARY = {
    np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/", operator.pow: "**",
    np.floor_divide: "//", np.remainder: "%", np.matmul: "@", np.less: "<",
    np.less_equal: "<=", np.greater: ">", np.greater_equal: ">=", np.equal: "==",
    np.not_equal: "!=", np.bitwise_and: "&", np.bitwise_or: "|", np.bitwise_xor: "^",
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%",
}
UNARY = {np.negative: "-", np.positive: "+", np.invert: "~"}
SHAPE_ONLY = {np.ones_like, np.zeros_like, np.full_like}
# The modules (prefixes) of functions that raise on some values (LinAlgError on a singular
# matrix): a program keeps their calls though nothing reads the results.
RAISING = ("numpy.linalg", "scipy.linalg")


def warn_again(message: Any, category: Any) -> None:
    """A Python warning the traced call issued, issued again by each replay, at the line that
    called the jitted function (the first frame out of the program and this package)."""
    frame: Any = sys._getframe(1)
    level = 2
    while frame is not None and (frame.f_code.co_filename.startswith(_OURS)):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_OURS = (os.path.dirname(__file__), "<chainrule generated: jit")


# Calls a program keeps though they make nothing that is read (their effect is the point).
EFFECTS = {warn_again}

# The ufuncs whose Python operators, on NumPy scalars, may compute otherwise (TraceArray records
# the operator there; the program writes the ufunc on scalars as a call).
SCALAR_OPERATORS: dict[Any, Any] = {
    np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
    np.true_divide: operator.truediv, np.floor_divide: operator.floordiv,
    np.remainder: operator.mod,
}


# NumPy's floating-point error state (np.errstate) in this context: NumPy 2 keeps it in a
# context variable, whose value is compared by identity (one lookup per recorded call); were it
# gone, np.geterr() is compared instead.
try:
    _ERROR_STATE = getattr(importlib.import_module("numpy._core._ufunc_config"),
                           "_extobj_contextvar", None)
except ImportError:  # (a NumPy that moved it)
    _ERROR_STATE = None


def error_state() -> Any:
    """What tells NumPy's error states apart (by ``!=``)."""
    if _ERROR_STATE is not None:
        return _ERROR_STATE.get()
    return tuple(sorted(np.geterr().items()))


def item(value: Any, *args: Any) -> Any:
    """``value.item(*args)``, as the program calls it (a guard's value)."""
    return value.item(*args)


def tolist(value: Any) -> Any:
    """``value.tolist()``, as the program calls it (a guard's value)."""
    return value.tolist()


def as_list(func: Any) -> Any:
    """``func`` (np.split, np.meshgrid...) giving a tuple, which the program records."""
    def as_tuple(*args: Any, **kwargs: Any) -> tuple:
        return tuple(func(*args, **kwargs))

    as_tuple.__name__ = getattr(func, "__name__", "call")
    return as_tuple
