"""Grad mode: whether operations are recorded for reverse mode.

The state is thread-local, like PyTorch's: a ``no_grad`` block in one thread does not stop
recording in another. ``no_grad``/``enable_grad`` are PyTorch's names; ``record``/``pause`` are
MXNet's names for the same switch.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        # Inside MXNet's ``record()`` (and not ``pause()``): tensors of a record-only class
        # (``Tensor._record_only``) record only then.
        self.recording = False
        # Forward mode: tangents at levels >= ceiling are invisible (see forward.py).
        self.ceiling = 1 << 30
        # The forward-mode levels of the running jvps (the innermost owns the highest number).
        self.live_levels: set[int] = set()
        # How many functional transforms (grad, vjp, ...) are running: nested ones must
        # build differentiable gradients.
        self.transform_depth = 0


state = _State()


def live(tangents: dict | None) -> dict | None:
    """``tangents`` without those of finished jvps (None when nothing is left). A tensor made
    inside a jvp and returned or kept past its end carries a tangent at that dead level: no
    later jvp mistakes it for its own (levels are never reused), but it is dropped where
    results leave a transform, and never makes a conversion to NumPy refuse."""
    if not tangents:
        return None
    alive = state.live_levels
    if all(level in alive for level in tangents):
        return tangents
    kept = {level: tangent for level, tangent in tangents.items() if level in alive}
    return kept or None


class _GradMode:
    """Context manager and decorator that sets grad mode for its extent.

    Usable as ``with no_grad():``, ``@no_grad()`` and bare ``@no_grad`` (as in PyTorch). The
    previous modes are kept on a stack, so one instance may be entered again while active.
    """

    enabled: bool
    recording: bool | None = None  # record() and pause() also set state.recording

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]) and cls.__init__ is _init:
            return cls()(args[0])  # bare decorator: @no_grad
        return super().__new__(cls)

    def __init__(self) -> None:
        self._saved: list = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__signature__ = constructor_signature(cls)  # type: ignore[attr-defined]

    def __enter__(self) -> None:
        self._saved.append((state.grad_enabled, state.recording))
        state.grad_enabled = self.enabled
        if self.recording is not None:
            state.recording = self.recording

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled, state.recording = self._saved.pop()

    def __call__(self, fn: F) -> F:
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


_init = _GradMode.__init__


def constructor_signature(cls: type) -> inspect.Signature:
    """The signature ``cls`` is called with, read off its ``__init__``: set as the class's
    ``__signature__`` where ``__new__`` takes ``*args`` only so that the bare class can decorate
    (``@no_grad``), which ``help()`` and the API reference would otherwise show."""
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]
    return sig.replace(parameters=list(sig.parameters.values())[1:],
                       return_annotation=inspect.Signature.empty)


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Do not record operations for backward.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record operations for backward, even inside ``no_grad``.

    >>> import chainrule as cr
    >>> x = cr.tensor(1.0, requires_grad=True)
    >>> with cr.no_grad(), cr.enable_grad():
    ...     (x * 2).requires_grad
    True
    """

    enabled = True


class record(enable_grad):  # noqa: N801 - MXNet's name
    """MXNet's ``autograd.record()``: record operations inside the block.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0]); x.attach_grad()
    >>> with cr.record():
    ...     y = (x * x).sum()
    >>> y.backward(); x.grad
    tensor([2., 4.])
    """

    recording = True


class pause(no_grad):  # noqa: N801 - MXNet's name
    """MXNet's ``autograd.pause()``: stop recording inside a ``record`` block."""

    recording = False


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for reverse mode.

    >>> import chainrule as cr
    >>> cr.is_grad_enabled()
    True
    """
    return state.grad_enabled


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Switch recording on or off for this thread: at once when called, or for the extent of a
    ``with`` block (restored on exit).

    >>> import chainrule as cr
    >>> with cr.set_grad_enabled(False):
    ...     cr.is_grad_enabled()
    False
    >>> cr.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self._saved = []
        self._before = state.grad_enabled
        self.enabled = bool(mode)
        state.grad_enabled = self.enabled

    def __enter__(self) -> None:
        self._saved.append((self._before, state.recording))

    def __call__(self, fn: F) -> F:
        mode = self.enabled
        state.grad_enabled = self._before  # as a decorator it applies only inside fn

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off meanwhile (on again after, if it was): for work
    that makes many objects which live on and are no garbage (recording many graphs, tracing a
    call), whose collections would scan the whole heap over and over and free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
