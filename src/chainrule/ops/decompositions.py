"""Decompositions: the singular value decomposition and the Hermitian eigendecomposition, the
functions of their values (singular values, ``eigvalsh``) and the pseudo-inverse.

A decomposition is one primitive whose output packs its factors as rows of one array (the
op table's primitives have one output): ``svd_factors`` gives (..., m + 1 + n, k) rows of U,
then the singular values, then V (``x = U diag(s) V^H``, reduced, k = min(m, n));
``eigh_factors`` gives (..., 1 + n, n): the eigenvalues, then the eigenvectors as columns. The
public functions (:mod:`chainrule.linalg`) cut the factors out by indexing, so a loss that reads
only some factors sends zeros for the others, which the reverse rules skip (as PyTorch skips an
undefined gradient: the singular values' gradient needs no division by their gaps).

Tangent rules are JAX's (Townsend 2016 for the SVD). Reverse rules are their transposes,
written in PyTorch's convention (for complex values the cotangents are conjugated on the way in
and the result on the way out: see :func:`conjugated`, and :mod:`chainrule.hooks` for the
engine's convention). Where the derivative does not exist they say so rather than give a
number: eigenvectors and singular vectors are undefined at repeated eigenvalues or singular
values (the rules divide by their gaps and give inf/nan there), a rectangular matrix's singular
vectors need it to have full rank, and a complex vector's phase is arbitrary, so a loss that
depends on it is refused (PyTorch's check and message).
"""

from __future__ import annotations

import functools

import numpy as np

from ..backends import constant_like
from ..tensor import array_of
from .axes import shape_of
from .elementwise import conj, imag, real
from .foreign_linalg import run
from .index import getitem_trailing
from .join import concatenate
from .primitive import primitive
from .reduce import sum
from .shape import expand_dims, swapaxes

_PHASE_ERROR = (
    "{what}: The {vectors} in the complex case are specified up to multiplication by "
    "e^{{i phi}}. The specified loss function depends on this phase term, making it "
    "ill-defined; differentiate a function of them that does not depend on it (e.g. "
    "|v|**2, or a product v v^H)"
)


def is_complex(x) -> bool:
    return np.result_type(array_of(x)).kind == "c"


def matrix_transpose(x):
    return x.swapaxes(-1, -2) if type(x) is np.ndarray else swapaxes(x, -1, -2)


def conj_transpose(x):
    """x^H (x^T for real values)."""
    return conj(matrix_transpose(x)) if is_complex(x) else matrix_transpose(x)


def constant(value: np.ndarray, like):
    """A constant a rule makes in NumPy (an identity, a mask, weights) in the dtype and the
    array library of ``like`` (a tensor or an array) that it is combined with: a library that
    refuses NumPy's arrays in its operations (CuPy) could not take it as it is."""
    array = array_of(like)
    return constant_like(value.astype(np.result_type(array), copy=False), array)


def _eye(n: int, like):
    return constant(np.eye(n), like)


def diagonal_of(x):
    """The diagonal of the last two (square) axes, batch-safe."""
    return sum(x * _eye(shape_of(x)[-1], x), axis=(-1,))


def diagonal_matrix(v):
    """Square matrices with ``v`` (..., k) on their diagonals."""
    return expand_dims(v, -2) * _eye(shape_of(v)[-1], v)


