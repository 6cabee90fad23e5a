"""Factorizations whose rules solve with a factor: the general eigendecomposition
``x = V diag(w) V^-1`` (``numpy.linalg.eig``, ``eigvals``) and the QR decomposition.

Like NumPy's, results are real when every eigenvalue is, and complex otherwise; eigenvectors
have unit norm. ``eig_factors`` packs (..., 1 + n, n) rows: the eigenvalues, then the
eigenvectors as columns (see :mod:`chainrule.ops.decompositions`). The tangent rule is JAX's
(with the normalisation ``Re(v^H dv) = 0``) and the reverse rule its transpose, HIPS autograd's
and PyTorch's: both divide by the gaps between eigenvalues (undefined at a repeated one), and a
loss that depends on the arbitrary phase of complex eigenvectors is refused, as in PyTorch.

``qr_factors`` packs (..., m + n, n) rows, Q's then R's, of the reduced QR decomposition of a
matrix with m >= n (R's diagonal is real, as LAPACK makes it). Its tangent rule is JAX's, its
reverse rule the transpose (PyTorch's): both need R invertible (a full column rank).
"""

from __future__ import annotations

import numpy as np

from .axes import shape_of
from .decompositions import (
    check_phase,
    conj_transpose,
    conjugated,
    constant,
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
from .foreign_linalg import run
from .join import concatenate
from .linalg import solve_matrix
from .primitive import primitive
from .reduce import sum
from .shape import expand_dims


@primitive
def eig_factors(x):
    """Eigenvalues and eigenvectors (columns) of a square matrix, packed as rows."""
    w, v = np.linalg.eig(x) if type(x) is np.ndarray else run(np.linalg.eig, x)
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
    return np.linalg.eigvals(x) if type(x) is np.ndarray else run(np.linalg.eigvals, x)


def _eigvals_jvp(t, x):
    _, v = eig_parts(eig_factors(x))
    return diagonal_of(solve_matrix(v, t @ v))


def _eigvals_vjp(g, x):
    _, v = eig_parts(eig_factors(x))
    v_t = matrix_transpose(v)
    return solve_matrix(v_t, expand_dims(g, -1) * v_t)


eigvals.defrules(vjp=_eigvals_vjp, jvp=_eigvals_jvp)


# ---------------------------------------------------------------- QR


@primitive
def qr_factors(x):
    """Q and R of the reduced QR decomposition of an (m, n) matrix, m >= n, packed as rows."""
    q, r = np.linalg.qr(x) if type(x) is np.ndarray else run(np.linalg.qr, x)
    return np.concatenate([q, r], axis=-2)


def qr_parts(packed, m: int) -> tuple:
    return rows(packed, 0, m), rows(packed, m)


def _times_inverse_h(x, r):
    """x R^-H (a solve, for the batch of x)."""
    return conj_transpose(solve_matrix(r, conj_transpose(x)))


def _qr_jvp(t, x_shape, ans):
    q, r = qr_parts(ans, x_shape[-2])
    moved = conj_transpose(solve_matrix(conj_transpose(r), conj_transpose(t)))  # dA R^-1
    projected = conj_transpose(q) @ moved
    lower = projected * _strictly_lower(shape_of(projected)[-1], projected)
    rotation = lower - conj_transpose(lower)  # Q^H dQ, skew-Hermitian
    if is_complex(projected):  # (its diagonal keeps R's real)
        rotation = rotation + diagonal_matrix(1j * imag(diagonal_of(projected)))
    dq = q @ (rotation - projected) + moved
    return concatenate(dq, (projected - rotation) @ r, axis=-2)


@conjugated
def _qr_vjp(g, x_shape, ans):
    q, r = qr_parts(ans, x_shape[-2])
    gq, gr = qr_parts(g, x_shape[-2])
    mixed = gr @ conj_transpose(r) - conj_transpose(q) @ gq
    lower = _strictly_lower(shape_of(mixed)[-1], mixed)
    core = mixed * (1 - lower) + conj_transpose(mixed) * lower  # Hermitian from the upper part
    if is_complex(mixed):
        core = core - diagonal_matrix(1j * imag(diagonal_of(mixed)))
    return _times_inverse_h(gq + q @ core, r)


def _strictly_lower(n: int, like):
    return constant(np.tril(np.ones((n, n)), -1), like)


qr_factors.defrules(vjp=_qr_vjp, jvp=_qr_jvp)


__all__ = ["eig_factors", "eig_parts", "eigvals", "qr_factors", "qr_parts"]
