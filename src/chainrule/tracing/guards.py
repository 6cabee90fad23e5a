"""The Python values a traced call reads by name, guarded at each replay.

A traced call reads Python numbers, bools, strings and None (a learning rate, a model's
``training`` flag, a global scale) as constants: the trace folds them in. So, as
``torch.compile`` guards them, the tracer notes before the call those held where the function
reaches them by name: the closure cells and the globals its code names (of the functions
:func:`.state.reachable` finds, chainrule's own left out: their module state is not the
user's), and from there the attributes of objects and the items of lists and dicts, ``DEPTH``
holders deep, ``WIDTH`` items at most per holder (of a longer one, its tensors and arrays
only; of one longer than ``LARGE``, nothing), ``BUDGET`` holders in all. The program
checks each in its prologue (one read and an identity test, an exact comparison only when the
object differs: -0.0 is not 0.0, NaN is NaN, 1 is not 1.0 nor True); a change misses, and the
call traces again as another specialization. It also checks the length of the lists and dicts
there that hold tensors or arrays (a tensor appended to a list the function iterates).

A call that changes one of those values itself (``self.step += 1``, a ``nonlocal`` or
``global`` counter), or a tensor's ``requires_grad``, ``grad_req`` or hooks, cannot be
replayed (the replay would not change it): it runs eagerly, with a :class:`JitWarning` naming
it. Items of a list or dict that the call changes are the exception: a side effect of the
trace only, as in JAX (a dict counting the traces), they are not checked. Not checked either
(limits): values held deeper or in bigger containers, objects of the standard library (an
Event's flag: their own machinery, which other threads change), class attributes, tuples'
items, NumPy scalars, and the identity of the objects on the way (a global rebound to another
model of the same arrays).

The NumPy arrays met on the same walk (a closed-over ``np.zeros(2)``, a global table,
``self.m``, an item of a dict or list) are state as a tensor's array is: :func:`lift` puts, for
the duration of the traced call, tracing arrays that stand for them (externals, read by
identity at each replay) in their holders' slots, so that NumPy work on them is recorded even
where no traced value enters it (``counter[...] += 1``, ``x * (table + 1)``, ``if n > 1``,
``self.m[...] = 0.9 * self.m + 0.1 * g``); :func:`put_back` restores them after it, before
:mod:`.state` looks for their holders (and checks them at each replay, as for a tensor's).
Read-only arrays too: one used only with constants would otherwise be folded into the program,
and a global rebound to another one would go unseen. Not lifted: NumPy's subclasses (np.matrix,
masked arrays), arrays of other than numbers and bools (objects, strings, dates), arrays in
tuples (immutable holders: a function's default arguments) or deeper or wider than the walk
goes, and chainrule's own (its module state is never walked, its constants
(:func:`.kernels.is_cached`) are skipped, and the objects of its classes, a frozen
distribution, are left to its code, which lifts what its ops read: backends.lift). While the
call runs, ``isinstance(state, np.ndarray)`` is False in it, as for the arguments. Another
thread that reads such a holder meanwhile sees the tracing array too (as it sees an argument
tensor's): its NumPy calls on it run plain, unrecorded, and the trace leaves no program
(:attr:`.record.Trace.open`: traced again at the next call).
"""

from __future__ import annotations

import contextlib
import math
import sys
import types
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import kernels
from ..tensor import Tensor
from .program import PROGRAM_MARK
from .record import Trace
from .state import code_names
from .values import External, Var

DEPTH = 4
WIDTH = 64
LARGE = 4096
BUDGET = 512

_SCALARS = (bool, int, float, complex, str, type(None))
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.MethodType, types.CellType)


def exact(value: Any, expected: Any) -> bool:
    """Whether ``value`` is ``expected``'s Python scalar: same type, and for floats the same
    sign of zero, NaN equal to NaN (complex: each part)."""
    if type(value) is not type(expected):
        return False
    if type(expected) is complex:
        return exact(value.real, expected.real) and exact(value.imag, expected.imag)
    if type(expected) is float:
        if expected != expected:
            return value != value
        return value == expected and math.copysign(1.0, value) == math.copysign(1.0, expected)
    return bool(value == expected)


