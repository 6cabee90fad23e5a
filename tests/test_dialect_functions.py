"""Custom rules in the dialects: ``torch.autograd.Function``, MXNet's ``autograd.Function`` and
TensorFlow's ``custom_gradient``, checked against finite differences (float64, both modes where
the spelling has a forward rule, second order where the backward is differentiable) and, for
PyTorch's documented examples, against PyTorch itself."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.torch as ctorch
from chainrule.torch.autograd.function import once_differentiable

RNG = np.random.default_rng(0)


def _examples(torch):
    """PyTorch's documented examples ("Extending torch.autograd"), written against ``torch``
    (chainrule's dialect or PyTorch itself)."""
    Function = torch.autograd.Function  # noqa: N806

    class LinearFunction(Function):
        @staticmethod
        def forward(input, weight, bias):  # noqa: A002
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs  # noqa: A001
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors  # noqa: A001
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(Function):
        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            tensor, constant = inputs
            ctx.constant = constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class Exp(Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

        @staticmethod
        def jvp(ctx, tangent):
            (result,) = ctx.saved_tensors
            return tangent * result

    class MyCube(Function):  # two outputs, one of them saved (the torch.func docs' example)
        @staticmethod
        def forward(x):
            return x ** 3, 3 * x ** 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0], output[1])

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

    return LinearFunction, MulConstant, Exp, MyCube


def _calls(torch):
    linear, mul_constant, exp, cube = _examples(torch)
    return {
        "linear": (lambda x, w, b: linear.apply(x, w, b), [(4, 3), (2, 3), (2,)]),
        "linear_no_bias": (lambda x, w: linear.apply(x, w, None), [(4, 3), (2, 3)]),
        "mul_constant": (lambda x: mul_constant.apply(x, 2.5), [(3,)]),
        "exp": (lambda x: exp.apply(x), [(2, 3)]),
        "cube": (lambda x: sum(out.sum() * k for k, out in zip((1.0, 0.5), cube.apply(x))),
                 [(3,)]),
    }


CASES = sorted(_calls(ctorch))


