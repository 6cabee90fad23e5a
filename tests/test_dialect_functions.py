"""Custom rules in the dialects: ``torch.autograd.Function``, MXNet's ``autograd.Function`` and
TensorFlow's ``custom_gradient``, checked against finite differences (float64, both modes where
the spelling has a forward rule, second order where the backward is differentiable) and, for
PyTorch's documented examples, against PyTorch itself."""

from __future__ import annotations

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
