"""From a trace to a program: clean-up passes and straight-line Python.

:func:`build` takes what :mod:`.record` wrote for one traced call and returns a
:class:`Program`, a generated Python function of the call's arrays that calls NumPy directly:

1. **Common subexpressions**: a call made twice on the same values (which nothing writes) is
   made once.
2. **Copies** that nothing needs (a tensor copies what it is given; a gradient is copied into
   its ``.grad``) are dropped.
3. **Constants**: a call whose values are all known when the program is built (``ones_like``
   of a traced value: its shape is fixed) is computed then, unless what it makes is written or
   returned.
4. **Dead code**: a call whose result nobody reads, that writes nothing read later, goes.
5. **Buffers**: a ufunc's result that the program alone holds is written (``out=``) into a
   buffer that the program owns, reused once every value living in it is dead; so a replay
   allocates only what it returns. Each thread replays with buffers of its own.
6. **Fusion** (optional, :mod:`.fuse`): elementwise chains on big arrays become one numexpr
   kernel.

The program's source is the printed program (``str(program)``): one line per NumPy call, a
comment with each result's dtype and shape, under the file name ``<chainrule jit: f>`` so that a
traceback points at its line.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import random
from ..codegen import compile_function
from . import numpy_calls as calls
from .buffers import outs, plan_buffers, reads
from .record import Trace
from .record import _array_copy as array_copy_function
from .source import Miss, _describe, _lines, _Names, _render, same
from .values import External, Instr, Var

# The key that marks a program's namespace (its globals).
PROGRAM_MARK = "__chainrule_program__"


class Unreplayable(Exception):
    """A trace that no program can replay faithfully; the message says why."""


class Program:
    """A traced call as a Python function of its input arrays (see the module)."""

    def __init__(self, source: str, namespace: dict, label: str, buffers: list,
                 stats: dict, calls: tuple = ((), (), {}, ())) -> None:
        self.source = source
        self.function = compile_function(source, namespace, label)
        self._buffer_specs = buffers  # (shape, dtype) of each buffer
        self._pool: list[list] = []
        self.stats = stats
        self.label = label
        # What cr.graph draws: the calls after the passes, the input Vars, the folded
        # constants' values by Var, and what the program returns.
        self.instrs, self.inputs, self.constants, self.outputs = calls
        self.pure = False  # (build: it writes nothing that outlives it, and draws nothing)

    def new_buffers(self) -> list:
        return [None if spec is None else np.empty(*spec) for spec in self._buffer_specs]

    def __call__(self, *arrays: Any) -> tuple:
        if not self._buffer_specs:
            return self.function((), *arrays)
        pool = self._pool
        buffers = pool.pop() if pool else self.new_buffers()
        try:
            return self.function(buffers, *arrays)
        finally:
            pool.append(buffers)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        counts = ", ".join(f"{count} {what}" for what, count in self.stats.items())
        return f"<chainrule program: {counts}>"


# ------------------------------------------------------------------------ passes


def _key(value: Any) -> Any:
    """What tells a call's arguments apart (a Var or an External is itself, unique)."""
    kind = type(value)
    if kind is Var or kind is External:
        return value
    if kind is int or kind is bool or kind is str or kind is float and value == value:
        return kind, value
    if kind is tuple or kind is list:
        return (kind, *[_key(item) for item in value])
    if kind is dict:
        return ("d", *sorted((key, _key(item)) for key, item in value.items()))
    if kind is slice:
        return ("s", _key(value.start), _key(value.stop), _key(value.step))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    if kind is float and value != value:
        return ("id", id(value))
    return (kind, value)


def _substitute(value: Any, mapping: dict, every: bool = False) -> Any:
    """``value`` (arguments: tuples, lists, dicts, slices) with its Vars replaced by
    ``mapping``'s values; ``every``: each Var must be in ``mapping``."""
    kind = type(value)
    if kind is Var:
        return mapping[value] if every else mapping.get(value, value)
    if kind is tuple:
        return tuple([_substitute(item, mapping, every) for item in value])
    if kind is list:
        return [_substitute(item, mapping, every) for item in value]
    if kind is dict:
        return {key: _substitute(item, mapping, every) for key, item in value.items()}
    if kind is slice:
        return slice(*(_substitute(part, mapping, every)
                       for part in (value.start, value.stop, value.step)))
    return value


