"""NumPy's protocols for tensors: ``np.sin(t)`` and ``array * t`` (``__array_ufunc__``),
``np.dot(t, t)`` and ``np.concatenate([a, b])`` (``__array_function__``, NEP 18).

A NumPy function that chainrule has runs chainrule's function of the same name, so the result
is recorded; one it does not have runs on the tensors' arrays, and is refused where its result
would silently lose a derivative. What NumPy writes in place (``out=``, ``ufunc.at``,
``np.copyto``...) becomes a checked in-place update of the tensors written.
"""

from __future__ import annotations

import builtins
import inspect
from typing import Any

import numpy as np

from . import api, fft, linalg
from .in_place import assign, check_in_place
from .ops import UFUNCS
from .tensor import Tensor, array_of


def array_ufunc(tensor: Tensor, ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_ufunc__``: the ufunc's op (or a dialect's route for it) on the inputs;
    a ufunc chainrule has no rule for runs on the arrays, refused where a derivative is lost."""
    if method == "__call__" and not kwargs:
        route = tensor._ufunc_routes.get(ufunc)
        if route is not None:  # a dialect's (its type promotion first)
            return route(*inputs)
        op = UFUNCS.get(ufunc.__name__)
        if op is not None:
            return op(*inputs)
    if any(isinstance(a, Tensor) and (a._requires_grad or a._tangents) for a in inputs):
        raise TypeError(
            f"numpy.{ufunc.__name__} has no derivative rule in chainrule; call the "
            f"chainrule function instead, or detach() the tensor first"
        )
    arrays = [array_of(a) for a in inputs]
    out = kwargs.get("out")
    targets = [o for o in out or () if isinstance(o, Tensor)]
    if method == "at" and isinstance(inputs[0], Tensor):
        targets.append(inputs[0])
    if targets:  # what NumPy writes in place: checked in-place updates of tensors
        name = f"numpy.{ufunc.__name__}{'.at' if method == 'at' else ''}"

        def call(copies: dict) -> Any:
            written = [copies.get(id(a), r) for a, r in zip(inputs, arrays)]
            if out is not None:
                kwargs["out"] = tuple(copies.get(id(o), o) for o in out)
            return getattr(ufunc, method)(*written, **kwargs)

        result = _write_numpy(name, targets, "where" in kwargs or method == "at", call)
    else:
        result = getattr(ufunc, method)(*arrays, **kwargs)
    if out is not None:  # NumPy returns the ``out`` arguments themselves
        return out[0] if len(out) == 1 else out
    if result is None:  # ufunc.at works in place
        return None
    if isinstance(result, tuple):
        return tuple(Tensor._wrap(r) for r in result)
    return Tensor._wrap(result)


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__`` (NEP 18): ``np.dot(x, x)``, ``np.linalg.norm(x)``,
    ``np.concatenate([a, b])``... run chainrule's function of the same name, so the result
    is a recorded tensor; functions chainrule does not have (``np.allclose``,
    ``np.array_equal``, ``np.median``...) run on the tensors' arrays and return NumPy's
    result unchanged.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> np.dot(x, x).backward(); x.grad
    tensor([2., 4.])
    >>> np.allclose(x, [1.0, 2.0])
    True
    """
    route = _array_function_route(func)
    if route is not None:
        try:
            call_args, call_kwargs = route.translate(args, kwargs)
        except TypeError as error:
            method = route.method_call(args, kwargs)  # np.sum(t, dtype=...): t.sum(...)
            if method is not None:
                return method()
            if _carries_graph(args) or _carries_graph(kwargs):
                raise TypeError(route.message(args, kwargs, error)) from None
            # Nothing to differentiate: NumPy's own function loses nothing.
        else:
            return route.target(*call_args, **call_kwargs)
    if func in _SHAPE_QUESTIONS and args and isinstance(args[0], Tensor):
        return func(_stand_in(args[0]), *args[1:], **kwargs)
    writes = _numpy_writes(func, args, kwargs)
    if writes is not None:  # (np.copyto, np.put..., out=): in-place updates, checked
        return _numpy_write(func, args, kwargs, writes)
    result = func(*_arrays_of(args), **_arrays_of(kwargs))
    if _floating(result) and (_carries_graph(args) or _carries_graph(kwargs)):
        # np.sort, np.round, np.pad... would hand back plain numbers cut off from the graph
        raise TypeError(
            f"numpy.{func.__name__} has no chainrule version, so its result would carry no "
            f"gradient; use chainrule's operations instead, or call it on x.detach() if "
            f"you do not need the gradient"
        )
    return result


