"""Products and linear algebra.

Rules take cotangents and tangents with extra leading batch axes (the batching contract, see
:mod:`chainrule.ops.axes`). ``matmul`` rules promote 1-D operands to matrices and line a batched
flow's own axes up with the other operand's stack axes (:func:`_lift`), so the batch goes
through ``matmul``'s broadcasting; ``einsum`` rules put the batch under a leading ``...``.
``matmul`` and ``solve_matrix`` broadcast their stack axes, so their reverse rules may return a
cotangent with more stack axes than an input has, which the engine sums away.
"""

from __future__ import annotations

import string

import numpy as np

from .. import backends, kernels
from ..tensor import array_of
from .axes import ndim_of, negative_axes, shape_of
from .decompositions import conj_transpose, conjugated, constant, svdvals
from .elementwise import absolute, conj, imag, multiply, real, where
from .foreign_linalg import run
from .index import getitem, scatter_add
from .join import concatenate
from .primitive import primitive
from .reduce import amax, amin, sum, vector_norm
from .shape import expand_dims, moveaxis, reshape, squeeze, swapaxes, transpose


def _mT(x):  # noqa: N802
    if type(x) is np.ndarray:  # a view, which matmul hands to BLAS as transposed: no copy
        return x.swapaxes(-1, -2)
    return swapaxes(x, -1, -2)


def _lift(flow, ndim: int, target: int):
    """Insert size-1 axes between a flow's batch axes and its value's ``ndim`` own axes, so that
    the value has ``target`` axes (the stack axes of a matmul line up from the right)."""
    if target <= ndim:
        return flow
    shape = np.shape(array_of(flow))
    lead = shape[: len(shape) - ndim]
    return reshape(flow, shape=lead + (1,) * (target - ndim) + shape[len(shape) - ndim:])


def _matmul_flow(a, b, a_ndim: int, b_ndim: int):
    """``a @ b`` where ``a`` or ``b`` is a (possibly batched) flow whose value has ``a_ndim`` or
    ``b_ndim`` axes: 1-D operands are promoted, then the promoted axes are removed again."""
    a2 = expand_dims(a, -2) if a_ndim == 1 else a
    b2 = expand_dims(b, -1) if b_ndim == 1 else b
    target = max(a_ndim, b_ndim, 2)
    a2 = _lift(a2, max(a_ndim, 2), target)
    b2 = _lift(b2, max(b_ndim, 2), target)
    out = matmul(a2, b2)
    if b_ndim == 1:
        out = squeeze(out, -1)
    if a_ndim == 1:
        out = squeeze(out, -1 if b_ndim == 1 else -2)
    return out


def _matmul_vjp_x(g, x, y):
    if ndim_of(x) == ndim_of(y) == ndim_of(g) == 2:  # matrices, unbatched flow: one product
        return matmul(g, _mT(y))
    x_ndim, y_ndim = ndim_of(x), ndim_of(y)
    out_ndim = max(x_ndim, y_ndim) if min(x_ndim, y_ndim) > 1 else x_ndim + y_ndim - 2
    if ndim_of(y) == 1:  # g has x's shape without its last axis
        return expand_dims(g, -1) * y
    if ndim_of(x) == 1:
        return squeeze(_matmul_flow(expand_dims(g, -2), _mT(y), out_ndim + 1, ndim_of(y)), -2)
    return _matmul_flow(g, _mT(y), out_ndim, ndim_of(y))


def _matmul_vjp_y(g, x, y):
    if ndim_of(x) == ndim_of(y) == ndim_of(g) == 2:  # matrices, unbatched flow: one product
        return matmul(_mT(x), g)
    if ndim_of(x) == 1 and ndim_of(y) == 1:
        return expand_dims(g, -1) * x
    if ndim_of(x) == 1:
        return expand_dims(x, -1) * expand_dims(g, -2)
    out_ndim = max(ndim_of(x), ndim_of(y))
    if ndim_of(y) == 1 and ndim_of(x) == 2:  # g (..., k) @ x (k, n): batch axes act as rows
        return matmul(g, x)
    if ndim_of(y) == 1:
        return squeeze(_matmul_flow(_mT(x), expand_dims(g, -1), ndim_of(x), ndim_of(x)), -1)
    return _matmul_flow(_mT(x), g, ndim_of(x), out_ndim)


