"""What a traced call stored into Python state: its tracing arrays still alive that neither
the result nor the arguments hold, and the result's arrays that something else holds too. Such
a call leaves no program (the next call traces again): its stored arrays are given back their
concrete values, where the objects the function reaches hold them (:mod:`.state`), or else
where one scan of the heap finds them.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import types
from typing import Any

import numpy as np

from ..tensor import Tensor
from ..tree_util import tree_unflatten
from ..views import View
from .record import Trace, TraceArray
from .state import _census, _known_holders, reachable


def escaped(trace: Trace, containers: list, out_leaves: list, inputs: list,
            fun: Any) -> tuple[list, dict]:
    """The tracing arrays still alive that neither the result nor the arguments hold, and the
    result's arrays and tensors that something else holds too: stored into state; and where
    the objects ``fun`` reaches hold the first (:func:`hand_back`'s holders, when they hold
    every reference). ``containers``: the result's (:func:`containers`)."""
    # (no loop variable here, nor `:=` in a comprehension (a cell): _stored counts references)
    kept = {var.index for var in inputs if var is not None} | _kept(out_leaves)
    suspects = [ref for ref in trace.arrays if _alive(ref, kept)]
    holders = _held_by_state(suspects, fun) if suspects else {}
    if suspects and holders is None:
        gc.collect()  # (arrays in reference cycles only)
    stored = _stored(containers, out_leaves, {var.index for var in inputs if var is not None})
    return [ref() for ref in suspects if ref() is not None] + stored, holders or {}


def _held_by_state(suspects: list, fun: Any) -> dict | None:
    """``{id: [(holder, how, key)]}`` for the arrays of ``suspects`` (weak references) when
    the objects ``fun`` reaches by name hold every reference to each: stored into state, for
    sure, with no collection of the garbage needed to tell; None when some reference is not
    theirs (a reference cycle's, or a holder elsewhere)."""
    arrays = [ref() for ref in suspects]
    if any(array is None for array in arrays):
        return None
    counts = _census(arrays)
    known = _known_holders(reachable(fun))
    if any(len(known.get(key, ())) != count for key, count in counts.items()):
        return None
    return {key: known[key] for key in counts}


def _kept(out_leaves: list) -> set:
    """The indices of the Vars the result holds (a returned view's base too, which only its
    views hold)."""
    kept = set()
    for leaf in out_leaves:
        kept.add(_traced_index(leaf))
        if isinstance(leaf, Tensor) and type(leaf._array) is TraceArray:
            base = _base(leaf)
            if base is not None:
                kept.add(base._array.var.index)
    return kept


def _traced_index(leaf: Any) -> int | None:
    """The index of the Var a result leaf holds (None: not traced)."""
    if type(leaf) is TraceArray:
        return leaf.var.index
    if isinstance(leaf, Tensor) and type(leaf._array) is TraceArray:
        return leaf._array.var.index
    return None


def _alive(ref: Any, kept: set) -> bool:
    array = ref()
    return array is not None and array.var.index not in kept


def _stored(containers: list, out_leaves: list, inputs: set) -> list:
    """The result's traced arrays and tensors that something other than the result holds (but
    the arguments, which the call's own structures hold: their Vars are ``inputs``).

    Reference counts find the candidates: one reference from the result's container for each
    time a leaf appears in it (for a leaf returned alone, jitted._trace's ``result``: the
    result is not passed down), as many from ``out_leaves``; a traced tensor's array, one from
    its tensor. Only then is the heap searched, for holders other than the result's containers
    and the returned tensors."""
    objects: dict = {}  # id -> a traced leaf (or a view's base)
    expected: dict = {}  # id -> the references to it accounted for
    for leaf in out_leaves:
        index = _traced_index(leaf)
        if index is not None and index not in inputs:
            objects[id(leaf)] = leaf
            expected[id(leaf)] = expected.get(id(leaf), 0) + 2
    for leaf in list(objects.values()):
        base = _base(leaf) if isinstance(leaf, Tensor) else None
        if base is not None and id(base) not in objects:
            objects[id(base)], expected[id(base)] = base, 1  # (a view's View: allowed)
    candidates = []
    for key in objects:
        leaf = objects[key]
        # (+ `objects`, getrefcount's argument, `leaf`)
        if sys.getrefcount(leaf) > expected[key] + 3:
            candidates.append(leaf)
        array = leaf._array if isinstance(leaf, Tensor) else None
        if array is not None and id(array) not in objects and sys.getrefcount(array) > 3:
            candidates.append(array)  # (its tensor, getrefcount's argument, `array`)
    if not candidates:
        return []
    del leaf, array
    gc.collect()  # (the call's garbage in reference cycles, a closure's cells: not holders)
    allowed = {id(out_leaves), id(candidates), id(objects)}
    allowed |= {id(node) for node in containers}
    allowed |= {key for key, leaf in objects.items() if isinstance(leaf, Tensor)}
    holders = gc.get_referrers(*candidates, _MARKER)
    allowed.add(id(holders))
    held = {id(obj) for holder in holders
            if id(holder) not in allowed and type(holder) not in (types.FrameType, View)
            and not _arguments_of_referrers(holder)
            for obj in candidates if _holds(holder, obj)}
    return [obj for obj in candidates if id(obj) in held]


