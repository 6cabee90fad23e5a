"""Differences and products of NumPy's numerical routines: ``diff``, ``gradient``, ``cross``,
``kron``, and the selections ``select``, ``angle``, ``real_if_close``.

Each follows NumPy's own algorithm step for step with chainrule's ops (so values agree with
NumPy's to the last bit and every derivative comes from the ops' rules); constant arguments
(spacings, conditions) stay NumPy arrays, moved to the values' library where an op combines
them with the values."""

from __future__ import annotations

import warnings

import numpy as np

from ..backends import constant_like
from ..tensor import Tensor
from .axes import ndim_of, negative_axes, shape_of
from .elementwise import (
    arctan2,
    array_value,
    astype,
    imag,
    multiply,
    not_equal,
    real,
    subtract,
    where,
)
from .index import getitem
from .join import concatenate, stack
from .shape import broadcast_to, moveaxis, reshape


def _dtype(value) -> np.dtype:
    return np.result_type(array_value(value))


def _slice_along(axis: int, item) -> tuple:
    return (Ellipsis, item) + (slice(None),) * (-axis - 1)


# ---------------------------------------------------------------- diff

_NO_VALUE = object()  # (NumPy's own default, np._NoValue, is private)


def _edge(values, a, axis):
    """``prepend``/``append`` of diff: a scalar broadcast to one slice of ``a`` along axis."""
    if ndim_of(values) == 0:
        shape = list(shape_of(a))
        shape[axis] = 1
        if not isinstance(values, Tensor):  # (a number: in a's library)
            values = constant_like(np.asarray(values), array_value(a))
        values = broadcast_to(values, tuple(shape))
    return values


def diff(a, n=1, axis=-1, prepend=_NO_VALUE, append=_NO_VALUE):
    """The ``n``-th discrete difference along ``axis`` (``numpy.diff``); ``prepend`` and
    ``append`` are joined to ``a`` first. Booleans give ``!=``, as NumPy's.

    >>> import chainrule as cr
    >>> cr.diff(cr.tensor([1.0, 4.0, 9.0]))
    tensor([3., 5.])
    """
    if n == 0:
        return a
    if n < 0:
        raise ValueError("order must be non-negative but got " + repr(n))
    if ndim_of(a) == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = negative_axes(axis, ndim_of(a))[0]
    pieces = [a]
    if prepend is not _NO_VALUE:
        pieces.insert(0, _edge(prepend, a, axis))
    if append is not _NO_VALUE:
        pieces.append(_edge(append, a, axis))
    if len(pieces) > 1:
        a = concatenate(*pieces, axis=axis)
    difference = not_equal if _dtype(a) == np.bool_ else subtract
    for _ in range(n):
        a = difference(getitem(a, _slice_along(axis, slice(1, None))),
                       getitem(a, _slice_along(axis, slice(None, -1))))
    return a


# ---------------------------------------------------------------- gradient


def _spacings(f_shape: tuple, axes: tuple, varargs: tuple) -> list:
    """One spacing per axis: a number (uniform) or the differences of 1-d coordinates, checked
    as ``numpy.gradient`` checks them (uniform coordinates become a number, as there)."""
    if not varargs:
        varargs = (1.0,)
    if len(varargs) == 1 and np.ndim(array_value(varargs[0])) == 0:
        varargs = varargs * len(axes)
    elif len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    spacings = []
    for distances, axis in zip(varargs, axes, strict=True):
        distances = array_value(distances)
        if distances.ndim == 0:
            spacings.append(distances[()])  # (a NumPy number, which every library takes)
            continue
        if distances.ndim != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(distances) != f_shape[axis]:
            raise ValueError("when 1d, distances must match the length of the corresponding "
                             "dimension")
        if distances.dtype.kind in "iu":
            distances = distances.astype(np.float64)
        steps = np.diff(distances)
        spacings.append(steps[0] if (steps == steps[0]).all() else steps)
    return spacings


def _along_axis(coefficient, axis: int, ndim: int, like):
    """A 1-d array of coefficients shaped to run along ``axis`` (negative) of ``ndim`` axes,
    in the library of ``like``'s values."""
    shape = [1] * ndim
    shape[axis] = -1
    return constant_like(np.reshape(coefficient, shape), array_value(like))


