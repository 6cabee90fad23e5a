"""In-place updates: recorded on intermediates, refused on leaves that require grad
(outside no_grad), and caught by version counters when they change a value saved for
backward, directly, through a view or through a detached alias."""

import numpy as np
import pytest
from snapshots import assert_unchanged, snapshot

import chainrule as cr


def test_optimizer_updates_mutate_the_same_leaf():
    w = cr.arange(4.0, requires_grad=True)
    obj, buffer = w, w.data
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.5 * w.grad
        w += 1
        w *= 2
        w /= 2
        w.sub_(w.grad, alpha=0.25)
        w.add_(cr.ones(4))
        w.mul_(0.5)
        w[0] = 10.0
    assert w is obj and w.data is buffer
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    expected = np.arange(4.0)
    expected = expected - 0.5 * 2 * np.arange(4.0) + 1
    expected = (expected - 0.25 * 2 * np.arange(4.0) + 1) * 0.5
    expected[0] = 10.0
    np.testing.assert_allclose(w.detach().numpy(), expected)
    w.grad.zero_()
    (w * w).sum().backward()  # still a working leaf
    np.testing.assert_allclose(w.grad.numpy(), 2 * expected)


def test_zero_and_fill_mutate_in_place():
    x = cr.arange(3.0)
    buffer = x.data
    assert x.zero_() is x and x.data is buffer
    np.testing.assert_array_equal(x.detach().numpy(), 0)


@pytest.mark.parametrize(
    "update",
    [
        lambda w: w.__iadd__(1), lambda w: w.__isub__(1), lambda w: w.__imul__(2),
        lambda w: w.__itruediv__(2), lambda w: w.add_(1), lambda w: w.sub_(1),
        lambda w: w.mul_(2), lambda w: w.zero_(), lambda w: w.__setitem__(0, 5.0),
    ],
)
def test_in_place_on_a_leaf_that_requires_grad_is_refused(update):
    w = cr.arange(3.0, requires_grad=True)
    (w * w).sum().backward()
    before = snapshot(w)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad") as error:
        update(w)
    assert "cr.no_grad()" in str(error.value)
    assert_unchanged(before, w)
    assert w.is_leaf and w._version[0] == 0


def test_in_place_on_an_intermediate_is_recorded():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    obj, buffer = y, y.data
    y += x  # y = 3x
    y *= 3  # y = 9x
    y -= x * x  # y = 9x - x^2
    y[0] = 7.0
    assert y is obj and y.data is buffer
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 9.0 - 2.0, 9.0 - 4.0])


def test_an_in_place_update_keeps_the_values_it_overwrites_for_backward():
    # y *= x saves the old y (for x's gradient) and then overwrites it: the node keeps a copy,
    # as PyTorch keeps the original of an in-place operation's input. (PyTorch refuses y *= y,
    # where it saves y twice; here both are the copy, and the gradient is right.)
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    y *= x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 4 * np.arange(3.0))
    x.grad = None
    y = x * 2
    y *= y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 8 * np.arange(3.0))


def test_setitem_records_both_sides():
    x = cr.arange(4.0, requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1.0
    y[1:3] = v * v
    (y * cr.arange(1.0, 5.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(v.grad.numpy(), [2 * 10.0 * 2, 2 * 20.0 * 3])


def test_an_update_under_no_grad_keeps_an_intermediates_history():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    with cr.no_grad():
        y += 100  # invisible to autograd, as in PyTorch
    assert y.grad_fn is not None and y.requires_grad
    np.testing.assert_array_equal(y.detach().numpy(), [100.0, 102.0, 104.0])
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 6.0)


def test_filling_an_intermediate_while_recording_makes_it_a_constant():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    buffer = y.data
    y.zero_()
    assert y.data is buffer and not y.requires_grad and y.grad_fn is None
    y.fill_(1.0)
    y.copy_(cr.tensor([4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(y.detach().numpy(), [4.0, 5.0, 6.0])
    w = cr.zeros(3)
    w.copy_(np.ones(3))  # plain tensors take any values
    np.testing.assert_array_equal(w.detach().numpy(), 1.0)


def test_copy_and_fill_carry_the_gradient_of_what_they_write():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.zeros(2)
    y.copy_(w * 3)
    (y * cr.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 30.0])
    w.grad = None
    z = cr.zeros((2, 2), dtype="float64")  # broadcast and cast to z's dtype, recorded
    z.copy_(w)
    assert z.dtype == np.float64 and z.grad_fn is not None
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])
    assert w.grad.dtype == np.float32
    w.grad = None
    f = cr.zeros(3)
    f.fill_(w[1])
    f.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 3.0])
    with pytest.raises(ValueError, match="0-d tensor"):
        f.fill_(w)


