"""Creating tensors, with the frameworks' default dtypes: float32 for floating values (Python
floats, ``zeros``, ``linspace``, random normals), int64 for Python integers."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import backends, ops
from .backends import constant_like
from .dtypes import as_dtype, float32
from .tensor import Tensor, array_of, to_array


def _make(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    if dtype is not None:
        array = array.astype(as_dtype(dtype), copy=False)
    out = Tensor._wrap(array)
    if requires_grad:
        out.requires_grad = True
    return out


def _shape(shape: Any) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 2.0]).dtype, cr.tensor(3).dtype
    (dtype('float32'), dtype('int64'))
    """
    return _make(to_array(data, dtype), None, requires_grad)


def arange(*args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``: float32 if any bound is a float. ``*args``
    are NumPy's ``stop``, ``start, stop`` or ``start, stop, step``.

    >>> import chainrule as cr
    >>> cr.arange(4.0)
    tensor([0., 1., 2., 3.])
    """
    array = np.arange(*args)
    if dtype is None:
        floating = any(isinstance(a, float) for a in args)
        array = array.astype(float32 if floating else np.int64)
    return _make(array, dtype, requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 by default); ``*shape`` is ``2, 3`` or ``(2, 3)``.

    >>> import chainrule as cr
    >>> cr.zeros(2, 3).shape
    (2, 3)
    """
    return _make(np.zeros(_shape(shape), dtype=as_dtype(dtype) or float32), None, requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (float32 by default); ``*shape`` is ``2, 3`` or ``(2, 3)``.

    >>> import chainrule as cr
    >>> cr.ones(2)
    tensor([1., 1.])
    """
    return _make(np.ones(_shape(shape), dtype=as_dtype(dtype) or float32), None, requires_grad)


def empty(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of ``*shape`` (here: zeros, for reproducibility)."""
    return zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value`` (float32 for a float, int64 for an int). A tensor
    ``fill_value`` (which may be an array broadcast to ``shape``) is differentiable: its
    gradient is the sum over the copies.

    >>> import chainrule as cr
    >>> cr.full((2,), 7.0)
    tensor([7., 7.])
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if isinstance(fill_value, Tensor) and not requires_grad:
        value = fill_value if dtype is None else ops.astype(fill_value, dtype=as_dtype(dtype))
        return ops.copy(ops.broadcast_to(value, shape=shape))  # (writable, as NumPy's)
    value = to_array(fill_value, dtype)
    return _make(np.full(shape, value, dtype=value.dtype), None, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix.

    >>> import chainrule as cr
    >>> cr.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _make(np.eye(n, m, dtype=as_dtype(dtype) or float32), None, requires_grad)


def linspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
    dtype: Any = None, axis: int = 0, *, requires_grad: bool = False,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (inclusive unless ``endpoint``
    is False), NumPy's signature: float32 between Python numbers, else the endpoints' floating
    dtype. Endpoints that are tensors (or arrays, which add axes) give a result differentiable
    in them, computed as NumPy computes it; ``retstep`` also returns the step.

    >>> import chainrule as cr
    >>> cr.linspace(0, 1, 3)
    tensor([0. , 0.5, 1. ])
    >>> stop = cr.tensor(2.0, requires_grad=True)
    >>> cr.linspace(0.0, stop, 3)
    tensor([0., 1., 2.], grad_fn=<ConcatenateBackward>)
    """
    if isinstance(start, Tensor) or isinstance(stop, Tensor):
        if requires_grad:
            raise ValueError("linspace between tensors is differentiable in them already; "
                             "requires_grad=True is for a new leaf between plain numbers")
        return _linspace_between(start, stop, num, endpoint, retstep, dtype, axis)
    if dtype is None and all(type(v) in (int, float) for v in (start, stop)):
        dtype = float32
    result = np.linspace(start, stop, num, endpoint, retstep, as_dtype(dtype), axis)
    if retstep:
        return _make(result[0], None, requires_grad), result[1]
    return _make(result, None, requires_grad)


def _linspace_between(start, stop, num, endpoint, retstep, dtype, axis):
    """NumPy's linspace algorithm step for step with chainrule's ops."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = num - 1 if endpoint else num
    inexact = np.result_type(array_of(start), array_of(stop), 1.0)  # (Python numbers: weak)
    start, stop = (ops.astype(v if isinstance(v, Tensor) else Tensor._wrap(np.asarray(v)),
                              dtype=inexact) for v in (start, stop))
    delta = stop - start
    y = constant_like(np.arange(0, num, dtype=inexact).reshape((-1,) + (1,) * delta.ndim),
                      array_of(delta))
    if div > 0:
        step = delta / div
        y = y / div * delta if np.any(step._array == 0) else y * step
    else:
        step, y = np.nan, y * delta
    y = y + start
    if endpoint and num > 1:
        last = ops.expand_dims(ops.broadcast_to(stop, shape=y.shape[1:]), 0)
        y = ops.concatenate(y[:-1], last, axis=0)
    if axis != 0:
        y = ops.moveaxis(y, 0, axis)
    if dtype is not None and np.dtype(as_dtype(dtype)) != y.dtype:
        if np.issubdtype(as_dtype(dtype), np.integer):
            y = ops.floor(y)
        y = ops.astype(y, dtype=np.dtype(as_dtype(dtype)))
    return (y, step) if retstep else y


def _like(fill: Any) -> Any:
    def like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        base = array_of(x)
        if backends.is_foreign(base):  # made in its library (a Dask array stays lazy)
            return _make(np.full_like(base, fill, dtype=as_dtype(dtype) or base.dtype), None,
                         requires_grad)
        base = np.asarray(base)
        return _make(np.full(np.shape(base), fill, dtype=as_dtype(dtype) or base.dtype), None,
                     requires_grad)

    return like


zeros_like = _like(0)
zeros_like.__name__ = "zeros_like"
zeros_like.__doc__ = """Zeros with the shape and dtype of ``x``.

    >>> import chainrule as cr
    >>> cr.zeros_like(cr.arange(3.0))
    tensor([0., 0., 0.])
    """
ones_like = _like(1)
ones_like.__name__ = "ones_like"
ones_like.__doc__ = """Ones with the shape and dtype of ``x``.

    >>> import chainrule as cr
    >>> cr.ones_like(cr.arange(2.0))
    tensor([1., 1.])
    """


def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape and dtype of ``x``.

    >>> import chainrule as cr
    >>> cr.full_like(cr.arange(2.0), 5)
    tensor([5., 5.])
    """
    return _like(fill_value)(x, dtype, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (keeps its dtype).

    >>> import numpy as np, chainrule as cr
    >>> cr.from_numpy(np.zeros(2)).dtype
    dtype('float64')
    """
    return Tensor._wrap(backends.to_numpy(array))  # (a traced array: itself, traced)
