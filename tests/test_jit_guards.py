"""``cr.jit``'s guards on the Python values a traced call reads by name (tracing/guards.py):
numbers, bools, strings and None in closure cells, named globals, objects' attributes and the
items of lists and dicts there; the lengths of lists and dicts of tensors; a state tensor's
``requires_grad`` and hooks. Each case compares the jitted calls with the eager ones, and
checks that unchanged values replay (one program, no warning)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_jit import assert_same

import chainrule as cr
from chainrule.tracing import JitWarning

_VALUE = 2.0


def _times_value(x):
    return x * _VALUE


def _programs(jitted):
    return sum(len(entry.programs) for entry in jitted._cache.values())


@pytest.fixture
def value():
    """Sets the global ``_VALUE`` (restored after)."""
    def set_value(new):
        global _VALUE
        _VALUE = new
    yield set_value
    set_value(2.0)


def test_unchanged_values_replay_one_program():
    scale, config = 3.0, {"mode": "double", "bias": None, "on": True}

    def f(x):
        y = x * scale * _VALUE
        return y * 2 if config["mode"] == "double" and config["on"] else y

    jitted = cr.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitWarning)
        for k in range(4):
            assert_same(jitted(np.ones(2) + k), f(np.ones(2) + k), exact=True)
    assert _programs(jitted) == 1
    config["mode"] = "single"
    assert_same(jitted(np.ones(2)), f(np.ones(2)), exact=True)
    assert _programs(jitted) == 2


@pytest.mark.parametrize("values", [
    [0.0, -0.0, 0.0], [float("nan"), float("nan"), 1.0], [2, 2.0, True, 2],
    [float("inf"), -float("inf")], [complex(-0.0, 1), complex(0.0, 1)], ["a", "bb"],
    [None, 0.0, None],
], ids=["signed zeros", "nan", "int float bool", "infinities", "complex", "str", "none"])
def test_values_are_told_apart_exactly(value, values):
    def f(x):
        if _VALUE is None or isinstance(_VALUE, str):
            return x + len(str(_VALUE))
        return x * _VALUE
    jitted = cr.jit(f)
    x = np.arange(1, 4)
    for new in values:
        value(new)
        for _ in range(2):
            got, want = jitted(x), f(x)
            assert got.dtype == want.dtype, new
            for part in (np.real, np.imag):
                np.testing.assert_array_equal(np.signbit(part(got)), np.signbit(part(want)))
            assert_same(got, want, exact=True)


def test_nan_replays():
    jitted = cr.jit(_times_value)
    global _VALUE
    try:
        _VALUE = float("nan")
        for _ in range(3):
            assert np.isnan(jitted(np.ones(2))).all()
        _VALUE = float("nan")  # (another NaN object)
        jitted(np.ones(2))
        assert _programs(jitted) == 1
    finally:
        _VALUE = 2.0


def test_a_value_that_changes_at_every_call_ends_eagerly_with_one_warning(value):
    jitted = cr.jit(_times_value, max_specializations=3)
    with pytest.warns(JitWarning, match="guards failed on 3") as warned:
        for k in range(8):
            value(float(k))
            assert_same(jitted(np.ones(2)), _times_value(np.ones(2)), exact=True)
    assert len([w for w in warned if issubclass(w.category, JitWarning)]) == 1


class _Counter:
    def __init__(self):
        self.step = 0
        self.scale = 1.5

    def forward(self, x):
        self.step += 1
        return x * self.scale * self.step


def test_a_value_the_call_changes_itself_runs_eagerly():
    eager, ours = _Counter(), _Counter()
    jitted = cr.jit(ours.forward)
    with pytest.warns(JitWarning, match="`self.step`"):
        for k in range(4):
            assert_same(jitted(np.ones(2) + k), eager.forward(np.ones(2) + k), exact=True)
    assert ours.step == eager.step == 4


def test_a_closed_over_counter_the_call_increments_runs_eagerly():
    calls = 0

    def f(x):
        nonlocal calls
        calls += 1
        return x * calls

    jitted = cr.jit(f)
    with pytest.warns(JitWarning, match="`calls`"):
        results = [jitted(np.ones(2)) for _ in range(3)]
    assert calls == 3
    assert [r[0] for r in results] == [1.0, 2.0, 3.0]


def test_an_item_of_a_dict_the_call_increments_runs_eagerly():
    """A count kept in a dict (or a list) is a Python value the call changes: refused, as
    a replay would not change it (it was changed by the trace only)."""
    counts = {"steps": 0}

    def f(x):
        counts["steps"] += 1
        return x * 2

    jitted = cr.jit(f)
    with pytest.warns(JitWarning, match="steps"):
        for _ in range(3):
            jitted(np.ones(2))
    assert counts == {"steps": 3}


def test_an_attribute_of_a_bound_methods_object():
    eager, ours = _Counter(), _Counter()

    def scaled(model):
        return lambda x: x * model.scale

    jitted = cr.jit(scaled(ours))
    for k in range(5):
        assert_same(jitted(np.ones(2)), scaled(eager)(np.ones(2)), exact=True)
        ours.scale = eager.scale = eager.scale * 0.5 if k % 2 else eager.scale


def test_a_learning_rate_in_a_param_groups_dict():
    """As torch.optim keeps it: ``optimizer.param_groups[0]["lr"]``."""
    class Optimizer:
        def __init__(self, params, lr):
            self.param_groups = [{"params": list(params), "lr": lr}]

        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    p.data -= group["lr"] * p.grad.data

    def run(compile_step):
        w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
        optimizer = Optimizer([w], 0.1)

        def step(x):
            (w * w * x).sum().backward()
            optimizer.step()
            w.grad.zero_()

        step = compile_step(step)
        history = []
        for k in range(6):
            step(np.ones(2))
            history.append(w.detach().numpy().copy())
            if k % 2:
                optimizer.param_groups[0]["lr"] *= 0.5
        return history

    assert_same(run(cr.jit), run(lambda f: f), exact=True)


def test_a_dict_of_tensors_given_a_key():
    def make():
        tensors = {"a": cr.tensor(np.ones(2))}
        return (lambda x: sum(t * x for t in tensors.values())), tensors

    eager, eager_tensors = make()
    ours, our_tensors = make()
    jitted = cr.jit(ours)
    for k in range(4):
        assert_same(jitted(np.ones(2)), eager(np.ones(2)), exact=True)
        if k == 1:
            for tensors in (eager_tensors, our_tensors):
                tensors["b"] = cr.tensor(np.full(2, 3.0))


def test_requires_grad_turned_on_on_a_state_tensor():
    def make():
        w = cr.tensor(np.array([1.0, 2.0]))
        return (lambda x: w * x), w

    eager, w_eager = make()
    ours, w_ours = make()
    jitted = cr.jit(ours)
    with pytest.warns(JitWarning, match="a graph to differentiate later"):
        for k in range(4):
            got, want = jitted(np.ones(2)), eager(np.ones(2))
            assert_same(got, want, exact=True)
            assert got.requires_grad == want.requires_grad
            if k == 1:
                w_eager.requires_grad_()
                w_ours.requires_grad_()


def test_a_long_list_of_tensors_given_one_more():
    """A list longer than the guards look into (WIDTH items) still has its length checked."""
    def make():
        tensors = [cr.tensor(np.full(2, float(k))) for k in range(100)]
        return (lambda x: sum(t * x for t in tensors)), tensors

    eager, eager_tensors = make()
    ours, our_tensors = make()
    jitted = cr.jit(ours)
    for k in range(4):
        assert_same(jitted(np.ones(2)), eager(np.ones(2)), exact=True)
        if k == 1:
            for tensors in (eager_tensors, our_tensors):
                tensors.append(cr.tensor(np.full(2, 3.0)))
