"""gradients(): gradients returned rather than written, with respect to leaves or
intermediates, unused inputs, and higher orders through create_graph; gradcheck."""

import numpy as np
import pytest
from snapshots import assert_unchanged, snapshot

import chainrule as cr


def test_gradients_writes_no_grad():
    x = cr.arange(3.0, requires_grad=True)
    w = cr.tensor([1.0, -1.0, 2.0], requires_grad=True)
    gx, gw = cr.gradients((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.detach().numpy(), w.detach().numpy())
    np.testing.assert_array_equal(gw.detach().numpy(), x.detach().numpy())
    assert x.grad is None and w.grad is None
    (single,) = cr.gradients((x * x).sum(), x)
    np.testing.assert_array_equal(single.detach().numpy(), 2 * x.detach().numpy())
    assert isinstance(cr.gradients((x * x).sum(), x), tuple)


def test_gradients_with_grad_outputs_and_several_outputs():
    x = cr.arange(3.0, requires_grad=True)
    (g,) = cr.gradients(x * x, x, grad_outputs=cr.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 4.0, 12.0])
    (g,) = cr.gradients([x.sum(), (x * x).sum()], x)
    np.testing.assert_array_equal(g.detach().numpy(), 1 + 2 * x.detach().numpy())
    with pytest.raises(ValueError, match="one per output"):
        cr.gradients([x.sum(), x.sum()], x, grad_outputs=[None])


def test_gradients_with_respect_to_an_intermediate():
    x = cr.arange(3.0, requires_grad=True)
    h = x * 2
    (gh,) = cr.gradients((h * h).sum(), h)
    np.testing.assert_array_equal(gh.detach().numpy(), 2 * h.detach().numpy())


def test_unused_input_in_gradients_loses_nothing():
    x = cr.arange(3.0, requires_grad=True)
    unused = cr.ones(3, requires_grad=True)
    y = (x * x).sum()
    before = snapshot(x, unused)
    with pytest.raises(RuntimeError, match="allow_unused=True") as error:
        cr.gradients(y, [x, unused])
    assert "not used to compute the outputs" in str(error.value)
    assert_unchanged(before, x, unused)
    gx, none = cr.gradients(y, [x, unused], allow_unused=True)  # the graph was not freed
    assert none is None
    np.testing.assert_array_equal(gx.detach().numpy(), 2 * x.detach().numpy())
    h = x * 2
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.gradients((x * 3).sum(), h)


def test_argnums_named_twice_give_the_gradient_twice():
    f = lambda x, y: (x * x * y).sum()  # noqa: E731
    x, y = np.array([1.0, 2.0]), np.array(3.0)
    gx, gy, gx2 = cr.grad(f, argnums=(0, 1, 0))(x, y)
    np.testing.assert_array_equal(gx.detach().numpy(), [6.0, 12.0])
    np.testing.assert_array_equal(gx2.detach().numpy(), [6.0, 12.0])
    assert gy.item() == 5.0
    jx, jx2 = cr.jacfwd(lambda x: x * x, argnums=(0, 0))(x)
    np.testing.assert_array_equal(jx.detach().numpy(), jx2.detach().numpy())
    jx, jx2 = cr.jacrev(lambda x: x * x, argnums=(0, -1))(x)
    np.testing.assert_array_equal(jx.detach().numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_array_equal(jx2.detach().numpy(), np.diag([2.0, 4.0]))


def test_second_and_third_derivatives_with_gradients():
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    y = x ** 4
    (d1,) = cr.gradients(y, x, create_graph=True)
    (d2,) = cr.gradients(d1, x, create_graph=True)
    (d3,) = cr.gradients(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)
    assert d1.requires_grad and not d3.requires_grad


def test_second_derivative_with_backward_create_graph():
    x = cr.tensor([0.5, 1.0], dtype="float64", requires_grad=True)
    cr.sin(x).sum().backward(create_graph=True)
    first = x.grad
    assert first.grad_fn is not None
    np.testing.assert_allclose(first.detach().numpy(), np.cos(x.detach().numpy()))
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(x.detach().numpy()))


def test_create_graph_keeps_the_graph():
    x = cr.tensor(3.0, dtype="float64", requires_grad=True)
    y = x ** 3
    cr.gradients(y, x, create_graph=True)
    (again,) = cr.gradients(y, x)  # create_graph implies retain_graph
    assert again.item() == 27.0


def test_hessian_vector_product_through_gradients():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    x = cr.tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    f = cr.sum(cr.tanh(cr.tensor(a) @ x) ** 2)
    (g,) = cr.gradients(f, x, create_graph=True)
    (hv,) = cr.gradients((g * cr.tensor(v)).sum(), x)
    eps = 1e-6

    def grad_at(point):
        p = cr.tensor(point, requires_grad=True)
        return cr.gradients(cr.sum(cr.tanh(cr.tensor(a) @ p) ** 2), p)[0].detach().numpy()

    x0 = x.detach().numpy()
    numeric = (grad_at(x0 + eps * v) - grad_at(x0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.detach().numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_gradcheck_passes_on_a_correct_gradient():
    assert cr.gradcheck(lambda x, y: cr.sin(x) * y + x / (1 + y * y),
                        [np.array([0.3, -1.2]), np.array([[2.0], [0.5]])])
    assert cr.gradcheck(lambda x: (x ** 3).sum(), cr.tensor([1.0, 2.0]), eps=1e-6)


def test_gradcheck_raises_showing_both_gradients():
    def wrong(x):
        return (x.detach() * x).sum()  # reverse mode sees x, finite differences 2x

    with pytest.raises(AssertionError) as error:
        cr.gradcheck(wrong, [np.array([1.0, 2.0])])
    message = str(error.value)
    assert "reverse mode:\n[1. 2.]" in message and "finite differences:\n[2. 4.]" in message
    with pytest.raises(AssertionError, match="input 1"):
        cr.gradcheck(lambda x, y: x * y.detach() * y, [np.ones(2), np.ones((3, 1))])
