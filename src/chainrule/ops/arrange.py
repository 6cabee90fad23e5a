"""Rearranging values: triangles, repeats, rolls, rotations, flips, padding, sorting.

Built on indexing, concatenation, flips and transposes, so every one is differentiable to any
order, in both modes, batched, with no rule of its own; the primitives are ``pad``'s zero
padding, whose reverse rule is a slice, and ``permute_along``. Index arrays are computed by
NumPy from the arguments (``np.repeat(np.arange(n), repeats)``, ``np.argsort(x)``), which also
gives NumPy's errors; another library sorts its own arrays, and its permutations, which stay
there, gather the values by ``permute_along`` (whose reverse rule gathers by the inverse)."""

from __future__ import annotations

import operator

import numpy as np

from ..backends import call, constant_like
from ..kernels import numpy_like
from .axes import ndim_of, negative_axes, shape_of
from .elementwise import add, array_value, where
from .index import getitem, getitem_trailing
from .join import concatenate
from .primitive import primitive
from .shape import flip, reshape, transpose


def _along(axis: int, index) -> tuple:
    """An index that applies ``index`` to the (negative) ``axis``."""
    return (Ellipsis, index) + (slice(None),) * (-axis - 1)


# ---------------------------------------------------------------- triangles


def _triangle(m, k, lower: bool):
    shape = shape_of(m)
    if len(shape) == 0:
        raise ValueError("tril and triu need an array of at least 1 dimension")
    rows, cols = shape[-2:] if len(shape) >= 2 else (shape[-1], shape[-1])
    keep = np.tri(rows, cols, k if lower else k - 1, dtype=bool)
    keep = keep if lower else ~keep
    raw = array_value(m)
    return where(constant_like(keep, raw), m, np.result_type(raw).type(0))


def tril(m, k=0):
    """The lower triangle (on and below the ``k``-th diagonal) of the last two axes; a vector
    is taken as the rows of a square matrix (``numpy.tril``).

    >>> import chainrule as cr
    >>> cr.tril(cr.ones((2, 2)))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return _triangle(m, operator.index(k), True)


def triu(m, k=0):
    """The upper triangle (on and above the ``k``-th diagonal) of the last two axes
    (``numpy.triu``).

    >>> import chainrule as cr
    >>> cr.triu(cr.ones((2, 2)), 1)
    tensor([[0., 1.],
            [0., 0.]])
    """
    return _triangle(m, operator.index(k), False)


# ---------------------------------------------------------------- repeats, rolls, rotations


def repeat(a, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (the flattened array when None),
    as ``numpy.repeat``.

    >>> import chainrule as cr
    >>> cr.repeat(cr.tensor([1.0, 2.0]), [2, 1])
    tensor([1., 1., 2.])
    """
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    axis = negative_axes(axis, ndim_of(a))[0]
    index = np.repeat(np.arange(shape_of(a)[axis]), repeats)
    return getitem(a, _along(axis, index))


def roll(a, shift, axis=None):
    """Elements shifted by ``shift`` along ``axis``, those past the end coming back at the
    start (``numpy.roll``; the flattened array when ``axis`` is None).

    >>> import chainrule as cr
    >>> cr.roll(cr.arange(4.0), 1)
    tensor([3., 0., 1., 2.])
    """
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), shape_of(a))
    pairs = np.broadcast(shift, axis)
    if pairs.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    shape = shape_of(a)
    shifts: dict[int, int] = {}
    for step, ax in pairs:
        ax = negative_axes(int(ax), len(shape))[0]
        shifts[ax] = shifts.get(ax, 0) + int(step)
    for ax, step in shifts.items():
        step %= shape[ax] or 1
        if step:
            a = concatenate(getitem(a, _along(ax, slice(-step, None))),
                            getitem(a, _along(ax, slice(None, -step))), axis=ax)
    return a