class Watched:
    """What a call can read by name, noted before it: ``values`` ``[(holder, how, key,
    value)]`` (``how``: "cell", "attr" (an object's ``__dict__``) or "item"), ``tensors``
    ``{id: (a weak reference to the tensor, its settings)}``, ``sized`` (lists and dicts
    holding tensors or arrays), ``arrays`` ``{(id(holder), key): (holder, how, key, array)}``
    (the NumPy arrays that :func:`lift` traces), and each holder's label for messages (None: a
    module's globals)."""

    __slots__ = ("values", "tensors", "sized", "arrays", "labels")

    def __init__(self) -> None:
        self.values: list = []
        self.tensors: dict = {}
        self.sized: dict = {}
        self.arrays: dict = {}
        self.labels: dict = {}

    def changed(self) -> str | None:
        """Why the call just run cannot be replayed: a Python value it changed (or None).

        A value that it replaced by an object (an array stored into state) is :mod:`.escapes`'
        to hand back. An item of a list or dict too (a dict counting the calls): a replay
        would not change it."""
        for holder, how, key, value in self.values:
            now = _read(holder, how, key)
            if exact(now, value) or now is not _MISSING and type(now) not in _SCALARS:
                continue
            return (f"it changes the Python value {self._label(holder, how, key)} "
                    f"(a replay would not): pass it as an argument, or keep it in a "
                    f"tensor")
        for ref, settings in self.tensors.values():
            tensor = ref()
            if tensor is not None and _settings(tensor) != settings:
                return ("it registers a hook on, or changes requires_grad of, a tensor that "
                        "outlives the call (a replay would not)")
        return None

    def _label(self, holder: Any, how: str, key: Any) -> str:
        where = self.labels.get(id(holder), "?")
        return f"`{key}`" if where is None else f"`{where}`" if how == "cell" else \
            f"`{where}.{key}`" if how == "attr" else f"`{where}[{key!r}]`"


def watch(fun: Any, objects: list, arguments: Sequence = ()) -> Watched:
    """The values :class:`Watched` notes, from :func:`.state.reachable`'s ``objects`` and the
    objects among the call's ``arguments`` (a ``@cr.jit`` method's ``self``: the signature
    holds it by identity)."""
    found = Watched()
    queue: list = []
    for obj in objects:
        if type(obj) is not types.FunctionType:
            continue
        code, namespace = obj.__code__, obj.__globals__
        if str(namespace.get("__name__")).startswith("chainrule."):
            continue
        for name, cell in zip(code.co_freevars, obj.__closure__ or (), strict=False):
            found.labels[id(cell)] = name
            queue.append((cell, 0))
        found.labels[id(namespace)] = None  # (a global: its name)
        for name in sorted(code_names(code) & namespace.keys()):
            queue.append((namespace, "item", name, namespace[name]))
    roots = [("fun", fun), ("self", getattr(fun, "__self__", None))]
    roots += [("argument", leaf) for leaf in arguments if type(leaf) not in (list, tuple, dict)
              and not isinstance(leaf, (Tensor, np.ndarray, np.generic))]
    for label, root in roots:
        if _walkable(root) and id(root) not in found.labels:
            found.labels[id(root)] = label
            queue.append((root, 1))
    seen: set = set()
    while queue and len(seen) < BUDGET:
        entry = queue.pop(0)
        if len(entry) == 4:  # (a global: its namespace, name and value)
            _note(found, queue, seen, entry, 0)
            continue
        holder, level = entry
        for how, key, item in _entries(holder):
            _note(found, queue, seen, (holder, how, key, item), level)
    return found


def _walkable(item: Any) -> bool:
    """Whether ``item`` holds values to note: a list, tuple or dict, or an object with
    attributes, but not one of the standard library's (an Event's flag, a logger's level: its
    own machinery, which another thread may change)."""
    if type(item) in (list, tuple, dict):
        return True
    return not isinstance(item, _OPAQUE) and type(getattr(item, "__dict__", None)) is dict \
        and type(item).__module__.partition(".")[0] not in sys.stdlib_module_names


def _note(found: Watched, queue: list, seen: set, entry: tuple, level: int) -> None:
    """Note one entry ``(holder, how, key, item)``; queue ``item`` if it holds more."""
    holder, how, key, item = entry
    kind = type(item)
    if kind in _SCALARS:
        if type(holder) is not tuple:
            found.values.append(entry)
    elif isinstance(item, (Tensor, np.ndarray)):
        if isinstance(item, Tensor):
            # (weakly: state.py counts the references to the tensors of state)
            found.tensors.setdefault(id(item), (weakref.ref(item), _settings(item)))
        elif type(item) is np.ndarray and item.dtype.kind in "biufc" and _liftable(holder):
            found.arrays[id(holder), key] = entry  # (a global named by two functions: once)
        if level > 0 and how == "item" and isinstance(holder, (list, dict)):
            found.sized[id(holder)] = holder
    elif level < DEPTH and id(item) not in seen and _walkable(item):
        seen.add(id(item))
        found.labels[id(item)] = found._label(holder, how, key).strip("`")
        queue.append((item, level + 1))


