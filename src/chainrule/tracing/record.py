"""Recording a step: the tracing array and the trace it writes to.

While ``cr.jit`` traces a call, the function's array arguments are :class:`TraceArray` objects:
each wraps the concrete array that eager execution would hold, and implements NumPy's dispatch
protocols (``__array_ufunc__``, ``__array_function__``) by computing the result on the concrete
arrays *and* appending the call to the :class:`Trace`. Tensors wrap them as they wrap any
array of another library (backends.py), so the whole of chainrule runs unchanged on them:
forward ops, reverse rules, the engine's accumulation into ``.grad``, in-place updates. What the
trace holds at the end is the step as straight-line NumPy calls, with none of the tensors,
nodes or rule lookups that produced them.

Where a traced value reaches Python (``bool``, ``float``, ``int``, ``item``, ``np.asarray``...)
the value seen is returned and recorded as a *guard*: the replay computes it again and checks
it. NumPy arrays met in a call that are not traced (a closed-over parameter, a ``.grad``
buffer) are *externals*: the program reads (and writes) the same array object at each replay.

This module imports nothing of chainrule but the hook that backends.py reads (and the tracing
array's Python protocols, .protocols).
"""

from __future__ import annotations

import functools
import operator
import threading
import weakref
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..backends import tracing
from . import numpy_calls as calls
from .attributes import Flat, base_of, written_scalar
from .protocols import PythonProtocols
from .values import External, Instr, Var


