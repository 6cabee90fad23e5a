"""chainrule on array-api-strict arrays, which implement only the array API standard (no NumPy
dispatch protocols): a tensor holds them adapted (chainrule/array_api.py) and gives them back
as they were.

The op table (tests/backend_checks.py): each sample gives NumPy's values and derivatives, in
array-api-strict arrays, or raises NotImplementedError naming the library. That error is right
only where the standard lacks what the sample needs: NumPy's own reference fails on the
library's arrays (NumPy's functions mapped to the standard's), or the reference runs and equals
NumPy's and only a derivative needs what the standard lacks (a scatter-add: np.add.at, or an
integer-array assignment). A NumPy constant in a sample (a fixed order, a mask) mixed with the
library's arrays is refused with a TypeError naming both, where NumPy's reference fails too."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from backend_checks import Backend, _reference_runs, check_sample, floats
from op_samples import SAMPLES

import chainrule as cr
from chainrule.array_api import Adapted, adapt, unwrap

xp = pytest.importorskip("array_api_strict")
Array = type(xp.asarray(0))


def _numpy(value):
    # (a copy: NumPy 2.0 cannot export read-only memory, a broadcast's, through DLPack)
    return np.from_dlpack(xp.asarray(unwrap(value), copy=True))


# (The samples' arrays are made adapted, as the internals the checks call take them; the user's
# entry points, which adapt raw arrays, are tested below.)
STANDARD = Backend(
    "array_api_strict", lambda a: adapt(xp.asarray(a)),
    lambda a: isinstance(a, Adapted) and isinstance(a._a, Array), _numpy,
)


def _value(sample, make):
    args = [make(a) if isinstance(a, np.ndarray) else a for a in sample.args]
    for i in floats(sample):
        args[i] = cr.tensor(args[i])
    out = sample.fn(*args)
    return [out] if isinstance(out, cr.Tensor) else list(out)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_op_table(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's, as on NumPy)
        try:
            check_sample(sample, STANDARD)
        except TypeError as error:  # a NumPy constant of the sample mixed in
            assert "array_api_strict" in str(error) and "numpy" in str(error).lower(), error
            assert not _reference_runs(sample, STANDARD), f"{sample.id}: {error}"
        except NotImplementedError as error:
            assert "array_api_strict" in str(error), error
            if _reference_runs(sample, STANDARD):  # the standard has the op, not its derivative
                for got, want in zip(_value(sample, STANDARD.make), _value(sample, np.array),
                                     strict=True):
                    np.testing.assert_allclose(_numpy(got._array), want._array, rtol=1e-12)


def test_the_chapters_gradient():
    """y = 2 x.x on raw array-api-strict arrays: the gradient is 4x, as the library's array."""
    x = cr.tensor(xp.asarray([1.0, 2.0, 3.0]), requires_grad=True)
    y = 2 * x @ x
    y.backward()
    assert type(x.grad.data) is Array and type(y.data) is Array
    assert x.grad.dtype == np.float64 and x.grad.shape == (3,)
    np.testing.assert_array_equal(np.from_dlpack(x.grad.data), [4.0, 8.0, 12.0])
    assert y.item() == 28.0


def test_logistic_loss_gradient():
    """The mean logistic loss of a linear model, with raw arrays as constants, a float32 model,
    and the functional API; equal to the same gradient on NumPy."""
    rng = np.random.default_rng(0)
    X, w0 = rng.standard_normal((50, 4)).astype("float32"), rng.standard_normal(4)
    y = (X[:, 0] > 0).astype("float32")

    def loss(w, X, y):  # (a raw array-api-strict array refuses a tensor on its right: TypeError,
        z = cr.matmul(X, w)  # not NotImplemented, so it is given to chainrule's functions here)
        return cr.mean(cr.logaddexp(0, z) - z * y)

    def gradient(make):
        return cr.grad(loss)(cr.tensor(make(w0.astype("float32"))), make(X), make(y))

    got, want = gradient(xp.asarray), gradient(np.asarray)
    assert type(got.data) is Array and got.dtype == np.float32
    np.testing.assert_allclose(np.from_dlpack(got.data), want.numpy(), rtol=1e-5)


def test_entry_points_adapt_raw_arrays():
    """A cotangent, a jvp tangent and an assigned .data given as raw library arrays."""
    x = cr.tensor(xp.asarray([1.0, 2.0]), requires_grad=True)
    (g,) = cr.gradients(cr.sin(x), [x], [xp.asarray([1.0, 10.0])])
    np.testing.assert_allclose(_numpy(g._array), np.cos([1.0, 2.0]) * [1.0, 10.0])
    _, tangent = cr.jvp(cr.exp, (x.detach(),), (xp.asarray([1.0, 0.0]),))
    np.testing.assert_allclose(_numpy(tangent._array), [np.e, 0.0])
    x.data = xp.asarray([5.0, 6.0])
    assert type(x.data) is Array and x.detach().numpy().tolist() == [5.0, 6.0]


def test_what_the_standard_lacks_is_refused_naming_the_library():
    x = cr.tensor(xp.asarray([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    with pytest.raises(NotImplementedError, match="einsum.*array_api_strict"):
        cr.einsum("ij->", x)
    with pytest.raises(TypeError, match="array_api_strict and numpy"):
        x + np.ones(2)  # noqa: B018 (the error is the test)
    with pytest.raises(TypeError, match="does not convert array_api_strict"):
        np.asarray(adapt(xp.asarray([1.0])))


def test_numpy_promotions_the_standard_refuses():
    """Where NumPy promotes and the standard refuses, the adapter promotes as NumPy (a NumPy
    program means NumPy's result): booleans in arithmetic, Python floats with integers, sums
    of booleans, logical functions of numbers, real input to a complex FFT."""
    a, b = np.array([0.5, -1.0, 2.0]), np.array([True, False, True])
    A, B = adapt(xp.asarray(a)), adapt(xp.asarray(b))
    for got, want in [(A * B, a * b), (np.sum(B), np.sum(b)), (np.logical_and(A, B), a.astype(
            bool) & b), (adapt(xp.asarray([1, 2])) * 0.5, np.array([0.5, 1.0])),
            (np.fft.fft(A), np.fft.fft(a)), (np.clip(A, 1.0, 0.0), np.clip(a, 1.0, 0.0))]:
        assert got.dtype == want.dtype
        np.testing.assert_allclose(_numpy(got), want)
