"""``chainrule.linalg``: NumPy's ``numpy.linalg`` names, differentiable.

>>> import chainrule as cr
>>> cr.linalg.norm(cr.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from . import backends, kernels, ops
from .api import _tensor
from .ops import decompositions
from .ops.factorizations import eig_factors, eig_parts, qr_factors, qr_parts
from .ops.factorizations import eigvals as _eigvals
from .ops.foreign_linalg import run
from .tensor import Tensor, array_of

__all__ = [
    "EigResult", "EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eig",
    "eigh", "eigvals", "eigvalsh", "inv", "matrix_power", "norm", "pinv", "qr", "slogdet",
    "solve", "svd", "svdvals", "tensorinv", "tensorsolve",
]


class SVDResult(NamedTuple):
    """``svd``'s factors, named as NumPy's: ``a = U @ diag(S) @ Vh``."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class EighResult(NamedTuple):
    """``eigh``'s result, named as NumPy's."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class EigResult(NamedTuple):
    """``eig``'s result, named as NumPy's."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    """``qr``'s factors, named as NumPy's: ``a = Q @ R``."""

    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    """``slogdet``'s result, named as NumPy's."""

    sign: Tensor
    logabsdet: Tensor


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0 or any p, over an int ``axis`` or a 1-D
    tensor) and matrix norms (``ord`` None/``"fro"``, 1, -1, inf, -inf, over a matrix or a pair
    of axes), as ``numpy.linalg.norm``; the matrix ``ord`` 2, -2 and ``"nuc"`` are the largest,
    the smallest and the sum of the singular values (see :func:`svd` for where their
    derivatives exist).

    >>> import chainrule as cr
    >>> cr.linalg.norm(cr.ones((2, 2)))
    tensor(2.)
    >>> cr.linalg.norm(cr.tensor([[3.0, -4.0]]), ord=1, axis=1)
    tensor([7.])
    >>> cr.linalg.norm(cr.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)  # the largest column sum
    tensor(6.)
    >>> cr.linalg.norm(cr.tensor([[3.0, 0.0], [0.0, -4.0]]), ord="nuc")
    tensor(7.)
    """
    return ops.norm(_tensor(x), ord=ord, axis=axis, keepdims=keepdims)


def inv(a: Any) -> Tensor:
    """Matrix inverse of ``a`` (or of each matrix in a stack).

    >>> import chainrule as cr
    >>> cr.linalg.inv(cr.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5 , 0.  ],
            [0.  , 0.25]])
    """
    return ops.inv(_tensor(a))


def det(a: Any) -> Tensor:
    """Determinant; the gradient is ``det(a) * inv(a).T``.

    >>> import chainrule as cr
    >>> cr.linalg.det(cr.tensor([[2.0, 1.0], [1.0, 3.0]]))
    tensor(5.)
    """
    return ops.det(_tensor(a))


def slogdet(a: Any) -> tuple[Tensor, Tensor]:
    """``(sign, logabsdet)`` with ``det = sign * exp(logabsdet)``; ``logabsdet`` is
    differentiable (gradient ``inv(a).T``), ``sign`` is piecewise constant.

    >>> import chainrule as cr
    >>> sign, logabsdet = cr.linalg.slogdet(cr.tensor([[0.0, 2.0], [1.0, 0.0]]))
    >>> sign, logabsdet
    (tensor(-1.), tensor(0.6931472))
    """
    return SlogdetResult(*ops.slogdet(_tensor(a)))


def solve(a: Any, b: Any) -> Tensor:
    """The solution ``x`` of ``a @ x = b``; ``b`` a vector or a stack of matrices, as
    ``numpy.linalg.solve`` in NumPy 2.

    >>> import chainrule as cr
    >>> cr.linalg.solve(cr.tensor([[2.0, 0.0], [0.0, 4.0]]), cr.tensor([1.0, 1.0]))
    tensor([0.5 , 0.25])
    """
    return ops.solve(_tensor(a), b)


