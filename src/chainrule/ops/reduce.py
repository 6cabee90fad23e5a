"""Reductions. ``axis`` arrives as a tuple of negative integers (:func:`.axes.reduce_axes`),
so the same rules serve cotangents and tangents with extra leading batch axes (the batching
contract, see :mod:`chainrule.ops.axes`)."""

from __future__ import annotations

import warnings

import numpy as np

from ..backends import asarray, constant_like
from ..kernels import NDARRAY_TYPES, extremum, reduce, sum_axes
from ..tensor import Tensor
from .axes import batch_shape, one_axis, reduce_axes
from .elementwise import (
    array_value,
    conj,
    exp,
    isfinite,
    log,
    nondifferentiable,
    real,
    sqrt,
    square,
    stop_gradient,
    where,
)
from .primitive import primitive
from .shape import (
    broadcast_to,
    expand_dims,
    flip,
    inverse_permutation,
    reshape,
    squeeze,
    transpose_trailing,
)


def _expand(g, axis, keepdims):
    """Put back the reduced axes of a cotangent as size-1 axes."""
    return g if keepdims else expand_dims(g, axis)


def _spread(g, x_shape, axis, keepdims):
    """A reduction's cotangent broadcast back over the input's shape."""
    # a whole reduction, unbatched: a scalar broadcasts as it is
    if (g.ndim if isinstance(g, (np.ndarray, np.generic, Tensor)) else np.ndim(g)) == 0:
        return broadcast_to(g, shape=x_shape)  # (a lazy array's Shape keeps its chunks)
    g = _expand(g, axis, keepdims)
    lead = batch_shape(g, len(x_shape))
    return broadcast_to(g, shape=lead + tuple(x_shape) if lead else x_shape)  # (as above)


@primitive(normalize=reduce_axes)
def sum(x, *, axis=None, keepdims=False):  # noqa: A001
    if type(x) in NDARRAY_TYPES:  # (kernels.numpy_path, inline: every sum asks)
        return sum_axes(x, axis, keepdims)
    return reduce(np.add, x, axis, keepdims)


sum.defrules(
    vjp=lambda g, x_shape, axis, keepdims: _spread(g, x_shape, axis, keepdims),
    jvp="linear",
)


@primitive(normalize=reduce_axes)
def vector_norm(x, *, axis=None, keepdims=False):
    """The 2-norm over ``axis`` (the Frobenius norm over a pair): ``sqrt(sum(x * x))`` fused
    into one primitive, a third of the recorded nodes of the composite (``linalg.norm``'s
    default, called in loops like the chapter's ``while norm(b) < 1000``)."""
    x = asarray(x)  # (itself for an array: no copy)
    squares = x.real * x.real + x.imag * x.imag if x.dtype.kind == "c" else x * x
    return np.sqrt(sum.impl(squares, axis=axis, keepdims=keepdims))


def _real_product(t, x):
    """Re(conj(x) t): the tangent of |x|² / 2 (t * x for real values)."""
    return real(conj(x) * t) if x.dtype.kind == "c" else t * x


def _nonzero(norm):
    """The norm as a divisor: 1 where it is 0, where its gradient is taken as 0 (PyTorch's)."""
    return where(norm == 0, 1, norm)


vector_norm.defrules(  # (complex inputs: conj(x) / |x|, as absolute's rule)
    vjp=lambda g, x, ans, axis, keepdims: _expand(g, axis, keepdims)
    * (conj(x) if x.dtype.kind == "c" else x) / _expand(_nonzero(ans), axis, keepdims),
    jvp=lambda t, x, ans, axis, keepdims: sum(_real_product(t, x), axis=axis, keepdims=keepdims)
    / _nonzero(ans),
)


@primitive(normalize=reduce_axes)
def prod(x, *, axis=None, keepdims=False):
    return reduce(np.multiply, x, axis, keepdims)


def _others_product(x, axis):
    """For each element of ``x``, the product of the others in its slice along ``axis``:
    ``prod / x`` when there are no zeros, exact when there are."""
    raw = x._array if isinstance(x, Tensor) else asarray(x)
    zeros = raw == 0
    if not zeros.any():
        return prod(x, axis=axis, keepdims=True) / x
    if not isinstance(x, Tensor):  # first order: a slice with one zero has one nonzero entry
        count = np.sum(zeros, axis=axis, keepdims=True)
        safe = np.where(zeros, 1, raw)
        rest = np.prod(safe, axis=axis, keepdims=True)
        return np.where(count == 0, rest / safe, np.where((count == 1) & zeros, rest, 0))
    # Differentiable to any order: the product over copies of each slice, with one element
    # replaced by 1 in each copy (quadratic in the slice length, so only when zeros are there).
    ndim = raw.ndim
    kept = [a for a in range(-ndim, 0) if a not in axis]
    order = tuple(kept) + tuple(axis)
    moved = transpose_trailing(x, axes=order)
    moved_shape = moved.shape
    size = int(np.prod(moved_shape[len(kept):]))
    flat = reshape(moved, shape=moved_shape[: len(kept)] + (size,))
    copies = where(constant_like(np.eye(size, dtype=bool), raw), 1.0, expand_dims(flat, -2))
    others = reshape(prod(copies, axis=-1), shape=moved_shape)
    return transpose_trailing(others, axes=inverse_permutation(order))


