"""``chainrule.scipy.signal``: SciPy's ``convolve``, differentiable, with HIPS autograd's
generalisation to chosen axes.

>>> import chainrule as cr
>>> from chainrule.scipy.signal import convolve
>>> convolve(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([0.0, 1.0, 0.5]))
tensor([0. , 1. , 2.5, 4. , 1.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..api import _tensor
from ..ops.axes import negative_axes
from ..ops.index import getitem_trailing
from ..ops.scipy_ops import convolve_axes
from ..tensor import Tensor

__all__ = ["convolve"]

_MODES = ("full", "valid", "same")
_METHODS = ("auto", "direct", "fft")


def convolve(
    in1: Any, in2: Any, mode: str = "full", method: str = "auto", *, axes: Any = None,
    dot_axes: Any = None,
) -> Tensor:
    """The convolution of ``in1`` and ``in2`` in ``mode`` "full", "valid" or "same", as
    ``scipy.signal.convolve`` (``method`` is accepted and computes the same values, directly).

    HIPS autograd's generalisation: ``axes=(axes1, axes2)`` convolves ``in1``'s axes ``axes1``
    with ``in2``'s ``axes2`` pairwise (default: every axis of ``in1`` with the same axis of
    ``in2``, or the axes outside ``dot_axes``), ``dot_axes=(dots1, dots2)`` sums the products
    over pairs of axes (a tensordot), and the result's axes are ``in1``'s other axes, then
    ``in2``'s, then the convolved ones. "same" keeps ``in1``'s sizes, centred as SciPy's.
    Differentiable in both arguments, in both modes, to any order.

    >>> import chainrule as cr
    >>> from chainrule.scipy.signal import convolve
    >>> convolve(cr.ones((2, 3)), cr.ones((2, 2)), axes=([1], [1]), dot_axes=([0], [0]))
    tensor([2., 4., 4., 2.])
    """
    if mode not in _MODES:
        raise ValueError(f"convolve: mode must be 'full', 'valid' or 'same', got {mode!r}")
    if method not in _METHODS:
        raise ValueError("Acceptable method flags are 'auto', 'direct', or 'fft'.")
    x, y = _tensor(in1), _tensor(in2)
    params = _axes(x.shape, y.shape, axes, dot_axes)
    if x.ndim == y.ndim == 0:
        return x * y
    if x.size == 0 or y.size == 0:
        return Tensor._wrap(np.array([]))
    out = convolve_axes(x, y, mode="valid" if mode == "valid" else "full", **params)
    if mode != "same":
        return out
    # SciPy's "same": the centre of the full result, with in1's sizes
    count = len(params["x_conv"])
    index = []
    for x_axis, size in zip(params["x_conv"], out.shape[out.ndim - count:], strict=True):
        start = (size - x.shape[x_axis]) // 2
        index.append(slice(start, start + x.shape[x_axis]))
    return getitem_trailing(out, index=tuple(index), ndim=count)


def _axes(x_shape: tuple, y_shape: tuple, axes: Any, dot_axes: Any) -> dict:
    """``convolve_axes``'s parameters (negative axes) from SciPy's and HIPS's arguments,
    checked."""
    dots = ((), ()) if dot_axes is None else _pair(dot_axes, "dot_axes")
    x_dot = negative_axes(dots[0], len(x_shape))
    y_dot = negative_axes(dots[1], len(y_shape))
    if axes is None:
        if dot_axes is None and len(x_shape) != len(y_shape) and len(y_shape) < len(x_shape):
            raise ValueError("in1 and in2 should have the same dimensionality")
        x_conv = tuple(a for a in range(-len(x_shape), 0) if a not in x_dot)
        y_conv = tuple(a for a in range(-len(y_shape), 0) if a not in y_dot)[: len(x_conv)]
    else:
        pair = _pair(axes, "axes")
        x_conv = negative_axes(pair[0], len(x_shape))
        y_conv = negative_axes(pair[1], len(y_shape))
    for name, first, second in (("axes", x_conv, y_conv), ("dot_axes", x_dot, y_dot)):
        if len(first) != len(second):
            raise ValueError(f"convolve: {name} pairs {len(first)} axes of in1 with "
                             f"{len(second)} of in2; give as many of each")
    for conv, dot, name in ((x_conv, x_dot, "in1"), (y_conv, y_dot, "in2")):
        named = conv + dot
        if len(set(named)) != len(named):
            raise ValueError(f"convolve: an axis of {name} is named twice in axes/dot_axes")
    for a, b in zip(x_dot, y_dot, strict=True):
        if x_shape[a] != y_shape[b]:
            raise ValueError(f"convolve: dot_axes pair in1's axis of size {x_shape[a]} with "
                             f"in2's of size {y_shape[b]}; paired axes must have equal sizes")
    return {"x_conv": x_conv, "y_conv": y_conv, "x_dot": x_dot, "y_dot": y_dot}


def _pair(value: Any, name: str) -> tuple:
    if isinstance(value, str) or len(value) != 2:
        raise TypeError(f"convolve: {name} is a pair (axes of in1, axes of in2), got {value!r}")
    return tuple(tuple(part) if not isinstance(part, int) else (part,) for part in value)
