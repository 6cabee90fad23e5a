"""Complex numbers follow one convention, PyTorch's: for a real loss L of complex z, the
gradient is dL/dRe z + i dL/dIm z (so ``z -= lr * z.grad`` descends), however the loss is
spelled. Every primitive that takes complex values has complex samples (tests/op_samples.py),
checked here against finite differences in both modes and to second order."""

import zlib

import numpy as np
import pytest
from op_samples import COMPLEX_SAMPLES, REAL_ONLY, Sample

import chainrule as cr
from chainrule.forward import end_level, new_level, tangent_of, with_tangent
from chainrule.gradcheck import GradcheckError, numeric_gradient
from chainrule.ops.primitive import REGISTRY

EPS = 1e-6
TOL = {"atol": 1e-6, "rtol": 1e-5}


def _differentiated(sample: Sample) -> list[int]:
    return [i for i, a in enumerate(sample.args)
            if isinstance(a, np.ndarray) and a.dtype in (np.float64, np.complex128)]


def _call(sample: Sample, values: list) -> cr.Tensor:
    args = list(sample.args)
    for i, value in zip(_differentiated(sample), values, strict=True):
        args[i] = value
    return sample.fn(*args)


def _inputs(sample: Sample) -> list[np.ndarray]:
    return [np.array(sample.args[i]) for i in _differentiated(sample)]


def _value(sample: Sample, arrays: list) -> np.ndarray:
    with cr.no_grad():
        return np.asarray(_call(sample, [cr.tensor(a) for a in arrays]).data)


def _rng(sample: Sample) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(sample.id.encode()))


def _like(rng, array: np.ndarray) -> np.ndarray:
    """A random array of ``array``'s shape and kind (complex for complex)."""
    out = rng.standard_normal(np.shape(array))
    if np.asarray(array).dtype.kind == "c":
        out = out + 1j * rng.standard_normal(np.shape(array))
    return out


def _inner(a, b) -> float:
    """Re <a, b>: the real pairing under which PyTorch's convention is the gradient."""
    return float(np.sum(np.real(np.conj(a) * b)))


