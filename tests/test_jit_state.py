"""Where cr.jit finds the state a call reads: from what the function reaches by name where
reference counts say that is every holder, from the heap otherwise; and the first call records
while the second builds the program."""

from __future__ import annotations

import gc
import re

import numpy as np
import pytest
from test_jit import assert_same, check_calls

import chainrule as cr
from chainrule.tracing import escapes, state


class _CountingGC:
    """The ``gc`` module as state.py sees it, counting heap searches."""

    def __init__(self) -> None:
        self.searches = 0

    def get_referrers(self, *objects):
        self.searches += 1
        return gc.get_referrers(*objects)

    def collect(self, *args):
        self.searches += 1
        return gc.collect(*args)

    def __getattr__(self, name):
        return getattr(gc, name)


@pytest.fixture
def heap_searches(monkeypatch):
    counting = _CountingGC()
    monkeypatch.setattr(state, "gc", counting)
    monkeypatch.setattr(escapes, "gc", counting)
    return counting


def _closure_step():
    """A PyTorch-style step on a parameter only its closure holds (as in a training script's
    ``main()``, whose frame holds the cell)."""
    w = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

    def step(x):
        loss = cr.sum(cr.tanh(w * x))
        loss.backward()
        with cr.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss.detach()

    return step


def _parameter(step):
    (cell,) = step.__closure__
    return cell.cell_contents


def test_state_held_by_what_the_function_names_is_found_without_searching_the_heap(
        heap_searches):
    eager, step = _closure_step(), _closure_step()
    jitted = cr.jit(step)
    for k in range(5):
        x = np.array([0.5, -1.0, 2.0]) + k
        assert_same(jitted(x), eager(x), exact=True)
    # (not even where the first backward stores a new .grad: the closure holds it)
    assert heap_searches.searches == 0
    assert_same(_parameter(step), _parameter(eager), exact=True)
    assert_same(_parameter(step).grad, _parameter(eager).grad, exact=True)


def test_a_default_argument_of_none_leaves_the_heap_alone(heap_searches):
    """None among the objects the function reaches (a default argument) is no attribute dict
    of the cells beside it: the closure's tensor is still found by name."""
    eager, step = _closure_step(), _closure_step()

    def with_default(x, scale=None):
        return step(x)

    jitted = cr.jit(with_default)
    for k in range(3):
        x = np.array([0.5, -1.0, 2.0]) + k
        assert_same(jitted(x), eager(x), exact=True)
    assert heap_searches.searches == 0


def test_a_holder_the_function_does_not_name_is_searched_for():
    """``w`` is in the closure and in a dict the function reaches through an argument: the
    closure does not account for every reference, so the heap is searched, and rebinding the
    dict's entry makes the next call miss."""
    w = cr.tensor(np.array([1.0, 2.0]))
    registry = {"w": w}

    def f(x, table):
        assert w.shape == (2,)  # (names w: the closure holds it)
        return table["w"] * x

    jitted = cr.jit(f)
    x = np.array([3.0, 4.0])
    for value in ([1.0, 2.0], [1.0, 2.0], [5.0, 7.0], [5.0, 7.0]):
        if value[0] != registry["w"].numpy()[0]:
            registry["w"] = cr.tensor(np.array(value))
        assert_same(jitted(x, registry), f(x, registry), exact=True)


def test_rebinding_a_closure_variable_misses():
    w = cr.tensor(np.array([1.0, 2.0]))

    def f(x):
        return w * x

    def rebind(value):
        nonlocal w
        w = cr.tensor(np.array(value))

    jitted = cr.jit(f)
    x = np.array([2.0, 0.5])
    for value in ([1.0, 2.0], [3.0, 4.0], [3.0, 4.0], [-1.0, 0.0]):
        rebind(value)
        assert_same(jitted(x), f(x), exact=True)


def test_a_view_of_an_array_held_elsewhere():
    """An array the function closes over that is a view: its memory owner's holders are
    checked too, and a write through another view of the owner is seen."""
    owner = np.arange(6.0)
    window = owner[1:4]
    jitted = cr.jit(lambda x: cr.tensor(x) * window)
    x = np.array([1.0, 2.0, 3.0])
    for k in range(3):
        assert_same(jitted(x), cr.tensor(x) * window, exact=True)
        owner[2] = 10.0 * (k + 1)


