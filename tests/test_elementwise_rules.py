"""Elementwise ops declared by their local derivative (``elementwise(..., d=...)``): both rules
are built from it, the sample table checks every one against finite differences, and the
reverse rule writes into buffers only the engine holds, never into one the user holds."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from op_samples import by_name

import chainrule as cr
from chainrule.ops.primitive import REGISTRY

DERIVED = {
    "multiply", "power", "square", "reciprocal", "sqrt", "exp", "expm1",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "sigmoid", "relu", "maximum", "minimum", "clip",
}


def _derived(rule) -> bool:
    return rule is not None and rule.fn.__qualname__.split(".")[0] in (
        "_reverse_rule", "_tangent_rule",
    )


def test_the_derived_ops_are_exactly_those_declared_with_d():
    found = {
        name for name, prim in REGISTRY.items()
        if prim.vjps and all(_derived(r) for r in prim.vjps + prim.jvps if r is not None)
    }
    assert found == DERIVED


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_a_derived_op_has_both_rules_for_each_input_and_samples(name):
    prim = REGISTRY[name]
    assert len(prim.vjps) == len(prim.jvps) == len(prim.inputs)
    for vjp, jvp in zip(prim.vjps, prim.jvps, strict=True):
        assert (vjp is None) == (jvp is None)
        assert vjp is None or vjp.donates  # every derived reverse rule may be donated buffers
    assert by_name()[name], f"{name} has no samples: finite differences would not check it"


BIG = 1 << 14

# one-input ops and the argument range they are smooth on
_UNARY = {
    "sin": (-1.0, 1.0), "cos": (-1.0, 1.0), "tanh": (-1.0, 1.0), "exp": (-1.0, 1.0),
    "sinh": (-1.0, 1.0), "cosh": (0.5, 1.0), "sigmoid": (-1.0, 1.0), "sqrt": (0.5, 2.0),
    "square": (-1.0, 1.0), "tan": (-1.0, 1.0),
}


def _chain(op, x, held):
    """``op`` three times on ``x``, each result scaled; ``held`` keeps every intermediate and
    every cotangent, as a user who holds them would."""
    y = x
    for _ in range(3):
        y = op(y)
        if held is not None:
            held.append(y)
            y.register_hook(held.append)
        y = y * 0.75
    return cr.sum(y)


def _backward(name, x0, hold):
    op = getattr(cr, name)
    x = cr.tensor(x0, requires_grad=True)
    held = [] if hold else None
    loss = _chain(op, x, held)
    before = [t.detach().numpy().copy() for t in held or []]
    tracemalloc.start()
    try:
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    for tensor, value in zip(held or [], before, strict=False):
        if isinstance(tensor, cr.Tensor):
            np.testing.assert_array_equal(tensor.detach().numpy(), value)
    return x.grad.numpy(), peak


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_derived_rules_reuse_the_engines_buffers_and_never_the_users(name):
    x0 = np.random.default_rng(7).uniform(*_UNARY[name], BIG)
    grad, peak = _backward(name, x0, hold=False)
    held_grad, held_peak = _backward(name, x0, hold=True)
    np.testing.assert_allclose(grad, held_grad, rtol=1e-12)
    assert peak < held_peak - x0.nbytes // 2  # the rules wrote into what was given up


def test_donation_writes_nothing_a_caller_of_the_rule_holds():
    """The raw rule (cotangent, donated ids, the values it reads): a cotangent or saved value
    that is not donated comes back unchanged; a donated one holds the result."""
    exp_rule, sin_rule = REGISTRY["exp"].vjps[0].fn, REGISTRY["sin"].vjps[0].fn
    g, ans = np.ones(BIG), np.full(BIG, 2.0)
    out = exp_rule(g, (), ans)
    assert out is not g and out is not ans
    np.testing.assert_array_equal(g, 1.0)
    np.testing.assert_array_equal(ans, 2.0)
    assert exp_rule(g, [id(g)], ans) is g
    np.testing.assert_array_equal(ans, 2.0)
    assert exp_rule(g, [id(ans)], ans) is ans
    g, x = np.ones(BIG), np.full(BIG, 0.5)
    sin_rule(g, (), x)
    np.testing.assert_array_equal(x, 0.5)
    assert sin_rule(g, [id(x)], x) is x  # cos computed into x, the product too
    np.testing.assert_allclose(x, np.cos(0.5))
    np.testing.assert_array_equal(g, 1.0)


@pytest.mark.parametrize("name", ["true_divide", "log", "log1p", "log2", "log10"])
def test_quotient_rules_divide_as_pytorch_does(name):
    """(bit for bit: ``g / y``, not ``g * (1 / y)``)"""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, 1000).astype(np.float32)
    y = rng.uniform(0.5, 2.0, 1000).astype(np.float32)
    g = rng.standard_normal(1000).astype(np.float32)
    prim = REGISTRY[name]
    args = (x, y) if name == "true_divide" else (x,)
    divisor = {"true_divide": y, "log": x, "log1p": 1 + x}.get(name)
    if divisor is None:
        divisor = x * np.log(2.0 if name == "log2" else 10.0)
    grad = prim.vjps[0].call(g, args, prim.impl(*args), {}, None, 0, x.shape)
    np.testing.assert_array_equal(grad, g / divisor)
