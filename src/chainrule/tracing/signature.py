"""The signature of a call of a jitted function: what two calls must share for one program to
replay both (the arguments' pytree structure, the insertion order of their dicts' keys, each
array's shape, dtype, layout and whether it owns its memory (``x[1:].base is x`` depends on
it), each tensor's class and ``requires_grad``, the Python values among the arguments, the
static arguments, the grad mode), or the reason the call must run eagerly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backends
from ..modes import state as modes
from ..ops import recording
from ..tensor import Tensor
from ..tree_util import _DictKeys, tree_flatten


def _static(static_argnums: tuple, static_argnames: tuple, args: tuple, kwargs: dict) -> tuple:
    """The static arguments ((position or name, value) pairs), and the call's arguments
    without them."""
    static: list = []
    if not (static_argnums or static_argnames):
        return static, args, kwargs
    rest = list(args)
    for index in static_argnums:
        if index < len(rest):
            static.append((index, rest[index]))
            rest[index] = None
    kwargs = dict(kwargs)
    for name in static_argnames:
        if name in kwargs:
            static.append((name, kwargs.pop(name)))
    return static, rest, kwargs

def signature(argnums: tuple, argnames: tuple, args: tuple, kwargs: dict) -> tuple:
    """(key, leaves, treedef) of a call; key None (and treedef a reason) when it must run
    eagerly."""
    static, args, kwargs = _static(argnums, argnames, args, kwargs)
    leaves, treedef = tree_flatten((tuple(args), kwargs))
    parts: list = [treedef, modes.grad_enabled, modes.recording, modes.transform_depth > 0]
    if recording.observers:
        return None, [], "anomaly detection or saved-tensor hooks are on"
    if modes.live_levels:
        return None, [], "it is called inside a jvp (forward mode)"
    ids: dict = {}
    for position, leaf in enumerate(leaves):
        kind = type(leaf)
        if kind is np.ndarray:
            parts.append(("a", leaf.shape, leaf.dtype, leaf.flags.c_contiguous,
                          leaf.flags.f_contiguous, leaf.flags.writeable, leaf.base is None))
            ids.setdefault(id(leaf), position)
        elif isinstance(leaf, Tensor):
            array = leaf._array
            if leaf._tangents:
                return None, [], "an argument carries tangents (jvp of a jitted function)"
            if type(array) is np.ndarray:
                parts.append(("t", type(leaf), array.shape, array.dtype,
                              array.flags.c_contiguous, array.flags.f_contiguous,
                              array.base is None, leaf._requires_grad, leaf._grad_req))
            elif isinstance(array, np.generic):
                parts.append(("ts", type(leaf), array.dtype, leaf._requires_grad))
            else:
                return None, [], (f"an argument holds an array of "
                                  f"{backends.library_of(array).name}")
            ids.setdefault(id(leaf), position)
            ids.setdefault(id(array), position)
        elif isinstance(leaf, np.generic):
            parts.append(("s", leaf.dtype))
        elif isinstance(leaf, np.ndarray):  # (np.matrix, masked arrays: their operators)
            return None, [], (f"an argument is of a subclass of ndarray "
                              f"({kind.__name__}), whose operators the trace would lose")
        elif kind in (bool, int, float, complex, str, type(None)):
            parts.append(number_key(leaf))
        elif backends.is_foreign(leaf):
            return None, [], (f"an argument is an array of "
                              f"{backends.library_of(leaf).name}")
        else:
            try:
                hash(leaf)
                parts.append(("h", kind, leaf))
            except TypeError:
                parts.append(("o", id(leaf)))
    if len(ids) < sum(1 for leaf in leaves if isinstance(leaf, (np.ndarray, Tensor))):
        parts.append(("aliases", tuple(ids.values())))
    for name, value in static:
        try:
            hash(value)
        except TypeError:
            raise TypeError(
                f"static argument {name!r} of cr.jit must be hashable (it is part of the "
                f"signature), got {type(value).__name__}"
            ) from None
        parts.append(("static", name, value))
    return (*parts, _key_orders(treedef)), leaves, treedef


def _key_orders(treedef: Any) -> tuple | None:
    """The insertion order of each dict in ``treedef`` (None where it is the sorted order the
    treedef compares), or None if all are sorted. A treedef sorts a dict's keys, as JAX does,
    but the function sees their order (``.values()``, ``**kwargs``): two calls whose dicts
    differ in it only are two signatures."""
    orders: list = []
    return tuple(orders) if _collect_orders(treedef, orders) else None


def _collect_orders(treedef: Any, orders: list) -> bool:
    """Append :func:`_key_orders`'s entries to ``orders``; whether one is not sorted."""
    unsorted = False
    for child in treedef.children:
        if child.children:
            unsorted = _collect_orders(child, orders) or unsorted
    keys = treedef.node_data
    if type(keys) is tuple and len(keys) == 2:  # (a defaultdict: its factory, its keys)
        keys = keys[1]
    if type(keys) is _DictKeys:
        if keys.order == keys:
            orders.append(None)
        else:
            orders.append(keys.order)
            unsorted = True
    return unsorted


def fast_key(args: tuple) -> tuple | None:
    """A key for a call whose arguments are arrays, tensors and Python numbers, none twice,
    computed without flattening: finer than the signature (strides for the layout flags), so
    that equal keys have equal signatures; None for any other call (the signature decides)."""
    if recording.observers or modes.live_levels:
        return None
    parts: list = [modes.grad_enabled, modes.recording, modes.transform_depth > 0]
    for arg in args:
        kind = type(arg)
        if kind is np.ndarray:
            parts.append((arg.shape, arg.dtype, arg.strides, arg.flags.writeable,
                          arg.base is None))
        elif kind is float or kind is int or kind is bool:
            parts.append(number_key(arg))
        elif isinstance(arg, Tensor):
            array = arg._array
            if type(array) is not np.ndarray or arg._tangents:
                return None
            parts.append((kind, array.shape, array.dtype, array.strides, array.base is None,
                          arg._requires_grad, arg._grad_req))
        else:
            return None
    if len(args) > 1:
        ids = {id(arg) for arg in args}
        ids.update(id(arg._array) for arg in args if isinstance(arg, Tensor))
        if len(ids) < len(args) + sum(1 for arg in args if isinstance(arg, Tensor)):
            return None
    return tuple(parts)


def number_key(value: Any) -> tuple:
    """A Python value of the signature: its type, value and, for floats, sign (``-0.0 == 0.0``
    and hashes alike, but ``1 / x`` tells them apart)."""
    kind = type(value)
    if kind is float:
        return kind, value, math.copysign(1.0, value)
    if kind is complex:
        return (kind, value, math.copysign(1.0, value.real), math.copysign(1.0, value.imag))
    return kind, value
