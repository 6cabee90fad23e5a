"""``autograd.numpy``: NumPy's names, differentiable where chainrule's core is.

>>> import chainrule.autograd.numpy as np
>>> from chainrule.autograd import grad
>>> grad(lambda x: np.sum(np.sin(x) ** 2))(np.array([0.0, 1.0]))
array([0.        , 0.90929743])

Each NumPy function the core has calls the core's on traced values and NumPy's own on plain
ones (see ``_wrap``); constants and types are NumPy's. Beside them stand HIPS's own helpers:
``array`` of traced scalars, ``where`` (with HIPS's list results), ``make_diagonal``,
``metadata``, ``r_`` and ``c_``.
"""

from __future__ import annotations

import builtins as _builtins
from typing import TYPE_CHECKING, Any

import numpy as _onp

import chainrule as _cr

from ... import api as _api
from ...tensor import Tensor as _Tensor
from ...tracing.record import TraceArray as _TraceArray
from .._box import ArrayBox as _ArrayBox
from .._box import as_array as _as_array
from .._box import contains_tensor as _contains_tensor
from . import _wrap, fft, linalg, random  # noqa: F401  (HIPS's submodules)

# (this module's own code below uses Python's any/all/sum/round, which NumPy's names shadow)
globals().update(_wrap.namespace(_onp, _cr))

if TYPE_CHECKING:
    # NumPy's names are made at import (globals().update), where type checkers cannot
    # see them: they take each as Any instead of reporting it missing.
    def __getattr__(name: str) -> Any: ...


def _integer_type(numpy_type: type) -> type:
    """NumPy's integer type, accepting traced values (converted without a derivative), as
    HIPS's do: ``np.int64(x[:, -1])`` gives indices."""
    return type(numpy_type.__name__, (numpy_type,), {
        "__new__": lambda cls, *args: numpy_type(*(_wrap._unwrap(a) for a in args)),
        "__module__": __name__,
    })


globals().update({name: _integer_type(getattr(_onp, name))
                  for name in ("int8", "int16", "int32", "int64", "integer")})
__version__ = _onp.__version__
numpy_version = __version__


def _stacked(value: Any, dtype: Any) -> Any:
    """A nested list of tensors and numbers as one tensor, built by stacking."""
    if isinstance(value, _Tensor):
        return value if dtype is None else _api.astype(value, dtype)
    if isinstance(value, (list, tuple)):
        if not value:
            return _onp.array(value, dtype=dtype)
        return _api.stack([_stacked(item, dtype) for item in value])
    return _as_array(value, dtype)