def _root(ref: Any, trace: Trace) -> int:
    return trace.root_of(ref)


def written_roots(instrs: list, trace: Trace) -> set:
    return {_root(ref, trace) for instr in instrs for ref in instr.writes}


def merge_common(instrs: list, trace: Trace, written: set, distinct: set) -> list:
    """Pass 1: the second of two identical calls on values nothing writes reads the first's
    results; not where its results are ``distinct`` (returned, or given to a tensor: each an
    array of its own, as eagerly)."""
    seen: dict = {}
    mapping: dict = {}
    kept = []
    for instr in instrs:
        refs = reads(instr)
        if mapping and any(ref in mapping for ref in refs):
            instr.args = _substitute(instr.args, mapping)
            instr.kwargs = _substitute(instr.kwargs, mapping)
            refs = reads(instr)
        results = outs(instr)
        pure = instr.kind != "guard" and not instr.writes and not instr.random and results
        if pure:
            for ref in refs:
                if type(ref) is External or ref.root in written:
                    pure = False
                    break
            for var in results:
                if var in distinct or var.root in written:
                    pure = False
                    break
        if pure:
            key = (instr.kind, _key(instr.op), _key(instr.args),
                   _key(instr.kwargs) if instr.kwargs else None)
            first = seen.get(key)
            if first is not None and len(outs(first)) == len(results):
                mapping.update(zip(results, outs(first), strict=True))
                continue
            seen[key] = instr
        kept.append(instr)
    return kept, mapping


def elide_copies(instrs: list, trace: Trace, written: set, returned: set,
                 inputs: set) -> tuple[list, dict]:
    """Pass 2: a copy that nothing writes, of a value nothing writes after it, is the value
    itself (tensors copy what they are given; a gradient is copied into its ``.grad``). A
    returned copy stays unless what it copies is the program's own fresh array. A copy of a
    view in another order than C's stays too: it is asked for its layout (what reads it runs
    faster on contiguous memory: kernels.extremum's transposed copy)."""
    last_write: dict = {}
    for position, instr in enumerate(instrs):
        for ref in instr.writes:
            last_write[_root(ref, trace)] = position
    # (a copy whose view is returned is kept: the view lives in its memory, not its source's)
    returned_roots = {var.root for var in returned}
    mapping: dict = {}
    kept = []
    for position, instr in enumerate(instrs):
        if mapping:
            instr.args = _substitute(instr.args, mapping)
            instr.kwargs = _substitute(instr.kwargs, mapping)
        copied = _copy_of(instr)
        if copied is not None:
            copy = instr.outs
            if (
                (copy.root not in returned_roots or copy in returned)
                and copy.root not in written and last_write.get(copied.root, -1) < position
                and copy.dtype == copied.dtype and copy.shape == copied.shape
                and copy.scalar == copied.scalar and not copied.strided
                and (copy not in returned or (
                    not copied.view and copied not in inputs and copied not in returned
                    and copied.root not in trace.external_roots() and not copied.scalar
                ))
            ):
                mapping[copy] = copied
                if copy in returned:
                    returned.discard(copy)
                    returned.add(copied)
                continue
        kept.append(instr)
    return kept, mapping


def _copy_of(instr: Instr) -> Var | None:
    """The Var that ``instr`` copies (``x.copy()``, ``x.astype(x.dtype)``, ``np.array(x)``), if
    it is a copy."""
    if type(instr.outs) is not Var or not instr.args or type(instr.args[0]) is not Var:
        return None
    source = instr.args[0]
    if instr.kind == "call" and instr.op is array_copy_function and len(instr.args) == 1:
        dtype = instr.kwargs.get("dtype", source.dtype)
        return source if dtype == source.dtype and len(instr.kwargs) <= 1 else None
    if instr.kind != "method" or instr.kwargs:
        return None
    if instr.op == "copy" and len(instr.args) == 1:
        return source
    if instr.op == "astype" and len(instr.args) == 2 and instr.args[1] == source.dtype:
        return source
    return None


