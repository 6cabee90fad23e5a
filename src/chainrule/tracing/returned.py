"""What a jitted call returns, and how a replay makes it: the program's arrays, tensors around
them (made anew, or the first call's node where a backward inside freed their graph), the
arguments and state returned as they are (:func:`outputs`, :func:`returned_arrays`).

A replay returns what the program computes, and for any other leaf of the result the object
the traced call returned. That is right for a value (a number, a string, a dtype) and for an
object of state (a module the function closes over, an array a global holds): eagerly too each
call returns that same object. It is wrong for a mutable object the call makes (a set, a user
object, a generator): eagerly each call makes a new one, and what the caller did to the first
would show in the next. Who holds an object tells the two apart: one held by nothing but the
result is the call's own (one scan of the heap, asked only while tracing).
"""

from __future__ import annotations

import gc
import inspect
import types
from typing import Any

import numpy as np

from .. import engine
from ..tensor import Tensor
from . import escapes, state
from .record import Trace, TraceArray

# Leaves returned as they are at each replay: values no caller can change.
_IMMUTABLE = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis), range, slice,
              np.dtype, np.generic)


def generator_function(fun: Any) -> str | None:
    """Why calls of ``fun`` cannot be traced if it is a generator or coroutine function (its
    body runs when the caller iterates or awaits the result, after the trace: a replay would
    return the first call's generator, spent); None otherwise."""
    for test, kind in ((inspect.isgeneratorfunction, "generator"),
                       (inspect.iscoroutinefunction, "coroutine"),
                       (inspect.isasyncgenfunction, "async generator")):
        if test(fun) or not inspect.isroutine(fun) and test(type(fun).__call__):
            return (f"it is a {kind} function, whose body runs after the call returns "
                    f"(jit the computation of each item instead)")
    return None


def made_object(leaf: Any, out_leaves: list, containers: list) -> str | None:
    """Why the result cannot be replayed if ``leaf`` (no array or tensor) is a mutable object
    that the call made (nothing but the result holds it); None for a value or state."""
    if isinstance(leaf, _IMMUTABLE) or type(leaf) is frozenset and all(
            isinstance(item, _IMMUTABLE) for item in leaf):
        return None
    if held_elsewhere(leaf, out_leaves, containers):
        return None
    return (f"it returns a {type(leaf).__name__} it makes (eagerly a new one at each call; a "
            f"replay would return the first call's)")


def held_elsewhere(obj: Any, out_leaves: list, containers: list, *also: Any) -> bool:
    """Whether something besides the call's result (and ``also``) holds ``obj``: then it is
    state."""
    allowed = {id(out_leaves), id(containers), *(id(container) for container in containers),
               *(id(holder) for holder in also)}
    return any(id(holder) not in allowed and type(holder) is not types.FrameType
               for holder in gc.get_referrers(obj))


def memory_held(array: np.ndarray, tensor: Any, out_leaves: list, containers: list) -> bool:
    """Whether state holds the memory of ``array``, the untraced array of a tensor the call
    made and returns (``torch.from_numpy(STATE)``): the array itself, or the array it views.
    Then each replay wraps that array again, sharing its memory as eagerly."""
    base = array.base
    return held_elsewhere(array, out_leaves, containers, tensor) or (
        base is not None and held_elsewhere(base, out_leaves, containers, array))


def outputs(out_leaves: list, trace: Trace, arg_leaves: list, passes: int,
            containers: list) -> tuple:
    """How each leaf of the result is made at a replay, the program's value for it, and the
    reason a result cannot be replayed (or None)."""
    arg_ids = {id(leaf): index for index, leaf in enumerate(arg_leaves)}
    made_as, refs = [], []
    seen: dict = {}
    for position in range(len(out_leaves)):  # (enumerate's tuple would hold the leaf)
        leaf = out_leaves[position]
        kind = type(leaf)
        if seen.setdefault(id(leaf), position) != position and kind is not TraceArray:
            output, ref = ("same", seen[id(leaf)]), None  # (one object twice: once made)
        elif id(leaf) in arg_ids:
            output, ref = ("arg", arg_ids[id(leaf)]), None
        elif kind is TraceArray:
            output, ref = ("array", None), trace.ref(leaf)
        elif isinstance(leaf, Tensor):
            found = _tensor_output(leaf, trace, passes, out_leaves, containers)
            if isinstance(found, str):
                return [], [], found
            output, ref = found
        elif kind is np.ndarray:  # (state, or made in Python: returned_arrays says)
            output, ref = ("numpy", id(leaf) not in trace.externals), trace.external(leaf)
        else:
            made = made_object(leaf, out_leaves, containers)
            if made:
                return [], [], made
            output, ref = ("object", leaf), None
        made_as.append(output)
        refs.append(ref)
    return made_as, refs, None


