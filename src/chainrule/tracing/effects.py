"""What a traced call does besides computing: printing and drawing from global random
generators, which a replay would not repeat (cr.jit refuses them, naming them)."""

from __future__ import annotations

import contextlib
import ctypes
import io
import random as py_random
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import backends
from .. import random as cr_random
from ..modes import state as modes
from .numpy_calls import PLAIN, warn_again


class _Tee(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while some thread traces: what a tracing thread writes
    marks its call as printing; other threads' writes only pass through."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        effects = _tracing_threads.get(threading.get_ident())
        if effects is not None and text:
            effects.printed = True
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


_warn = warnings.warn


def _recording_warn(message: Any, category: Any = None, stacklevel: int = 1,
                    *args: Any, **kwargs: Any) -> None:
    """``warnings.warn`` while some thread traces: a tracing thread's warning is recorded, for
    each replay to issue it again (numpy_calls.warn_again); every warning is issued now."""
    trace = getattr(backends.tracing, "trace", None)
    if trace is not None and trace.open:
        trace.record("call", warn_again, (message, category), {}, None)
    _warn(message, category, stacklevel + 1, *args, **kwargs)


# thread id -> the Effects of the call it traces; the tees installed while any is there
_tracing_threads: dict[int, Effects] = {}
_tees: list = []  # [(the tee of stdout, of stderr, the streams they replaced)] while installed
_lock = threading.Lock()


class Effects:
    def __init__(self) -> None:
        self.printed = False
        self.refused: str | None = None  # (set by chainrule's own code: backends.tracing)
        self.numpy_state = _numpy_random_state()
        self.python_state = _python_random_state()
        self.generator = cr_random._state()
        self.settings = _settings()

    def finish(self) -> None:
        self.numpy_random = _numpy_random_state() != self.numpy_state
        self.python_random = _python_random_state() != self.python_state
        self.settings_changed = _settings() != self.settings

    def reason(self, draws: list) -> str | None:
        """Why the call cannot be replayed (None: it can); ``draws``: the arguments of the
        draws the trace recorded (of ``cr.random._sample``), in order."""
        if self.printed:
            return "it prints (a replay would not)"
        if self.refused:
            return self.refused
        moved = _generator_moved(self.generator, draws)
        if moved:
            return moved
        if self.settings_changed:
            return ("it leaves a global setting changed (the grad mode, NumPy's error "
                    "handling: np.seterr): a replay would not change it; set it around the "
                    "call, or inside with a context manager (cr.no_grad(), np.errstate)")
        if self.numpy_random:
            return ("it draws from NumPy's global random generator (a replay would repeat the "
                    "same numbers): draw with cr.random")
        if self.python_random:
            return ("it draws from Python's random module (a replay would repeat the same "
                    "numbers): draw with cr.random")
        return None


def _settings() -> tuple:
    """The global settings a call could leave changed: chainrule's grad modes and NumPy's
    floating-point error handling."""
    return modes.grad_enabled, modes.recording, np.geterr()


def _generator_moved(start: tuple, draws: list) -> str | None:
    """Why cr.random's generator is not where the recorded draws alone take it from where the
    call found it (a replay draws only those): it was reseeded, or its state was set (a
    checkpointed function that draws is run again for backward from the state its first run
    found)."""
    generator, state = start
    if cr_random._generator is not generator:
        return "it reseeds cr.random (a replay would not): seed before calling it"
    if not draws:
        if generator.bit_generator.state == state:
            return None
    elif any(type(arg) not in PLAIN and type(arg) is not tuple for args in draws
             for arg in args[2:]):
        return None  # (draws whose parameters are arrays: not redone here)
    again = np.random.Generator(type(generator.bit_generator)())
    again.bit_generator.state = state
    for method, _, *args in draws:
        getattr(again, method)(*args)
    if again.bit_generator.state == generator.bit_generator.state:
        return None
    return ("it sets cr.random's generator state (a checkpointed function that draws is run "
            "again for backward from the state its first run found): a replay would draw "
            "anew instead")


def _numpy_random_state() -> Any:
    """Where NumPy's global generator is: the words of its MT19937 state (its key and
    position), read in place (0.3 us; its ``state`` property copies them into a dict: 32 us);
    that dict's where the state cannot be read so."""
    generator = np.random.mtrand._rand._bit_generator
    held, view = _STATE_VIEW
    if held is not generator:
        try:
            address = generator.ctypes.state_address
        except (AttributeError, ImportError):
            address = None
        if type(generator).__name__ != "MT19937" or address is None:
            state = np.random.get_state(legacy=False)["state"]
            return state["key"].tobytes(), state["pos"]
        view = (ctypes.c_uint32 * (_MT19937_WORDS + 1)).from_address(address)
        _STATE_VIEW[:] = [generator, view]  # (held: its memory lives as long as the view)
    return bytes(view)


def _python_random_state() -> Any:
    """Where Python's random module is: the words of its Mersenne Twister (the object's C
    struct: its index, then 624 words), read in place (0.3 us; ``random.getstate()`` makes a
    tuple of 625 ints: 9 us). The layout is checked once against getstate(), whose state is
    read where it does not match, and always with the cached Gaussian."""
    instance = py_random._inst
    held, view = _PYTHON_VIEW
    if held is not instance:
        words = (ctypes.c_uint32 * (_MT19937_WORDS + 1)).from_address(
            id(instance) + object.__basicsize__)
        state = py_random.getstate()[1]
        view = words if (words[0], *words[1:]) == (state[-1], *state[:-1]) else None
        _PYTHON_VIEW[:] = [instance, view]  # (held: its memory lives as long as the view)
    gauss = getattr(instance, "gauss_next", None)
    return py_random.getstate() if view is None else (bytes(view), gauss)


_PYTHON_VIEW: list = [None, None]  # random's instance, and its state's words (or None)
_MT19937_WORDS = 624  # (the struct: uint32 key[624], then int pos)
_STATE_VIEW: list = [None, None]  # NumPy's global bit generator, and its state's words


@contextlib.contextmanager
def side_effects() -> Iterator[Effects]:
    """The effects of the call this thread traces meanwhile."""
    effects = Effects()
    previous = getattr(backends.tracing, "effects", None)
    backends.tracing.effects = effects
    with _lock:
        _tracing_threads[threading.get_ident()] = effects
        if not _tees:
            out, err = sys.stdout, sys.stderr
            _tees.append((_Tee(out), _Tee(err), out, err))
            sys.stdout, sys.stderr = _tees[0][:2]
            warnings.warn = _recording_warn
    try:
        yield effects
    finally:
        backends.tracing.effects = previous
        with _lock:
            del _tracing_threads[threading.get_ident()]
            if not _tracing_threads:
                tee_out, tee_err, out, err = _tees.pop()
                if sys.stdout is tee_out:  # (unless the program replaced it meanwhile)
                    sys.stdout = out
                if sys.stderr is tee_err:
                    sys.stderr = err
                if warnings.warn is _recording_warn:
                    warnings.warn = _warn
        effects.finish()
