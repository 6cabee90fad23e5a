"""How .grad is written: accumulated in place into one buffer (requires_grad), or
overwritten (attach_grad's "write"); never an array that anyone else holds or that is
changed later; assigned only with a matching shape and dtype; safe across threads."""

import threading

import numpy as np
import pytest

import chainrule as cr


def test_requires_grad_accumulates_into_the_same_buffer():
    x = cr.arange(4.0).requires_grad_()
    assert x.grad is None
    (x * x).sum().backward()
    grad, buffer = x.grad, x.grad.data
    (x * x).sum().backward()
    assert x.grad is grad and x.grad.data is buffer  # added in place
    np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy())
    x.grad.zero_()
    assert x.grad is grad and x.grad.data is buffer
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    x.sum().backward()
    assert x.grad.data is buffer
    np.testing.assert_array_equal(x.grad.numpy(), 1)


def test_attach_grad_write_overwrites_the_zero_buffer():
    x = cr.arange(4.0)
    x.attach_grad()
    assert x.grad_req == "write" and x.requires_grad
    grad, buffer = x.grad, x.grad.data
    np.testing.assert_array_equal(grad.numpy(), 0)
    for _ in range(2):
        with cr.record():
            y = 2 * cr.dot(x, x)
        y.backward()
        assert x.grad is grad and x.grad.data is buffer
        np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy())


def test_attach_grad_add_and_null():
    added = cr.arange(3.0)
    added.attach_grad("add")
    never = cr.arange(3.0)
    never.attach_grad(grad_req="null")
    for _ in range(3):
        with cr.record():
            (added * added + never * never).sum().backward()
    np.testing.assert_array_equal(added.grad.numpy(), 3 * 2 * added.detach().numpy())
    np.testing.assert_array_equal(never.grad.numpy(), 0)
    with pytest.raises(ValueError, match="grad_req must be one of"):
        cr.arange(3.0).attach_grad("sometimes")


def test_attach_grad_on_a_result_detaches_it():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    y.attach_grad()
    assert y.is_leaf and y.requires_grad
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), 2 * y.detach().numpy())
    assert x.grad is None


def test_the_users_gradient_array_never_becomes_grad():
    x = cr.arange(3.0, requires_grad=True)
    gradient = np.ones(3, np.float32)
    (x * 1.0).backward(gradient)  # multiply passes g * 1.0: a new array
    (x + 0.0).backward(gradient)  # add passes the cotangent through unchanged
    assert not np.shares_memory(x.grad.data, gradient)
    np.testing.assert_array_equal(gradient, 1.0)
    y = cr.arange(3.0, requires_grad=True)
    weights = cr.ones(3)
    (y + 0.0).backward(weights)
    (y + 0.0).backward(weights)
    np.testing.assert_array_equal(weights.detach().numpy(), 1.0)
    np.testing.assert_array_equal(y.grad.numpy(), 2.0)


def test_one_array_reaching_two_leaves_is_not_shared():
    x = cr.arange(3.0, requires_grad=True)
    y = cr.arange(3.0, requires_grad=True)
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad.data, y.grad.data)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 3.0)
    np.testing.assert_array_equal(y.grad.numpy(), 1.0)


def test_gradients_never_alias_each_other():
    x = cr.arange(3.0, requires_grad=True)
    y = cr.arange(3.0, requires_grad=True)
    gx, gy = cr.gradients((x + y).sum(), [x, y])  # add passes one array to both
    assert not np.shares_memory(gx.data, gy.data)


def test_a_gradient_seen_by_a_hook_is_not_mutated_later():
    x = cr.arange(3.0, requires_grad=True)
    kept = []
    h = x + 0.0
    h.register_hook(kept.append)
    h.sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_array_equal(kept[0].detach().numpy(), 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), 6.0)


def test_retained_grad_is_not_mutated_by_leaf_accumulation():
    x = cr.arange(3.0, requires_grad=True)
    h = x + 0.0
    h.retain_grad()
    h.sum().backward()
    x.sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), 2.0)


def test_assigning_grad_checks_type_shape_and_dtype():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(3,\) to a tensor of shape \(2,\)"):
        x.grad = cr.ones(3)
    with pytest.raises(RuntimeError, match="dtype float64 to a tensor of dtype float32"):
        x.grad = cr.ones(2, dtype="float64")
    with pytest.raises(TypeError, match="tensor or None"):
        x.grad = [1.0, 2.0]
    assert x.grad is None
    x.grad = cr.ones(2)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])
    x.grad = None
    assert x.grad is None


def test_concurrent_backward_into_one_leaf_loses_no_addition():
    n = 2_000_000
    w = cr.tensor(np.zeros(n), requires_grad=True)
    errors = []

    def work():
        try:
            for _ in range(5):
                (w * 1.0).sum().backward()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    np.testing.assert_array_equal(w.grad.numpy(), np.full(n, 20.0))
