"""``cr.jit``: trace a call once, replay it as straight-line NumPy.

A call with a new *signature* (the arguments' pytree structure, each array's shape, dtype and
layout, each tensor's class and ``requires_grad``, the Python values among the arguments and
the grad mode) runs the function once on tracing arrays (:mod:`.record`): that call is the
eager call, with the same results and effects, and leaves behind a trace. From it
:mod:`.program` builds a program; later calls with the signature run the program.

What makes a replay the eager call, and what the tracer checks to know it:

- **Python control flow** on traced values left guards in the program (``bool``, ``float``,
  ``item``...); when one fails, the call runs eagerly, traced, and becomes another
  specialization of the signature (``max_specializations`` of them, then eager with a warning).
- **State.** Arrays the function reads that are not its arguments (parameters it closes over,
  their ``.grad`` buffers) are read, and written in place, by identity. Where they are held
  (a tensor's data or ``.grad``, a dict such as a module's globals or an object's attributes,
  a list, a closure cell) is checked on each replay, so that rebinding one (``w.grad = None``,
  ``w = cr.tensor(...)``) traces again instead of replaying on the old array. A tensor written
  in place gets its version counter bumped, as eagerly. The NumPy arrays it reaches by name
  (a closed-over array, a global, ``self.m``) are tracing arrays while it traces
  (:func:`.guards.lift`): NumPy work on them alone is recorded too.
- **Python values** it reaches by name (a learning rate, a model's ``training`` flag, a global;
  a state tensor's ``requires_grad`` and hooks; the length of a list of tensors) are checked
  too (:mod:`.guards`); a call that changes one itself runs eagerly.
- **Escapes.** A traced call that stores a new array into Python state (the first
  ``backward()`` creating ``.grad``) has no program: the state is given its concrete arrays, and
  the next call traces again (then the buffers exist and are accumulated into in place).
- **Refusals**, each named in a :class:`JitWarning` once per function, after which the
  signature runs eagerly: printing, NumPy's or Python's global random generators, a result
  that carries a graph or tangents to differentiate later (``grad(jit(f))``, ``jvp(jit(f))``:
  correct, eagerly), arrays of other libraries, state that changes at every call, generator
  and coroutine functions, a mutable object (not state) that the call makes and returns.

Randomness through ``cr.random`` is recorded as draws, fresh at each replay.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import types
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import backends, engine, kernels
from ..modes import collector_paused
from ..tensor import Tensor
from ..tree_util import tree_flatten, tree_unflatten
from . import effects, escapes, guards, record, returned, state
from . import fuse as fusion
from .program import Miss, Program, Unreplayable, build, kept_roots_of, rollback_targets
from .record import Trace, TraceArray
from .signature import fast_key, signature
from .values import Var

backends._scoped_types.add(TraceArray)
kernels.NDARRAY_TYPES.add(TraceArray)
backends._LIBRARIES["chainrule"] = _TRACED = backends.Library("traced")
_TRACED.accepts_numpy = True
_TRACED.to_numpy = lambda array: record.array_copy(array) if isinstance(
    array.value, np.generic) else array  # (``t.numpy()`` traced; a scalar as np.asarray makes it)
_TRACED.copy = record.array_copy  # (as NumPy copies: a scalar becomes a 0-d array)

# After this many traces of one signature that each stored new arrays into state, its calls run
# eagerly.
MAX_ESCAPES = 3


class JitWarning(UserWarning):
    """A jitted function runs eagerly for a reason the warning names."""


class _Entry:
    """What one signature has: its programs (specializations), or the reason it runs
    eagerly."""

    __slots__ = ("programs", "eager", "escapes")

    def __init__(self) -> None:
        self.programs: list[_Specialization] = []
        self.eager: str | None = None
        self.escapes = 0


class _Pending:
    """A specialization's program before it is built. The first call of a signature records
    the trace and checks it (state, escapes); the passes and the compile wait for the second
    call, which builds the program in its place: a signature called once never pays them."""

    __slots__ = ("make", "specialization", "lock")

    def __init__(self, make: Callable[[], Program], specialization: _Specialization,
                 lock: Any) -> None:
        self.make = make
        self.specialization = specialization
        self.lock = lock

    def __call__(self, *leaves: Any) -> tuple:
        return self.built()(*leaves)

    def built(self) -> Program:
        with self.lock:
            program = self.specialization.program
            if isinstance(program, _Pending):
                with collector_paused():  # (the passes: many objects, little garbage)
                    program = self.specialization.program = self.make()
        return program


class _Specialization:
    """A program and how to make the function's result from what it returns."""

    __slots__ = ("program", "outputs", "treedef", "direct")

    def __init__(self, make: Callable[[], Program], outputs: list, treedef: Any,
                 lock: Any) -> None:
        self.program: Program | _Pending = _Pending(make, self, lock)
        self.outputs = outputs
        self.treedef = treedef
        # (the common case, a result that is arrays only, in a tuple or alone: made directly)
        arrays = all(kind == "array" for kind, _ in outputs)
        if arrays and treedef.node_type is None:
            self.direct = "one"
        elif arrays and treedef.node_type is tuple and all(
                child.node_type is None for child in treedef.children):
            self.direct = "tuple"
        else:
            self.direct = None

    def run(self, leaves: Sequence) -> Any:
        values = self.program(*leaves)
        direct = self.direct
        if direct == "one":
            return values[0]
        if direct == "tuple":
            return values
        made = []
        for (kind, detail), value in zip(self.outputs, values, strict=True):
            if kind == "array":
                made.append(value)
            elif kind == "tensor":
                cls, leaf = detail
                tensor = Tensor._wrap(value, cls=cls)
                if leaf:
                    tensor.requires_grad = True
                made.append(tensor)
            elif kind == "spent":
                cls, node = detail
                made.append(Tensor._wrap(value, node, cls=cls))
            elif kind == "copy":
                made.append(value.copy())
            elif kind == "new tensor" or kind == "shared tensor":
                cls, leaf, array = detail
                tensor = Tensor._wrap(array.copy() if kind == "new tensor" else array, cls=cls)
                if leaf:
                    tensor.requires_grad = True
                made.append(tensor)
            elif kind == "arg":
                made.append(leaves[detail])
            elif kind == "same":
                made.append(made[detail])
            else:  # an object returned as it is (a closed-over tensor, a Python value)
                made.append(detail)
        return tree_unflatten(self.treedef, made)


