"""The state a traced call reads and writes: where the program finds it at each replay (what
a call stored into it: :mod:`.escapes`).

Arrays that a traced call reads but was not given (a closed-over parameter, a ``.grad``
buffer) are *externals* of its trace. Where each is held is found once, from the garbage
collector's referrers: a tensor's data is read from the tensor at each replay (checked to be of
the traced type, shape and dtype), and the tensor, or an array held elsewhere, is checked to be
still where it was found (a dict such as a module's globals or an object's attributes, a list,
a closure cell, another tensor's ``.grad``). So rebinding state between calls (``w.grad =
None``, ``w = cr.tensor(...)``) makes the replay miss and the call trace again, instead of
replaying on the old arrays.

The holders are first looked for among the objects the function reaches by name
(:func:`reachable`: its closure's cells, its globals, their tensors): where those account for
every reference to an object (its reference count), the heap is not searched for it, a search
that costs milliseconds in a big program. They are searched in any case: the garbage collector
does not see a dict that holds only arrays (an object's attributes on Python 3.10).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import types
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import kernels
from ..tensor import Tensor
from .program import PROGRAM_MARK, Unreplayable
from .record import Trace
from .values import External

# -------------------------------------------------------------------- state


def _holders(objects: list, skip: set, known: dict, outside_refs: dict) -> dict:
    """Where each of ``objects`` is held: ``{id: [(holder, how, key)]}`` (see :func:`_slots`).
    ``known``: the holders among the objects the function reaches; the heap is scanned (once
    for all) for the objects whose every reference they do not account for."""
    found: dict = {id(obj): list(known.get(id(obj), ())) for obj in objects}
    wanted = {id(obj): obj for obj in objects
              if outside_refs.get(id(obj), -1) != len(found[id(obj)])}
    if not wanted:
        return found
    scanned = list(wanted.values())
    skip = skip | {id(objects), id(wanted), id(scanned)}
    for holder in gc.get_referrers(*scanned):
        # (a tuple holds state where the function reaches it (``known``: a default argument,
        # a global); one found here is more likely the tracer's own, or an argument list)
        if id(holder) in skip or type(holder) is types.FrameType or isinstance(holder, tuple):
            continue
        for how, key, item in _slots(holder):
            if id(item) in wanted and item is wanted[id(item)] and not any(
                    entry[0] is holder for entry in found[id(item)]):
                found[id(item)].append((holder, how, key))
    return found


def _census(objects: list) -> dict:
    """``{id: references}`` to each of ``objects`` besides the list's own and this count's."""
    return {id(obj): count - _COUNTING for obj, count in zip(
        objects, [sys.getrefcount(obj) for obj in objects], strict=True)}


def _calibrate() -> int:
    """The references that :func:`_census` itself makes (Python versions differ)."""
    probe = object()  # (one reference: this name)
    return _census([probe])[id(probe)] + _COUNTING - 1


_COUNTING = 0
_COUNTING = _calibrate()


def _known_holders(objects: list) -> dict:
    """``{id(item): [(holder, how, key)]}`` for what ``objects`` hold (:func:`_slots`). An
    object whose attribute dict is among them too is left out: its attributes are the dict's
    items, one reference each (counted twice, they would hide a holder the function does not
    reach, which the heap search then misses). The tuples they hold are walked too (``m.ws =
    (w,)``: the heap search takes no tuple for a holder)."""
    ids = {id(holder) for holder in objects}
    known: dict = {}
    holders = list(objects)
    for holder in holders:
        attributes = getattr(holder, "__dict__", None)
        if attributes is not None and type(holder) is not dict and id(attributes) in ids:
            continue  # (not: a cell has no __dict__, and None may be among the objects)
        for how, key, item in _slots(holder):
            known.setdefault(id(item), []).append((holder, how, key))
            if isinstance(item, tuple) and len(item) <= _TUPLE_ITEMS and id(item) not in ids:
                ids.add(id(item))
                holders.append(item)
    return known


def _with_held(known: dict, held: dict) -> dict:
    """``known`` and the holders of ``held`` (``{id: [(holder, how, key)]}``), each reference
    once: an object's attribute may be there as its ``__dict__``'s item."""
    for key, entries in held.items():
        found = known.setdefault(key, [])
        for holder, how, slot in entries:
            attributes = vars(holder) if how == "attr" and type(holder) is not types.CellType \
                else None
            if not any((entry[0] is holder or entry[0] is attributes) and entry[2] == slot
                       for entry in found):
                found.append((holder, how, slot))
    return known


def _slots(holder: Any) -> Any:
    """``(how, key, item)`` for what ``holder`` holds where a replay can check it: a tensor's
    data and gradient, a dict's items (OrderedDict's, defaultdict's too: any key; not another
    program's namespace), a list's, a closure cell's contents, an object's attributes, a
    tuple's items, a function's default arguments."""
    if isinstance(holder, Tensor):
        return [("attr", name, getattr(holder, name, None)) for name in ("_array", "_grad")]
    if isinstance(holder, dict):
        return () if PROGRAM_MARK in holder else [
            ("item", key, item) for key, item in holder.items()]
    if type(holder) is list:
        return [("item", index, item) for index, item in enumerate(holder)]
    if type(holder) is types.CellType:
        with contextlib.suppress(ValueError):  # (an empty cell)
            return [("attr", "cell_contents", holder.cell_contents)]
        return ()
    if isinstance(holder, tuple):  # (holds for good: where it is held is checked instead)
        return [("item", index, item) for index, item in enumerate(holder)]
    if type(holder) is types.FunctionType:  # (keyword defaults: checked through the function)
        return [("attr", "__defaults__", holder.__defaults__)] + [
            ("kwdefault", key, item) for key, item in (holder.__kwdefaults__ or {}).items()]
    if type(getattr(holder, "__dict__", None)) is dict and not isinstance(
            holder, (type, types.ModuleType, types.FunctionType)):
        return [("attr", key, item) for key, item in vars(holder).items()]
    return ()


# A function's default arguments: a tuple and a dict, each rebound as a whole (checked).
_DEFAULTS = ("__defaults__", "__kwdefaults__")
# The longest tuple whose items reachable() visits (state is held in a few; a table is data).
_TUPLE_ITEMS = 64


def _type_check(name: str, value: Any) -> str:
    """A check that ``name`` holds an array like ``value`` (type, shape, dtype)."""
    kind = type(value)
    if kind is np.ndarray:
        return (f"if type({name}) is not ndarray or {name}.shape != {value.shape!r} or "
                f"{name}.dtype != {name}_dtype: raise Miss(-1)")
    return f"if type({name}) is not {name}_type: raise Miss(-1)"


class State:
    """The program's lines about state (see :func:`_state`)."""

    def __init__(self) -> None:
        self.namespace: dict = {"ndarray": np.ndarray, PROGRAM_MARK: True}  # (no holder)
        self.checks: list[str] = []
        self.counters: dict[int, str] = {}  # id(a named tensor's version counter) -> name
        self.local: list = []
        self.tensors: dict[int, str] = {}  # id(a tensor or tuple of state) -> its name
        self.count = 0

    def name(self, holder: Any) -> str:
        name = f"h{self.count}"
        self.count += 1
        self.namespace[name] = holder
        if isinstance(holder, Tensor):
            self.counters.setdefault(id(holder._version), name)
        return name


