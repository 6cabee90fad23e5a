"""Hooks and retain_grad: what a hook sees and may return, and what a failing hook
leaves behind (nothing written)."""

import gc
import weakref

import numpy as np
import pytest
from snapshots import assert_unchanged, snapshot

import chainrule as cr


def test_retain_grad_on_an_intermediate():
    x = cr.arange(3.0, requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad.numpy(), 2 * h.detach().numpy())
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), 4 * h.detach().numpy())  # accumulates like a leaf
    other = x * 3
    (other * other).sum().backward()
    assert other.grad is None  # not retained
    x.retain_grad()  # harmless on a leaf


def test_register_hook_on_an_intermediate_and_a_leaf():
    x = cr.arange(3.0, requires_grad=True)
    h = x * 2
    seen = []

    def scale(grad):
        seen.append(grad)
        return grad * 10

    h.register_hook(scale)
    h.register_hook(lambda grad: None)  # None keeps the gradient
    (h * h).sum().backward()
    assert isinstance(seen[0], cr.Tensor)
    np.testing.assert_array_equal(x.grad.numpy(), 10 * 2 * 2 * h.detach().numpy())
    w = cr.ones(3, requires_grad=True)
    w.register_hook(lambda grad: grad.clip(-0.5, 0.5))
    (w * 4).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 0.5)
    (g,) = cr.gradients((w * 4).sum(), w)
    np.testing.assert_array_equal(g.detach().numpy(), 0.5)
    with pytest.raises(RuntimeError, match="requires_grad_"):
        cr.ones(3).register_hook(lambda grad: grad)


def test_retain_grad_sees_the_gradient_after_hooks_and_only_once():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    h.retain_grad()
    h.register_hook(lambda grad: grad * 0.5)
    assert h.retains_grad and not x.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), h.detach().numpy())  # 2h, halved by the hook
    np.testing.assert_allclose(x.grad.numpy(), 3 * h.detach().numpy())


def test_a_hook_that_changes_the_shape_or_kind_is_refused_and_nothing_is_written():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    x.grad = cr.tensor([5.0, 5.0])
    before = snapshot(x)
    for bad, error, message in (
        (lambda g: cr.ones(3), RuntimeError, "has changed the size of value"),
        (lambda g: g.astype("complex64"), RuntimeError, "has changed the type of value"),
        (lambda g: (g > 0), RuntimeError, "has changed the type of value"),
        (lambda g: [1.0, 2.0], TypeError, "returned a list"),
    ):
        y = x * 2
        h = y * 1
        h.retain_grad()
        y.register_hook(bad)
        with pytest.raises(error, match=message):
            (h * h).sum().backward()
        assert_unchanged(before, x)
        assert h.grad is None  # retained gradients are written with the others, or not at all
    # another floating precision is cast to the gradient's dtype
    y = x * 2
    y.register_hook(lambda g: g.astype("float64") * 10)
    x.grad = None
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 20.0])


def test_a_failing_leaf_hook_leaves_every_grad_as_it_was():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    a.grad, b.grad = cr.zeros(2), cr.zeros(2)
    h = a * b
    h.retain_grad()

    def bad(grad):
        raise ValueError("boom")

    b.register_hook(bad)
    with pytest.raises(ValueError, match="boom"):
        (h.sum() + b.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0])
    assert h.grad is None


def test_a_leaf_hook_that_refers_to_its_owner_dies_with_it():
    class Model:
        def __init__(self):
            self.w = cr.tensor([1.0, 2.0], requires_grad=True)
            self.w.register_hook(self.scale)

        def scale(self, grad):
            return grad * 2

    model = Model()
    (model.w * model.w).sum().backward()
    np.testing.assert_array_equal(model.w.grad.numpy(), [4.0, 8.0])
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