def test_masked_fill_with_a_tensor_value_carries_its_gradient():
    import chainrule.torch as torch

    w = torch.tensor(2.0, requires_grad=True)
    y = torch.zeros(3).masked_fill(torch.tensor([True, False, True]), w)
    y.sum().backward()
    assert w.grad.item() == 2.0


def test_detach_shares_data_and_has_no_history():
    x = cr.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    assert u.is_leaf and not u.requires_grad and u.grad_fn is None
    assert np.shares_memory(u.data, y.data)
    z = u * x
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), u.detach().numpy())
    x.grad = None
    y.sum().backward()  # y's own graph is untouched
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())


def test_in_place_change_of_a_saved_input_names_the_operation():
    x = cr.arange(3.0, requires_grad=True)
    x.sum().backward()
    a = x * 2
    b = a * a  # saves a
    a += 1
    before = snapshot(x)
    with pytest.raises(RuntimeError, match="MultiplyBackward") as error:
        b.sum().backward()
    message = str(error.value)
    assert "modified by an in-place operation" in message and "out-of-place" in message
    assert_unchanged(before, x)


def test_in_place_change_of_a_saved_output_is_caught():
    x = cr.arange(3.0, requires_grad=True)
    y = cr.exp(x)  # exp's rule reads its output
    total = y.sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward"):
        total.backward()
    assert x.grad is None


def test_in_place_change_through_a_detached_alias_is_caught():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()
    alias = y.detach()
    alias[0] = 5.0
    with pytest.raises(RuntimeError, match="in-place"):
        z.backward()


def test_in_place_change_of_an_unsaved_value_is_fine():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2.0  # multiply saves the constant, not y
    z = y + 1.0
    y += 1  # nothing that z's backward reads
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2.0)


def test_a_value_overwritten_after_it_was_saved_is_still_caught():
    x = cr.arange(3.0, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)  # overwritten since
    with pytest.raises(RuntimeError, match="MultiplyBackward"):
        z.sum().backward()
    w = x * 2
    z = w * w
    with cr.no_grad():
        w.add_(1)
    w.copy_(z)  # z's node saved w, changed since: not silently copied now
    with pytest.raises(RuntimeError, match="MultiplyBackward"):
        w.sum().backward()


def test_in_place_change_through_a_view_is_caught():
    x = cr.arange(3.0, requires_grad=True)
    a = x * 2
    b = (a * a).sum()  # saves a
    view = a[:2]  # a NumPy view of a's buffer
    with cr.no_grad():
        view += 100
    with pytest.raises(RuntimeError, match="in-place"):
        b.backward()


def test_in_place_change_of_the_base_is_seen_by_a_view_saved_for_backward():
    x = cr.arange(4.0, requires_grad=True)
    a = x * 1
    view = a.reshape(2, 2)
    loss = (cr.exp(view)).sum()  # saves exp's output, not the view; then the view itself
    loss2 = (view * view).sum()  # saves the view
    with cr.no_grad():
        a += 1
    loss.backward()  # exp's saved output is untouched: fine
    with pytest.raises(RuntimeError, match="in-place"):
        loss2.backward()


def test_a_backward_that_meets_an_in_place_change_writes_nothing_and_frees_what_it_ran():
    # As PyTorch: the check is made as backward reaches the node, after the nodes before it
    # have run; no .grad is written, and with retain_graph=True nothing is freed either.
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2
    b = a * a
    loss = (cr.sin(b) * 3).sum()
    a += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward(retain_graph=True)
    assert x.grad is None
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    assert x.grad is None
