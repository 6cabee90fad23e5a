"""Anomaly detection: the first derivative rule that returns a NaN names its op and the line
that created it, in PyTorch's words; the graph and .grad are left as they were; off, nothing
is recorded or checked."""

from __future__ import annotations

import doctest
import importlib
import sys
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import anomaly
from chainrule.ops import multiply, recording, sin

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's 0 * inf

FIRST_LINE = "Function '{}' returned nan values in its {}th output."


def _nan_at_zero(x):
    return cr.sqrt(x) * 0.0  # sqrt's rule: 0 * 0.5 / sqrt(0) = nan at x = 0


def _raised(call) -> str:
    with pytest.raises(RuntimeError) as info:
        call()
    return str(info.value)


# ---------------------------------------------------------------- switches


def test_off_by_default_records_nothing_and_runs_the_plain_recording_code():
    assert not cr.is_anomaly_enabled() and cr.is_anomaly_check_nan_enabled()
    assert recording.observers == []
    assert "observed" not in sin.apply.__code__.co_filename
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = _nan_at_zero(x)
    assert anomaly.creation_trace(y.grad_fn) is None
    y.sum().backward()  # NaN flows unchecked, as without the mode
    assert np.isnan(x.grad.numpy()[0])


def test_the_context_restores_the_previous_mode_also_on_error_and_when_nested():
    with cr.detect_anomaly():
        assert cr.is_anomaly_enabled() and cr.is_anomaly_check_nan_enabled()
        assert "observed" in sin.apply.__code__.co_filename
        with cr.detect_anomaly(check_nan=False):
            assert cr.is_anomaly_enabled() and not cr.is_anomaly_check_nan_enabled()
        assert cr.is_anomaly_check_nan_enabled()
    assert not cr.is_anomaly_enabled()
    assert "observed" not in multiply.apply.__code__.co_filename
    with pytest.raises(KeyError), cr.detect_anomaly():
        raise KeyError("boom")
    assert not cr.is_anomaly_enabled() and recording.observers == []


def test_set_detect_anomaly_switches_at_once_and_as_a_block():
    try:
        cr.set_detect_anomaly(True)
        assert cr.is_anomaly_enabled()
    finally:
        cr.set_detect_anomaly(False)
    assert not cr.is_anomaly_enabled()
    with cr.set_detect_anomaly(True, check_nan=False):
        assert cr.is_anomaly_enabled() and not cr.is_anomaly_check_nan_enabled()
    assert not cr.is_anomaly_enabled() and cr.is_anomaly_check_nan_enabled()


def test_as_a_decorator_with_and_without_parentheses():
    @cr.detect_anomaly
    def bare():
        return cr.is_anomaly_enabled(), cr.is_anomaly_check_nan_enabled()

    @cr.detect_anomaly(check_nan=False)
    def called():
        return cr.is_anomaly_enabled(), cr.is_anomaly_check_nan_enabled()

    assert bare() == (True, True) and called() == (True, False)
    assert not cr.is_anomaly_enabled()