def _liftable(holder: Any) -> bool:
    """Whether :func:`lift` may trace the arrays ``holder`` holds: not a tuple's (immutable),
    nor an object's of chainrule's own classes (its code lifts what its ops read)."""
    kind = type(holder)
    return kind is not tuple and (kind in (dict, list, types.CellType)
                                  or not kind.__module__.startswith("chainrule."))


def _entries(holder: Any) -> Any:
    """``(how, key, item)`` of a holder: a cell's contents, a list's, tuple's or dict's items,
    an object's attributes; of one of more than WIDTH, only its tensors and arrays (a long
    list of parameters: its length is checked, the rest is not looked into; of one of more
    than LARGE, nothing)."""
    if type(holder) is types.CellType:
        try:
            return [("cell", None, holder.cell_contents)]
        except ValueError:  # (an empty cell)
            return ()
    if len(holder if type(holder) in (list, tuple) or isinstance(holder, dict) else
           vars(holder)) > LARGE:  # (a table of data: not looked into at all)
        return ()
    if type(holder) in (list, tuple):
        entries = [("item", index, item) for index, item in enumerate(holder)]
    elif isinstance(holder, dict):
        entries = [] if PROGRAM_MARK in holder else [
            ("item", key, item) for key, item in holder.items() if type(key) in (str, int)]
    else:
        entries = [("attr", key, item) for key, item in vars(holder).items()
                   if key.isidentifier()]
    if len(entries) > WIDTH:
        entries = [entry for entry in entries if isinstance(entry[2], (Tensor, np.ndarray))]
    return entries


_MISSING = object()


def lift(trace: Trace, found: Watched) -> tuple[list, list]:
    """Put tracing arrays (``trace.bind``: externals) in place of the NumPy arrays of
    ``found`` in their holders, one per array (two names of one array: one tracing array):
    ``([(holder, how, key, array, tracing array)], [(external, var)])`` for :func:`put_back`
    and :func:`unbind_unused`. ``found.arrays`` is emptied (a reference to the arrays would
    count as a holder when :mod:`.state` counts them)."""
    slots: list = []
    binds: list = []
    traced: dict = {}
    for holder, how, key, array in found.arrays.values():
        if kernels.is_cached(array):
            continue
        tracing = traced.get(id(array))
        if tracing is None:
            tracing = traced[id(array)] = trace.bind(array)
            binds.append((trace.external(array), tracing.var))
        _write(holder, how, key, tracing)
        slots.append((holder, how, key, array, tracing))
    found.arrays = {}
    return slots, binds


def put_back(slots: list, found: Watched) -> tuple[str | None, dict]:
    """Give the holders of :func:`lift`'s ``slots`` their arrays back (emptying ``slots``: a
    tracing array still alive after the call is then one the call stored, which
    :mod:`.escapes` finds). Returns an escape (the next call traces again) where the call put
    something else in such a slot (``self.m = self.m * 0.9``, ``del self.m``: a replay would
    not; :mod:`.escapes` gives a stored tracing array its concrete value), or None; and
    ``{id(array): [(holder, how, key)]}``, where the arrays are held, for
    :func:`.state.find_state` (as its ``_slots`` names them; no reference to the arrays, which
    it counts)."""
    moved = None
    held: dict = {}
    while slots:
        holder, how, key, array, tracing = slots.pop()
        if _read(holder, how, key) is tracing:
            _write(holder, how, key, array)
            held.setdefault(id(array), []).append(
                (holder, "attr", "cell_contents") if how == "cell" else (holder, how, key))
        elif moved is None:
            moved = (f"escape: it rebinds {found._label(holder, how, key)}, which held a "
                     f"NumPy array (a replay would not): write into the array in place "
                     f"(`m[...] = ...`), or return the new one")
    return moved, held


def unbind_unused(trace: Trace, binds: list, used: list) -> None:
    """Forget the externals of :func:`lift` that no call of the trace reads or writes and
    nothing ``used`` (the result's refs, the rebound tensors' Vars) holds: a replay then
    neither reads them nor checks their holders."""
    if not binds:
        return
    seen: set = set()
    stack: list = list(used)
    for instr in trace.instrs:
        if instr.kind != "bind":
            stack += [instr.args, instr.kwargs, instr.writes]
    while stack:
        ref = stack.pop()
        kind = type(ref)
        if kind in (tuple, list):
            stack.extend(ref)
        elif kind is dict:
            stack.extend(ref.values())
        elif kind is Var or kind is External:
            seen.add(id(ref))
    unused = {id(var): external for external, var in binds
              if id(var) not in seen and id(external) not in seen}
    if not unused:
        return
    trace.instrs = [instr for instr in trace.instrs
                    if instr.kind != "bind" or id(instr.outs) not in unused]
    for external in unused.values():
        del trace.externals[id(external.array)], trace.bound[external.index]
        for externals in trace.by_root.values():
            if external in externals:
                externals.remove(external)