def _values(shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


@pytest.mark.parametrize("case", CASES)
def test_pytorch_examples_match_pytorch(case):
    torch = pytest.importorskip("torch")
    ours, shapes = _calls(ctorch)[case]
    theirs, _ = _calls(torch)[case]
    values = _values(shapes)
    mine = [ctorch.tensor(v, requires_grad=True) for v in values]
    real = [torch.tensor(v, requires_grad=True) for v in values]
    out_mine, out_real = ours(*mine), theirs(*real)
    np.testing.assert_allclose(out_mine.detach().numpy(), out_real.detach().numpy())
    weights = np.random.default_rng(2).standard_normal(out_real.shape)
    grads_mine = ctorch.autograd.grad(out_mine, mine, ctorch.tensor(weights), create_graph=True)
    grads_real = torch.autograd.grad(out_real, real, torch.tensor(weights), create_graph=True)
    for g_mine, g_real in zip(grads_mine, grads_real, strict=True):
        np.testing.assert_allclose(g_mine.detach().numpy(), g_real.detach().numpy())
    # second order: the gradient's own gradient (where it depends on the inputs)
    if all(g.requires_grad for g in grads_real):
        second_real = torch.autograd.grad(sum((g ** 2).sum() for g in grads_real), real,
                                          allow_unused=True)
        second_mine = ctorch.autograd.grad(sum((g ** 2).sum() for g in grads_mine), mine,
                                           allow_unused=True)
        for s_mine, s_real in zip(second_mine, second_real, strict=True):
            assert (s_mine is None) == (s_real is None)
            if s_real is not None:
                np.testing.assert_allclose(s_mine.numpy(), s_real.numpy(), atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_pytorch_examples_against_finite_differences(case):
    call, shapes = _calls(ctorch)[case]
    modes = ("rev", "fwd") if case == "exp" else ("rev",)
    assert cr.gradcheck(call, _values(shapes), modes=modes)


@pytest.mark.parametrize("case", ["exp", "cube", "linear", "mul_constant"])
def test_pytorch_examples_second_order(case):
    """gradgradcheck: the gradient (backward recorded with create_graph) against finite
    differences of itself."""
    call, shapes = _calls(ctorch)[case]
    values = _values(shapes)
    weights = _values([np.shape(call(*[cr.tensor(v) for v in values]))], seed=3)[0]

    def loss(*xs):
        return (call(*xs) * cr.tensor(weights)).sum()

    def gradient(*xs):
        grads = cr.grad(loss, argnums=tuple(range(len(xs))))(*xs)
        return sum((g * (k + 1)).sum() for k, g in enumerate(grads))

    assert cr.gradcheck(gradient, values, modes=("rev",))


# ---------------------------------------------------------------- torch: ctx and the rules


class Scale(ctorch.autograd.Function):
    """y = x * k; the gradient returned is configurable, to test the checks."""

    @staticmethod
    def forward(ctx, x, k, returned=None):
        ctx.k, ctx.returned = k, returned
        return x * k

    @staticmethod
    def backward(ctx, g):
        if ctx.returned is not None:
            return ctx.returned(g)
        return g * ctx.k, None, None


def _leaf(values=(1.0, 2.0)):
    x = ctorch.tensor(list(values), dtype=ctorch.float64, requires_grad=True)
    x.grad = ctorch.tensor([10.0, 20.0], dtype=ctorch.float64)
    return x


@pytest.mark.parametrize(("returned", "message"), [
    (lambda g: g * 2, r"function ScaleBackward returned an incorrect number of gradients "
                      r"\(expected 3, got 1\)"),
    (lambda g: (g, ctorch.ones(1), None), r"function ScaleBackward returned a gradient "
                                          r"different than None at position 2, but the "
                                          r"corresponding forward input was not a Variable"),
    (lambda g: (ctorch.ones(3, dtype=ctorch.float64), None, None),
     r"Function ScaleBackward returned an invalid gradient at index 0 - got \[3\] but expected "
     r"shape compatible with \[2\]"),
    (lambda g: (2.0, None, None), r"function ScaleBackward returned a float as gradient 0"),
])
def test_a_wrong_backward_names_the_function_and_leaves_grad_unchanged(returned, message):
    x = _leaf()
    y = Scale.apply(x, 3.0, returned)
    with pytest.raises((RuntimeError, TypeError), match=message):
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 20.0])


def test_gradients_are_summed_to_the_input_shape_and_cast_to_its_dtype_as_pytorch_does():
    x = _leaf()
    y = Scale.apply(x, 3.0, lambda g: (ctorch.ones(4, 2, dtype=ctorch.float32), None, None))
    y.sum().backward()
    assert x.grad.dtype == ctorch.float64
    np.testing.assert_array_equal(x.grad.numpy(), [14.0, 24.0])


def test_extra_none_gradients_are_allowed_and_non_tensors_get_none():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, 3.0, lambda g: (g * 3.0, None, None, None)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_needs_input_grad_and_no_recording_without_inputs_that_require_grad():
    seen = []

    class Probe(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, g, None

    a = ctorch.tensor([1.0], requires_grad=True)
    b = ctorch.tensor([2.0])
    Probe.apply(a, b, 5).sum().backward()
    assert seen == [(True, False, False)] * 2
    out = Probe.apply(b, b, 5)
    assert not out.requires_grad and out.grad_fn is None
    with ctorch.no_grad():
        assert not Probe.apply(a, b, 5).requires_grad
    assert seen[-1] == (False, False, False)


def test_forward_is_not_recorded_and_the_node_is_named_after_the_class():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 2.0)
    assert repr(y.grad_fn) == "<ScaleBackward>"
    assert y.grad_fn.next_functions == (x,)


