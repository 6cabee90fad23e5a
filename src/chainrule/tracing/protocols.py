"""Python protocols of NumPy's arrays and scalars that a tracing array (record.TraceArray) has
as NumPy has them: ``format`` with a spec, ``round``, ``bytes``, ``copy.copy`` and
``copy.deepcopy``. Like ``float(x)``, what gives a Python value is guarded; what gives an array
is traced. No buffer protocol (``__buffer__``, Python 3.12+): NumPy's ``asarray`` would read
the memory through it before ``__array__``, untraced; ``memoryview(x)`` raises (jitted.py says
why)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np


class PythonProtocols:
    """What :class:`~.record.TraceArray` adds to NumPy's dispatch for Python's protocols."""

    __slots__ = ()
    value: Any  # (TraceArray's: the concrete value, its trace, its guarded conversions)
    trace: Any
    _python: Callable[..., Any]

    def __format__(self, spec: str) -> str:  # (f"{x:.3f}": guarded, as str)
        return self._python(format, spec)

    def __bytes__(self) -> bytes:  # (the memory's bytes, as NumPy's, not the items': guarded)
        return self._python(bytes)

    def __round__(self, ndigits: Any = None) -> Any:
        """As NumPy's: a scalar rounded to a Python int (guarded, as int()), or to ``ndigits``
        digits (traced, np.round); an array has no ``round()`` (the same TypeError)."""
        if ndigits is None or not isinstance(self.value, np.generic):
            return self._python(round, *(() if ndigits is None else (ndigits,)))
        return np.round(cast(Any, self), ndigits)

    def __copy__(self) -> Any:
        """As NumPy's: a scalar is itself, an array a copy in its own layout (traced)."""
        return self if isinstance(self.value, np.generic) else np.copy(cast(Any, self), order="K")

    def __deepcopy__(self, memo: Any) -> Any:
        return self.__copy__()