prod.defrules(
    vjp=lambda g, x, axis, keepdims: _expand(g, axis, keepdims) * _others_product(x, axis),
    jvp=lambda t, x, axis, keepdims: sum(
        t * _others_product(x, axis), axis=axis, keepdims=keepdims
    ),
)


def _argmax_mask(x, ans, axis, keepdims):
    """Where ``x`` attains its extremum, each tie weighted equally, in ``x``'s dtype.

    The mask is piecewise constant (no derivative), so it is a raw array at every order.
    """
    x = x._array if isinstance(x, Tensor) else asarray(x)
    ans = ans._array if isinstance(ans, Tensor) else asarray(ans)
    hits = x == (ans if keepdims else np.expand_dims(ans, axis))
    mask = hits.astype(x.dtype)
    # one hit per slice (the usual case) needs no division; a NaN maximum has no hits at all
    if np.count_nonzero(hits) != ans.size or np.count_nonzero(np.isnan(ans)):
        mask /= np.sum(hits, axis=axis, keepdims=True)
    return mask


@primitive(normalize=reduce_axes)
def amax(x, *, axis=None, keepdims=False):
    return extremum(np.maximum, x, axis, keepdims)


amax.defrules(
    vjp=lambda g, x, ans, axis, keepdims: _expand(g, axis, keepdims)
    * _argmax_mask(x, ans, axis, keepdims),
    jvp=lambda t, x, ans, axis, keepdims: sum(
        t * _argmax_mask(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
    ),
)


@primitive(normalize=reduce_axes)
def amin(x, *, axis=None, keepdims=False):
    return extremum(np.minimum, x, axis, keepdims)


amin.defrules(vjp=amax.vjps[0].fn, jvp=amax.jvps[0].fn)


@primitive(normalize=one_axis)
def cumsum(x, *, axis):
    return np.cumsum(x, axis=axis)


cumsum.defrules(
    vjp=lambda g, axis: flip(cumsum(flip(g, axis=axis), axis=axis), axis=axis),
    jvp="linear",
)


@nondifferentiable
def argmax(x, *, axis=None, keepdims=False):
    return np.argmax(x, axis=axis, keepdims=keepdims)


@nondifferentiable
def argmin(x, *, axis=None, keepdims=False):
    return np.argmin(x, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------- composites


def _count(x, axis, keepdims=False):
    """How many values a reduction over ``axis`` takes; where a lazy array does not know its
    sizes yet (NaN, after a boolean mask), an array its library counts when computed."""
    raw = x._array if hasattr(x, "_requires_grad") else x
    shape = np.shape(raw)
    if axis is None:
        count = np.prod(shape)
    else:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        count = np.prod([shape[a] for a in axes])
    if count != count:
        return _divisor(np.sum(np.ones_like(raw, dtype=bool), axis=axis, keepdims=keepdims), x)
    return int(count)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along ``axis`` (NumPy's signature)."""
    return sum(x, axis=axis, keepdims=keepdims) / _count(x, axis, keepdims)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance along ``axis``; ``ddof=1`` for the unbiased estimate (PyTorch's default).
    Real for complex ``x`` (the mean of |x - mean|², as NumPy's)."""
    centered = x - mean(x, axis=axis, keepdims=True)
    dtype = x.dtype if hasattr(x, "dtype") else np.result_type(x)
    squares = real(centered * conj(centered)) if dtype.kind == "c" else square(centered)
    return sum(squares, axis=axis, keepdims=keepdims) / (_count(x, axis, keepdims) - ddof)


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation along ``axis``; its gradient is 0 where the values are all equal (the
    square root's derivative is infinite at 0, but var's is 0 there), as PyTorch's."""
    variance = var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    return where(variance == 0, 0, sqrt(where(variance == 0, 1, variance)))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed stably (SciPy's name)."""
    top = stop_gradient(amax(x, axis=axis, keepdims=True))
    top = where(isfinite(top), top, 0)
    out = log(sum(exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else squeeze(out, axis=axis)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    shifted = exp(x - stop_gradient(amax(x, axis=axis, keepdims=True)))
    return shifted / sum(shifted, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    return x - logsumexp(x, axis=axis, keepdims=True)


# ---------------------------------------------------------------- cumulative product


@primitive(name="cumprod", normalize=one_axis)
def cumprod_along(x, *, axis):
    return np.cumprod(x, axis=axis)


def _to_last(axis: int, ndim: int) -> tuple:
    """The permutation of the last ``ndim`` axes that moves ``axis`` (negative) last."""
    return tuple(a for a in range(-ndim, 0) if a != axis) + (axis,)


def _cumprod_partials(x, axis):
    """d cumprod(x)_i / d x_j along ``axis`` (moved last): the product of x_k for k <= i, k != j,
    where j <= i, else 0; shape (..., i, j). Exact with zeros, to any order (the product of
    the others is :func:`_others_product`'s); quadratic in the axis length, so used only when
    ``x`` has zeros."""
    order = _to_last(axis, array_value(x).ndim)
    moved = transpose_trailing(x, axes=order)
    raw = array_value(moved)
    lower = constant_like(np.tri(raw.shape[-1], dtype=bool), raw)
    rows = where(lower, expand_dims(moved, -2), 1.0)
    return where(lower, _others_product(rows, (-1,)), 0.0), order


def _has_zeros(x) -> bool:
    return bool((array_value(x) == 0).any())


def _cumprod_vjp(g, x, ans, axis):
    if not _has_zeros(x):  # sum over i >= j of g_i ans_i / x_j
        return flip(cumsum(flip(g * ans, axis=axis), axis=axis), axis=axis) / x
    partials, order = _cumprod_partials(x, axis)
    moved = transpose_trailing(g, axes=order)
    summed = sum(expand_dims(moved, -1) * partials, axis=(-2,))
    return transpose_trailing(summed, axes=inverse_permutation(order))


def _cumprod_jvp(t, x, ans, axis):
    if not _has_zeros(x):
        return ans * cumsum(t / x, axis=axis)
    partials, order = _cumprod_partials(x, axis)
    moved = transpose_trailing(t, axes=order)
    summed = sum(partials * expand_dims(moved, -2), axis=(-1,))
    return transpose_trailing(summed, axes=inverse_permutation(order))


cumprod_along.defrules(vjp=_cumprod_vjp, jvp=_cumprod_jvp)


def cumprod(a, axis=None):
    """Cumulative product along ``axis`` (the flattened values when None), as
    ``numpy.cumprod``; its gradient is exact where values are 0 too.

    >>> import chainrule as cr
    >>> cr.cumprod(cr.tensor([1.0, 2.0, 3.0]))
    tensor([1., 2., 6.])
    """
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    return cumprod_along(a, axis=axis)


# ---------------------------------------------------------------- NaN-ignoring reductions


def _nan_mask(a):
    return np.isnan(array_value(a))


def nansum(a, axis=None, keepdims=False):
    """Sum treating NaNs as zero (``numpy.nansum``).

    >>> import chainrule as cr
    >>> cr.nansum(cr.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """
    return sum(where(_nan_mask(a), 0, a), axis=axis, keepdims=keepdims)


def nanprod(a, axis=None, keepdims=False):
    """Product treating NaNs as one (``numpy.nanprod``).

    >>> import chainrule as cr
    >>> cr.nanprod(cr.tensor([3.0, float("nan"), 2.0]))
    tensor(6.)
    """
    return prod(where(_nan_mask(a), 1, a), axis=axis, keepdims=keepdims)


def _valid_count(a, axis, keepdims):
    return np.sum(~_nan_mask(a), axis=axis, keepdims=keepdims)


def _divisor(count, a):
    """A count as the divisor of a mean of ``a``: NaN where it is not positive, in the real
    dtype of ``a``'s precision (float64 for integers), so the mean keeps ``a``'s precision."""
    dtype = np.result_type(array_value(a))
    real_dtype = np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)
    return np.where(count <= 0, np.nan, count).astype(real_dtype)


def nanmean(a, axis=None, keepdims=False):
    """Mean of the values that are not NaN; NaN (with NumPy's warning) for a slice of NaNs.

    >>> import chainrule as cr
    >>> cr.nanmean(cr.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5)
    """
    count = _valid_count(a, axis, keepdims)
    if (count == 0).any():
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    return nansum(a, axis=axis, keepdims=keepdims) / _divisor(count, a)


def nanvar(a, axis=None, ddof=0, keepdims=False):
    """Variance of the values that are not NaN (``numpy.nanvar``).

    >>> import chainrule as cr
    >>> cr.nanvar(cr.tensor([1.0, float("nan"), 3.0]))
    tensor(1.)
    """
    mask = _nan_mask(a)
    centered = where(mask, 0, a - nanmean(a, axis=axis, keepdims=True))
    dtype = np.result_type(array_value(a))
    squares = real(centered * conj(centered)) if dtype.kind == "c" else square(centered)
    dof = _valid_count(a, axis, keepdims) - ddof
    if (dof <= 0).any():
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=3)
    return sum(squares, axis=axis, keepdims=keepdims) / _divisor(dof, a)


def nanstd(a, axis=None, ddof=0, keepdims=False):
    """Standard deviation of the values that are not NaN (gradient 0 where they are all equal,
    as :func:`std`'s).

    >>> import chainrule as cr
    >>> cr.nanstd(cr.tensor([1.0, float("nan"), 3.0]))
    tensor(1.)
    """
    variance = nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims)
    return where(variance == 0, 0, sqrt(where(variance == 0, 1, variance)))


def _nan_extremum(reduction, fill, a, axis, keepdims):
    if array_value(a).dtype.kind not in "fc":  # (no NaNs: the extremum, in a's dtype)
        return reduction(a, axis=axis, keepdims=keepdims)
    mask = _nan_mask(a)
    empty = np.all(mask, axis=axis, keepdims=keepdims)
    if empty.any():
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
    out = reduction(where(mask, fill, a), axis=axis, keepdims=keepdims)
    return where(empty, np.nan, out) if empty.any() else out


def nanmax(a, axis=None, keepdims=False):
    """Maximum ignoring NaNs; NaN (with NumPy's warning) for a slice of NaNs.

    >>> import chainrule as cr
    >>> cr.nanmax(cr.tensor([1.0, float("nan"), 2.0]))
    tensor(2.)
    """
    return _nan_extremum(amax, -np.inf, a, axis, keepdims)


def nanmin(a, axis=None, keepdims=False):
    """Minimum ignoring NaNs; NaN (with NumPy's warning) for a slice of NaNs.

    >>> import chainrule as cr
    >>> cr.nanmin(cr.tensor([1.0, float("nan"), 2.0]))
    tensor(1.)
    """
    return _nan_extremum(amin, np.inf, a, axis, keepdims)


def nancumsum(a, axis=None):
    """Cumulative sum treating NaNs as zero (the flattened values when ``axis`` is None).

    >>> import chainrule as cr
    >>> cr.nancumsum(cr.tensor([1.0, float("nan"), 2.0]))
    tensor([1., 1., 3.])
    """
    a = where(_nan_mask(a), 0, a)
    return cumsum(reshape(a, shape=(-1,)), axis=0) if axis is None else cumsum(a, axis=axis)


def nancumprod(a, axis=None):
    """Cumulative product treating NaNs as one (the flattened values when ``axis`` is None).

    >>> import chainrule as cr
    >>> cr.nancumprod(cr.tensor([3.0, float("nan"), 2.0]))
    tensor([3., 3., 6.])
    """
    return cumprod(where(_nan_mask(a), 1, a), axis=axis)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean along ``axis`` (``numpy.average``); differentiable in ``a`` and in
    ``weights``. ``returned``: also the sum of the weights.

    >>> import chainrule as cr
    >>> cr.average(cr.tensor([1.0, 4.0]), weights=cr.tensor([3.0, 1.0]))
    tensor(1.75)
    """
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        scale = np.result_type(array_value(avg)).type(np.size(a) / np.size(avg))
    else:
        weights = _aligned_weights(a, axis, weights)
        scale = sum(weights, axis=axis, keepdims=keepdims)
        if (array_value(scale) == 0).any():
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = sum(a * weights, axis=axis, keepdims=keepdims) / scale
    if not returned:
        return avg
    if np.shape(array_value(scale)) != np.shape(array_value(avg)):
        scale = broadcast_to(scale, shape=np.shape(array_value(avg)))
    return avg, scale


def _aligned_weights(a, axis, weights):
    """``weights`` shaped to broadcast against ``a``, with NumPy's checks."""
    shape, weights_shape = np.shape(array_value(a)), np.shape(array_value(weights))
    if weights_shape == shape:
        return weights
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    axes = [a % len(shape) for a in ((axis,) if np.ndim(axis) == 0 else tuple(axis))]
    if weights_shape != tuple(shape[ax] for ax in axes):
        raise ValueError("Shape of weights must be consistent with shape of a along specified "
                         "axis.")
    order = tuple(int(i) - len(axes) for i in np.argsort(axes))
    weights = transpose_trailing(weights, axes=order)
    return reshape(weights, shape=tuple(s if ax in axes else 1 for ax, s in enumerate(shape)))