def fold_constants(instrs: list, trace: Trace, written: set, returned: set) -> tuple[list, dict]:
    """Pass 2: calls computed now, on values known now (see the module); returns the calls
    left and the constants' values by Var."""
    known: dict = {}
    kept = []
    for instr in instrs:
        results = outs(instr)
        foldable = (
            instr.kind in ("call", "method", "attr", "getitem") and results
            and not instr.writes and not instr.random and not instr.shape_guard
            and not any(var.root in written or var in returned for var in results)
        )
        if foldable:
            refs = reads(instr)
            if instr.kind == "call" and instr.op in calls.SHAPE_ONLY and refs and refs[0] is \
                    _first_var(instr.args):
                template = refs[0]
                values = {template: np.zeros(template.shape, template.dtype)[()]
                          if template.scalar else np.zeros(template.shape, template.dtype)}
                values.update(known)
                foldable = all(type(ref) is Var and (ref in values) for ref in refs)
            else:
                values = known
                foldable = all(type(ref) is Var and ref in known for ref in refs)
            result = _folded(instr, values) if foldable else None
            if result is not None:
                if type(instr.outs) is tuple:
                    known.update(zip(instr.outs, result, strict=True))
                else:
                    known[instr.outs] = result
                continue
        kept.append(instr)
    return kept, known


def _folded(instr: Instr, values: dict) -> Any:
    """``instr`` computed now; None where that raises or warns (a floating-point error): the
    program then computes it at each replay, as the call did."""
    try:
        with np.errstate(all="raise"):
            return _run(instr, values)
    except Exception:  # noqa: BLE001 (any failure: the call stays in the program)
        return None


def _first_var(args: tuple) -> Any:
    return args[0] if args else None


def _run(instr: Instr, values: dict) -> Any:
    args = _substitute(instr.args, values, every=True)
    kwargs = _substitute(instr.kwargs, values, every=True)
    if instr.kind == "call":
        return instr.op(*args, **kwargs)
    if instr.kind == "method":
        return getattr(args[0], instr.op)(*args[1:], **kwargs)
    if instr.kind == "attr":
        return getattr(args[0], instr.op)
    return args[0][args[1]]


def elide_broadcasts(instrs: list, returned: set) -> None:
    """Pass 3: a ``broadcast_to`` that only ufuncs read, each of whose results has the
    broadcast shape anyway, is left to their own broadcasting (the same values; the call goes
    with the dead code)."""
    users: dict = {}
    for instr in instrs:
        for ref in [*reads(instr), *instr.writes]:
            users.setdefault(ref, []).append(instr)
    for instr in instrs:
        view = instr.outs
        if instr.op is not np.broadcast_to or instr.kind != "call" or type(view) is not Var \
                or view in returned or not instr.args or type(instr.args[0]) is not Var:
            continue
        source = instr.args[0]
        readers = users.get(view, ())
        if readers and all(_broadcasts_itself(reader, view, source) for reader in readers):
            for reader in readers:
                reader.args = tuple(source if arg is view else arg for arg in reader.args)


def _broadcasts_itself(reader: Instr, view: Var, source: Var) -> bool:
    """Whether ``reader``, a ufunc reading ``view`` among its operands only, makes the same
    shape from ``source`` in its place."""
    if reader.kind != "call" or not isinstance(reader.op, np.ufunc) or reader.writes or \
            type(reader.outs) is not Var or any(ref is view for ref in reads(reader)
                                                if not any(ref is arg for arg in reader.args)):
        return False
    shapes = [source.shape if arg is view else np.shape(arg) if type(arg) is not Var
              else arg.shape for arg in reader.args]
    if any(type(arg) is External for arg in reader.args):
        return False
    try:
        return np.broadcast_shapes(*shapes) == reader.outs.shape
    except ValueError:
        return False


def _may_raise(instr: Instr) -> bool:
    """Whether a call raises on some values (a singular matrix: LinAlgError), or is an effect
    (a warning issued again): kept, though nothing reads its result, as the eager call raises.
    (A ufunc's floating-point warnings and errors go with its dead call, as in jax.jit and
    torch.compile: docs/jit.md.)"""
    return instr.kind == "call" and (instr.op in calls.EFFECTS or (
        getattr(instr.op, "__module__", None) or "").startswith(calls.RAISING))