def test_the_mode_is_global_as_pytorchs():
    seen = []
    with cr.detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(cr.is_anomaly_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


# ---------------------------------------------------------------- the error


def test_a_nan_in_backward_names_the_op_and_the_line_that_created_it():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = _nan_at_zero(x).sum()
        message = _raised(y.backward)
    lines = message.splitlines()
    assert lines[0] == FIRST_LINE.format("SqrtBackward", 0)
    assert lines[1] == "Traceback of forward call that caused the error:"
    assert "return cr.sqrt(x) * 0.0" in message and "y = _nan_at_zero(x).sum()" in message
    # outermost first, and none of chainrule's own frames
    assert message.index("y = _nan_at_zero(x)") < message.index("return cr.sqrt(x)")
    assert "/chainrule/" not in message and "chainrule generated" not in message
    assert f'File "{__file__}"' in message


def test_the_index_is_the_input_whose_rule_returned_nan():
    a = cr.tensor([np.inf])  # a constant: only b's rule runs (g * a)
    b = cr.tensor([1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (a * b) * 0.0
        message = _raised(lambda: y.sum().backward())
    assert message.splitlines()[0] == FIRST_LINE.format("MultiplyBackward", 1)


def test_after_the_error_grad_and_graph_are_as_they_were():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    x.grad = cr.tensor([5.0, 6.0])
    w = cr.tensor([2.0, 3.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (_nan_at_zero(x) + w * 2.0).sum()  # (w's gradient is found before the NaN)
        _raised(y.backward)
    assert np.array_equal(x.grad.numpy(), [5.0, 6.0]) and w.grad is None
    nodes, stack = [], [y.grad_fn]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack += [p for p in node.parents if isinstance(p, cr.Node)]
    assert len(nodes) == 5 and all(node.saved is not None for node in nodes)  # nothing freed
    y.backward()  # the same graph runs again, unchecked
    assert np.isnan(x.grad.numpy()[0]) and np.array_equal(w.grad.numpy(), [2.0, 2.0])


def test_a_pass_that_succeeds_frees_the_graph_as_usual():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (cr.sqrt(x) * x).sum()
        y.backward()
        assert "second time" in _raised(y.backward)
        z = (cr.sqrt(x) * x).sum()
        z.backward(retain_graph=True)
        z.backward()
    expected = 1.5 * np.sqrt([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 3 * expected, rtol=1e-6)


def test_without_check_nan_nothing_raises_but_errors_still_show_their_line():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly(check_nan=False):
        y = _nan_at_zero(x).sum()
        y.backward()
    assert np.isnan(x.grad.numpy()[0])
    assert anomaly.creation_trace(y.grad_fn) is not None


def test_an_op_recorded_while_the_mode_was_off_says_so():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = _nan_at_zero(x).sum()
    with cr.detect_anomaly():
        message = _raised(y.backward)
    assert message.splitlines()[0] == FIRST_LINE.format("SqrtBackward", 0)
    assert "No forward pass information available" in message
    assert "cr.detect_anomaly()" in message


def _raising_primitive():
    @cr.primitive(catalogued=False)  # (not one of the op table's)
    def fragile(x):
        return x * 1.0

    def broken(g, x):
        raise ZeroDivisionError("the rule failed")

    return fragile.defrules(vjp=broken, jvp=lambda t, x: t)


def test_any_other_error_in_a_rule_gets_the_line_that_created_its_node():
    fragile = _raising_primitive()
    x = cr.tensor([1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = cr.sin(fragile(x)).sum()
        if sys.version_info >= (3, 11):
            with pytest.raises(ZeroDivisionError) as info:
                y.backward()
            (note,) = info.value.__notes__
        else:
            with pytest.warns(RuntimeWarning) as caught:
                with pytest.raises(ZeroDivisionError):
                    y.backward()
            note = str(caught[0].message)
    assert note.startswith("Error detected in FragileBackward. ")
    assert "Traceback of forward call that caused the error:" in note
    assert "y = cr.sin(fragile(x)).sum()" in note
    assert x.grad is None


# ---------------------------------------------------------------- transforms and modes


def test_under_grad_jacrev_and_gradients():
    x0 = np.array([0.0, 1.0])
    with cr.detect_anomaly():
        for call in (
            lambda: cr.grad(lambda v: _nan_at_zero(v).sum())(x0),
            lambda: cr.jacrev(_nan_at_zero)(x0),
            lambda: cr.value_and_grad(lambda v: _nan_at_zero(v).sum())(x0),
        ):
            message = _raised(call)
            assert message.splitlines()[0] == FIRST_LINE.format("SqrtBackward", 0)
            assert "return cr.sqrt(x) * 0.0" in message


def test_forward_mode_checks_each_tangent_rule():
    x0 = np.array([0.0, 1.0])
    with cr.detect_anomaly():
        # sqrt's tangent is inf at 0 (no NaN); multiply's 0.0 * inf is the first NaN
        message = _raised(lambda: cr.jvp(_nan_at_zero, (x0,), (np.ones(2),)))
        assert message.splitlines()[0] == (
            "Function 'MultiplyBackward' returned nan values in its forward-mode output for its "
            "0th input."
        )
        assert "return cr.sqrt(x) * 0.0" in message
        # jacfwd pushes the basis: the row of x[1] has tangent 0 at x[0], 0 * inf in sqrt's rule
        message = _raised(lambda: cr.jacfwd(_nan_at_zero)(x0))
        assert message.startswith(
            "Function 'SqrtBackward' returned nan values in its forward-mode output"
        )


def test_under_hessian_forward_over_reverse():
    x0 = np.array([0.0, 1.0])
    with cr.detect_anomaly():
        message = _raised(lambda: cr.hessian(lambda v: _nan_at_zero(v).sum())(x0))
    assert "returned nan values" in message and "Traceback of forward call" in message


def test_create_graph_checks_the_recorded_backward_too():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (x ** 1.5).sum()  # first derivative 1.5 sqrt(x): finite; its derivative is inf
        (g,) = cr.gradients(y, x, create_graph=True)
        message = _raised(lambda: (g * 0.0).sum().backward())
    assert "returned nan values" in message


def test_no_false_alarm_and_the_same_gradients_to_second_order():
    def f(x):
        return (cr.tanh(x) * cr.exp(-x * x)).sum()

    x0 = np.array([0.3, -1.2, 2.0])
    with cr.detect_anomaly():
        assert cr.gradcheck(f, [x0])
        assert cr.gradcheck(lambda x: cr.grad(f)(x), [x0])
        checked = cr.hessian(f)(x0)
    np.testing.assert_array_equal(np.asarray(checked), np.asarray(cr.hessian(f)(x0)))


# ---------------------------------------------------------------- custom rules


def test_custom_vjp_rule_returning_nan():
    @cr.custom_vjp
    def scaled(x):
        return x * 2.0

    scaled.defvjp(lambda x: (x * 2.0, None), lambda res, g: (g * np.nan,))
    with cr.detect_anomaly():
        message = _raised(lambda: cr.grad(lambda v: scaled(v).sum())(np.ones(2)))
    assert message.splitlines()[0] == FIRST_LINE.format("CustomVjpCallBackward", 0)
    assert "scaled(v).sum()" in message


def test_custom_jvp_rule_returning_nan_in_both_modes():
    @cr.custom_jvp
    def f(x):
        return cr.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t * cr.log(x - 10.0)  # nan for x < 10

    x0 = np.array([0.5, 1.0])
    with cr.detect_anomaly():
        forward = _raised(lambda: cr.jvp(f, (x0,), (np.ones(2),)))
        reverse = _raised(lambda: cr.grad(lambda v: f(v).sum())(x0))
    assert "returned nan values" in forward and "returned nan values" in reverse


# ---------------------------------------------------------------- spellings


def test_docstring_examples():
    failures, tried = doctest.testmod(
        anomaly, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert failures == 0 and tried > 0


def test_torch_dialect_names():
    torch = importlib.import_module("chainrule.torch")
    mode_module = importlib.import_module("chainrule.torch.autograd.anomaly_mode")
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        block = torch.autograd.detect_anomaly()
    with block:
        assert torch.is_anomaly_enabled() and torch.is_anomaly_check_nan_enabled()
    with torch.autograd.set_detect_anomaly(True, check_nan=False):
        assert torch.is_anomaly_enabled() and not torch.is_anomaly_check_nan_enabled()
    assert not torch.is_anomaly_enabled()
    failures, tried = doctest.testmod(
        mode_module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert failures == 0 and tried > 0


@pytest.mark.parametrize("op", ["log", "sqrt", "exp", "sin"])
def test_the_message_is_pytorchs_for_the_same_failure(op):
    real_torch = pytest.importorskip("torch")
    ours = importlib.import_module("chainrule.torch")
    # a value where the forward is finite and the rule's result nan: 0 * inf (or inf * 0)
    inputs = {"log": [0.0, 1.0], "sqrt": [0.0, 1.0], "exp": [1000.0, 1.0], "sin": [np.inf, 1]}
    upstream = {"log": 0.0, "sqrt": 0.0, "exp": 0.0, "sin": 1.0}

    def message(lib):
        x = lib.tensor(inputs[op], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                y = getattr(lib, op)(x)
                loss = (y * upstream[op]).sum() if op != "sin" else y.sum()
                with pytest.raises(RuntimeError) as info:
                    loss.backward()
        return str(info.value).splitlines()[0], x.grad

    theirs, their_grad = message(real_torch)
    mine, my_grad = message(ours)
    assert mine == theirs.replace("Backward0", "Backward")
    assert their_grad is None and my_grad is None