@primitive(broadcasting=True)
def matmul(x, y):
    return np.matmul(x, y)


matmul.defrules(
    vjp=(_matmul_vjp_x, _matmul_vjp_y),
    jvp=(
        lambda t, x, y: _matmul_flow(t, y, ndim_of(x), ndim_of(y)),
        lambda t, x, y: _matmul_flow(x, t, ndim_of(x), ndim_of(y)),
    ),
)


# ---------------------------------------------------------------- einsum


def _parse_subscripts(subscripts: str, ndims: tuple) -> tuple[list, str]:
    """Explicit subscripts: ``...`` spelled out with unused letters, the output made explicit."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(terms)} operands, "
                         f"got {len(ndims)}")
    used = set(subscripts) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    ellipsis_ndim = max(
        [n - len(t.replace("...", "")) for t, n in zip(terms, ndims, strict=True) if "..." in t]
        or [0]
    )
    spelled = "".join(free[:ellipsis_ndim])
    explicit = []
    for term, ndim in zip(terms, ndims, strict=False):
        if "..." in term:
            count = ndim - len(term.replace("...", ""))
            term = term.replace("...", spelled[ellipsis_ndim - count:] if count else "")
        if len(term) != ndim:
            raise ValueError(f"einsum term {term!r} does not match an operand of {ndim} axes")
        explicit.append(term)
    if arrow:
        output = output.replace("...", spelled)
    else:
        letters = "".join(explicit)
        output = spelled + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in spelled)
        )
    return explicit, output


def _einsum_params(*operands, subscripts):
    terms, output = _parse_subscripts(subscripts, tuple(ndim_of(x) for x in operands))
    return {"subscripts": ",".join(terms) + "->" + output}


@primitive(normalize=_einsum_params, broadcasting=True)
def einsum(*operands, subscripts):
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def _einsum_vjp(g, operands, index, shapes, subscripts):
    terms, output = subscripts.split("->")
    terms = terms.split(",")
    sizes = {}
    for term, shape in zip(terms, shapes, strict=True):
        sizes.update(zip(term, shape, strict=True))
    free = iter(c for c in string.ascii_letters if c not in subscripts)
    target = ""
    constants, constant_terms = [], []
    for c in terms[index]:
        if c in target:  # a repeated letter (a diagonal): the cotangent goes on the diagonal
            fresh = next(free)
            constants.append(constant(np.eye(sizes[c]), g))
            constant_terms.append(c + fresh)
            target += fresh
        else:
            target += c
    others = [op for i, op in enumerate(operands) if i != index]
    other_terms = [t for i, t in enumerate(terms) if i != index]
    present = set(output).union(*other_terms, *constant_terms)
    for c in sorted(set(target) - present):  # summed over in this operand only: spread
        constants.append(constant(np.ones(sizes[c]), g))
        constant_terms.append(c)
    spec = ",".join(["..." + output, *other_terms, *constant_terms]) + "->..." + target
    return einsum(g, *others, *constants, subscripts=spec)


def _einsum_jvp(t, operands, index, subscripts):
    terms, output = subscripts.split("->")
    terms = terms.split(",")
    others = [op for i, op in enumerate(operands) if i != index]
    other_terms = [term for i, term in enumerate(terms) if i != index]
    spec = ",".join(["..." + terms[index], *other_terms]) + "->..." + output
    return einsum(t, *others, subscripts=spec)


einsum.defrules(vjp=_einsum_vjp, jvp=_einsum_jvp)


# ---------------------------------------------------------------- products (composites)


def dot(x, y):
    """NumPy's ``dot``: products of scalars, vectors and matrices."""
    if ndim_of(x) == 0 or ndim_of(y) == 0:
        return multiply(x, y)
    if ndim_of(y) == 1 or (ndim_of(x) <= 2 and ndim_of(y) <= 2):
        return matmul(x, y)
    return tensordot(x, y, axes=([-1], [-2]))


