"""Derivatives at the edge points where a formula meets 0 * inf, a singular matrix or a kink:
each gives the number PyTorch and JAX give (or a clear error), never NaN where they have one."""

import numpy as np
import pytest

import chainrule as cr


def _grad(f, x):
    return np.asarray(cr.grad(f)(np.asarray(x, dtype=np.float64)).numpy())


# ---------------------------------------------------------------- power at 0


def test_power_with_exponent_zero_at_zero_has_derivative_zero():
    assert _grad(lambda x: x ** 0.0, 0.0) == 0.0
    assert _grad(lambda x: x ** 0, 0.0) == 0.0
    assert _grad(lambda x: cr.power(x, np.zeros(())), 0.0) == 0.0


def test_polynomial_features_at_zero():
    # d/dx (1 + x + x**2) = 1 at 0 (PyTorch: 1; the formula 0 * 0**-1 gave NaN)
    assert _grad(lambda x: (x ** cr.arange(3.0, dtype="float64")).sum(), 0.0) == 1.0
    np.testing.assert_array_equal(
        cr.jacfwd(lambda x: x ** cr.arange(4.0, dtype="float64"))(np.float64(0.0)).numpy(),
        [0.0, 1.0, 0.0, 0.0],
    )


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_derivative_of_x_squared_and_cubed_at_zero(order):
    for power, expected in ((2, [0.0, 2.0, 0.0, 0.0]), (3, [0.0, 0.0, 6.0, 0.0])):
        f = lambda x, p=power: x ** p  # noqa: E731
        for _ in range(order):
            f = cr.grad(f)
        assert f(np.float64(0.0)).item() == expected[order - 1]


def test_hessian_of_linear_power_is_zero_not_nan():
    h = cr.hessian(lambda v: cr.sum(v ** 1.0))(np.zeros(3))
    np.testing.assert_array_equal(h.numpy(), np.zeros((3, 3)))
    h = cr.hessian(lambda v: cr.sum(v ** 2.0))(np.zeros(3))
    np.testing.assert_array_equal(h.numpy(), 2 * np.eye(3))


def test_power_derivative_in_the_exponent_at_zero_exponent_is_exact():
    # d/dy of d/dx x**y at y == 0 is 1/x (x != 0): the exponent is replaced only at x == 0
    x, y = np.float64(0.5), np.float64(0.0)
    mixed = cr.grad(cr.grad(lambda x, y: x ** y, argnums=0), argnums=1)(x, y)
    np.testing.assert_allclose(mixed.item(), 1 / 0.5)


# ---------------------------------------------------------------- clip with tensor bounds


def test_clip_with_tensor_bounds_gives_each_its_gradient():
    x = cr.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True)
    low = cr.tensor(1.0, requires_grad=True)  # x == low at 1.0: x keeps it, as in PyTorch
    high = cr.tensor([2.5, 2.5, 2.5, 2.5], requires_grad=True)
    out = cr.clip(x, low, high)
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 1.0, 2.0, 2.5])
    (out * cr.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0, 0.0])
    assert low.grad.item() == 1.0
    np.testing.assert_array_equal(high.grad.numpy(), [0.0, 0.0, 0.0, 4.0])
    # the method and the dialect's clamp take tensors too
    import chainrule.torch as torch

    t = torch.tensor([0.0, 3.0], requires_grad=True)
    t.clamp(torch.tensor(1.0), torch.tensor(2.0)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0])
    with pytest.raises(ValueError, match="a_min or a_max"):
        cr.clip(x, None, None)


# ---------------------------------------------------------------- det at singular matrices


def _cofactor_transpose(a):
    """adj(a)^T by minors, the textbook definition (what det's gradient is)."""
    n = a.shape[0]
    out = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            out[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if minor.size else 1.0)
    return out


@pytest.mark.parametrize(
    "matrix",
    [
        [[1.0, 2.0], [2.0, 4.0]],  # rank 1 of 2
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],  # rank 2 of 3
        [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]],  # rank 1 of 3: gradient 0
        [[0.0, 0.0], [0.0, 0.0]],
        [[2.0, 1.0], [1.0, 3.0]],  # invertible, for comparison
    ],
)
def test_det_gradient_is_the_cofactor_matrix_also_when_singular(matrix):
    a = np.array(matrix)
    x = cr.tensor(a, requires_grad=True)
    cr.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), _cofactor_transpose(a), atol=1e-12)
    # forward mode agrees: d det = <adj^T, t>
    t = np.arange(a.size, dtype=np.float64).reshape(a.shape)
    _, tangent = cr.jvp(cr.linalg.det, (a,), (t,))
    np.testing.assert_allclose(tangent.item(), np.sum(_cofactor_transpose(a) * t), atol=1e-10)


def test_det_gradient_of_a_singular_stack_and_float32():
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]]], dtype=np.float32)
    x = cr.tensor(a, requires_grad=True)
    cr.linalg.det(x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(
        x.grad.numpy(), [[[4.0, -2.0], [-2.0, 1.0]], [[3.0, 0.0], [0.0, 2.0]]], atol=1e-5
    )


def test_what_does_not_exist_at_a_singular_matrix_raises_clearly():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    x = cr.tensor(a, requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match=r"gradient of log\|det x\| does not exist"):
        cr.linalg.slogdet(x)[1].backward()
    assert x.grad is None
    with pytest.raises(np.linalg.LinAlgError, match="second derivative of det"):
        cr.hessian(cr.linalg.det)(a)
