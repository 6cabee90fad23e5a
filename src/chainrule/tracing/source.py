"""The program's Python text: one line per call of a trace (after the passes), its values
named ``v0``, ``v1``..., the state it reads ``e0``..., its constants ``k0``..., each line
commented with the dtype and shape of what it makes; and the checks of its guards.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from . import numpy_calls as calls
from .buffers import outs
from .values import External, Instr, Var


class Miss(Exception):
    """A guard of the program did not hold: the value that Python saw when tracing differs."""

    def __init__(self, where: int) -> None:
        super().__init__(where)
        self.where = where


class _Names:
    """Names of the generated function's globals: functions by their own names, constants
    ``k0``, ``k1``..."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"Miss": Miss, "errstate": np.errstate}
        self._by_id: dict = {}  # id(function), or a ufunc's method: (id(ufunc), name)

    def function(self, op: Any) -> str:
        owner = getattr(op, "__self__", None)
        # (a ufunc's method is a new object at each lookup: one name for all of them)
        key = (id(owner), op.__name__) if isinstance(owner, np.ufunc) else id(op)
        name = self._by_id.get(key)
        if name is not None:
            return name
        base = getattr(op, "__name__", None) or "f"
        if isinstance(owner, np.ufunc):
            base = f"{owner.__name__}_{base}"
        base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in base)
        if not base[0].isalpha():
            base = "f_" + base
        name, count = base, 1
        while name in self.namespace or name in ("np",):
            count += 1
            name = f"{base}_{count}"
        self.namespace[name] = op
        self._by_id[key] = name
        return name

    def constant(self, value: Any) -> str:
        name = self._by_id.get(id(value))
        if name is None or self.namespace.get(name) is not value:
            name = f"k{sum(1 for key in self.namespace if key.startswith('k'))}"
            while name in self.namespace:
                name += "_"
            self.namespace[name] = value
            self._by_id[id(value)] = name
        return name