def vdot(x, y):
    """Dot product of two flattened tensors, the first conjugated (NumPy's ``vdot``)."""
    if np.result_type(array_of(x)).kind == "c":
        x = conj(x)
    return matmul(reshape(x, shape=(-1,)), reshape(y, shape=(-1,)))


def inner(x, y):
    """Sum product over the last axes (NumPy's ``inner``)."""
    if ndim_of(x) == 0 or ndim_of(y) == 0:
        return multiply(x, y)
    return tensordot(x, y, axes=([-1], [-1]))


def outer(x, y):
    """Outer product of two flattened tensors."""
    return reshape(x, shape=(-1, 1)) * reshape(y, shape=(-1,))


def tensordot(x, y, axes=2):
    """Sum products over ``axes`` (an int: the last of ``x`` with the first of ``y``; or a
    pair of axis lists), as ``numpy.tensordot``: transpose, reshape, one matmul."""
    x_shape, y_shape = np.shape(array_of(x)), np.shape(array_of(y))
    if isinstance(axes, (int, np.integer)):
        x_axes = list(range(len(x_shape) - axes, len(x_shape)))
        y_axes = list(range(axes))
    else:
        x_axes, y_axes = ([a] if isinstance(a, (int, np.integer)) else list(a) for a in axes)
    x_axes = [a + len(x_shape) for a in negative_axes(x_axes, len(x_shape))]
    y_axes = [a + len(y_shape) for a in negative_axes(y_axes, len(y_shape))]
    if [x_shape[a] for a in x_axes] != [y_shape[a] for a in y_axes]:
        raise ValueError(f"shape mismatch for sum in tensordot: {x_shape} on axes {x_axes}, "
                         f"{y_shape} on axes {y_axes}")
    x_free = [a for a in range(len(x_shape)) if a not in x_axes]
    y_free = [a for a in range(len(y_shape)) if a not in y_axes]
    inner_size = int(np.prod([x_shape[a] for a in x_axes]))
    x_rows = int(np.prod([x_shape[a] for a in x_free]))
    y_cols = int(np.prod([y_shape[a] for a in y_free]))
    x_matrix = _as_matrix(x, x_free + x_axes, (x_rows, inner_size))
    y_matrix = _as_matrix(y, y_axes + y_free, (inner_size, y_cols))
    out_shape = tuple(x_shape[a] for a in x_free) + tuple(y_shape[a] for a in y_free)
    out = matmul(x_matrix, y_matrix)
    return out if out_shape == (x_rows, y_cols) else reshape(out, shape=out_shape)


def _as_matrix(x, order: list, shape: tuple):
    """``x`` with its axes in ``order``, as a matrix of ``shape`` (no op when it is one)."""
    if order != sorted(order):
        x = transpose(x, axes=tuple(order))
    return x if np.shape(array_of(x)) == shape else reshape(x, shape=shape)


def _diagonal_index(n_rows: int, n_cols: int, offset: int) -> tuple:
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n_rows - start_row, n_cols - start_col))
    steps = np.arange(length)
    return steps + start_row, steps + start_col