def _tensor_output(leaf: Tensor, trace: Trace, passes: int, out_leaves: list,
                   containers: list) -> tuple | str:
    """(how a returned tensor is made at a replay, the program's value for it), or why it
    cannot be replayed."""
    array = leaf._array
    if leaf._tangents:
        return "its result carries tangents"
    leaf_flag = leaf._requires_grad and leaf._node is None
    if type(array) is not TraceArray:
        made = type(array) is np.ndarray and not held_elsewhere(leaf, out_leaves, containers)
        if made and id(array) not in trace.externals:
            # (a tensor the call made around an array nothing traced read or wrote: a new one
            # at each call, as eagerly, around a copy (cr.zeros(3)) or around that array if
            # state holds its memory (torch.from_numpy(STATE)))
            shared = memory_held(array, leaf, out_leaves, containers)
            return ("shared tensor" if shared else "new tensor", (
                type(leaf), leaf_flag, array if shared else array.copy())), None
        if made:  # (one traced code read or wrote: returned_arrays says)
            return ("made tensor", (type(leaf), leaf_flag, leaf)), trace.external(array)
        return ("object", leaf), None  # a tensor it closes over, as it is
    if leaf._node is not None and engine.passes == passes or (
            leaf._node is not None and leaf._node.saved is not None):
        return ("it returns a tensor with a graph to differentiate later (grad of a jitted "
                "function): jit the gradient instead, cr.jit(cr.grad(f)), or call backward "
                "inside")
    if leaf._node is not None:  # (its graph, freed by a backward inside: as eagerly, it
        # requires grad, and a backward through it raises that it was freed)
        return ("spent", (type(leaf), leaf._node)), trace.ref(array)
    return ("tensor", (type(leaf), leaf_flag)), trace.ref(array)


def result_holders(trace: Trace, out_leaves: list, outputs: list, result: Any) -> list:
    """What state.find_state is to know of the result: the NumPy arrays returned as they are
    that the call made or wrote, and those of the tensors it made (held by the result alone
    unless state holds them too), the result's leaves, and its containers (those tensors
    too)."""
    written = set(trace.snapshots)
    made = [detail[2] for kind, detail in outputs if kind == "made tensor"]
    return [[leaf for leaf, (kind, made) in zip(out_leaves, outputs, strict=True)
             if kind == "numpy" and (made or id(leaf) in written)] + [
                 tensor._array for tensor in made], out_leaves,
            *escapes.containers(result), *made]


def returned_arrays(outputs: list, refs: list, state_: state.State, written: set) -> set:
    """How each NumPy array the call returned as it is (not traced), or in a tensor it made,
    is made at a replay: one held in state (a tensor's data, a global) is read from where it
    is held, as eagerly; one that nothing checkable holds is, if the call wrote it, a new array
    at each replay (its values before the first write copied, then written: these arrays'
    ids are returned); if the call made it, a copy of its values; else the same object again
    (a constant the call read)."""
    local = {external.index for external in state_.local}
    fresh = set()
    for position, (kind, made) in enumerate(outputs):
        if kind == "made tensor":  # (made: a tensor of the call's own, or else state's)
            cls, leaf_flag, tensor = made
            external = refs[position]
            if external.index not in local:
                outputs[position], refs[position] = ("object", tensor), None
            elif id(external.array) in written:
                outputs[position] = ("tensor", (cls, leaf_flag))
                fresh.add(id(external.array))
            else:
                outputs[position] = ("new tensor", (cls, leaf_flag, external.array))
                refs[position] = None
            continue
        if kind != "numpy":
            continue
        external = refs[position]
        if external.index not in local:
            outputs[position] = ("array", None)
        elif id(external.array) in written:  # (a new one, written at each replay)
            outputs[position] = ("array", None)
            fresh.add(id(external.array))
        elif made:  # (the first call returned the array itself: its values now)
            outputs[position], refs[position] = ("copy", None), external.array.copy()
        else:
            outputs[position], refs[position] = ("object", external.array), None
    return fresh
