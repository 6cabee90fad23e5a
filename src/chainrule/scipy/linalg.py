"""``chainrule.scipy.linalg``: SciPy's matrix functions and solvers, differentiable in both modes
to any order, with SciPy's signatures; the names NumPy also has run ``chainrule.linalg``.

>>> import chainrule as cr
>>> from chainrule.scipy import linalg
>>> linalg.sqrtm(cr.tensor([[4.0, 0.0], [0.0, 9.0]], dtype="float64"))
tensor([[2., 0.],
        [0., 3.]], dtype=float64)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import linalg as _numpy_linalg
from .. import ops
from ..api import _tensor
from ..ops import scipy_ops
from ..tensor import Tensor

__all__ = [
    "cho_factor", "cho_solve", "cholesky", "det", "eigh", "eigvalsh", "inv", "norm", "solve",
    "solve_banded", "solve_sylvester", "solve_triangular", "sqrtm", "svd", "svdvals",
]

_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


def _mT(x: Tensor) -> Tensor:  # noqa: N802
    return ops.swapaxes(x, -1, -2)


def _square(a: Tensor, name: str) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected a square matrix (or a stack of them), got shape "
                         f"{a.shape}")


def sqrtm(A: Any, disp: bool = True, blocksize: int = 64) -> Tensor:  # noqa: N803
    """The principal square root ``X`` of the square matrix ``A`` (``X @ X == A``), as
    ``scipy.linalg.sqrtm``: complex when ``A`` has negative real eigenvalues. Its derivative
    solves the Sylvester equation ``X dX + dX X = dA`` (it exists where no two eigenvalues of
    ``X`` sum to zero). ``disp`` and ``blocksize`` are SciPy's (deprecated there): only
    ``disp=True`` is supported.

    >>> import chainrule as cr
    >>> from chainrule.scipy.linalg import sqrtm
    >>> a = cr.tensor([[5.0, 4.0], [4.0, 5.0]], dtype="float64")
    >>> cr.grad(lambda a: cr.trace(sqrtm(a)))(a)  # d tr(sqrt(a)) = tr(a^-1/2 da) / 2
    tensor([[ 0.33333333, -0.16666667],
            [-0.16666667,  0.33333333]], dtype=float64)
    """
    if not disp:
        raise NotImplementedError("sqrtm(disp=False) (the error estimate) is not supported: "
                                  "call sqrtm(A) and compute the residual X @ X - A if needed")
    x = _tensor(A)
    _square(x, "sqrtm")
    return scipy_ops.sqrtm(x)


def solve_sylvester(a: Any, b: Any, q: Any) -> Tensor:
    """The solution ``X`` of ``a @ X + X @ b == q`` (``scipy.linalg.solve_sylvester``);
    differentiable in all three.

    >>> import chainrule as cr
    >>> from chainrule.scipy.linalg import solve_sylvester
    >>> solve_sylvester(cr.eye(2), cr.eye(2), cr.ones((2, 2)))
    tensor([[0.5, 0.5],
            [0.5, 0.5]])
    """
    a, b, q = _tensor(a), _tensor(b), _tensor(q)
    _square(a, "solve_sylvester (a)")
    _square(b, "solve_sylvester (b)")
    if q.ndim < 2 or q.shape[-2:] != (a.shape[-1], b.shape[-1]):
        raise ValueError(f"solve_sylvester: q must have shape (n, m) = ({a.shape[-1]}, "
                         f"{b.shape[-1]}) for a {a.shape} and b {b.shape}, got {q.shape}")
    return scipy_ops.solve_sylvester(a, b, q)


def _as_matrix_rhs(b: Tensor, n: int, name: str, a_shape: tuple) -> tuple[Tensor, bool]:
    """``b`` as a stack of right-hand-side matrices, and whether it was a vector."""
    vector = b.ndim == 1
    if b.ndim == 0 or b.shape[0 if vector else -2] != n:
        raise ValueError(f"{name}: shapes of a {a_shape} and b {b.shape} are incompatible "
                         f"(b needs {n} rows)")
    return (ops.expand_dims(b, -1) if vector else b), vector


def solve_triangular(
    a: Any, b: Any, trans: Any = 0, lower: bool = False, unit_diagonal: bool = False,
    overwrite_b: bool = False, check_finite: bool = True,
) -> Tensor:
    """The solution ``x`` of ``op(a) @ x == b`` reading only ``a``'s upper (or ``lower``)
    triangle, with op ``trans`` 0/"N" (a), 1/"T" (aᵀ) or 2/"C" (aᴴ), and ones on the diagonal
    when ``unit_diagonal``, as ``scipy.linalg.solve_triangular``; ``a`` may be a stack.
    Derivatives reach only the triangle read.

    >>> import chainrule as cr
    >>> from chainrule.scipy.linalg import solve_triangular
    >>> solve_triangular(cr.tensor([[2.0, 1.0], [0.0, 4.0]]), cr.tensor([3.0, 4.0]))
    tensor([1., 1.])
    """
    if trans not in _TRANS:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                         f"{trans!r}")
    a, b = _tensor(a), _tensor(b)
    _square(a, "solve_triangular")
    rhs, vector = _as_matrix_rhs(b, a.shape[-1], "solve_triangular", a.shape)
    trans = _TRANS[trans]
    if trans == 2:  # aᴴ x = b is (conj a)ᵀ x = b
        a, trans = ops.conj(a), 1
    x = scipy_ops.solve_triangular_matrix(a, rhs, lower=bool(lower), trans=trans,
                                          unit_diagonal=bool(unit_diagonal))
    return ops.squeeze(x, -1) if vector else x


def solve_banded(
    l_and_u: Any, ab: Any, b: Any, overwrite_ab: bool = False, overwrite_b: bool = False,
    check_finite: bool = True,
) -> Tensor:
    """The solution ``x`` of ``a @ x == b`` for the banded ``a`` in LAPACK's band storage
    ``ab[u + i - j, j] == a[i, j]`` with ``(l, u) = l_and_u`` diagonals below and above, as
    ``scipy.linalg.solve_banded``; differentiable in ``ab`` (only the entries that hold the
    band receive gradients) and ``b``.

    >>> import chainrule as cr
    >>> from chainrule.scipy.linalg import solve_banded
    >>> ab = cr.tensor([[0.0, 1.0, 1.0], [2.0, 2.0, 2.0], [1.0, 1.0, 0.0]])  # tridiagonal
    >>> solve_banded((1, 1), ab, cr.tensor([3.0, 4.0, 3.0]))
    tensor([1., 1., 1.])
    """
    lower, upper = (int(v) for v in l_and_u)
    ab, b = _tensor(ab), _tensor(b)
    if ab.ndim != 2 or lower < 0 or upper < 0 or lower + upper + 1 != ab.shape[0]:
        raise ValueError(f"invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({lower + upper + 1}) does not equal ab.shape[0] "
                         f"({ab.shape[0] if ab.ndim else None})")
    if b.ndim not in (1, 2):
        raise ValueError(f"solve_banded: b must be a vector or a matrix, got shape {b.shape}")
    rhs, vector = _as_matrix_rhs(b, ab.shape[-1], "solve_banded", ab.shape)
    x = scipy_ops.solve_banded_matrix(ab, rhs, lower=lower, upper=upper)
    return ops.squeeze(x, -1) if vector else x


def _from_triangle(a: Tensor, lower: bool, hermitian: bool = True) -> Tensor:
    """The symmetric (Hermitian) matrix that ``a``'s lower or upper triangle stands for."""
    strict = ops.tril(a, -1) if lower else ops.triu(a, 1)
    mirrored = _mT(strict)
    if hermitian and np.iscomplexobj(a._array):
        mirrored = ops.conj(mirrored)
    return (ops.tril(a) if lower else ops.triu(a)) + mirrored


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Tensor:
    """The Cholesky factor of the Hermitian positive-definite matrix whose upper (or
    ``lower``) triangle is ``a``'s: upper ``U`` with ``Uᴴ U == a`` by default, lower ``L`` with
    ``L Lᴴ == a`` when ``lower`` (``scipy.linalg.cholesky``; note NumPy's default is lower).

    >>> import chainrule as cr
    >>> from chainrule.scipy.linalg import cholesky
    >>> cholesky(cr.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 1.],
            [0., 1.]])
    """
    x = _tensor(a)
    _square(x, "cholesky")
    factor = ops.cholesky(_from_triangle(x, bool(lower)))
    return factor if lower else ops.conj(_mT(factor)) if np.iscomplexobj(x._array) else _mT(factor)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Tensor, bool]:
    """``(c, lower)`` for :func:`cho_solve`, as ``scipy.linalg.cho_factor``: ``c`` holds the
    Cholesky factor in its upper (or ``lower``) triangle and ``a``'s own entries in the other.

    >>> import chainrule as cr
    >>> from chainrule.scipy.linalg import cho_factor, cho_solve
    >>> a = cr.tensor([[4.0, 2.0], [2.0, 2.0]])
    >>> cho_solve(cho_factor(a), cr.tensor([6.0, 4.0]))
    tensor([1., 1.])
    """
    x = _tensor(a)
    factor = cholesky(x, lower=lower)
    other = ops.triu(x, 1) if lower else ops.tril(x, -1)
    return factor + other, bool(lower)


