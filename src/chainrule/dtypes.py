"""Dtypes, and the arrays a new tensor is made from: the frameworks' defaults for Python
numbers (float32, not NumPy's float64), and the refusal of data that are not numbers.

This module imports only ``backends`` of chainrule: the tensor, the op table and the dialects
build on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backends import copy, is_foreign, seen

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")


def as_dtype(dtype: Any) -> np.dtype | None:
    """Accept a NumPy dtype, a string such as ``"float64"``, a Python type or ``cr.float32``."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype {dtype!r} is not understood; use a NumPy dtype, a string such as "
            "'float32', or cr.float32 / cr.float64"
        ) from None


# The dtypes of Python numbers in a new tensor: the frameworks' defaults, not NumPy's float64.
_PYTHON_NUMBERS = {bool: bool_, int: int64, float: float32, complex: np.dtype("complex64")}
_NUMERIC_KINDS = frozenset("biufc")


def numbers_to_array(data: Any, dtype: Any, promote_types: Any) -> np.ndarray:
    """``data`` (numbers, NumPy arrays and scalars, array-likes, nested lists of them; no
    tensors) as an array: :func:`chainrule.tensor.to_array` says which dtype it gets."""
    dtype = as_dtype(dtype)
    default = _PYTHON_NUMBERS.get(type(data))
    if default is not None:  # a Python number (the common case, kept fast)
        return np.array(data, dtype=dtype or default)
    if is_foreign(data):  # an array of another library (Dask, CuPy) stays one: a copy
        data = seen(data)
        if data.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(
                f"a tensor holds numbers (bool, int, float, complex), and this "
                f"{type(data).__name__} has dtype {data.dtype}; convert it to numbers first"
            )
        return copy(data, dtype)
    typed = isinstance(data, (np.ndarray, np.generic)) or (
        not isinstance(data, (list, tuple)) and hasattr(data, "__array__")
    )
    array = np.array(data)  # an array-like (pandas...) becomes a NumPy array of its dtype
    if array.dtype.kind not in _NUMERIC_KINDS:
        _refuse(data, array)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if typed or array.dtype.kind == "b":
        return array
    return array.astype(_default_dtype(data, promote_types), copy=False)


def _leaves(data: Any) -> Any:
    """The numbers (and arrays) in nested lists and tuples."""
    for item in data:
        if isinstance(item, (list, tuple)):
            yield from _leaves(item)
        else:
            yield item


_PYTHON_ORDER = (bool, int, float, complex)


def _default_dtype(data: Any, promote_types: Any) -> np.dtype:
    """The dtype of a new tensor from nested lists: the Python numbers count as one, with the
    default dtype of the highest kind among them (``[1.0, 2]`` is float32), combined with the
    own dtypes of the NumPy scalars and arrays among them."""
    kinds = set(map(type, _leaves(data)))
    python = [kind for kind in _PYTHON_ORDER if kind in kinds]
    result = _PYTHON_NUMBERS[python[-1]] if python else None
    for kind in kinds.difference(_PYTHON_ORDER):
        if issubclass(kind, np.generic):
            result = np.dtype(kind) if result is None else promote_types(result, np.dtype(kind))
        else:  # an array or array-like among the numbers: its own dtype
            for leaf in _leaves(data):
                if type(leaf) is kind:
                    dtype = np.asarray(leaf).dtype
                    result = dtype if result is None else promote_types(result, dtype)
    return float32 if result is None else result


def _refuse(data: Any, array: np.ndarray) -> None:
    """Raise the error for data that are not numbers, naming what was found."""
    numbers = (bool, int, float, complex, np.number, np.bool_)
    missing = object()
    if isinstance(data, (list, tuple)):
        culprit = next((leaf for leaf in _leaves(data) if not isinstance(leaf, numbers) and (
            not isinstance(leaf, np.ndarray) or leaf.dtype.kind not in _NUMERIC_KINDS)), missing)
    elif array.dtype.kind == "O":
        culprit = next((item for item in array.flat if not isinstance(item, numbers)), missing)
    else:
        culprit = array.flat[0].item() if array.size else data
    if culprit is missing:  # all numbers, and yet objects: an int too large for any dtype
        raise OverflowError(
            "a number in this data does not fit in a tensor's dtype (int64 or float64); use "
            "floats or smaller integers"
        )
    verb = "is" if array.ndim == 0 else "contains"
    raise TypeError(
        f"Could not infer dtype of {type(culprit).__name__}: a tensor holds numbers (bool, int, "
        f"float, complex), and this data {verb} {culprit!r:.40}; convert it to numbers first "
        "(e.g. float(value)) or leave it out"
    )


def is_differentiable_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "fc"
