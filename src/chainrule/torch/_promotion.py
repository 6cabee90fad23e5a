"""PyTorch's type promotion, applied at the dialect's boundary.

The core computes with NumPy's rules. Before an operation the dialect works out the dtype that
PyTorch gives (:func:`result_type`) and casts its operands to it with the core's recorded
``astype``, so the core only ever sees operands of one dtype and gradients flow back through
the cast, each to its input in the input's own dtype.

PyTorch's rules (``torch.result_type``): the categories are bool < integer < floating <
complex, and the result's category is the highest among the operands. Within it, dimensioned
tensors outrank zero-dimensional tensors, which outrank Python numbers: ``float32 tensor *
float64 0-d tensor`` is float32, ``int32 tensor + 1`` is int32. A Python number of a higher
category than every tensor gives the default dtype of its category (float32, complex64), so
``int64 tensor * 2.5`` is float32. Division and the floating functions (``sqrt``, ``exp``...)
of integers give the default float dtype.

>>> import chainrule.torch as torch
>>> (torch.tensor([1.0, 2, 4, 8]) + torch.tensor([2, 2, 2, 2])).dtype
torch.float32
>>> torch.result_type(torch.tensor([1, 2], dtype=torch.int32), 1.0)
torch.float32
"""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule as cr

DEFAULT_FLOAT = np.dtype("float32")
DEFAULT_COMPLEX = np.dtype("complex64")
_INT64 = np.dtype("int64")
_BOOL = np.dtype("bool")
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_TO_COMPLEX = {"float16": DEFAULT_COMPLEX, "float32": DEFAULT_COMPLEX,
               "float64": np.dtype("complex128")}


def _category(dtype: np.dtype) -> int:
    try:
        return _CATEGORY[dtype.kind]
    except KeyError:
        raise TypeError(
            f"chainrule.torch computes with numbers, not {dtype}; convert the data to a numeric "
            "array first"
        ) from None


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """``torch.promote_types``: the smallest dtype of the higher category that holds both.

    Unlike NumPy, an integer never widens a float: ``int64`` and ``float32`` give float32.
    """
    type1, type2 = np.dtype(type1), np.dtype(type2)
    if type1 == type2:
        return type1
    category1, category2 = _category(type1), _category(type2)
    if category1 == category2:
        return np.promote_types(type1, type2)
    higher, lower = (type1, type2) if category1 > category2 else (type2, type1)
    if higher.kind == "c" and lower.kind == "f":  # complex64 and float64 give complex128
        return np.promote_types(higher, lower)
    return higher


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Combine the result of a higher-priority group of operands with a lower one (PyTorch's
    ``combine_categories``): the lower group counts only where it is of a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "c":
        return higher
    if lower.kind == "c":
        return _TO_COMPLEX.get(higher.name, lower) if higher.kind == "f" else lower
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def _promote(current: np.dtype | None, dtype: np.dtype) -> np.dtype:
    return dtype if current is None or current is dtype else promote_types(current, dtype)


def scalar_dtype(value: Any) -> np.dtype | None:
    """The dtype PyTorch gives a Python (or NumPy) number in an operation with tensors: bool,
    int64, or the default float and complex dtypes; None for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, (int, np.integer)):
        return _INT64
    if isinstance(value, (float, np.floating)):
        return DEFAULT_FLOAT
    if isinstance(value, (complex, np.complexfloating)):
        return DEFAULT_COMPLEX
    return None


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an operation on ``operands`` (tensors, arrays, numbers; None is
    skipped), as ``torch.result_type`` does for two."""
    dimensioned = zero_dim = numbers = None
    for operand in operands:
        if isinstance(operand, cr.Tensor):
            data = operand._array
            if data.ndim:
                dimensioned = _promote(dimensioned, data.dtype)
            else:
                zero_dim = _promote(zero_dim, data.dtype)
        elif isinstance(operand, np.ndarray):
            # PyTorch converts a NumPy array to a tensor, dimensioned even when 0-d
            dimensioned = _promote(dimensioned, operand.dtype)
        elif operand is not None:
            dtype = scalar_dtype(operand)
            if dtype is None:
                dtype = as_array(operand).dtype
                dimensioned = _promote(dimensioned, dtype)
            else:
                numbers = _promote(numbers, dtype)
    result = _combine(dimensioned, _combine(zero_dim, numbers))
    if result is None:
        raise TypeError("result_type needs at least one tensor or number")
    _category(result)
    return result


def as_array(value: Any) -> np.ndarray:
    """An operand that is neither a tensor nor a number (a NumPy array, a pandas Series, a list)
    as a NumPy array of its own dtype, so that no foreign array type reaches the core."""
    array = np.asarray(value)
    _category(array.dtype)
    return array


def cast(value: Any, dtype: np.dtype) -> Any:
    """``value`` in ``dtype``: a tensor through the core's recorded ``astype`` (its gradient
    comes back in the tensor's own dtype), anything else as a NumPy array."""
    if isinstance(value, cr.Tensor):
        data = value._array
        return value if data.dtype == dtype else cr.astype(value, dtype)
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value if value.dtype == dtype else value.astype(dtype)
    return np.asarray(value if scalar_dtype(value) is not None else as_array(value), dtype)


def promoted(operands: tuple, floating: bool = False) -> tuple:
    """``operands`` cast to their PyTorch result dtype (the default float dtype at least, for
    true division and the floating functions, when ``floating``)."""
    dtype = result_type(*operands)
    if floating and dtype.kind not in "fc":
        dtype = DEFAULT_FLOAT
    return tuple([cast(operand, dtype) for operand in operands])


def can_cast(from_: Any, to: Any) -> bool:
    """``torch.can_cast``: whether an in-place operation may write a result of dtype ``from_``
    into a tensor of dtype ``to`` (never to a lower category)."""
    return _category(np.dtype(from_)) <= _category(np.dtype(to))