def test_non_differentiable_outputs_and_materialized_grads():
    received = []

    class MaxWithIndex(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            index = x.argmax()
            values = x * 2
            ctx.mark_non_differentiable(index)
            ctx.set_materialize_grads(materialize)
            return values, index, x * 3

        @staticmethod
        def backward(ctx, g_values, g_index, g_three):
            received.append((g_values, g_index, g_three))
            total = g_values * 2
            return (total if g_three is None else total + g_three * 3), None

    x = ctorch.tensor([1.0, 5.0, 2.0], requires_grad=True)
    values, index, three = MaxWithIndex.apply(x, True)
    assert not index.requires_grad and index.dtype == ctorch.int64 and int(index) == 1
    assert values.requires_grad and three.requires_grad
    values.sum().backward()
    g_values, g_index, g_three = received[-1]
    np.testing.assert_array_equal(g_values.numpy(), [1.0, 1.0, 1.0])
    assert int(g_index) == 0 and not g_three.numpy().any()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    values, index, three = MaxWithIndex.apply(x, False)
    (values.sum() + three.sum()).backward()
    assert received[-1][1] is None and received[-1][2] is not None
    values, index, three = MaxWithIndex.apply(x, False)
    values.sum().backward()
    assert received[-1][1] is None and received[-1][2] is None


def test_an_output_that_is_an_input_and_tuple_outputs():
    class Identity(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x, (y * 2)

        @staticmethod
        def backward(ctx, gx, gy):
            return 5 * gx, 2 * gy

    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = ctorch.tensor(3.0, requires_grad=True)
    a, b = Identity.apply(x, y)
    assert a is not x and a.requires_grad
    a[0] = 7.0  # the output is its own tensor: x is untouched
    assert float(x[0]) == 1.0
    (a.sum() + b).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 5.0])
    assert float(y.grad) == 2.0


def test_save_for_backward_takes_tensors_only():
    class Bad(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                        "argument 1"):
        Bad.apply(ctorch.tensor([1.0], requires_grad=True))


def test_missing_rules_raise_pytorchs_errors():
    class NoBackward(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = ctorch.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="must implement either the backward or vjp"):
        NoBackward.apply(x).sum().backward()
    with pytest.raises(NotImplementedError, match="must implement the jvp function"):
        cr.jvp(NoBackward.apply, (cr.tensor([1.0]),), (cr.tensor([1.0]),))


def test_vjp_may_be_given_instead_of_backward():
    class Twice(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 2

    x = ctorch.tensor([1.0], requires_grad=True)
    Twice.apply(x).sum().backward()
    assert float(x.grad) == 2.0


def _exp_class():
    return _examples(ctorch)[2]


def test_forward_mode_uses_the_jvp_staticmethod():
    exp = _exp_class()
    x = RNG.standard_normal(3)
    t = RNG.standard_normal(3)
    out, tangent = cr.jvp(exp.apply, (x,), (t,))
    np.testing.assert_allclose(tangent.numpy(), np.exp(x) * t)
    np.testing.assert_allclose(cr.jacfwd(exp.apply)(x).numpy(), np.diag(np.exp(x)))
    np.testing.assert_allclose(cr.jacrev(exp.apply)(x).numpy(), np.diag(np.exp(x)))
    # forward over reverse: the hessian of sum(exp(x))
    np.testing.assert_allclose(cr.hessian(lambda v: exp.apply(v).sum())(x).numpy(),
                               np.diag(np.exp(x)))


def test_once_differentiable_refuses_double_backward():
    class Square(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = _leaf()
    (g,) = ctorch.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    assert not g.requires_grad  # (as in PyTorch: the seed did not require grad)
    v = ctorch.tensor([1.0, 1.0], dtype=ctorch.float64, requires_grad=True)
    (g,) = ctorch.autograd.grad(Square.apply(x), x, v, create_graph=True)
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 20.0])