# NumPy's questions about a shape, answered from the tensor's shape (on a stand-in without
# memory): another library need not have them (Dask lacks np.size), nor compute to answer.
_SHAPE_QUESTIONS = frozenset((np.shape, np.ndim, np.size))


def _stand_in(tensor: Tensor) -> np.ndarray:
    return np.broadcast_to(np.empty((), dtype=bool), tensor.shape)


# NumPy reductions that, on objects other than arrays, call the object's method of the same
# name with NumPy's keywords: a call chainrule's function does not take (``np.sum(t,
# dtype="float64")``) goes to the tensor's method, which honours ``dtype`` and refuses ``out``.
_METHOD_REDUCTIONS = frozenset("sum mean prod max min var std cumsum argmax argmin".split())


_NUMPY_RENAMED = {"newshape": "shape"}


def _parameters(signature: inspect.Signature, *kinds: Any) -> list[str]:
    return [p.name for p in signature.parameters.values() if p.kind in kinds]


class _ArrayFunctionRoute:
    """How a call to one NumPy function reaches chainrule's function of the same name.

    Arguments are matched by NumPy's parameter names, not by position (``np.sum(t, 0,
    "float64")`` passes a dtype third, ``cr.sum`` takes ``keepdims`` third), then passed to
    chainrule's function by keyword; NumPy's name for the array argument (``m``, ``A``,
    ``ary``...) becomes chainrule's (``a``). Functions with a variable number of arguments
    (``einsum``) pass them on as they are.
    """

    __slots__ = ("numpy_name", "target", "signature", "numpy_signature", "rename",
                 "var_keyword", "method_signature", "method_name", "fast")

    def __init__(self, func: Any, target: Any, method_name: str | None) -> None:
        self.numpy_name = f"{func.__module__}.{func.__name__}"
        self.target = target
        self.signature = inspect.signature(target)
        try:
            numpy_signature = inspect.signature(func)
        except (TypeError, ValueError):  # a builtin without a text signature
            numpy_signature = None
        P = inspect.Parameter  # noqa: N806
        self.numpy_signature = self.var_keyword = self.fast = None
        self.rename: dict[str, str] = {}
        if numpy_signature is not None and not (
            _parameters(numpy_signature, P.VAR_POSITIONAL)
            or _parameters(self.signature, P.VAR_POSITIONAL)
        ):
            self.numpy_signature = numpy_signature
            kinds = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
            numpy_first = _parameters(numpy_signature, *kinds)[:1]
            own_first = _parameters(self.signature, *kinds)[:1]
            if numpy_first and own_first:
                self.rename = {numpy_first[0]: own_first[0]}
            # Names NumPy has since changed (reshape's ``newshape`` until NumPy 2.1).
            self.rename.update(
                (old, new) for old, new in _NUMPY_RENAMED.items()
                if old in numpy_signature.parameters and new in self.signature.parameters
            )
            self.var_keyword = (_parameters(numpy_signature, P.VAR_KEYWORD) or [None])[0]
            # The common case needs no binding: positional arguments where both functions
            # have the same parameters in the same order, keywords both spell the same way.
            numpy_positional = _parameters(numpy_signature, *kinds)
            own_positional = _parameters(self.signature, *kinds)
            same = 1 if numpy_positional and own_positional else 0
            while (same < builtins.min(len(numpy_positional), len(own_positional))
                   and self.rename.get(numpy_positional[same], numpy_positional[same])
                   == own_positional[same]):
                same += 1
            required = builtins.sum(
                1 for p in self.signature.parameters.values()
                if p.kind in kinds and p.default is P.empty
            )
            keywords = frozenset(own_positional[1:]) & frozenset(numpy_signature.parameters)
            keywords |= frozenset(_parameters(self.signature, P.KEYWORD_ONLY)) & frozenset(
                _parameters(numpy_signature, P.KEYWORD_ONLY)
            )
            self.fast = (required, same, keywords)
        self.method_name = method_name
        self.method_signature = None
        if method_name is not None and self.numpy_signature is not None:
            self.method_signature = inspect.signature(getattr(Tensor, method_name))

    def _named(self, args: tuple, kwargs: dict) -> dict:
        """The call's arguments by NumPy's parameter names (only those given)."""
        bound = self.numpy_signature.bind(*args, **kwargs).arguments
        named = dict(bound.pop(self.var_keyword, None) or {})
        for name, value in bound.items():
            named[self.rename.get(name, name)] = value
        return named

    def translate(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments for chainrule's function; TypeError when it does not take them."""
        if self.fast is not None:
            required, same, keywords = self.fast
            if required <= len(args) <= same and keywords.issuperset(kwargs):
                return args, kwargs
        if self.numpy_signature is None:
            self.signature.bind(*args, **kwargs)
            return args, kwargs
        named = self._named(args, kwargs)
        self.signature.bind(**named)
        return (), named

    def method_call(self, args: tuple, kwargs: dict) -> Any:
        """``np.sum(t, 0, "float64")`` as ``t.sum(axis=0, dtype="float64")`` (by keyword, as
        NumPy itself calls methods), or None when that is not a reduction the method takes."""
        if self.method_signature is None:
            return None
        try:
            named = self._named(args, kwargs)
        except TypeError:
            return None
        first = next(iter(self.signature.parameters))
        tensor = named.pop(first, None)
        if not isinstance(tensor, Tensor):
            return None
        try:
            self.method_signature.bind(tensor, **named)
        except TypeError:
            return None
        return lambda: getattr(tensor, self.method_name)(**named)

    def message(self, args: tuple, kwargs: dict, error: TypeError) -> str:
        """Why the call cannot be differentiated, and what to do instead."""
        try:
            given = kwargs if self.numpy_signature is None else self._named(args, kwargs)
        except TypeError:
            given = kwargs
        unknown = [name for name in given if name not in self.signature.parameters]
        empty = inspect.Parameter.empty
        signature = self.signature.replace(
            parameters=[p.replace(annotation=empty) for p in self.signature.parameters.values()],
            return_annotation=empty,
        )
        own_name = f"{self.target.__module__.replace('.api', '')}.{self.target.__name__}"
        if unknown:
            what = ", ".join(f"{name}=" for name in unknown)
            problem, fix = f"does not accept {what}", f"call it without {what}"
        else:
            problem, fix = "does not accept these arguments", f"call it as {own_name}{signature}"
        return (
            f"{self.numpy_name} was called on a tensor that requires grad, so it runs "
            f"{own_name}{signature} to keep the gradient, and that {problem} ({error}); "
            f"{fix}, or call {self.numpy_name} on .detach()-ed tensors (or np.asarray(t)) if "
            f"no gradient is needed"
        )


# NEP 18 dispatch: NumPy function -> its route to chainrule, or None when chainrule has no
# function of that name; filled on first use of each function.
_ARRAY_FUNCTIONS: dict[Any, _ArrayFunctionRoute | None] = {}


def _array_function_route(func: Any) -> _ArrayFunctionRoute | None:
    """The route to chainrule's function standing in for the NumPy function ``func``: the same
    name in ``chainrule.api`` for ``numpy.*``, in ``chainrule.linalg`` for ``numpy.linalg.*``, in
    ``chainrule.fft`` for ``numpy.fft.*``."""
    try:
        return _ARRAY_FUNCTIONS[func]
    except KeyError:
        pass
    namespaces = {"numpy": api, "numpy.linalg": linalg, "numpy.fft": fft}
    namespace = namespaces.get(getattr(func, "__module__", None))
    name = getattr(func, "__name__", None)
    route = None
    if namespace is not None and name in namespace.__all__:
        method = name if namespace is api and name in _METHOD_REDUCTIONS else None
        route = _ArrayFunctionRoute(func, getattr(namespace, name), method)
    _ARRAY_FUNCTIONS[func] = route
    return route


# NumPy functions that write into one of their arguments (besides ``out=``): its position and
# name (some are C functions without a signature to bind against, in NumPy < 2.3).
_NUMPY_WRITERS = {
    np.copyto: (0, "dst"), np.put: (0, "a"), np.place: (0, "arr"), np.putmask: (0, "a"),
    np.put_along_axis: (0, "arr"), np.fill_diagonal: (0, "a"),
}


def _numpy_writes(func: Any, args: tuple, kwargs: dict) -> list | None:
    """The tensors a NumPy function would write into (its ``out=`` and the argument it writes,
    for the functions that do), or None when it writes nothing."""
    targets = []
    out = kwargs.get("out")
    for item in out if isinstance(out, tuple) else (out,):
        if item is not None:
            targets.append(item)
    written = _NUMPY_WRITERS.get(func)
    if written is not None:
        position, name = written
        target = args[position] if len(args) > position else kwargs.get(name)
        if target is not None:
            targets.append(target)
    return targets if targets else None


def _numpy_write(func: Any, args: tuple, kwargs: dict, targets: list) -> Any:
    """Run a NumPy function that writes into ``targets`` (``_write_numpy``); values of a tensor
    that requires grad are not written anywhere while recording (their gradient would be lost).
    """
    written = [t for t in targets if isinstance(t, Tensor)]
    name = f"numpy.{func.__name__}"
    for source in (*args, *kwargs.values()):
        if not any(source is t for t in written):
            for tensor in _tensors_in(source):
                tensor._check_convertible(name)

    def call(copies: dict) -> Any:
        return func(*_arrays_of(args, copies), **_arrays_of(kwargs, copies))

    result = _write_numpy(name, written, True, call)
    out = kwargs.get("out")
    return out if out is not None else result  # (NumPy returns the out= arguments themselves)


def _write_numpy(name: str, targets: list, partial: bool, call: Any) -> Any:
    """Run a NumPy call that writes into the tensors ``targets``: ``call(copies)`` writes into
    copies of their arrays (by id), then each copy is the tensor's in-place update (checked,
    versioned, its history made constant while recording, as ``fill_``). A ``partial`` write
    into a tensor that has a history is refused while recording: the values it keeps would
    keep a history NumPy cannot follow."""
    for tensor in targets:
        check_in_place(tensor)
        if partial and tensor._requires_grad and tensor._recording():
            raise TypeError(
                f"{name} would write into part of a tensor that has a history, which chainrule "
                f"cannot follow; use chainrule's operations (x.copy_(v), x[index] = v, "
                f"cr.where) or work on x.detach()"
            )
    copies = {id(t): np.array(t._array) for t in targets}
    result = call(copies)
    for tensor in targets:
        assign(tensor, Tensor._wrap(copies[id(tensor)]))
    return result


def _tensors_in(value: Any) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors_in(item)]
    return []