class Trace:
    """What one traced call did, in order."""

    def __init__(self) -> None:
        self.instrs: list[Instr] = []
        self.vars: list[Var] = []
        self.inputs: list[Var] = []
        self.externals: dict[int, External] = {}
        self.external_count = 0
        self.arrays: list[weakref.ref] = []  # every TraceArray made: what escapes is found
        self._open = True
        self.owner = threading.get_ident()
        self.roots: dict[int, Any] = {}  # buffer id -> the buffer (kept alive while tracing)
        self.snapshots: dict[int, Any] = {}  # external id -> its values before its first write
        self.by_root: dict[int, list[External]] = {}  # buffer id -> the externals in it
        self.bound: dict[int, Var] = {}  # external index -> the Var that reads it
        # id(version counter) -> (the counter, how many writes bumped it: backends.bump)
        self.bumps: dict[int, tuple[list, int]] = {}
        # id(tensor) -> (the tensor, its array before the call gave it another: rebind)
        self.rebinds: dict[int, tuple[Any, Any]] = {}
        self.error_state = calls.error_state()  # (np.errstate at the start: see Instr.errors)
        # Whether a call on traced values raised (see _watched): if the function caught the
        # error, its path depends on values that no guard checks.
        self.raised = False
        self.refused: str | None = None  # why the call, run on as eagerly, leaves no program

    @property
    def open(self) -> bool:
        """Whether the call is being recorded, and by this thread. Another thread that meets
        one of its tracing arrays while it runs (one put in state by guards.lift, which that
        thread reads too) gets plain NumPy on the values, and the trace leaves no program: an
        escape, traced again at the next call (recorded, its writes would be replayed)."""
        if self._open and threading.get_ident() != self.owner:
            self.refused = self.refused or (
                "escape: another thread used the arrays of its state while it was traced")
            return False
        return self._open

    @open.setter
    def open(self, value: bool) -> None:
        self._open = value

    def release(self) -> None:
        """Let go of the call's arrays once it is recorded: the program is built from Vars,
        which keep shapes and dtypes only (the externals stay: they are state; the snapshots
        the program resets temporaries from are in its namespace)."""
        self.roots = dict.fromkeys(self.roots, True)
        self.arrays = []
        self.snapshots = {}

    # -------------------------------------------------------------------- values
    def new_var(self, value: Any) -> TraceArray:
        var = Var(len(self.vars), value, self._root(value))
        self.vars.append(var)
        array = TraceArray(value, var, self)
        self.arrays.append(weakref.ref(array))
        return array

    def _root(self, value: Any) -> int:
        if not isinstance(value, np.ndarray):
            return -1 - len(self.vars)  # a scalar: a buffer of its own, never written
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        self.roots[id(base)] = base
        return id(base)

    def external(self, array: Any) -> External:
        found = self.externals.get(id(array))
        if found is None:
            # (numbered by a count: guards.unbind_unused forgets some, names stay distinct)
            found = self.externals[id(array)] = External(self.external_count, array)
            self.external_count += 1
            if isinstance(array, np.ndarray):
                self.by_root.setdefault(self._root(array), []).append(found)
        return found

    def lift(self, raws: tuple) -> tuple:
        """``raws`` with their NumPy arrays and scalars (those read from state: parameters,
        ``.grad`` buffers) traced, each read from its external at the replay."""
        if not self.open:
            return raws
        lifted = None
        for index, raw in enumerate(raws):
            if type(raw) is np.ndarray or isinstance(raw, np.generic) and not isinstance(
                raw, (np.bool_, np.str_, np.bytes_, np.void)
            ):
                if lifted is None:
                    lifted = list(raws)
                lifted[index] = self.bind(raw)
        return raws if lifted is None else tuple(lifted)

    def bind(self, array: Any) -> TraceArray:
        """A traced array that reads the external ``array``."""
        external = self.external(array)
        var = self.bound.get(external.index)
        if var is None:
            traced = self.new_var(array)
            self.bound[external.index] = traced.var
            self.instrs.append(Instr("bind", None, (external,), {}, traced.var))
            return traced
        traced = TraceArray(array, var, self)
        self.arrays.append(weakref.ref(traced))
        return traced

    def rebind(self, tensor: Any, array: Any, fresh: bool) -> None:
        """``tensor._array = array`` (backends.rebind), traced: a fresh array the call did
        not compute (a constant) is copied, so that each replay gives the tensor its own."""
        (traced,) = self.lift((array,)) if self.open else (array,)
        if fresh and type(traced) is TraceArray and traced.var in self.bound.values():
            traced = array_copy(traced)
        self.rebinds.setdefault(id(tensor), (tensor, tensor._array))
        tensor._array = traced

    def whole(self, function: Any, args: tuple, kwargs: dict) -> Any:
        """``function(*args, **kwargs)`` run on the values, recorded as one call
        (backends.traced_whole)."""
        try:
            result = function(*_values(args), **_values(kwargs))
        except Exception:
            self.raised = True  # (as _watched)
            raise
        return self.record("call", function, args, kwargs, result) if self.open else result

    def draw(self, sample: Any, args: tuple) -> TraceArray:
        """``sample(*args)``, random draws, recorded to be drawn afresh at each replay."""
        return self.record("call", sample, args, {}, sample(*args), random=True)

    def external_roots(self) -> set:
        """The buffers of the external arrays (state: never the program's own)."""
        return {self.root_of(external) for external in self.externals.values()}

    def root_of(self, ref: Any) -> int:
        if type(ref) is Var:
            return ref.root
        base = ref.array
        if not isinstance(base, np.ndarray):
            return id(base)
        while isinstance(base.base, np.ndarray):
            base = base.base
        return id(base)

    # -------------------------------------------------------------------- arguments
    def ref(self, value: Any) -> Any:
        """What the program writes for ``value``: a Var, an External, or the constant itself
        (containers rebuilt around the references they hold)."""
        kind = type(value)
        if kind is TraceArray:
            if value.trace is self and self.open:
                return value.var
            return self.external(value.value)  # (an array left over from an earlier trace)
        if kind in calls.PLAIN:
            return value
        if kind is tuple:
            return tuple([self.ref(item) for item in value])
        if kind is np.ndarray or isinstance(value, np.ndarray):
            return self.external(value)
        if isinstance(value, np.generic) and kind is not np.bool_:
            # (by identity too: a tensor may hold it, and be given another one later)
            return self.external(value)
        if kind is list:
            return [self.ref(item) for item in value]
        if kind is dict:
            return {key: self.ref(item) for key, item in value.items()} if value else {}
        return value

    # -------------------------------------------------------------------- recording
    def record(self, kind: str, op: Any, args: tuple, kwargs: dict, result: Any,
               writes: tuple = (), random: bool = False, shape_guard: bool = False) -> Any:
        """Append one instruction whose concrete ``result`` was just computed; returns the
        result with its arrays traced."""
        if type(result) is np.ndarray or isinstance(result, np.number):  # (the common case)
            wrapped = self.new_var(result)
            outs = wrapped.var
        else:
            outs, wrapped = self._wrap(result)
        instr = Instr(kind, op, self.ref(args), self.ref(kwargs), outs, writes=writes,
                      random=random, shape_guard=shape_guard)
        if calls.error_state() != self.error_state:  # (inside an np.errstate of the call's)
            instr.errors = dict(np.geterr())
        self.instrs.append(instr)
        return wrapped

    def _wrap(self, result: Any) -> tuple[Any, Any]:
        if isinstance(result, (np.ndarray, np.generic)) and not isinstance(
            result, (np.str_, np.bytes_, np.void)
        ):
            array = self.new_var(result)
            return array.var, array
        if isinstance(result, tuple) and result and all(
            isinstance(item, (np.ndarray, np.generic)) for item in result
        ):
            arrays = tuple(self.new_var(item) for item in result)
            if type(result) is not tuple:  # (NumPy's named results: SVDResult...)
                return tuple(array.var for array in arrays), type(result)(*arrays)
            return tuple(array.var for array in arrays), arrays
        return None, result

    def guard(self, kind: str, op: Any, args: tuple, kwargs: dict, value: Any) -> Any:
        """``value``, the Python value that ``op`` called on traced values (as ``kind`` says:
        "call" or "method") gave, recorded to be checked at each replay."""
        expected = np.array(value, copy=True) if isinstance(value, np.ndarray) else value
        self.instrs.append(Instr(
            "guard", op, self.ref(args), self.ref(kwargs), None, expected=expected,
            guard_kind=kind,
            errors=dict(np.geterr()) if calls.error_state() != self.error_state else None,
        ))
        return value


