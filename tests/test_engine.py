"""The reverse-mode engine: backward, gradients(), modes, accumulation, in-place updates,
hooks, higher orders, and DESIGN.md decisions 2-6 and 9."""

import gc
import sys
import threading
import time
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule import engine
from chainrule.gradcheck import numeric_gradient
from chainrule.node import Node


def snapshot(*tensors):
    """Everything a failed call must leave as it was: data, requires_grad, grad, grad_fn."""
    return [
        (t.detach().numpy().copy(), t.requires_grad,
         None if t.grad is None else t.grad.numpy().copy(), t.grad_fn)
        for t in tensors
    ]


def assert_unchanged(before, *tensors):
    for (data, requires_grad, grad, grad_fn), t in zip(before, tensors, strict=True):
        np.testing.assert_array_equal(t.detach().numpy(), data)
        assert t.requires_grad == requires_grad and t.grad_fn is grad_fn
        if grad is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad.numpy(), grad)


# ---------------------------------------------------------------------------- backward


def test_backward_of_a_scalar():
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    assert y.grad_fn is not None and not y.is_leaf
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 4 * x.detach().numpy())
    assert x.grad.dtype == cr.float32 and not x.grad.requires_grad


def test_requires_grad_accumulates_into_the_same_buffer():
    x = cr.arange(4.0).requires_grad_()
    assert x.grad is None
    (x * x).sum().backward()
    grad, buffer = x.grad, x.grad.data
    (x * x).sum().backward()
    assert x.grad is grad and x.grad.data is buffer  # decision 5: added in place
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


# ---------------------------------------------------------------------------- gradients()


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


def test_gradients_never_alias_each_other():
    x = cr.arange(3.0, requires_grad=True)
    y = cr.arange(3.0, requires_grad=True)
    gx, gy = cr.gradients((x + y).sum(), [x, y])  # add passes one array to both
    assert not np.shares_memory(gx.data, gy.data)


# ---------------------------------------------------------------------------- decision 9


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


# ---------------------------------------------------------------------------- modes


def test_no_grad_enable_grad_record_pause():
    x = cr.arange(3.0, requires_grad=True)
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        assert not (x * 2).requires_grad
        with cr.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with cr.record():
        assert (x * 2).requires_grad
        with cr.pause():
            assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_modes_as_decorators():
    x = cr.arange(3.0, requires_grad=True)

    @cr.no_grad()
    def called(t):
        return t * 2

    @cr.no_grad
    def bare(t):
        return t * 2

    @cr.enable_grad
    def enabled(t):
        return t * 2

    assert not called(x).requires_grad and not bare(x).requires_grad
    assert bare.__name__ == "bare"
    with cr.no_grad():
        assert enabled(x).requires_grad
    assert cr.is_grad_enabled()


def test_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError), cr.no_grad():
        raise ValueError
    assert cr.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        seen["worker_at_start"] = cr.is_grad_enabled()
        with cr.no_grad():
            inside.set()
            release.wait(5)
            seen["worker_inside"] = cr.is_grad_enabled()

    x = cr.arange(3.0, requires_grad=True)
    with cr.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        inside.wait(5)
    # The worker is inside its no_grad block; this thread records again.
    assert cr.is_grad_enabled() and (x * 2).requires_grad
    release.set()
    thread.join()
    assert seen == {"worker_at_start": True, "worker_inside": False}


# ---------------------------------------------------------------------------- in-place updates


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