def _on_diagonal(shape: tuple, offset: int, like):
    """The mask of the ``offset`` diagonal of matrices of ``shape``, in ``like``'s library: its
    arrays may not take NumPy's index pairs (Dask's take one index array at most), so that on
    another library than NumPy a diagonal is read and written by a selection, not an index."""
    return backends.constant_like(np.eye(*shape, k=offset, dtype=bool), array_of(like))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal over ``axis1`` and ``axis2``, as a last axis (NumPy's ``diagonal``)."""
    moved = moveaxis(x, (axis1, axis2), (-2, -1))
    shape = np.shape(array_of(moved))
    rows, cols = _diagonal_index(shape[-2], shape[-1], offset)
    if not kernels.numpy_like(array_of(moved)):
        picked = sum(where(_on_diagonal(shape[-2:], offset, moved), moved, 0.0), axis=-1)
        start = rows[0] if len(rows) else 0
        return getitem(picked, index=(Ellipsis, slice(start, start + len(rows))))
    out = getitem(moved, index=(Ellipsis, rows, cols))
    array = array_of(out)
    if kernels.numpy_like(array) and not isinstance(array, np.generic):  # as NumPy's
        # diagonal: not to be written in place (a tracing array: its value)
        array.flags.writeable = False
    return out


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal (NumPy's ``trace``)."""
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    """A 1-D tensor's values on the ``k``-th diagonal of a square matrix, or the ``k``-th
    diagonal of a 2-D tensor (NumPy's ``diag``)."""
    if ndim_of(v) == 1:
        size = np.shape(array_of(v))[0] + abs(k)
        array = array_of(v)
        if not kernels.numpy_like(array):  # (row i of the matrix holds the value of row i)
            zeros = backends.zeros((abs(k),), np.result_type(array), like=array)
            rows = v if k == 0 else concatenate(v, zeros) if k > 0 else concatenate(zeros, v)
            return where(_on_diagonal((size, size), k, v), expand_dims(rows, -1), 0.0)
        index = _diagonal_index(size, size, k)
        return scatter_add(v, index=index, shape=(size, size))
    if not kernels.numpy_like(array_of(v)) and ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) == 2:
        return getitem(v, index=_diagonal_index(*np.shape(array_of(v)), k))
    raise ValueError("diag takes a 1-D or 2-D tensor")


# ---------------------------------------------------------------- numpy.linalg


@primitive
def inv(x):
    return np.linalg.inv(x) if type(x) is np.ndarray else run(np.linalg.inv, x)


inv.defrules(
    vjp=lambda g, ans: -matmul(_mT(ans), matmul(g, _mT(ans))),
    jvp=lambda t, ans: -matmul(ans, matmul(t, ans)),
)


def _scalar_to_matrix(flow):
    return expand_dims(expand_dims(flow, -1), -1)


def _inverse(x, what):
    """inv(x) for a rule that needs it, with a message naming what does not exist when x is
    singular (instead of NumPy's bare "Singular matrix" from inside the rule)."""
    try:
        return inv(x)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"{what} does not exist at a singular matrix (it needs the inverse, which does "
            f"not); perturb the matrix (e.g. add eps * I) or differentiate a function that is "
            f"smooth there"
        ) from None


def _others_product(s):
    """For each of the last axis' entries, the product of the others (no division: exact
    when some are 0)."""
    ones = backends.ones(s.shape[:-1] + (1,), s.dtype, like=s)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
    return before * after


@primitive
def adjugate(x):
    """The adjugate of a (stack of) square matrices: det(x) inv(x) where x is invertible, and
    defined at singular matrices too, where det's gradient still exists. Through the SVD
    x = u diag(s) vh: adj(x) = det(u) det(vh) vh^H diag(products of the other s) u^H."""
    if x.shape[-1] == 0:
        return np.zeros_like(x)
    if x.shape[-1] == 1:  # (the empty product: no decomposition, which a library may lack)
        return np.ones_like(x)
    if type(x) is np.ndarray:
        u, s, vh = np.linalg.svd(x)
        scale = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None]
    else:
        u, s, vh = run(np.linalg.svd, x)
        scale = (run(np.linalg.det, u) * run(np.linalg.det, vh))[..., None, None]
    out = (np.conj(np.swapaxes(vh, -1, -2)) * _others_product(s)[..., None, :]) @ np.conj(
        np.swapaxes(u, -1, -2)
    )
    return (out * scale).astype(x.dtype, copy=False)


def _adjugate_jvp(t, x, ans):
    # d adj(x) = tr(x^-1 dx) adj(x) - x^-1 dx adj(x), from adj(x) = det(x) x^-1
    inverse = _inverse(x, "the derivative of the adjugate (a second derivative of det)")
    moved = matmul(inverse, t)
    return _scalar_to_matrix(_trace_last(moved)) * ans - matmul(moved, ans)


