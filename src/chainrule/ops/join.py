"""Joining and splitting: concatenate (a primitive), stack and split (built on it and on
indexing). Their rules cut and pad along one axis, so this family sits above shape and index."""

from __future__ import annotations

import numpy as np

from ..backends import zeros
from ..tensor import Tensor, array_of
from .axes import ndim_of, negative_axes, shape_of
from .elementwise import array_value, astype
from .index import getitem, getitem_trailing
from .primitive import primitive
from .shape import expand_dims, reshape, swapaxes, transpose


def _concat_params(*xs, axis=0):
    if not xs:
        raise ValueError("need at least one tensor to concatenate")
    ndim = ndim_of(xs[0])
    if ndim == 0:
        raise ValueError("zero-dimensional tensors cannot be concatenated; use stack")
    return {"axis": negative_axes(axis, ndim)[0]}


def _piece(g, shapes, index, axis):
    start = int(np.sum([s[axis] for s in shapes[:index]]))
    stop = start + shapes[index][axis]
    return getitem_trailing(
        g, index=(Ellipsis, slice(start, stop)) + (slice(None),) * (-axis - 1),
        ndim=len(shapes[index]),
    )


def _pad_tangent(t, shapes, index, axis):
    lead = np.shape(t)[: np.ndim(t) - len(shapes[index])]
    like = array_of(t)
    parts = [t if i == index else zeros(lead + tuple(s), t.dtype, like=like)
             for i, s in enumerate(shapes)]
    return concatenate(*parts, axis=axis)