def find_state(trace: Trace, arg_leaves: list, fun: Any, rebound: Sequence = (),
               returned: Sequence = (), held: dict | None = None) -> State:
    """How the program finds the state it reads and writes.

    An external array held by a tensor (its data, or its ``.grad``'s) is read from the tensor
    at each replay, checked to be of the traced type, shape and dtype; the tensor itself, and
    an array held elsewhere, is checked to be still where it was found (a dict such as a
    module's globals or an object's attributes, a list, a closure cell, another tensor's
    ``.grad``); one held by an argument tensor is read from the argument. Tensors named here
    are in ``counters`` (jitted.py's version bumps). Externals nothing holds are the call's
    own temporaries (``local``). Holders: as the module says (``returned``: arrays the call
    returns without reading them, then the objects that hold the result, not their holders;
    ``rebound``: jitted._rebinds'; ``held``: guards.put_back's holders of lifted arrays)."""
    result = State()
    externals = [external for external in trace.externals.values()
                 if not kernels.is_cached(external.array)]  # (chainrule's own constants)
    result.local += [external for external in trace.externals.values()
                     if kernels.is_cached(external.array)]
    if not externals and not rebound:
        return result
    objects = reachable(fun)
    outside_refs = _census(objects)  # (first: nothing here holds them yet)
    known = _with_held(_known_holders(objects), held or {})
    arg_ids = {id(leaf): index for index, leaf in enumerate(arg_leaves)}
    skip = {id(trace.externals), id(trace.roots), id(arg_leaves), id(objects)}
    skip |= {id(external) for external in trace.externals.values()}
    inside = _trace_references(trace)
    own = {id(array) for array in returned[0]} if returned else set()
    # (reference counts first, while no name here holds the arrays)
    outside, base_outside = _held_by_others(externals, inside, own | {
        id(entry[-1]) for entry in rebound})
    bases = {id(external.array): _memory_owner(external.array) for external in externals}
    written = set(trace.snapshots)  # (the externals written, through their traced values too)
    _count_outside(externals, bases, inside, outside_refs, outside & written, known)
    holders = _not_by_the_result(_holders([external.array for external in externals] + [
        base for base in bases.values() if base is not None], skip, known, outside_refs),
        returned)
    tensors: list = []  # tensors found holding an external: where are they held?
    for external in externals:
        found = holders[id(external.array)]
        if not found:
            key = id(external.array)
            _unheld(result, external, bases[key], holders,
                    (key in outside, key in base_outside, key in written))
            continue
        by_tensor = [(holder, key) for holder, how, key in found
                     if isinstance(holder, Tensor) and key == "_array"]
        if by_tensor:
            tensor = by_tensor[0][0]
            if id(tensor) in arg_ids:  # (an argument's own array is its input, not state)
                continue
            _read_from(result, external, _named(result, tensor, tensors))
            found = [entry for entry in found if entry[0] is not tensor]
        for holder, how, key in found:
            _check_or_climb(result, (holder, how, key), external.name, tensors)
    for tensor, *_ in rebound:  # (given another array by the call)
        if id(tensor) not in arg_ids:
            _named(result, tensor, tensors)
    _climb(result, tensors, skip, arg_ids, known, outside_refs)
    return result


