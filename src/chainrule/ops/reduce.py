"""Reductions. ``axis`` arrives normalized to a tuple of negative integers, so the same rules
serve cotangents and tangents with extra leading batch axes."""

from __future__ import annotations

import numpy as np

from .elementwise import equal, exp, log, sqrt, square
from .primitive import batch_shape, nondifferentiable, primitive, reduce_axes
from .shape import broadcast_to, expand_dims, flip, reshape


def _expand(g, axis, keepdims):
    """Put back the reduced axes of a cotangent as size-1 axes."""
    return g if keepdims else expand_dims(g, axis)


def _spread(g, x_shape, axis, keepdims):
    """A reduction's cotangent broadcast back over the input's shape."""
    g = _expand(g, axis, keepdims)
    return broadcast_to(g, shape=batch_shape(g, len(x_shape)) + tuple(x_shape))


@primitive(normalize=reduce_axes)
def sum(x, *, axis=None, keepdims=False):  # noqa: A001
    return np.sum(x, axis=axis, keepdims=keepdims)


sum.defrules(
    vjp=lambda g, x_shape, axis, keepdims: _spread(g, x_shape, axis, keepdims),
    jvp="linear",
)


@primitive(normalize=reduce_axes)
def prod(x, *, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims)


# TODO(ops family): exact rule when x contains zeros (product of the others).
prod.defrules(
    vjp=lambda g, x, ans, axis, keepdims: _expand(g * ans, axis, keepdims) / x,
    jvp=lambda t, x, ans, axis, keepdims: sum(
        t * _expand(ans, axis, keepdims) / x, axis=axis, keepdims=keepdims
    ),
)


def _argmax_mask(x, ans, axis, keepdims):
    """Where ``x`` attains its extremum, each tie weighted equally."""
    hits = equal(x, _expand(ans, axis, keepdims))
    return hits / np.sum(hits, axis=axis, keepdims=True)


@primitive(normalize=reduce_axes)
def amax(x, *, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


amax.defrules(
    vjp=lambda g, x, ans, axis, keepdims: _expand(g, axis, keepdims)
    * _argmax_mask(x, ans, axis, keepdims),
    jvp=lambda t, x, ans, axis, keepdims: sum(
        t * _argmax_mask(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
    ),
)


@primitive(normalize=reduce_axes)
def amin(x, *, axis=None, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims)


amin.defrules(vjp=amax.vjps[0].fn, jvp=amax.jvps[0].fn)


def _one_axis(x, axis=None, **params):
    ndim = np.ndim(x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x)
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for dimension {ndim}")
    params["axis"] = axis - ndim if axis >= 0 else axis
    return params


@primitive(normalize=_one_axis)
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
    shape = np.shape(x.data if hasattr(x, "_rg") else x)
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along ``axis`` (NumPy's signature)."""
    return sum(x, axis=axis, keepdims=keepdims) / _count(x, axis)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance along ``axis``; ``ddof=1`` for the unbiased estimate (PyTorch's default)."""
    centered = x - mean(x, axis=axis, keepdims=True)
    return sum(square(centered), axis=axis, keepdims=keepdims) / (_count(x, axis) - ddof)


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation along ``axis``."""
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed stably (SciPy's name)."""
    from .. import ops

    top = ops.stop_gradient(amax(x, axis=axis, keepdims=True))
    top = ops.where(ops.isfinite(top), top, 0)
    out = log(sum(exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else ops.squeeze(out, axis=axis)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    from .. import ops

    shifted = exp(x - ops.stop_gradient(amax(x, axis=axis, keepdims=True)))
    return shifted / sum(shifted, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    return x - logsumexp(x, axis=axis, keepdims=True)