def remove_dead(instrs: list, trace: Trace, returned: set, kept_roots: set) -> list:
    """Pass 3: from the end back, a call is kept when it is a guard, when it writes into a
    buffer read later (or one that outlives the program: an input, an external, a returned
    value's), or when a result of it is read later."""
    live_vars = set(returned)
    live_roots = set(kept_roots) | {var.root for var in returned}
    kept = []
    for instr in reversed(instrs):
        results = outs(instr)
        needed = (
            instr.kind == "guard" or instr.shape_guard or _may_raise(instr)
            or any(var in live_vars for var in results)
            or any(_root(ref, trace) in live_roots for ref in instr.writes)
        )
        if not needed:
            continue
        kept.append(instr)
        for ref in reads(instr):
            if type(ref) is Var:
                live_vars.add(ref)
                live_roots.add(ref.root)
        for ref in instr.writes:
            if type(ref) is Var:
                live_vars.add(ref)
    kept.reverse()
    return kept


def build(
    trace: Trace, inputs: list, parameters: list[str], returned_refs: list, label: str,
    prologue: list[str], epilogue: list[str], namespace: dict, fuse: Callable | None = None,
    rebinds: Sequence[tuple[str, Var]] = (),
) -> Program:
    """The program of ``trace``: a function ``(buffers, *parameters)`` that runs
    ``prologue`` (jitted.py's state checks, which also bind the ``inputs``), the trace's calls
    after the passes, gives each tensor of ``rebinds`` (by its name in the prologue) its new
    array, runs ``epilogue`` (its version bumps), and returns ``returned_refs`` (Vars,
    Externals, constants; None for what jitted.py makes itself). Returned and rebound arrays
    are new at each replay (no buffer of the pool), each one its own."""
    instrs = list(trace.instrs)
    recorded = len(instrs)
    written = written_roots(instrs, trace)
    given = [var for _, var in rebinds]
    distinct = {ref for ref in returned_refs if type(ref) is Var} | set(given)
    instrs, mapping = merge_common(instrs, trace, written, distinct)
    returned_refs = [_substitute(ref, mapping) for ref in returned_refs + given]
    returned = {ref for ref in returned_refs if type(ref) is Var}
    instrs, copies = elide_copies(instrs, trace, written, returned, set(inputs))
    returned_refs = [_substitute(ref, copies) for ref in returned_refs]
    instrs, constants = fold_constants(instrs, trace, written, returned)
    kept_roots = kept_roots_of(trace, inputs)
    elide_broadcasts(instrs, returned)
    instrs = remove_dead(instrs, trace, returned, kept_roots)
    buffers, specs = plan_buffers(instrs, trace, returned, written, set(inputs))
    names = _Names()
    names.namespace.update(namespace)
    names.namespace["same"] = same
    names.namespace[PROGRAM_MARK] = True  # (state.py: a program's globals hold no state)
    fused: dict = {}
    if fuse is not None:
        fused = fuse(instrs, names, constants, returned, buffers)
    for external in trace.externals.values():
        names.namespace[external.name] = external.array
    body = _lines(instrs, names, constants, buffers, fused)
    # (the buffers a line writes: not those of values a fused kernel computes in its registers)
    used = {int(index) for line in body
            for index in re.findall(r"\bout=b(\d+)\b", line.split("  #", 1)[0])}
    specs = [spec if index in used else None for index, spec in enumerate(specs)] if used else []
    body = [f"b{index} = buffers[{index}]" for index in sorted(used)] + body
    body = _with_rollback(body, instrs, trace, kept_roots, names, inputs)
    rendered = [_render(ref, names, constants) for ref in returned_refs]
    if given:  # (the rebound arrays: after the returned ones)
        body += [f"{name}._array = {value}" for (name, _), value in zip(
            rebinds, rendered[-len(given):], strict=True)]
        rendered = rendered[:-len(given)]
    body = list(prologue) + _with_epilogue(body, list(epilogue))
    body.append(f"return ({', '.join(rendered)}{',' if len(rendered) == 1 else ''})")
    header = [f"# {label}: {recorded} calls traced, {len(instrs)} in the program"]
    header += [f"# {var.name}: {_describe(var)}" for var in inputs]
    source = "\n".join([f"def replay({', '.join(['buffers', *parameters])}):"]
                       + ["    " + line for line in header + body]) + "\n"
    stats = {"calls traced": recorded, "calls": len(instrs), "buffers": len(used),
             "guards": sum(1 for instr in instrs if instr.kind == "guard")}
    program = Program(source, names.namespace, f"jit: {label}", specs, stats,
                      (instrs, inputs, constants, returned_refs))
    program.pure = not epilogue and not given and _writes_nothing_kept(instrs, trace, kept_roots)
    return program


