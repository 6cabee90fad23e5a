"""What a traced call does besides computing: printing and drawing from global random
generators, which a replay would not repeat (cr.jit refuses them, naming them)."""

from __future__ import annotations

import contextlib
import io
import random as py_random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np


class _Tee(io.TextIOBase):
    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.written = False

    def write(self, text: str) -> int:
        self.written = self.written or bool(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class Effects:
    def __init__(self) -> None:
        self.out = _Tee(sys.stdout)
        self.err = _Tee(sys.stderr)
        self.numpy_state = _numpy_random_state()
        self.python_state = py_random.getstate()

    def finish(self) -> None:
        self.numpy_random = _numpy_random_state() != self.numpy_state
        self.python_random = py_random.getstate() != self.python_state

    def reason(self) -> str | None:
        if self.out.written or self.err.written:
            return "it prints (a replay would not)"
        if self.numpy_random:
            return ("it draws from NumPy's global random generator (a replay would repeat the "
                    "same numbers): draw with cr.random")
        if self.python_random:
            return ("it draws from Python's random module (a replay would repeat the same "
                    "numbers): draw with cr.random")
        return None


def _numpy_random_state() -> tuple:
    state = np.random.get_state(legacy=False)["state"]
    return state["key"].tobytes(), state["pos"]


@contextlib.contextmanager
def side_effects() -> Iterator[Effects]:
    effects = Effects()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = effects.out, effects.err
    try:
        yield effects
    finally:
        if sys.stdout is effects.out:
            sys.stdout = out
        if sys.stderr is effects.err:
            sys.stderr = err
        effects.finish()
