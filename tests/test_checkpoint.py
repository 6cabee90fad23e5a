"""cr.checkpoint (rematerialization), torch.utils.checkpoint and tf.recompute_grad."""

from __future__ import annotations

import warnings
import weakref

import numpy as np
import pytest

import chainrule as cr
import chainrule.tensorflow as tf
import chainrule.torch as ctorch
from chainrule.node import Node
from chainrule.torch.utils.checkpoint import checkpoint, checkpoint_sequential


def _t(values, requires_grad=True):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _block(w):
    return lambda h: cr.tanh(h @ w) * cr.sin(h)


def _close(a, b, tol=1e-12):
    with cr.no_grad():
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------- derivatives


def test_reverse_and_forward_mode_match_finite_differences():
    def f(x, w):  # w is closed over by the checkpointed function
        return cr.checkpoint(_block(w))(x) ** 2

    assert cr.gradcheck(f, [_rand(3, 4), _rand(4, 4, seed=1)])


def test_pytrees_in_and_out_with_constants_passed_through():
    @cr.checkpoint
    def f(pair, scale, opts):
        a, b = pair
        return {"sum": cr.sin(a) * b * scale, "n": opts["n"], "count": cr.tensor(3)}, cr.exp(b)

    def loss(a, b):
        out, extra = f((a, b), 2.0, {"n": "keep"})
        assert out["n"] == "keep" and out["count"].dtype == np.int64
        return out["sum"].sum() + extra.sum()

    assert cr.gradcheck(loss, [_rand(3), _rand(3, seed=1)])


def test_second_order_grad_of_grad_and_hessian():
    w = _t(_rand(3, 3, seed=2))

    def f(x):
        return cr.sum(cr.checkpoint(_block(w))(x))

    def plain(x):
        return cr.sum(_block(w)(x))

    x = _rand(2, 3)
    assert cr.gradcheck(lambda x: cr.grad(f)(x), [x], modes=("rev",))
    _close(cr.hessian(f)(x), cr.hessian(plain)(x))
    _close(cr.jacrev(cr.grad(f))(x), cr.jacrev(cr.grad(plain))(x))
    y = _t(x)
    (gx,) = cr.gradients(f(y), y, create_graph=True)
    (ggx,) = cr.gradients((gx * gx).sum(), y)
    y2 = _t(x)
    (px,) = cr.gradients(plain(y2), y2, create_graph=True)
    _close(ggx, cr.gradients((px * px).sum(), y2)[0])


def test_batched_cotangents_jacrev_and_vjp_called_twice():
    w = _t(_rand(4, 4, seed=3))
    x = _rand(2, 4)
    _close(cr.jacrev(cr.checkpoint(_block(w)))(x), cr.jacrev(_block(w))(x))
    out, vjp_fn = cr.vjp(cr.checkpoint(_block(w)), x)
    ct = _rand(2, 4, seed=4)
    first, second = vjp_fn(ct)[0], vjp_fn(ct)[0]
    _close(first, second)
    _close(first, cr.vjp(_block(w), x)[1](ct)[0])


def test_forward_over_reverse_through_a_recorded_checkpoint():
    w = _rand(3, 3, seed=13)
    x, ct, t = _rand(2, 3), _rand(2, 3, seed=14), _rand(2, 3, seed=15)
    _, vjp_fn = cr.vjp(cr.checkpoint(_block(w)), x)
    _, plain_fn = cr.vjp(_block(w), x)
    # vjp_fn is linear in its cotangent: its jvp is itself, run with tangent-carrying flows
    _close(cr.jvp(lambda c: vjp_fn(c)[0], (ct,), (t,))[1], plain_fn(t)[0])


