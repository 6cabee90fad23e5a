"""The chapter ("Automatic differentiation", D2L) in native chainrule spelling gives the
chapter's values, section by section."""

import numpy as np
import pytest

import chainrule as cr


def test_a_simple_function():
    x = cr.arange(4.0)
    x.requires_grad_()
    assert x.grad is None  # PyTorch semantics: no buffer until the first backward
    y = 2 * cr.dot(x, x)
    assert y.item() == 28.0
    assert repr(y) == "tensor(28., grad_fn=<MultiplyBackward>)"
    y.backward()
    assert (x.grad == 4 * x).all()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 8.0, 12.0])


def test_gradients_accumulate_after_requires_grad():
    x = cr.arange(4.0, requires_grad=True)
    (2 * cr.dot(x, x)).backward()
    x.sum().backward()  # no reset: added to 4x
    np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy() + 1)
    x.grad.zero_()  # the chapter's reset
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0, 1.0])


def test_gradients_are_overwritten_after_attach_grad():
    x = cr.arange(4.0)
    x.attach_grad()
    np.testing.assert_array_equal(x.grad.numpy(), 0)  # MXNet semantics: zeros at once
    with cr.record():
        y = 2 * cr.dot(x, x)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy())
    with cr.record():
        y = x.sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0, 1.0])  # overwritten


def test_backward_for_non_scalar_variables():
    x = cr.arange(4.0, requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(gradient=cr.ones(len(y)))
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    x.grad.zero_()
    (x * x).sum().backward()  # the same thing, as MXNet and TensorFlow do it
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())


def test_detaching_computation():
    x = cr.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    assert (x.grad == u).all()
    x.grad.zero_()
    y.sum().backward()  # the graph leading to y persists
    assert (x.grad == 2 * x).all()


def f(a):
    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_gradients_through_python_control_flow(shape, seed):
    cr.random.seed(seed)
    a = cr.random.normal(size=shape, requires_grad=True)
    d = f(a)
    if shape:
        d.backward(gradient=cr.ones_like(d))
    else:
        d.backward()
    assert a.grad.shape == a.shape and a.grad.dtype == cr.float32
    np.testing.assert_allclose(a.grad.numpy(), (d / a).detach().numpy(), rtol=1e-6)


def test_control_flow_with_attach_grad_and_record():
    cr.random.seed(7)
    a = cr.random.normal()
    a.attach_grad()
    with cr.record():
        d = f(a)
    d.backward()
    np.testing.assert_allclose(a.grad.item(), (d / a).item(), rtol=1e-6)
