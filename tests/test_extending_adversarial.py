"""Custom rules, checkpoints and saved-value hooks used the way a demanding user does: hooks
on what custom rules keep, in-place updates under hooks, outputs aliasing residuals, complex
cotangents in each convention, compared with finite differences and with real PyTorch."""

import contextlib
import gc
import weakref

import numpy as np
import pytest

import chainrule as cr
import chainrule.torch as ctorch


class DiskLike:
    """Pack hooks keeping copies away from the tensors (as a pack to disk does), counting."""

    def __init__(self, module=cr):
        self.store, self.unpacks, self.module = [], 0, module

    def pack(self, tensor):
        self.store.append(np.array(tensor.detach().numpy(), copy=True))
        return len(self.store) - 1

    def unpack(self, key):
        self.unpacks += 1
        return self.module.tensor(self.store[key])

    def hooks(self):
        return self.module.autograd.graph.saved_tensors_hooks(self.pack, self.unpack) if (
            self.module is ctorch) else cr.saved_tensors_hooks(self.pack, self.unpack)


# ------------------------------------------------------------ hooks on custom rules' values
@cr.custom_vjp
def scaled_square(x, w):
    return (x * w) ** 2


def _scaled_square_fwd(x, w):
    y = x * w
    return y ** 2, (x, w, y)


def _scaled_square_bwd(res, g):
    x, w, y = res
    return 2 * g * y * w, 2 * g * y * x


scaled_square.defvjp(_scaled_square_fwd, _scaled_square_bwd)


def _second_derivatives(make, hooks):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([0.5, -1.5], requires_grad=True)
    with hooks() if hooks else contextlib.nullcontext():
        y = cr.sum(make(x * 1.0, w))
    gx, gw = cr.gradients(y, (x, w), create_graph=True)
    return [v.numpy() for v in cr.gradients(cr.sum(gx * gw), (x, w))]


def test_custom_vjp_residuals_go_through_the_hooks_to_second_order():
    disk = DiskLike()
    plain = _second_derivatives(scaled_square, None)
    packed = _second_derivatives(scaled_square, disk.hooks)
    assert disk.unpacks >= 3  # (x, w, y: each read from the store by bwd)
    for a, b in zip(plain, packed, strict=True):
        assert np.array_equal(a, b)
    expected = _second_derivatives(lambda x, w: (x * w) ** 2, None)
    for a, b in zip(plain, expected, strict=True):
        assert np.allclose(a, b, rtol=1e-12)


def test_custom_vjp_residuals_packed_once_per_leaf_and_unpack_checked():
    shapes = []

    def pack(t):
        shapes.append(t.shape)
        return t.numpy().astype(np.float16)  # the wrong dtype back: refused at unpack

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.saved_tensors_hooks(pack, lambda a: a):
        with cr.no_grad():
            w = cr.tensor([3.0, 4.0])
        y = cr.sum(scaled_square(x, w))
    assert shapes.count((2,)) >= 3
    with pytest.raises(RuntimeError, match="unpack must give back what pack was given"):
        y.backward()
    assert x.grad is None