def _floating(value: Any) -> bool:
    """Whether a NumPy result holds floating-point numbers (which a gradient could follow)."""
    if isinstance(value, (tuple, list)):
        return any(_floating(v) for v in value)
    return isinstance(value, (np.ndarray, np.floating, np.complexfloating)) and (
        np.result_type(value).kind in "fc"
    )


def _carries_graph(value: Any) -> bool:
    """Whether a tensor that requires grad or carries tangents is in ``value`` (looking into
    lists, tuples and dicts, as NumPy's sequence arguments)."""
    if isinstance(value, Tensor):
        return bool(value._requires_grad or value._tangents)
    if isinstance(value, (list, tuple)):
        return any(_carries_graph(item) for item in value)
    if isinstance(value, dict):
        return any(_carries_graph(item) for item in value.values())
    return False


def _arrays_of(value: Any, copies: dict | None = None) -> Any:
    """``value`` with every tensor (also inside lists, tuples and dicts, as NumPy's sequence
    arguments) replaced by its array, or by its copy in ``copies`` (by id) that NumPy writes."""
    if isinstance(value, Tensor):
        if copies and id(value) in copies:
            return copies[id(value)]
        return value._array
    if isinstance(value, (list, tuple)):
        if not any(isinstance(item, (Tensor, list, tuple, dict)) for item in value):
            return value
        items = [_arrays_of(item, copies) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {key: _arrays_of(item, copies) for key, item in value.items()}
    return value
