"""NumPy formulations that give NumPy's own results faster than its generic reduction loop.

Both functions take reductions over a leading or trailing block of a contiguous array's axes;
anything else goes to the ufunc's ``reduce``.

* ``sum_axes``: a float sum as a matrix-vector product with ones. BLAS runs it two to four times
  faster than ``np.add.reduce`` on arrays of a few thousand to a few hundred thousand elements,
  and never slower. Those are a bias gradient (the engine undoing a broadcast) and a softmax's
  sum over its last axis. The accuracy stays NumPy's on those shapes (an error growing linearly
  with the length): NumPy adds a leading block row by row, and its pairwise summation only
  starts recursing above 128 elements, the longest trailing block taken here.
* ``extremum``: a maximum or minimum over a short trailing block, computed on a transposed
  copy.

Both are NumPy's only: an array of another library takes its own method.
"""

from __future__ import annotations

import math

import numpy as np

_FLOATS = frozenset("fd")  # float32, float64: the dtypes BLAS takes
_TRAILING_MAX = 128  # NumPy's pairwise summation recurses above this (module docstring)
_ONES: dict[tuple, np.ndarray] = {}
# The types that take these kernels as ndarrays do: ndarray, and cr.jit's tracing arrays (which
# record what the kernel does, so that a replay sums in the same order as the eager call).
NDARRAY_TYPES = {np.ndarray}


def numpy_path(a: object) -> bool:
    """Whether ``a`` takes NumPy's own formulations (the sum as a matmul with ones, ``np.add.at``):
    an ndarray, or a tracing array standing for one. Every choice made on an array's type
    between computations that round differently asks this one question, so that a jitted call
    computes what the eager call computes, bit for bit (a matmul with ones and
    ``np.add.reduce`` differ in the last bit)."""
    return type(a) in NDARRAY_TYPES


def numpy_like(a: object) -> bool:
    """Whether ``a`` is NumPy's (an ndarray, a NumPy scalar) or a tracing array standing for
    one: an op then takes NumPy's way (a gather, ``argsort``) rather than the general one that
    other libraries' arrays need, and a jitted call takes the way its eager call took."""
    return type(a) in NDARRAY_TYPES or isinstance(a, (np.ndarray, np.generic))


def is_cached(array: object) -> bool:
    """Whether ``array`` is one of the constants kept here for reuse (read-only, never
    rebound): cr.jit reads them by identity without looking for where they are held."""
    key = (getattr(array, "shape", None), getattr(array, "dtype", None))
    return _ONES.get(key) is array


def _ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    key = (shape, dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(shape, dtype)
        ones.flags.writeable = False
        if ones.size <= 4096 and len(_ONES) < 256:  # a few small vectors, reused
            _ONES[key] = ones
    return ones


def _block(ndim: int, axes: tuple) -> str | None:
    """``"leading"`` or ``"trailing"`` when the sorted ``axes`` (all positive or all negative)
    are such a block of ``ndim`` axes, short of all of them; else None."""
    count = len(axes)
    if 0 < count < ndim:
        first, last = axes[0] % ndim, axes[-1] % ndim
        if first == 0 and last == count - 1:
            return "leading"
        if first == ndim - count and last == ndim - 1:
            return "trailing"
    return None


def sum_axes(a: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """``np.add.reduce(a, axis=axes, keepdims=keepdims)`` for an ndarray ``a`` and a sorted
    tuple of axes (all positive or all negative), as a product with ones where that is faster.
    (An array of another library: its own ``sum``, as ufuncs' methods are not dispatched.)"""
    if type(a) not in NDARRAY_TYPES:  # (numpy_path, inline: every sum asks)
        return reduce(np.add, a, axes, keepdims)
    if len(axes) < a.ndim and a.dtype.char in _FLOATS and a.flags.c_contiguous and a.size:
        block = _block(a.ndim, axes)
        count = len(axes)
        shape = a.shape
        if block == "leading":
            rows = math.prod(shape[:count])
            if a.ndim == 2:  # (rows,) @ (rows, n) is (n,); (1, rows) @ (rows, n) is (1, n)
                return np.matmul(_ones((1, rows) if keepdims else (rows,), a.dtype), a)
            out = np.matmul(_ones((rows,), a.dtype), a.reshape(rows, -1))
            return out.reshape((1,) * count + shape[count:] if keepdims else shape[count:])
        if block == "trailing":
            kept = shape[: a.ndim - count]
            cols = a.size // math.prod(kept)
            if cols <= _TRAILING_MAX:
                if a.ndim == 2:  # (m, cols) @ (cols, 1) is (m, 1); @ (cols,) is (m,)
                    return np.matmul(a, _ones((cols, 1) if keepdims else (cols,), a.dtype))
                out = np.matmul(a.reshape(-1, cols), _ones((cols,), a.dtype))
                return out.reshape(kept + (1,) * count if keepdims else kept)
    return reduce(np.add, a, axes, keepdims)


# The functions that a ufunc's ``reduce`` is, for arrays of other libraries: Dask and the
# array API dispatch NumPy's functions, not the methods of its ufuncs.
_REDUCTIONS = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min}


def reduce(ufunc: np.ufunc, a: np.ndarray, axes: tuple | None, keepdims: bool) -> np.ndarray:
    """``ufunc.reduce(a, axis=axes, keepdims=keepdims)``, which skips the wrapper of NumPy's
    function (``np.sum``...), for NumPy's values (and tracing arrays: a replay then calls the
    ufunc's method too); that function for another library's."""
    if type(a) in NDARRAY_TYPES or isinstance(a, np.generic):
        return ufunc.reduce(a, axis=axes, keepdims=keepdims)
    return _REDUCTIONS[ufunc](a, axis=axes, keepdims=keepdims)


_SHORT = 32  # the longest trailing block ``extremum`` transposes (measured: even at 64 x 64)


def extremum(ufunc: np.ufunc, a: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """``ufunc.reduce(a, axis=axes, keepdims=keepdims)`` for ``np.maximum`` or ``np.minimum``.

    Over a short trailing block (a softmax's max over ten classes) NumPy calls its inner loop
    once per row, for a handful of elements each: 20 us for 256 x 10, 40 us for 1000 x 3.
    Reducing the transposed copy over its leading axis runs the loop over whole rows instead,
    five to fifteen times faster. Maximum and minimum are exact, so the order is free.
    """
    if type(a) not in NDARRAY_TYPES:
        return reduce(ufunc, a, axes, keepdims)
    # (a tracing array too: its layout is the eager call's, the signature keying on it, so a
    # replay takes the path the eager call takes)
    if (
        len(axes) < a.ndim and a.dtype.kind in "fiub" and a.flags.c_contiguous
        and _block(a.ndim, axes) == "trailing"
    ):
        kept = a.shape[: a.ndim - len(axes)]
        rows = math.prod(kept)
        cols = a.size // rows if rows else 0
        if 0 < cols <= _SHORT and rows >= 4 * cols:
            block = a if a.ndim == 2 else a.reshape(rows, cols)
            out = ufunc.reduce(block.T.copy(), axis=0)  # (copy: C order)
            return out.reshape(kept + (1,) * len(axes) if keepdims else kept)
    return ufunc.reduce(a, axis=axes, keepdims=keepdims)