def cholesky(a: Any) -> Tensor:
    """Lower-triangular ``L`` with ``L @ L.T == a`` for a symmetric positive-definite ``a``.
    Gradients treat ``a`` as symmetric, as PyTorch and JAX do.

    >>> import chainrule as cr
    >>> cr.linalg.cholesky(cr.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
    """
    return ops.cholesky(_tensor(a))


def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """The singular value decomposition ``a = U @ diag(S) @ Vh`` of a matrix (or a stack), as
    ``numpy.linalg.svd``: an ``SVDResult(U, S, Vh)``, or the singular values ``S`` alone for
    ``compute_uv=False``. Complex matrices give complex ``U``, ``Vh`` and real ``S``.

    Where derivatives exist. The singular values' derivatives exist wherever the values are
    distinct from each other... and for ``S`` alone (``compute_uv=False``, ``svdvals``, the
    matrix norms) wherever the largest one is simple: they need no division by gaps. The
    singular vectors' derivatives divide by the gaps ``s_i**2 - s_j**2`` (inf/nan at repeated
    values, where the vectors are not unique), and for a rectangular matrix by the values
    themselves (a full rank is needed). The phase of complex singular vectors is arbitrary: a
    loss that depends on it is refused with PyTorch's error. With ``full_matrices=True`` the
    columns of ``U`` (rows of ``Vh``) beyond ``min(m, n)`` are any basis of the complement, so
    they are constants of the derivative, as in PyTorch. ``hermitian=True`` decomposes the
    Hermitian matrix read from the lower triangle through ``eigh``, as NumPy does.

    >>> import chainrule as cr
    >>> u, s, vh = cr.linalg.svd(cr.tensor([[3.0, 0.0], [0.0, -4.0]]))
    >>> s
    tensor([4., 3.])
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> cr.linalg.svd(x, compute_uv=False).sum().backward()  # the nuclear norm's gradient
    >>> x.grad
    tensor([[-0.51449573,  0.8574929 ],
            [ 0.8574929 ,  0.51449573]])
    """
    x = _tensor(a)
    if hermitian:
        return _hermitian_svd(x, compute_uv)
    if not compute_uv:
        return decompositions.svdvals(x)
    packed = decompositions.svd_factors(x)
    m, n = x.shape[-2:]
    u, s, v = decompositions.svd_parts(packed, m)
    vh = decompositions.conj_transpose(v)
    if full_matrices and m != n:
        complete_u, _, complete_vh = run(np.linalg.svd, array_of(x), full_matrices=True)
        k = min(m, n)
        if m > n:
            u = ops.concatenate(u, complete_u[..., :, k:], axis=-1)
        else:
            vh = ops.concatenate(vh, complete_vh[..., k:, :], axis=-2)
    return SVDResult(u, s, vh)


def _hermitian_svd(x: Tensor, compute_uv: bool) -> Any:
    """NumPy's SVD of the Hermitian matrix read from the lower triangle, from its
    eigendecomposition: the values are |w| in descending order, U the eigenvectors in that
    order, Vh their conjugate transposes with the signs of w."""
    if not compute_uv:
        return decompositions.svdvals(decompositions.read_hermitian(x, True))
    w, v = EighResult(*decompositions.eigh_parts(decompositions.eigh_factors(x, lower=True)))
    order = np.argsort(np.abs(array_of(w)), axis=-1)[..., ::-1]
    s = _reordered(w, order)
    signs = np.sign(array_of(s))
    u = _reordered(v, order)
    return SVDResult(u, ops.abs(s), decompositions.conj_transpose(u * signs[..., None, :]))


def _reordered(t: Tensor, order: Any) -> Tensor:
    """``t``'s last axis permuted by ``order`` (of shape (..., n), its batch axes ``t``'s):
    a gather of NumPy's; in another library, whose index arrays an op's index (a NumPy constant)
    cannot hold, a product with the permutation matrix, made in that library."""
    if kernels.numpy_like(order):
        batch = [b[..., None] for b in np.indices(order.shape[:-1], sparse=True)]
        if t.ndim == order.ndim:
            return ops.getitem(t, (*batch, order))
        rows = np.arange(t.shape[-2])[:, None]
        return ops.getitem(t, (*(b[..., None] for b in batch), rows, order[..., None, :]))
    targets = decompositions.constant(np.arange(order.shape[-1])[:, None], order)
    permutation = (order[..., None, :] == targets).astype(t.dtype)
    if t.ndim == order.ndim:
        return ops.squeeze(ops.expand_dims(t, -2) @ permutation, -2)
    return t @ permutation