# The trace of this thread's running traced call, if any (backends.call lifts what an op reads
# through it; cr.random records its draws in it).
_current = tracing


def current() -> Trace | None:
    return getattr(_current, "trace", None)


def _values(value: Any) -> Any:
    kind = type(value)
    if kind is TraceArray:
        return value.value
    if kind is tuple:
        return tuple([_values(item) for item in value])
    if kind is list:
        return [_values(item) for item in value]
    if kind is dict:
        return {key: _values(item) for key, item in value.items()}
    return value


def _writes(trace: Trace, targets: Any) -> tuple:
    """The refs of ``targets``, about to be written: the externals they write (themselves, or
    those whose buffer a traced value of theirs views) get their values snapshot first."""
    refs = tuple(ref for ref in trace.ref(tuple(targets)) if type(ref) in (Var, External))
    for ref in refs:
        for external in (ref,) if type(ref) is External else trace.by_root.get(ref.root, ()):
            if id(external.array) not in trace.snapshots:
                trace.snapshots[id(external.array)] = np.array(external.array, copy=True)
    return refs


def _watched(method: Any) -> Any:
    """``method`` of TraceArray, noting in its trace that a call on traced values raised (a
    singular matrix, an index out of bounds, np.errstate's "raise"): a function that catches
    the error takes a path which depends on values no guard checks, and leaves no program."""
    @functools.wraps(method)
    def watched(self: TraceArray, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception:
            self.trace.raised = True
            raise

    return watched


class TraceArray(NDArrayOperatorsMixin, PythonProtocols):
    """A concrete array whose every use is recorded in a :class:`Trace` (see the module)."""

    __slots__ = ("value", "var", "trace", "__weakref__")
    __array_priority__ = 60

    def __init__(self, value: Any, var: Var, trace: Trace) -> None:
        self.value = value
        self.var = var
        self.trace = trace

    # ---------------------------------------------------------------- protocols
    @_watched
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        trace = self.trace
        if method == "__call__" and not kwargs and trace.open:
            # (the common case, a plain call on traced arrays, NumPy arrays and numbers, in
            # one pass; anything else takes the general path below)
            values = []
            for value in inputs:
                kind = type(value)
                if kind is TraceArray:
                    value = value.value
                    kind = type(value)
                if kind is not np.ndarray and kind not in calls.PLAIN and not isinstance(
                        value, np.generic):
                    break
                values.append(value)
            else:
                return trace.record("call", ufunc, inputs, kwargs, ufunc(*values))
        if _defers(inputs) or _defers(kwargs.get("out", ())):
            return NotImplemented  # (a tensor: its own protocol records it)
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        if not trace.open:  # an array left over from a finished trace: plain NumPy
            return function(*_values(inputs), **_values(kwargs))
        out = kwargs.get("out")
        writes = () if out is None else _writes(trace, out)
        if method == "at":
            writes = _writes(trace, inputs[:1])
        result = function(*_values(inputs), **_values(kwargs))
        instr_result = None if out is not None or method == "at" else result
        recorded = trace.record("call", function, inputs, kwargs, instr_result, writes)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return recorded

    # ``a ** b`` is not np.power(a, b) on every NumPy (2.0 computes ``x ** 2`` as square(x),
    # which rounds differently in float32): the operator is recorded as the operator.
    def __pow__(self, other: Any) -> Any:
        return _operator(operator.pow, self, other)

    def __rpow__(self, other: Any) -> Any:
        return _operator(operator.pow, other, self)

    @_watched
    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        if not all(issubclass(kind, (TraceArray, np.ndarray)) for kind in types):
            return NotImplemented
        trace = self.trace
        if not trace.open:
            return func(*_values(args), **_values(kwargs))
        out = kwargs.get("out")
        writes = _writes(trace, args[:1]) if func in calls.WRITES_FIRST else ()
        if out is not None:
            writes += _writes(trace, out if isinstance(out, tuple) else (out,))
        result = func(*_values(args), **_values(kwargs))
        if func in calls.METADATA:
            return result
        if writes and (out is not None or func in calls.WRITES_FIRST):
            trace.record("call", func, args, kwargs, None, writes)
            return out if out is not None else result
        if result is None:
            trace.record("call", func, args, kwargs, None, writes)
            return None
        if not isinstance(result, (np.ndarray, np.generic, tuple, list)):
            # a Python value computed from traced values: guarded
            return trace.guard("call", func, args, kwargs, result)
        if type(result) is list:  # (np.split, np.meshgrid...): a tuple, then a list again
            return list(trace.record("call", calls.as_list(func), args, kwargs, tuple(result)))
        return trace.record("call", func, args, kwargs, result,
                            shape_guard=func in calls.DATA_SHAPED)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        value = np.asarray(self.value, dtype=dtype)
        if self.trace.open:
            self.trace.guard("call", np.asarray, (self,), {"dtype": dtype}, value)
        return value

    # ---------------------------------------------------------------- values for Python
    @_watched
    def _python(self, convert: Any, *args: Any) -> Any:
        if not self.trace.open:
            return convert(self.value, *args)
        return self.trace.guard("call", convert, (self, *args), {}, convert(self.value, *args))

    def __bool__(self) -> bool:
        return self._python(bool)

    def __float__(self) -> float:
        return self._python(float)

    def __int__(self) -> int:
        return self._python(int)

    def __index__(self) -> int:
        return self._python(operator.index)

    def __complex__(self) -> complex:
        return self._python(complex)

    def item(self, *args: Any) -> Any:
        return self._python(calls.item, *args)

    def tolist(self) -> Any:
        return self._python(calls.tolist)

    def __repr__(self) -> str:
        return self._python(repr)  # (what the call prints eagerly: it is refused anyway)

    def __str__(self) -> str:
        return self._python(str)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Any:
        return (self[index] for index in range(len(self.value)))

    def __hash__(self) -> int:
        raise TypeError("unhashable type: 'TraceArray' (arrays are unhashable)")

    # ---------------------------------------------------------------- indexing
    @_watched
    def __getitem__(self, key: Any) -> Any:
        result = self.value[_values(key)]
        if not self.trace.open:
            return result
        mask = _has_mask(key)
        return self.trace.record("getitem", None, (self, key), {}, result, shape_guard=mask)

    @_watched
    def __setitem__(self, key: Any, item: Any) -> None:
        if isinstance(self.value, np.generic):  # an immutable scalar: becomes a new value
            value = np.array(self.value)
            value[_values(key)] = _values(item)
            if not self.trace.open:
                self.value = value
                return
            made = self.trace.record("call", written_scalar, (self, key, item), {}, value)
            self.value, self.var = made.value, made.var
            return
        writes = _writes(self.trace, (self,)) if self.trace.open else ()
        self.value[_values(key)] = _values(item)
        if writes:
            self.trace.record("setitem", None, (self, key, item), {}, None, writes=writes)

    # ---------------------------------------------------------------- the rest of ndarray
    @property
    def base(self) -> Any:
        """None for an array that owns its memory, as NumPy's (no call recorded: fixed by the
        signature); otherwise the array it views, traced (:func:`.attributes.base_of`)."""
        return None if self.value.base is None else base_of(self)

    @property
    def flat(self) -> Flat:
        """``x.flat``, traced (see :mod:`.attributes`)."""
        return Flat(self)

    @flat.setter
    def flat(self, value: Any) -> None:
        Flat(self)[...] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self.value, name)
        if name in calls.METADATA_ATTRS:
            return attribute
        trace = self.trace
        if not callable(attribute):
            if not trace.open:
                return attribute
            return trace.record("attr", name, (self,), {}, attribute)

        def method(*args: Any, **kwargs: Any) -> Any:
            if not trace.open:
                return attribute(*_values(args), **_values(kwargs))
            writes = _writes(trace, (self,)) if name in calls.WRITING_METHODS else ()
            out = kwargs.get("out")
            if out is not None:
                writes += _writes(trace, (out,))
            try:
                result = attribute(*_values(args), **_values(kwargs))
            except Exception:
                trace.raised = True  # (as _watched)
                raise
            if result is None or writes:
                trace.record("method", name, (self, *args), kwargs, None, writes)
                return out if out is not None else result
            if result is self.value:  # (``astype(..., copy=False)``: the array itself)
                return self
            if not isinstance(result, (np.ndarray, np.generic, tuple)):
                return trace.guard("method", name, (self, *args), kwargs, result)
            return trace.record("method", name, (self, *args), kwargs, result)

        return method