def test_setitem_records_both_sides():
    x = cr.arange(4.0, requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1.0
    y[1:3] = v * v
    (y * cr.arange(1.0, 5.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0, 4.0])
    np.testing.assert_array_equal(v.grad.numpy(), [2 * 10.0 * 2, 2 * 20.0 * 3])


# ---------------------------------------------------------------------------- detach


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


# ---------------------------------------------------------------------------- decision 2


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


# ---------------------------------------------------------------------------- decision 3


def test_a_million_deep_graph_backpropagates():
    # Built node by node (recording a million real ops takes ~15 s); the engine sees exactly
    # what recording `y = -y` a million times would give it.
    x = cr.tensor(3.0, dtype="float64", requires_grad=True)
    template = (-x).grad_fn
    start = time.perf_counter()
    parent = x
    for _ in range(1_000_000):
        parent = Node(
            template.prim, template.params, (parent,), template.saved, None, (),
            template.ans_shape, template.ans_dtype,
        )
    y = cr.Tensor._wrap(np.array(3.0), parent)
    y.backward()
    assert x.grad.item() == 1.0  # (-1) ** 1_000_000
    del y, parent
    assert time.perf_counter() - start < 20


def test_a_deep_recorded_chain_and_its_deletion():
    x = cr.tensor(0.5, dtype="float64", requires_grad=True)
    y = x
    for _ in range(20_000):  # far beyond the recursion limit
        y = y * 1.0
    kept = y
    y.backward(retain_graph=True)
    assert x.grad.item() == 1.0
    del y, kept  # freeing a deep graph must not recurse either
    z = x
    for _ in range(20_000):
        z = z + 0.0
    del z  # never backpropagated


def test_nodes_hold_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = cr.arange(3.0, requires_grad=True)
        y = cr.exp(x * 2).sum()
        node = weakref.ref(y.grad_fn)
        inner = weakref.ref(y.grad_fn.next_functions[0])
        del y
        assert node() is None and inner() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_training_steps_do_not_grow_memory():
    rng = np.random.default_rng(0)
    inputs = cr.tensor(rng.standard_normal((16, 4)))
    targets = cr.tensor(rng.standard_normal((16, 1)))
    w = cr.tensor(rng.standard_normal((4, 1)) * 0.1, requires_grad=True)
    b = cr.zeros(1, dtype="float64", requires_grad=True)
    nodes = []

    def step():
        loss = (((inputs @ w + b) - targets) ** 2).mean()
        if len(nodes) < 100:
            nodes.append(weakref.ref(loss.grad_fn))
        loss.backward()
        with cr.no_grad():
            w.sub_(0.05 * w.grad)
            b.sub_(0.05 * b.grad)
            w.grad.zero_()
            b.grad.zero_()
        return loss.item()

    first = step()
    for _ in range(300):
        step()
    tracemalloc.start()
    for _ in range(50):  # NumPy refills its small caches once tracing starts
        step()
    warm = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        last = step()
    grown = tracemalloc.get_traced_memory()[0] - warm
    tracemalloc.stop()
    assert last < first
    assert all(ref() is None for ref in nodes)  # every step's graph was freed
    # A graph is a few kB (six nodes and their saved arrays): one leaked per step would be
    # megabytes. What remains is interpreter and NumPy caching, a few bytes per step at most.
    assert grown < 200_000, f"memory grew by {grown} bytes over 1000 steps"


# ---------------------------------------------------------------------------- decision 5


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


# ---------------------------------------------------------------------------- decision 6


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


# ---------------------------------------------------------------------------- hooks, retain_grad


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


# ---------------------------------------------------------------------------- higher orders


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


# ---------------------------------------------------------------------------- gradcheck


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


# ---------------------------------------------------------------------------- donation
# Big arrays only the engine holds are overwritten by the last rule of a node (engine.run).
# Nothing anyone else can see may change, and the gradients must be the same.

BIG = 1 << 13  # above engine.DONATE_MIN


def _wide(x, rounds=3):
    y = x
    for _ in range(rounds):
        y = cr.sin(y) * 1.01
    return cr.sum(cr.tanh(cr.exp(y * 0.5)) * y)


def _wide_numeric(x0):
    (grad,) = numeric_gradient(lambda arrays: float(_wide(cr.tensor(arrays[0])).item()), [x0])
    return grad


def _backward_allocations(x0):
    """Bytes NumPy allocates during the backward of ``_wide`` (tracemalloc sees NumPy's)."""
    x = cr.tensor(x0, requires_grad=True)
    loss = _wide(x)
    tracemalloc.start()
    try:
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return x, peak


def test_donated_buffers_give_the_same_gradients_as_fresh_ones(monkeypatch):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(BIG)
    x, donated_peak = _backward_allocations(x0)
    monkeypatch.setattr(engine, "DONATE_MIN", 1 << 62)  # nothing donated
    undonated, peak = _backward_allocations(x0)
    np.testing.assert_array_equal(x.grad.numpy(), undonated.grad.numpy())
    assert donated_peak < peak - x0.nbytes // 2  # the rules wrote into what was given up
    monkeypatch.undo()
    small = cr.tensor(x0[:64], requires_grad=True)  # below the threshold: nothing donated
    _wide(small).backward()
    np.testing.assert_allclose(x.grad.numpy()[:64], small.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy()[:64], _wide_numeric(x0[:64]), rtol=1e-6, atol=1e-8)


def test_donation_leaves_what_the_user_holds_alone():
    rng = np.random.default_rng(4)
    x = cr.tensor(rng.standard_normal(BIG), requires_grad=True)
    s = cr.sin(x)
    y = s * 1.01
    z = cr.exp(y)
    before = [t.detach().numpy().copy() for t in (x, s, y, z)]
    seen = []
    y.register_hook(lambda g: seen.append(g))
    s.retain_grad()
    cr.sum(z * y).backward()
    for tensor, value in zip((x, s, y, z), before):
        np.testing.assert_array_equal(tensor.detach().numpy(), value)
    g_y = np.exp(before[2]) * (1 + before[2])  # d sum(exp(y) * y) / dy
    np.testing.assert_allclose(seen[0].detach().numpy(), g_y, rtol=1e-10)
    np.testing.assert_allclose(s.grad.numpy(), 1.01 * g_y, rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), 1.01 * g_y * np.cos(before[0]), rtol=1e-10)