def _adjugate_vjp(g, x, ans):
    inverse_t = _mT(_inverse(x, "the derivative of the adjugate (a second derivative of det)"))
    return _scalar_to_matrix(sum(g * ans, axis=(-2, -1))) * inverse_t - matmul(
        matmul(inverse_t, g), _mT(ans)
    )


def _trace_last(x):
    """The trace over the last two axes (batch-safe)."""
    return sum(x * constant(np.eye(shape_of(x)[-1]), x), axis=(-2, -1))


adjugate.defrules(vjp=_adjugate_vjp, jvp=_adjugate_jvp)


@primitive
def det(x):
    return np.linalg.det(x) if type(x) is np.ndarray else run(np.linalg.det, x)


# d det(x) = tr(adj(x) dx): the adjugate, not det(x) inv(x), so that singular matrices work
det.defrules(
    vjp=lambda g, x: _scalar_to_matrix(g) * _mT(adjugate(x)),
    jvp=lambda t, x: sum(_mT(adjugate(x)) * t, axis=(-2, -1)),
)


@primitive
def logabsdet(x):
    """log |det x| (the differentiable half of ``slogdet``)."""
    return (np.linalg.slogdet(x) if type(x) is np.ndarray else run(np.linalg.slogdet, x))[1]


def _logabsdet_jvp(t, x):
    # d log|det x| = Re tr(x^-1 dx)
    out = sum(_mT(_inverse(x, "the derivative of log|det x|")) * t, axis=(-2, -1))
    return real(out) if np.result_type(array_of(out)).kind == "c" else out


logabsdet.defrules(
    vjp=lambda g, x: _scalar_to_matrix(g) * _mT(_inverse(x, "the gradient of log|det x|")),
    jvp=_logabsdet_jvp,
)


@primitive
def det_sign(x):
    """The sign of det x: piecewise constant for real matrices, and for complex ones the unit
    number det / |det|, whose derivative is s * i * Im tr(x^-1 dx)."""
    return (np.linalg.slogdet(x) if type(x) is np.ndarray else run(np.linalg.slogdet, x))[0]


def _det_sign_rule(flow, x, ans, reverse):
    if np.result_type(array_of(x)).kind != "c":
        return None  # real: a constant (symbolic zero)
    inverse_t = _mT(_inverse(x, "the derivative of the sign of det x"))
    if reverse:  # the transpose of the tangent map below: i Im(g s) x^-T
        return _scalar_to_matrix(imag(flow * ans) * 1j) * inverse_t
    return ans * (imag(sum(inverse_t * flow, axis=(-2, -1))) * 1j)


det_sign.defrules(
    vjp=lambda g, x, ans: _det_sign_rule(g, x, ans, True),
    jvp=lambda t, x, ans: _det_sign_rule(t, x, ans, False),
)


def slogdet(x):
    """``(sign, log|det x|)`` as ``numpy.linalg.slogdet`` (the sign has a derivative for
    complex matrices only)."""
    return det_sign(x), logabsdet(x)


