"""Arrays of other libraries: Dask, CuPy, or any array with NumPy's dispatch protocols.

A tensor wraps the array it is given and never converts it: NumPy's functions, called on a Dask
or CuPy array, dispatch to that library (``__array_ufunc__``, ``__array_function__``), so the op
table runs unchanged on them and results, saved values, cotangents and gradients stay arrays of
the same library. What this module adds is what dispatch cannot do:

- *making* arrays in a library (``ones``, ``asarray``: NumPy's ``like=``) and *copying* them
  (``copy``: ``np.array`` would convert to NumPy);
- the checks that run once such an array has been seen (:func:`call`): arguments of two
  libraries in one op are refused naming both, and an op the library lacks is refused instead
  of silently computed in NumPy (Dask's fallback computes the whole graph);
- what a *lazy* library (Dask) can do: :func:`compute` and :func:`persist`, several values
  together so that shared work runs once.

Until the first array of another library is wrapped, nothing here runs for an op: the
recording code switches to its checked variant then (ops/recording.py, :func:`on_switch`).
This module imports nothing of chainrule, and no library: a library is imported by whoever made
its arrays, and found here from the array's type.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .array_api import adapt, unwrap  # noqa: F401 (unwrap: for tensor.data)

_NUMPY_TYPES = (np.ndarray, np.generic)
_NO_GUARD = contextlib.nullcontext()  # (stateless: one serves every op)


def is_foreign(value: Any) -> bool:
    """Whether ``value`` is an array of another library (it has NumPy's function protocol, or
    only the array API's namespace, and is not NumPy's own). A tensor is not an array."""
    kind = type(value)
    return (
        kind is not np.ndarray
        and (hasattr(kind, "__array_function__") or hasattr(kind, "__array_namespace__"))
        and not isinstance(value, _NUMPY_TYPES)
        and not hasattr(kind, "_op_class")  # a Tensor
    )


class Library:
    """What chainrule needs to know about one array library beyond NumPy's protocols."""

    #: Whether NumPy arrays may be mixed into its operations (Dask wraps them; CuPy refuses).
    accepts_numpy = False
    #: Whether its arrays are lazy: values are computed by :func:`compute`.
    lazy = False

    def __init__(self, name: str) -> None:
        self.name = name

    def guard(self) -> contextlib.AbstractContextManager:
        """The context an op runs in (where the library's own warnings become errors)."""
        return _NO_GUARD

    def compute(self, arrays: list) -> list:
        return arrays

    def persist(self, arrays: list) -> list:
        return arrays

    def broadcast_to(self, array: Any, shape: tuple) -> Any:
        return np.broadcast_to(array, shape)

    def copy(self, array: Any, dtype: Any = None) -> Any:
        """A copy of ``array`` in this library (cast to ``dtype``)."""
        return array.astype(dtype) if dtype is not None and array.dtype != dtype else \
            array.copy()

    def to_numpy(self, array: Any) -> np.ndarray:
        """An explicit transfer to NumPy (``tensor.numpy()``)."""
        get = getattr(array, "get", None)  # CuPy: from the device
        return get() if callable(get) else np.asarray(array)

    def __repr__(self) -> str:
        return f"<array library {self.name}>"


class _Dask(Library):
    accepts_numpy = True
    lazy = True

    def guard(self) -> contextlib.AbstractContextManager:
        return _dask_guard()

    def compute(self, arrays: list) -> list:
        return list(sys.modules["dask"].compute(*arrays))

    def persist(self, arrays: list) -> list:
        return list(sys.modules["dask"].persist(*arrays))

    def broadcast_to(self, array: Any, shape: tuple) -> Any:
        # A reduction's cotangent spread back over its input takes the input's chunks (which
        # ``shape`` carries, see Shape): Dask's default, one chunk per broadcast axis, would
        # make one task hold the whole gradient of a chunked array.
        chunks = getattr(shape, "chunks", None)
        if chunks is None:
            return np.broadcast_to(array, shape)
        if shape.unknown is not None:  # (sizes Dask knows only once computed: as the input's)
            return np.zeros_like(shape.unknown, dtype=array.dtype) + array
        dask_array = sys.modules["dask.array"]
        try:
            return dask_array.broadcast_to(array, shape, chunks=chunks)
        except ValueError:  # (the kept axes chunked otherwise: rechunked after)
            return np.broadcast_to(array, shape).rechunk(chunks)