def test_retained_graph_keeps_its_saved_values_through_donation():
    rng = np.random.default_rng(5)
    x = cr.tensor(rng.standard_normal(BIG), requires_grad=True)
    loss = _wide(x)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)


def test_an_input_used_twice_is_not_donated_to_one_of_its_uses():
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal(BIG)
    x = cr.tensor(x0, requires_grad=True)
    h = cr.sin(x) * 1.0  # an intermediate nobody holds after the line below
    cr.sum(h * h).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sin(x0) * np.cos(x0), rtol=1e-12)


def test_compiled_apply_refuses_what_it_does_not_take_and_leaves_tensors_alone():
    from chainrule import ops

    x = cr.tensor([0.5, 1.0], requires_grad=True)
    before = snapshot(x)
    with pytest.raises(TypeError, match="bogus"):
        ops.sin(x, bogus=1)
    assert_unchanged(before, x)
    # and the compiled path records exactly what the general one does
    general = type(ops.sin).apply.__get__(ops.sin)
    y, z = ops.sin.apply((x,), {}), general((x,), {})
    assert y.grad_fn.saved == z.grad_fn.saved and y.grad_fn.versions == z.grad_fn.versions
    (y * z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sin([0.5, 1.0]) * np.cos([0.5, 1.0]))


@pytest.mark.parametrize("size", [5, BIG])
def test_fan_in_sums_in_place_only_what_the_engine_holds(size):
    rng = np.random.default_rng(7)
    x0 = rng.standard_normal(size)
    x = cr.tensor(x0, requires_grad=True)
    y = cr.sin(x)
    seen = []
    y.register_hook(lambda g: seen.append(g))  # the summed cotangent of y, kept by the user
    cr.sum(y * y + y * 2.0 + cr.exp(y) + y).backward()
    s = np.sin(x0)
    g_y = 2 * s + 2.0 + np.exp(s) + 1.0
    np.testing.assert_allclose(seen[0].detach().numpy(), g_y, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), g_y * np.cos(x0), rtol=1e-12)
    # x reached twice (two uses): its two contributions are summed into one buffer
    w = cr.tensor(x0, requires_grad=True)
    cr.sum(cr.sin(w) * 3.0 + cr.cos(w)).backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * np.cos(x0) - np.sin(x0), rtol=1e-12)


def test_donation_is_calibrated_on_this_interpreter_and_spares_the_users_arrays():
    # The calibration found a count for every way the engine holds an array (or switched
    # donation off on an interpreter without a GIL): it is never a number written for one
    # Python. The example, which overwrote ``a`` on Python 3.10:
    if getattr(sys, "_is_gil_enabled", lambda: True)():
        assert None not in engine._SOLE
    a0 = np.random.default_rng(8).standard_normal(BIG)
    a = cr.tensor(a0.copy(), requires_grad=True)
    cr.sum(cr.exp(cr.sin(a) * 1.01)).backward()
    np.testing.assert_array_equal(a.detach().numpy(), a0)
    assert not np.shares_memory(a.detach().numpy(), a.grad.numpy())
    np.testing.assert_allclose(
        a.grad.numpy(), np.exp(np.sin(a0) * 1.01) * 1.01 * np.cos(a0), rtol=1e-12
    )


# ---------------------------------------------------------------------------- nothing vanishes


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


def test_a_leaf_that_stopped_requiring_grad_gets_no_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.requires_grad_(False)
    y.backward()
    assert x.grad is None


def test_inputs_named_twice_are_written_once():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward(inputs=[h, h, x, x])
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


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


# ---------------------------------------------------------------------------- hooks and .grad


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


def test_variadic_plans_are_bounded():
    from chainrule import ops

    parts = [cr.tensor([1.0], requires_grad=True) for _ in range(16)]
    for i in range(3000):
        mixed = [p if i >> k & 1 else p.detach() for k, p in enumerate(parts)]
        cr.concatenate(mixed)
    assert len(ops.concatenate._plans) <= 256


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