def test_forward_mode_differentiates_the_function_itself():
    w = _rand(3, 3, seed=5)
    x, t = _rand(2, 3), _rand(2, 3, seed=6)
    _close(cr.jvp(cr.checkpoint(_block(w)), (x,), (t,))[1], cr.jvp(_block(w), (x,), (t,))[1])
    # tangents carried only by a tensor the function closes over
    def outer(v):
        return cr.checkpoint(lambda h: cr.sin(h * v))(cr.tensor(x))

    _close(cr.jvp(outer, (x,), (t,))[1], cr.jvp(lambda v: cr.sin(x * v), (x,), (t,))[1])
    _close(cr.jacfwd(cr.checkpoint(_block(w)))(x), cr.jacfwd(_block(w))(x))


def test_nested_checkpoints():
    w = _t(_rand(3, 3, seed=7))
    inner = cr.checkpoint(_block(w))

    @cr.checkpoint
    def outer(h):
        return inner(inner(h)) + h

    def plain(h):
        return _block(w)(_block(w)(h)) + h

    x = _t(_rand(2, 3))
    outer(x).sum().backward()
    x2 = _t(x.detach())
    w_grad = w.grad
    w.grad = None
    plain(x2).sum().backward()
    _close(x.grad, x2.grad)
    _close(w_grad, w.grad)
    assert cr.gradcheck(lambda h: cr.grad(lambda h: outer(h).sum())(h), [_rand(2, 3)],
                        modes=("rev",))


def test_tape_backward_accumulates_into_closed_over_leaves():
    w = _t(_rand(3, 3, seed=8))
    b = _t(_rand(3, seed=9))
    scaled = w * 2.0  # a closed-over result: its gradient flows on to w
    f = cr.checkpoint(lambda h: cr.tanh(h @ scaled + b))
    x = _t(_rand(2, 3))
    f(f(x)).sum().backward()
    grads = [x.grad, w.grad, b.grad]
    for leaf in (x, w, b):
        leaf.grad = None
    plain = lambda h: cr.tanh(h @ (w * 2.0) + b)  # noqa: E731
    plain(plain(x)).sum().backward()
    for got, want in zip(grads, [x.grad, w.grad, b.grad], strict=True):
        _close(got, want)


def test_method_decorator_and_no_grad():
    class Layer:
        def __init__(self):
            self.w = _t(_rand(3, 3, seed=10))

        @cr.checkpoint
        def __call__(self, h):
            return cr.tanh(h @ self.w)

    layer = Layer()
    x = _t(_rand(2, 3))
    layer(x).sum().backward()
    assert layer.w.grad.shape == (3, 3)
    with cr.no_grad():
        assert not layer(x).requires_grad


# ---------------------------------------------------------------------------- memory


def test_the_forward_keeps_no_intermediate_alive():
    x = _t(_rand(4, 8))
    nodes = []

    def f(h):
        for _ in range(5):
            h = cr.tanh(h)
            nodes.append(weakref.ref(h._node))
        return h

    plain = f(x)
    assert all(ref() is not None for ref in nodes)
    del plain
    nodes.clear()
    y = cr.checkpoint(f)(x)
    assert len(nodes) == 5 and all(ref() is None for ref in nodes)
    node = y._node
    assert type(node) is Node and node.name == "checkpoint_call"
    assert [np.shares_memory(s, x._array) for s in node.saved] == [True]  # its input only
    y.sum().backward()
    assert len(nodes) == 10 and all(ref() is None for ref in nodes)  # the rerun's, freed too
    _close(x.grad, cr.grad(lambda h: f(h).sum())(x.detach()))


def test_checkpoint_sequential_saves_segment_inputs_only():
    x = ctorch.tensor(_rand(4, 6), requires_grad=True)
    layers = [ctorch.tanh] * 12
    y = checkpoint_sequential(layers, 4, x, use_reentrant=False)
    carriers, saved_bytes, stack = 0, 0, [y._node]
    while stack:
        node = stack.pop()
        carriers += node.name == "checkpoint_call"
        saved_bytes += sum(np.asarray(s).nbytes for s in node.saved if s is not None)
        saved_bytes += 0 if node.ans is None else np.asarray(node.ans).nbytes
        stack += [p for p in node.parents if type(p) is Node]
    # 3 checkpointed segments (inputs kept) and the last one (3 tanh outputs), as PyTorch
    assert carriers == 3
    assert saved_bytes == (3 + 3) * x.detach().numpy().nbytes


