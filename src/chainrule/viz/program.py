"""``cr.graph`` of a ``cr.jit`` program: its calls, after the passes, as the vertices of a graph
(its inputs and the state it reads, its constants, one operation per call), drawn as a
recorded graph is."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tracing.buffers import reads
from ..tracing.program import Program
from ..tracing.values import External, Var
from .trace import Vertex, format_value


def program_vertices(program: Program) -> list[Vertex]:
    """The vertices of ``program``, in its order."""
    order: list[Vertex] = []
    made: dict = {}  # a Var or an External -> the key of the vertex that gives it

    def operand(ref: Any) -> int:
        if type(ref) not in (Var, External):
            return _constant(order, ref)
        if ref not in made:
            if type(ref) is Var and ref in program.constants:  # (folded)
                made[ref] = _constant(order, program.constants[ref])
            else:  # (state the program reads by identity)
                made[ref] = id(ref)
                order.append(Vertex(id(ref), "input", "state", _shape(ref), label=ref.name))
        return made[ref]

    for var in program.inputs:
        made[var] = id(var)
        order.append(Vertex(id(var), "input", "argument", var.shape, label=var.name))
    for instr in program.instrs:
        results = instr.outs if type(instr.outs) is tuple else (
            () if instr.outs is None else (instr.outs,))
        if instr.kind == "bind":  # (reading a state array: the array itself)
            made[instr.outs] = operand(instr.args[0])
            continue
        direct = [arg for arg in instr.args if type(arg) in (Var, External) or
                  type(arg) in (int, float, bool, complex)]
        nested = [ref for ref in reads(instr) if not any(ref is arg for arg in direct)]
        inputs = [operand(ref) for ref in direct + nested]
        vertex = Vertex(id(instr), "op", _name(instr),
                        results[0].shape if results else (), inputs,
                        label=_label(instr, results))
        order.append(vertex)
        for var in results:
            made[var] = vertex.key
    return order


def _constant(order: list, value: Any) -> int:
    """A constant's vertex, named by its value where that is short (as in a recorded graph)."""
    small = np.size(value) == 1 or np.ndim(value) == 1 and np.size(value) <= 4
    name = format_value(value) if small else "constant"
    vertex = Vertex(-len(order) - 1, "constant", name, np.shape(value), value=value)
    order.append(vertex)
    return vertex.key


def _label(instr: Any, results: tuple) -> str:
    """What the call makes (its Vars), or what it writes into, or that it checks."""
    if results:
        return ", ".join(var.name for var in results)
    if instr.writes:
        return "into " + ", ".join(ref.name for ref in instr.writes)
    return "check"


def _shape(ref: Any) -> tuple:
    return ref.shape if type(ref) is Var else tuple(getattr(ref.array, "shape", ()))


def _name(instr: Any) -> str:
    op = instr.op
    name = op if isinstance(op, str) else getattr(op, "__name__", type(op).__name__)
    if instr.kind == "guard":
        return f"check {name} == {instr.expected!r}"
    return {"getitem": "getitem", "setitem": "setitem"}.get(instr.kind, name)