def _interior(f, step, axis):
    """The central differences of ``f`` along ``axis`` (uniform or not)."""
    ahead, here, behind = (getitem(f, _slice_along(axis, s))
                           for s in (slice(2, None), slice(1, -1), slice(None, -2)))
    if np.ndim(step) == 0:
        return (ahead - behind) / (2.0 * step)
    dx1, dx2 = step[:-1], step[1:]
    ndim = ndim_of(f)
    a = _along_axis(-dx2 / (dx1 * (dx1 + dx2)), axis, ndim, f)
    b = _along_axis((dx2 - dx1) / (dx1 * dx2), axis, ndim, f)
    c = _along_axis(dx1 / (dx2 * (dx1 + dx2)), axis, ndim, f)
    return a * behind + b * here + c * ahead


def _ends(f, step, axis, edge_order):
    """The one-sided differences at the two ends of ``axis`` (first or second order)."""
    def at(i):
        return getitem(f, _slice_along(axis, slice(i, i + 1 or None)))

    uniform = np.ndim(step) == 0
    if edge_order == 1:
        first = (at(1) - at(0)) / (step if uniform else step[0])
        last = (at(-1) - at(-2)) / (step if uniform else step[-1])
        return first, last
    if uniform:
        a, b, c = -1.5 / step, 2.0 / step, -0.5 / step
    else:
        dx1, dx2 = step[0], step[1]
        a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
        b = (dx1 + dx2) / (dx1 * dx2)
        c = -dx1 / (dx2 * (dx1 + dx2))
    first = a * at(0) + b * at(1) + c * at(2)
    if uniform:
        a, b, c = 0.5 / step, -2.0 / step, 1.5 / step
    else:
        dx1, dx2 = step[-2], step[-1]
        a = dx2 / (dx1 * (dx1 + dx2))
        b = -(dx2 + dx1) / (dx1 * dx2)
        c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
    return first, a * at(-3) + b * at(-2) + c * at(-1)


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of sampled values by central differences inside and one-sided ones at the
    ends (``numpy.gradient``): one array per axis (a tuple for several axes). Differentiable
    in ``f``; the spacings ``varargs`` (numbers or 1-d coordinates) are constants.

    >>> import chainrule as cr
    >>> cr.gradient(cr.tensor([1.0, 4.0, 9.0]))
    tensor([3., 4., 5.])
    """
    ndim = ndim_of(f)
    axes = tuple(range(ndim)) if axis is None else tuple(
        a + ndim for a in negative_axes(axis, ndim))
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    dtype = _dtype(f)
    if dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
        f = astype(f, dtype=dtype)
    shape = shape_of(f)
    outputs = []
    for step, ax in zip(_spacings(shape, axes, varargs), axes, strict=True):
        if shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least (edge_order + 1) elements are required.")
        first, last = _ends(f, step, ax - ndim, edge_order)
        out = concatenate(first, _interior(f, step, ax - ndim), last, axis=ax)
        outputs.append(out if _dtype(out) == dtype else astype(out, dtype=dtype))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


# ---------------------------------------------------------------- cross, kron


def _components(v) -> list:
    return [getitem(v, (Ellipsis, i)) for i in range(shape_of(v)[-1])]


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors, taken with z = 0) along the given axes,
    broadcast over the others (``numpy.cross``).

    >>> import chainrule as cr
    >>> cr.cross(cr.tensor([1.0, 0.0, 0.0]), cr.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    if ndim_of(a) < 1 or ndim_of(b) < 1:
        raise ValueError("At least one array has zero dimension")
    a = moveaxis(a, negative_axes(axisa, ndim_of(a))[0], -1)
    b = moveaxis(b, negative_axes(axisb, ndim_of(b))[0], -1)
    sizes = (shape_of(a)[-1], shape_of(b)[-1])
    if sizes != (3, 3):  # the installed NumPy decides (2-vectors: deprecated, then refused)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            np.cross(np.zeros(sizes[0]), np.zeros(sizes[1]))
        for warning in caught:
            warnings.warn(warning.message, warning.category, stacklevel=3)
    a0, a1, *rest_a = _components(a)
    b0, b1, *rest_b = _components(b)
    z = a0 * b1 - a1 * b0
    if sizes == (2, 2):
        return z
    if sizes == (2, 3):
        x, y = a1 * rest_b[0], -(a0 * rest_b[0])
    elif sizes == (3, 2):
        x, y = -(rest_a[0] * b1), rest_a[0] * b0
    else:
        x, y = a1 * rest_b[0] - rest_a[0] * b1, rest_a[0] * b0 - a0 * rest_b[0]
    out = stack([x, y, z], axis=-1)
    axisc = negative_axes(axisc, ndim_of(out))[0]
    return moveaxis(out, -1, axisc)


def kron(a, b):
    """The Kronecker product: blocks ``a[i, j] * b`` (``numpy.kron``), as a broadcast product
    reshaped.

    >>> import chainrule as cr
    >>> cr.kron(cr.tensor([1.0, 2.0]), cr.ones(2))
    tensor([1., 1., 2., 2.])
    """
    a_shape, b_shape = shape_of(a), shape_of(b)
    if len(a_shape) < len(b_shape):
        a_shape = (1,) * (len(b_shape) - len(a_shape)) + a_shape
    if not a_shape or not b_shape:
        return multiply(reshape(a, a_shape), b)
    b_shape = (1,) * (len(a_shape) - len(b_shape)) + b_shape
    count = len(a_shape)
    spread_a = reshape(a, tuple(v for s in a_shape for v in (s, 1)))
    spread_b = reshape(b, tuple(v for s in b_shape for v in (1, s)))
    product = multiply(spread_a, spread_b)
    return reshape(product, tuple(a_shape[i] * b_shape[i] for i in range(count)))


# ---------------------------------------------------------------- selections


def select(condlist, choicelist, default=0):
    """The element of the first choice whose condition holds, else ``default``
    (``numpy.select``); gradients flow to the chosen values.

    >>> import chainrule as cr
    >>> cr.select([cr.arange(3) < 1], [cr.tensor([5.0, 6.0, 7.0])], 0.0)
    tensor([5., 0., 0.], dtype=float64)
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    conditions = [array_value(c) for c in condlist]
    for i, condition in enumerate(conditions):
        if condition.dtype.type is not np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    dtype = np.result_type(*[array_value(c) for c in choicelist], array_value(default))
    out = default if isinstance(default, Tensor) else np.asarray(default, dtype=dtype)[()]
    for condition, choice in zip(reversed(conditions), reversed(choicelist), strict=True):
        out = where(condition, choice, out)
    shape = np.broadcast_shapes(*[np.shape(array_value(v)) for v in (*conditions, *choicelist)],
                                np.shape(array_value(default)))
    if shape_of(out) != shape:
        out = broadcast_to(out, shape)
    return out if _dtype(out) == dtype else astype(out, dtype=dtype)


def angle(z, deg=False):
    """The argument of complex values (0 or pi for real ones), in radians or degrees
    (``numpy.angle``); the gradient is 0 for real inputs, where it is piecewise constant.

    >>> import chainrule as cr
    >>> cr.angle(cr.tensor([1j, -1.0]))
    tensor([1.5707964, 3.1415927])
    """
    if _dtype(z).kind == "c":
        out = arctan2(imag(z), real(z))
    else:
        out = arctan2(0, z)  # (as NumPy computes it: 0 or pi, with a zero derivative)
    return out * (180.0 / np.pi) if deg else out


def real_if_close(a, tol=100):
    """The real part when every imaginary part is within ``tol`` machine epsilons of zero
    (absolute ``tol`` when below 1), else ``a`` itself (``numpy.real_if_close``).

    >>> import chainrule as cr
    >>> cr.real_if_close(cr.tensor([1.0 + 0j]))
    tensor([1.])
    """
    dtype = _dtype(a)
    if dtype.kind != "c":
        return a
    if tol > 1:
        tol = np.finfo(dtype).eps * tol
    if np.all(np.absolute(array_value(a).imag) < tol):
        return real(a)
    return a