@pytest.mark.parametrize("case", ["once", "kwargs"])
def test_once_differentiable_and_kwargs_match_pytorch(case):
    torch = pytest.importorskip("torch")

    def make(torch, once):
        class Square(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, power=2):
                ctx.save_for_backward(x)
                ctx.power = power
                return x ** power

            @staticmethod
            @once
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return ctx.power * x ** (ctx.power - 1) * g, None

        return Square

    ours = make(ctorch, once_differentiable if case == "once" else (lambda f: f))
    theirs = make(torch, torch.autograd.function.once_differentiable if case == "once"
                  else (lambda f: f))
    x = RNG.standard_normal(3)
    results = []
    for lib, fn in ((ctorch, ours), (torch, theirs)):
        t = lib.tensor(x, requires_grad=True)
        out = fn.apply(t, power=3)
        (g,) = lib.autograd.grad(out.sum(), t)
        results.append((out.detach().numpy(), g.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


# ---------------------------------------------------------------- mxnet: autograd.Function

from chainrule.mxnet import autograd as mx_autograd  # noqa: E402
from chainrule.mxnet import np as mx_np  # noqa: E402


class MxSigmoid(mx_autograd.Function):
    """MXNet's documented example, the stable sigmoid (its output saved)."""

    def forward(self, x):
        y = 1 / (1 + mx_np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


class MxProduct(mx_autograd.Function):
    """Two inputs, two outputs: (x * y, x + y)."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y, x + y

    def backward(self, d_product, d_sum):
        x, y = self.saved_tensors
        return d_product * y + d_sum, d_product * x + d_sum


def test_mxnet_sigmoid_example():
    values = RNG.standard_normal(5)
    x = mx_np.array(values, dtype="float64")
    x.attach_grad()
    with mx_autograd.record():
        m = MxSigmoid()(x)
    m.backward()
    s = 1 / (1 + np.exp(-values))
    np.testing.assert_allclose(m.asnumpy(), s)
    np.testing.assert_allclose(x.grad.asnumpy(), s * (1 - s))
    assert type(m).__name__ == "ndarray" and repr(m.grad_fn) == "<MxSigmoidBackward>"


def test_mxnet_functions_against_finite_differences_to_second_order():
    def sigmoid(x, total=False):
        with mx_autograd.record():  # (MXNet's arrays record inside record() only)
            y = MxSigmoid()(x)
            return y.sum() if total else y

    def product(x, y):
        with mx_autograd.record():
            a, b = MxProduct()(x, y)
            return (a * b).sum()

    values = [RNG.standard_normal(3), RNG.standard_normal(3)]
    assert cr.gradcheck(sigmoid, values[:1], modes=("rev",))
    assert cr.gradcheck(product, values, modes=("rev",))

    def total(v):
        with mx_autograd.record():
            return v.sum()

    assert cr.gradcheck(lambda x: total(cr.grad(lambda v: sigmoid(v, total=True))(x)),
                        values[:1], modes=("rev",))
    assert cr.gradcheck(lambda x, y: total(cr.grad(product, argnums=(0, 1))(x, y)[0]), values,
                        modes=("rev",))


def test_mxnet_function_outside_record_and_single_use():
    x = mx_np.array([1.0, 2.0])
    x.attach_grad()
    fn = MxSigmoid()
    out = fn(x)
    assert out.grad_fn is None
    with pytest.raises(RuntimeError, match="Each Function instance can only be called once"):
        fn(x)
    with pytest.raises(TypeError, match="input 0 is a float"):
        MxSigmoid()(1.0)


@pytest.mark.parametrize(("backward", "error", "message"), [
    (lambda self, dp, ds: dp, ValueError,
     "MxBad.backward must return exactly the same number of NDArrays as the number of NDArrays "
     "arguments to forward. Expecting 2 got 1"),
    (lambda self, dp, ds: (dp, 1.0), TypeError, "must return NDArrays, not <class 'float'>"),
    (lambda self, dp, ds: (dp, mx_np.ones(4)), ValueError,
     r"MxBad.backward returned a cotangent of shape \(4,\) for input leaf 1, which has shape "
     r"\(3,\)"),
])
def test_mxnet_wrong_backward_is_named_and_leaves_grad_unchanged(backward, error, message):
    class MxBad(MxProduct):
        pass

    MxBad.backward = backward
    x, y = mx_np.ones(3), mx_np.ones(3)
    x.attach_grad()
    y.attach_grad()
    x.grad[:] = 7.0
    with mx_autograd.record():
        a, b = MxBad()(x, y)
        loss = (a + b).sum()
    with pytest.raises(error, match=message):
        loss.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [7.0, 7.0, 7.0])


# ---------------------------------------------------------------- tensorflow: custom_gradient

import chainrule.tensorflow as tf  # noqa: E402


@tf.custom_gradient
def log1pexp(x):
    e = tf.exp(x)

    def grad(upstream):
        return upstream * (1 - 1 / (1 + e))

    return tf.math.log(1 + e), grad


@tf.custom_gradient
def clip_gradient_norm(x, norm):
    y = tf.identity(x)

    def grad_fn(dy):
        return dy * (norm / tf.sqrt(tf.reduce_sum(dy * dy))), None

    return y, grad_fn


def test_tf_log1pexp_is_stable_and_matches_finite_differences():
    x = tf.constant(100.0)
    with tf.GradientTape() as tape, np.errstate(over="ignore"):  # exp(100.0) overflows float32
        tape.watch(x)
        y = log1pexp(x)
    assert float(tape.gradient(y, x)) == 1.0
    values = RNG.standard_normal(4)
    assert cr.gradcheck(lambda v: log1pexp(v), [values], modes=("rev",))


def test_tf_second_order_under_nested_tapes():
    """``grad_fn`` written with TensorFlow's ops, over ``e`` recorded in ``f``: the outer tape
    differentiates the gradient."""
    values = RNG.standard_normal(3)
    x = tf.constant(values)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(log1pexp(x))
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    s = 1 / (1 + np.exp(-values))
    np.testing.assert_allclose(dy.numpy(), s)
    np.testing.assert_allclose(d2y.numpy(), s * (1 - s))
    assert cr.gradcheck(lambda v: cr.grad(lambda u: log1pexp(u).sum())(v), [values],
                        modes=("rev",))


def test_tf_two_inputs_a_non_differentiated_one_and_stop_gradient():
    x = tf.constant([3.0, 4.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = clip_gradient_norm(x, 1.0)
        loss = tf.reduce_sum(10.0 * y)
        stopped = tf.reduce_sum(tf.stop_gradient(clip_gradient_norm(x, 1.0)) * x)
    grad = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(np.linalg.norm(grad), 1.0, rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(stopped, x).numpy(), [3.0, 4.0])


def _scaled_by_variable():
    w = tf.Variable([2.0, -1.0], dtype=tf.float64)

    @tf.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            (v,) = variables
            return dy * w, [dy * x]

        return x * w, grad

    return w, scale


def test_tf_variables_form():
    w, scale = _scaled_by_variable()
    x = tf.constant([3.0, 5.0], dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(scale(x) ** 2)
    gx, gw = tape.gradient(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), 2 * np.array([6.0, -5.0]) * [2.0, -1.0])
    np.testing.assert_allclose(gw.numpy(), 2 * np.array([6.0, -5.0]) * [3.0, 5.0])


def test_tf_variables_need_the_variables_keyword():
    w = tf.Variable([2.0, -1.0])

    @tf.custom_gradient
    def scale(x):
        return x * w, lambda dy: dy * w

    with tf.GradientTape(), pytest.raises(
            TypeError, match="grad_fn must accept a keyword argument 'variables'"):
        scale(tf.constant([1.0, 1.0]))
    # (outside a tape nothing is recorded or differentiated: f's value is all there is)
    np.testing.assert_array_equal(scale(tf.constant([1.0, 1.0])).numpy(), [2.0, -1.0])


@pytest.mark.parametrize(("grad", "error", "message"), [
    (lambda dy: (dy, dy), ValueError,
     "custom_gradient function bad expected to return 1 gradients but returned 2 instead"),
    (lambda dy: tf.ones(3), ValueError,
     r"grad_fn of bad returned a cotangent of shape \(3,\) for input leaf 0"),
    (lambda dy: tf.cast(dy, tf.float64), TypeError,
     "grad_fn of bad returned a cotangent of dtype float64 for input leaf 0"),
])
def test_tf_wrong_grad_fn_is_named_and_leaves_nothing_changed(grad, error, message):
    def bad(x):
        return x * 2.0, grad

    bad = tf.custom_gradient(bad)
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(bad(x))
    with pytest.raises(error, match=message):
        tape.gradient(y, x)


def test_tf_variable_gradient_count_is_checked():
    w = tf.Variable([2.0, -1.0])

    @tf.custom_gradient
    def scale(x):
        return x * w, lambda dy, variables=None: (dy * w, [])

    x = tf.constant([1.0, 1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(scale(x))
    with pytest.raises(ValueError, match="Must return gradient for each variable"):
        tape.gradient(y, x)


@pytest.mark.parametrize("name", [
    "chainrule.custom.rules", "chainrule.torch.autograd.function",
    "chainrule.tensorflow._custom_gradient", "chainrule.mxnet.autograd",
])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0


def test_save_for_forward_and_hooks_on_a_function_output():
    class Square(ctorch.autograd.Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(inputs[0])
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 2 * x * t

    values = RNG.standard_normal(3)
    assert cr.gradcheck(Square.apply, [values])
    x = ctorch.tensor(values, requires_grad=True)
    y = Square.apply(x)
    seen = []
    y.register_hook(lambda g: seen.append(g) or g * 10)
    y.sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(x.grad.numpy(), 20 * values)


def test_the_readme_example_runs():
    from pathlib import Path

    page = Path(__file__).parent.parent / "docs" / "howto" / "custom-rules.md"
    readme = page.read_text()
    section = readme[readme.index("## Custom rules in the dialects"):]
    code = section[section.index("```python\n") + 10:section.index("```\n", 10)]
    namespace: dict = {}
    exec(compile(code, str(page), "exec"), namespace)  # noqa: S102
    assert repr(namespace["y"].grad_fn) == "<LinearFunctionBackward>"
    x, w = namespace["x"], namespace["w"]
    # sum(dL/dx) with L = sum(y ** 2) is sum_ij 2 y_ij s_j (s = w's row sums): its gradient in
    # x_ik is 2 (s @ w)_k, in every row i
    weight = w.detach().numpy()
    expected = np.tile(2 * weight.sum(axis=1) @ weight, (4, 1))
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_a_saved_output_makes_no_reference_cycle():
    import gc
    import weakref

    exp = _exp_class()
    gc.disable()
    try:
        x = ctorch.tensor([0.5, 1.0], requires_grad=True)
        y = exp.apply(x)
        node = weakref.ref(y.grad_fn)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))
        del y
        assert node() is None  # freed by reference counting alone
    finally:
        gc.enable()


@pytest.mark.parametrize("which", ["output", "input"])
def test_a_saved_tensor_changed_in_place_is_an_error(which):
    exp = _exp_class()
    x = _leaf()
    base = x * 1.0
    y = exp.apply(base)

    class Square(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            ctx.save_for_backward(v)
            return v * v

        @staticmethod
        def backward(ctx, g):
            (v,) = ctx.saved_tensors
            return 2 * v * g

    z = Square.apply(base)
    if which == "output":
        y.mul_(2.0)
        loss = y.sum()
    else:
        base.add_(1.0)
        loss = z.sum()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 20.0])


def test_mxnet_saved_output_makes_no_cycle():
    import gc
    import weakref

    gc.disable()
    try:
        x = mx_np.array([0.0, 1.0])
        x.attach_grad()
        with mx_autograd.record():
            y = MxSigmoid()(x)
        node = weakref.ref(y.grad_fn)
        y.backward()
        del y
        assert node() is None
    finally:
        gc.enable()


def _add_one(torch):
    class AddOne(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    return AddOne


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_mark_dirty_makes_the_input_the_output(lib):
    torch = ctorch if lib == "chainrule" else pytest.importorskip("torch")
    add_one = _add_one(torch)
    a = torch.tensor([1.0, 2.0], requires_grad=True, dtype=torch.float64)
    x = a * 2
    assert add_one.apply(x) is x
    assert "AddOneBackward" in repr(x.grad_fn)
    (x * x).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [36.0, 60.0])  # 2 * 3 * 2 * (2a + 1)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used "
                                           "in an in-place operation"):
        add_one.apply(a)
    b = torch.tensor([1.0, 2.0])
    assert add_one.apply(b) is b
    np.testing.assert_allclose(b.numpy(), [2.0, 3.0])


def test_tf_several_outputs_and_a_jacobian():
    @tf.custom_gradient
    def polar(r, theta):
        x, y = r * tf.cos(theta), r * tf.sin(theta)

        def grad(dx, dy):
            return (dx * tf.cos(theta) + dy * tf.sin(theta),
                    -dx * r * tf.sin(theta) + dy * r * tf.cos(theta))

        return (x, y), grad

    r = tf.constant([1.0, 2.0], dtype=tf.float64)
    theta = tf.constant([0.3, -1.2], dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([r, theta])
        x, y = polar(r, theta)
    jacobian = tape.jacobian(x, theta).numpy()
    np.testing.assert_allclose(jacobian, np.diag(-r.numpy() * np.sin(theta.numpy())))

    def total(r, theta):
        with tf.GradientTape():  # (TensorFlow's operations record under a tape)
            x, y = polar(r, theta)
            return tf.reduce_sum(x * y + x)

    assert cr.gradcheck(total, [r.numpy(), theta.numpy()], modes=("rev",))


@pytest.mark.parametrize("case", CASES)
def test_the_examples_pass_pytorchs_own_gradcheck_and_gradgradcheck(case):
    """The reference the comparisons above rely on: the examples are right in PyTorch."""
    torch = pytest.importorskip("torch")
    call, shapes = _calls(torch)[case]
    inputs = tuple(torch.tensor(v, requires_grad=True) for v in _values(shapes))
    assert torch.autograd.gradcheck(call, inputs)
    assert torch.autograd.gradgradcheck(call, inputs)


# ---------------------------------------------------------------- the core under the dialects

from chainrule.custom.rules import apply_rules  # noqa: E402


def _cube(x):
    """x ** 3 with its rules on flat lists (written with chainrule's ops: any order)."""
    (out,) = apply_rules("Cube", [x], [np.asarray(cr.tensor(x).detach()) ** 3],
                         vjp=lambda gs: [3 * x * x * gs[0]], jvp=lambda ts: [3 * x * x * ts[0]])
    return out


def test_apply_rules_in_every_transform():
    values = RNG.standard_normal(3)
    assert cr.gradcheck(_cube, [values])
    np.testing.assert_allclose(cr.jacrev(_cube)(values).numpy(), np.diag(3 * values ** 2))
    np.testing.assert_allclose(cr.jacfwd(_cube)(values).numpy(), np.diag(3 * values ** 2))
    np.testing.assert_allclose(cr.hessian(lambda v: _cube(v).sum())(values).numpy(),
                               np.diag(6 * values))
    assert cr.gradcheck(lambda v: cr.grad(lambda u: _cube(u).sum())(v), [values])


def test_apply_rules_checks_what_the_rule_returns():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (y,) = apply_rules("Pair", [x, x], [np.ones(2)], vjp=lambda gs: [gs[0]], what="the rule R")
    with pytest.raises(TypeError, match="the rule R returned 1 cotangent"):
        y.sum().backward()
    (y,) = apply_rules("NoJvp", [x], [np.ones(2)], vjp=lambda gs: gs, what="the rule R")
    with pytest.raises(TypeError, match="the rule R has no forward-mode"):
        cr.jvp(lambda v: apply_rules("NoJvp", [v], [np.ones(2)], vjp=lambda gs: gs,
                                     what="the rule R")[0], (np.ones(2),), (np.ones(2),))
    assert x.grad is None
