"""``numpy.linalg`` on arrays of other libraries (see :mod:`chainrule.backends`).

NumPy's linalg functions dispatch to the library of their arguments, whose versions may take
fewer arguments (Dask's: 2-D matrices only, no ``compute_uv``), or compute something else under
the same name. The primitives call :func:`run` for arrays that are not NumPy's (their NumPy
path calls NumPy directly), as do the public functions for the constants they compute; it

- refuses, with a NotImplementedError naming the function and the library, what the library's
  version refuses (a ValueError or TypeError: a stack of matrices, an argument it lacks), so
  that a missing function reads as missing, not as a wrong input; NumPy's LinAlgError (a
  singular matrix) passes as it is;
- runs the library's function in its guard (Dask's fallback, which would compute the whole
  graph, is an error there);
- replaces the library's version where it differs from NumPy's (:data:`_REPLACED`): Dask's
  ``cholesky`` gives the upper factor, and Dask's SVD (a tall-and-skinny QR) singular vectors
  of other signs than LAPACK's, so its results would not be NumPy's.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backends


def run(function: Callable, *arrays: Any, **kwargs: Any) -> Any:
    """``function(*arrays, **kwargs)``, a ``numpy.linalg`` function, in the library of the
    arrays (NumPy's called directly: the primitives check for those first themselves, so that
    their NumPy path does not even make this call)."""
    foreign = next((a for a in arrays if backends.is_foreign(a)), None)
    if foreign is None:
        return function(*arrays, **kwargs)
    library = backends.library_of(foreign)
    name = getattr(function, "__name__", str(function))
    function = _REPLACED.get((library.name, name), function)
    with library.guard():
        try:
            return function(*arrays, **kwargs)
        except (ValueError, TypeError) as error:
            if isinstance(error, np.linalg.LinAlgError):
                raise
            raise NotImplementedError(
                f"{library.name} does not implement numpy.linalg.{name} for these arguments "
                f"(its version says: {error}); chainrule does not convert {library.name} "
                f"arrays: compute the input first (cr.compute(x)) to run it in NumPy"
            ) from None


def _dask_cholesky(a: Any) -> Any:
    # dask.array.linalg.cholesky(a, lower=False): the upper factor unless asked
    return sys.modules["dask.array"].linalg.cholesky(a, lower=True)


def _dask_svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
              hermitian: bool = False) -> Any:
    # NumPy's SVD on each chunk, which holds whole matrices (the last two axes are made one
    # chunk each): lazily, and LAPACK's results, signs included (Dask's own SVD of a tall
    # matrix in many row chunks needs less memory per task, but its signs are others)
    if a.ndim < 2:
        raise ValueError(f"{a.ndim}-dimensional array given. Array must be at least "
                         f"two-dimensional")
    m, n = a.shape[-2:]
    k = min(m, n)
    values = np.empty(0, a.dtype).real.dtype
    svd = functools.partial(np.linalg.svd, full_matrices=full_matrices, compute_uv=compute_uv,
                            hermitian=hermitian)
    apply = functools.partial(sys.modules["dask.array"].apply_gufunc, svd, allow_rechunk=True)
    if not compute_uv:
        return apply("(m,n)->(k)", a, output_dtypes=values, output_sizes={"k": k})
    rows, cols = (m, n) if full_matrices else (k, k)
    return apply("(m,n)->(m,p),(k),(q,n)", a, output_dtypes=(a.dtype, values, a.dtype),
                 output_sizes={"p": rows, "k": k, "q": cols})


_REPLACED: dict[tuple[str, str], Callable] = {
    ("dask", "cholesky"): _dask_cholesky,
    ("dask", "svd"): _dask_svd,
}
