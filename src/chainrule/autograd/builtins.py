"""``autograd.builtins``: HIPS's containers and type checks.

Traced lists, tuples and dicts are plain Python containers here (chainrule's transforms take
pytrees), so HIPS's ``tuple``, ``list`` and ``dict`` are Python's own; gradients with respect
to them keep their type. ``isinstance`` and ``type`` look through a traced array to the array
behind it, as HIPS's do (``isinstance(x, np.ndarray)`` holds inside a transformed function).

>>> from chainrule.autograd import grad, list as ag_list
>>> grad(lambda x: ag_list((x[0], 2 * x[1]))[1])([1.0, 3.0])
[np.float64(0.0), np.float64(2.0)]
"""

import builtins as _builtins
from typing import Any

from ._box import raw as _raw

tuple = _builtins.tuple  # noqa: A001
list = _builtins.list  # noqa: A001
dict = _builtins.dict  # noqa: A001


def isinstance(value: Any, types: Any) -> bool:  # noqa: A001
    """``isinstance`` of the value behind a traced array."""
    return _builtins.isinstance(_raw(value), types)


def type(value: Any) -> Any:  # noqa: A001
    """The type of the value behind a traced array."""
    return _builtins.type(_raw(value))
