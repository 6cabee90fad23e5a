"""What a jitted call returns besides arrays: which Python objects a replay may return again.

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
