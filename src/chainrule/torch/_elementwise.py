"""PyTorch's elementwise operations, as a table from PyTorch's names to the core's primitives,
with PyTorch's type promotion and exceptions at this boundary.

Operators, methods and ``torch.*`` functions all come here: the operands are cast to PyTorch's
result dtype (:mod:`._promotion`), then the core's primitive runs on them; what NumPy reports
as a ValueError or TypeError becomes PyTorch's RuntimeError.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import chainrule as cr

from .. import ops
from ..tensor import array_of
from ._promotion import DEFAULT_FLOAT, cast, result_type
from ._types import scalar_name

NO_PARAMS: dict = {}


class Op(NamedTuple):
    """How PyTorch computes an elementwise operation: its primitive, the kinds of result dtype
    it has a kernel for (it refuses the others), whether the result is at least the default
    float dtype (true division, the floating functions), and its name in messages."""

    prim: Any
    kinds: str = "biufc"
    floating: bool = False
    name: str = ""


OPS = {
    "add": Op(ops.add), "sub": Op(ops.subtract), "mul": Op(ops.multiply),
    "truediv": Op(ops.true_divide, "fc", True, "div"), "pow": Op(ops.power, "iufc"),
    "floordiv": Op(ops.floor_divide, "iuf", name="div_floor"),
    "mod": Op(ops.remainder, "iuf", name="remainder"),
    "eq": Op(ops.equal), "ne": Op(ops.not_equal), "lt": Op(ops.less, "biuf"),
    "le": Op(ops.less_equal, "biuf"), "gt": Op(ops.greater, "biuf"),
    "ge": Op(ops.greater_equal, "biuf"), "maximum": Op(ops.maximum, "biuf"),
    "minimum": Op(ops.minimum, "biuf"),
}
# (an operation's name in messages is its key unless given)
OPS = {name: op._replace(name=op.name or name) for name, op in OPS.items()}
# The floating functions (``torch.exp`` is the method, see __init__).
FLOATING = {
    name: Op(prim, "fc", True, name) for name, prim in {
        "exp": ops.exp, "expm1": ops.expm1, "log": ops.log, "log1p": ops.log1p,
        "log2": ops.log2, "log10": ops.log10, "sqrt": ops.sqrt, "reciprocal": ops.reciprocal,
        "sin": ops.sin, "cos": ops.cos, "tan": ops.tan, "asin": ops.arcsin,
        "acos": ops.arccos, "atan": ops.arctan, "sinh": ops.sinh, "cosh": ops.cosh,
        "tanh": ops.tanh, "sigmoid": ops.sigmoid,
    }.items()
}
# Whether a Python number leaves a dimensioned tensor's dtype as it is, by the tensor's kind
# (with NumPy 1's value-based casting as with NumPy 2's weak scalars): the common case, which
# needs no promotion.
_KEEPS = {float: "fc", int: "iufc"}
_KEEPS_FLOAT = {float: "fc", int: "fc"}
# What PyTorch's operators refuse as an operand (a list is not a tensor there).
_NOT_OPERANDS = (str, bytes, list, tuple, dict, set)


def promote(op: Op, operands: tuple) -> tuple:
    """``operands`` cast to the dtype PyTorch computes ``op`` in, or PyTorch's refusal."""
    if op.prim is ops.subtract and builtins.any(_is_bool(operand) for operand in operands):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    dtype = result_type(*operands)
    if op.floating and dtype.kind not in "fc":
        dtype = DEFAULT_FLOAT
    if dtype.kind not in op.kinds:
        raise NotImplementedError(  # (a RuntimeError, as PyTorch's)
            f'"{op.name}" not implemented for \'{scalar_name(dtype)}\': PyTorch has no kernel '
            f"for it in {dtype}; convert the operands first (e.g. with .float())"
        )
    return tuple([cast(operand, dtype) for operand in operands])


def _is_bool(value: Any) -> builtins.bool:
    if isinstance(value, (builtins.bool, np.bool_)):
        return True
    dtype = getattr(array_of(value), "dtype", None)
    return dtype is not None and dtype.kind == "b"


