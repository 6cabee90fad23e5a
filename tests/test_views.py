"""In-place writes through views rewrite the base's history, and writes into a base reach its
views (chainrule/views.py), as in PyTorch. Each scenario is written once against a small
namespace, run on chainrule with the gradient PyTorch gives written out, and run on PyTorch
itself when it is installed."""

import numpy as np
import pytest

import chainrule as cr


class Native:
    """The spellings the scenarios use, on chainrule."""

    tensor = staticmethod(
        lambda data, requires_grad=False: cr.tensor(data, requires_grad=requires_grad)
    )
    zeros = staticmethod(cr.zeros)
    no_grad = staticmethod(cr.no_grad)


def _torch_namespace():
    torch = pytest.importorskip("torch")

    class Torch:
        tensor = staticmethod(lambda data, requires_grad=False: torch.tensor(
            data, dtype=torch.float32, requires_grad=requires_grad))
        zeros = staticmethod(torch.zeros)
        no_grad = staticmethod(torch.no_grad)

    return Torch


def write_into_a_slice(T):
    x = T.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    v *= 3
    y.sum().backward()
    return x.grad


def write_into_a_reshape(T):
    x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 2
    v = y.reshape(2, 2)
    v[0] *= 5
    (y * T.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return x.grad


def write_into_the_base_then_use_the_view(T):
    x = T.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    y *= 3
    v.sum().backward()
    return x.grad


def write_into_a_slice_of_a_slice_of_a_constant(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = T.zeros(3)
    a[:2][0] = x[0] * 5
    a.sum().backward()
    return x.grad


def write_into_one_view_then_use_a_sibling(T):
    x = T.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = x * 2
    v1, v2 = y[:2], y[1:]
    v1 *= 3
    (v2 * T.tensor([1.0, 10.0])).sum().backward()
    return x.grad


def write_into_a_transpose(T):
    x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = (x * 1).reshape(2, 2)
    t = y.T
    t[0] += x[:2] * 7
    (y * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return x.grad


def write_into_a_view_of_a_view(T):
    x = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 2
    e = y[0][1:]
    e *= 10
    (y * T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    return x.grad


def copy_into_a_constant_base_seen_by_its_view(T):
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = T.zeros(3)
    v = y[:2]
    y.copy_(w * 3)
    (v * T.tensor([1.0, 10.0])).sum().backward()
    return w.grad


def write_into_a_view_under_no_grad(T):
    x = T.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    with T.no_grad():
        v *= 3  # invisible to autograd, as any update under no_grad
    y.sum().backward()
    return x.grad


def write_values_that_depend_on_the_view(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    v = y[1:]
    v *= x[:2]  # the node keeps the old values of v that the write overwrites
    (v * T.tensor([1.0, 10.0])).sum().backward()
    return x.grad


def two_writes_then_the_base(T):
    x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    y[:2] *= 2
    y[2:] += x[:2] * 3
    (y * T.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    return x.grad


SCENARIOS = {
    write_into_a_slice: [6.0, 6.0, 2.0],
    write_into_a_reshape: [10.0, 20.0, 6.0, 8.0],
    write_into_the_base_then_use_the_view: [6.0, 6.0, 0.0],
    write_into_a_slice_of_a_slice_of_a_constant: [5.0, 0.0, 0.0],
    write_into_one_view_then_use_a_sibling: [0.0, 6.0, 20.0],
    write_into_a_transpose: [8.0, 23.0, 3.0, 4.0],
    write_into_a_view_of_a_view: [[2.0, 40.0, 60.0], [8.0, 10.0, 12.0]],
    copy_into_a_constant_base_seen_by_its_view: [3.0, 30.0, 0.0],
    write_into_a_view_under_no_grad: [2.0, 2.0, 2.0],
    write_values_that_depend_on_the_view: [2.0, 31.0, 20.0],
    two_writes_then_the_base: [302.0, 3020.0, 100.0, 1000.0],
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_views_follow_in_place_writes_as_pytorch(scenario):
    np.testing.assert_allclose(scenario(Native).numpy(), SCENARIOS[scenario], rtol=1e-6)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_the_written_out_gradients_are_pytorchs(scenario):
    expected = scenario(_torch_namespace()).numpy()
    np.testing.assert_allclose(expected, SCENARIOS[scenario], rtol=1e-6)


def test_a_view_of_a_leaf_that_requires_grad_is_not_written_while_recording():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for view in (x[:2], x.reshape(3, 1), x[None], x[::-1]):
        with pytest.raises(RuntimeError, match="view of a leaf"):
            view *= 2
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[:2][0] = 5.0
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0, 3.0])
    assert x.grad is None and x.is_leaf
    with cr.no_grad():  # as an optimizer's update
        x[:2] *= 2
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 4.0, 3.0])


def test_a_read_only_view_is_not_written():
    y = cr.tensor([1.0, 2.0]) * 1
    b = cr.broadcast_to(y, (3, 2))
    with pytest.raises(ValueError, match="read-only"):
        b += 1
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0])


def test_a_saved_value_changed_through_a_view_is_caught():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    v = y[:2]
    z = (v * v).sum()
    y *= 2  # the memory v saved for z's backward
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


def test_a_view_reports_the_history_of_its_base():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.zeros(2)
    v = y[:1]
    assert not v.requires_grad and v.grad_fn is None
    y.copy_(x * 3)
    assert v.requires_grad and v.grad_fn is not None  # made again from y's new history


def test_complex_parts_are_views_that_can_be_written():
    z = cr.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    w = z * 1
    w.real *= 3
    (cr.abs(w) ** 2).sum().backward()
    z0 = np.array([1 + 2j, 3 - 1j])
    np.testing.assert_allclose(z.grad.numpy(), 2 * (9 * z0.real + 1j * z0.imag))
    z.grad = None
    w = z * 1
    w.imag = cr.tensor([5.0, 6.0], dtype="float64")  # the imaginary part no longer depends on z
    (cr.abs(w) ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * z0.real)


def test_forward_mode_and_higher_orders_through_view_writes():
    def f(x):
        y = cr.zeros(3, dtype="float64")
        y[0] = x[0] * x[1]
        y[1:] = x * x
        return (y * y).sum()

    x = np.array([1.0, 2.0])
    expected = np.array([[20.0, 8.0], [8.0, 50.0]])  # PyTorch's hessian of the same function
    np.testing.assert_allclose(cr.hessian(f)(x).numpy(), expected)
    np.testing.assert_allclose(cr.jacrev(cr.grad(f))(x).numpy(), expected)

    def g(x):
        y = x * 1.0
        y[:2] *= x[1:]
        return y

    jacobian = [[2.0, 1.0, 0.0], [0.0, 3.0, 2.0], [0.0, 0.0, 1.0]]
    np.testing.assert_allclose(cr.jacfwd(g)(np.array([1.0, 2.0, 3.0])).numpy(), jacobian)
    np.testing.assert_allclose(cr.jacrev(g)(np.array([1.0, 2.0, 3.0])).numpy(), jacobian)


def test_numpy_writing_into_a_tensor_is_an_in_place_update():
    t = cr.tensor([1.0, 2.0, 3.0])
    np.add.at(t, [0, 0], 1.0)
    np.testing.assert_array_equal(t.numpy(), [3.0, 2.0, 3.0])
    assert t._version[0] == 1
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        np.add(np.ones(2), 1.0, out=x)
    y = x * 2
    with pytest.raises(TypeError, match="part of a tensor that has a history"):
        np.multiply(np.ones(2), 5.0, out=y, where=np.array([True, False]))
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 4.0])
    np.multiply(np.ones(2), 5.0, out=y)  # all of it overwritten by a constant, as fill_
    assert y.grad_fn is None and not y.requires_grad