def _render(value: Any, names: _Names, constants: dict) -> str:
    kind = type(value)
    if kind is Var:
        if value in constants:
            return names.constant(constants[value])
        return value.name
    if kind is External:
        return value.name
    if kind is tuple:
        inner = ", ".join(_render(item, names, constants) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is list:
        return "[" + ", ".join(_render(item, names, constants) for item in value) + "]"
    if kind is dict:
        return "{" + ", ".join(
            f"{key!r}: {_render(item, names, constants)}" for key, item in value.items()
        ) + "}"
    if kind is slice:
        parts = (_render(part, names, constants) for part in (value.start, value.stop,
                                                              value.step))
        return f"slice({', '.join(parts)})"
    if value is None or value is Ellipsis or kind is bool or kind is int or kind is str:
        return repr(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)
    return names.constant(value)


def _operand(value: Any, names: _Names, constants: dict) -> str:
    """An operand of a Python operator: parenthesized unless a name (``(-1.0) ** v``)."""
    text = _render(value, names, constants)
    return text if text.isidentifier() else f"({text})"


def _call_args(instr: Instr, names: _Names, constants: dict, skip: int = 0) -> str:
    parts = [_render(arg, names, constants) for arg in instr.args[skip:]]
    parts += [f"{key}={_render(item, names, constants)}" for key, item in instr.kwargs.items()]
    return ", ".join(parts)


def _expression(instr: Instr, names: _Names, constants: dict) -> str:
    kind, op = instr.kind, instr.op
    if kind == "call":
        if not instr.kwargs and len(instr.args) == 2 and op in calls.BINARY and (
                op not in calls.SCALAR_OPERATORS or any(map(_is_array, instr.args))):
            left, right = (_operand(arg, names, constants) for arg in instr.args)
            return f"{left} {calls.BINARY[op]} {right}"
        if not instr.kwargs and len(instr.args) == 1 and op in calls.UNARY:
            return f"{calls.UNARY[op]}{_operand(instr.args[0], names, constants)}"
        return f"{names.function(op)}({_call_args(instr, names, constants)})"
    target = _render(instr.args[0], names, constants)
    if kind == "method":
        return f"{target}.{op}({_call_args(instr, names, constants, 1)})"
    if kind == "attr":
        return f"{target}.{op}"
    if kind == "bind":
        return target
    if kind == "getitem":
        return f"{target}[{_render(instr.args[1], names, constants)}]"
    raise AssertionError(kind)


def _is_array(value: Any) -> bool:
    """Whether an operand is an array (a ufunc and its operator are then the same call)."""
    return not value.scalar if type(value) is Var else isinstance(
        getattr(value, "array", value), np.ndarray)


def _describe(var: Var) -> str:
    return _description(var.dtype, var.shape)


@functools.lru_cache(maxsize=1024)
def _description(dtype: np.dtype, shape: tuple) -> str:
    return f"{dtype}[{','.join(map(str, shape))}]"


def _lines(instrs: list, names: _Names, constants: dict, buffers: dict,
           fused: dict) -> list[str]:
    lines = []
    for position, instr in enumerate(instrs):
        results = outs(instr)
        if instr in fused:
            lines.append(fused[instr])
            continue
        if instr.kind == "guard":
            lines.extend(_under(instr, line)
                         for line in _guard_lines(instr, position, names, constants))
            continue
        if instr.kind == "setitem":
            target, key, value = (_render(arg, names, constants) for arg in instr.args)
            lines.append(f"{target}[{key}] = {value}")
            continue
        expression = _expression(instr, names, constants)
        if instr in buffers:
            expression = (f"{names.function(instr.op)}("
                          f"{_call_args(instr, names, constants)}, out=b{buffers[instr]})")
        if not results:
            lines.append(_under(instr, expression))
            continue
        target = ", ".join(var.name for var in results) + ("," if len(results) == 1 and
                                                           type(instr.outs) is tuple else "")
        comment = "  # " + ", ".join(_describe(var) for var in results)
        lines.append(_under(instr, f"{target} = {expression}{comment}"))
        if instr.shape_guard:
            for var in results:
                lines.append(f"if {var.name}.shape != {var.shape!r}: raise Miss({position})")
    return lines


def _under(instr: Instr, line: str) -> str:
    """``line``, under the np.errstate its call ran under in the trace, if not the call's."""
    if instr.errors is None:
        return line
    state = ", ".join(f"{key}={value!r}" for key, value in sorted(instr.errors.items()))
    return f"with errstate({state}): {line}"


def _guard_lines(instr: Instr, position: int, names: _Names, constants: dict) -> list[str]:
    if instr.guard_kind == "method":
        target = _render(instr.args[0], names, constants)
        value = f"{target}.{instr.op}({_call_args(instr, names, constants, 1)})"
    else:
        value = f"{names.function(instr.op)}({_call_args(instr, names, constants)})"
    expected = instr.expected
    if type(expected) in (bool, int, str) or expected is None:
        check = f"!= {expected!r}" if type(expected) is not bool else \
            ("is not True" if expected else "is not False")
        return [f"if {value} {check}: raise Miss({position})"]
    return [f"if not same({value}, {names.constant(expected)}): raise Miss({position})"]


def same(value: Any, expected: Any) -> bool:
    """Whether a guarded value is what the trace saw, as Python could tell them apart: NaN
    equal to NaN, -0.0 not 0.0 (``copysign``, ``1 / x``, ``str`` tell them apart); arrays by
    dtype, shape, values and zeros' signs; lists and tuples item by item."""
    if isinstance(expected, np.ndarray):
        return (
            isinstance(value, np.ndarray) and value.dtype == expected.dtype
            and value.shape == expected.shape and np.array_equal(value, expected, equal_nan=True)
            and (expected.dtype.kind not in "fc" or np.array_equal(
                _signs(value), _signs(expected)))
        )
    kind = type(expected)
    if type(value) is not kind:
        return False
    if isinstance(expected, float | np.floating):
        return _same_float(value, expected)
    if isinstance(expected, complex | np.complexfloating):
        return _same_float(value.real, expected.real) and _same_float(value.imag, expected.imag)
    if kind is list or kind is tuple:
        return len(value) == len(expected) and all(map(same, value, expected))
    try:
        return bool(value == expected)
    except ValueError:  # (nested lists of arrays)
        return repr(value) == repr(expected)


def _same_float(value: Any, expected: Any) -> bool:
    if value != value:
        return expected != expected
    return value == expected and (value != 0 or math.copysign(1.0, value) == math.copysign(
        1.0, expected))


def _signs(array: np.ndarray) -> np.ndarray:
    return np.signbit(np.stack([array.real, array.imag]) if array.dtype.kind == "c" else array)