def svdvals(x: Any) -> Tensor:
    """The singular values, descending (``numpy.linalg.svdvals``); see :func:`svd`.

    >>> import chainrule as cr
    >>> cr.linalg.svdvals(cr.tensor([[0.0, 2.0], [1.0, 0.0]]))
    tensor([2., 1.])
    """
    return decompositions.svdvals(_tensor(x))


def _lower(uplo: str) -> bool:
    upper = uplo.upper() if isinstance(uplo, str) else uplo
    if upper not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return upper == "L"


def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803
    """Eigenvalues (ascending, real) and eigenvectors (columns) of a Hermitian matrix read
    from its lower (``UPLO="L"``) or upper triangle, as ``numpy.linalg.eigh``.

    Derivatives are those of that function: a change of the triangle not read changes nothing
    (for a symmetrised input the usual rule results). The eigenvectors' derivatives divide by
    the gaps between eigenvalues (undefined at a repeated eigenvalue); a loss that depends on
    the arbitrary phase of complex eigenvectors is refused, as in PyTorch.

    >>> import chainrule as cr
    >>> w, v = cr.linalg.eigh(cr.tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> w
    tensor([1., 3.])
    """
    x = _tensor(a)
    w, v = decompositions.eigh_parts(decompositions.eigh_factors(x, lower=_lower(UPLO)))
    return EighResult(w, v)