def _arithmetic(ufunc: np.ufunc, op: Any, reflected: bool) -> Any:
    """A Python operator of TraceArray: on NumPy scalars (and numbers) the operator is recorded,
    as NumPy scalars compute it (complex products round otherwise than the ufunc, which an
    explicit ``np.multiply(a, b)`` runs); on arrays the ufunc, as NumPy's operators call it."""
    def method(self: TraceArray, other: Any) -> Any:
        left, right = (other, self) if reflected else (self, other)
        if getattr(type(other), "__array_ufunc__", True) is None:
            return NotImplemented  # (as NumPy's operators: the other operand's turn)
        if isinstance(self.value, np.generic) and _is_scalar(_values(other)):
            return _operator(op, left, right)
        return ufunc(left, right)

    return method


def _in_place(name: str) -> Any:
    """An augmented assignment (``s += 1``): into the array, as NumPy's; a NumPy scalar, which
    is immutable, gets a new value instead, as Python does with NumPy's scalars."""
    into = getattr(NDArrayOperatorsMixin, f"__i{name}__")

    def method(self: TraceArray, other: Any) -> Any:
        if isinstance(self.value, np.generic):
            return getattr(self, f"__{name}__")(other)
        return into(self, other)

    return method


for _ufunc, _op in calls.SCALAR_OPERATORS.items():
    _name = _op.__name__.strip("_")
    setattr(TraceArray, f"__{_name}__", _arithmetic(_ufunc, _op, False))
    setattr(TraceArray, f"__r{_name}__", _arithmetic(_ufunc, _op, True))
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lshift", "rshift"):
    setattr(TraceArray, f"__i{_name}__", _in_place(_name))