def _write(holder: Any, how: str, key: Any, value: Any) -> None:
    """Put ``value`` in a holder's slot (past a class's ``__setattr__`` or a dict's
    ``__setitem__``: what the call sees, not an assignment of the user's)."""
    if how == "cell":
        holder.cell_contents = value
    elif how == "attr":
        vars(holder)[key] = value
    elif type(holder) is list:
        holder[key] = value
    else:
        dict.__setitem__(holder, key, value)


def _read(holder: Any, how: str, key: Any) -> Any:
    if how == "cell":
        with contextlib.suppress(ValueError):
            return holder.cell_contents
        return _MISSING
    if how == "attr":
        return vars(holder).get(key, _MISSING)
    if type(holder) is list:
        return holder[key] if key < len(holder) else _MISSING
    return holder.get(key, _MISSING)


def _settings(tensor: Tensor) -> tuple:
    """What of a tensor a replay assumes: requires_grad, grad_req, its hooks (a leaf's list
    is replaced when one is added), its node and the number of the node's hooks."""
    node = tensor._node
    return (tensor._requires_grad, tensor._grad_req, tensor._hooks, node,
            0 if node is None else len(node.hooks or ()))


def settings_check(name: str, tensor: Tensor, namespace: dict) -> str:
    """The prologue's check that the tensor of that name has the settings it has now."""
    requires_grad, grad_req, hooks, node, node_hooks = _settings(tensor)
    line = f"if {name}._requires_grad is not {requires_grad}"
    if not requires_grad and node is None:  # (no hook nor grad_req counts without it)
        return line + ": raise Miss(-1)"
    namespace[f"{name}_hooks"] = hooks
    line += (f" or {name}._grad_req " + ("is not None" if grad_req is None else
                                         f"!= {grad_req!r}") +
             f" or {name}._hooks is not {name}_hooks")
    if node is not None:
        namespace[f"{name}_node"] = node
        line += (f" or {name}._node is not {name}_node or "
                 f"len({name}_node.hooks or ()) != {node_hooks}")
    return line + ": raise Miss(-1)"


def value_checks(found: Watched, name: Any, namespace: dict) -> list[str]:
    """The prologue's checks of ``found``'s values and lengths (``name(holder)``: the
    holder's name in the program, one per holder)."""
    lines = [f"if len({name(holder)}) != {len(holder)}: raise Miss(-1)"
             for holder in found.sized.values()]
    lists = {}
    namespace["exact"] = exact
    for index, (holder, how, key, value) in enumerate(found.values):
        holder_name = name(vars(holder) if how == "attr" else holder)
        if how == "cell":
            read = f"{holder_name}.cell_contents"
        elif type(holder) is list:
            if id(holder) not in lists and id(holder) not in found.sized:
                lists[id(holder)] = f"if len({holder_name}) != {len(holder)}: raise Miss(-1)"
                lines.append(lists[id(holder)])
            read = f"{holder_name}[{key!r}]"
        else:
            read = f"{holder_name}.get({key!r}, Miss)"
        if type(value) is bool or value is None:
            lines.append(f"if {read} is not {value!r}: raise Miss(-1)")
            continue
        namespace[f"{holder_name}_v{index}"] = value
        lines.append(f"if (_v := {read}) is not {holder_name}_v{index} and not "
                     f"exact(_v, {holder_name}_v{index}): raise Miss(-1)")
    return lines


def guarded(result: Any, found: Watched) -> list[str]:
    """The prologue's checks of the settings of the tensors of state (:class:`.state.State`'s
    ``tensors``, but those read from an argument) and of ``found``'s values."""
    namespace = result.namespace
    lines = [settings_check(name, namespace[name], namespace)
             for name in result.tensors.values() if isinstance(namespace.get(name), Tensor)]
    names: dict = {}

    def name(holder: Any) -> str:
        if id(holder) not in names:
            names[id(holder)] = result.tensors.get(id(holder)) or result.name(holder)
        return names[id(holder)]

    return lines + value_checks(found, name, namespace)
