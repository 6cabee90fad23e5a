"""NumPy formulations that give NumPy's result faster than its generic path.

``sum_axes`` sums a float array over a leading or a trailing block of its axes as a
matrix-vector product with a vector of ones. BLAS does that two to four times faster than
``np.add.reduce``'s loop on arrays of a few thousand elements to a few hundred thousand, which is
what a bias gradient (the engine undoing a broadcast) or a softmax's sum over its last axis is.
It is never slower. The summation stays simple accumulation:

* NumPy sums over a leading block in that order anyway.
* A trailing block is taken this way only up to 128 elements, where NumPy's pairwise summation
  is simple accumulation as well.
"""

from __future__ import annotations

import math

import numpy as np

_FLOATS = frozenset("fd")  # float32, float64: the dtypes BLAS takes
_TRAILING_MAX = 128  # NumPy's pairwise summation starts above this (see the module docstring)
_ONES: dict[tuple, np.ndarray] = {}


def _ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    key = (shape, dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(shape, dtype)
        ones.flags.writeable = False
        if ones.size <= 4096 and len(_ONES) < 256:  # a few small vectors, reused
            _ONES[key] = ones
    return ones


def sum_axes(a: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """``np.add.reduce(a, axis=axes, keepdims=keepdims)`` for an ndarray ``a`` and a sorted
    tuple of axes (all positive or all negative), as a product with ones where that is faster."""
    ndim = a.ndim
    count = len(axes)
    if (
        0 < count < ndim and a.dtype.char in _FLOATS and a.flags.c_contiguous and a.size
    ):
        shape = a.shape
        first = axes[0] % ndim
        if first == 0 and axes[-1] % ndim == count - 1:  # a leading block
            rows = math.prod(shape[:count])
            kept = shape[count:]
            if ndim == 2:  # (rows,) @ (rows, n) is (n,); (1, rows) @ (rows, n) is (1, n)
                return np.matmul(_ones((1, rows) if keepdims else (rows,), a.dtype), a)
            out = np.matmul(_ones((rows,), a.dtype), a.reshape(rows, -1))
            return out.reshape((1,) * count + kept if keepdims else kept)
        if first == ndim - count and axes[-1] % ndim == ndim - 1:  # a trailing block
            cols = math.prod(shape[first:])
            if cols <= _TRAILING_MAX:
                kept = shape[:first]
                if ndim == 2:  # (m, cols) @ (cols, 1) is (m, 1); @ (cols,) is (m,)
                    return np.matmul(a, _ones((cols, 1) if keepdims else (cols,), a.dtype))
                out = np.matmul(a.reshape(-1, cols), _ones((cols,), a.dtype))
                return out.reshape(kept + (1,) * count if keepdims else kept)
    return np.add.reduce(a, axis=axes, keepdims=keepdims)