def _held_by_others(externals: list, inside: dict, own: set) -> tuple[set, set]:
    """The ids of the external arrays that something besides the trace holds, and of those
    whose memory's owner something does (reference counts). ``own``: arrays the tracer
    accounts for, never counted (the result's; those the call gave tensors, held by them:
    jitted._prepare)."""
    outside = {id(external.array) for external in externals if id(external.array) not in own
               and _held_outside(external.array, inside.get(id(external.array), 0))}
    base_outside = {id(external.array) for external in externals
                    if _base_held_outside(external.array, inside)}
    return outside, base_outside


def _not_by_the_result(holders: dict, returned: Sequence) -> dict:
    """``holders`` without the tracer's list of the result's leaves (``returned[1]``), and,
    for the arrays the call made or wrote that it returns (``returned[0]``: bare, or in a
    tensor it made), without the result's containers (those tensors too): a list it returns
    that holds one is no state; a tensor of state whose data it is, is. (An array it only
    reads is state wherever held: a dict it returns too.)"""
    if returned:
        ids = {id(holder) for holder in returned}
        made = {id(leaf) for leaf in returned[0]}
        for key in ({id(leaf) for leaf in returned[1]} | made) & holders.keys():
            holders[key] = [entry for entry in holders[key] if id(entry[0]) not in ids
                            or key not in made and entry[0] is not returned[1]]
    return holders


def _named(result: State, tensor: Any, tensors: list) -> str:
    """The name of a tensor of state in the program; a new one is added to ``tensors`` (to
    find where it is held)."""
    name = result.tensors.get(id(tensor))
    if name is None:
        name = result.tensors[id(tensor)] = result.name(tensor)
        tensors.append(tensor)
    return name


def _read_from(result: State, external: External, tensor_name: str) -> None:
    """The program reads ``external`` from the tensor of that name, checking its type, shape
    and dtype (getattr: a tensor read from an argument's .grad may be None; then the check of
    the type misses)."""
    result.checks.append(f"{external.name} = getattr({tensor_name}, '_array', None)")
    result.namespace[f"{external.name}_dtype"] = getattr(external.array, "dtype", None)
    result.namespace[f"{external.name}_type"] = type(external.array)
    result.checks.append(_type_check(external.name, external.array))


