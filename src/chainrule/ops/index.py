"""Indexing: basic slices, integers, None, Ellipsis, integer arrays and boolean masks.

The index is a static parameter, normalized to a tuple of plain NumPy objects, and ``ndim`` the
indexed value's own number of axes: the primitives address the last ``ndim`` axes and leave any
leading batch axes alone (the batching contract, see :mod:`chainrule.ops.axes`). The public
``getitem`` and ``setitem`` index the whole value, as NumPy does. Arrays of other libraries
are indexed by :mod:`chainrule.ops.foreign_index`."""

from __future__ import annotations

import numpy as np

from .. import backends
from ..kernels import numpy_path
from ..tensor import Tensor, array_of
from . import foreign_index
from .axes import ndim_of
from .primitive import primitive
from .shape import reshape


def _index_array(array):
    """An index array given as a tensor's array: NumPy's; another library's stays its own
    (its indexing takes it), but a lazy one (Dask) is computed, as the shape it gives
    must be known."""
    if not backends.is_foreign(array):
        return np.asarray(array)
    if backends.library_of(array).lazy:
        return np.asarray(backends.compute([array])[0])
    return array


def _plain(item):
    if isinstance(item, Tensor):
        return _index_array(item._array)
    if isinstance(item, list):
        return np.asarray([_index_array(i._array) if isinstance(i, Tensor) else i
                           for i in item])
    if isinstance(item, range):
        return np.arange(item.start, item.stop, item.step)
    return item


def normalize_index(index) -> tuple:
    index = index if isinstance(index, tuple) else (index,)
    return tuple(_plain(item) for item in index)


def _batched(index, value, ndim):
    """The index, shifted past the leading batch axes of ``value``."""
    lead = ndim_of(value) - ndim
    return (slice(None),) * lead + index if lead else index


def _numpy_indexing(x, index) -> bool:
    """Whether indexing ``x`` by ``index`` takes NumPy's own indexing (``np.add.at``...): an
    ndarray's, or a tracing array's with an index of NumPy objects (as the eager call's, so
    that a jitted call accumulates in the same order); else :mod:`.foreign_index`'s."""
    return not backends.is_foreign(x) or numpy_path(x) and foreign_index.static(index)


def _advanced(index) -> bool:
    return any(isinstance(item, np.ndarray) and item.ndim > 0 for item in index)


@primitive(name="getitem")
def getitem_trailing(x, *, index, ndim):
    if type(x) is not np.ndarray and backends.is_foreign(x):  # (a gather: exact either way)
        return foreign_index.gather(x, index, ndim)
    index = _batched(index, x, ndim)
    out = x[index]
    if isinstance(out, np.generic) and isinstance(x, np.ndarray):
        # One element: a 0-d view of it (as x[1, ...] gives), not NumPy's copy, so that an
        # in-place write into it reaches x, as a tensor's element does in PyTorch.
        out = x[tuple(index) + (Ellipsis,)] if not any(i is Ellipsis for i in index) else out
    return out


def _getitem_vjp(g, x_shape, index, ndim):
    # x itself may have leading batch axes (getitem applied to a batched flow in a rule): the
    # index skips them, as the forward's did
    lead = len(x_shape) - ndim
    return scatter_add(g, index=(slice(None),) * lead + index, shape=x_shape)


getitem_trailing.defrules(vjp=_getitem_vjp, jvp="linear")
getitem_trailing.defview(
    lambda base, value, index, ndim: setitem_trailing(base, value, index=index, ndim=ndim)
)


def getitem(x, index):
    """``x[index]``, NumPy's basic and advanced indexing."""
    return getitem_trailing(x, index=normalize_index(index), ndim=ndim_of(x))


def _scatter_params(g, *, index, shape):
    return {"index": index, "shape": tuple(shape)}


@primitive(normalize=_scatter_params)
def scatter_add(g, *, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    if not _numpy_indexing(g, index):
        return foreign_index.scatter_add(g, index, shape)
    probe_ndim = np.ndim(np.empty(shape, dtype=bool)[index])
    lead = np.shape(g)[: np.ndim(g) - probe_ndim]
    out = backends.zeros(lead + tuple(shape), np.result_type(g), like=g)
    full = (slice(None),) * len(lead) + index
    if _advanced(index):
        np.add.at(out, full, g)
    else:
        out[full] = g
    return out


scatter_add.defrules(
    vjp=lambda g, index, shape: getitem_trailing(g, index=index, ndim=len(shape)),
    jvp="linear",
)


@primitive(name="setitem", broadcasting=True)
def setitem_trailing(x, v, *, index, ndim):
    """A copy of ``x`` with ``v`` written at ``index`` (what ``x[index] = v`` records)."""
    if (type(x) is not np.ndarray and backends.is_foreign(x)) or backends.is_foreign(v):
        return foreign_index.written(x, v, index, ndim)
    out = np.array(x, dtype=np.result_type(x), copy=True)
    out[_batched(index, out, ndim)] = v
    return out


def _tangent_into(t, x_shape, v_shape, index, ndim):
    lead = np.shape(t)[: np.ndim(t) - len(v_shape)]
    target = np.empty(x_shape, dtype=bool)[index].shape
    aligned = reshape(t, lead + (1,) * (len(target) - len(v_shape)) + v_shape)
    zeros = backends.zeros(lead + tuple(x_shape), np.result_type(t), like=array_of(t))
    return setitem_trailing(zeros, aligned, index=index, ndim=ndim)


def _written(g, x_shape, index, ndim):
    """The cotangent of the written value: ``g`` at ``index``, where a repeated index counts
    only its last write (the one NumPy keeps)."""
    picked = getitem_trailing(g, index=index, ndim=ndim)
    if not _advanced(index):
        return picked
    x_shape = x_shape[len(x_shape) - ndim:]  # (x's own axes)
    target = np.empty(x_shape, dtype=bool)[index].shape
    order = np.full(x_shape, -1)
    order[index] = np.arange(int(np.prod(target))).reshape(target)
    kept = np.zeros(int(np.prod(target)), dtype=bool)
    kept[order[order >= 0]] = True
    if kept.all():
        return picked
    kept = kept.reshape(target).astype(np.result_type(getattr(g, "dtype", g)))
    return picked * backends.constant_like(kept, array_of(g))


setitem_trailing.defrules(
    vjp=(
        lambda g, index, ndim: setitem_trailing(g, 0, index=index, ndim=ndim),
        lambda g, x_shape, index, ndim: _written(g, x_shape, index, ndim),
    ),
    jvp=(
        lambda t, index, ndim: setitem_trailing(t, 0, index=index, ndim=ndim),
        lambda t, x_shape, v_shape, index, ndim: _tangent_into(t, x_shape, v_shape, index, ndim),
    ),
)


def setitem(x, v, index):
    """A copy of ``x`` with ``v`` written at ``index`` (what ``x[index] = v`` records)."""
    return setitem_trailing(x, v, index=normalize_index(index), ndim=ndim_of(x))