def cho_solve(c_and_lower: tuple, b: Any, overwrite_b: bool = False,
              check_finite: bool = True) -> Tensor:
    """The solution ``x`` of ``a @ x == b`` from ``cho_factor(a)``'s ``(c, lower)``, as
    ``scipy.linalg.cho_solve``: two triangular solves, differentiable in ``c``'s factor
    triangle and ``b``."""
    c, lower = c_and_lower
    c = _tensor(c)
    # a = L Lᴴ: L y = b, then Lᴴ x = y; a = Uᴴ U: Uᴴ y = b, then U x = y
    first = solve_triangular(c, b, trans=0 if lower else "C", lower=lower)
    return solve_triangular(c, first, trans="C" if lower else 0, lower=lower)


def solve(
    a: Any, b: Any, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
    check_finite: bool = True, assume_a: str | None = None, transposed: bool = False,
) -> Tensor:
    """The solution ``x`` of ``a @ x == b`` (``aᵀ`` when ``transposed``), as
    ``scipy.linalg.solve``. ``assume_a``: None/"gen" (general), "sym", "her" or "pos" (only
    the upper, or ``lower``, triangle is read), "upper triangular" or "lower triangular".
    """
    x, rhs = _tensor(a), _tensor(b)
    _square(x, "solve")
    if transposed:
        if np.iscomplexobj(x._array):
            raise NotImplementedError("scipy.linalg.solve can't use transposed=True with "
                                      "complex arrays")
        x = _mT(x)
    if assume_a in ("lower triangular", "upper triangular"):
        return solve_triangular(x, rhs, lower=assume_a == "lower triangular")
    if assume_a in ("sym", "symmetric", "her", "hermitian", "pos", "positive definite"):
        x = _from_triangle(x, bool(lower), hermitian=assume_a not in ("sym", "symmetric"))
    elif assume_a not in (None, "gen", "general"):
        raise ValueError(f"solve: assume_a {assume_a!r} is not supported; use None, 'gen', "
                         f"'sym', 'her', 'pos', 'upper triangular' or 'lower triangular' (or "
                         f"solve_banded for banded matrices)")
    matrix, vector = _as_matrix_rhs(rhs, x.shape[-1], "solve", x.shape)
    out = ops.solve_matrix(x, matrix)
    return ops.squeeze(out, -1) if vector else out