def _count_outside(externals: list, bases: dict, inside: dict, outside_refs: dict,
                   outside: set, known: dict) -> None:
    """Add to ``outside_refs`` the references to each external array and to each view's
    memory owner besides the trace's (``inside``) and the tracer's own (``bases``,
    :func:`find_state`'s ``objects``, this function's). A written array that the first count
    (``outside``) says something outside holds, and that no holder the function reaches
    (``known``) explains, is marked for the heap search whatever this count says."""
    for external in externals:  # (getrefcount's argument)
        key = id(external.array)
        outside_refs[key] = sys.getrefcount(external.array) - 1 - inside.get(key, 0) - (
            key in outside_refs)
    distinct = list({id(base): base for base in bases.values() if base is not None}.values())
    for base in distinct:  # (getrefcount's argument, `distinct`, `base`, and `bases`)
        key, viewed = id(base), sum(1 for item in bases.values() if item is base)
        outside_refs[key] = sys.getrefcount(base) - 3 - inside.get(key, 0) - viewed - (
            key in outside_refs)
    for key in outside:  # (last: an array may be another one's memory owner too)
        if not known.get(key):
            outside_refs[key] = -1


def reachable(fun: Any, depth: int = 3) -> list:
    """The objects ``fun`` reaches by name, each once: its closure's cells and their values,
    its default arguments, its globals' dict and the values its code names there (not in
    chainrule's own modules), through functions, bound methods and partials, ``depth`` deep;
    the items of the tuples among them, and the tensors' gradients."""
    found: dict = {}
    stack = [(fun, depth)]
    while stack:
        obj, left = stack.pop()
        if id(obj) in found or left < 0:
            continue
        found[id(obj)] = obj
        if isinstance(obj, Tensor):
            if obj._grad is not None:
                stack.append((obj._grad, left))
            continue
        if isinstance(obj, tuple):  # (its items, reached as it is; a long one is data)
            if len(obj) <= _TUPLE_ITEMS:
                stack.extend((item, left) for item in obj)
            continue
        inner = getattr(obj, "__wrapped__", None) or getattr(obj, "fun", None)
        for item in (inner, getattr(obj, "__self__", None), getattr(obj, "func", None)):
            if item is not None:
                stack.append((item, left - 1))
        code = getattr(obj, "__code__", None)
        if code is None:
            continue
        for cell in getattr(obj, "__closure__", None) or ():
            found.setdefault(id(cell), cell)
            with contextlib.suppress(ValueError):  # (an empty cell)
                stack.append((cell.cell_contents, left - 1))
        for defaults in [getattr(obj, name, None) for name in _DEFAULTS]:
            if defaults:  # (what its parameters name)
                found.setdefault(id(defaults), defaults)
                items = defaults.values() if type(defaults) is dict else defaults
                stack.extend((item, left - 1) for item in items)
        namespace = getattr(obj, "__globals__", {})
        if str(namespace.get("__name__")).startswith("chainrule."):
            continue  # (chainrule's own functions: their closures are walked, not its modules)
        found.setdefault(id(namespace), namespace)
        stack.extend((namespace[name], left - 1) for name in code_names(code) if name in namespace)
    return [obj for obj in found.values() if not callable(obj) or hasattr(obj, "__dict__")]


