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
