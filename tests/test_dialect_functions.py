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
