"""Indexing arrays of other libraries (Dask, CuPy...): what NumPy's indexing does that they
may lack.

``np.add.at`` (repeated indices accumulate) is a ufunc method, which Dask and the dispatch
protocols do not pass on; Dask gathers and writes by one 1-d integer array at a time and
ignores ``None`` when writing. An index made of NumPy objects is static (known when the op is
recorded), so what NumPy's indexing would do is worked out in NumPy on *positions* (where in
the flattened trailing axes each picked element lies) and carried out on the values by what
every library has: basic slicing, and gathers and writes by one 1-d integer array along the
last axis. An index that holds arrays of the library itself (a mask computed from the values,
on a library that is not lazy) is left to the library's own indexing.

Only arrays of other libraries come here: ops/index.py keeps NumPy's own indexing for NumPy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backends


def advanced(index: tuple) -> bool:
    """Whether ``index`` has an array in it (NumPy's advanced indexing)."""
    return any(
        (isinstance(item, np.ndarray) and item.ndim > 0) or backends.is_foreign(item)
        for item in index
    )


def static(index: tuple) -> bool:
    """Whether ``index`` is made of NumPy objects only (known when the op is recorded)."""
    return not any(backends.is_foreign(item) for item in index)


def _one_vector(index: tuple) -> bool:
    """Whether the only array of ``index`` is one 1-d integer array among slices (which every
    library indexes by itself, Dask included, in NumPy's order)."""
    arrays = [item for item in index if isinstance(item, np.ndarray)]
    return (
        len(arrays) == 1 and arrays[0].ndim == 1 and arrays[0].dtype.kind in "iu"
        and all(isinstance(item, (slice, np.ndarray)) or item is Ellipsis for item in index)
    )


def positions(shape: tuple, index: tuple) -> np.ndarray:
    """The flat (C order) positions, in an array of ``shape``, of the elements ``[index]``
    picks, in the shape of the result: summed per axis from broadcast coordinates, so that
    nothing of ``shape``'s size is made."""
    picked = np.empty(shape, dtype=bool)[index].shape
    flat = np.zeros(picked, dtype=np.intp)
    stride = 1
    for axis in reversed(range(len(shape))):
        coordinates = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
        flat += np.broadcast_to(coordinates, shape)[index] * stride
        stride *= shape[axis]
    return flat


def _split(array: Any, ndim: int) -> tuple:
    """(leading batch axes, own trailing axes) of ``array``'s shape."""
    shape = tuple(array.shape)
    return shape[: len(shape) - ndim], shape[len(shape) - ndim:]


def gather(x: Any, index: tuple, ndim: int) -> Any:
    """``x[..., index]`` on x's last ``ndim`` axes."""
    lead = (slice(None),) * (x.ndim - ndim)
    if not advanced(index) or not static(index) or _one_vector(index):
        return x[lead + index]
    batch, shape = _split(x, ndim)
    flat = positions(shape, index)
    picked = np.reshape(x, batch + (-1,))[..., flat.ravel()]
    return np.reshape(picked, batch + flat.shape)


def _value(v: Any, shape: tuple, flat: tuple) -> Any:
    """``v`` broadcast to ``shape`` then reshaped to ``flat``; a number stays a number."""
    if not backends.is_foreign(v) and np.ndim(v) == 0:
        return v
    return np.reshape(np.broadcast_to(v, shape), flat)


def _write_basic(out: Any, index: tuple, v: Any, batch: tuple, shape: tuple) -> Any:
    # (Dask ignores None when writing: the value's axes of length 1 it adds are dropped)
    kept = tuple(item for item in index if item is not None)
    target = np.empty(shape, dtype=bool)[index].shape
    written = np.empty(shape, dtype=bool)[kept].shape
    out[(slice(None),) * len(batch) + kept] = _value(v, batch + target, batch + written)
    return out


def written(x: Any, v: Any, index: tuple, ndim: int) -> Any:
    """A copy of ``x`` (in ``v``'s library when ``x`` is NumPy's) with ``v`` written at
    ``index`` of its last ``ndim`` axes; of repeated positions the last write is kept, as in
    NumPy."""
    if not backends.is_foreign(x):
        x = backends.constant_like(x, v)
    out = backends.copy(x)
    batch, shape = _split(out, ndim)
    if not static(index):
        out[(slice(None),) * len(batch) + index] = v
        return out
    if not advanced(index):
        return _write_basic(out, index, v, batch, shape)
    flat = positions(shape, index).ravel()
    _, from_end = np.unique(flat[::-1], return_index=True)
    last = flat.size - 1 - from_end  # (each position's last occurrence, by position)
    target = batch + np.empty(shape, dtype=bool)[index].shape
    value = _value(v, target, batch + (flat.size,))
    if backends.is_foreign(value) or np.ndim(value):  # (not a number)
        value = value[..., last]
    flat_out = np.reshape(out, batch + (-1,))
    try:
        flat_out[..., flat[last]] = value
    except NotImplementedError:  # (the array API has no integer-array assignment...
        if batch or len(index) != 1 or np.shape(index[0]) != shape:
            raise
        out[index] = v  # ...but assignment through one boolean mask of the whole shape)
        return out
    return np.reshape(flat_out, batch + shape)


def scatter_add(g: Any, index: tuple, shape: tuple) -> Any:
    """Zeros of ``shape`` (after ``g``'s leading batch axes) with ``g`` added at ``index``;
    repeated positions accumulate."""
    picked = np.empty(shape, dtype=bool)[_probe(index)].shape
    batch = tuple(g.shape[: g.ndim - len(picked)])
    out = backends.zeros(batch + tuple(shape), g.dtype, like=g)
    if not static(index):
        return _library_add_at(out, (slice(None),) * len(batch) + index, g)
    if not advanced(index):
        return _write_basic(out, index, g, batch, shape)
    flat = positions(shape, index).ravel()
    values = np.reshape(g, batch + (flat.size,))
    targets = flat
    if np.unique(flat).size < flat.size:
        values, targets = _summed(values, flat)
    out = np.reshape(out, batch + (-1,))
    out[..., targets] = values
    return np.reshape(out, batch + tuple(shape))


def _summed(values: Any, flat: np.ndarray) -> tuple:
    """(sums, positions): ``values`` (along the last axis, at positions ``flat``) summed per
    distinct position. Sorted by position, each run of equal positions is summed by a scan in
    log2(longest run) steps (each adds the value ``step`` places back when it lies in the same
    run), and its last element holds the run's sum."""
    order = np.argsort(flat, kind="stable")
    runs = flat[order]
    values = values[..., order]
    zero = backends.zeros(values.shape[:-1] + (1,), values.dtype, like=values)
    step = 1
    while step < runs.size and np.any(runs[step:] == runs[:-step]):
        same = np.zeros(runs.size, dtype=bool)
        same[step:] = runs[step:] == runs[:-step]
        back = np.where(same, np.arange(runs.size) + 1 - step, 0)  # (0: the zero in front)
        values = values + np.concatenate([zero, values], axis=-1)[..., back]
        step *= 2
    ends = np.flatnonzero(np.append(runs[1:] != runs[:-1], True))
    return values[..., ends], runs[ends]


def _probe(index: tuple) -> tuple:
    """``index`` with the library's arrays in it as NumPy zeros of their shapes and dtypes (for
    the number of axes it picks)."""
    return tuple(np.zeros(item.shape, item.dtype) if backends.is_foreign(item) else item
                 for item in index)


def _library_add_at(out: Any, index: tuple, g: Any) -> Any:
    """``g`` added into ``out`` at an index holding the library's own arrays: written, for
    masks (no position twice), else ``np.add.at`` by the library itself."""
    if all(item.dtype == bool for item in index if backends.is_foreign(item)):
        out[index] = g
        return out
    try:
        np.add.at(out, index, g)
    except TypeError:
        raise NotImplementedError(
            f"{backends.library_of(g).name} does not implement numpy.add.at, which the "
            f"gradient of indexing by its own integer arrays needs; index by a NumPy array "
            f"or a mask instead"
        ) from None
    return out
