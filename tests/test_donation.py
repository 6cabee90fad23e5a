"""Buffer donation: big arrays that only the engine holds are overwritten by the last
rule of a node. Nothing anyone else can see may change, and the gradients must be the same
as with fresh buffers."""

import sys
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import engine
from chainrule.gradcheck import numeric_gradient

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