def _arguments_of_referrers(holder: Any) -> bool:
    """Whether ``holder`` is the tuple of gc.get_referrers' own arguments, which Python 3.13
    makes (the collector sees it): they end with ``_MARKER``, which nothing else holds (a
    stored tuple of the same arrays is no such tuple)."""
    return type(holder) is tuple and len(holder) > 0 and holder[-1] is _MARKER


# (see _arguments_of_referrers)
_MARKER = object()


def _base(view: Tensor) -> Tensor | None:
    """The traced base of a view made in the call."""
    record = view._view
    if record is None or type(record.base._array) is not TraceArray:
        return None
    return record.base


# What a result's containers are not walked into (their attributes are not the result's).
_OPAQUE = (Tensor, TraceArray, type, types.ModuleType, types.FunctionType, types.MethodType)


def containers(tree: Any) -> list:
    """The containers of a result (tuples, lists, dicts, objects' attribute dicts)."""
    found, stack, seen = [], [tree], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or isinstance(node, _OPAQUE):
            continue
        seen.add(id(node))
        if type(node) in (tuple, list) or isinstance(node, tuple):
            found.append(node)
            stack.extend(node)
        elif type(node) is dict:
            found.append(node)
            stack.extend(node.values())
        elif hasattr(node, "__dict__"):
            found.extend((node, node.__dict__))
            stack.extend(node.__dict__.values())
    return found


def _holds(holder: Any, obj: Any) -> bool:
    items = holder.values() if type(holder) is dict else gc.get_referents(holder)
    return any(item is obj for item in items)


def concrete(result: Any, out_leaves: list, out_treedef: Any) -> Any:
    """The call's result with its tracing arrays replaced by their values."""
    changed = False
    leaves = []
    for leaf in out_leaves:
        if type(leaf) is TraceArray:
            leaves.append(leaf.value)
            changed = True
        else:
            if isinstance(leaf, Tensor) and type(leaf._array) is TraceArray:
                leaf._array = leaf._array.value
            leaves.append(leaf)
    return tree_unflatten(out_treedef, leaves) if changed else result


def hand_back(escaped: list, holders: dict) -> None:
    """Replace the tracing arrays stored in state by their values, wherever found: where
    ``holders`` says (:func:`escaped`), or else by scans of the heap (one for all, and one
    more for each level of tuples that held them: a tuple is rebuilt, then replaced in its
    own holders)."""
    # (a returned tensor also stored is not here: concrete() gave it its array)
    arrays = {id(array): array for array in escaped if type(array) is TraceArray}
    if not arrays:
        return
    if all(key in holders and not any(isinstance(entry[0], tuple) for entry in holders[key])
           for key in arrays):
        for key, stored in arrays.items():
            for holder, how, slot in holders[key]:
                value = stored.value
                if isinstance(holder, Tensor) and isinstance(value, np.generic):
                    value = np.array(value)  # (as _replace_in)
                if how == "attr":
                    setattr(holder, slot, value)
                elif how == "kwdefault":  # (a function's keyword default: state._slots)
                    holder.__kwdefaults__[slot] = value
                else:
                    holder[slot] = value
        return
    olds: dict = arrays
    news: dict = {key: array.value for key, array in arrays.items()}
    while olds:
        # (the tuples that held one, rebuilt: replaced in their own holders next)
        tuples: dict = {}
        rebuilt: dict = {}
        targets = [*olds.values(), _MARKER]
        for holder in gc.get_referrers(*targets):
            if holder is not olds and holder is not targets and \
                    not _arguments_of_referrers(holder):
                _replace_in(holder, olds, news, (tuples, rebuilt))
        olds, news = tuples, rebuilt


def _replace_in(holder: Any, olds: dict, news: dict, rebuilt: tuple) -> None:
    """Replace in ``holder`` the objects ``olds`` maps by id by the ``news`` of the same id; a
    tuple, immutable, is rebuilt instead (``rebuilt``: the tuples, and the new ones, by id)."""
    def new(item: Any) -> Any:
        return news[id(item)] if olds.get(id(item)) is item else item

    if isinstance(holder, Tensor):
        value = new(holder._array)
        if value is not holder._array:
            # (a scalar as a 0-d array, which a later trace can find and write)
            holder._array = np.array(value) if isinstance(value, np.generic) else value
    elif isinstance(holder, dict) or isinstance(
            getattr(holder, "__dict__", None), dict):  # (3.11+: attributes held inline)
        mapping = holder if isinstance(holder, dict) else vars(holder)
        for key, item in list(mapping.items()):
            if new(item) is not item:
                mapping[key] = new(item)
    elif type(holder) is list:
        for index, item in enumerate(holder):
            if new(item) is not item:
                holder[index] = new(item)
    elif type(holder) is types.CellType:
        with contextlib.suppress(ValueError):  # (an empty cell)
            holder.cell_contents = new(holder.cell_contents)
    elif isinstance(holder, tuple) and id(holder) not in rebuilt[0]:
        items = [new(item) for item in holder]
        if any(a is not b for a, b in zip(items, holder, strict=True)):
            with contextlib.suppress(TypeError):  # (a tuple type not made from its items)
                make = getattr(type(holder), "_make", type(holder))  # (a namedtuple's)
                rebuilt[1][id(holder)] = make(items)
                rebuilt[0][id(holder)] = holder
