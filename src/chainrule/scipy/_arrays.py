"""What ``chainrule.scipy``'s functions need to run on arrays of other libraries (Dask, CuPy:
see chainrule/backends.py), beyond NumPy's dispatch, which runs SciPy's ufuncs and NumPy's
functions on them as they are.

SciPy's functions read their arguments with ``np.asarray`` and compute masks and checks in
NumPy; the functions here take arguments of another library instead, and so need: the library
that numbers given with such arrays are made in (:func:`foreign_of`), and masks and checks
that are not read in Python where that would compute a lazy array or wait for a device
(:func:`everywhere`, :func:`control_value`). On NumPy arrays each does what the NumPy code did
before.
"""

from __future__ import annotations

from typing import Any

from .. import backends, kernels
from ..tensor import array_of


def foreign_of(*values: Any) -> Any:
    """The first array of another library than NumPy among ``values`` (tensors or raw), or
    None: numbers given with it are made in its library, as its own functions would."""
    for value in values:
        raw = array_of(value)
        if backends.is_foreign(raw):
            return raw
    return None


def same_library(name: str, *values: Any) -> None:
    """Refuse ``values`` (tensors or raw) of two libraries, naming both, as an op does
    (``backends.call``): checked before NumPy's functions on their values would mix them."""
    backends.library_of_op(tuple(array_of(value) for value in values), name)


def everywhere(condition: Any) -> bool:
    """Whether a NumPy mask holds everywhere (where a shortcut skips the masked evaluation).
    For another library's mask: False, so the general path runs, without reading the mask
    in Python (which would compute a lazy array, or wait for a device). A mask cr.jit traces
    takes NumPy's way, a guard on its value: the replay sums in the eager call's order."""
    return kernels.numpy_like(condition) and bool(condition.all())


def control_value(array: Any) -> Any:
    """``array`` where Python control flow reads it (checks, a choice of method): a lazy
    library's array computed once, as Dask computes one for each ``bool()``, so that several
    checks, and functions the library lacks (Dask has no ``eigvalsh``), read one NumPy value;
    any other array as it is (the checks run in its library)."""
    if backends.is_numpy(array):
        return array
    return backends.compute([array])[0]