class _InGuard:
    """The message pattern of chainrule's filter for Dask's fallback warning: it matches only in
    a thread inside :func:`_dask_guard`. The filter stays in the process's list, inert
    elsewhere, so that no interleaving of threads saving and restoring the list (Dask's own
    code does) can leave an error filter active for the whole program."""

    pattern = ".*is not implemented by Dask"
    _regex = re.compile(pattern, re.IGNORECASE)
    _inside = threading.local()

    def match(self, text: str) -> Any:
        return self._regex.match(text) if getattr(self._inside, "depth", 0) else None


_IN_GUARD = _InGuard()
_FILTER = ("error", _IN_GUARD, FutureWarning, None, 0)
_GUARD_LOCK = threading.Lock()


@contextlib.contextmanager
def _dask_guard() -> Iterator[None]:
    # Dask computes a function it does not implement in NumPy (the whole graph, eagerly), with a
    # FutureWarning first: made an error here, before anything is computed.
    if _FILTER not in warnings.filters:  # (first use, or a test framework reset the list)
        with _GUARD_LOCK:
            if _FILTER not in warnings.filters:
                warnings.filters.insert(0, _FILTER)
                warnings._filters_mutated()
    inside = _InGuard._inside
    inside.depth = getattr(inside, "depth", 0) + 1
    try:
        yield
    except FutureWarning as warning:
        raise NotImplementedError(
            f"{warning} chainrule keeps Dask arrays lazy and does not compute them to run "
            f"an op Dask lacks: compute the input first (cr.compute(x) or x.compute()) to "
            f"run it in NumPy, or rewrite it with ops that Dask has"
        ) from None
    finally:
        inside.depth -= 1


NUMPY = Library("numpy")
NUMPY.accepts_numpy = True
_LIBRARIES: dict[str, Library] = {"numpy": NUMPY, "dask": _Dask("dask")}


def library_of(array: Any) -> Library:
    """The library of ``array`` (NumPy for numbers and NumPy arrays), from its type's module."""
    kind = type(array)
    library = _BY_TYPE.get(kind)
    if library is not None:
        return library
    if isinstance(array, _NUMPY_TYPES) or not is_foreign(array):
        return NUMPY
    name = kind.__module__.partition(".")[0]
    library = _LIBRARIES.get(name)
    if library is None:
        library = _LIBRARIES[name] = Library(name)
    _BY_TYPE[kind] = library
    return library


# The library of each foreign array type met (a type's protocols do not change: every op asks).
_BY_TYPE: dict[type, Library] = {}


class Shape(tuple):
    """The shape of a lazy library's array with its layout (Dask's ``chunks``): what a node
    remembers of an input's shape (``x_shape`` in a rule), so that a gradient broadcast back
    over the input is chunked as the input is (``Library.broadcast_to``)."""

    chunks: tuple
    #: The array itself where some of its sizes are unknown (NaN, after a boolean mask), which
    #: only a broadcast against it can take.
    unknown: Any = None


def shape_of(array: Any) -> tuple:
    """``np.shape(array)``; a lazy library's array's as a :class:`Shape` with its chunks."""
    library = library_of(array)
    if library is NUMPY:
        return np.shape(array)
    shape = tuple(array.shape)
    chunks = getattr(array, "chunks", None) if library.lazy else None
    if chunks is None:
        return shape
    shape = Shape(shape)
    shape.chunks = chunks
    if any(size != size for size in shape):
        shape.unknown = array
    return shape


def broadcast_to(array: Any, shape: tuple) -> Any:
    """``np.broadcast_to`` in ``array``'s library (a Dask array chunked as ``shape`` says)."""
    return library_of(array).broadcast_to(array, shape)


# ---------------------------------------------------------------- first sight


_seen = False
_switch_callbacks: list[Callable[[bool], None]] = []
# Array types that turn the checks on only while a scope of theirs runs (jit's tracing arrays,
# which live for one trace): ``foreign_scope``.
_scoped_types: set = set()
_scopes = 0
_scopes_lock = threading.Lock()


def on_switch(callback: Callable[[bool], None]) -> None:
    """Call ``callback(True)`` when the checks for other libraries' arrays are needed (the first
    such array wrapped, or a :func:`foreign_scope` entered) and ``callback(False)`` when they
    are no longer (the last scope left, no other array ever seen); at once if they are on."""
    _switch_callbacks.append(callback)
    if _seen or _scopes:
        callback(True)


