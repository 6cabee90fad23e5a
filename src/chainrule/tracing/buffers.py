"""Buffer planning: which ufunc results a program writes into buffers of its own (``out=``),
reused once every value living in one is dead, so that a replay allocates only what it
returns."""

from __future__ import annotations

import numpy as np

from .record import Trace
from .values import External, Instr, Var

# Smaller arrays than this are not worth a buffer (NumPy's own small-block cache serves them).
BUFFER_MIN_BYTES = 4096


def outs(instr: Instr) -> tuple:
    """The Vars an instruction makes."""
    if instr.outs is None:
        return ()
    return instr.outs if type(instr.outs) is tuple else (instr.outs,)


def reads(instr: Instr) -> list:
    """The Vars and Externals an instruction reads."""
    found: list = []
    for item in instr.args:  # (most are Vars and constants: no recursion for them)
        kind = type(item)
        if kind is Var or kind is External:
            found.append(item)
        elif kind is tuple or kind is list or kind is dict or kind is slice:
            _refs(item, found)
    if instr.kwargs:
        _refs(instr.kwargs, found)
    return found


def _refs(value: object, found: list) -> None:
    kind = type(value)
    if kind is Var or kind is External:
        found.append(value)
    elif kind is tuple or kind is list:
        for item in value:
            _refs(item, found)
    elif kind is dict:
        for item in value.values():
            _refs(item, found)
    elif kind is slice:
        _refs((value.start, value.stop, value.step), found)


def plan_buffers(instrs: list, trace: Trace, returned: set, written: set,
                 inputs: set) -> tuple[dict, list]:
    """Pass 4: ``{instr: buffer index}`` for the ufunc calls whose results go into the
    program's own buffers, and the buffers' (shape, dtype)."""
    # the last instruction that reads a value living in each buffer (root)
    last_use: dict = {}
    members: dict = {}
    for position, instr in enumerate(instrs):
        for ref in reads(instr) + list(instr.writes):
            if type(ref) is Var:
                last_use[ref.root] = position
        for var in outs(instr):
            members.setdefault(var.root, []).append(var)
            last_use.setdefault(var.root, position)
    kept_roots = {var.root for var in returned} | {var.root for var in inputs}
    specs: list = []
    free: dict = {}  # (shape, dtype) -> buffer indices free now
    chosen: dict = {}
    releases: dict = {}  # position -> buffers freed after it
    for position, instr in enumerate(instrs):
        results = outs(instr)
        if (
            instr.kind == "call" and type(instr.op) is np.ufunc and instr.op.nout == 1
            and not instr.kwargs and len(results) == 1 and not results[0].scalar
        ):
            var = results[0]
            nbytes = int(np.prod(var.shape)) * var.dtype.itemsize
            if var.root not in kept_roots and nbytes >= BUFFER_MIN_BYTES and \
                    len(members.get(var.root, ())) >= 1 and _own_root(var, trace):
                spec = (var.shape, var.dtype)
                if instr.op.signature is None:  # (elementwise: an input read for the last
                    # time here may give its buffer to the result; NumPy reads each element
                    # before it writes it, and copies an input that overlaps otherwise)
                    for done, index in releases.pop(position, ()):
                        free.setdefault(done, []).append(index)
                pool = free.setdefault(spec, [])
                index = pool.pop() if pool else None
                if index is None:
                    index = len(specs)
                    specs.append(spec)
                chosen[instr] = index
                releases.setdefault(last_use.get(var.root, position), []).append(
                    (spec, index))
        for spec, index in releases.pop(position, ()):
            free.setdefault(spec, []).append(index)
    return chosen, specs


def _own_root(var: Var, trace: Trace) -> bool:
    """Whether ``var`` is its buffer's owner (not a view of another value's buffer)."""
    return trace.roots.get(var.root) is not None and var.root not in trace.external_roots()