@primitive(normalize=_concat_params)
def concatenate(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


concatenate.defrules(
    vjp=lambda g, shapes, index, axis: _piece(g, shapes, index, axis),
    jvp=lambda t, shapes, index, axis: _pad_tangent(t, shapes, index, axis),
)


def stack(xs, axis=0):
    """Join tensors of the same shape along a new axis."""
    xs = list(xs)
    if not xs:
        raise ValueError("need at least one tensor to stack")
    ndim = ndim_of(xs[0]) + 1
    axis = negative_axes(axis, ndim)[0]
    return concatenate(*[expand_dims(x, axis) for x in xs], axis=axis)


def split(x, indices_or_sections, axis=0):
    """Split into pieces along ``axis`` (NumPy's ``split``)."""
    axis = negative_axes(axis, ndim_of(x))[0]
    size = shape_of(x)[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(
                f"array split does not result in an equal division: {size} elements into "
                f"{indices_or_sections} sections"
            )
        step = size // indices_or_sections
        bounds = list(range(step, size, step))
    else:
        bounds = list(indices_or_sections)
    edges = [0, *bounds, size]
    pieces = []
    for start, stop in zip(edges[:-1], edges[1:], strict=False):
        index = (Ellipsis, slice(start, stop)) + (slice(None),) * (-axis - 1)
        pieces.append(getitem(x, index))
    return pieces


# ---------------------------------------------------------------- NumPy's stacking helpers


def _at_least(ndim: int, arys: tuple):
    """Each of ``arys`` with at least ``ndim`` axes, new ones placed as NumPy's atleast_1d,
    atleast_2d and atleast_3d place them; one array, or a tuple for several."""
    out = []
    for ary in arys:
        shape = shape_of(ary)
        if len(shape) < ndim:
            if len(shape) == 0:
                shape = (1,) * ndim
            elif len(shape) == 1:
                shape = (1, shape[0], 1)[:ndim] if ndim > 1 else shape
            else:
                shape = shape + (1,)
            ary = reshape(ary, shape)
        out.append(ary)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys):
    """Scalars as 1-d arrays; others unchanged (``numpy.atleast_1d``), for each of ``*arys``:
    one result or a tuple.

    >>> import chainrule as cr
    >>> cr.atleast_1d(cr.tensor(1.0)).shape
    (1,)
    """
    return _at_least(1, arys)


def atleast_2d(*arys):
    """Scalars as (1, 1), vectors as (1, N); others unchanged (``numpy.atleast_2d``), for each
    of ``*arys``: one result or a tuple.

    >>> import chainrule as cr
    >>> cr.atleast_2d(cr.ones(3)).shape
    (1, 3)
    """
    return _at_least(2, arys)


def atleast_3d(*arys):
    """Scalars as (1, 1, 1), vectors as (1, N, 1), matrices as (M, N, 1)
    (``numpy.atleast_3d``), for each of ``*arys``: one result or a tuple.

    >>> import chainrule as cr
    >>> cr.atleast_3d(cr.ones(3)).shape
    (1, 3, 1)
    """
    return _at_least(3, arys)


def _sequence(tup) -> list:
    if not isinstance(tup, (list, tuple)):
        raise TypeError('arrays to stack must be passed as a "sequence" type such as list or '
                        'tuple.')
    return list(tup)


def _joined(arrays: list, axis: int, dtype, casting: str):
    if dtype is not None:
        for array in arrays:
            source = array_value(array).dtype
            if not np.can_cast(source, dtype, casting=casting):
                raise TypeError(f"Cannot cast array data from {source!r} to {np.dtype(dtype)!r} "
                                f"according to the rule {casting!r}")
        arrays = [astype(array, dtype=np.dtype(dtype)) for array in arrays]
    return concatenate(*arrays, axis=axis)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Stack along the first axis, vectors as rows (``numpy.vstack``).

    >>> import chainrule as cr
    >>> cr.vstack([cr.ones(2), cr.zeros(2)]).shape
    (2, 2)
    """
    arrays = _sequence(tup)
    arrays = [atleast_2d(a) for a in arrays]
    return _joined(arrays, 0, dtype, casting)


row_stack = vstack


def hstack(tup, *, dtype=None, casting="same_kind"):
    """Stack along the second axis (the first for vectors) (``numpy.hstack``).

    >>> import chainrule as cr
    >>> cr.hstack([cr.ones(2), cr.zeros(1)])
    tensor([1., 1., 0.])
    """
    arrays = [atleast_1d(a) for a in _sequence(tup)]
    axis = 0 if arrays and ndim_of(arrays[0]) == 1 else 1
    return _joined(arrays, axis, dtype, casting)


def dstack(tup):
    """Stack along the third axis (``numpy.dstack``).

    >>> import chainrule as cr
    >>> cr.dstack([cr.ones(2), cr.zeros(2)]).shape
    (1, 2, 2)
    """
    return concatenate(*[atleast_3d(a) for a in _sequence(tup)], axis=2)


def column_stack(tup):
    """Vectors as columns, side by side with 2-d arrays (``numpy.column_stack``).

    >>> import chainrule as cr
    >>> cr.column_stack([cr.ones(2), cr.zeros(2)]).shape
    (2, 2)
    """
    arrays = []
    for a in _sequence(tup):
        if ndim_of(a) < 2:
            a = reshape(a, (-1, 1))
        arrays.append(a)
    return concatenate(*arrays, axis=1)


def append(arr, values, axis=None):
    """``values`` appended to ``arr``, both flattened when ``axis`` is None
    (``numpy.append``).

    >>> import chainrule as cr
    >>> cr.append(cr.ones(2), 0.0)
    tensor([1., 1., 0.])
    """
    if axis is None:
        if ndim_of(arr) != 1:
            arr = reshape(arr, (-1,))
        values = reshape(values, (-1,))
        axis = ndim_of(arr) - 1
    return concatenate(arr, values, axis=axis)


def array_split(ary, indices_or_sections, axis=0):
    """Split into pieces along ``axis``; unlike ``split``, sections need not divide it
    equally (the first ones get one more element), as ``numpy.array_split``.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.array_split(cr.arange(5), 2)]
    [(3,), (2,)]
    """
    total = shape_of(ary)[axis]
    try:
        sections = len(indices_or_sections) + 1
        bounds = [0, *indices_or_sections, total]
    except TypeError:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.") from None
        each, extras = divmod(total, sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        bounds = np.cumsum(sizes).tolist()
    axis = negative_axes(axis, ndim_of(ary))[0]
    after = (slice(None),) * (-axis - 1)
    return [getitem(ary, (Ellipsis, slice(start, stop)) + after)
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def _split_needing(ndim: int, name: str, ary, indices_or_sections, axis: int):
    if ndim_of(ary) < ndim:
        raise ValueError(f"{name} only works on arrays of {ndim} or more dimensions")
    return split(ary, indices_or_sections, axis=axis)


def hsplit(ary, indices_or_sections):
    """``split`` along the second axis (the first for vectors).

    >>> import chainrule as cr
    >>> [p.shape for p in cr.hsplit(cr.zeros((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    axis = 1 if ndim_of(ary) > 1 else 0
    return _split_needing(1, "hsplit", ary, indices_or_sections, axis)


def vsplit(ary, indices_or_sections):
    """``split`` along the first axis of an array of 2 or more dimensions.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.vsplit(cr.zeros((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    return _split_needing(2, "vsplit", ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """``split`` along the third axis of an array of 3 or more dimensions.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.dsplit(cr.zeros((1, 1, 4)), 2)]
    [(1, 1, 2), (1, 1, 2)]
    """
    return _split_needing(3, "dsplit", ary, indices_or_sections, 2)


# ---------------------------------------------------------------- r_ and c_


class AxisConcatenator:
    """``r_[...]`` and ``c_[...]``: slices (``start:stop:step``, or ``:num j`` points as
    linspace), scalars and arrays joined along ``axis`` after being given ``ndmin`` axes, as
    NumPy's index tricks; a first entry such as ``"0,2"`` or ``"-1,2,0"`` sets axis, ndmin and
    where 1-d entries' axis goes (``trans1d``). The matrix directives "r" and "c" are NumPy's
    deprecated matrix class and are refused."""

    def __init__(self, axis: int = 0, ndmin: int = 1, trans1d: int = -1) -> None:
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if key and isinstance(key[0], str):
            axis, ndmin, trans1d = _directive(key[0], axis, ndmin, trans1d)
            key = key[1:]
        pieces, kinds = [], []
        for item in key:
            if isinstance(item, str):
                raise ValueError("special directives must be the first entry.")
            if isinstance(item, slice):
                piece = _spread_slice(item)
                kinds.append(piece.dtype)
                piece = _with_ndmin(piece, ndmin, trans1d if ndmin > 1 else -1, swap=True)
            elif type(item) in np.ScalarType:
                kinds.append(item)
                piece = _with_ndmin(np.asarray(item), ndmin, -1)
            else:
                item = item if isinstance(item, Tensor) else np.asarray(item)
                kinds.append(array_value(item).dtype)
                piece = _with_ndmin(item, ndmin, trans1d)
            pieces.append(piece)
        if kinds:
            dtype = np.result_type(*kinds)
            pieces = [p if array_value(p).dtype == dtype else astype(p, dtype=dtype)
                      for p in pieces]
        return concatenate(*pieces, axis=axis)


def _directive(item: str, axis: int, ndmin: int, trans1d: int) -> tuple:
    if item in ("r", "c"):
        raise NotImplementedError("the matrix directives 'r' and 'c' make numpy.matrix "
                                  "objects, which chainrule does not have")
    try:
        values = [int(v) for v in item.split(",")]
    except ValueError as error:
        raise ValueError(f"unknown special directive {item!r}") from error
    return (*values, *(axis, ndmin, trans1d)[len(values):])[:3]


def _spread_slice(item: slice) -> np.ndarray:
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    if isinstance(step, (complex, np.complexfloating)):
        return np.linspace(start, item.stop, num=int(abs(step)))
    return np.arange(start, item.stop, step)


def _with_ndmin(item, ndmin: int, trans1d: int, swap: bool = False):
    """``item`` with leading axes up to ``ndmin``; its own axes then moved to ``trans1d``
    (NumPy's rule: a slice's last axis is swapped there, an array's are rotated)."""
    shape = shape_of(item)
    if len(shape) >= ndmin:
        return item
    item = reshape(item, (1,) * (ndmin - len(shape)) + tuple(shape))
    if trans1d == -1:
        return item
    if swap:
        return swapaxes(item, -1, trans1d)
    k2, k1 = ndmin - len(shape), trans1d
    if k1 < 0:
        k1 += k2 + 1
    order = list(range(ndmin))
    return transpose(item, order[:k1] + order[k2:] + order[k1:k2])


r_ = AxisConcatenator(0)
c_ = AxisConcatenator(-1, ndmin=2, trans1d=0)