class Jitted:
    """A function that traces its calls and replays them (see :func:`jit`)."""

    def __init__(self, fun: Callable, static_argnums: Sequence[int] = (),
                 static_argnames: Sequence[str] = (), max_specializations: int = 8,
                 fuse: bool | None = None) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.static_argnums = tuple(static_argnums) if not isinstance(static_argnums, int) \
            else (static_argnums,)
        self.static_argnames = tuple(static_argnames) if not isinstance(static_argnames, str) \
            else (static_argnames,)
        self.max_specializations = max_specializations
        self.fuse = fuse
        if fuse:
            fusion.fuser(True)  # (without numexpr: the ImportError now, before any call)
        self._cache: dict = {}
        self._fast: dict = {}  # fast_key -> the _Entry of its signature (see fast_key)
        self._has_static = bool(self.static_argnums or self.static_argnames)
        self._lock = threading.RLock()
        self._warned: set = set()

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self if instance is None else types.MethodType(self, instance)

    def __repr__(self) -> str:
        return f"<cr.jit of {getattr(self.fun, '__qualname__', self.fun)!r}>"

    # ---------------------------------------------------------------- calls
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if record.current() is not None:  # inside another traced call: part of its trace
            return self.fun(*args, **kwargs)
        fast = None if kwargs or self._has_static else fast_key(args)
        if fast is not None:
            entry = self._fast.get(fast)
            if entry is not None and entry.eager is None:
                for specialization in entry.programs:
                    try:
                        return specialization.run(args)
                    except Miss:
                        continue
                    except Exception:
                        return self._after_error(specialization, args, kwargs)
        key, leaves, treedef = signature(self.static_argnums, self.static_argnames, args, kwargs)
        if key is None:
            return self._eager(treedef, args, kwargs)
        entry = self._cache.get(key)
        if fast is not None:
            self._fast[fast] = self._cache.setdefault(key, entry or _Entry())
        if entry is not None:
            if entry.eager is not None:
                return self.fun(*args, **kwargs)
            for specialization in entry.programs:
                try:
                    return specialization.run(leaves)
                except Miss:
                    continue
                except Exception:
                    return self._after_error(specialization, args, kwargs)
        return self._traced_call(key, leaves, treedef, args, kwargs)

    def _after_error(self, specialization: _Specialization, args: tuple, kwargs: dict) -> Any:
        """A replay raised (a singular matrix, an index out of bounds): a program that changed
        nothing outside itself gives way to the eager call, whose error, or the path where the
        function catches it, is the answer; another one's error stands (its writes and version
        bumps are the eager call's up to the error)."""
        program = specialization.program
        if not getattr(program, "pure", False):
            raise
        return self.fun(*args, **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> Program:
        """The program of a call with these arguments (a call: it runs, with its effects).

        >>> import chainrule as cr, numpy as np
        >>> program = cr.jit(lambda x: cr.sin(x) * 2).trace(np.ones(3))
        >>> print(program)                                  # doctest: +ELLIPSIS
        def replay(buffers, v0):
        ...
            v2 = v1 * 2  # float64[3]
            return (v2,)
        """
        key, leaves, treedef = signature(self.static_argnums, self.static_argnames, args, kwargs)
        if key is None:
            raise TypeError(f"cr.jit cannot trace this call: {treedef}")
        with collector_paused():  # (many objects, no garbage)
            specialization, _ = self._trace(leaves, treedef, args, kwargs)
        if isinstance(specialization, str):
            raise TypeError(f"cr.jit cannot replay this call: {specialization}")
        program = specialization.program
        return program.built() if isinstance(program, _Pending) else program

    def _eager(self, reason: str, args: tuple, kwargs: dict) -> Any:
        self._warn(reason)
        return self.fun(*args, **kwargs)

    def _warn(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            name = getattr(self.fun, "__qualname__", repr(self.fun))
            warnings.warn(f"cr.jit({name}): {reason}; it runs eagerly", JitWarning,
                          stacklevel=4)

    def _traced_call(self, key: Any, leaves: list, treedef: Any, args: tuple,
                     kwargs: dict) -> Any:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                entry = self._cache[key] = _Entry()
            if entry.eager is not None:
                return self.fun(*args, **kwargs)
            if len(entry.programs) >= self.max_specializations:
                entry.eager = (f"its guards failed on {self.max_specializations} "
                               f"specializations of one signature (Python control flow on "
                               f"values, or Python values it reads, that keep changing)")
            entry.eager = entry.eager or returned.generator_function(self.fun)
            if entry.eager:  # (a generator function: its body would run after the trace)
                self._warn(entry.eager)
                return self.fun(*args, **kwargs)
            with collector_paused():  # (many objects, no garbage)
                specialization, result = self._trace(leaves, treedef, args, kwargs)
            if isinstance(specialization, str):
                if specialization.startswith("escape:"):
                    entry.escapes += 1
                    if entry.escapes >= MAX_ESCAPES:
                        entry.eager = specialization[len("escape: "):]
                        self._warn(entry.eager)
                else:
                    entry.eager = specialization
                    self._warn(specialization)
            else:
                entry.programs.insert(0, specialization)
                entry.escapes = 0
            return result

    # ---------------------------------------------------------------- tracing
    def _trace(self, leaves: list, treedef: Any, args: tuple, kwargs: dict) -> tuple:
        """Run the call traced: (its specialization, or the reason why none, and its
        result)."""
        trace = Trace()
        watched = guards.watch(self.fun, state.reachable(self.fun), leaves)  # (before it)
        inputs, swapped, lifted = _lift(trace, leaves)
        call_args, call_kwargs = tree_unflatten(treedef, lifted)
        call_args = list(call_args)
        for index in self.static_argnums:
            if index < len(args):
                call_args[index] = args[index]
        for name in self.static_argnames:
            if name in kwargs:
                call_kwargs[name] = kwargs[name]
        passes = engine.passes
        with effects.side_effects() as seen, backends.foreign_scope(), _tracing(trace):
            slots, binds = guards.lift(trace, watched)  # (the NumPy arrays of state)
            try:
                result = self.fun(*call_args, **call_kwargs)
            finally:
                moved, held = guards.put_back(slots, watched)
                rebound = _restore(swapped)
                rebinds = _rebinds(trace, swapped)
        reason = (seen.reason([instr.args for instr in trace.instrs if instr.random])
                  or rebound or trace.refused or watched.changed() or moved)
        if trace.raised and not reason:  # (no program: the next call traces again)
            reason = ("escape: a NumPy call on its values raised an error that it caught (a "
                      "replay could not tell when the error comes)")
        out_leaves, out_treedef = tree_flatten(result)
        containers = escapes.containers(result)
        outputs, refs, output_reason = returned.outputs(out_leaves, trace, leaves, passes,
                                                         containers)
        reason = reason or output_reason
        escaped, holders = escapes.escaped(trace, containers, out_leaves, inputs, self.fun)
        del containers  # (the first result's: no holder of state when find_state looks)
        trace.open = False
        result = escapes.concrete(result, out_leaves, out_treedef)
        if escaped:
            escapes.hand_back(escaped, holders)
            if not reason:
                return ("escape: it stores new arrays into Python objects at each call (for "
                        "example `x.grad = None` before backward: use `x.grad.zero_()` to "
                        "reuse the buffer)"), result
        if reason:
            return reason, result
        try:
            holding = returned.result_holders(trace, out_leaves, outputs, result)
            guards.unbind_unused(trace, binds, refs + [var for _, _, var, _ in rebinds])
            make = _prepare(trace, inputs, (outputs, refs, holding), leaves, self,
                            (rebinds, watched, held))
        except Unreplayable as refused:
            return str(refused), result
        trace.release()
        return _Specialization(make, outputs, out_treedef, self._lock), result


def _lift(trace: Trace, leaves: list) -> tuple:
    """The call's arguments on tracing arrays: (each leaf's Var or None, the argument tensors
    given a tracing array ``[(tensor, its array, the tracing array)]``, the lifted leaves)."""
    inputs: list[Var | None] = []
    swapped: list = []
    lifted = []
    for leaf in leaves:
        if isinstance(leaf, (np.ndarray, np.generic)) and not isinstance(leaf, np.str_):
            array = trace.new_var(leaf)
            inputs.append(array.var)
            lifted.append(array)
        elif isinstance(leaf, Tensor):
            array = trace.new_var(leaf._array)
            inputs.append(array.var)
            swapped.append((leaf, leaf._array, array))
            leaf._array = array
            lifted.append(leaf)
        else:
            inputs.append(None)
            lifted.append(leaf)
    return inputs, swapped, lifted


@contextlib.contextmanager
def _tracing(trace: Trace) -> Iterator[None]:
    """The trace recording this thread's calls; a call that raises leaves no tracing array
    in Python state (what it stored before raising gets its concrete array, as eagerly)."""
    previous = record.current()
    record._current.trace = trace
    try:
        yield
    except BaseException as error:
        trace.open = False
        escapes.hand_back([array for ref in trace.arrays if (array := ref()) is not None], {})
        if isinstance(error, TypeError) and "bytes-like object is required, not 'TraceArray'" \
                in str(error):  # (a tracing array has no buffer: protocols.py says why)
            raise TypeError(f"{error}: cr.jit cannot trace memoryview() of an array; take it "
                            f"outside the jitted function") from error
        raise
    finally:
        record._current.trace = previous


def _restore(swapped: list) -> str | None:
    """Give the argument tensors back their arrays; a reason if the call rebound one."""
    reason = None
    for tensor, original, array in swapped:
        if tensor._array is array:
            tensor._array = original
        else:
            reason = "it replaces an argument tensor's array (assign in place instead)"
            if type(tensor._array) is TraceArray:
                tensor._array = tensor._array.value
    return reason


def _rebinds(trace: Trace, swapped: list) -> list:
    """The tensors of state that the call gave other arrays (backends.rebind), each given
    its concrete array now: ``[(tensor, its array before the call, the Var it has now, the
    concrete array)]``. (Arguments are _restore's; tensors made in the call are values of the
    trace like any other.)"""
    arguments = {id(tensor) for tensor, _, _ in swapped}
    found = []
    for tensor, original in trace.rebinds.values():
        array = tensor._array
        made_here = type(original) is TraceArray and original.trace is trace
        if made_here or id(tensor) in arguments or type(array) is not TraceArray:
            continue
        tensor._array = array.value
        found.append((tensor, original, array.var, array.value))
    return found


def _prepare(trace: Trace, inputs: list, result: tuple, arg_leaves: list,
             jitted: Jitted, noted: tuple) -> Callable[[], Program]:
    """What the program needs from the moment of the trace (where state is held, the values
    of the call's own temporaries, whether a failed guard can be undone), checked now; returns
    the build of the program, for later (:class:`_Pending`). ``result``: the outputs and
    refs of :func:`.returned.outputs` (completed here), and the objects that hold the result;
    ``noted``: the tensors of state the call rebound (:func:`_rebinds`), the Python values
    it reads by name, and where the NumPy arrays of state it reaches by name are held
    (:func:`.guards.put_back`)."""
    outputs, refs, holding = result
    rebinds, watched, held = noted
    for tensor, original, _, _ in rebinds:  # (the state as the call found it)
        tensor._array = original
    try:
        state_ = state.find_state(trace, arg_leaves, jitted.fun, rebinds, holding, held)
    finally:
        for tensor, _, _, value in rebinds:
            tensor._array = value
    made = {var: index for index, var in trace.bound.items()}
    local = {external.index for external in state_.local}
    if any(made.get(var) in local for _, _, var, _ in rebinds):
        raise Unreplayable("it gives a tensor (`.data = ...`) an array made during the call "
                           "by NumPy outside the traced operations, which each replay would "
                           "give it again: fill the tensor in place instead (`w.zero_()`, "
                           "`w.data.fill(...)`)")
    written = set(trace.snapshots)  # (the externals written: through their traced values too)
    fresh = returned.returned_arrays(outputs, refs, state_, written)
    namespace = state_.namespace
    prologue = []
    for index, (var, leaf) in enumerate(zip(inputs, arg_leaves, strict=True)):
        if var is not None and isinstance(leaf, Tensor):
            prologue.append(f"{var.name} = a{index}._array")
        elif var is not None:
            prologue.append(f"{var.name} = a{index}")
    # (the checks first: reading an argument's .grad comes before what reads it)
    prologue = state.ordered(state_.checks + guards.guarded(state_, watched)) + prologue
    for external in state_.local:  # the call's own temporaries written in place: reset
        if id(external.array) in written:  # (a new one where the result holds it)
            name = external.name
            namespace[f"{name}_initial"] = trace.snapshots[id(external.array)]
            prologue.append(f"{name} = {name}_initial.copy(order='K')" if id(external.array)
                            in fresh else f"copyto({name}, {name}_initial)")
    namespace["copyto"] = np.copyto
    parameters = [f"a{index}" for index in range(len(arg_leaves))]
    inputs = [var for var in inputs if var is not None]
    label = getattr(jitted.fun, "__qualname__", "f")
    fuse = None if jitted.fuse is False else fusion.fuser(jitted.fuse)
    rollback_targets(trace.instrs, trace, kept_roots_of(trace, inputs), inputs)
    return functools.partial(
        build, trace, inputs, parameters, refs, label, prologue,
        _bumps(trace, arg_leaves, state_), namespace, fuse,
        [(state_.tensors[id(tensor)], var) for tensor, _, var, _ in rebinds])


def _bumps(trace: Trace, arg_leaves: list, state_: state.State) -> list[str]:
    """The version counters the call bumped, bumped as many times at a replay: those of
    argument tensors (and their views) and of state tensors; not of the call's own."""
    counters = {id(leaf._version): f"a{index}" for index, leaf in enumerate(arg_leaves)
                if isinstance(leaf, Tensor)}
    lines = []
    for key, (_, count) in trace.bumps.items():
        name = counters.get(key) or state_.counters.get(key)
        if name is not None:
            lines.append(f"{name}._version[0] += {count}")
    return lines


def jit(fun: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), max_specializations: int = 8,
        fuse: bool | None = None) -> Any:
    """Trace ``fun`` at its first call with each signature, and replay that trace after.

    ``static_argnums``/``static_argnames``: arguments that are part of the signature by value
    (hashable), as Python numbers are anyway. ``max_specializations``: programs kept per
    signature (one per path through its guards), then it runs eagerly. ``fuse``: numexpr
    fusion of elementwise chains (``pip install 'chainrule[jit]'``): None (the default) where
    numexpr is installed and measured faster (float arrays of 16 MiB or more); True, every chain
    numexpr computes with NumPy's dtypes (ImportError without numexpr); False, never. Fused
    values equal the unfused ones to float tolerance (numexpr's transcendental functions may
    differ in the last bit), and fused kernels issue no floating-point warnings.

    >>> import chainrule as cr, numpy as np
    >>> step = cr.jit(cr.grad(lambda x: (cr.sin(x) * x).sum()))
    >>> step(np.array([0.0, 1.0]))                # traces
    array([0.        , 1.38177329])
    >>> step(np.array([2.0, 3.0]))                # replays
    array([ 0.07700375, -2.82885748])
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames,
                                 max_specializations=max_specializations, fuse=fuse)
    if isinstance(fun, Jitted):
        return fun
    return Jitted(fun, static_argnums, static_argnames, max_specializations, fuse)


__all__ = ["JitWarning", "Jitted", "jit", "weakref"]
