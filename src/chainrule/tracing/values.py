"""The values and instructions of a traced call: what :mod:`.record` writes and the passes
(:mod:`.program`) read. Vars keep the shape, dtype and aliasing of what they stand for, never
the arrays: a program is built from them after the call's arrays are let go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class Var:
    """A value of the program: an input, or the result of an instruction."""

    __slots__ = ("index", "shape", "dtype", "scalar", "view", "strided", "root", "name")

    def __init__(self, index: int, value: Any, root: int) -> None:
        self.index = index
        self.shape = value.shape
        self.dtype = value.dtype
        self.scalar = isinstance(value, np.generic)  # (NumPy's 0-d results are scalars)
        self.view = not self.scalar and value.base is not None
        self.strided = self.view and not value.flags.c_contiguous  # (a copy changes its layout)
        self.root = root  # the buffer it lives in (views share their base's): aliasing
        self.name = f"v{index}"

    def __repr__(self) -> str:
        return self.name


class External:
    """An array the program reads or writes by identity (it is not its input or result)."""

    __slots__ = ("index", "array", "name")

    def __init__(self, index: int, array: Any) -> None:
        self.index = index
        self.array = array
        self.name = f"e{index}"

    def __repr__(self) -> str:
        return self.name


@dataclass(eq=False)
class Instr:
    """One call of the program: ``outs = op(*args, **kwargs)``.

    ``kind`` says how ``op`` is called: "call" (a function or ufunc), "method" (``op`` is a
    method name called on ``args[0]``), "getitem", "setitem", "attr" (``op`` is an attribute
    name), "guard" (``op`` converts ``args[0]`` to the Python value ``expected``). ``writes``
    are the values written in place (``out=``, ``x[i] = v``, ``np.copyto``); ``random``: the
    call draws from a generator and is never merged or folded."""

    kind: str
    op: Any
    args: tuple
    kwargs: dict
    outs: Any  # a Var, a tuple of Vars, or None
    writes: tuple = ()
    random: bool = False
    expected: Any = None
    shape_guard: bool = False  # the result's shape depends on the data (a boolean mask)
    guard_kind: str = ""  # a guard's call: "call" or "method"
    errors: dict | None = None  # np.geterr() where the call ran under another np.errstate
