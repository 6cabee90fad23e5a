"""backward(): what it differentiates, what it writes, and the errors that stop it
before it writes anything (a second pass without retain_graph, a non-scalar output without
gradient=, integer tensors)."""

import numpy as np
import pytest
from snapshots import assert_unchanged, snapshot

import chainrule as cr


def test_backward_of_a_scalar():
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    assert y.grad_fn is not None and not y.is_leaf
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy())
    assert x.grad.dtype == cr.float32 and not x.grad.requires_grad


def test_non_scalar_backward_with_gradient():
    x = cr.arange(4.0, requires_grad=True)
    (x * x).backward(gradient=cr.ones(4))
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    x.grad = None
    weights = np.array([1.0, 0.0, 2.0, 1.0])  # float64 weights keep the float32 gradient
    (x * x).backward(weights)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy() * weights)
    assert x.grad.dtype == cr.float32


def test_backward_of_a_leaf_itself():
    x = cr.arange(3.0, requires_grad=True)
    x.sum().backward()
    gradient = np.full(3, 2.0, np.float32)
    x.backward(gradient)
    np.testing.assert_array_equal(x.grad.numpy(), 3.0)
    np.testing.assert_array_equal(gradient, 2.0)


def test_backward_inputs_restricts_what_is_written():
    x = cr.arange(3.0, requires_grad=True)
    w = cr.ones(3, requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), x.detach().numpy())


def test_inputs_named_twice_are_written_once():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward(inputs=[h, h, x, x])
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


def test_a_leaf_that_stopped_requiring_grad_gets_no_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.requires_grad_(False)
    y.backward()
    assert x.grad is None


def test_backward_from_several_roots_is_one_pass():
    x = cr.tensor([1.0, 2.0])
    x.attach_grad()  # "write": one pass over both heads, so both contributions stay
    with cr.record():
        a, b = x * 2, x * 3
    cr.engine.backward([a.sum(), b.sum()])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_backward_from_several_roots_writes_nothing_when_one_fails():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        cr.engine.backward([(x * 2).sum(), x * 3])
    assert x.grad is None


def test_backward_without_anything_to_differentiate_is_explained():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (cr.arange(3.0) * 2).sum().backward()
    x = cr.arange(3.0, requires_grad=True)
    with cr.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_wrong_gradient_shape_is_explained():
    x = cr.arange(3.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but the output"):
        (x * 2).backward(cr.ones(2))


def test_backward_twice_without_retain_graph():
    x = cr.arange(3.0, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    before = snapshot(x)
    with pytest.raises(RuntimeError, match="second time") as error:
        y.backward()
    assert "retain_graph=True" in str(error.value)
    assert_unchanged(before, x)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        cr.gradients(y, x)


def test_retain_graph_allows_a_second_backward():
    x = cr.arange(3.0, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy())
    y2 = (x * x).sum()
    cr.gradients(y2, x, retain_graph=True)
    cr.gradients(y2, x)


def test_non_scalar_backward_without_gradient_loses_nothing():
    x = cr.arange(3.0, requires_grad=True)
    x.sum().backward()
    y = x * x
    before = snapshot(x, y)
    with pytest.raises(RuntimeError, match="only for scalar outputs") as error:
        y.backward()
    message = str(error.value)
    assert "shape (3,)" in message and "gradient=" in message and "y.sum().backward()" in message
    assert_unchanged(before, x, y)
    y.backward(cr.ones(3))  # the graph is intact
    np.testing.assert_array_equal(x.grad.numpy(), 1 + 2 * x.detach().numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.tensor([1, 2], requires_grad=True),
        lambda: cr.arange(3, requires_grad=True),
        lambda: cr.zeros(2, dtype="int32", requires_grad=True),
        lambda: cr.tensor([True], requires_grad=True),
    ],
)
def test_requires_grad_on_an_integer_tensor_at_creation(make):
    with pytest.raises(TypeError, match="only floating-point"):
        make()


def test_requires_grad_on_an_integer_tensor_loses_nothing():
    x = cr.arange(3)
    before = snapshot(x)
    with pytest.raises(TypeError, match=r"dtype int64; convert it first, e\.g\. x\.astype"):
        x.requires_grad_()
    with pytest.raises(TypeError, match="only floating-point"):
        x.requires_grad = True
    with pytest.raises(TypeError, match="only floating-point"):
        x.attach_grad()
    assert_unchanged(before, x)
    assert x.grad_req is None
    x.astype("float32").requires_grad_()  # the suggested fix works


def test_requires_grad_cannot_be_switched_off_on_a_result():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False
    assert y.requires_grad


def test_gradients_keep_dtypes():
    x32 = cr.arange(3.0, requires_grad=True)
    x64 = cr.arange(3.0, dtype="float64", requires_grad=True)
    y = (x32 * 2.0 + 1).sum() + (x32 * x64).sum() + (x64 * np.float32(3)).sum()
    y.backward()
    assert x32.grad.dtype == cr.float32 and x64.grad.dtype == cr.float64
    h = cr.ones(2, dtype="float16", requires_grad=True)
    (h * 3.0).sum().backward()
    assert h.grad.dtype == np.float16
    c = cr.tensor([1.0 + 2.0j], dtype="complex128", requires_grad=True)
    assert c.requires_grad