def rot90(m, k=1, axes=(0, 1)):
    """Rotation by 90 degrees ``k`` times in the plane of ``axes``, from the first axis towards
    the second (``numpy.rot90``).

    >>> import chainrule as cr
    >>> cr.rot90(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[2., 4.],
            [1., 3.]])
    """
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    ndim = ndim_of(m)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == ndim:
        raise ValueError("Axes must be different.")
    if not all(-ndim <= a < ndim for a in axes):
        raise ValueError(f"Axes={axes} out of range for array of ndim={ndim}.")
    k %= 4
    if k == 0:
        return getitem(m, (Ellipsis,))
    if k == 2:
        return flip(flip(m, axis=axes[0]), axis=axes[1])
    order = list(range(ndim))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return transpose(flip(m, axis=axes[1]), order)
    return flip(transpose(m, order), axis=axes[1])


def fliplr(m):
    """Columns reversed: ``flip`` along the second axis (``numpy.fliplr``).

    >>> import chainrule as cr
    >>> cr.fliplr(cr.tensor([[1.0, 2.0]]))
    tensor([[2., 1.]])
    """
    if ndim_of(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, axis=1)


def flipud(m):
    """Rows reversed: ``flip`` along the first axis (``numpy.flipud``).

    >>> import chainrule as cr
    >>> cr.flipud(cr.tensor([1.0, 2.0]))
    tensor([2., 1.])
    """
    if ndim_of(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, axis=0)


def rollaxis(a, axis, start=0):
    """``axis`` moved to stand before ``start`` (``numpy.rollaxis``; ``moveaxis`` is the
    clearer spelling).

    >>> import chainrule as cr
    >>> cr.rollaxis(cr.zeros((2, 3, 4)), 2).shape
    (4, 2, 3)
    """
    ndim = ndim_of(a)
    axis = negative_axes(axis, ndim)[0] + ndim
    if start < 0:
        start += ndim
    if not 0 <= start < ndim + 1:
        raise np.exceptions.AxisError(
            f"'start' arg requires {-ndim} <= start < {ndim + 1}, but {start} was passed in"
        )
    if axis < start:
        start -= 1
    if axis == start:
        return getitem(a, (Ellipsis,))
    order = [ax for ax in range(ndim) if ax != axis]
    order.insert(start, axis)
    return transpose(a, order)


# ---------------------------------------------------------------- padding


@primitive(name="pad")
def pad_zeros(x, *, widths):
    """``x`` with zeros around its last ``len(widths)`` axes, ``widths[i]`` on either side."""
    lead = ((0, 0),) * (np.ndim(x) - len(widths))
    return np.pad(x, lead + widths)


def _unpad(g, widths):
    index = tuple(slice(before, -after or None) for before, after in widths)
    return getitem_trailing(g, index=index, ndim=len(widths))


pad_zeros.defrules(vjp=_unpad, jvp="linear")


def _pad_pairs(pad_width, ndim: int) -> tuple:
    """``pad_width`` as one (before, after) pair per axis, NumPy's broadcasting and checks."""
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError("`pad_width` must be of integral type.")
    if widths.size and widths.min() < 0:
        raise ValueError("index can't contain negative values")
    if widths.ndim < 3 and widths.size == 2 and widths.shape != (2, 1):
        widths = widths.ravel()
    return tuple((int(b), int(e)) for b, e in np.broadcast_to(widths, (ndim, 2)))