def inverse_gaps(values):
    """``F[..., i, j] = 1 / (values[j] - values[i])`` off the diagonal and 0 on it: what a
    vector's derivative divides by (inf where two values are equal, where it does not exist)."""
    eye = _eye(shape_of(values)[-1], values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (1 - eye) / (expand_dims(values, -2) - expand_dims(values, -1) + eye)


def rows(packed, start, stop=None):
    """Rows ``start:stop`` of packed factors (batch-safe)."""
    return getitem_trailing(packed, index=(slice(start, stop), slice(None)), ndim=2)


def row(packed, index, real_values):
    """Row ``index`` of packed factors as a vector (its real part for real values)."""
    out = getitem_trailing(packed, index=(index, slice(None)), ndim=2)
    return real(out) if real_values and is_complex(out) else out


def conjugated(rule):
    """A reverse rule written in PyTorch's convention (the gradient of a real loss is
    dL/dRe + i dL/dIm) as one in the engine's (the conjugate): conjugate in, conjugate out."""

    @functools.wraps(rule)  # (the op table reads the rule's parameter names)
    def engine_rule(g, *args):
        out = rule(conj(g) if is_complex(g) else g, *args)
        return conj(out) if is_complex(out) else out

    return engine_rule


def is_zero(flow) -> bool:
    """Whether a cotangent is exactly zero (a factor the loss does not read)."""
    return not np.any(array_of(flow))


def check_phase(what: str, vectors: str, imaginary) -> None:
    """Refuse a loss that depends on the phase of complex vectors: ``imaginary`` is the change
    of the loss under a common phase of each vector, which must vanish."""
    if np.any(np.abs(array_of(imaginary)) > 1e-2):  # (np.allclose to 0, in any library)
        raise RuntimeError(_PHASE_ERROR.format(what=what, vectors=vectors))


# ---------------------------------------------------------------- singular values


@primitive
def svd_factors(x):
    """U, s and V of the reduced SVD ``x = U diag(s) V^H``, packed as rows (see above)."""
    if type(x) is np.ndarray:
        u, s, vh = np.linalg.svd(x, full_matrices=False)
    else:
        u, s, vh = run(np.linalg.svd, x, full_matrices=False)
    v = np.conj(np.swapaxes(vh, -1, -2))
    return np.concatenate([u, s[..., None, :].astype(u.dtype), v], axis=-2)


def svd_parts(packed, m: int) -> tuple:
    """(U, s, V) from packed factors of an (m, n) matrix."""
    return rows(packed, 0, m), row(packed, m, True), rows(packed, m + 1)


def _svd_jvp(t, x_shape, ans):
    m, n = x_shape[-2:]
    u, s, v = svd_parts(ans, m)
    projected = conj_transpose(u) @ t @ v
    diagonal = diagonal_of(projected)
    ds = real(diagonal) if is_complex(diagonal) else diagonal
    gaps = inverse_gaps(s * s)
    right, left = projected * expand_dims(s, -2), projected * expand_dims(s, -1)
    du = gaps * (right + conj_transpose(right))
    if is_complex(projected):  # the phase: U's columns take the imaginary part of the diagonal
        du = du + diagonal_matrix(1j * imag(diagonal) / s)
    du = u @ du
    dv = v @ (gaps * (left + conj_transpose(left)))
    if m > n:  # the part of dU outside U's span
        moved = t @ v
        du = du + (moved - u @ (conj_transpose(u) @ moved)) / expand_dims(s, -2)
    if n > m:
        moved = conj_transpose(t) @ u
        dv = dv + (moved - v @ (conj_transpose(v) @ moved)) / expand_dims(s, -2)
    return concatenate(du, expand_dims(ds, -2), dv, axis=-2)


@conjugated
def _svd_vjp(g, x_shape, ans):
    m, n = x_shape[-2:]
    u, s, v = svd_parts(ans, m)
    gu, gs, gv = svd_parts(g, m)
    core = diagonal_matrix(gs)
    gaps = inverse_gaps(s * s)
    from_u, from_v = not is_zero(gu), not is_zero(gv)
    if from_u:
        projected_u = conj_transpose(u) @ gu
        core = core + gaps * (projected_u - conj_transpose(projected_u)) * expand_dims(s, -2)
    if from_v:
        projected_v = conj_transpose(v) @ gv
        core = core + expand_dims(s, -1) * (gaps * (projected_v - conj_transpose(projected_v)))
    if is_complex(u) and from_u or is_complex(v) and from_v:
        phase_u = imag(diagonal_of(projected_u)) if from_u else 0.0
        phase_v = imag(diagonal_of(projected_v)) if from_v else 0.0
        check_phase("svd_backward", "singular vectors", phase_u + phase_v)
        if from_u:
            core = core + diagonal_matrix(1j * phase_u / s)
    out = u @ core @ conj_transpose(v)
    if m > n and from_u:
        outside = (gu - u @ (conj_transpose(u) @ gu)) / expand_dims(s, -2)
        out = out + outside @ conj_transpose(v)
    if n > m and from_v:
        outside = (gv - v @ (conj_transpose(v) @ gv)) / expand_dims(s, -2)
        out = out + u @ conj_transpose(outside)
    return out


svd_factors.defrules(vjp=_svd_vjp, jvp=_svd_jvp)


@primitive
def svdvals(x):
    """The singular values, in descending order (``numpy.linalg.svd(x, compute_uv=False)``)."""
    if type(x) is np.ndarray:
        return np.linalg.svd(x, compute_uv=False)
    return run(np.linalg.svd, x, compute_uv=False)


def _svdvals_jvp(t, x, x_shape):
    u, _, v = svd_parts(svd_factors(x), x_shape[-2])
    diagonal = diagonal_of(conj_transpose(u) @ t @ v)
    return real(diagonal) if is_complex(diagonal) else diagonal


@conjugated
def _svdvals_vjp(g, x, x_shape):
    u, _, v = svd_parts(svd_factors(x), x_shape[-2])
    return (u * expand_dims(g, -2)) @ conj_transpose(v)


svdvals.defrules(vjp=_svdvals_vjp, jvp=_svdvals_jvp)


# ---------------------------------------------------------------- Hermitian eigenproblems
# NumPy's eigh reads one triangle of its input (the lower one by default) and the real part of
# the diagonal, so these derivatives are those of that function: a perturbation of the other
# triangle changes nothing, and one of the read triangle counts for both (the Hermitian
# matrix it stands for). For a symmetrised input, f(x + x^H), this is the usual rule.


def _triangle(n: int, lower: bool) -> np.ndarray:
    ones = np.ones((n, n))
    return np.tril(ones, -1) if lower else np.triu(ones, 1)


def read_hermitian(t, lower: bool):
    """The Hermitian matrix that eigh reads from ``t``."""
    n = shape_of(t)[-1]
    strict = t * constant(_triangle(n, lower), t)
    diagonal = diagonal_of(t)
    return strict + conj_transpose(strict) + diagonal_matrix(
        real(diagonal) if is_complex(diagonal) else diagonal
    )


def gradient_of_triangle(gradient, lower: bool):
    """The transpose of :func:`read_hermitian` (PyTorch's convention)."""
    n = shape_of(gradient)[-1]
    mask = constant(_triangle(n, lower), gradient)
    diagonal = diagonal_of(gradient)
    return (gradient + conj_transpose(gradient)) * mask + diagonal_matrix(
        real(diagonal) if is_complex(diagonal) else diagonal
    )


@primitive
def eigh_factors(x, *, lower=True):
    """Eigenvalues (ascending) and eigenvectors (columns) of a Hermitian matrix, read from its
    lower (or upper) triangle, packed as rows (see above)."""
    if type(x) is np.ndarray:
        w, v = np.linalg.eigh(x, UPLO="L" if lower else "U")
    else:
        w, v = run(np.linalg.eigh, x, UPLO="L" if lower else "U")
    return np.concatenate([w[..., None, :].astype(v.dtype), v], axis=-2)


def eigh_parts(packed) -> tuple:
    return row(packed, 0, True), rows(packed, 1)


def _eigh_jvp(t, ans, lower):
    w, v = eigh_parts(ans)
    projected = conj_transpose(v) @ read_hermitian(t, lower) @ v
    diagonal = diagonal_of(projected)
    dw = real(diagonal) if is_complex(diagonal) else diagonal
    return concatenate(expand_dims(dw, -2), v @ (inverse_gaps(w) * projected), axis=-2)


@conjugated
def _eigh_vjp(g, ans, lower):
    w, v = eigh_parts(ans)
    gw, gv = eigh_parts(g)
    core = diagonal_matrix(gw)
    if not is_zero(gv):
        projected = conj_transpose(v) @ gv
        if is_complex(projected):
            check_phase("linalg_eigh_backward", "eigenvectors", imag(diagonal_of(projected)))
        core = core + inverse_gaps(w) * projected
    return gradient_of_triangle(v @ core @ conj_transpose(v), lower)


eigh_factors.defrules(vjp=_eigh_vjp, jvp=_eigh_jvp)


@primitive
def eigvalsh(x, *, lower=True):
    """The eigenvalues of a Hermitian matrix (``numpy.linalg.eigvalsh``), ascending."""
    if type(x) is np.ndarray:
        return np.linalg.eigvalsh(x, UPLO="L" if lower else "U")
    return run(np.linalg.eigvalsh, x, UPLO="L" if lower else "U")


def _eigvalsh_jvp(t, x, lower):
    _, v = eigh_parts(eigh_factors(x, lower=lower))
    diagonal = diagonal_of(conj_transpose(v) @ read_hermitian(t, lower) @ v)
    return real(diagonal) if is_complex(diagonal) else diagonal


@conjugated
def _eigvalsh_vjp(g, x, lower):
    _, v = eigh_parts(eigh_factors(x, lower=lower))
    return gradient_of_triangle((v * expand_dims(g, -2)) @ conj_transpose(v), lower)


eigvalsh.defrules(vjp=_eigvalsh_vjp, jvp=_eigvalsh_jvp)


# ---------------------------------------------------------------- pseudo-inverse


@primitive
def pinv(x, *, rcond=1e-15, hermitian=False):
    """The Moore-Penrose pseudo-inverse (``numpy.linalg.pinv``: singular values below ``rcond``
    times the largest count as 0; ``hermitian``: of the Hermitian matrix read from the lower
    triangle). Differentiable where the rank does not change (Golub and
    Pereyra 1973); where it does, the pseudo-inverse jumps."""
    if type(x) is np.ndarray:
        return np.linalg.pinv(x, rcond=rcond, hermitian=hermitian)
    return run(np.linalg.pinv, x, rcond=rcond, hermitian=hermitian)


def _pinv_jvp(t, x, ans, hermitian):
    # dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P
    if hermitian:  # (NumPy's hermitian=True reads the lower triangle, as eigh)
        x, t = read_hermitian(x, True), read_hermitian(t, True)
    t_h, p_h = conj_transpose(t), conj_transpose(ans)
    return (
        -(ans @ t @ ans)
        + ans @ (p_h @ (t_h - (t_h @ x) @ ans))
        + (t_h - ans @ (x @ t_h)) @ (p_h @ ans)
    )


@conjugated
def _pinv_vjp(g, x, ans, hermitian):
    if hermitian:
        x = read_hermitian(x, True)
    g_h, p_h = conj_transpose(g), conj_transpose(ans)
    out = (
        -(p_h @ g @ p_h)
        + (g_h - x @ (ans @ g_h)) @ (ans @ p_h)
        + (p_h @ ans) @ (g_h - (g_h @ ans) @ x)
    )
    return gradient_of_triangle(out, True) if hermitian else out


pinv.defrules(vjp=_pinv_vjp, jvp=_pinv_jvp)


__all__ = [
    "conj_transpose", "diagonal_matrix", "diagonal_of", "eigh_factors", "eigh_parts",
    "eigvalsh", "gradient_of_triangle", "inverse_gaps", "pinv", "read_hermitian",
    "svd_factors", "svd_parts", "svdvals",
]
