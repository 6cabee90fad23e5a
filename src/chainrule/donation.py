"""Buffer donation: reverse rules may overwrite big arrays that only the engine holds.

The last rule a node runs may write its result into the node's cotangent (no later rule reads
it) and, once the graph is being freed, into the node's saved inputs and output, which spares
NumPy an allocation (and the page faults of a fresh buffer); a running sum of cotangents adds
in place the same way. Only the reference count sees every way a user can hold an array (a
tensor, a view, ``t.numpy()``, a hook's argument kept aside...), so "only the engine holds it"
is read off ``sys.getrefcount``. How many references the engine's own frames add depends on
the interpreter (Python 3.10 keeps call arguments on the caller's stack, 3.11+ moves them), so
no number is written here: when the engine is imported, :func:`calibrate` runs the engine's
own ``pullback`` and :func:`sum_into` on probe arrays held exactly as the engine holds its
arrays, finds the count at which each is sole, and checks that one reference more is refused.
If that check fails (an interpreter whose counts do not behave, or one without a GIL),
donation is switched off. Views and read-only arrays are never donated; arrays smaller than
``DONATE_MIN`` elements are not worth the check.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from .node import Node

DONATE_MIN = 1 << 12

# The highest reference count at which an array is the engine's alone, for each way the
# engine holds one: (a node's cotangent, a saved input, a node's output, a running sum).
# None until calibrated (nothing is donated then).
sole_counts: list = [None, None, None, None]


def _yours(array: Any, count: int, sole: Any) -> bool:
    return count <= sole and array.base is None and array.flags.writeable


def donatable(cotangent: np.ndarray, saved: tuple, ans: Any, freed: bool) -> list:
    """The ids of the arrays nobody but the engine holds: the cotangent, and once the node has
    let go of its saved values (``freed``), those of them and the output."""
    sole = sole_counts
    if sole[0] is None:
        return []
    donated = []
    if _yours(cotangent, sys.getrefcount(cotangent), sole[0]):
        donated.append(id(cotangent))
    if freed:
        for value in saved:
            if type(value) is np.ndarray and _yours(value, sys.getrefcount(value), sole[1]):
                donated.append(id(value))
        if type(ans) is np.ndarray and _yours(ans, sys.getrefcount(ans), sole[2]):
            donated.append(id(ans))
    return donated


def sum_into(total: Any, grad: Any) -> Any:
    """``total + grad``, added in place when only the engine holds ``total`` (a cotangent being
    summed in a dict of pending ones, or a leaf's in a list)."""
    if (
        type(total) is np.ndarray and type(grad) is np.ndarray and sole_counts[3] is not None
        and _yours(total, sys.getrefcount(total), sole_counts[3])
        and total.shape == grad.shape and total.dtype == grad.dtype
    ):
        return np.add(total, grad, out=total)
    return total + grad


def _probe() -> np.ndarray:
    return np.zeros(DONATE_MIN)


def _probe_node(seq: int, parents: tuple, rule: Callable, saved: tuple = (), ans: Any = None):
    """A node of the probe graph, built field by field (no primitive is registered for it).
    ``rule(cotangent, saved, ans, donated)`` is its reverse rule for every input."""

    def call(cotangent, saved, ans, params, shapes, index, ans_shape, donated=()):
        return rule(cotangent, saved, ans, donated)

    node = object.__new__(Node)
    vjp = SimpleNamespace(call=call, donates=True)
    node.prim = SimpleNamespace(name="donation_probe", vjps=(vjp,), variadic="inputs")
    node.params, node.parents, node.saved, node.ans = {}, parents, saved, ans
    node.versions, node.shapes, node.hooks, node.saves_tensors = (), None, None, False
    node.ans_shape, node.ans_dtype, node.seq = (DONATE_MIN,), np.dtype(float), seq
    return node


def _probe_pass(backpropagate: Callable, keep: list | None = None) -> list:
    """Run the engine's pass on a probe graph and see which arrays it treats as its own: a
    root whose rule sends a fresh array to node ``given`` (whose rule may overwrite it, its
    saved input and its output, held by the node alone), two to node ``summed`` (added while
    pending) and two to a leaf (added in a list). ``keep`` holds one reference more to each.
    Returns whether the (cotangent, saved input, output) of ``given`` were donated, and whether
    the sums for ``summed`` and for the leaf were done in place."""
    sent: list = []  # the ids of the arrays the root sent
    seen: list = []

    def send_fresh(cotangent: Any, saved: tuple, ans: Any, donated: Any) -> np.ndarray:
        grad = _probe()
        sent.append(id(grad))
        if keep is not None:
            keep.append(grad)
        return grad

    def note_donated(cotangent: Any, saved: tuple, ans: Any, donated: Any) -> None:
        seen[:0] = [id(cotangent) in donated, id(saved[0]) in donated, id(ans) in donated]

    def note_summed(cotangent: Any, saved: tuple, ans: Any, donated: Any) -> None:
        seen.append(id(cotangent) == sent[1])

    leaf = SimpleNamespace(_array=_probe())  # (anything that is not a Node is a leaf)
    given = _probe_node(0, (leaf,), note_donated, (_probe(),), _probe())
    if keep is not None:
        keep += [given.saved[0], given.ans]
    summed = _probe_node(1, (leaf,), note_summed, (None,))
    root = SimpleNamespace(_node=_probe_node(2, (given, summed, summed, leaf, leaf), send_fresh))
    leaves = backpropagate([root], [_probe()], retain_graph=False, create_graph=False)[0]
    return [*seen, id(leaves[id(leaf)][1]) == sent[3]]


def calibrate(backpropagate: Callable) -> None:
    """Set ``sole_counts`` by running the engine's ``backpropagate`` on a probe graph (see
    ``_probe_pass``) with each count from 1 up, or leave donation off if one reference more
    is not told apart."""
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        return  # free-threaded: counts are split between threads, do not rely on them
    found: list = [None, None, None, None]
    for limit in range(1, 32):
        sole_counts[:] = [limit] * 4
        for slot, sole in enumerate(_probe_pass(backpropagate)[:4]):
            if found[slot] is None and sole:
                found[slot] = limit
        if None not in found:
            break
    sole_counts[:] = found
    if None in found or not _refuses_one_more(backpropagate):
        sole_counts[:] = [None, None, None, None]


def _refuses_one_more(backpropagate: Callable) -> bool:
    """Whether arrays the calibrated counts call sole are, and one more reference is seen."""
    return _probe_pass(backpropagate) == [True] * 5 and not any(
        _probe_pass(backpropagate, keep=[])
    )