# Metadata (fixed by the signature) read straight from the concrete array: chainrule reads
# dtype and shape at every op.
for _name in calls.METADATA_ATTRS:
    setattr(TraceArray, _name, property(operator.attrgetter(f"value.{_name}")))


def _operator(op: Any, left: Any, right: Any) -> Any:
    """The Python operator ``op`` applied to a traced array and another operand."""
    if _defers((left, right)):
        return NotImplemented
    trace = left.trace if type(left) is TraceArray else right.trace
    try:
        result = op(_values(left), _values(right))
    except Exception:
        trace.raised = True  # (as _watched)
        raise
    if not trace.open:
        return result
    return trace.record("call", op, (left, right), {}, result)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (np.generic, int, float, complex))


def _defers(values: Any) -> bool:
    """Whether one of ``values`` is an array-like of another type with its own protocol (a
    tensor), to which NumPy should hand the call."""
    return any(
        type(value) is not TraceArray and type(value) is not np.ndarray
        and hasattr(type(value), "__array_ufunc__") and not isinstance(value, np.generic)
        for value in values
    )


def _has_mask(key: Any) -> bool:
    items = key if type(key) is tuple else (key,)
    return any(
        getattr(item, "dtype", None) is not None and item.dtype == bool
        or type(item) is list and any(type(x) is bool for x in item)
        for item in items
    )


def array_copy(array: TraceArray, dtype: Any = None) -> Any:
    """``np.array(array, dtype=dtype)`` of a traced array, recorded (NumPy's copy, which makes
    a NumPy scalar a 0-d array: ``array.copy()`` would keep it a scalar)."""
    kwargs = {} if dtype is None else {"dtype": dtype}
    result = np.array(array.value, **kwargs)
    if not array.trace.open:
        return result
    return array.trace.record("call", _array_copy, (array,), kwargs, result)


def _array_copy(value: Any, dtype: Any = None) -> np.ndarray:
    return np.array(value, dtype=dtype)


_array_copy.__name__ = "array"  # (as the program prints it)