def _vjp(sample: Sample, arrays: list, cotangent: np.ndarray) -> list[np.ndarray]:
    leaves = [cr.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = _call(sample, leaves)
    grads = cr.gradients(out, leaves, cr.tensor(cotangent.astype(out.dtype)), allow_unused=True)
    return [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(grads, arrays)]


# ---------------------------------------------------------------- the table is complete


def test_every_primitive_that_takes_complex_values_has_complex_samples():
    covered = {sample.name for sample in COMPLEX_SAMPLES}
    missing = sorted(
        name for name, prim in REGISTRY.items()
        if prim.differentiable and name not in REAL_ONLY and name not in covered
    )
    assert not missing, f"complex-capable primitives without complex samples: {missing}"


@pytest.mark.parametrize("sample", COMPLEX_SAMPLES, ids=lambda s: s.id)
def test_complex_value_matches_numpy(sample):
    np.testing.assert_allclose(_value(sample, _inputs(sample)), sample.reference(*sample.args),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sample", COMPLEX_SAMPLES, ids=lambda s: s.id)
def test_complex_reverse_matches_finite_differences(sample):
    arrays = _inputs(sample)
    cotangent = _like(_rng(sample), _value(sample, arrays))
    computed = _vjp(sample, arrays, cotangent)
    numeric = numeric_gradient(lambda xs: _inner(cotangent, _value(sample, xs)), arrays, EPS)
    for got, want in zip(computed, numeric, strict=True):
        np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("sample", COMPLEX_SAMPLES, ids=lambda s: s.id)
def test_complex_forward_matches_finite_differences_and_reverse(sample):
    arrays = _inputs(sample)
    rng = _rng(sample)
    directions = [_like(rng, a) for a in arrays]
    level = new_level()
    try:
        values = [with_tangent(cr.tensor(a), d, level) for a, d in zip(arrays, directions)]
        out = _call(sample, values)
        tangent = tangent_of(out, level)
    finally:
        end_level(level)
    tangent = np.broadcast_to(np.asarray(getattr(tangent, "data", tangent)), out.shape)
    plus = _value(sample, [a + EPS * d for a, d in zip(arrays, directions)])
    minus = _value(sample, [a - EPS * d for a, d in zip(arrays, directions)])
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * EPS), **TOL)
    # Re <u, J v> == Re <J* u, v>: the gradient is the adjoint under the real pairing
    cotangent = _like(rng, out.detach().numpy())
    grads = _vjp(sample, arrays, cotangent)
    forward = _inner(cotangent, tangent)
    reverse = sum(_inner(g, v) for g, v in zip(grads, directions))
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("sample", COMPLEX_SAMPLES, ids=lambda s: s.id)
def test_complex_second_order_matches_finite_differences(sample):
    arrays = _inputs(sample)
    rng = _rng(sample)
    cotangent = _like(rng, _value(sample, arrays))
    weights = [_like(rng, a) for a in arrays]
    leaves = [cr.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = _call(sample, leaves)
    grads = cr.gradients(out, leaves, cr.tensor(cotangent.astype(out.dtype)), create_graph=True,
                         allow_unused=True)
    total = sum(cr.sum(cr.real(cr.conj(cr.tensor(w)) * g))
                for g, w in zip(grads, weights) if g is not None)
    if isinstance(total, cr.Tensor) and total.requires_grad:
        second = cr.gradients(total, leaves, allow_unused=True)
        computed = [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(second, arrays)]
    else:  # the gradient does not depend on the inputs
        computed = [np.zeros_like(a) for a in arrays]

    def projected(xs):
        return sum(_inner(w, g) for w, g in zip(weights, _vjp(sample, xs, cotangent)))

    for got, want in zip(computed, numeric_gradient(projected, arrays, EPS), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- one convention


def _grad_of_real(f, z):
    return cr.grad(f)(np.asarray(z, dtype=np.complex128)).numpy()


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (lambda z: cr.abs(z) ** 2, lambda z: 2 * z),
        (lambda z: cr.real(z * cr.conj(z)), lambda z: 2 * z),
        (lambda z: cr.real(cr.exp(z)), lambda z: np.conj(np.exp(z))),
        (lambda z: cr.real(1 / z), lambda z: np.conj(-1 / z**2)),
        (lambda z: cr.imag(z * z), lambda z: np.conj(-1j * 2 * z)),  # Im g = Re(-i g)
        (lambda z: cr.abs(z), lambda z: z / abs(z)),
        (lambda z: cr.linalg.norm(z), lambda z: z / abs(z)),
    ],
    ids=["abs squared", "z conj z", "real exp", "real reciprocal", "imag square", "abs", "norm"],
)
def test_every_spelling_of_a_real_loss_gives_pytorchs_gradient(f, expected):
    z = np.complex128(1 + 2j)
    np.testing.assert_allclose(_grad_of_real(f, z), expected(z), rtol=1e-12)


def test_matmul_of_complex_matrices_gives_the_conjugate_transpose_rule():
    a = np.array([[1 + 1j, 2 - 1j], [0.5j, -1.0]])
    g = cr.grad(lambda z: cr.real(cr.sum(z @ z)))(a).numpy()
    ones = np.ones((2, 2))
    expected = np.conj(ones @ a.T + a.T @ ones)  # d Re sum(Z Z) / dZ, PyTorch's convention
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_gradient_descent_on_a_complex_parameter_descends():
    target = np.array([2 - 1j, -0.5 + 3j])
    z = cr.tensor(np.zeros(2, dtype=np.complex128), requires_grad=True)
    losses = []
    for _ in range(50):
        loss = cr.sum(cr.abs(z - target) ** 2)
        losses.append(loss.item())
        loss.backward()
        with cr.no_grad():
            z -= 0.1 * z.grad
        z.grad = None
    assert losses[-1] < 1e-6 < losses[0]
    np.testing.assert_allclose(z.detach().numpy(), target, atol=1e-3)