def eigh(a: Any, b: Any = None, *, lower: bool = True, eigvals_only: bool = False,
         **options: Any) -> Any:
    """Eigenvalues (ascending) and eigenvectors ``(w, v)`` of the Hermitian matrix whose lower
    (or upper) triangle is ``a``'s, or ``w`` alone when ``eigvals_only``, as
    ``scipy.linalg.eigh`` (see ``chainrule.linalg.eigh`` for where derivatives exist). The
    generalized problem (``b``) and SciPy's subset options are not supported."""
    if b is not None or options:
        raise NotImplementedError(
            "chainrule.scipy.linalg.eigh solves the standard problem only: the generalized "
            "one (b=) and the subset options (" + ", ".join(options) + ") are not supported"
        )
    uplo = "L" if lower else "U"
    if eigvals_only:
        return _numpy_linalg.eigvalsh(a, UPLO=uplo)
    return tuple(_numpy_linalg.eigh(a, UPLO=uplo))


def eigvalsh(a: Any, b: Any = None, *, lower: bool = True, **options: Any) -> Tensor:
    """Eigenvalues of a Hermitian matrix, as ``scipy.linalg.eigvalsh`` (standard problem)."""
    return eigh(a, b, lower=lower, eigvals_only=True, **options)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, overwrite_a: bool = False,
        check_finite: bool = True, lapack_driver: str = "gesdd") -> Any:
    """``(U, s, Vh)`` (or ``s`` alone), as ``scipy.linalg.svd`` (see ``chainrule.linalg.svd``
    for where derivatives exist)."""
    out = _numpy_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def svdvals(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Tensor:
    """Singular values, descending (``scipy.linalg.svdvals``)."""
    return _numpy_linalg.svdvals(a)


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Tensor:
    """Matrix inverse (``scipy.linalg.inv``)."""
    return _numpy_linalg.inv(a)


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Tensor:
    """Determinant (``scipy.linalg.det``)."""
    return _numpy_linalg.det(a)


def norm(a: Any, ord: Any = None, axis: Any = None, keepdims: bool = False,  # noqa: A002
         check_finite: bool = True) -> Tensor:
    """Vector and matrix norms (``scipy.linalg.norm``, NumPy's orders)."""
    return _numpy_linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)
