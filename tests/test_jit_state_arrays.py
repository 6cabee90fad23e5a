"""cr.jit on plain NumPy arrays that the function reaches by name (state arrays): a closed-over
``np.zeros(2)``, a global table, an object's attribute, an item of a dict or a list. While
tracing they are tracing arrays standing for externals (guards.lift), so NumPy work on them is
recorded even where no argument enters it, and each replay reads them by identity from where
they are held. Each test compares with the eager function call after call, results and state
bit for bit, and checks that the calls replay (no JitWarning, one program) where they should."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_jit import assert_same
from test_jit_adversarial3 import _same_calls

import chainrule as cr

# (these replay: a JitWarning, an eager fallback, would make them pass without testing it)
_REPLAYS = pytest.mark.filterwarnings("error::chainrule.tracing.JitWarning")


def _programs(jitted):
    return sum(len(entry.programs) for entry in jitted._cache.values())


_TABLE = np.arange(3.0)
_TABLE.flags.writeable = False


def _uses_table(x):
    return x * (_TABLE + 1)


@_REPLAYS
def test_a_read_only_global_used_in_arithmetic_and_rebound_between_calls():
    global _TABLE
    jitted = cr.jit(_uses_table)
    original = _TABLE
    try:
        for k in range(4):
            if k == 2:  # (rebound: the holder's check misses, the call traces again)
                _TABLE = np.arange(3.0) * 10
                _TABLE.flags.writeable = False
            assert_same(jitted(np.ones(3)), _uses_table(np.ones(3)), what=str(k))
            assert type(_TABLE) is np.ndarray
    finally:
        _TABLE = original
    assert _programs(jitted) == 2


@_REPLAYS
def test_a_dict_of_arrays_written_in_place():
    def make():
        moments = {"m": np.zeros(3), "v": np.zeros(3)}

        def f(g):
            moments["m"][...] = 0.9 * moments["m"] + 0.1 * g
            moments["v"][...] = 0.99 * moments["v"] + 0.01 * g * g
            return moments["m"] / (np.sqrt(moments["v"]) + 1e-8)

        return f, (lambda: moments)

    assert _programs(_same_calls(make, calls=5)) == 1


@_REPLAYS
def test_a_list_of_arrays_written_with_values_not_from_the_arguments():
    def make():
        counters = [np.zeros(2), np.ones(2)]

        def f(x):
            for counter in counters:
                counter += 1
            return x * counters[1][0]

        return f, (lambda: counters)

    assert _programs(_same_calls(make)) == 1


@_REPLAYS
def test_an_array_attribute_rebound_between_calls():
    class Model:
        def __init__(self):
            self.scale = np.full(3, 2.0)

        def __call__(self, x):
            return x * self.scale.sum()

    def make():
        model = Model()
        return model, (lambda: model)

    def change(model):
        model().scale = model().scale + 1  # (another array: traced again)

    (eager, eager_model), (ours, our_model) = make(), make()
    jitted = cr.jit(ours)
    for k in range(4):
        assert_same(jitted(np.ones(3)), eager(np.ones(3)), what=str(k))
        change(eager_model)
        change(our_model)
    assert _programs(jitted) == 4


@_REPLAYS
@pytest.mark.parametrize("held", ["the base", "the view too"])
def test_a_view_of_a_state_array_written(held):
    def make():
        buffer = np.zeros(4)
        state = {"buffer": buffer}
        if held == "the view too":
            state["tail"] = buffer[2:]

        def f(x):
            tail = state["tail"] if held == "the view too" else state["buffer"][2:]
            tail += 1
            return x * state["buffer"].sum()

        return f, (lambda: state["buffer"])

    assert _programs(_same_calls(make)) == 1


@_REPLAYS
@pytest.mark.parametrize("changed", [False, True])
def test_a_state_array_passed_to_scipy_is_guarded(changed):
    """scipy.linalg.solve converts its arguments with np.asarray: on a tracing array, a guard
    on its value. The replays are right when the matrix changes between calls (a miss, traced
    again), and replay when it does not."""
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a = np.eye(3) * 2
    b = np.arange(3.0)  # (np.asarray guards its value too: the same at each call)

    def f(b):
        return scipy_linalg.solve(a, b)

    jitted = cr.jit(f)
    for k in range(4):
        assert_same(jitted(b), scipy_linalg.solve(a.copy(), b), what=str(k))
        if changed:
            a[0, 0] += 1
    assert _programs(jitted) == (4 if changed else 1)


_FIRST = np.zeros(2)
_SECOND = _FIRST  # (one array, two names)


def _two_names(x):
    _FIRST[...] += x
    return _SECOND * 2


@_REPLAYS
def test_the_same_array_reached_by_two_names():
    _FIRST[...] = 0.0
    eager_state = np.zeros(2)
    jitted = cr.jit(_two_names)
    for k in range(4):
        eager_state += np.ones(2) * k
        assert_same(jitted(np.ones(2) * k), eager_state * 2, what=str(k))
        assert _SECOND is _FIRST and type(_FIRST) is np.ndarray
    assert_same(_FIRST, eager_state)
    assert _programs(jitted) == 1


@pytest.mark.filterwarnings("ignore::chainrule.tracing.JitWarning")
@pytest.mark.parametrize("how", ["a new array", "a traced array", "deleted"])
def test_a_call_that_rebinds_a_state_attribute(how):
    """The call puts something else where a state array was: each call is the eager one (an
    escape: traced again, then eager), and the holder never keeps a tracing array."""
    class Decay:
        def __init__(self):
            self.m = np.ones(2)

        def step(self, x):
            if how == "a new array":
                self.m = self.m * 0.5
            elif how == "a traced array":
                self.m = self.m * 0.5 + x
            else:
                del self.m
                self.m = np.ones(2) * x.sum()
            return x * 2

    eager, ours = Decay(), Decay()
    jitted = cr.jit(ours.step)
    for k in range(5):
        x = np.ones(2) * k
        assert_same(jitted(x.copy()), eager.step(x.copy()), what=str(k))
        assert type(ours.m) is np.ndarray
        assert_same(ours.m, eager.m, what=f"state {k}")


@pytest.mark.filterwarnings("ignore::chainrule.tracing.JitWarning")
def test_a_state_array_stored_under_another_name_is_the_array_itself():
    class Keep:
        def __init__(self):
            self.m = np.zeros(2)
            self.last = None

        def step(self, x):
            self.m += x
            self.last = self.m
            return x * 1

    eager, ours = Keep(), Keep()
    jitted = cr.jit(ours.step)
    for k in range(4):
        x = np.ones(2) * k
        assert_same(jitted(x.copy()), eager.step(x.copy()), what=str(k))
        assert ours.last is ours.m and type(ours.m) is np.ndarray
        assert_same(ours.m, eager.m, what=f"state {k}")


def test_the_holders_get_their_arrays_back_when_the_call_raises():
    counter = np.zeros(2)
    table = {"t": np.ones(2)}

    def f(x):
        counter[...] += 1
        table["t"] += x
        raise KeyError("boom")

    with pytest.raises(KeyError):
        cr.jit(f)(np.ones(2))
    assert type(counter) is np.ndarray and type(table["t"]) is np.ndarray
    assert_same(counter, np.ones(2))
    assert_same(table["t"], np.full(2, 2.0))


@_REPLAYS
def test_a_returned_state_array_is_the_array_itself():
    class Holder:
        def __init__(self):
            self.m = np.zeros(2)

        def step(self, x):
            self.m[...] += x
            return self.m

    holder = Holder()
    jitted = cr.jit(holder.step)
    for k in range(3):
        result = jitted(np.ones(2))
        assert result is holder.m, k
        assert_same(result, np.full(2, k + 1.0))
    assert _programs(jitted) == 1


@_REPLAYS
def test_state_arrays_the_call_does_not_use_are_not_read_by_the_program():
    used, unused = np.ones(2), np.zeros(2)

    def f(x, flag=False):
        return x * (used if not flag else unused)

    jitted = cr.jit(f)
    program = jitted.trace(np.ones(2))
    source = str(program)
    assert len(set(re.findall(r"\be\d+\b", source))) == 1, source  # (`used` only)
    assert source.count(" is not e") == 1, source  # (one holder checked: `used`'s cell)
    assert_same(jitted(np.ones(2) * 3), np.ones(2) * 3)


@_REPLAYS
def test_a_state_array_written_with_an_argument_array_and_read_by_a_tensor_op():
    w = cr.tensor(np.ones(2), requires_grad=True)
    velocity = np.zeros(2)

    def step(x):
        loss = (w * cr.tensor(x)).sum()
        loss.backward()
        velocity[...] = 0.9 * velocity + w.grad.numpy()
        with cr.no_grad():
            w.data[...] -= 0.1 * velocity
        w.grad.zero_()
        return loss.detach().numpy()

    w_eager = cr.tensor(np.ones(2), requires_grad=True)
    v_eager = np.zeros(2)
    jitted = cr.jit(step)
    for k in range(4):
        x = np.array([1.0, 2.0]) + k
        ours = jitted(x)
        loss = (w_eager * cr.tensor(x)).sum()
        loss.backward()
        v_eager[...] = 0.9 * v_eager + w_eager.grad.numpy()
        with cr.no_grad():
            w_eager.data[...] -= 0.1 * v_eager
        w_eager.grad.zero_()
        assert_same(ours, loss.detach().numpy(), what=str(k))
        assert_same(velocity, v_eager, what=f"velocity {k}")
        assert_same(w.detach().numpy(), w_eager.detach().numpy(), what=f"w {k}")


_SHARED = np.zeros(2)


@pytest.mark.filterwarnings("ignore::chainrule.tracing.JitWarning")
def test_another_thread_writing_state_while_the_call_is_traced():
    """Another thread that writes a global array while the traced call runs (it sees the
    tracing array there) computes plain NumPy: its write is not recorded into the trace (it
    would be replayed at each call), and the call leaves no program (traced again)."""
    import threading

    def writer():
        _SHARED[...] += 10.0  # (a tracing array while f runs: f waits for this thread)

    def f(x):
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join()
        return x * _SHARED

    _SHARED[...] = 0.0
    jitted = cr.jit(f)
    for k in range(4):
        expected = _SHARED + 10.0
        assert_same(jitted(np.ones(2)), expected, what=str(k))
        assert_same(_SHARED, expected, what=f"state {k}")
    assert type(_SHARED) is np.ndarray and _programs(jitted) == 0


class _Moments:
    def __init__(self):
        self.m = np.zeros(2)
        self.steps = 0

    @cr.jit
    def step(self, g):
        self.m[...] = 0.9 * self.m + 0.1 * g
        return g * 1


@_REPLAYS
def test_the_state_arrays_of_a_jitted_methods_self():
    ours, eager = _Moments(), _Moments()
    for k in range(4):
        g = np.ones(2) * (k + 1)
        assert_same(ours.step(g), _Moments.step.fun(eager, g), what=str(k))
        assert_same(ours.m, eager.m, what=f"state {k}")
    assert _programs(_Moments.step) == 1
