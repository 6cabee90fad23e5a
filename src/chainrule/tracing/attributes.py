"""Attributes of a tracing array that are not arrays of their own.

``x.flat``: NumPy's flat iterator of the concrete array is no array, so what is read or
written through it would be the first call's, a constant at each replay. Here indexing,
iteration and writes through it are recorded as calls on the traced array; the rest of the
iterator (its position, ``coords``) is refused.

``x.base``: the array a view views, which NumPy gives by identity (``x[1:].base is x``): the
tracing array whose value it is, where the trace holds one. Which arrays own their memory is
fixed by the operations and, for the arguments, by the signature, so the identity holds at
each replay as it did in the trace.

A NumPy scalar written by index (``s[...] = v``) becomes a new value: :func:`written_scalar`.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import record


def base_of(array: Any) -> Any:
    """``array.base`` for a :class:`record.TraceArray` that is a view: the tracing array whose
    value that base is (the first one made of it, still alive), else the base read (a new
    traced value: an argument that is a view of the caller's memory)."""
    trace, base = array.trace, array.value.base
    if not trace.open:
        return base
    index = _INDEXES.get(trace)
    if index is None:
        index = _INDEXES[trace] = [{}, 0]
    by_value, done = index
    arrays = trace.arrays
    for ref in arrays[done:]:  # (indexed when asked: nothing per traced value otherwise)
        item = ref()
        if item is not None:
            known = by_value.get(id(item.value))
            known = known() if known is not None else None
            if known is None or known.value is not item.value:
                by_value[id(item.value)] = ref
    index[1] = len(arrays)
    found = by_value.get(id(base))
    found = found() if found is not None else None
    if found is not None and found.value is base:
        return found
    return array.trace.record("attr", "base", (array,), {}, base)


# trace -> [{id(value): a weak reference to a tracing array of it}, how many of trace.arrays
# that holds] (see base_of)
_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Flat:
    """``array.flat`` for a :class:`record.TraceArray`."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    @property
    def base(self) -> Any:
        return self.array

    def __len__(self) -> int:
        return int(self.array.value.size)

    def __iter__(self) -> Any:
        return (self[index] for index in range(len(self)))

    def __getitem__(self, key: Any) -> Any:
        array = self.array
        result = flat_get(array.value, record._values(key))
        if not array.trace.open:
            return result
        return array.trace.record("call", flat_get, (array, key), {}, result,
                                  shape_guard=record._has_mask(key))

    def __setitem__(self, key: Any, item: Any) -> None:
        array = self.array
        # (a NumPy scalar's flat iterator is over a copy: the write changes nothing)
        recorded = array.trace.open and not isinstance(array.value, np.generic)
        writes = record._writes(array.trace, (array,)) if recorded else ()
        flat_set(array.value, record._values(key), record._values(item))
        if recorded:
            array.trace.record("call", flat_set, (array, key, item), {}, None, writes=writes)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.array.ravel().__array__(dtype)  # (a value for NumPy: guarded)

    def copy(self) -> Any:
        return self.array.flatten()

    def __getattr__(self, name: str) -> Any:
        """The iterator's own state (``index``, ``coords``, ``next``): as NumPy's, but the
        call is refused (a replay would not move it)."""
        if name.startswith("__"):
            raise AttributeError(name)
        trace = self.array.trace
        trace.refused = trace.refused or (f"it reads `.flat.{name}` of a traced array (the "
                                          f"flat iterator's own state: a replay would not "
                                          f"keep it)")
        return getattr(self.array.value.flat, name)


def flat_get(array: Any, key: Any) -> Any:
    """``array.flat[key]``."""
    return array.flat[key]


def flat_set(array: Any, key: Any, item: Any) -> None:
    """``array.flat[key] = item``."""
    array.flat[key] = item


def written_scalar(scalar: Any, key: Any, item: Any) -> np.ndarray:
    """``scalar[key] = item`` for a NumPy scalar, which is immutable: a 0-d array."""
    value = np.array(scalar)
    value[key] = item
    return value