_GATHERED = ("edge", "reflect", "symmetric", "wrap")
_MODE_OPTIONS = {"constant": {"constant_values"}, "empty": set(), "edge": set(),
                 "wrap": set(), "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}}


def pad(array, pad_width, mode="constant", **kwargs):
    """``array`` padded as ``numpy.pad``, in the modes that are linear in it: "constant"
    (zeros, or ``constant_values``), "empty" (taken as zeros), and the modes that repeat
    its values, "edge", "reflect", "symmetric" and "wrap" (``reflect_type="even"``).
    ``**kwargs`` are the mode's options, as NumPy's (``constant_values``, ``reflect_type``).

    >>> import chainrule as cr
    >>> cr.pad(cr.tensor([1.0, 2.0]), 1, mode="edge")
    tensor([1., 1., 2., 2.])
    """
    if mode not in _MODE_OPTIONS:
        raise NotImplementedError(
            f"pad mode {mode!r} is not differentiable here; the modes are {list(_MODE_OPTIONS)}"
        )
    unknown = set(kwargs) - _MODE_OPTIONS[mode]
    if unknown:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {unknown}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("pad supports reflect_type='even' only")
    shape = shape_of(array)
    widths = _pad_pairs(pad_width, len(shape))
    if not shape:  # (NumPy pads a 0-d array by nothing)
        return getitem(array, (Ellipsis,))
    if mode in _GATHERED:
        for axis, (before, after) in enumerate(widths):
            index = np.pad(np.arange(shape[axis]), (before, after), mode=mode)
            array = getitem(array, _along(axis - len(shape), index))
        return array
    padded = pad_zeros(array, widths=widths)
    values = kwargs.get("constant_values", 0)
    if np.any(np.asarray(values) != 0):
        raw = array_value(array)
        zeros = np.zeros(shape, dtype=np.result_type(raw))
        padded = add(padded, constant_like(np.pad(zeros, widths, constant_values=values), raw))
    return padded


# ---------------------------------------------------------------- sorting


def _take_along(a, indices: np.ndarray, axis: int):
    """``a`` gathered along ``axis`` (negative) by ``indices`` of ``a``'s shape."""
    grid = list(np.ogrid[tuple(slice(0, s) for s in indices.shape)])
    grid[axis] = indices
    return getitem(a, tuple(grid))


@primitive(catalogued=False)
def permute_along(x, order, inverse, *, axis):
    """``x`` gathered along ``axis`` (negative) by ``order``, a permutation of each line along
    it, whose ``inverse`` gathers the gradient back: sorting another library's arrays, whose
    permutations stay in that library (indexing by them would need its ``np.add.at``)."""
    return np.take_along_axis(x, np.broadcast_to(order, x.shape), axis=axis)


permute_along.defrules(
    vjp=(lambda g, order, inverse, axis: permute_along(g, inverse, order, axis=axis),
         None, None),
    jvp=("linear", None, None),
)


def _sorted_by(order, a, axis):
    """``a`` permuted along ``axis`` by the index array ``order(values, axis)``."""
    if axis is None:
        a, axis = reshape(a, (-1,)), -1
    axis = negative_axes(axis, ndim_of(a))[0]
    values = array_value(a)
    if numpy_like(values):
        return _take_along(a, order(values, axis), axis)
    permutation = call(order, (values, axis), {}, "argsort")  # (refused where the library lacks it)
    inverse = np.argsort(permutation, axis=axis)
    return permute_along(a, permutation, inverse, axis=axis)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted along ``axis`` (the flattened array when None), as ``numpy.sort``: gathered by
    ``numpy.argsort``'s permutation, through which the gradient flows back.

    >>> import chainrule as cr
    >>> cr.sort(cr.tensor([3.0, 1.0, 2.0]))
    tensor([1., 2., 3.])
    """
    if order is not None:
        raise ValueError("Cannot specify order when the array has no fields.")
    return _sorted_by(lambda x, ax: np.argsort(x, axis=ax, kind=kind, stable=stable), a, axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """Partially sorted along ``axis``: the ``kth`` element in its sorted place, smaller ones
    before, larger after (``numpy.partition``), gathered by ``numpy.argpartition``.

    >>> import chainrule as cr
    >>> cr.partition(cr.tensor([3.0, 1.0, 2.0]), 0)
    tensor([1., 2., 3.])
    """
    if order is not None:
        raise ValueError("Cannot specify order when the array has no fields.")
    return _sorted_by(lambda x, ax: np.argpartition(x, kth, axis=ax, kind=kind), a, axis)


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """The indices that sort ``a`` (``numpy.argsort``; integers, no gradient).

    >>> import chainrule as cr
    >>> cr.argsort(cr.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0])
    """
    return call(np.argsort, (array_value(a),),
                {"axis": axis, "kind": kind, "order": order, "stable": stable}, "argsort")


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """The indices that partition ``a`` (``numpy.argpartition``; integers, no gradient).

    >>> import chainrule as cr
    >>> cr.argpartition(cr.tensor([3.0, 1.0, 2.0]), 0)
    tensor([1, 2, 0])
    """
    return call(np.argpartition, (array_value(a), kth),
                {"axis": axis, "kind": kind, "order": order}, "argpartition")
