"""``flatten``: nested lists, tuples and dicts of arrays as one vector, and the way back
(differentiable both ways, as in HIPS, where ``unflatten`` is ``flatten``'s vjp).

>>> from chainrule.autograd.misc import flatten
>>> vector, unflatten = flatten({"a": 1.0, "b": [2.0, 3.0]})
>>> vector
array([1., 2., 3.])
>>> unflatten(vector * 2)
{'a': np.float64(2.0), 'b': [np.float64(4.0), np.float64(6.0)]}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import numpy as np
from ..builtins import type as ag_type
from ..differential_operators import make_vjp


def flatten(value: Any) -> tuple[Any, Callable]:
    """``(vector, unflatten)``; dict keys are taken in sorted order."""
    unflatten, flat_value = make_vjp(_flatten)(value)
    return flat_value, unflatten


def _flatten(value: Any) -> Any:
    kind = ag_type(value)
    if kind in (list, tuple):
        return _concatenate(map(_flatten, value))
    if kind is dict:
        return _concatenate(_flatten(value[key]) for key in sorted(value))
    return np.ravel(value)


def _concatenate(parts: Any) -> Any:
    parts = list(parts)
    return np.concatenate(parts) if parts else np.array([])


def flatten_func(func: Callable, example: Any) -> tuple[Callable, Callable, Any]:
    """``func`` of a nested value as a function of the flat vector."""
    _ex, unflatten = flatten(example)

    def _func(_x: Any, *args: Any) -> Any:
        return flatten(func(unflatten(_x), *args))[0]

    return _func, unflatten, _ex