def test_hooks_and_retained_gradients_see_pytorchs_convention():
    z = cr.tensor(np.array([1 + 2j]), requires_grad=True)
    w = z * 1
    w.retain_grad()
    seen = []
    w.register_hook(lambda g: seen.append(g.numpy().copy()))
    z.register_hook(lambda g: g * 2)  # the convention is linear: doubling is doubling
    (cr.abs(w) ** 2).sum().backward()
    np.testing.assert_allclose(seen[0], [2 + 4j])
    np.testing.assert_allclose(w.grad.numpy(), [2 + 4j])
    np.testing.assert_allclose(z.grad.numpy(), [4 + 8j])


def test_backward_with_a_complex_gradient_and_vjp_use_the_same_convention():
    z0 = np.array([1 + 2j, 0.5 - 1j])
    u = np.array([1 - 1j, 2j])
    z = cr.tensor(z0, requires_grad=True)
    (z * z).backward(gradient=cr.tensor(u))
    _, vjp_fn = cr.vjp(lambda z: z * z, z0)
    np.testing.assert_allclose(z.grad.numpy(), vjp_fn(u)[0].numpy())
    # the gradient of Re <u, z*z>: PyTorch's convention for a holomorphic map is u * conj(f')
    np.testing.assert_allclose(z.grad.numpy(), u * np.conj(2 * z0))


def test_a_complex_output_is_refused_unless_asked_for():
    z = np.complex128(1 + 2j)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.grad(lambda z: z * z)(z)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.jacrev(lambda z: z * z)(np.array([z]))
    with pytest.raises(TypeError, match="real-valued inputs"):
        cr.jacfwd(lambda z: cr.abs(z))(np.array([z]))
    t = cr.tensor(z, requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        (t * t).backward()
    assert t.grad is None
    # holomorphic=True gives the complex derivative f'(z), as JAX's
    assert cr.grad(lambda z: z**3, holomorphic=True)(z).item() == pytest.approx(3 * z**2)
    zs = np.array([1 + 2j, -1j])
    for jac in (cr.jacrev, cr.jacfwd):
        np.testing.assert_allclose(jac(lambda z: cr.sin(z), holomorphic=True)(zs).numpy(),
                                   np.diag(np.cos(zs)))
    np.testing.assert_allclose(
        cr.hessian(lambda z: cr.sum(z**3), holomorphic=True)(zs).numpy(), np.diag(6 * zs)
    )
    with pytest.raises(TypeError, match="requires inputs with complex dtype"):
        cr.grad(lambda x: x * x, holomorphic=True)(2.0)


def test_gradcheck_checks_complex_inputs_in_both_modes():
    z = [np.array([1 + 2j, -0.5 + 0.3j])]
    assert cr.gradcheck(lambda z: cr.abs(z) ** 2 + cr.real(cr.exp(z)), z)
    assert cr.gradcheck(lambda z: z * cr.conj(z) + cr.sin(z), z)  # complex output

    def conjugated(z):  # a rule in the other convention would fail the check
        return cr.real(z * z) + cr.stop_gradient(2 * cr.imag(z)) * cr.imag(z)

    assert cr.gradcheck(lambda z: cr.real(z * z), z)
    with pytest.raises(GradcheckError):
        cr.gradcheck(conjugated, z, modes=("rev",))


def test_abs_tangent_and_var_of_complex_values_are_real():
    z = np.array([1 + 2j, -3 + 1j])
    _, tangent = cr.jvp(cr.abs, (z,), (np.array([1j, 1.0]),))
    np.testing.assert_allclose(tangent.numpy(), np.real(np.conj(z) * [1j, 1.0]) / abs(z))
    assert tangent.dtype == np.float64
    assert cr.var(z).dtype == np.float64 and cr.var(z).item() == pytest.approx(np.var(z))
    assert cr.std(cr.tensor(z)).item() == pytest.approx(np.std(z))


def test_cholesky_of_a_complex_matrix_differentiates_as_a_hermitian_one():
    a = np.array([[2.0, 1j], [-1j, 2.0]])
    assert cr.gradcheck(lambda x: cr.linalg.cholesky(0.5 * (x + cr.conj(x.T))), [a])
