"""Axes: NumPy's axis arguments as the op table's static parameters, and the batching contract.

The batching contract. A primitive acts on its value's *own trailing axes*: its static
parameters describe those axes only (reductions and ``flip`` take negative axes, ``transpose``
a permutation of ``-k, ..., -1``, ``reshape`` and ``broadcast_to`` the ``source`` shape of the
axes they replace, ``getitem`` the ``ndim`` its index addresses), and any axes in front of them
are left alone. So a primitive applied to a cotangent or tangent with extra leading *batch* axes
(``jacrev`` and ``jacfwd`` push a whole identity through at once) acts on each slice of the
batch: every rule is batch-safe by construction, as long as the parameters it passes on are
these normalised ones (negative axes, explicit shapes) and the shapes it builds keep the batch
(:func:`batch_shape`). Elementwise primitives need nothing: broadcasting aligns the trailing
axes. The *public* functions (``cr.transpose``, ``Tensor.sum``...) take NumPy's arguments,
check them against the whole value as NumPy does, and hand the primitive its normalised form:
:func:`negative_axes` is the one normaliser.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np


def ndim_of(x: Any) -> int:
    """The number of axes of a raw value or a tensor (``_array`` is a tensor's data)."""
    if type(x) is np.ndarray:
        return x.ndim
    ndim = getattr(getattr(x, "_array", x), "ndim", None)  # (tensors, NumPy scalars)
    return np.ndim(x) if ndim is None else ndim


def shape_of(x: Any) -> tuple:
    """The shape of a raw value or a tensor."""
    if type(x) is np.ndarray:
        return x.shape
    shape = getattr(getattr(x, "_array", x), "shape", None)
    return np.shape(x) if shape is None else shape


def negative_axes(axis: Any, ndim: int, *, scalar_axis: bool = False) -> tuple:
    """``axis`` (an int or a sequence of ints, NumPy's meaning) as negative integers, in the
    order given; ``AxisError`` for one out of bounds. ``scalar_axis``: a 0-d value may name its
    axis 0 or -1, as NumPy's reductions let it."""
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    upper = max(ndim, 1) if scalar_axis else ndim
    normalized = []
    for a in axes:
        a = operator.index(a)  # (a float or an array is refused, as NumPy does)
        if not -ndim <= a < upper:
            raise np.exceptions.AxisError(
                f"axis {a} is out of bounds for a tensor of dimension {ndim}"
            )
        normalized.append(a - ndim if a >= 0 else a)
    return tuple(normalized)


def permutation(axes: Any, ndim: int) -> tuple:
    """NumPy's ``transpose`` axes (None: reversed) as a permutation of ``-ndim, ..., -1``."""
    if axes is None:
        return tuple(range(-1, -ndim - 1, -1))
    axes = tuple(axes)
    if len(axes) != ndim:
        raise ValueError("axes don't match array")
    normalized = negative_axes(axes, ndim)
    if len(set(normalized)) != ndim:
        raise ValueError("repeated axis in transpose")
    return normalized


_REDUCED: dict[tuple, tuple] = {}  # (ndim, axis) -> reduced axes, for None and Python ints


def reduce_axes(x: Any, axis: Any = None, **params: Any) -> dict:
    """The ``normalize`` of reductions (and ``flip``): ``axis`` as a sorted tuple of distinct
    negative integers, all axes for None. Negative axes are their own normal form, so a rule
    that passes them on to a batched flow gets the same axes (the batching contract)."""
    ndim = ndim_of(x)
    kind = type(axis)
    # (remembered for Python ints only: 1.0 and True equal 1 as keys, but NumPy refuses them)
    if axis is None or kind is int or kind is tuple and all(type(a) is int for a in axis):
        axes = _REDUCED.get((ndim, axis))
        if axes is None:
            axes = _reduced(axis, ndim)
            if len(_REDUCED) < 1024:
                _REDUCED[ndim, axis] = axes
    else:
        axes = _reduced(axis, ndim)
    params["axis"] = axes
    return params


def _reduced(axis: Any, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(-ndim, 0))
    named = negative_axes(axis, ndim, scalar_axis=True)
    axes = tuple(sorted(set(named)))
    if len(axes) != len(named):
        raise ValueError("duplicate value in 'axis'")
    return axes


def one_axis(x: Any, axis: Any, **params: Any) -> dict:
    """The ``normalize`` of a primitive along one axis (``cumsum``)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"'{type(axis).__name__}' object cannot be interpreted as an integer")
    params["axis"] = negative_axes(axis, ndim_of(x))[0]
    return params


def batch_shape(flow: Any, ndim: int) -> tuple:
    """The leading batch axes of a cotangent or tangent whose value has ``ndim`` axes."""
    shape = flow.shape if hasattr(flow, "shape") else np.shape(flow)
    return shape[: len(shape) - ndim]
