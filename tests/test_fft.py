"""``cr.fft``: NumPy's transforms, values and dtypes, NumPy's errors, and derivatives (the op
table's samples check every transform against finite differences; here: the convention against
PyTorch, Jacobians against the DFT matrix, second order, batching)."""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest
from op_samples import COMPLEX_SAMPLES, SAMPLES

import chainrule as cr

rng = np.random.default_rng(5)
NAMES = sorted(
    name for name, value in vars(cr.fft).items()
    if inspect.isfunction(value) and not name.startswith("_")
    and value.__module__ == "chainrule.fft"
)


def _complex(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def test_the_namespace_has_numpys_transforms_and_each_has_samples():
    assert set(NAMES) == {
        "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
        "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
    }
    real = {s.name for s in SAMPLES}
    complex_ = {s.name for s in COMPLEX_SAMPLES}
    for name in NAMES:
        assert f"fft.{name}" in real, name
        if not name.startswith("rfft") and not name.endswith("freq"):
            assert f"fft.{name}" in complex_, name


_CALLS = [
    ("fft", {}), ("fft", {"n": 3}), ("fft", {"n": 8, "axis": 0, "norm": "ortho"}),
    ("ifft", {"norm": "forward"}), ("fft2", {"s": (3, 7)}), ("ifft2", {"axes": (1, 0)}),
    ("fftn", {"axes": (0,), "norm": "backward"}), ("ifftn", {"s": (2, -1), "axes": (0, 1)}),
    ("rfft", {"n": 5}), ("irfft", {}), ("irfft", {"n": 9, "norm": "ortho"}),
    ("rfft2", {"s": (4, 4)}), ("irfft2", {"s": (3, 5)}), ("rfftn", {}), ("irfftn", {"axes": (0,)}),
    ("fftshift", {}), ("ifftshift", {"axes": 0}), ("fftshift", {"axes": (1, -2)}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128", "int64"])
@pytest.mark.parametrize(("name", "kwargs"), _CALLS, ids=lambda c: str(c))
def test_values_and_dtypes_are_numpys(name, kwargs, dtype):
    a = np.arange(24).reshape(4, 6) - 7
    if dtype != "int64":
        a = (rng.standard_normal((4, 6)) * 3).astype(dtype)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal((4, 6)).astype(dtype)
    try:
        expected = getattr(np.fft, name)(a, **kwargs)
    except TypeError:  # (rfft of a complex input: NumPy refuses, and so do we)
        with pytest.raises(TypeError):
            getattr(cr.fft, name)(a, **kwargs)
        return
    got = getattr(cr.fft, name)(cr.tensor(a), **kwargs)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    tolerance = 1e-5 if got.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(got.numpy(), expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: cr.fft.fft(x, norm="unitary"), ValueError, "Invalid norm value unitary"),
        (lambda x: cr.fft.fft(x, n=0), ValueError, r"Invalid number of FFT data points \(0\)"),
        (lambda x: cr.fft.irfft(x[:, :1]), ValueError, r"Invalid number of FFT data points \(0\)"),
        (lambda x: cr.fft.fftn(x, s=(2, 2, 2), axes=(0, 1)), ValueError, "different lengths"),
        (lambda x: cr.fft.fft(x, axis=2), np.exceptions.AxisError, "out of bounds"),
        (lambda x: cr.fft.fftshift(x, axes=3), np.exceptions.AxisError, "out of bounds"),
    ],
)
def test_bad_arguments_get_numpys_errors_and_change_nothing(call, error, message):
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(error, match=message):
        call(x)
    assert x.grad is None and x.grad_fn is None


def test_s_without_axes_warns_as_numpy_and_means_the_last_axes():
    x = rng.standard_normal((3, 4, 5))
    with pytest.warns(DeprecationWarning, match="`axes` should not be `None`"):
        got = cr.fft.fftn(x, s=(2, 6))
    with pytest.warns(DeprecationWarning):
        np.testing.assert_allclose(got.numpy(), np.fft.fftn(x, s=(2, 6)), atol=1e-12)


def test_the_jacobian_of_fft_is_the_dft_matrix_in_both_modes():
    n = 5
    dft = np.exp(-2j * np.pi * np.outer(np.arange(n), np.arange(n)) / n)
    x = rng.standard_normal(n)
    for jacobian in (cr.jacfwd, cr.jacrev):
        np.testing.assert_allclose(
            jacobian(lambda v: cr.real(cr.fft.fft(v)))(x).numpy(), dft.real, atol=1e-12
        )
        np.testing.assert_allclose(
            jacobian(lambda v: cr.imag(cr.fft.fft(v)))(x).numpy(), dft.imag, atol=1e-12
        )
    # holomorphic: the complex derivative of a complex-linear map is its matrix
    np.testing.assert_allclose(
        cr.jacrev(cr.fft.fft, holomorphic=True)(x.astype(complex)).numpy(), dft, atol=1e-12
    )


def _axes(module, axes):
    return {"dim": axes} if module.__name__ == "torch.fft" else {"axes": axes}


def _losses():
    return {
        "fft ortho n": (lambda f, z: f.fft(z, n=7, norm="ortho"), True),
        "ifft2 forward": (lambda f, z: f.ifft2(z, s=(3, 4), norm="forward"), True),
        "fftn": (lambda f, z: f.fftn(z), True),
        "rfft": (lambda f, x: f.rfft(x, n=5), False),
        "rfft2 ortho": (lambda f, x: f.rfft2(x, norm="ortho"), False),
        "irfft": (lambda f, z: f.irfft(z, n=6), True),
        "irfft odd": (lambda f, z: f.irfft(z, n=7, norm="forward"), True),
        "irfftn": (lambda f, z: f.irfftn(z, s=(4, 5), **_axes(f, (0, 1))), True),
        "fftshift": (lambda f, z: f.fftshift(z, **_axes(f, 0)), True),
    }


@pytest.mark.parametrize("name", sorted(_losses()))
def test_gradients_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    transform, complex_input = _losses()[name]
    value = _complex(4, 4) if complex_input else rng.standard_normal((4, 4))
    weights = rng.standard_normal((8, 8))

    def loss(module, out, crop):
        magnitude = module.abs(out) ** 3
        return (magnitude * crop).sum()

    z = cr.tensor(value, requires_grad=True)
    out = transform(cr.fft, z)
    loss(cr, out, weights[tuple(slice(0, s) for s in out.shape)]).backward()
    t = torch.tensor(value, requires_grad=True)
    out_t = transform(torch.fft, t)
    loss(torch, out_t, torch.tensor(weights[tuple(slice(0, s) for s in out_t.shape)])).backward()
    np.testing.assert_allclose(z.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_second_derivatives_in_both_modes():
    x = rng.standard_normal(6)
    z = _complex(3, 4)

    def real_loss(v):
        return cr.sum(cr.abs(cr.fft.rfft(v * v, n=8, norm="ortho")) ** 2)

    def complex_loss(w):
        return cr.sum(cr.fft.irfft2(w * w, s=(3, 5)) ** 3)

    assert cr.gradcheck(lambda v: cr.grad(real_loss)(v), [x])
    assert cr.gradcheck(lambda w: cr.grad(complex_loss)(w), [z])
    hessians = [outer(inner(real_loss))(x).numpy() for outer in (cr.jacfwd, cr.jacrev)
                for inner in (cr.jacfwd, cr.jacrev)]
    for other in hessians[1:]:
        np.testing.assert_allclose(other, hessians[0], atol=1e-10)


def test_batched_leading_axes_transform_independently():
    x = rng.standard_normal((2, 3, 8))

    def f(v):
        return cr.fft.irfft(cr.fft.rfft(v, n=10) * np.arange(6.0), n=8)

    jac = cr.jacrev(f)(x).numpy()  # (2, 3, 8, 2, 3, 8)
    for i in range(2):
        for j in range(3):
            single = cr.jacfwd(f)(x[i, j]).numpy()
            np.testing.assert_allclose(jac[i, j, :, i, j, :], single, atol=1e-12)
            jac[i, j, :, i, j, :] = 0
    assert not jac.any()


def test_float32_gives_complex64_and_float32_gradients():
    x = cr.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    spectrum = cr.fft.rfft(x)
    assert spectrum.dtype == np.complex64
    back = cr.fft.irfft(spectrum * spectrum, n=8)
    assert back.dtype == np.float32
    back.sum().backward()
    assert x.grad.dtype == np.float32


def test_round_trips_are_identities_with_gradient_one():
    x = cr.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    for norm in (None, "ortho", "forward"):
        y = cr.fft.irfftn(cr.fft.rfftn(x, norm=norm), s=x.shape, axes=(0, 1), norm=norm)
        np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy(), atol=1e-12)
        (grad,) = cr.gradients(cr.sum(y * 1.5), [x])
        np.testing.assert_allclose(grad.numpy(), np.full(x.shape, 1.5), atol=1e-12)
    z = cr.tensor(_complex(5))
    np.testing.assert_allclose(cr.fft.ifftshift(cr.fft.fftshift(z)).numpy(), z.numpy())


def test_docstring_examples():
    import chainrule.fft
    import chainrule.ops.fft

    for module in (chainrule.fft, chainrule.ops.fft):
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, module.__name__