def seen(array: Any) -> Any:
    """Note that ``array`` is about to be wrapped; returns it (adapted to NumPy's protocols when
    it has only the array API's, array_api.py). Costs one check once noted."""
    global _seen
    if not _seen and is_foreign(array) and type(array) not in _scoped_types:
        with _scopes_lock:
            _seen = True
            if not _scopes:
                for callback in _switch_callbacks:
                    callback(True)
    return adapt(array)


@contextlib.contextmanager
def foreign_scope() -> Iterator[None]:
    """The checks for other libraries' arrays on while this runs, in every thread (the arrays
    of a type in ``_scoped_types`` do not turn them on for good)."""
    global _scopes
    with _scopes_lock:
        _scopes += 1
        if _scopes == 1 and not _seen:
            for callback in _switch_callbacks:
                callback(True)
    try:
        yield
    finally:
        with _scopes_lock:
            _scopes -= 1
            if not _scopes and not _seen:
                for callback in _switch_callbacks:
                    callback(False)


# ---------------------------------------------------------------- making and copying


def is_numpy(array: Any) -> bool:
    return isinstance(array, _NUMPY_TYPES)


def may_share_memory(a: Any, b: Any) -> bool:
    """``np.may_share_memory``; False where either is a lazy library's array, a value rather
    than memory (Dask lacks the function and would compute both arrays to answer)."""
    if library_of(a).lazy or library_of(b).lazy:
        return False
    return bool(np.may_share_memory(a, b))


def same_size(a: Any, b: Any) -> bool:
    """Whether two sizes along an axis agree, an unknown one (NaN: a lazy library's array
    after a boolean mask) agreeing with any."""
    return a == b or a != a or b != b


def ones(shape: tuple, dtype: Any, like: Any) -> Any:
    """``np.ones`` in the library of ``like``."""
    if isinstance(like, _NUMPY_TYPES):
        return np.ones(shape, dtype)
    return np.ones(shape, dtype=dtype, like=like)


def zeros(shape: tuple, dtype: Any, like: Any) -> Any:
    """``np.zeros`` in the library of ``like``."""
    if isinstance(like, _NUMPY_TYPES):
        return np.zeros(shape, dtype)
    return np.zeros(shape, dtype=dtype, like=like)


def asarray(value: Any, dtype: Any = None, like: Any = None) -> Any:
    """``value`` as an array of ``like``'s library (NumPy's when ``like`` is None or NumPy's):
    an array of that library is kept (cast to ``dtype`` when given)."""
    if like is None or isinstance(like, _NUMPY_TYPES) or library_of(value) is not NUMPY:
        if is_foreign(value):
            value = adapt(value)
            return value if dtype is None or value.dtype == dtype else value.astype(dtype)
        return np.asarray(value, dtype)
    return np.asarray(value, dtype=dtype, like=like)


def constant_like(array: np.ndarray, like: Any) -> Any:
    """A constant made in NumPy (a mask, an identity matrix) as an array of ``like``'s library,
    where a rule combines it with ``like``: itself for NumPy, else moved there (NumPy's
    ``like=`` dispatch of ``asarray``; creation functions' own ``like=`` differ between
    libraries in the keywords they take)."""
    if isinstance(like, _NUMPY_TYPES) or not is_foreign(like):
        return array
    return np.asarray(array, like=like)


def copy(array: Any, dtype: Any = None) -> Any:
    """A copy of ``array`` (cast to ``dtype``), in its own library: ``np.array`` on an array of
    another library would convert it to NumPy."""
    if isinstance(array, _NUMPY_TYPES) or not is_foreign(array):
        return np.array(array, dtype=dtype)
    return library_of(array).copy(array, dtype)


def to_numpy(array: Any) -> np.ndarray:
    """``array`` as a NumPy array: itself, or an explicit transfer (CuPy's ``get``, Dask's
    compute)."""
    if isinstance(array, _NUMPY_TYPES):
        return np.asarray(array)
    return library_of(array).to_numpy(array)


# ---------------------------------------------------------------- applying an op


# The trace (cr.jit) recording this thread's calls, if any (``trace``): its ``lift`` makes the
# NumPy arrays of an op, or of an in-place write, traced arrays, so that what is computed from
# state alone (a closed-over parameter, a ``.grad``) is recorded too; and the call's effects
# (``effects``), where chainrule's own code marks what a replay could not repeat.
tracing = threading.local()