def array(A: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:  # noqa: N803
    """``numpy.array``, also of (nested lists of) traced values: ``np.array([x, y])``."""
    if _contains_tensor(A):
        return _stacked(A, dtype)
    if isinstance(A, _TraceArray) and not (args or kwargs):
        copied = _onp.copy(A)  # (np.array's copy, kept traced: a 0-d array, as np.array makes)
        return copied if dtype is None else copied.astype(dtype, copy=False)
    return _onp.array(A, dtype, *args, **kwargs)


def asarray(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """``numpy.asarray``; a traced value stays traced, and so does ``cr.jit``'s tracing
    array (NumPy's asarray would make it a constant guarded by value)."""
    if _contains_tensor(a):
        return _stacked(a, dtype)
    if not (args or kwargs):
        return _as_array(a, dtype)
    return _onp.asarray(a, dtype, *args, **kwargs)


def _is_array_like(value: Any) -> bool:
    if isinstance(value, (_Tensor, _onp.ndarray, _onp.generic)):
        return True
    return isinstance(value, (list, tuple)) and _builtins.any(_is_array_like(v) for v in value)


def where(condition: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.where``; as in HIPS, ``where(c, x, y)`` of Python lists and numbers gives a
    list, and ``where(c)`` the indices of the true entries."""
    if not args and not kwargs:
        return _onp.nonzero(_wrap._unwrap(condition))
    if len(args) + len(kwargs) != 2:
        raise ValueError("either both or neither of x and y should be given")
    x = args[0] if args else kwargs.get("x")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    condition = _wrap._unwrap(condition)
    if _contains_tensor([x, y]):
        return _api.where(condition, x, y)
    result = _onp.where(condition, x, y)
    if not _builtins.any(_is_array_like(value) for value in (condition, x, y)):
        return result.tolist() if isinstance(result, _onp.ndarray) else result
    return result


def _accepting_an_array_of_rows(function: Any) -> Any:
    """HIPS's ``vstack``, ``hstack``, ``row_stack`` and ``column_stack`` iterate over their
    argument, so an array stands for the sequence of its rows (NumPy 2 refuses one)."""
    def stacked(tup: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(tup, (_Tensor, _onp.ndarray)):
            tup = list(tup)
        return function(tup, *args, **kwargs)

    stacked.__name__ = stacked.__qualname__ = function.__name__
    stacked.__doc__ = (f"``numpy.{function.__name__}``; an array stands for the sequence of "
                       "its rows, as in HIPS.")
    return stacked


globals().update({name: _accepting_an_array_of_rows(globals()[name])
                  for name in ("vstack", "hstack", "row_stack", "column_stack")
                  if name in globals()})

if "append" in globals():  # (where the core has it)
    _core_append = append  # noqa: F821

    def append(arr: Any, values: Any, axis: Any = None) -> Any:
        """``numpy.append``; nested lists holding traced values are made arrays first, as in
        HIPS."""
        arr, values = (array(v) if isinstance(v, (list, tuple)) and _contains_tensor(v) else v
                       for v in (arr, values))
        return _core_append(arr, values, axis=axis)


def make_diagonal(D: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:  # noqa: N803
    """Arrays with ``D``'s last axis on their diagonals (HIPS's complement of ``diagonal``);
    only ``offset=0, axis1=-1, axis2=-2``, as in HIPS."""
    if not (offset == 0 and axis1 == -1 and axis2 == -2):
        raise NotImplementedError(
            "make_diagonal only supports offset=0, axis1=-1, axis2=-2 (as HIPS autograd)")
    size = _onp.shape(_wrap._unwrap(D))[-1]
    return _api.multiply(_api.expand_dims(D, -1), _onp.eye(size)) if isinstance(
        D, _Tensor) else _onp.asarray(D)[..., None] * _onp.eye(size)


def metadata(A: Any) -> tuple:  # noqa: N803
    """``(shape, ndim, result_type, iscomplexobj)`` of ``A``, traced or not."""
    value = _wrap._unwrap(A)
    return _onp.shape(value), _onp.ndim(value), _onp.result_type(value), _onp.iscomplexobj(value)


class _Concatenator:
    """``r_`` and ``c_`` (NumPy's, whole: slices, scalars and directives too), also of traced
    values: NumPy builds the result once with zeros in the traced values' places and once
    with their positions, and the traced entries are gathered into it by the core's
    indexing."""

    def __init__(self, numpy_version: Any) -> None:
        self.numpy_version = numpy_version

    def __getitem__(self, items: Any) -> Any:
        items = items if isinstance(items, tuple) else (items,)
        if not _contains_tensor(items):
            return self.numpy_version[items]
        constants, positions, traced = [], [], []
        offset = 1  # position 0 marks a constant entry
        for item in items:
            if isinstance(item, _Tensor):
                shape, dtype = item.shape, item.dtype
                constants.append(_onp.zeros(shape, dtype))
                positions.append(_onp.arange(offset, offset + item.size).reshape(shape))
                traced.append(_api.reshape(item, (-1,)))
                offset += item.size
            elif isinstance(item, str):
                constants.append(item)
                positions.append(item)
            else:
                value = self.numpy_version[item] if isinstance(item, slice) else item
                constants.append(value)
                positions.append(_onp.zeros_like(value, dtype=int))
        base = self.numpy_version[tuple(constants)]
        where = self.numpy_version[tuple(positions)]
        flat = _api.concatenate(traced)
        gathered = flat[_onp.maximum(where - 1, 0)]
        return _api.add(base, _api.multiply(gathered, where > 0))


r_ = _Concatenator(_onp.r_)
c_ = _Concatenator(_onp.c_)

# NumPy's array methods on traced arrays, where the tensor has none of its own
_ArrayBox.methods = {name: value for name, value in globals().items()
                     if not name.startswith("_") and callable(value)}