def code_names(code: Any) -> set:
    """The global names a function's code (and the code it defines) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= code_names(const)
    return names


def _unheld(result: State, external: External, base: Any, holders: dict,
            facts: tuple) -> None:
    """An external that nothing visible holds: a view of state (the state's holders checked),
    the call's own temporary (``local``), a read-only constant, or refused (``facts``: whether
    it, and its memory's owner, are held outside the trace, and whether it is written)."""
    if base is not None and holders[id(base)]:
        name = f"{external.name}_base"
        result.namespace[name] = base
        for holder, how, key in holders[id(base)]:
            _check_held(result, holder, how, key, name)
        return
    reason = _unchecked(external.array, base, *facts)
    if reason:
        raise Unreplayable(reason)
    result.local.append(external)


def _trace_references(trace: Trace) -> dict:
    """``{id(array): references}`` the trace itself holds to the arrays it read."""
    counts: dict = {}
    held = [external.array for external in trace.externals.values()]
    held += list(trace.roots.values())
    held += [array.value for ref in trace.arrays if (array := ref()) is not None]
    for array in held:
        for referent in (array, getattr(array, "base", None)):  # (a view holds its base)
            if referent is not None:
                counts[id(referent)] = counts.get(id(referent), 0) + 1
    return counts


def _held_outside(array: Any, inside: int) -> bool:
    """Whether something besides the trace holds ``array`` (the reference count: this call's
    argument and getrefcount's)."""
    return sys.getrefcount(array) - 2 > inside


def _base_held_outside(array: Any, inside: dict) -> bool:
    """Whether something besides the trace holds the memory owner of the view ``array``."""
    base = _memory_owner(array)
    # (the count less getrefcount's argument and `base`)
    return base is not None and sys.getrefcount(base) - 2 > inside.get(id(base), 0)


def _memory_owner(array: Any) -> Any:
    """The array whose memory a view of it uses (None for an array that owns its memory)."""
    base = getattr(array, "base", None)
    while isinstance(getattr(base, "base", None), np.ndarray):
        base = base.base
    return base if isinstance(base, np.ndarray) else None


def _unchecked(array: Any, base: Any, outside: bool, base_outside: bool,
               written: bool) -> str | None:
    """Why an array the call writes, which nothing the tracer can check holds, cannot be
    replayed (None: the call's own temporary, reset at each replay; or read only, then read
    by identity, as jax.jit reads the arrays a function closes over)."""
    where = ("is held where cr.jit cannot check it (a dict or an object of NumPy arrays only, "
             "an object array, a __slots__ attribute): pass it as an argument, or hold it in a "
             "tensor")
    if written and (outside or base is not None and base_outside):
        return f"it writes into an array that {where}"
    return None


def _climb(result: State, tensors: list, skip: set, arg_ids: dict, known: dict,
           outside_refs: dict) -> None:
    """Where the tensors (and tuples) are: other tensors' .grad, tuples (climbing), dicts,
    lists, cells, functions' defaults."""
    while tensors:
        level = _holders(tensors, skip | {id(tensors)}, known, outside_refs)
        climbing = []
        for tensor in tensors:
            for holder, how, key in level[id(tensor)]:
                name = result.tensors[id(tensor)]
                if id(holder) in arg_ids:  # an argument's .grad: read from the argument
                    result.checks.insert(0, f"{name} = a{arg_ids[id(holder)]}.{key}")
                    result.namespace.pop(name, None)
                    continue
                if isinstance(holder, Tensor) and id(holder) not in result.tensors:
                    result.tensors[id(holder)] = result.name(holder)
                    climbing.append(holder)
                _check_or_climb(result, (holder, how, key), name, climbing)
        tensors = climbing


def _check_or_climb(result: State, where: tuple, name: str, climbing: list) -> None:
    """A check that ``where`` (holder, how, key) still holds ``name``; a tuple holds it for
    good (immutable): it is named instead, and climbed (a function's ``__defaults__`` rebound
    between calls is then seen)."""
    holder, how, key = where
    if isinstance(holder, tuple):
        _named(result, holder, climbing)
        return
    _check_held(result, holder, how, key, name, result.tensors.get(id(holder)))


def _check_held(result: State, holder: Any, how: str, key: Any, name: str,
                holder_name: str | None = None) -> None:
    holder_name = holder_name or result.name(holder)
    if how == "kwdefault":
        line = (f"if ({holder_name}.__kwdefaults__ or {{}}).get({key!r}) is not {name}: "
                f"raise Miss(-1)")
    elif how == "attr":
        line = f"if {holder_name}.{key} is not {name}: raise Miss(-1)"
    elif type(holder) is list:
        line = (f"if len({holder_name}) <= {key} or {holder_name}[{key}] is not {name}: "
                f"raise Miss(-1)")
    else:  # (a key other than a string or an integer: by identity, from the namespace)
        if type(key) not in (str, int):
            result.namespace[f"{name}_key{len(result.checks)}"] = key
            key = _Named(f"{name}_key{len(result.checks)}")
        line = f"if {holder_name}.get({key!r}) is not {name}: raise Miss(-1)"
    result.checks.append(line)


class _Named(str):
    """A name written as it is in a program's source (its repr is itself)."""

    def __repr__(self) -> str:
        return str(self)


def ordered(checks: list[str]) -> list[str]:
    """The state lines in an order where each name is assigned before it is read: tensors
    read from arguments, then externals read from tensors, then the checks."""
    assigned = [line for line in checks if " = " in line.split(":")[0] and
                not line.startswith("if ")]
    rest = [line for line in checks if line not in assigned]
    from_args = [line for line in assigned if " = a" in line]
    others = [line for line in assigned if line not in from_args]
    return from_args + others + rest
