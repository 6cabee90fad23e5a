"""The op table: primitives by family, and composites built from them.

Functions here are *polymorphic*: given raw arrays they compute raw arrays (this is what the
fast first-order backward path runs), given tensors they record. The public ``chainrule.*``
functions wrap them so that they always return tensors.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .elementwise import *  # noqa: F403
from .elementwise import absolute, add, multiply, subtract, true_divide
from .index import getitem, scatter_add, setitem  # noqa: F401
from .linalg import *  # noqa: F403
from .primitive import REGISTRY, Primitive, primitive  # noqa: F401
from .reduce import *  # noqa: F403
from .reduce import amax, amin
from .shape import *  # noqa: F403

max = amax  # noqa: A001
min = amin  # noqa: A001
abs = absolute  # noqa: A001
divide = true_divide
pow = None  # set below  # noqa: A001


def stop_gradient(x):
    """The same values with no history and no tangents: gradients stop here."""
    return x.detach() if isinstance(x, Tensor) else x


def raw(x):
    """The array behind a tensor (or the value itself)."""
    return x._array if isinstance(x, Tensor) else x


pow = power  # noqa: A001, F405

# ufuncs that NumPy hands to Tensor.__array_ufunc__ (``np.sin(t)``, ``array * t``)
_UFUNCS = {
    name: prim
    for name, prim in REGISTRY.items()
    if isinstance(getattr(np, name, None), np.ufunc)
}
_UFUNCS.update({"divide": true_divide, "absolute": absolute, "add": add,
                "multiply": multiply, "subtract": subtract, "maximum": maximum,  # noqa: F405
                "minimum": minimum})  # noqa: F405

__all__ = [name for name in dir() if not name.startswith("_")] + ["_UFUNCS"]
