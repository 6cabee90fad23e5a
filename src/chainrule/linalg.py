"""``chainrule.linalg``: NumPy's ``numpy.linalg`` names, differentiable.

>>> import chainrule as cr
>>> cr.linalg.norm(cr.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

from typing import Any

from . import ops
from .api import _tensor
from .tensor import Tensor


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or Frobenius norm (see ``numpy.linalg.norm``).

    >>> import chainrule as cr
    >>> cr.linalg.norm(cr.ones((2, 2)))
    tensor(2.)
    """
    return ops.norm(_tensor(x), ord=ord, axis=axis, keepdims=keepdims)