def _writes_nothing_kept(instrs: list, trace: Trace, kept_roots: set) -> bool:
    """Whether a program neither writes into arrays that outlive it nor draws: one that raises
    midway has then changed nothing, and the call can run again eagerly."""
    return not any(instr.random or any(_root(ref, trace) in kept_roots for ref in instr.writes)
                   for instr in instrs)


def _with_epilogue(body: list[str], epilogue: list[str]) -> list[str]:
    """``body``, then ``epilogue`` (the version bumps), also when the body raises after its
    writes, as eagerly; a call that raises before them bumps too, which can only make a later
    backward refuse a saved value, never take a changed one for unchanged. Not on a Miss: the
    call then runs again eagerly."""
    if not epilogue:
        return body
    return ["try:", *("    " + line for line in body), "except Miss:", "    raise",
            "except BaseException:", *("    " + line for line in epilogue), "    raise",
            *epilogue]


def kept_roots_of(trace: Trace, inputs: list) -> set:
    """The buffers that outlive a replay: the externals' and the inputs'."""
    return {trace.root_of(external) for external in trace.externals.values()} | {
        var.root for var in inputs}


def rollback_targets(instrs: list, trace: Trace, kept_roots: set, inputs: list) -> dict:
    """The arrays that outlive the program (inputs, externals: by the name the prologue binds
    them to) which it writes before its last guard, to be put back when a guard fails after a
    write: the call then runs again eagerly. Raises Unreplayable when a written one has no name.

    The passes keep every guard and every write into such an array in order, so the trace's
    own calls answer as the program's do: jitted.py asks it at the first call, before the
    program is built."""
    first_write = next((position for position, instr in enumerate(instrs)
                        if any(_root(ref, trace) in kept_roots for ref in instr.writes)), None)
    if first_write is None or not any(instr.kind == "guard" or instr.shape_guard
                                      for instr in instrs[first_write:]):
        return {}
    holders: dict = {}  # written root -> a name the prologue binds to (an external, an input)
    for ref in [*trace.externals.values(), *inputs]:
        holders.setdefault(_root(ref, trace), ref.name)
    targets = {}
    for instr in instrs:
        for ref in instr.writes:
            root = _root(ref, trace)
            if root in kept_roots:
                if root not in holders:
                    raise Unreplayable(
                        "a check of a value it computes comes after it writes into state or "
                        "an argument (a failed check could not be undone)"
                    )
                targets[holders[root]] = root
    return targets


def _with_rollback(body: list[str], instrs: list, trace: Trace, kept_roots: set,
                   names: _Names, inputs: list) -> list[str]:
    """``body``, made to put back what it wrote into arrays that outlive it when a guard fails
    after such a write (:func:`rollback_targets`)."""
    targets = rollback_targets(instrs, trace, kept_roots, inputs)
    saves = [f"saved_{name} = {name}.copy()" for name in targets]
    restores = [f"    copyto({name}, saved_{name})" for name in targets]
    if _draws_before_a_guard(instrs):  # (the eager rerun draws what the replay drew)
        saves.append("saved_generator = generator_state()")
        restores.append("    set_generator_state(saved_generator)")
        names.namespace.update(generator_state=random._state,
                               set_generator_state=random._set_state)
    if not saves:
        return body
    names.namespace["copyto"] = np.copyto
    return saves + ["try:"] + ["    " + line for line in body] + \
        ["except Miss:"] + restores + ["    raise"]


def _draws_before_a_guard(instrs: list) -> bool:
    first = next((position for position, instr in enumerate(instrs) if instr.random), None)
    return first is not None and any(instr.kind == "guard" or instr.shape_guard
                                     for instr in instrs[first:])


__all__ = ["Miss", "Program", "build", "kept_roots_of", "rollback_targets", "same", "operator"]
