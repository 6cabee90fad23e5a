"""SciPy's convolution and matrix equations as primitives: only ``chainrule.scipy`` imports
this module (``import chainrule`` never imports SciPy; the forwards import it when they run).

Each primitive keeps the batching contract (see :mod:`chainrule.ops.axes`): its static
parameters name trailing axes, its stacks broadcast, and its rules, written with chainrule's
ops (so they differentiate again), take cotangents and tangents with leading batch axes. They
are applied and recorded as every op is, but stay out of the op table's catalogue, whose
sample tests run without SciPy; ``tests/test_scipy_*.py`` check them the same way (finite
differences, both modes, second order, batched).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..backends import is_foreign, library_of, traced_whole
from ..kernels import numpy_like
from ..tensor import array_of
from .arrange import tril, triu
from .axes import ndim_of, shape_of
from .elementwise import real
from .index import getitem_trailing
from .linalg import _lift, matmul
from .primitive import primitive
from .reduce import sum
from .shape import flip, moveaxis, swapaxes, transpose_trailing


def _mT(x):  # noqa: N802
    return swapaxes(x, -1, -2)


def refuse_foreign(name: str, *arrays) -> None:
    """Refuse an array of another library among ``arrays`` for ``name``, which runs SciPy's
    code for NumPy arrays only, naming both: SciPy would convert it (a Dask array computed
    whole, a CuPy one refusing), and chainrule keeps arrays in their library."""
    for a in arrays:
        if not numpy_like(a) and is_foreign(a):
            library = library_of(a).name
            raise NotImplementedError(
                f"{name} runs SciPy's NumPy code, which {library} arrays do not run: "
                f"chainrule does not convert them; make the input a NumPy array first "
                f"(a Dask array's compute(), a CuPy array's get()) to run it in NumPy"
            )


def numpy_only(name: str, *arrays) -> list:
    """``arrays`` as NumPy arrays for ``name`` (:func:`refuse_foreign` says which are not)."""
    refuse_foreign(name, *arrays)
    return [np.asarray(a) for a in arrays]


def _stacked(solve, core_ndims: tuple, *arrays):
    """``solve`` (a SciPy function of single matrices) over the broadcast stack axes of
    ``arrays``, each of which has ``core_ndims`` own trailing axes."""
    arrays = [np.asarray(a) for a in arrays]
    stacks = [a.shape[: a.ndim - k] for a, k in zip(arrays, core_ndims, strict=True)]
    stack = np.broadcast_shapes(*stacks)
    if not stack:
        return solve(*arrays)
    wide = [np.broadcast_to(a, stack + a.shape[a.ndim - k:])
            for a, k in zip(arrays, core_ndims, strict=True)]
    results = [solve(*(a[index] for a in wide)) for index in np.ndindex(*stack)]
    return np.stack(results).reshape(stack + results[0].shape)


def _as_columns(solve, b):
    """``solve`` of a right-hand side (n, k) applied to ``b`` (..., n, k) in one call: the
    stack axes become further columns."""
    b = np.asarray(b)
    if b.ndim == 2:
        return solve(b)
    moved = np.moveaxis(b, -2, 0)
    out = solve(moved.reshape(b.shape[-2], -1))
    return np.moveaxis(out.reshape(moved.shape), 0, -2)


# ---------------------------------------------------------------- convolution


@primitive(catalogued=False)
@traced_whole
def convolve_axes(x, y, *, x_conv, y_conv, x_dot, y_dot, mode):
    """Convolution of ``x`` and ``y`` along the pairs of axes ``x_conv``/``y_conv`` (negative),
    summed over the pairs ``x_dot``/``y_dot``, in ``mode`` "full" or "valid". The result's axes:
    ``x``'s others, then ``y``'s others, then one per convolved pair."""
    x, y = numpy_only("scipy.signal convolution", x, y)
    x_sizes = [x.shape[a] for a in x_conv]
    y_sizes = [y.shape[a] for a in y_conv]
    if mode == "full":  # the smaller operand slides over the other, padded: fewer products
        x_is_small = bool(np.prod(x_sizes) <= np.prod(y_sizes))
    else:
        x_is_small = all(a <= b for a, b in zip(x_sizes, y_sizes, strict=True))
        if not x_is_small and not all(a >= b for a, b in zip(x_sizes, y_sizes, strict=True)):
            raise ValueError("For 'valid' mode, one must be at least as large as the other "
                             "in every convolved dimension")
    big, small, big_conv, small_conv = (y, x, y_conv, x_conv) if x_is_small else (
        x, y, x_conv, y_conv)
    if mode == "full":
        widths = [(0, 0)] * big.ndim
        for axis, small_axis in zip(big_conv, small_conv, strict=True):
            widths[axis] = (small.shape[small_axis] - 1,) * 2
        big = np.pad(big, widths)
    return _correlate(big, np.flip(small, small_conv), big_conv, small_conv, x_is_small,
                      (x_dot, y_dot))


def _correlate(big, small, big_conv, small_conv, x_is_small, dots):
    """out[..., o] = sum_w small[w] big[o + w] over each convolved pair, by one einsum on a
    strided view of ``big``; the output's axes in ``convolve_axes``'s order."""
    view_shape, view_strides = list(big.shape), list(big.strides)
    for big_axis, small_axis in zip(big_conv, small_conv, strict=True):
        view_shape.append(big.shape[big_axis] - small.shape[small_axis] + 1)
        view_strides.append(big.strides[big_axis])
        view_shape[big_axis + big.ndim] = small.shape[small_axis]
    view = as_strided(big, view_shape, view_strides, writeable=False)
    count = len(big_conv)
    labels = iter(range(52))
    big_labels = [next(labels) for _ in range(big.ndim)] + [next(labels) for _ in range(count)]
    small_labels = [next(labels) for _ in range(small.ndim)]
    for big_axis, small_axis in zip(big_conv, small_conv, strict=True):
        small_labels[small_axis] = big_labels[big_axis + big.ndim]
    x_dot, y_dot = dots
    big_dot, small_dot = (y_dot, x_dot) if x_is_small else (x_dot, y_dot)
    for big_axis, small_axis in zip(big_dot, small_dot, strict=True):
        small_labels[small_axis] = big_labels[big_axis + big.ndim]
    paired = set(big_conv) | set(big_dot)
    big_free = [big_labels[a] for a in range(big.ndim) if a - big.ndim not in paired]
    paired = set(small_conv) | set(small_dot)
    small_free = [small_labels[a] for a in range(small.ndim) if a - small.ndim not in paired]
    x_free, y_free = (small_free, big_free) if x_is_small else (big_free, small_free)
    out = x_free + y_free + big_labels[big.ndim:]
    return np.einsum(small, small_labels, view, big_labels, out, optimize=True)


def _free_axes(ndim: int, *paired: tuple) -> list:
    """The negative axes of a value of ``ndim`` axes that are in none of ``paired``."""
    taken = {a for axes in paired for a in axes}
    return [a for a in range(-ndim, 0) if a not in taken]


def _convolve_vjp(g, other, own_shape, other_shape, own_conv, other_conv, own_dot, other_dot,
                  mode, own_first):
    """The cotangent of one operand: ``g`` convolved with the other operand flipped, summed
    over the other operand's free axes, its axes put back in the operand's order."""
    count = len(own_conv)
    other_free = _free_axes(len(other_shape), other_conv, other_dot)
    own_free = _free_axes(len(own_shape), own_conv, own_dot)
    # g's axes: [batch, x free, y free, conv]; the result's: [batch, own free, own dot, conv]
    if own_first:
        g_other = tuple(range(-count - len(other_free), -count))
    else:
        start = -count - len(other_free) - len(own_free)
        g_other = tuple(range(start, start + len(other_free)))
    own_sizes = [own_shape[a] for a in own_conv]
    other_sizes = [other_shape[a] for a in other_conv]
    larger = all(a >= b for a, b in zip(own_sizes, other_sizes, strict=True))
    inner_mode = "valid" if mode == "full" or not larger else "full"
    result = convolve_axes(
        g, flip(other, axis=other_conv), x_conv=tuple(range(-count, 0)), y_conv=other_conv,
        x_dot=g_other, y_dot=tuple(other_free), mode=inner_mode,
    )
    # result's trailing axes: own free, then own dot (in the other's dot order), then own conv
    order = [a for a in range(-len(own_shape), 0) if a in own_free]
    by_other = sorted(range(len(own_dot)), key=lambda m: other_dot[m])
    order += [own_dot[m] for m in by_other] + list(own_conv)
    permutation = tuple(int(p) - len(order) for p in np.argsort(order))
    if permutation == tuple(range(-len(order), 0)):
        return result
    return transpose_trailing(result, axes=permutation)


def _convolve_tangent_y(t, x, y_shape, x_conv, y_conv, x_dot, y_dot, mode):
    out = convolve_axes(x, t, x_conv=x_conv, y_conv=y_conv, x_dot=x_dot, y_dot=y_dot, mode=mode)
    batch = ndim_of(t) - len(y_shape)
    if not batch:
        return out
    x_free = ndim_of(x) - len(x_conv) - len(x_dot)  # t's batch axes follow x's free ones
    return moveaxis(out, tuple(range(x_free, x_free + batch)), tuple(range(batch)))


convolve_axes.defrules(
    vjp=(
        lambda g, y, x_shape, y_shape, x_conv, y_conv, x_dot, y_dot, mode: _convolve_vjp(
            g, y, x_shape, y_shape, x_conv, y_conv, x_dot, y_dot, mode, True),
        lambda g, x, x_shape, y_shape, x_conv, y_conv, x_dot, y_dot, mode: _convolve_vjp(
            g, x, y_shape, x_shape, y_conv, x_conv, y_dot, x_dot, mode, False),
    ),
    jvp=("linear", _convolve_tangent_y),
)


# ---------------------------------------------------------------- Sylvester equations


def _scipy_linalg():
    import scipy.linalg

    return scipy.linalg


@primitive(broadcasting=True, catalogued=False)
@traced_whole
def solve_sylvester(a, b, q):
    """X with a X + X b = q, for stacks of square ``a`` (..., n, n), ``b`` (..., m, m) and
    ``q`` (..., n, m) (``scipy.linalg.solve_sylvester``, Bartels-Stewart)."""
    arrays = numpy_only("scipy.linalg.solve_sylvester", a, b, q)
    return _stacked(_scipy_linalg().solve_sylvester, (2, 2, 2), *arrays)


def _stack_like(flow, value, ans):
    """A (batched) flow of ``value`` with axes of 1 after its batch axes, so that it stacks
    as ``ans`` does (its batch axes then go in front of ``ans``'s stack axes)."""
    return _lift(flow, ndim_of(value), ndim_of(ans))


def _sylvester_adjoint(g, a, b):
    """The transpose of q -> X: the solution of the transposed equation."""
    return solve_sylvester(_mT(a), _mT(b), g)


# d(a X + X b) = dq: a dX + dX b = dq - da X - X db
solve_sylvester.defrules(
    vjp=(
        lambda g, a, b, ans: -matmul(_sylvester_adjoint(g, a, b), _mT(ans)),
        lambda g, a, b, ans: -matmul(_mT(ans), _sylvester_adjoint(g, a, b)),
        lambda g, a, b: _sylvester_adjoint(g, a, b),
    ),
    jvp=(
        lambda t, a, b, ans: solve_sylvester(a, b, -matmul(_stack_like(t, a, ans), ans)),
        lambda t, a, b, ans: solve_sylvester(a, b, -matmul(ans, _stack_like(t, b, ans))),
        "linear",
    ),
)


@primitive(catalogued=False)
@traced_whole
def sqrtm(x):
    """The principal square root of (a stack of) square matrices (``scipy.linalg.sqrtm``):
    complex where ``x`` has negative real eigenvalues."""
    return _stacked(_scipy_linalg().sqrtm, (2,), *numpy_only("scipy.linalg.sqrtm", x))


def _real_like(flow, x):
    """A real input's part of a complex cotangent (a real matrix with a complex root)."""
    if np.iscomplexobj(array_of(flow)) and not np.iscomplexobj(array_of(x)):
        return real(flow)
    return flow


# X X = x: X dX + dX X = dx
sqrtm.defrules(
    vjp=lambda g, x, ans: _real_like(solve_sylvester(_mT(ans), _mT(ans), g), x),
    jvp=lambda t, ans: solve_sylvester(ans, ans, t),
)


# ---------------------------------------------------------------- triangular systems


def _triangle(m, lower, unit_diagonal):
    """The part of ``m`` a triangular solve reads: its triangle, without the diagonal when
    that is taken as ones."""
    if lower:
        return tril(m, -1 if unit_diagonal else 0)
    return triu(m, 1 if unit_diagonal else 0)


@primitive(broadcasting=True, catalogued=False)
@traced_whole
def solve_triangular_matrix(a, b, *, lower, trans, unit_diagonal):
    """x with op(a) x = b, op(a) = a (``trans`` 0) or aᵀ (1), reading only ``a``'s triangle
    (``lower``) and taking its diagonal as ones when ``unit_diagonal``; ``b`` a stack of
    matrices (..., n, k)."""
    solve = _scipy_linalg().solve_triangular
    a, b = numpy_only("scipy.linalg.solve_triangular", a, b)

    def one(a, b):
        return solve(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)

    if np.ndim(a) == 2:
        return _as_columns(lambda columns: one(a, columns), b)
    return _stacked(one, (2, 2), a, b)


def _triangular_vjp_b(g, a, lower, trans, unit_diagonal):
    return solve_triangular_matrix(a, g, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)


def _triangular_vjp_a(g, a, ans, lower, trans, unit_diagonal):
    outer = matmul(_triangular_vjp_b(g, a, lower, trans, unit_diagonal), _mT(ans))
    return -_triangle(_mT(outer) if trans else outer, lower, unit_diagonal)


def _triangular_jvp_a(t, a, ans, lower, trans, unit_diagonal):
    part = _triangle(t, lower, unit_diagonal)
    part = _stack_like(_mT(part) if trans else part, a, ans)
    return solve_triangular_matrix(a, -matmul(part, ans), lower=lower,
                                   trans=trans, unit_diagonal=unit_diagonal)


solve_triangular_matrix.defrules(
    vjp=(_triangular_vjp_a, _triangular_vjp_b),
    jvp=(_triangular_jvp_a, "linear"),
)


# ---------------------------------------------------------------- banded systems
# LAPACK's band storage: ab[upper + i - j, j] = a[i, j] for the diagonals in the band.


def _band_index(lower, upper, n, shift):
    """Index arrays (rows, columns) of shape (lower + upper + 1, n) and the mask of the valid
    ones: column ``r + shift + j`` for row r (clipped where it leaves 0..n-1)."""
    rows = np.arange(lower + upper + 1)[:, None]
    columns = rows + shift + np.arange(n)
    valid = (columns >= 0) & (columns < n)
    return np.broadcast_to(rows, columns.shape), np.clip(columns, 0, n - 1), valid


def _band_transpose(ab, lower, upper):
    """The band storage of aᵀ (``upper`` diagonals below, ``lower`` above):
    abᵀ[r, j] = ab[lower + upper - r, r - lower + j]."""
    n = shape_of(ab)[-1]
    rows, columns, valid = _band_index(lower, upper, n, -lower)
    picked = getitem_trailing(ab, index=(lower + upper - rows, columns), ndim=2)
    return picked * valid.astype(np.result_type(array_of(ab)))


def _band_matmul(dab, x, lower, upper):
    """(the banded matrix stored in ``dab``) @ x, for x (..., n, k): row i is the sum over the
    band rows r of dab[r, j] x[j] with j = i - r + upper."""
    n = shape_of(dab)[-1]
    products = swapaxes(dab, -1, -2)[..., None] * x[..., None, :]  # [..., j, r, k]
    rows = np.arange(lower + upper + 1)[:, None]
    columns = np.arange(n)[None, :] - rows + upper
    valid = (columns >= 0) & (columns < n)
    index = (np.clip(columns, 0, n - 1), np.broadcast_to(rows, columns.shape))
    picked = getitem_trailing(products, index=index, ndim=3)  # [..., r, i, k]
    dtype = np.result_type(array_of(picked))
    return sum(picked * valid[..., None].astype(dtype), axis=(-3,))


def _band_outer(v, x, lower, upper):
    """The band storage of v @ xᵀ (v, x: (..., n, k)): entry [r, j] is
    sum over k of v[r - upper + j, k] x[j, k] where that row exists."""
    n = shape_of(x)[-2]
    rows, i, valid = _band_index(lower, upper, n, -upper)
    picked = getitem_trailing(v, index=(i,), ndim=2)  # (..., rows, n, k)
    dtype = np.result_type(array_of(picked))
    return sum(picked * x, axis=(-1,)) * valid.astype(dtype)


@primitive(catalogued=False)
@traced_whole
def solve_banded_matrix(ab, b, *, lower, upper):
    """x with a x = b for the banded ``a`` stored in ``ab`` (lower + upper + 1, n), as
    ``scipy.linalg.solve_banded``; ``b`` a stack of matrices (..., n, k)."""
    solve = _scipy_linalg().solve_banded
    ab, b = numpy_only("scipy.linalg.solve_banded", ab, b)
    return _as_columns(lambda columns: solve((lower, upper), ab, columns), b)


def _banded_vjp_b(g, ab, lower, upper):
    return solve_banded_matrix(_band_transpose(ab, lower, upper), g, lower=upper, upper=lower)


solve_banded_matrix.defrules(
    vjp=(
        lambda g, ab, ans, lower, upper: -_band_outer(
            _banded_vjp_b(g, ab, lower, upper), ans, lower, upper),
        _banded_vjp_b,
    ),
    jvp=(
        lambda t, ab, ans, lower, upper: solve_banded_matrix(
            ab, -_band_matmul(t, ans, lower, upper), lower=lower, upper=upper),
        "linear",
    ),
)
