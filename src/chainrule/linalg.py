"""``chainrule.linalg``: NumPy's ``numpy.linalg`` names, differentiable.

>>> import chainrule as cr
>>> cr.linalg.norm(cr.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

from typing import Any

from . import ops
from .api import _tensor
from .tensor import Tensor

__all__ = ["cholesky", "det", "inv", "norm", "slogdet", "solve"]


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0 or any p, over an int ``axis`` or a 1-D
    tensor) and matrix norms (``ord`` None/``"fro"``, 1, -1, inf, -inf, over a matrix or a pair
    of axes), as ``numpy.linalg.norm``. The matrix ``ord`` 2, -2 and ``"nuc"`` (singular values)
    raise ``NotImplementedError``.

    >>> import chainrule as cr
    >>> cr.linalg.norm(cr.ones((2, 2)))
    tensor(2.)
    >>> cr.linalg.norm(cr.tensor([[3.0, -4.0]]), ord=1, axis=1)
    tensor([7.])
    >>> cr.linalg.norm(cr.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)  # the largest column sum
    tensor(6.)
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
    return ops.slogdet(_tensor(a))


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
