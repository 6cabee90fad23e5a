"""numpy.linalg, fft and diagonals on arrays of other libraries, beyond the op table's samples
(tests/test_backends.py): what a library refuses reads as missing, a singular matrix stays a
LinAlgError, Dask's functions that differ from NumPy's are replaced, and nothing is computed."""

from __future__ import annotations

import numpy as np
import pytest
from strict_array import StrictArray

import chainrule as cr

da = pytest.importorskip("dask.array")


def _dask(a):
    return cr.tensor(da.from_array(a, chunks=-1), requires_grad=True)


def test_what_dask_refuses_is_not_implemented_naming_function_and_library():
    stack = np.eye(2) * 2.0 + np.zeros((3, 1, 1))
    with pytest.raises(NotImplementedError, match=r"dask does not implement numpy\.linalg\.inv"):
        cr.linalg.inv(_dask(stack))


def test_a_singular_matrix_is_still_a_linalg_error():
    with pytest.raises(np.linalg.LinAlgError):
        cr.linalg.inv(cr.tensor(StrictArray(np.zeros((2, 2)))))


def test_dask_cholesky_is_the_lower_factor():
    a = np.array([[4.0, 2.0], [2.0, 3.0]])
    out = cr.linalg.cholesky(_dask(a))
    assert isinstance(out.data, da.Array)
    np.testing.assert_allclose(out.data.compute(), np.linalg.cholesky(a))


def test_dask_svd_of_a_chunked_stack_is_lazy_and_numpys():
    a = np.random.default_rng(0).standard_normal((4, 5, 3))
    x = cr.tensor(da.from_array(a, chunks=(1, 2, 2)), requires_grad=True)
    u, s, vh = cr.linalg.svd(x, full_matrices=False)
    assert all(isinstance(part.data, da.Array) for part in (u, s, vh))
    for got, want in zip((u, s, vh), np.linalg.svd(a, full_matrices=False), strict=True):
        np.testing.assert_allclose(got.data.compute(), want, rtol=1e-12, atol=1e-12)
    (grad,) = cr.gradients(cr.sum(s), [x])  # (the nuclear norm's: U V^H)
    assert isinstance(grad.data, da.Array)
    want_u, _, want_vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(grad.data.compute(), want_u @ want_vh, rtol=1e-10, atol=1e-12)


def test_dask_fft_of_an_axis_in_several_chunks():
    a = np.random.default_rng(1).standard_normal((3, 8))
    x = cr.tensor(da.from_array(a, chunks=(3, 3)), requires_grad=True)
    out = cr.fft.rfft(x, n=10)
    np.testing.assert_allclose(out.data.compute(), np.fft.rfft(a, n=10))


def test_a_diagonal_on_dask_ignores_what_is_off_it():
    a = np.array([[1.0, np.inf, 2.0], [np.nan, 3.0, 4.0]])
    for offset in (0, 1, -1):
        got = cr.diagonal(_dask(a), offset).data.compute()
        np.testing.assert_array_equal(got, np.diagonal(a, offset))
    v = np.array([1.0, -2.0])
    for k in (0, 2, -1):
        np.testing.assert_array_equal(cr.diag(_dask(v), k).data.compute(), np.diag(v, k))