class _Square(ctorch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        y = x * w
        ctx.save_for_backward(x, w, y)
        return y * y

    @staticmethod
    def backward(ctx, g):
        x, w, y = ctx.saved_tensors
        return 2 * g * y * w, 2 * g * y * x


def test_save_for_backward_goes_through_the_hooks_with_double_backward():
    disk = DiskLike(ctorch)
    x = ctorch.tensor([1.0, 2.0], dtype=ctorch.float64, requires_grad=True)
    w = ctorch.tensor([0.5, -1.5], dtype=ctorch.float64, requires_grad=True)
    with disk.hooks():
        y = _Square.apply(x * 1.0, w).sum()
    packs = len(disk.store)
    gx, gw = ctorch.autograd.grad(y, (x, w), create_graph=True)
    assert disk.unpacks >= 3 and len(disk.store) == packs
    hx, hw = ctorch.autograd.grad((gx * gw).sum(), (x, w))
    # As in PyTorch, y was computed in forward without history: sum(2 y w * 2 y x) with y fixed
    xs, ws = np.array([1.0, 2.0]), np.array([0.5, -1.5])
    ys = xs * ws
    assert np.allclose(hx.numpy(), 4 * ys**2 * ws, rtol=1e-14)
    assert np.allclose(hw.numpy(), 4 * ys**2 * xs, rtol=1e-14)


def test_save_for_backward_under_hooks_matches_real_torch():
    torch = pytest.importorskip("torch")

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    class OurExp(ctorch.autograd.Function):
        forward, backward = Exp.forward, Exp.backward

    results = []
    for module, function in ((torch, Exp), (ctorch, OurExp)):
        seen = []
        x = module.tensor([0.5, 1.5], dtype=module.float64, requires_grad=True)
        with module.autograd.graph.saved_tensors_hooks(
            lambda t, seen=seen: seen.append(tuple(t.shape)) or t, lambda t: t
        ):
            y = function.apply(x)
        y.sum().backward()
        results.append((seen, x.grad.detach().numpy()))
    (torch_seen, torch_grad), (our_seen, our_grad) = results
    assert np.allclose(torch_grad, our_grad, rtol=1e-15)
    assert set(torch_seen) <= set(our_seen)  # (ours also packs the recorded op's inputs)


def test_saved_output_of_a_function_under_hooks_still_refuses_an_update_in_place():
    class Exp(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    disk = DiskLike(ctorch)
    x = ctorch.tensor([0.5, 1.5], requires_grad=True)
    with disk.hooks():
        y = Exp.apply(x * 1.0)
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    assert x.grad is None


# ------------------------------------------------------------ in-place updates under hooks
@pytest.mark.parametrize("store", ["as_is", "copy"])
def test_an_update_in_place_of_what_its_op_saves_matches_pytorch(store):
    torch = pytest.importorskip("torch")
    pack_cr = (lambda t: t) if store == "as_is" else (lambda t: t.numpy().copy())
    pack_torch = (lambda t: t) if store == "as_is" else (lambda t: t.detach().clone())
    results = []
    for module, pack, unpack in (
        (torch, pack_torch, lambda t: t), (cr, pack_cr, lambda a: cr.tensor(a)),
    ):
        x = module.tensor([1.0, 2.0], dtype=module.float64, requires_grad=True)
        w = module.tensor([3.0, -4.0], dtype=module.float64, requires_grad=True)
        hooks = (module.autograd.graph.saved_tensors_hooks if module is torch
                 else cr.saved_tensors_hooks)
        with hooks(pack, unpack):
            y = x * 2.0
            y *= w
            y = y * y
            y *= w
        y.sum().backward()
        results.append((x.grad.detach().numpy(), w.grad.detach().numpy()))
    for ours, theirs in zip(results[1], results[0], strict=True):
        assert np.array_equal(ours, theirs)


def test_an_update_in_place_of_a_saved_output_still_raises_under_hooks():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = cr.exp(x * 1.0)  # exp saves its output
        y *= 2.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    assert x.grad is None


# ------------------------------------------------------------ outputs aliasing residuals
@cr.custom_vjp
def _exp(x):
    return cr.exp(x)


def _exp_fwd(x):
    y = cr.exp(x)
    return y, y  # the output is its own residual


_exp.defvjp(_exp_fwd, lambda y, g: (g * y,))


def test_an_update_in_place_of_a_custom_vjp_output_does_not_change_its_residual():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = _exp(x)
    y *= 2.0
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


# ------------------------------------------------------------ complex cotangents
@cr.custom_jvp
def _sin(x):
    return cr.sin(x)


_sin.defjvp(lambda primals, tangents: (_sin(primals[0]), cr.cos(primals[0]) * tangents[0]))

Z0 = np.array([1 + 1j, 2 - 0.5j])


def test_custom_jvp_reverse_mode_of_a_complex_input_is_the_plain_ops():
    g = np.array([1.0 + 0.5j, -2j])
    ours = cr.vjp(_sin, Z0)[1](g)[0].numpy()
    plain = cr.vjp(cr.sin, Z0)[1](g)[0].numpy()
    assert np.allclose(ours, plain, rtol=1e-14)
    assert cr.gradcheck(lambda z: _sin(z) * z, [cr.tensor(Z0)])
    hess = cr.hessian(lambda z: cr.sum(cr.abs(_sin(z)) ** 2))(Z0.real)
    plain_hess = cr.hessian(lambda z: cr.sum(cr.abs(cr.sin(z)) ** 2))(Z0.real)
    assert np.allclose(np.asarray(hess), np.asarray(plain_hess), rtol=1e-12)


def test_custom_vjp_bwd_speaks_jax_convention_for_complex():
    assert cr.gradcheck(lambda z: _exp(z) * z, [cr.tensor(Z0)], modes=("rev",))


def _complex_exp(module, conjugate):
    class Exp(module.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * (r.conj() if conjugate else r)

    return Exp


@pytest.mark.parametrize("conjugate", [True, False])
def test_function_backward_of_a_complex_input_matches_real_torch(conjugate):
    torch = pytest.importorskip("torch")
    weights = np.array([0.3 - 1j, 2 + 0.2j])
    grads = []
    for module in (torch, ctorch):
        z = module.tensor(Z0, requires_grad=True)
        y = _complex_exp(module, conjugate).apply(z)
        (y * module.tensor(weights)).real.sum().backward()
        grads.append(z.grad.detach().numpy())
    assert np.allclose(grads[0], grads[1], rtol=1e-14)
    assert cr.gradcheck(
        lambda z: _complex_exp(ctorch, True).apply(z) * z,
        [ctorch.tensor(Z0)], modes=("rev",),
    )


def test_custom_gradient_of_a_complex_input_is_the_plain_tape():
    tf = pytest.importorskip("chainrule.tensorflow")

    @tf.custom_gradient
    def exp(x):
        y = tf.exp(x)
        return y, lambda upstream: upstream * tf.constant(np.conj(y.numpy()))

    results = []
    for fn in (exp, tf.exp):
        z = tf.Variable(Z0)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.abs(fn(z) * tf.constant(np.array([0.3 - 1j, 2j]))) ** 2)
        results.append(np.asarray(tape.gradient(loss, z)))
    assert np.allclose(results[0], results[1], rtol=1e-14)


# ------------------------------------------------------------ graphs die with their tensors
@pytest.mark.parametrize("kind", ["custom_vjp", "function", "checkpoint"])
def test_graphs_under_hooks_die_with_their_tensors(kind):
    run = {
        "custom_vjp": lambda x: scaled_square(x, x),
        "function": lambda x: _Square.apply(x, x),
        "checkpoint": cr.checkpoint(lambda x: cr.tanh(cr.sin(x))),
    }[kind]
    x = (ctorch if kind == "function" else cr).tensor([0.5, 1.5], requires_grad=True)
    disk = DiskLike(ctorch if kind == "function" else cr)
    with disk.hooks():
        y = run(x * 1.0)
    node = weakref.ref(y._node)
    gc.disable()
    try:
        del y
        assert node() is None  # (freed by reference counting: no cycle)
    finally:
        gc.enable()


# ------------------------------------------------------------ hooks and threads
def test_a_block_closing_in_one_thread_leaves_another_threads_block_working(monkeypatch):
    import threading

    from chainrule import saved_hooks

    real_remove = saved_hooks.remove_observer
    closing, opened, removed = threading.Event(), threading.Event(), threading.Event()

    def remove_slowly(observer):
        closing.set()
        opened.wait(0.5)  # (the other thread opens its block meanwhile, if it can)
        real_remove(observer)
        removed.set()

    monkeypatch.setattr(saved_hooks, "remove_observer", remove_slowly)
    packed = []

    def other():
        closing.wait()
        with cr.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
            opened.set()
            removed.wait(2.0)
            cr.sin(cr.tensor([1.0], requires_grad=True))

    thread = threading.Thread(target=other)
    thread.start()
    with cr.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass
    thread.join()
    assert len(packed) == 1


# ------------------------------------------------------------ hooks and checkpoints
def test_hooks_see_only_what_a_checkpoint_keeps_as_pytorch():
    x0 = np.array([0.3, -0.7, 1.1])
    shapes = []
    x = cr.tensor(x0, requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: shapes.append(t.shape) or t, lambda t: t):
        y = cr.sum(cr.checkpoint(lambda x: cr.tanh(cr.sin(x)))(x))
        y.backward()
    assert shapes == [(3,)]  # the checkpoint's input; neither run's inner values
    assert np.allclose(x.grad.numpy(), (1 - np.tanh(np.sin(x0)) ** 2) * np.cos(x0), rtol=1e-14)
    torch = pytest.importorskip("torch")
    seen = []
    tx = torch.tensor(x0, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: seen.append(t.shape) or t, lambda t: t):
        torch.utils.checkpoint.checkpoint(
            lambda x: torch.tanh(torch.sin(x)), tx, use_reentrant=False
        ).sum().backward()
    assert [tuple(s) for s in seen] == shapes


def test_a_hooks_block_inside_a_checkpointed_function_applies():
    shapes = []

    def f(x):
        with cr.saved_tensors_hooks(lambda t: shapes.append(t.shape) or t, lambda t: t):
            return cr.sin(x)

    x = cr.tensor([0.5, 1.0], requires_grad=True)
    cr.sum(cr.checkpoint(f)(x)).backward()
    assert len(shapes) == 2  # (sin's input, in the first run and in the rerun)
    assert np.allclose(x.grad.numpy(), np.cos([0.5, 1.0]))


def test_residuals_that_are_not_arrays_pass_the_hooks_untouched():
    class Factorization:  # an object with a shape, as a solver's factorization may be
        shape = (2,)

    @cr.custom_vjp
    def twice(x):
        return x * 2.0

    kept = Factorization()
    twice.defvjp(lambda x: (x * 2.0, (kept, "name", 3.0, None)),
                 lambda res, g: (2.0 * g * (res[0] is kept) * (res[2] / 3.0),))
    packed = []
    with cr.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        grad = cr.grad(lambda x: cr.sum(twice(x)))(np.array([1.0, 2.0]))
    assert np.array_equal(grad.numpy(), [2.0, 2.0])
    assert all(isinstance(t, cr.Tensor) for t in packed)


def test_mxnet_function_saved_values_go_through_the_hooks():
    from chainrule.mxnet import autograd
    from chainrule.mxnet import np as mnp

    class Sigmoid(autograd.Function):
        def forward(self, x):
            y = 1 / (1 + mnp.exp(-x))
            self.save_for_backward(y, x)
            return y

        def backward(self, dy):
            y, _ = self.saved_tensors
            return dy * y * (1 - y)

    disk = DiskLike()
    x = mnp.array([0.5, -1.0])
    x.attach_grad()
    with disk.hooks():
        with autograd.record():
            y = Sigmoid()(x)
    y.backward()
    s = 1 / (1 + np.exp(-np.array([0.5, -1.0])))
    assert np.allclose(x.grad.asnumpy(), s * (1 - s), rtol=1e-6)
    assert disk.unpacks >= 2  # (y and x read by backward; the recorded op reads x too)


# ------------------------------------------------------------ errors name the user's rule
def test_an_error_inside_a_users_rule_names_the_rule():
    import sys

    if sys.version_info < (3, 11):
        pytest.skip("exception notes need Python 3.11")

    @cr.custom_vjp
    def numpy_sin(x):
        return cr.sin(x)

    def numpy_bwd(x, g):
        return (np.cos(np.asarray(x)) * np.asarray(g),)

    numpy_sin.defvjp(lambda x: (cr.sin(x), x), numpy_bwd)
    first = cr.grad(lambda x: cr.sum(numpy_sin(x)))(np.array([0.5]))
    assert np.allclose(first.numpy(), np.cos(0.5))
    with pytest.raises(RuntimeError, match="NumPy conversion") as info:
        cr.grad(lambda x: cr.grad(lambda x: cr.sum(numpy_sin(x)))(x)[0])(np.array([0.5]))
    assert any("custom_vjp bwd rule" in note and "numpy_bwd of" in note
               for note in info.value.__notes__)

    class Broken(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * undefined_name  # noqa: F821 - the user's bug

    x = ctorch.tensor([1.0], requires_grad=True)
    x.grad = ctorch.tensor([7.0])
    with pytest.raises(NameError) as info:
        Broken.apply(x).sum().backward()
    assert any("BrokenBackward" in note for note in info.value.__notes__)
    assert np.array_equal(x.grad.numpy(), [7.0])


# ------------------------------------------------------------ what the graph keeps
def _double_vjp():
    @cr.custom_vjp
    def double(x):
        return x * 2.0

    double.defvjp(lambda x: (x * 2.0, None), lambda res, g: (2.0 * g,))
    return double


def _double_jvp():
    @cr.custom_jvp
    def double(x):
        return x * 2.0

    double.defjvp(lambda primals, tangents: (double(primals[0]), 2.0 * tangents[0]))
    return double


class _Double(ctorch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        return 2.0 * g


@pytest.mark.parametrize("make", [_double_vjp, _double_jvp, lambda: _Double.apply])
def test_the_graph_does_not_keep_a_custom_functions_output(make):
    double = make()
    x = ctorch.tensor(np.ones(4), requires_grad=True)
    y = double(x)
    memory = weakref.ref(y._array)
    z = y + 1.0  # (add saves nothing)
    del y
    assert memory() is None
    z.sum().backward()
    assert np.array_equal(x.grad.numpy(), [2.0] * 4)
