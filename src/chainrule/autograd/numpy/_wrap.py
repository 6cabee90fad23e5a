"""How a NumPy name becomes the dialect's: the core's function where a traced value is
among the arguments, NumPy's own otherwise (so plain code gets plain NumPy, as in HIPS).

A name HIPS gives no derivative (``NONDIFFERENTIABLE``) runs NumPy on the arrays behind any
tensors, as HIPS's untraced functions do: its result carries no gradient (HIPS's
comparisons and ``argmax`` return plain arrays too). Any other function the core lacks runs
NumPy's on plain values and refuses traced ones (``refusing``), where HIPS fails when
differentiating it: never a differentiable-looking result without a derivative.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ...ops import UFUNCS
from ...tensor import _NO_PARAMS, Tensor
from .._box import contains_tensor

# HIPS's functions without a derivative (numpy_vjps.nograd_functions and the notrace ones),
# and NumPy's functions of shapes, dtypes and settings only, which no traced value can reach.
NONDIFFERENTIABLE = frozenset((
    "floor ceil round rint around fix trunc all any argmax argmin argpartition argsort "
    "argwhere nonzero flatnonzero count_nonzero searchsorted sign ndim shape floor_divide "
    "logical_and logical_or logical_not logical_xor isfinite isinf isnan isneginf isposinf "
    "allclose isclose array_equal array_equiv greater greater_equal less less_equal equal "
    "not_equal iscomplexobj iscomplex size isscalar isreal zeros_like ones_like empty_like "
    "full_like result_type isrealobj "
    "zeros ones empty eye identity tri indices tril_indices triu_indices diag_indices "
    "promote_types can_cast issubdtype min_scalar_type "
    "seterr geterr set_printoptions get_printoptions printoptions"
).split())


def _unwrap(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value._array
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(item) for item in value)
    return value


def traced_call(args: tuple, kwargs: dict) -> bool:
    """Whether a call has a tensor among its arguments (in lists and tuples too)."""
    return contains_tensor(args) or any(isinstance(v, Tensor) for v in kwargs.values())


def dispatching(core_fn: Callable, numpy_fn: Callable, prim: Any = None) -> Callable:
    """``core_fn`` on calls with tensors, ``numpy_fn`` on plain ones; an elementwise op's
    primitive (``prim``) straight away on positional tensors, as the core's own wrapper does."""
    apply = prim.apply if prim is not None else None

    @functools.wraps(numpy_fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        for arg in args:  # (the common case first: a tensor argument, found without recursion)
            if isinstance(arg, Tensor):
                if apply is not None and not kwargs:
                    return apply(args, _NO_PARAMS)
                return core_fn(*args, **kwargs)
        if traced_call(args, kwargs):
            return core_fn(*args, **kwargs)
        return numpy_fn(*args, **kwargs)

    return function


def nondifferentiable(numpy_fn: Callable) -> Callable:
    """``numpy_fn`` on the arrays behind any tensors: a result without a derivative."""

    @functools.wraps(numpy_fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        return numpy_fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})

    return function


def refusing(name: str, numpy_fn: Callable) -> Callable:
    """``numpy_fn`` on plain values; a clear error on traced ones, which it cannot
    differentiate."""

    @functools.wraps(numpy_fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        if traced_call(args, kwargs):
            raise NotImplementedError(
                f"{name} has no derivative in chainrule: call it on values that are not "
                "differentiated, or declare its rules with chainrule.autograd.extend")
        return numpy_fn(*args, **kwargs)

    return function


def namespace(numpy_module: types.ModuleType, core: Any) -> dict:
    """The dialect's version of ``numpy_module``'s public names, resolved against ``core``
    (a module or namespace of chainrule functions, or None): constants and types as they are,
    functions the core has dispatching, HIPS's non-differentiable ones unwrapping, the others
    refusing traced values."""
    names: dict = {}
    for name, value in vars(numpy_module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if isinstance(value, type) or not callable(value):
            names[name] = value
            continue
        core_fn = getattr(core, name, None) if core is not None else None
        if name in NONDIFFERENTIABLE:
            names[name] = nondifferentiable(value)
        elif callable(core_fn) and not isinstance(core_fn, types.ModuleType):
            prim = UFUNCS.get(value.__name__) if isinstance(value, np.ufunc) else None
            names[name] = dispatching(core_fn, value, prim)
        else:
            names[name] = refusing(f"{numpy_module.__name__}.{name}", value)
    return names