def traced_whole(impl: Callable) -> Callable:
    """``impl``, an op's forward that runs NumPy (or SciPy) code on NumPy arrays only, recorded
    whole by the running trace (cr.jit): one call of the program, on the arrays the trace
    stands for, where its NumPy calls cannot be traced one by one."""

    @functools.wraps(impl)
    def run(*args: Any, **params: Any) -> Any:
        trace = getattr(tracing, "trace", None)
        if trace is None:
            return impl(*args, **params)
        return trace.whole(impl, args, params)

    return run


def lift(raws: tuple) -> tuple:
    """``raws`` as the running trace sees them (themselves when none runs in this thread)."""
    trace = getattr(tracing, "trace", None)
    return raws if trace is None else trace.lift(raws)


def lifted(array: Any) -> Any:
    """One array as the running trace sees it (:func:`lift`): what a tensor's ``.data`` and
    ``.numpy()`` give."""
    trace = getattr(tracing, "trace", None)
    return array if trace is None else trace.lift((array,))[0]


def rebind(tensor: Any, array: Any, fresh: bool = False) -> None:
    """Give ``tensor`` the array ``array`` (``.data =``, a TensorFlow variable's assignment;
    ``fresh``: nothing else holds it). The running trace records it, to give the tensor the
    array at each replay."""
    trace = getattr(tracing, "trace", None)
    if trace is None:
        tensor._array = array
    else:
        trace.rebind(tensor, array, fresh)


def bump(counter: list) -> None:
    """Count a write into a tensor's data in its version ``counter`` (a view shares its base's),
    and in the running trace's, which bumps it by as many at each replay."""
    counter[0] += 1
    trace = getattr(tracing, "trace", None)
    if trace is not None:
        trace.bumps[id(counter)] = (counter, trace.bumps.get(id(counter), (None, 0))[1] + 1)


def call(impl: Callable, raws: tuple, params: dict, name: str) -> Any:
    """``impl(*raws, **params)`` for an op some of whose arrays may be of another library:
    refused when two libraries mix (naming both), run in the library's guard, and refused when
    the library hands back a NumPy array (it lacked the op and converted)."""
    trace = getattr(tracing, "trace", None)
    if trace is not None:
        raws = trace.lift(raws)
    library = library_of_op(raws, name)
    if library is None:
        return impl(*raws, **params)
    with library.guard():
        out = impl(*raws, **params)
    if type(out) is np.ndarray:
        raise NotImplementedError(
            f"{library.name} returned a NumPy array for {name}: it does not implement this op "
            f"for its arrays, and chainrule does not convert them"
        )
    return out


def library_of_op(raws: tuple, name: str) -> Library | None:
    """The library other than NumPy that the arrays of op ``name`` belong to (None: NumPy's
    alone); arrays of two libraries are refused naming both (NumPy's too, where the library
    does not take them)."""
    library = None
    has_numpy = False
    for raw in raws:
        if type(raw) is np.ndarray:
            has_numpy = True
        elif type(raw) in _BY_TYPE or not isinstance(raw, np.generic) and is_foreign(raw):
            found = library_of(raw)
            if library is None:
                library = found
            elif found is not library:
                raise TypeError(
                    f"{name} got arrays of two libraries, {library.name} and {found.name}; "
                    f"a tensor keeps its library's arrays, and one op runs in one library: "
                    f"convert one of them first"
                )
    if library is not None and has_numpy and not library.accepts_numpy:
        raise TypeError(
            f"{name} got arrays of two libraries, {library.name} and numpy; {library.name} "
            f"does not mix them: make the NumPy array a {library.name} array first (or give "
            f"it as a Python number)"
        )
    return library


# ---------------------------------------------------------------- lazy values


def compute(arrays: list) -> list:
    """The values of ``arrays`` (of any libraries), lazy ones computed together, library by
    library, so that work they share runs once."""
    return _by_library(arrays, "compute")


def persist(arrays: list) -> list:
    """``arrays`` with lazy ones persisted together (computed and kept in memory, still lazy
    arrays), library by library."""
    return _by_library(arrays, "persist")


def _by_library(arrays: list, method: str) -> list:
    results = list(arrays)
    groups: dict[Library, list[int]] = {}
    for index, array in enumerate(arrays):
        library = library_of(array)
        if library.lazy:
            groups.setdefault(library, []).append(index)
    for library, indices in groups.items():
        done = getattr(library, method)([arrays[i] for i in indices])
        for index, value in zip(indices, done, strict=True):
            results[index] = value
    return results
