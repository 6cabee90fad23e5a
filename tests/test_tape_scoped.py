"""``GradientTape.watch`` is scoped and a tape differentiates only what it recorded (TensorFlow's
semantics), in the native spelling (``cr.GradientTape``) and the TensorFlow dialect.

In TensorFlow ``watch`` does not change the tensor: a constant stays a constant outside the tape,
each tape sees only the operations it recorded, and one tape's ``gradient`` never disturbs
another's. Every test runs in both spellings, through the ``api`` fixture.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as onp
import pytest

import chainrule as cr
import chainrule.tensorflow as tf


@pytest.fixture(params=["native", "tensorflow"])
def api(request: pytest.FixtureRequest) -> SimpleNamespace:
    if request.param == "native":
        return SimpleNamespace(
            constant=lambda value: cr.tensor(value, dtype="float64"),
            variable=lambda value: cr.tensor(value, dtype="float64", requires_grad=True),
            Tape=cr.GradientTape, sin=cr.sin, cos=cr.cos, tensor_type=cr.Tensor,
        )
    return SimpleNamespace(
        constant=lambda value: tf.constant(value, dtype=tf.float64),
        variable=lambda value: tf.Variable(value, dtype=tf.float64),
        Tape=tf.GradientTape, sin=tf.sin, cos=tf.cos, tensor_type=tf.Tensor,
    )


def value(tensor):
    assert tensor is not None
    return onp.asarray(tensor.detach().numpy()).tolist()


def assert_untouched(x) -> None:
    """The tensor is as a fresh constant is: no grad required, no gradient, no history."""
    assert x.requires_grad is False
    assert x.grad is None
    assert x.grad_fn is None
    assert x.is_leaf


# ---------------------------------------------------------------------- watch does not change x
def test_watch_leaves_the_tensor_as_it_was(api):
    x = api.constant(3.0)
    with api.Tape() as tape:
        tape.watch(x)
        y = x * x
    assert_untouched(x)
    assert value(tape.gradient(y, x)) == 6.0
    assert_untouched(x)


def test_work_before_and_after_the_tape_is_not_recorded(api):
    x = api.constant(3.0)
    before = x * 2
    with api.Tape() as tape:
        tape.watch(x)
        y = x * before
    after = x * 5
    assert not before.requires_grad and not after.requires_grad
    assert after.grad_fn is None
    assert value(tape.gradient(y, x)) == 6.0  # before is a constant: 2 * 3


def test_in_place_updates_after_the_tape_work(api):
    x = cr.tensor([3.0, 4.0])  # native: a leaf that requires grad refuses in-place writes
    with api.Tape() as tape:
        tape.watch(x)
        y = (x * x).sum()
    assert tape.gradient(y, x).tolist() == [6.0, 8.0]
    x += 1
    x[0] = 10.0
    assert x.tolist() == [10.0, 5.0]
    assert_untouched(x)


def test_a_write_to_a_value_the_tape_saved_is_refused_at_gradient(api):
    x = cr.tensor([3.0, 4.0])
    with api.Tape() as tape:
        tape.watch(x)
        y = (x * x).sum()
    x += 1  # after the block x is a plain tensor again: the write is allowed...
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        tape.gradient(y, x)  # ...and the tape, which saved x, says so rather than guess
    assert_untouched(x)


def test_a_transform_closing_over_a_once_watched_tensor_records_nothing(api):
    x = api.constant(3.0)
    with api.Tape() as tape:
        tape.watch(x)
        _ = x * x
    result = cr.grad(lambda v: v * x)(onp.float64(2.0))  # (TF refuses mixed dtypes)
    assert float(result) == 3.0 and result.grad_fn is None


def test_an_exception_in_the_block_still_gives_the_tensor_back(api):
    x = api.constant(3.0)
    with pytest.raises(KeyError), api.Tape() as tape:
        tape.watch(x)
        raise KeyError("inside")
    assert_untouched(x)


def test_watch_before_the_block_takes_effect_inside_it_only(api):
    x = api.constant(2.0)
    tape = api.Tape()
    tape.watch(x)
    assert_untouched(x)
    with tape:
        y = x * x * x
    assert_untouched(x)
    assert value(tape.gradient(y, x)) == 12.0


def test_variables_and_tensors_that_require_grad_keep_requiring_it(api):
    v = api.variable(2.0)
    with api.Tape() as tape:
        tape.watch(v)
        y = v * v
    assert v.requires_grad and v.grad is None
    assert value(tape.gradient(y, v)) == 4.0
    assert v.requires_grad and v.grad is None  # the tape writes no .grad


def test_integer_tensors_are_ignored(api):
    n = cr.tensor([1, 2])
    with api.Tape() as tape:
        tape.watch(n)
        y = n * 2
    assert n.requires_grad is False and tape.gradient(y, n) is None


# ---------------------------------------------------------------------- two tapes, one tensor
@pytest.mark.parametrize("first", ["t1", "t2"])
@pytest.mark.parametrize("persistent", [False, True])
def test_two_tapes_watching_the_same_tensor_in_either_order(api, first, persistent):
    x = api.constant(3.0)
    with api.Tape(persistent=persistent) as t1:
        t1.watch(x)
        y = x * x
    with api.Tape(persistent=persistent) as t2:
        t2.watch(x)
        z = x * x * x
    results = {}
    for name in ([first, "t2" if first == "t1" else "t1"]):
        results[name] = value(t1.gradient(y, x) if name == "t1" else t2.gradient(z, x))
    assert results == {"t1": 6.0, "t2": 27.0}
    assert_untouched(x)


def test_a_tape_that_did_not_watch_the_tensor_gives_none(api):
    x = api.constant(3.0)
    with api.Tape() as t1:
        t1.watch(x)
        y = x * x
    with api.Tape() as t2:
        z = x * x * x  # x is a constant here
    assert t2.gradient(z, x) is None
    assert value(t1.gradient(y, x)) == 6.0


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("first", ["t1", "t2"])
def test_a_result_of_an_earlier_tape_is_a_constant_to_a_later_one(api, persistent, first):
    # The crash: t2 backpropagated through (and freed) the graph t1 had recorded.
    x = api.constant(3.0)
    with api.Tape(persistent=persistent) as t1:
        t1.watch(x)
        y = x * x
    with api.Tape() as t2:
        t2.watch(x)
        z = y * x
    if first == "t2":
        assert value(t2.gradient(z, x)) == 9.0  # y is a constant to t2, as in TensorFlow
        assert value(t1.gradient(y, x)) == 6.0  # and t1's graph is intact
    else:
        assert value(t1.gradient(y, x)) == 6.0
        assert value(t2.gradient(z, x)) == 9.0
    assert_untouched(x)


def test_a_tape_may_watch_a_result_another_tape_recorded(api):
    x = api.constant(3.0)
    with api.Tape() as t1:
        t1.watch(x)
        y = x * x
    with api.Tape() as t2:
        t2.watch(y)
        z = y * y
    assert value(t2.gradient(z, y)) == 18.0
    assert value(t1.gradient(y, x)) == 6.0
    with api.Tape() as t3:
        w = y * 2  # y is not watched by t3, and not a variable
    assert t3.gradient(w, y) is None


def test_a_result_made_before_the_tape_from_a_variable_is_a_constant(api):
    v = api.variable(2.0)
    a = v * v  # native tensors record here; the tape did not
    with api.Tape() as tape:
        y = a * v
    assert value(tape.gradient(y, v)) == 4.0  # TensorFlow: a is a constant, dy/dv = a


def test_a_target_the_tape_did_not_record_gives_none(api):
    x = api.constant(3.0)
    with api.Tape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    later = y * 2
    assert tape.gradient(later, x) is None
    assert value(tape.gradient([y, later], x)) == 6.0
    assert value(tape.gradient(x, x)) == 1.0  # a watched source differentiates to one


# ---------------------------------------------------------------------- nested tapes
def test_nested_tapes_give_second_derivatives_as_in_tensorflow_docs(api):
    x = api.constant(5.0)
    with api.Tape() as g:
        g.watch(x)
        with api.Tape() as gg:
            gg.watch(x)
            y = x * x
        dy_dx = gg.gradient(y, x)
    d2y_dx2 = g.gradient(dy_dx, x)
    assert value(dy_dx) == 10.0 and value(d2y_dx2) == 2.0
    assert_untouched(x)


def test_three_nested_tapes_give_the_third_derivative(api):
    x = api.constant(0.5)
    with api.Tape() as t3:
        t3.watch(x)
        with api.Tape() as t2:
            t2.watch(x)
            with api.Tape() as t1:
                t1.watch(x)
                y = api.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert value(d1) == pytest.approx(onp.cos(0.5))
    assert value(d2) == pytest.approx(-onp.sin(0.5))
    assert value(d3) == pytest.approx(-onp.cos(0.5))
    assert_untouched(x)


def test_work_done_in_the_outer_tape_only_is_a_constant_to_the_inner_one(api):
    x = api.constant(3.0)
    with api.Tape() as outer:
        outer.watch(x)
        a = x * x  # recorded by outer only
        with api.Tape() as inner:
            inner.watch(x)
            y = a * x
        dy = inner.gradient(y, x)  # a is a constant to inner: dy = a
    assert value(dy) == 9.0
    assert value(outer.gradient(dy, x)) == 6.0  # but outer knows a = x * x: d(a)/dx


def test_the_inner_tape_sees_only_what_it_watches(api):
    x = api.constant(3.0)
    with api.Tape(persistent=True) as outer:
        outer.watch(x)
        with api.Tape() as inner:
            y = x * x  # x is watched by outer, not by inner
        assert inner.gradient(y, x) is None
        assert x.requires_grad  # still lent to outer, which is open
        z = x * 4  # after inner closed: outer still records
    assert value(outer.gradient(y, x)) == 6.0
    assert value(outer.gradient(z, x)) == 4.0
    assert_untouched(x)


def test_nested_tapes_watching_the_same_tensor_give_it_back_when_the_last_closes(api):
    x = api.constant(3.0)
    with api.Tape(persistent=True) as outer:
        outer.watch(x)
        with api.Tape() as inner:
            inner.watch(x)
            y = x * x
        z = x * 3
        assert x.requires_grad
    assert_untouched(x)
    assert value(inner.gradient(y, x)) == 6.0
    assert value(outer.gradient(z, x)) == 3.0


# ---------------------------------------------------------------------- persistent and jacobian
def test_a_persistent_tape_works_after_its_block_and_leaves_the_tensor_alone(api):
    x = api.constant([1.0, 2.0])
    with api.Tape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = api.sin(x)
    assert value(tape.gradient(y, x)) == [2.0, 4.0]
    assert_untouched(x)
    assert value(tape.gradient(z, x)) == pytest.approx(onp.cos([1.0, 2.0]).tolist())
    assert value(tape.jacobian(y, x)) == [[2.0, 0.0], [0.0, 4.0]]
    assert value(tape.gradient(y, x)) == [2.0, 4.0]
    assert_untouched(x)


def test_jacobian_of_a_watched_constant(api):
    x = api.constant([1.0, 2.0, 3.0])
    with api.Tape() as tape:
        tape.watch(x)
        y = x * x
    jacobian = tape.jacobian(y, x)
    assert isinstance(jacobian, api.tensor_type)
    assert value(jacobian) == onp.diag([2.0, 4.0, 6.0]).tolist()
    assert_untouched(x)


def test_nested_jacobian_of_a_gradient_is_the_hessian(api):
    x = api.constant([1.0, 2.0])
    with api.Tape() as outer:
        outer.watch(x)
        with api.Tape() as inner:
            inner.watch(x)
            y = x * x * x
        grad = inner.gradient(y, x)
    hessian = outer.jacobian(grad, x)
    assert value(hessian) == [[6.0, 0.0], [0.0, 12.0]]
    assert_untouched(x)


def test_reentering_a_persistent_tape_records_both_blocks(api):
    x = api.constant(2.0)
    tape = api.Tape(persistent=True)
    with tape:
        tape.watch(x)
        y = x * x
    between = x * 10  # not recorded
    with tape:
        z = y * x
    assert value(tape.gradient(z, x)) == 12.0  # 3 x**2: y recorded in the first block
    assert tape.gradient(between, x) is None
    assert_untouched(x)


def test_reset_forgets_what_was_recorded_and_watched(api):
    x = api.constant(2.0)
    with api.Tape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        assert not x.requires_grad  # given back: nothing is watched any more
        tape.watch(x)
        z = x * 3
    assert tape.gradient(y, x) is None  # recorded before the reset
    assert value(tape.gradient(z, x)) == 3.0
    assert_untouched(x)


def test_stop_recording_keeps_the_watch(api):
    x = api.constant(2.0)
    with api.Tape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            ignored = x * 7
        y = x * x
    assert not ignored.requires_grad
    assert value(tape.gradient(y, x)) == 4.0
    assert_untouched(x)


# ---------------------------------------------------------------------- refusals lose nothing
def test_a_non_persistent_tape_used_twice_refuses_and_leaves_the_tensor(api):
    x = api.constant(3.0)
    with api.Tape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.gradient(y, x)
    assert_untouched(x)


def test_refused_calls_leave_the_tape_usable_and_the_tensors_alone(api):
    x = api.constant([1.0, 2.0])
    with api.Tape() as tape:
        with pytest.raises(ValueError, match="can only watch tensors"):
            tape.watch([x, 1.0])  # nothing watched: all are checked first
        assert not x.requires_grad
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match="sources must be tensors"):
        tape.gradient(y, [x, "x"])
    with pytest.raises(RuntimeError, match="shape"):
        tape.gradient(y, x, output_gradients=api.constant([1.0, 2.0, 3.0]))
    assert_untouched(x)
    assert value(tape.gradient(y, x)) == [2.0, 4.0]  # the refusals did not use the tape up


def test_tapes_in_two_threads_watching_one_tensor(api):
    x = api.constant(3.0)
    results = {}
    started = threading.Barrier(2)

    def work(name: str, power: int) -> None:
        with api.Tape() as tape:
            tape.watch(x)
            started.wait(timeout=10)
            y = x ** power
            started.wait(timeout=10)  # both are open at once here
        results[name] = value(tape.gradient(y, x))

    threads = [threading.Thread(target=work, args=(f"t{p}", p)) for p in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"t2": 6.0, "t3": 27.0}
    assert_untouched(x)


def test_an_inner_tape_used_after_the_outer_closed_does_not_free_the_outer_graph(api):
    x = api.constant(3.0)
    with api.Tape(persistent=True) as outer:
        outer.watch(x)
        with api.Tape() as inner:
            inner.watch(x)
            y = x * x
    assert value(inner.gradient(y, x)) == 6.0  # no tape records now: a plain first-order pass
    assert value(outer.gradient(y, x)) == 6.0  # the nodes both recorded are still there
    assert value(outer.gradient(y, x)) == 6.0


# ---------------------------------------------------------------------- with the transforms
def test_a_tape_inside_a_transformed_function_gives_differentiable_gradients():
    def derivative_of_cube(x):
        with cr.GradientTape() as tape:
            tape.watch(x)
            y = x ** 3
        return tape.gradient(y, x)  # 3 x**2

    assert float(cr.grad(derivative_of_cube)(2.0)) == 12.0  # was 0: a silent wrong result
    assert onp.asarray(cr.jacrev(derivative_of_cube)(onp.array([1.0, 2.0]))).tolist() == [
        [6.0, 0.0], [0.0, 12.0]]
    out, tangent = cr.jvp(derivative_of_cube, (onp.float64(2.0),), (onp.float64(1.0),))
    assert float(out) == 12.0 and float(tangent) == 12.0


def test_gradients_with_respect_to_an_intermediate_leave_its_history_alone():
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x
    z = y * y
    assert cr.gradients(z, [y])[0].item() == 18.0
    assert cr.gradients(y, [x])[0].item() == 6.0  # y's own graph was not needed above