def binary(op: Op, reflected: bool = False) -> Callable:
    """``self <op> other`` (``other <op> self`` if ``reflected``) with PyTorch's promotion."""
    apply = op.prim.apply
    fast_kinds = "fc" if op.floating else op.kinds.replace("b", "")
    keeps = {kind: "".join(k for k in kinds if k in fast_kinds)
             for kind, kinds in (_KEEPS_FLOAT if op.floating else _KEEPS).items()}

    def operator(self: cr.Tensor, other: Any) -> cr.Tensor:
        data = self._array
        if isinstance(other, cr.Tensor):  # the fast path: operands of the same dtype
            same = other._array.dtype is data.dtype and data.dtype.kind in fast_kinds
        else:
            same = data.ndim and data.dtype.kind in keeps.get(type(other), "")
        operands = (other, self) if reflected else (self, other)
        if not same:
            if other is None or isinstance(other, _NOT_OPERANDS):
                return NotImplemented  # Python's TypeError, as PyTorch's (x == None is False)
            operands = promote(op, operands)
        try:
            return apply(operands, NO_PARAMS)
        except (ValueError, TypeError) as error:
            raise runtime_error(error, operands) from None

    return operator


def floating(op: Op) -> Callable:
    """A floating function (``exp``, ``sqrt``...): integers and booleans become the default
    float dtype first, as in PyTorch (NumPy would give float64)."""
    apply = op.prim.apply

    def function(self: cr.Tensor) -> cr.Tensor:
        if self._array.dtype.kind not in "fc":
            self = cr.astype(self, DEFAULT_FLOAT)
        return apply((self,), NO_PARAMS)

    function.__name__ = op.name
    return function


def _shape_of(value: Any) -> tuple:
    return tuple(np.shape(array_of(value)))


def runtime_error(error: Exception, operands: tuple = ()) -> Exception:
    """PyTorch's exception for what NumPy reports as a ValueError or a TypeError (no loop for
    these dtypes): a RuntimeError, with PyTorch's wording for shapes that do not broadcast. (An
    ``AxisError`` is also an IndexError, PyTorch's class for a dimension out of range: it is
    kept.)"""
    if isinstance(error, IndexError):
        return error
    shapes = [_shape_of(operand) for operand in operands if operand is not None]
    ndim = builtins.max((len(shape) for shape in shapes), default=0)
    for position in range(1, ndim + 1):
        sizes = [shape[-position] for shape in shapes if len(shape) >= position]
        sizes = [size for size in sizes if size != 1]
        if len(set(sizes)) > 1:
            return RuntimeError(
                f"The size of tensor a ({sizes[0]}) must match the size of tensor b "
                f"({sizes[1]}) at non-singleton dimension {ndim - position}; the shapes "
                f"{' and '.join(str(list(shape)) for shape in shapes)} do not broadcast "
                "(reshape or unsqueeze one of them)"
            )
    return RuntimeError(str(error))


def runtime_errors(method: Callable) -> Callable:
    """``method`` raising RuntimeError where the core raises ValueError (as PyTorch does)."""

    @functools.wraps(method)
    def converted(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ValueError as error:
            raise runtime_error(error) from None

    return converted



CLAMP = Op(ops.clip, "biuf", name="clamp")


def accepts_numpy_names(method: Callable) -> Callable:
    """``method`` also taking NumPy's ``axis`` and ``keepdims`` for ``dim`` and ``keepdim``, as
    PyTorch's functions do (``x.sum(axis=0, keepdims=True)``)."""
    parameters = inspect.signature(method).parameters
    aliases = tuple((numpy_name, name) for numpy_name, name in (("axis", "dim"),
                                                                 ("keepdims", "keepdim"))
                    if name in parameters and numpy_name not in parameters)
    if not aliases:
        return method

    @functools.wraps(method)
    def aliased(*args: Any, **kwargs: Any) -> Any:
        for numpy_name, name in aliases:
            if numpy_name in kwargs:
                if name in kwargs:
                    raise TypeError(f"{method.__name__}() got both {name}= and {numpy_name}=, "
                                    f"which are the same argument; pass one of them")
                kwargs[name] = kwargs.pop(numpy_name)
        return method(*args, **kwargs)

    return aliased

