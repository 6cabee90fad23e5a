"""Anomaly detection: which op of the forward pass a NaN in the derivatives came from.

While it is on (``with cr.detect_anomaly():``, or ``cr.set_detect_anomaly(True)``; off by
default, and for every thread at once, as PyTorch's):

- each node recorded remembers the user's stack where it was made (:func:`creation_trace`,
  chainrule's own frames left out);
- the engine checks the result of every reverse rule, forward mode that of every tangent rule,
  and the first that holds a NaN raises a RuntimeError naming the op as its ``grad_fn`` is
  named, in PyTorch's words (``Function 'LogBackward' returned nan values in its 0th
  output.``), followed by the lines of the forward pass that created it. The backward pass
  frees nothing until it has succeeded, so after the error the graph and every ``.grad`` are as
  they were;
- any other error raised by a node's rules gets the same trace as a note (a warning before
  Python 3.11, which has no notes).

Off, it costs nothing per op: recording calls observers only while one is installed
(:mod:`chainrule.ops.recording`), and the engine reads ``mode.enabled`` once per pass.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .modes import constructor_signature
from .node import Node, backward_name
from .ops.recording import add_observer, remove_observer
from .tensor import array_of

__all__ = [
    "detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly",
]


class _Mode:
    """The switches (global, as PyTorch's); ``checking``: both on, which is what the rules'
    checks read."""

    __slots__ = ("enabled", "check_nan", "checking")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True
        self.checking = False


mode = _Mode()


def _set(enabled: bool, check_nan: bool) -> None:
    mode.enabled, mode.check_nan = bool(enabled), bool(check_nan)
    mode.checking = mode.enabled and mode.check_nan
    if mode.enabled:
        add_observer(_remember)
    else:
        remove_observer(_remember)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on.

    >>> import chainrule as cr
    >>> cr.is_anomaly_enabled()
    False
    """
    return mode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, checks the derivatives for NaN."""
    return mode.check_nan


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on for the extent of a ``with`` block (or of a function it
    decorates): ops remember where they were created, and the first derivative rule whose
    result holds a NaN (``check_nan=True``) raises, naming the op and that line.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> with cr.detect_anomaly():
    ...     y = cr.sqrt(x) * 0.0
    ...     y.sum().backward()   # 0 * (1 / 2sqrt(0)) = 0 * inf
    Traceback (most recent call last):
    RuntimeError: Function 'SqrtBackward' returned nan values in its 0th output.
    ...
    >>> x.grad is None   # left as it was
    True
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]):
            return cls()(args[0])  # bare decorator: @detect_anomaly
        return super().__new__(cls)

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._saved: list = []

    def __enter__(self) -> None:
        self._saved.append((mode.enabled, mode.check_nan))
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self._saved.pop())

    def __call__(self, fn: Callable) -> Callable:
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(check_nan):
                return fn(*args, **kwargs)

        return wrapper


detect_anomaly.__signature__ = constructor_signature(detect_anomaly)


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Switch anomaly detection on or off at once; used as a ``with`` block, the previous
    setting comes back at its end.

    >>> import chainrule as cr
    >>> with cr.set_detect_anomaly(True):
    ...     cr.is_anomaly_enabled()
    True
    >>> cr.is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._before = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        _set(mode, check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set(*self._before)


# ------------------------------------------------------------------ where an op was created
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_GENERATED = "<chainrule generated"


def _own(filename: str) -> bool:
    return filename.startswith(_PACKAGE) or filename.startswith(_GENERATED)


def user_stack() -> traceback.StackSummary:
    """The calling stack without chainrule's own frames, outermost first (source lines read
    only when shown)."""
    frames = [
        (frame, line) for frame, line in traceback.walk_stack(sys._getframe(1))
        if not _own(frame.f_code.co_filename)
    ]
    frames.reverse()
    return traceback.StackSummary.extract(frames, lookup_lines=False)


# Where each node recorded while anomaly detection was on was created (kept beside the nodes,
# not in them, so that a node costs the same whether or not the mode was ever on).
_traces: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _remember(node: Node, args: tuple) -> None:
    """The recording observer while anomaly detection is on."""
    _traces[node] = user_stack()


def creation_trace(node: Node) -> traceback.StackSummary | None:
    """Where ``node`` was recorded (the user's frames), if anomaly detection was on then."""
    return _traces.get(node)


def forward_trace(trace: traceback.StackSummary | None) -> str:
    """The lines of the forward pass that created an op, as PyTorch introduces them."""
    if trace is None:
        return (
            "No forward pass information available: the op was recorded while anomaly "
            "detection was off. Enable it around the forward pass too (with "
            "cr.detect_anomaly(): ...) to see where the op was created."
        )
    return "Traceback of forward call that caused the error:\n" + "".join(
        traceback.format_list(trace)
    ).rstrip("\n")


# ------------------------------------------------------------------ the checks
def _has_nan(value: Any) -> bool:
    array = array_of(value)
    return array.dtype.kind in "fc" and bool(np.isnan(array).any())


def check_cotangent(node: Node, index: int, cotangent: Any) -> None:
    """Raise if the reverse rule of ``node`` for input ``index`` returned a NaN."""
    if _has_nan(cotangent):
        error = RuntimeError(
            f"Function '{repr(node).strip('<>')}' returned nan values in its {index}th "
            f"output.\n{forward_trace(creation_trace(node))}"
        )
        error.anomaly_node = node  # (whose trace the message has: see blame)
        raise error


def check_tangent(prim: Any, index: int, tangent: Any) -> None:
    """Raise if the tangent rule of ``prim`` for input ``index`` returned a NaN (in forward
    mode the op is being created now: the trace is the current stack)."""
    if _has_nan(tangent):
        raise RuntimeError(
            f"Function '{backward_name(prim)}' returned nan values in its forward-mode output "
            f"for its {index}th input.\n{forward_trace(user_stack())}"
        )


@contextlib.contextmanager
def blame(node: Node) -> Iterator[None]:
    """An error raised by ``node``'s rules, other than a NaN found in their results (whose
    message says it all already), gets the trace of where the node was created."""
    try:
        yield
    except Exception as error:
        if getattr(error, "anomaly_node", None) is not node:
            note = f"Error detected in {repr(node).strip('<>')}. " + forward_trace(
                creation_trace(node)
            )
            if hasattr(error, "add_note"):
                error.add_note(note)
            else:  # Python 3.10
                warnings.warn(note, RuntimeWarning, stacklevel=2)
        raise
