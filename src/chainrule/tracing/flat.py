"""``x.flat`` of a tracing array: NumPy's flat iterator of the concrete array is no array, so
what is read or written through it would be the first call's, a constant at each replay. Here
indexing, iteration and writes through it are recorded as calls on the traced array; the rest
of the iterator (its position, ``coords``) is refused."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import record


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
        flat_set(array.value, record._values(key), record._values(item))
        # (a NumPy scalar's flat iterator is over a copy: the write changes nothing)
        if array.trace.open and not isinstance(array.value, np.generic):
            array.trace.record("call", flat_set, (array, key, item), {}, None,
                               writes=(array.var,))

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
