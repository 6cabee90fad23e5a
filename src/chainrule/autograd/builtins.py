"""``autograd.builtins``: HIPS's containers and type checks.

Traced lists, tuples and dicts are plain Python containers here (chainrule's transforms take
pytrees), so HIPS's ``tuple``, ``list`` and ``dict`` are Python's own; gradients with respect
to them keep their type. ``isinstance`` and ``type`` look through a traced array to the array
behind it, as HIPS's do (``isinstance(x, np.ndarray)`` holds inside a transformed function),
and through ``cr.jit``'s tracing array to the array it stands for (whose type the replay's
NumPy calls make again: the signature fixes the arguments', each call its result's).

>>> from chainrule.autograd import grad, list as ag_list
>>> grad(lambda x: ag_list((x[0], 2 * x[1]))[1])([1.0, 3.0])
[np.float64(0.0), np.float64(2.0)]
"""

import builtins as _builtins
from typing import Any

from ..tracing.record import TraceArray as _TraceArray
from ._box import raw as _raw

tuple = _builtins.tuple  # noqa: A001
list = _builtins.list  # noqa: A001
dict = _builtins.dict  # noqa: A001


def _behind(value: Any) -> Any:
    value = _raw(value)
    return value.value if _builtins.isinstance(value, _TraceArray) else value


def isinstance(value: Any, types: Any) -> bool:  # noqa: A001
    """``isinstance`` of the value behind a traced array."""
    return _builtins.isinstance(_behind(value), types)


def type(value: Any) -> Any:  # noqa: A001
    """The type of the value behind a traced array."""
    return _builtins.type(_behind(value))
