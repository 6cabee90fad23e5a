"""Joining and splitting: concatenate (a primitive), stack and split (built on it and on
indexing). Their rules cut and pad along one axis, so this family sits above shape and index."""

from __future__ import annotations

import numpy as np

from .axes import ndim_of, negative_axes, shape_of
from .index import getitem, getitem_trailing
from .primitive import primitive
from .shape import expand_dims


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
    parts = [t if i == index else np.zeros(lead + tuple(s), dtype=t.dtype)
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
