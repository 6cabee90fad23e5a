"""``cr.linalg``'s decompositions and what is built on them (svd, svdvals, eigh, eigvalsh, eig,
eigvals, pinv, the singular-value norms, matrix_power, tensorinv, tensorsolve, complex
cholesky): NumPy's results and types, PyTorch's gradients, where derivatives do not exist, and
batching. Finite differences in both modes to second order run from the op table's samples
(tests/op_samples_spectral.py); here, what those do not show."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import chainrule as cr
import chainrule.ops.decompositions
import chainrule.ops.factorizations

L = cr.linalg
rng = np.random.default_rng(11)


def _complex(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _hermitian(a):
    return 0.5 * (a + np.conj(np.swapaxes(a, -1, -2)))


# ---------------------------------------------------------------- values and types


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (2, 1, 4, 2)])
@pytest.mark.parametrize("kind", ["float64", "float32", "complex128"])
def test_svd_is_numpys(shape, kind):
    a = rng.standard_normal(shape).astype(kind)
    if kind == "complex128":
        a = a + 1j * rng.standard_normal(shape)
    for full in (True, False):
        got = L.svd(a, full_matrices=full)
        expected = np.linalg.svd(a, full_matrices=full)
        assert type(got).__name__ == "SVDResult" and got._fields == ("U", "S", "Vh")
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine.numpy(), theirs, rtol=1e-5, atol=1e-5)
    values = L.svd(a, compute_uv=False)
    np.testing.assert_allclose(values.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-5)
    assert values.dtype == np.linalg.svdvals(a).dtype
    np.testing.assert_allclose(L.svdvals(a).numpy(), np.linalg.svdvals(a), rtol=1e-5)


@pytest.mark.parametrize("shape", [(3, 3), (2, 1, 4, 4)])
def test_hermitian_svd_and_pinv_read_the_lower_triangle_as_numpys(shape):
    a = _complex(*shape)  # (not Hermitian: NumPy reads its lower triangle)
    for compute_uv in (True, False):
        got = L.svd(a, compute_uv=compute_uv, hermitian=True)
        expected = np.linalg.svd(a, compute_uv=compute_uv, hermitian=True)
        for mine, theirs in zip(*((got, expected) if compute_uv else ((got,), (expected,)))):
            assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine.numpy(), theirs, atol=1e-12)
    np.testing.assert_allclose(L.pinv(a, hermitian=True).numpy(),
                               np.linalg.pinv(a, hermitian=True), atol=1e-12)
    upper = np.triu(np.ones(shape[-2:]), 1).astype(bool)
    for f in (lambda x: cr.sum(cr.abs(L.svd(x, hermitian=True).U) ** 3),
              lambda x: cr.sum(L.svd(x, hermitian=True).S ** 3),
              lambda x: cr.sum(cr.abs(L.pinv(x, hermitian=True)) ** 3)):
        assert cr.gradcheck(f, [a])
        assert not cr.grad(f)(a).numpy()[..., upper].any()


def test_eigh_eig_and_slogdet_results_are_numpys_named_tuples():
    a = rng.standard_normal((2, 3, 3))
    for uplo in ("L", "U", "u"):
        got, expected = L.eigh(a, UPLO=uplo), np.linalg.eigh(a, UPLO=uplo.upper())
        assert type(got).__name__ == "EighResult"
        np.testing.assert_allclose(got.eigenvalues.numpy(), expected.eigenvalues, rtol=1e-12)
        np.testing.assert_allclose(got.eigenvectors.numpy(), expected.eigenvectors, atol=1e-12)
        np.testing.assert_allclose(L.eigvalsh(a, uplo).numpy(), expected.eigenvalues, rtol=1e-12)
    with pytest.raises(ValueError, match="UPLO argument must be 'L' or 'U'"):
        L.eigh(a, UPLO="X")
    got, expected = L.eig(a), np.linalg.eig(a)
    assert type(got).__name__ == "EigResult"
    assert got.eigenvalues.dtype == expected.eigenvalues.dtype  # complex only when needed
    np.testing.assert_allclose(got.eigenvalues.numpy(), expected.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(got.eigenvectors.numpy(), expected.eigenvectors, atol=1e-12)
    np.testing.assert_allclose(L.eigvals(a).numpy(), np.linalg.eigvals(a), rtol=1e-12)
    real = L.eig(np.diag([1.0, 2.0]))  # NumPy's dtype (complex from NumPy 2.5 on)
    assert real.eigenvalues.dtype == np.linalg.eig(np.diag([1.0, 2.0])).eigenvalues.dtype
    assert type(L.slogdet(a[0])).__name__ == "SlogdetResult"


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 5), (2, 3, 2)])
@pytest.mark.parametrize("kind", ["float64", "float32", "complex128"])
def test_qr_is_numpys(shape, kind):
    a = rng.standard_normal(shape).astype(kind)
    if kind == "complex128":
        a = a + 1j * rng.standard_normal(shape)
    for mode in ("reduced", "complete", "r", "raw"):
        got, expected = L.qr(a, mode), np.linalg.qr(a, mode)
        if mode == "r":
            got, expected = (got,), (expected,)
        else:
            assert type(got).__name__ == ("QRResult" if mode != "raw" else "tuple")
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine.numpy(), theirs, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Unrecognized mode 'full'"):
        L.qr(a, "full")
    with pytest.raises(NotImplementedError, match="raw"):
        L.qr(cr.tensor(a, requires_grad=True), "raw")


def test_pinv_matrix_power_tensorinv_tensorsolve_are_numpys():
    a = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(L.pinv(a).numpy(), np.linalg.pinv(a), atol=1e-12)
    low_rank = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])
    for kwargs in ({}, {"rcond": 0.5}, {"rtol": None}, {"rtol": 1e-3}):
        np.testing.assert_allclose(L.pinv(low_rank, **kwargs).numpy(),
                                   np.linalg.pinv(low_rank, **kwargs), atol=1e-12)
    with pytest.raises(ValueError, match="can't be both set"):
        L.pinv(a, rcond=0.1, rtol=0.1)
    m = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
    for n in (0, 1, 2, 5, -1, -3):
        got = L.matrix_power(m, n)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got.numpy(), np.linalg.matrix_power(m, n), rtol=1e-10)
    with pytest.raises(TypeError, match="exponent must be an integer"):
        L.matrix_power(m, 1.5)
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        L.matrix_power(np.ones((2, 3)), 2)
    t = rng.standard_normal((6, 2, 3))
    np.testing.assert_allclose(L.tensorinv(t, ind=1).numpy(), np.linalg.tensorinv(t, ind=1))
    with pytest.raises(ValueError, match="Invalid ind"):
        L.tensorinv(t, ind=0)
    a4, b = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(L.tensorsolve(a4, b).numpy(), np.linalg.tensorsolve(a4, b))
    with pytest.raises(np.linalg.LinAlgError, match="prod"):
        L.tensorsolve(rng.standard_normal((2, 3, 4)), b)


@pytest.mark.parametrize("ord_", [2, -2, "nuc"])
def test_singular_value_norms_are_numpys(ord_):
    a = rng.standard_normal((3, 2, 4))
    np.testing.assert_allclose(L.norm(a, ord_, axis=(0, 2)).numpy(),
                               np.linalg.norm(a, ord_, axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(L.norm(a[0], ord_, keepdims=True).numpy(),
                               np.linalg.norm(a[0], ord_, keepdims=True), rtol=1e-12)
    z = _complex(3, 3)
    np.testing.assert_allclose(L.norm(z, ord_).numpy(), np.linalg.norm(z, ord_), rtol=1e-12)


# ---------------------------------------------------------------- PyTorch's gradients


def _compare_with_torch(ours, theirs, value):
    torch = pytest.importorskip("torch")
    x = cr.tensor(value, requires_grad=True)
    ours(x).backward()
    t = torch.tensor(value, requires_grad=True)
    theirs(torch, t).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)


_WEIGHTS = rng.standard_normal((5, 5))


def _w(shape):
    return _WEIGHTS[: shape[-2], : shape[-1]] if len(shape) > 1 else _WEIGHTS[0, : shape[0]]


_TORCH_CASES = {
    "svd tall": (  # (even powers: the signs of singular vectors are LAPACK's choice)
        lambda x: cr.sum(L.svd(x, full_matrices=False).U ** 4 * _w((4, 3)))
        + cr.sum(L.svd(x, full_matrices=False).S * _w((3,)))
        + cr.sum(L.svd(x, full_matrices=False).Vh ** 4 * _w((3, 3))),
        lambda torch, t: (torch.linalg.svd(t, full_matrices=False).U ** 4
                          * torch.tensor(_w((4, 3)))).sum()
        + (torch.linalg.svd(t, full_matrices=False).S * torch.tensor(_w((3,)))).sum()
        + (torch.linalg.svd(t, full_matrices=False).Vh ** 4 * torch.tensor(_w((3, 3)))).sum(),
        rng.standard_normal((4, 3)),
    ),
    "svd wide full matrices": (
        lambda x: cr.sum(L.svd(x).Vh[:2] ** 4 * _w((2, 4))) + cr.sum(L.svd(x).U ** 2 * _w((2, 2))),
        lambda torch, t: (torch.linalg.svd(t).Vh[:2] ** 4 * torch.tensor(_w((2, 4)))).sum()
        + (torch.linalg.svd(t).U ** 2 * torch.tensor(_w((2, 2)))).sum(),
        rng.standard_normal((2, 4)),
    ),
    "svd complex polar": (  # (one decomposition: U and Vh's phases cancel in U @ Vh)
        lambda x: (lambda r: cr.sum(cr.abs(r.U @ r.Vh * _w((3, 3))) ** 2))(L.svd(x)),
        lambda torch, t: (lambda r: ((r.U @ r.Vh * torch.tensor(_w((3, 3)))).abs() ** 2).sum())(
            torch.linalg.svd(t)),
        _complex(3, 3),
    ),
    "svd complex rectangular": (
        lambda x: cr.sum(cr.abs(L.svd(x, full_matrices=False).U) ** 3 * _w((4, 2)))
        + cr.sum(L.svd(x).S ** 2),
        lambda torch, t: ((torch.linalg.svd(t, full_matrices=False).U.abs() ** 3)
                          * torch.tensor(_w((4, 2)))).sum() + (torch.linalg.svd(t).S ** 2).sum(),
        _complex(4, 2),
    ),
    "norm nuc and 2": (
        lambda x: L.norm(x, "nuc") + L.norm(x, 2) * L.norm(x, -2),
        lambda torch, t: torch.linalg.matrix_norm(t, "nuc")
        + torch.linalg.matrix_norm(t, 2) * torch.linalg.matrix_norm(t, -2),
        _complex(3, 4),
    ),
    "eigh": (
        lambda x: cr.sum(L.eigh(x + cr.swapaxes(x, -1, -2)).eigenvectors ** 3 * _w((3, 3)))
        + cr.sum(L.eigh(x + cr.swapaxes(x, -1, -2)).eigenvalues ** 2),
        lambda torch, t: (torch.linalg.eigh(t + t.mT).eigenvectors ** 3
                          * torch.tensor(_w((3, 3)))).sum()
        + (torch.linalg.eigh(t + t.mT).eigenvalues ** 2).sum(),
        rng.standard_normal((2, 3, 3)),
    ),
    "eigh complex": (
        lambda x: cr.sum(cr.abs(L.eigh(x + cr.conj(cr.swapaxes(x, -1, -2))).eigenvectors) ** 3)
        + cr.sum(L.eigvalsh(x + cr.conj(cr.swapaxes(x, -1, -2))) ** 3),
        lambda torch, t: (torch.linalg.eigh(t + t.mH).eigenvectors.abs() ** 3).sum()
        + (torch.linalg.eigvalsh(t + t.mH) ** 3).sum(),
        _complex(3, 3),
    ),
    "eig complex eigenvalues of a real matrix": (
        lambda x: cr.sum(cr.abs(L.eig(x).eigenvectors) ** 3 * _w((3, 3)))
        + cr.sum(cr.real(L.eig(x).eigenvalues) * cr.imag(L.eigvals(x))),
        lambda torch, t: (torch.linalg.eig(t).eigenvectors.abs() ** 3
                          * torch.tensor(_w((3, 3)))).sum()
        + (torch.linalg.eig(t).eigenvalues.real * torch.linalg.eigvals(t).imag).sum(),
        np.array([[0.3, -1.2, 0.1], [1.1, 0.2, 0.4], [0.0, 0.3, 2.0]]),
    ),
    "eig complex": (
        lambda x: cr.sum(cr.abs(L.eig(x).eigenvectors[..., :2, :]) ** 2)
        + cr.sum(cr.abs(L.eigvals(x)) ** 3),
        lambda torch, t: (torch.linalg.eig(t).eigenvectors[..., :2, :].abs() ** 2).sum()
        + (torch.linalg.eigvals(t).abs() ** 3).sum(),
        _complex(2, 3, 3),
    ),
    "pinv": (
        lambda x: cr.sum(L.pinv(x) ** 3 * _w((3, 4))),
        lambda torch, t: (torch.linalg.pinv(t) ** 3 * torch.tensor(_w((3, 4)))).sum(),
        rng.standard_normal((4, 3)),
    ),
    "pinv complex": (
        lambda x: cr.sum(cr.abs(L.pinv(x)) ** 3),
        lambda torch, t: (torch.linalg.pinv(t).abs() ** 3).sum(),
        _complex(2, 3),
    ),
    "cholesky complex": (
        lambda x: cr.sum(cr.abs(L.cholesky(x @ cr.conj(cr.swapaxes(x, -1, -2)) + np.eye(3)))
                         ** 3 * _w((3, 3))),
        lambda torch, t: ((torch.linalg.cholesky(t @ t.mH + torch.eye(3)).abs() ** 3)
                          * torch.tensor(_w((3, 3)))).sum(),
        _complex(3, 3),
    ),
    "qr tall": (
        lambda x: (lambda r: cr.sum(r.Q ** 4 * _w((4, 3))) + cr.sum(r.R ** 4 * _w((3, 3))))(
            L.qr(x)),
        lambda torch, t: (lambda r: (r.Q ** 4 * torch.tensor(_w((4, 3)))).sum()
                          + (r.R ** 4 * torch.tensor(_w((3, 3)))).sum())(torch.linalg.qr(t)),
        rng.standard_normal((4, 3)),
    ),
    "qr wide complex": (
        lambda x: (lambda r: cr.sum(cr.abs(r.Q) ** 3) + cr.sum(cr.abs(r.R) ** 3))(L.qr(x)),
        lambda torch, t: (lambda r: (r.Q.abs() ** 3).sum() + (r.R.abs() ** 3).sum())(
            torch.linalg.qr(t)),
        _complex(2, 4),
    ),
    "matrix_power": (
        lambda x: cr.sum(L.matrix_power(x, -3) * _w((3, 3))),
        lambda torch, t: (torch.linalg.matrix_power(t, -3) * torch.tensor(_w((3, 3)))).sum(),
        rng.standard_normal((3, 3)) + 3 * np.eye(3),
    ),
}


@pytest.mark.parametrize("name", sorted(_TORCH_CASES))
def test_gradients_are_pytorchs(name):
    ours, theirs, value = _TORCH_CASES[name]
    _compare_with_torch(ours, theirs, value)


@pytest.mark.parametrize("name", sorted(_TORCH_CASES))
def test_second_derivatives_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    ours, theirs, value = _TORCH_CASES[name]
    direction = rng.standard_normal(value.shape)
    if value.dtype.kind == "c":
        direction = direction + 1j * rng.standard_normal(value.shape)
    _, tangent = cr.jvp(cr.grad(ours), (value,), (direction,))  # forward over reverse
    t = torch.tensor(value, requires_grad=True)
    (grad,) = torch.autograd.grad(theirs(torch, t), t, create_graph=True)
    (hvp,) = torch.autograd.grad(grad, t, torch.tensor(direction).conj()
                                 if value.dtype.kind == "c" else torch.tensor(direction))
    expected = hvp.numpy()
    if value.dtype.kind != "c":
        np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-7, atol=1e-9)
    else:  # a real loss of complex z: compare the real Hessian along the direction
        h = _real_hessian_product(ours, value, direction)
        np.testing.assert_allclose(tangent.numpy(), h, rtol=1e-6, atol=1e-8)


def _real_hessian_product(f, value, direction, eps=1e-6):
    plus = cr.grad(f)(value + eps * direction).numpy()
    minus = cr.grad(f)(value - eps * direction).numpy()
    return (plus - minus) / (2 * eps)


# ---------------------------------------------------------------- where derivatives are undefined


_PHASE_DEPENDENT = {
    "svd U": (lambda x: cr.sum(cr.real(L.svd(x).U)),
              lambda torch, t: torch.linalg.svd(t).U.real.sum(), "svd_backward"),
    "svd Vh": (lambda x: cr.sum(cr.imag(L.svd(x).Vh)),
               lambda torch, t: torch.linalg.svd(t).Vh.imag.sum(), "svd_backward"),
    "eigh": (lambda x: cr.sum(cr.real(L.eigh(x).eigenvectors)),
             lambda torch, t: torch.linalg.eigh(t).eigenvectors.real.sum(),
             "linalg_eigh_backward"),
    "eig": (lambda x: cr.sum(cr.real(L.eig(x).eigenvectors)),
            lambda torch, t: torch.linalg.eig(t).eigenvectors.real.sum(), "linalg_eig_backward"),
}


@pytest.mark.parametrize("name", sorted(_PHASE_DEPENDENT))
def test_a_loss_depending_on_a_complex_phase_is_refused_as_in_pytorch(name):
    ours, theirs, what = _PHASE_DEPENDENT[name]
    value = _complex(3, 3)
    x = cr.tensor(value, requires_grad=True)
    with pytest.raises(RuntimeError, match=what + r": The .* e\^\{i phi\}"):
        ours(x).backward()
    assert x.grad is None
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=what + r": The .* e\^\{i phi\}"):
        theirs(torch, torch.tensor(value, requires_grad=True)).backward()


def test_values_alone_have_gradients_at_repeated_values():
    """The singular values and eigenvalues of the identity are repeated, where the vectors have
    no derivative but the values (and their sums) do."""
    eye = np.eye(3)
    for f, expected in (
        (lambda x: cr.sum(L.eigvalsh(x)), eye),
        (lambda x: cr.sum(L.svd(x, compute_uv=False)), eye),
        (lambda x: L.norm(x, "nuc"), eye),
        (lambda x: cr.sum(L.svd(x).S), eye),
        (lambda x: cr.sum(L.eigh(x).eigenvalues), eye),
    ):
        grad = cr.grad(f)(eye).numpy()
        assert np.isfinite(grad).all()
        np.testing.assert_allclose(grad, expected, atol=1e-12)


def test_the_untouched_triangle_has_no_gradient():
    a = rng.standard_normal((3, 3))
    lower = cr.grad(lambda x: cr.sum(L.eigvalsh(x) ** 3))(a).numpy()
    upper = cr.grad(lambda x: cr.sum(L.eigh(x, UPLO="U").eigenvectors ** 3))(a).numpy()
    assert not np.triu(lower, 1).any() and not np.tril(upper, -1).any()


def test_full_matrices_extra_columns_are_constants_as_in_pytorch():
    a = rng.standard_normal((4, 2))
    x = cr.tensor(a, requires_grad=True)
    u = L.svd(x).U
    assert u.shape == (4, 4)
    (grad,) = cr.gradients(cr.sum(u[:, 2:]), [x], allow_unused=True)
    assert grad is None or not np.asarray(grad.numpy()).any()


# ---------------------------------------------------------------- batching


@pytest.mark.parametrize(
    "f",
    [
        lambda x: L.svd(x, full_matrices=False).U,
        lambda x: L.svdvals(x),
        lambda x: L.eigh(x).eigenvectors,
        lambda x: L.eigvalsh(x, "U"),
        # (a symmetric matrix: real eigenvalues, whatever values the shared generator gives)
        lambda x: cr.real(L.eig(x[..., :2, :2] @ cr.swapaxes(x[..., :2, :2], -1, -2)
                                + 3 * np.diag([1.0, 2.0])).eigenvectors),
        lambda x: L.pinv(x),
        lambda x: L.norm(x, 2, axis=(-2, -1)),
        lambda x: L.qr(x).Q,
    ],
)
def test_jacobians_of_stacks_are_blocks_of_single_jacobians(f):
    x = np.random.default_rng(12).standard_normal((2, 3, 3))  # (not the order tests run in)
    for jacobian in (cr.jacfwd, cr.jacrev):
        whole = np.asarray(jacobian(f)(x))
        for i in range(2):
            single = np.asarray(jacobian(f)(x[i]))
            np.testing.assert_allclose(whole[i][..., i, :, :], single, rtol=1e-9, atol=1e-10)
            rest = np.delete(whole[i], i, axis=-3)
            assert not rest.any()


def test_docstring_examples():
    for module in (chainrule.ops.decompositions, chainrule.ops.factorizations):
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, module.__name__


def test_jacobians_of_phase_free_functions_of_complex_vectors_are_rows_of_gradients():
    """Each row of a batched cotangent is phase-free on its own, so the check passes row by
    row and ``jacrev`` agrees with one gradient per output."""
    z = _complex(3, 3)
    for f in (lambda x: cr.abs(L.svd(x).U) ** 2, lambda x: cr.abs(L.eig(x).eigenvectors) ** 2,
              lambda x: cr.abs(L.eigh(x).eigenvectors) ** 2):
        jacobian = cr.jacrev(f)(z).numpy().reshape(9, 3, 3)
        rows = [cr.grad(lambda x, i=i, f=f: cr.ravel(f(x))[i])(z).numpy() for i in range(9)]
        np.testing.assert_allclose(jacobian, np.stack(rows), atol=1e-12)
