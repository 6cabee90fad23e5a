"""The engine checks what reverse rules return, and forward mode what tangent rules return: a
broadcasting primitive's result is summed down to its input's shape (or, a tangent, broadcast
up to its output's); any other shape is a wrong rule, named in the error, on every path."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import pullback
from chainrule.ops.primitive import REGISTRY, Primitive, primitive


@primitive
def _wrong_rule_probe(x):
    return np.sin(x)


_wrong_rule_probe.defrules(
    vjp=lambda g, x: g[..., :1],  # wrong: drops all but the first element
    jvp=lambda t, x: t,
)


# Not part of the op table (whose tests want samples for every registered primitive)
REGISTRY.pop("_wrong_rule_probe")


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_rule_returning_the_wrong_shape_raises_naming_it(create_graph):
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = _wrong_rule_probe(x)
    with pytest.raises(RuntimeError) as info:
        cr.gradients(cr.sum(y), x, create_graph=create_graph)
    message = str(info.value)
    assert "_wrong_rule_probe" in message and "input 0 (x)" in message
    assert "(1,)" in message and "(3,)" in message


def test_a_broadcasting_primitive_still_sums_down():
    x = cr.tensor([[1.0], [2.0]], requires_grad=True)  # (2, 1) against (2, 3)
    y = cr.tensor(np.ones((2, 3)), requires_grad=True)
    (x * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0], [3.0]])
    assert isinstance(_wrong_rule_probe, Primitive) and not _wrong_rule_probe.broadcasting


_too_small_probe = Primitive(np.add, name="_too_small_probe", broadcasting=True)
_too_small_probe.defrules(
    vjp=(lambda g: g[..., :1], lambda g: g),  # wrong for x: smaller than x
    jvp=(lambda t: t, lambda t: t),
)
REGISTRY.pop("_too_small_probe")


def test_a_too_small_result_is_not_broadcast_up():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_too_small_probe for input 0 \(x\)"):
        cr.sum(_too_small_probe(x, 1.0)).backward()
    assert x.grad is None


def test_pullback_gives_each_input_its_cotangent():
    x = cr.tensor([[1.0], [2.0]], requires_grad=True)
    y = x * cr.tensor([1.0, 2.0, 3.0])
    grads = pullback(y.grad_fn, np.ones((2, 3)))
    np.testing.assert_array_equal(grads[0], [[6.0], [6.0]])
    assert grads[1] is None


def test_einsum_sums_its_broadcast_operands_down():
    x = cr.tensor(np.zeros((1, 3)), requires_grad=True)
    y = cr.tensor(np.ones((4, 3)), requires_grad=True)
    cr.einsum("ij,ij->ij", x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[4.0, 4.0, 4.0]])
    a = cr.tensor(np.ones((1, 2, 3)), requires_grad=True)
    b = cr.tensor(np.ones((5, 3, 4)), requires_grad=True)
    cr.einsum("...ij,...jk->...ik", a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((1, 2, 3), 20.0))


@primitive
def _wrong_tangent_probe(x):
    return np.sin(x)


_wrong_tangent_probe.defrules(
    vjp=lambda g, x: g * np.cos(x),
    jvp=lambda t, x: t[..., :1],  # wrong: drops all but the first element
)
REGISTRY.pop("_wrong_tangent_probe")


@pytest.mark.parametrize("transform", ["jvp", "jacfwd"])
def test_a_tangent_rule_returning_the_wrong_shape_raises_naming_it(transform):
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"tangent rule of _wrong_tangent_probe returned"):
        if transform == "jvp":
            cr.jvp(_wrong_tangent_probe, (x,), (np.ones(3),))
        else:
            cr.jacfwd(_wrong_tangent_probe)(x)
