"""MXNet's type promotion (its NumPy interface, ``mxnet.np``), at the dialect's boundary: the
dialect works out MXNet's result dtype and casts the operands with the core's recorded
``astype`` before the core op runs, so the core keeps NumPy's rules.

MXNet's rules (``common::type_promotion`` and the type inference of its NumPy operators):

- two arrays of different dtypes: a float beats an integer whatever their sizes (``int64`` and
  ``float32`` give float32, where NumPy gives float64); within a kind the wider wins; bool
  yields to anything;
- an array and a Python number: the array's dtype, except that an integer or bool array with a
  float gives float64, and a bool array with an int (or a bool) gives int64;
- true division: the floating operand's dtype (the wider of two), and float32, MXNet's default,
  when neither is floating;
- the floating functions (``sqrt``, ``exp``, ``sin``... and ``floor``/``ceil``/``trunc``) of
  int32 and int64 arrays give float32, of smaller integers and bools float16.

>>> from chainrule.mxnet import np
>>> (np.array([1, 2], dtype="int32") / np.array([2, 2], dtype="int32")).dtype
dtype('float32')
>>> (np.array([1, 2], dtype="int64") + np.array([0.5, 0.5])).dtype
dtype('float32')
"""

from __future__ import annotations

from typing import Any

import numpy as onp

import chainrule as cr

DEFAULT_FLOAT = onp.dtype("float32")
_FLOAT16, _FLOAT64, _INT64 = onp.dtype("float16"), onp.dtype("float64"), onp.dtype("int64")


def promote_types(type1: Any, type2: Any) -> onp.dtype:
    """The dtype of an operation on arrays of ``type1`` and ``type2`` in MXNet."""
    type1, type2 = onp.dtype(type1), onp.dtype(type2)
    if type1 == type2:
        return type1
    float1, float2 = type1.kind == "f", type2.kind == "f"
    if float1 != float2:
        return type1 if float1 else type2
    return onp.promote_types(type1, type2)  # same kind: the wider; bool yields; ints as NumPy


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, complex, onp.generic))


def _array_dtype(value: Any) -> onp.dtype:
    return value._array.dtype if isinstance(value, cr.Tensor) else onp.asarray(value).dtype


def result_type(first: Any, second: Any, divide: bool = False) -> onp.dtype:
    """MXNet's dtype for a binary operation (true division if ``divide``) on two operands,
    arrays or numbers."""
    if _is_number(first) and _is_number(second):
        return onp.result_type(first, second)
    if _is_number(first):
        first, second = second, first
    array = _array_dtype(first)
    if _is_number(second):
        if divide:
            return array if array.kind == "f" else DEFAULT_FLOAT
        integral = isinstance(second, (int, onp.integer, onp.bool_))  # (a bool is an int)
        if array.kind in "biu" and not integral:
            return _FLOAT64
        return _INT64 if array.kind == "b" else array
    other = _array_dtype(second)
    if divide:
        if array.kind == "f" and other.kind == "f":
            return promote_types(array, other)
        if array.kind == "f" or other.kind == "f":
            return array if array.kind == "f" else other
        return DEFAULT_FLOAT
    return promote_types(array, other)


def floating_dtype(dtype: onp.dtype) -> onp.dtype:
    """The dtype of a floating function of an array of ``dtype``."""
    if dtype.kind in "fc":
        return dtype
    return DEFAULT_FLOAT if dtype in (onp.dtype("int32"), _INT64) else _FLOAT16


def cast(value: Any, dtype: onp.dtype) -> Any:
    """A tensor through the core's recorded ``astype``; anything else as a NumPy array."""
    if isinstance(value, cr.Tensor):
        return value if value._array.dtype == dtype else cr.astype(value, dtype)
    return onp.asarray(value, dtype)