@primitive(broadcasting=True)
def solve_matrix(a, b):
    """a⁻¹ b for a stack of right-hand-side *matrices* ``b`` (..., n, k)."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return np.linalg.solve(a, b)
    return run(np.linalg.solve, a, b)


solve_matrix.defrules(
    vjp=(
        lambda g, a, ans: -matmul(solve_matrix(_mT(a), g), _mT(ans)),
        lambda g, a: solve_matrix(_mT(a), g),
    ),
    jvp=(
        lambda t, a, ans: -solve_matrix(a, matmul(_lift(t, ndim_of(a), ndim_of(ans)), ans)),
        lambda t, a, b_shape, ans: solve_matrix(a, _lift(t, len(b_shape), ndim_of(ans))),
    ),
)


def solve(a, b):
    """Solve ``a x = b``; ``b`` a vector (n,) or a stack of matrices (..., n, k), as
    ``numpy.linalg.solve`` in NumPy 2."""
    if ndim_of(b) == 1:
        return squeeze(solve_matrix(a, expand_dims(b, -1)), -1)
    return solve_matrix(a, b)


def _phi(x, n):
    """The lower triangle with the diagonal halved (Murray 2016)."""
    return x * constant(np.tril(np.ones((n, n))) - 0.5 * np.eye(n), x)


def _hermitian(x):
    return 0.5 * (x + conj_transpose(x))


@conjugated
def _cholesky_vjp(g, ans):
    n = shape_of(ans)[-1]
    inner_ = _phi(matmul(conj_transpose(ans), g), n)
    left = solve_matrix(conj_transpose(ans), inner_)  # L⁻ᴴ Φ(Lᴴ ḡ)
    return _hermitian(conj_transpose(solve_matrix(conj_transpose(ans), conj_transpose(left))))


def _cholesky_jvp(t, ans):
    n = shape_of(ans)[-1]
    left = solve_matrix(ans, _hermitian(t))  # L⁻¹ ṫ
    return matmul(ans, _phi(conj_transpose(solve_matrix(ans, conj_transpose(left))), n))


@primitive
def cholesky(x):
    """Lower Cholesky factor. Derivatives treat ``x`` as Hermitian (the Hermitian part of a
    perturbation), as PyTorch and JAX do."""
    return np.linalg.cholesky(x) if type(x) is np.ndarray else run(np.linalg.cholesky, x)


cholesky.defrules(vjp=_cholesky_vjp, jvp=_cholesky_jvp)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0 or p; over ``axis`` or a whole vector)
    and matrix norms (``ord`` None/"fro", 1, -1, inf, -inf, 2, -2, "nuc"; over a matrix or a
    pair of axes),
    as ``numpy.linalg.norm``; the matrix ``ord`` 2, -2 and "nuc" are the largest, the smallest
    and the sum of the singular values."""
    ndim = ndim_of(x)
    if axis is None and ord is not None and ndim > 2:
        raise ValueError("improper number of dimensions to norm")
    vector = isinstance(axis, (int, np.integer)) or (axis is None and ndim == 1)
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis, vector = axis[0], True
    if ord is None or (ord == "fro" and not vector) or (ord == 2 and vector):
        return vector_norm(x, axis=axis, keepdims=keepdims)
    if vector:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order {ord!r} for vectors")
        if ord == 1:
            return sum(absolute(x), axis=axis, keepdims=keepdims)
        if ord in (np.inf, -np.inf):
            pick = amax if ord > 0 else amin
            return pick(absolute(x), axis=axis, keepdims=keepdims)
        if ord == 0:
            return sum(where(x != 0, 1.0, 0.0), axis=axis, keepdims=keepdims)
        return sum(absolute(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)
    pair = tuple(axis) if axis is not None else (-2, -1)
    if len(pair) != 2:
        raise ValueError("Improper number of dimensions to norm.")
    rows, cols = negative_axes(pair, ndim)
    if rows == cols:
        raise ValueError("Duplicate axes given.")
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x| (over rows); inf: the largest row sum (over columns)
        summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
        pick = amax if ord > 0 else amin
        out = pick(sum(absolute(x), axis=summed, keepdims=True), axis=picked, keepdims=True)
        return out if keepdims else squeeze(out, axis=(rows, cols))
    if ord in (2, -2, "nuc"):
        values = svdvals(moveaxis(x, (rows, cols), (-2, -1)))
        out = {2: amax, -2: amin, "nuc": sum}[ord](values, axis=(-1,))
        if not keepdims:
            return out
        kept = list(shape_of(x))
        kept[rows], kept[cols] = 1, 1
        return reshape(out, shape=tuple(kept))
    raise ValueError("Invalid norm order for matrices.")


__all__ = [
    "matmul", "einsum", "dot", "vdot", "inner", "outer", "tensordot", "diagonal", "trace",
    "diag", "inv", "adjugate", "det", "logabsdet", "det_sign", "slogdet", "solve_matrix",
    "solve", "cholesky", "norm",
]