def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:  # noqa: N803
    """The eigenvalues of a Hermitian matrix, ascending (``numpy.linalg.eigvalsh``); their
    derivatives exist where they are distinct.

    >>> import chainrule as cr
    >>> cr.linalg.eigvalsh(cr.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    return decompositions.eigvalsh(_tensor(a), lower=_lower(UPLO))


def eig(a: Any) -> EigResult:
    """Eigenvalues and unit eigenvectors (columns) of a square matrix, as ``numpy.linalg.eig``:
    real when all eigenvalues are, complex otherwise. The derivatives divide by the gaps
    between eigenvalues (undefined at a repeated one); a loss that depends on the arbitrary
    phase of complex eigenvectors is refused, as in PyTorch.

    >>> import chainrule as cr
    >>> w, v = cr.linalg.eig(cr.tensor([[0.0, -1.0], [1.0, 0.0]]))
    >>> w
    tensor([0.+1.j, 0.-1.j], dtype=complex64)
    """
    w, v = eig_parts(eig_factors(_tensor(a)))
    return EigResult(w, v)


def eigvals(a: Any) -> Tensor:
    """The eigenvalues of a square matrix (``numpy.linalg.eigvals``).

    >>> import chainrule as cr
    >>> cr.linalg.eigvals(cr.tensor([[2.0, 0.0], [1.0, 3.0]])).real
    tensor([3., 2.])
    """
    return _eigvals(_tensor(a))


_NO_VALUE = object()


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NO_VALUE) -> Tensor:
    """The Moore-Penrose pseudo-inverse, as ``numpy.linalg.pinv`` (``rcond`` or ``rtol``: the
    relative cutoff below which singular values count as 0). Its derivative exists where the
    rank is constant, i.e. away from singular values at the cutoff.

    >>> import chainrule as cr
    >>> cr.linalg.pinv(cr.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5, 0. ],
            [0. , 0. ]])
    """
    x = _tensor(a)
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(x.shape[-2:]) * np.finfo(x.dtype).eps
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    return decompositions.pinv(x, rcond=rcond, hermitian=hermitian)


def matrix_power(a: Any, n: int) -> Tensor:
    """``a`` to the integer power ``n`` by repeated squaring (a negative ``n`` inverts ``a``
    first), as ``numpy.linalg.matrix_power``.

    >>> import chainrule as cr
    >>> cr.linalg.matrix_power(cr.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    x = _tensor(a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        identity = decompositions.constant(np.eye(x.shape[-1]), x)
        return Tensor._wrap(np.broadcast_to(identity, x.shape).copy())
    if n < 0:
        x, n = ops.inv(x), -n
    square = result = None
    while n > 0:  # (NumPy's order of products)
        square = x if square is None else ops.matmul(square, square)
        n, bit = divmod(n, 2)
        if bit:
            result = square if result is None else ops.matmul(result, square)
    return result


def tensorinv(a: Any, ind: int = 2) -> Tensor:
    """The inverse of ``a`` as a map from its first ``ind`` axes to the others (``numpy.linalg.
    tensorinv``): ``tensordot(tensorinv(a, ind), a, ind)`` is the identity.

    >>> import chainrule as cr
    >>> cr.linalg.tensorinv(cr.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    x = _tensor(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = x.shape
    size = int(np.prod(shape[ind:]))
    return ops.reshape(ops.inv(ops.reshape(x, shape=(size, -1))), shape=shape[ind:] + shape[:ind])


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Tensor:
    """The ``x`` with ``tensordot(a, x, axes=x.ndim) == b`` (``numpy.linalg.tensorsolve``;
    ``axes``: axes of ``a`` moved to the end first).

    >>> import chainrule as cr
    >>> cr.linalg.tensorsolve(2 * cr.eye(4).reshape(2, 2, 4), cr.ones((2, 2))).shape
    (4,)
    """
    x, y = _tensor(a), _tensor(b)
    if axes is not None:
        order = list(range(x.ndim))
        for axis in axes:
            order.remove(axis)
            order.insert(x.ndim, axis)
        x = ops.transpose(x, axes=tuple(order))
    shape = x.shape[-(x.ndim - y.ndim):]
    size = int(np.prod(shape))
    if x.size != size**2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement "
            "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])"
        )
    solved = ops.solve(ops.reshape(x, shape=(size, size)), ops.reshape(y, shape=(-1,)))
    return ops.reshape(solved, shape=shape)


def qr(a: Any, mode: str = "reduced") -> Any:
    """The QR decomposition ``a = Q @ R`` (Q with orthonormal columns, R upper triangular), as
    ``numpy.linalg.qr``: a ``QRResult(Q, R)`` for ``mode`` "reduced" or "complete", ``R`` alone
    for "r". Derivatives need the first ``min(m, n)`` columns of ``a`` independent (R's diagonal
    nonzero); with "complete", Q's columns beyond ``n`` are an arbitrary basis and count as
    constants, as in PyTorch. ``mode="raw"`` (Householder reflectors) is not differentiable.

    >>> import chainrule as cr
    >>> q, r = cr.linalg.qr(cr.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> r
    tensor([[-5. , -2.2],
            [ 0. ,  0.4]])
    """
    x = _tensor(a)
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"Unrecognized mode '{mode}'")
    if mode == "raw":
        if x.requires_grad:
            raise NotImplementedError(
                "qr(mode='raw') gives LAPACK's Householder reflectors, which chainrule does not "
                "differentiate; use mode='reduced'"
            )
        return tuple(Tensor._wrap(part) for part in run(np.linalg.qr, array_of(x), mode="raw"))
    m, n = x.shape[-2:]
    if m >= n:
        q, r = qr_parts(qr_factors(x), m)
        if mode == "complete" and m > n:
            complete_q = run(np.linalg.qr, array_of(x), mode="complete")[0]
            q = ops.concatenate(q, complete_q[..., n:], axis=-1)
            zeros = backends.zeros(r.shape[:-2] + (m - n, n), r.dtype, like=array_of(x))
            r = ops.concatenate(r, zeros, axis=-2)
    else:  # the first m columns' factors, and Q^H times the others
        first, rest = ops.split(x, [m], axis=-1)
        q, r = qr_parts(qr_factors(first), m)
        r = ops.concatenate(r, decompositions.conj_transpose(q) @ rest, axis=-1)
    return r if mode == "r" else QRResult(q, r)