# ---------------------------------------------------------------------------- randomness


def test_random_numbers_are_replayed_and_the_callers_stream_is_untouched():
    def noisy(h):
        return cr.sin(h) * cr.random.normal(size=h.shape, dtype="float64")

    x = _t(_rand(5))
    cr.random.seed(3)
    cr.checkpoint(noisy)(x).sum().backward()
    after = cr.random.normal(size=3, dtype="float64")
    x2 = _t(x.detach())
    cr.random.seed(3)
    noisy(x2).sum().backward()
    _close(x.grad, x2.grad)
    _close(after, cr.random.normal(size=3, dtype="float64"))


def test_torch_dropout_gives_the_same_mask_on_the_rerun():
    import chainrule.torch.nn.functional as F  # noqa: N812

    w = ctorch.tensor(_rand(6, 6, seed=11), requires_grad=True)
    x = ctorch.tensor(_rand(4, 6), requires_grad=True)

    def block(h):
        return F.dropout(ctorch.tanh(h @ w), 0.5, training=True)

    ctorch.manual_seed(0)
    checkpoint(block, x, use_reentrant=False).sum().backward()
    grads = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    ctorch.manual_seed(0)
    block(x).sum().backward()
    _close(grads[0], x.grad)
    _close(grads[1], w.grad)


# ---------------------------------------------------------------------------- refusals


def test_a_function_that_changes_its_argument_in_place_is_refused():
    w = _t(_rand(3))

    def f(h):
        h.mul_(2.0)
        return h * w

    with pytest.raises(RuntimeError, match="changed one of its arguments in place"):
        cr.checkpoint(f)(_t(_rand(3), requires_grad=False))
    with pytest.raises(RuntimeError, match="in-place"):  # (a leaf that requires grad)
        cr.checkpoint(f)(_t(_rand(3)))


def test_a_closed_over_tensor_changed_in_place_is_refused_never_a_wrong_gradient():
    buffer = cr.tensor(np.ones(3))

    def f(h):
        buffer.add_(1.0)  # a side effect the rerun would repeat
        return h * buffer

    x = _t(_rand(3))
    y = cr.checkpoint(f)(x)
    with pytest.raises(RuntimeError, match="changed in place"):
        y.sum().backward()

    w = _t(_rand(3, 3))
    y = cr.checkpoint(lambda h: cr.tanh(h @ w))(_t(_rand(2, 3)))
    with cr.no_grad():
        w.sub_(0.1)  # an optimizer step between forward and backward
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_a_function_that_returns_something_else_on_the_rerun_is_refused():
    calls = []

    def f(h):
        calls.append(1)
        return cr.sin(h) if len(calls) == 1 else cr.sin(h)[:1]

    y = cr.checkpoint(f)(_t(_rand(3)))
    with pytest.raises(RuntimeError, match="returned something else"):
        y.sum().backward()


def test_bad_arguments():
    with pytest.raises(TypeError, match="expects a function"):
        cr.checkpoint(3)
    x = ctorch.tensor(_rand(2), requires_grad=True)
    with pytest.raises(ValueError, match="segments must be between 1 and"):
        checkpoint_sequential([ctorch.sin], 2, x, use_reentrant=False)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([ctorch.sin], 1, x, use_reentrant=False, foo=1)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda h, scale: h * scale, x, use_reentrant=True, scale=2.0)


# ---------------------------------------------------------------------------- dialects


def test_torch_checkpoint_keyword_arguments_and_autograd_grad():
    x = ctorch.tensor(_rand(3), requires_grad=True)
    y = checkpoint(lambda h, scale: ctorch.sin(h) * scale, x, scale=3.0, use_reentrant=False)
    assert type(y) is ctorch.Tensor
    (g,) = ctorch.autograd.grad(y.sum(), x)
    _close(g, 3.0 * np.cos(x.detach().numpy()))
    via = ctorch.utils.checkpoint.checkpoint  # import chainrule.torch as torch spelling
    assert via is checkpoint