def test_census_calibration_counts_what_it_should():
    """state._census: the references besides the census's own list (one per holder)."""
    probe = object()
    holders = [[probe], {"k": probe}]
    counted = state._census([probe, *holders])
    assert counted[id(probe)] == 3  # `probe`, the list, the dict
    del holders


def test_the_first_call_records_and_the_second_builds():
    traced = cr.jit(lambda x: cr.sin(x) * 2)
    x = np.array([0.5, 1.0])
    traced(x)
    (entry,) = traced._cache.values()
    (specialization,) = entry.programs
    assert not isinstance(specialization.program, cr.tracing.Program)  # recorded only
    np.testing.assert_array_equal(traced(x + 1), np.sin(x + 1) * 2)
    assert isinstance(specialization.program, cr.tracing.Program)  # built by the second call
    assert "sin" in str(specialization.program)


def test_trace_of_a_recorded_call_builds_its_program():
    program = cr.jit(lambda x: cr.exp(x) + 1).trace(np.ones(2))
    assert isinstance(program, cr.tracing.Program)
    assert "exp" in str(program)


def test_a_program_is_drawn_by_graph():
    """cr.graph of a program: one operation per call of the program, in its order, with the
    arguments and the state it reads, its folded constants, and what each call writes into."""
    w = cr.tensor(np.array([1.0, -1.0, 2.0]), requires_grad=True)

    def step(x):
        loss = cr.sum((w * x - 1.0) ** 2)
        loss.backward()
        with cr.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss.detach()

    jitted = cr.jit(step)
    jitted(np.ones(3))  # (the first backward makes .grad: a call that leaves no program)
    program = jitted.trace(np.ones(3))
    drawn = cr.graph(program)
    ops = [v for v in drawn.vertices if v.kind == "op"]
    assert len(ops) == program.stats["calls"] - sum(
        instr.kind == "bind" for instr in program.instrs)
    texts = [drawn.lines(v)[0] for v in drawn.vertices]
    assert texts[0] == "v0: argument"
    assert any(text.startswith("v2: multiply(") and "v0" in text for text in texts), texts
    assert any(text.startswith("into e") for text in texts), texts  # (the .grad accumulation)
    assert drawn.svg().lstrip().startswith(("<svg", "<?xml"))
    with pytest.raises(ValueError, match="no backward pass"):
        cr.graph(program, step=True)


def test_passes_leave_out_what_numpy_does_itself():
    """A broadcast_to that only ufuncs read is left to their broadcasting; a copy of an
    argument that is only read through a view is the argument itself; an elementwise call
    writes into the buffer of an input it reads for the last time. The values are eager's,
    bit for bit; a broadcast that is returned, and a copy whose view is returned, stay."""
    def f(x, w):
        z = x @ w.T  # (grad copies w: read through its transpose)
        h = cr.tanh(z)
        lse = cr.log(cr.sum(cr.exp(h * h), axis=1, keepdims=True))  # (a broadcast backward)
        return cr.sum(lse)

    x, w = np.linspace(-1, 1, 2000).reshape(40, 50), np.linspace(0, 1, 1500).reshape(30, 50)
    grad = cr.grad(f, argnums=(0, 1))
    program = check_calls(grad, [(x + k, w - k) for k in range(3)]).trace(x, w)
    body = str(program).split("return")[0]
    assert "broadcast_to(" not in body and "array(v1)" not in body, program
    written = re.findall(r"out=b(\d+)", body)
    assert len(set(written)) < len(written), program  # (buffers taken over in place)
    returned = cr.jit(lambda x: np.broadcast_to(x, (3, 4))).trace(np.ones(4))
    assert "broadcast_to(" in str(returned)
    view_out = cr.jit(lambda x: cr.tensor(x).T)
    for k in range(3):
        argument = np.ones((2, 3)) + k
        assert not np.shares_memory(view_out(argument).numpy(), argument)
