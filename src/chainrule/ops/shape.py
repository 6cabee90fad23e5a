"""Shape primitives, and the NumPy-spelled functions that call them.

Each primitive acts on its value's own trailing axes (the batching contract, see
:mod:`chainrule.ops.axes`): ``transpose_trailing`` permutes the last ``len(axes)`` axes,
``reshape_trailing`` and ``broadcast_trailing`` replace the last axes, of shape ``source``, by
``shape``. The public ``transpose``, ``reshape`` and ``broadcast_to`` take NumPy's arguments,
check them against the whole value as NumPy does, and call the primitive."""

from __future__ import annotations

import math

import numpy as np

from .. import backends
from .axes import ndim_of, negative_axes, permutation, reduce_axes, shape_of
from .primitive import primitive


def _resolve_shape(size: int, shape) -> tuple:
    """``shape`` with a -1 filled in, checked against ``size``."""
    shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if shape.count(-1) > 1:
        raise ValueError(f"only one dimension can be -1 in a shape, got {shape}")
    known = math.prod([s for s in shape if s != -1])
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape a tensor of {size} elements into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise ValueError(f"cannot reshape a tensor of {size} elements into shape {shape}")
    return shape


def _leading(x, source: tuple) -> tuple:
    """The batch axes of ``x`` in front of its last axes, of shape ``source``."""
    shape = shape_of(x)
    return shape[: len(shape) - len(source)]


@primitive(name="reshape")
def reshape_trailing(x, *, source, shape):
    if ndim_of(x) == len(source):
        return np.reshape(x, shape)
    return np.reshape(x, _leading(x, source) + shape)


reshape_trailing.defrules(
    vjp=lambda g, shape, source: reshape_trailing(g, source=shape, shape=source), jvp="linear"
)
reshape_trailing.defview(
    lambda base, value, shape, source: reshape_trailing(value, source=shape, shape=source)
)


def reshape(x, shape):
    """NumPy's ``reshape`` (one entry of ``shape`` may be -1)."""
    source = shape_of(x)
    shape = _resolve_shape(math.prod(source), shape)
    return reshape_trailing(x, source=source, shape=shape)


@primitive(name="transpose")
def transpose_trailing(x, *, axes):
    count = len(axes)
    lead = ndim_of(x) - count
    return np.transpose(x, tuple(range(lead)) + tuple(lead + count + a for a in axes))


def inverse_permutation(axes: tuple) -> tuple:
    """The permutation (of ``-k, ..., -1``) that undoes ``axes``."""
    count = len(axes)
    return tuple(int(a) - count for a in np.argsort([a + count for a in axes]))


transpose_trailing.defrules(
    vjp=lambda g, axes: transpose_trailing(g, axes=inverse_permutation(axes)), jvp="linear"
)
transpose_trailing.defview(
    lambda base, value, axes: transpose_trailing(value, axes=inverse_permutation(axes))
)


def transpose(x, axes=None):
    """NumPy's ``transpose``: ``axes`` a permutation of all the axes (negative ones allowed),
    or None to reverse them."""
    return transpose_trailing(x, axes=permutation(axes, ndim_of(x)))


def _broadcast_view(x, shape):
    """``np.broadcast_to(x, shape)``: a read-only view with zero strides on the broadcast axes.
    Built directly over ``x``'s buffer when it has one (a tenth of NumPy's general path, which
    every reduction's reverse rule pays), through NumPy otherwise and for its error message."""
    if type(x) is np.ndarray and x.flags.c_contiguous or isinstance(x, np.generic):
        source, strides = x.shape, x.strides  # (a NumPy scalar's are ())
        lead = len(shape) - len(source)
        if lead >= 0 and all(s in (1, t) for s, t in zip(source, shape[lead:])):
            new = [0] * lead + [
                stride if s == t else 0
                for s, t, stride in zip(source, shape[lead:], strides)
            ]
            view = np.ndarray(shape, x.dtype, x, 0, tuple(new))
            view.flags.writeable = False
            return view
    return np.broadcast_to(x, shape) if isinstance(x, np.ndarray) else backends.broadcast_to(
        x, shape)


