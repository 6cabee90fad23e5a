"""Products and linear algebra. Rules promote 1-D operands to matrices so that cotangents and
tangents with leading batch axes go through ``matmul``'s own broadcasting."""

from __future__ import annotations

import numpy as np

from .elementwise import absolute, multiply, sqrt
from .reduce import sum
from .shape import expand_dims, squeeze, swapaxes


def _ndim(x):
    return np.ndim(getattr(x, "data", x)) if not isinstance(x, np.ndarray) else x.ndim


def _mT(x):  # noqa: N802
    return swapaxes(x, -1, -2)


def _matmul_vjp_x(g, x, y):
    if _ndim(y) == 1:  # g has x's shape without its last axis
        return expand_dims(g, -1) * y
    if _ndim(x) == 1:
        return squeeze(matmul(expand_dims(g, -2), _mT(y)), -2)
    return matmul(g, _mT(y))


def _matmul_vjp_y(g, x, y):
    if _ndim(x) == 1 and _ndim(y) == 1:
        return expand_dims(g, -1) * x
    if _ndim(x) == 1:
        return expand_dims(x, -1) * expand_dims(g, -2)
    if _ndim(y) == 1:
        return squeeze(matmul(_mT(x), expand_dims(g, -1)), -1)
    return matmul(_mT(x), g)


def _matmul_jvp_y(t, x, y):
    if _ndim(y) == 1:
        return squeeze(matmul(x, expand_dims(t, -1)), -1)
    return matmul(x, t)


from .primitive import primitive  # noqa: E402


@primitive
def matmul(x, y):
    return np.matmul(x, y)


matmul.defrules(vjp=(_matmul_vjp_x, _matmul_vjp_y), jvp=("linear", _matmul_jvp_y))


def dot(x, y):
    """NumPy's ``dot``: products of scalars, vectors and matrices."""
    if _ndim(x) == 0 or _ndim(y) == 0:
        return multiply(x, y)
    if _ndim(x) <= 2 and _ndim(y) <= 2:
        return matmul(x, y)
    from .. import ops

    return ops.tensordot(x, y, axes=([-1], [-2]))


def vdot(x, y):
    """Dot product of two flattened tensors."""
    from .shape import ravel

    return matmul(ravel(x), ravel(y))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    """Vector norms (``ord`` None/2, 1, inf, -inf or p; over ``axis`` or a whole vector) and
    the Frobenius norm (``ord`` None/"fro" over a matrix or a pair of axes)."""
    ndim = _ndim(x)
    vector = isinstance(axis, int) or (axis is None and ndim == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector):
        return sqrt(sum(x * x, axis=axis, keepdims=keepdims))
    if vector and ord == 1:
        return sum(absolute(x), axis=axis, keepdims=keepdims)
    if vector and ord in (np.inf, -np.inf):
        from .reduce import amax, amin

        pick = amax if ord > 0 else amin
        return pick(absolute(x), axis=axis, keepdims=keepdims)
    if vector and isinstance(ord, (int, float)) and ord != 0:
        return sum(absolute(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)
    raise NotImplementedError(f"norm with ord={ord!r} and axis={axis!r} is not supported yet")
