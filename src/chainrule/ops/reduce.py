"""Reductions. ``axis`` arrives as a tuple of negative integers (:func:`.axes.reduce_axes`),
so the same rules serve cotangents and tangents with extra leading batch axes (the batching
contract, see :mod:`chainrule.ops.axes`)."""

from __future__ import annotations

import numpy as np

from ..kernels import extremum, sum_axes
from ..tensor import Tensor
from .axes import batch_shape, one_axis, reduce_axes
from .elementwise import (
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
        return broadcast_to(g, shape=tuple(x_shape))
    g = _expand(g, axis, keepdims)
    return broadcast_to(g, shape=batch_shape(g, len(x_shape)) + tuple(x_shape))


@primitive(normalize=reduce_axes)
def sum(x, *, axis=None, keepdims=False):  # noqa: A001
    if type(x) is np.ndarray:
        return sum_axes(x, axis, keepdims)
    return np.add.reduce(x, axis=axis, keepdims=keepdims)  # np.sum without its wrapper


sum.defrules(
    vjp=lambda g, x_shape, axis, keepdims: _spread(g, x_shape, axis, keepdims),
    jvp="linear",
)


@primitive(normalize=reduce_axes)
def vector_norm(x, *, axis=None, keepdims=False):
    """The 2-norm over ``axis`` (the Frobenius norm over a pair): ``sqrt(sum(x * x))`` fused
    into one primitive, a third of the recorded nodes of the composite (``linalg.norm``'s
    default, called in loops like the chapter's ``while norm(b) < 1000``)."""
    x = np.asarray(x)  # (itself for an array: no copy)
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
    return np.multiply.reduce(x, axis=axis, keepdims=keepdims)


def _others_product(x, axis):
    """For each element of ``x``, the product of the others in its slice along ``axis``:
    ``prod / x`` when there are no zeros, exact when there are."""
    raw = x._array if isinstance(x, Tensor) else np.asarray(x)
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
    copies = where(np.eye(size, dtype=bool), 1.0, expand_dims(flat, -2))
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
    x = x._array if isinstance(x, Tensor) else np.asarray(x)
    ans = ans._array if isinstance(ans, Tensor) else np.asarray(ans)
    hits = x == (ans if keepdims else np.expand_dims(ans, axis))
    mask = hits.astype(x.dtype)
    # one hit per slice (the usual case) needs no division; a NaN maximum has no hits at all
    if np.count_nonzero(hits) != ans.size or np.isnan(ans).any():
        mask /= np.sum(hits, axis=axis, keepdims=True)
    return mask


@primitive(normalize=reduce_axes)
def amax(x, *, axis=None, keepdims=False):
    if type(x) is np.ndarray:
        return extremum(np.maximum, x, axis, keepdims)
    return np.maximum.reduce(x, axis=axis, keepdims=keepdims)


amax.defrules(
    vjp=lambda g, x, ans, axis, keepdims: _expand(g, axis, keepdims)
    * _argmax_mask(x, ans, axis, keepdims),
    jvp=lambda t, x, ans, axis, keepdims: sum(
        t * _argmax_mask(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
    ),
)


@primitive(normalize=reduce_axes)
def amin(x, *, axis=None, keepdims=False):
    if type(x) is np.ndarray:
        return extremum(np.minimum, x, axis, keepdims)
    return np.minimum.reduce(x, axis=axis, keepdims=keepdims)


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


def _count(x, axis):
    shape = np.shape(x._array if hasattr(x, "_requires_grad") else x)
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along ``axis`` (NumPy's signature)."""
    return sum(x, axis=axis, keepdims=keepdims) / _count(x, axis)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance along ``axis``; ``ddof=1`` for the unbiased estimate (PyTorch's default).
    Real for complex ``x`` (the mean of |x - mean|², as NumPy's)."""
    centered = x - mean(x, axis=axis, keepdims=True)
    dtype = x.dtype if hasattr(x, "dtype") else np.result_type(x)
    squares = real(centered * conj(centered)) if dtype.kind == "c" else square(centered)
    return sum(squares, axis=axis, keepdims=keepdims) / (_count(x, axis) - ddof)


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