@primitive(name="broadcast_to", broadcasting=True)
def broadcast_trailing(x, *, source, shape):
    if ndim_of(x) == len(source):
        return _broadcast_view(x, shape)
    lead = _leading(x, source)
    aligned = np.reshape(x, lead + (1,) * (len(shape) - len(source)) + source)
    return _broadcast_view(aligned, lead + shape)


# The engine sums the cotangent back down to the input's shape.
broadcast_trailing.defrules(vjp=lambda g: g, jvp="linear")


def broadcast_to(x, shape):
    """NumPy's ``broadcast_to``, with its ValueError when ``x`` does not broadcast to ``shape``
    (raised by the forward, before anything is recorded)."""
    if type(shape) is not backends.Shape:  # (a lazy array's shape keeps its chunks)
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(map(int, shape))
    return broadcast_trailing(x, source=shape_of(x), shape=shape)


@primitive(normalize=reduce_axes)
def flip(x, *, axis=None):
    return np.flip(x, axis=axis)


flip.defrules(vjp=lambda g, axis: flip(g, axis=axis), jvp="linear")
flip.defview(lambda base, value, axis: flip(value, axis=axis))


# ---------------------------------------------------------------- composites


def expand_dims(x, axis):
    """Insert size-1 axes at ``axis`` (an int or a tuple, NumPy's meaning)."""
    shape = shape_of(x)
    ndim = len(shape) + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    new = _distinct(negative_axes(axis, ndim))
    rest = iter(shape)
    return reshape(x, tuple(1 if a - ndim in new else next(rest) for a in range(ndim)))


def _distinct(axes: tuple) -> tuple:
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    return axes


def squeeze(x, axis=None):
    """Remove size-1 axes (all of them, or those in ``axis``)."""
    shape = shape_of(x)
    if axis is None:
        return reshape(x, tuple(size for size in shape if size != 1))
    if not shape and not isinstance(axis, (tuple, list)):
        negative_axes(axis, 1)  # NumPy lets a 0-d array squeeze its "axis" 0 (or -1)
        return reshape(x, ())
    axes = _distinct(negative_axes(axis, len(shape)))
    if any(shape[a] != 1 for a in axes):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    ndim = len(shape)
    return reshape(x, tuple(size for a, size in enumerate(shape) if a - ndim not in axes))


def swapaxes(x, axis1, axis2):
    """Exchange two axes."""
    ndim = ndim_of(x)
    first, second = negative_axes((axis1, axis2), ndim)
    axes = list(range(-ndim, 0))
    axes[first], axes[second] = axes[second], axes[first]
    return transpose_trailing(x, axes=tuple(axes))


def moveaxis(x, source, destination):
    """Move axes to new positions (NumPy's ``moveaxis``)."""
    ndim = ndim_of(x)
    source = [a + ndim for a in negative_axes(source, ndim)]
    destination = [a + ndim for a in negative_axes(destination, ndim)]
    for name, axes in (("source", source), ("destination", destination)):
        if len(set(axes)) != len(axes):
            raise ValueError(f"repeated axis in `{name}` argument")
    if len(source) != len(destination):
        raise ValueError(
            "`source` and `destination` arguments must have the same number of elements"
        )
    order = [a for a in range(ndim) if a not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return transpose_trailing(x, axes=tuple(a - ndim for a in order))


def tile(x, reps):
    """Repeat ``x`` by ``reps`` along each axis (NumPy's ``tile``)."""
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = shape_of(x)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + tuple(shape)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = tuple(v for pair in zip(reps, shape, strict=False) for v in pair)
    spread = broadcast_to(reshape(x, tuple(v for s in shape for v in (1, s))), interleaved)
    return reshape(spread, tuple(r * s for r, s in zip(reps, shape, strict=False)))


def ravel(x):
    """Flatten to one dimension."""
    return reshape(x, (-1,))