def test_checkpoint_sequential_takes_a_container_with_children():
    class Sequential:
        def __init__(self, *layers):
            self.layers = layers

        def children(self):
            return iter(self.layers)

    x = ctorch.tensor(_rand(3), requires_grad=True)
    y = checkpoint_sequential(Sequential(ctorch.sin, ctorch.tanh, ctorch.exp), 3, x,
                              use_reentrant=False)
    _close(y, np.exp(np.tanh(np.sin(x.detach().numpy()))))
    assert y._node.name == "exp"  # the last segment is not checkpointed
    with pytest.raises(TypeError, match="context_fn"):
        checkpoint(ctorch.sin, x, context_fn=lambda: None)


def test_torch_reentrant_without_inputs_requiring_grad_gives_no_gradient():
    w = ctorch.tensor(_rand(2), requires_grad=True)
    x = ctorch.tensor(_rand(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = checkpoint(lambda h: h * w, x, use_reentrant=True)
    assert not y.requires_grad and "None of the inputs" in str(caught[0].message)
    assert checkpoint(lambda h: h * w, x, use_reentrant=False).requires_grad


def test_torch_checkpoint_sequential_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint_sequential as real_sequential

    data = [_rand(5, 5, seed=k) / 2 for k in range(7)]

    def run(lib, sequential):
        ws = [lib.tensor(d, requires_grad=True) for d in data]
        x = lib.tensor(_rand(3, 5), requires_grad=True)
        layers = [lambda h, w=w: lib.tanh(h @ w) for w in ws]
        sequential(layers, 3, x, use_reentrant=False).pow(2).sum().backward()
        return [x.grad.detach().numpy()] + [w.grad.detach().numpy() for w in ws]

    for got, want in zip(run(ctorch, checkpoint_sequential), run(torch, real_sequential),
                         strict=True):
        _close(got, want, tol=1e-10)


def test_tf_recompute_grad_under_a_gradient_tape():
    w = tf.Variable(_rand(3, 3, seed=12))
    block = tf.recompute_grad(lambda h: tf.tanh(tf.matmul(h, w)))
    x = tf.constant(_rand(2, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(block(block(x)))
    got = tape.gradient(y, [x, w])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.tanh(tf.matmul(tf.tanh(tf.matmul(x, w)), w)))
    for a, b in zip(got, tape.gradient(y, [x, w]), strict=True):
        _close(a, b)


def test_a_closed_over_constant_changed_in_place_behind_an_op_that_saves_nothing_is_refused():
    buffer = cr.tensor(np.zeros(3))

    def f(h):
        buffer.add_(1.0)
        return cr.sin(h + buffer)  # add saves nothing; sin saves the (fresh) sum

    y = cr.checkpoint(f)(_t(_rand(3)))
    with pytest.raises(RuntimeError, match="changed in place"):
        y.sum().backward()
    # the caller may update the output in place: it is not what the rerun is compared with
    x = _t(_rand(3))
    y = cr.checkpoint(lambda h: cr.exp(h) * 1.0)(x)
    y.mul_(2.0)
    y.sum().backward()
    _close(x.grad, np.exp(x.detach().numpy()) * 2.0)


def test_torch_checkpoint_without_use_reentrant_warns_and_is_reentrant_as_pytorch():
    import chainrule.torch as torch

    x = torch.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        y = torch.utils.checkpoint.checkpoint(torch.sin, x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 1.0]))
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant"):
        torch.utils.checkpoint.checkpoint_sequential([torch.sin, torch.cos], 2, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):  # reentrant's rule
        with pytest.warns(UserWarning):
            torch.utils.checkpoint.checkpoint(lambda a, b: a * b, x, b=x)
