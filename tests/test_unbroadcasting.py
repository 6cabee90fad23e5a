"""Broadcasting undone in backward: each input's gradient is summed back to the
input's own shape."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

import chainrule as cr


def sum_to(array, shape):
    """NumPy reference for what the engine does: sum a broadcast array back down to ``shape``."""
    lead = array.ndim - len(shape)
    array = array.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i] != 1)
    return array.sum(axis=axes, keepdims=True)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3,), (2, 3)), ((2, 1), (1, 3)), ((), (4,)), ((1, 3), (2, 3)), ((2, 1, 3), (4, 1))],
)
def test_broadcasting_is_summed_back_to_each_shape(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a = cr.tensor(a_np, requires_grad=True)
    b = cr.tensor(b_np, requires_grad=True)
    (a * b).sum().backward()
    full = np.broadcast_shapes(shape_a, shape_b)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.numpy(), sum_to(np.broadcast_to(b_np, full), shape_a))
    np.testing.assert_allclose(b.grad.numpy(), sum_to(np.broadcast_to(a_np, full), shape_b))
    assert cr.gradcheck(lambda p, q: p * q + p / (1 + q * q), [a_np, b_np])


@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_broadcasting_any_shapes(shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape) + 2.0 for shape in shapes.input_shapes]
    tensors = [cr.tensor(array, requires_grad=True) for array in arrays]
    first, second, third = tensors
    ((first + second) * third / (second * second)).sum().backward()
    a, b, c = arrays
    full = shapes.result_shape
    ones = np.ones(full)
    expected = [c / (b * b) * ones, (-c / (b * b) - 2 * a * c / b**3) * ones, (a + b) / (b * b)]
    for tensor, grad, array in zip(tensors, expected, arrays, strict=True):
        assert tensor.grad.shape == array.shape
        np.testing.assert_allclose(tensor.grad.numpy(), sum_to(grad * ones, array.shape))


def test_broadcasting_with_a_python_scalar_and_a_0d_tensor():
    x = cr.arange(3.0, requires_grad=True)
    s = cr.tensor(2.0, requires_grad=True)
    (x * s + 1).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 3.0
    np.testing.assert_array_equal(x.grad.numpy(), 2.0)
