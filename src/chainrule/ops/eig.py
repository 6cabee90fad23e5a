"""The general eigendecomposition ``x = V diag(w) V^-1`` (``numpy.linalg.eig``) and its
eigenvalues (``eigvals``).

Like NumPy's, results are real when every eigenvalue is, and complex otherwise; eigenvectors
have unit norm. ``eig_factors`` packs (..., 1 + n, n) rows: the eigenvalues, then the
eigenvectors as columns (see :mod:`chainrule.ops.decompositions`). The tangent rule is JAX's
(with the normalisation ``Re(v^H dv) = 0``) and the reverse rule its transpose, HIPS autograd's
and PyTorch's: both divide by the gaps between eigenvalues (undefined at a repeated one), and a
loss that depends on the arbitrary phase of complex eigenvectors is refused, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .decompositions import (
    check_phase,
    diagonal_matrix,
    diagonal_of,
    inverse_gaps,
    is_complex,
    is_zero,
    matrix_transpose,
    row,
    rows,
)
from .elementwise import conj, imag, real
from .join import concatenate
from .linalg import solve_matrix
from .primitive import primitive
from .reduce import sum
from .shape import expand_dims


@primitive
def eig_factors(x):
    """Eigenvalues and eigenvectors (columns) of a square matrix, packed as rows."""
    w, v = np.linalg.eig(x)
    return np.concatenate([w[..., None, :], v], axis=-2)


def eig_parts(packed) -> tuple:
    return row(packed, 0, False), rows(packed, 1)


def _normalised(v, dv):
    """``dv`` less its part along each column of ``v`` that would change the column's norm."""
    along = sum(conj(v) * dv, axis=(-2,)) if is_complex(v) else sum(v * dv, axis=(-2,))
    return dv - v * expand_dims(real(along) if is_complex(along) else along, -2)


def _eig_jvp(t, ans):
    w, v = eig_parts(ans)
    projected = solve_matrix(v, t @ v)  # V^-1 dA V
    dv = _normalised(v, v @ (inverse_gaps(w) * projected))
    return concatenate(expand_dims(diagonal_of(projected), -2), dv, axis=-2)


def _eig_vjp(g, ans):
    w, v = eig_parts(ans)
    gw, gv = eig_parts(g)
    v_t = matrix_transpose(v)
    core = diagonal_matrix(gw)
    if not is_zero(gv):
        projected = v_t @ gv
        along = diagonal_of(projected)
        if is_complex(along):  # (the phase's change of the loss: Im of the diagonal)
            check_phase("linalg_eig_backward", "eigenvectors", imag(along))
            along = real(along)
        gaps = inverse_gaps(w)
        core = core + gaps * projected - gaps * ((v_t @ conj(v)) * expand_dims(along, -2))
    return solve_matrix(v_t, core @ v_t)  # V^-T (...) V^T


eig_factors.defrules(vjp=_eig_vjp, jvp=_eig_jvp)


@primitive
def eigvals(x):
    """The eigenvalues of a square matrix (``numpy.linalg.eigvals``)."""
    return np.linalg.eigvals(x)


def _eigvals_jvp(t, x):
    _, v = eig_parts(eig_factors(x))
    return diagonal_of(solve_matrix(v, t @ v))


def _eigvals_vjp(g, x):
    _, v = eig_parts(eig_factors(x))
    v_t = matrix_transpose(v)
    return solve_matrix(v_t, expand_dims(g, -1) * v_t)


eigvals.defrules(vjp=_eigvals_vjp, jvp=_eigvals_jvp)


__all__ = ["eig_factors", "eig_parts", "eigvals"]
