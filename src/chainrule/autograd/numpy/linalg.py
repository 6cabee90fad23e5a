"""``autograd.numpy.linalg``: NumPy's linear algebra, differentiable where the core's
``chainrule.linalg`` has the function (see ``_wrap``)."""

from typing import Any

import numpy.linalg as _npla

from ... import api as _api
from ... import linalg as _core_linalg
from .._box import contains_tensor as _contains_tensor
from . import _wrap

globals().update(_wrap.namespace(_npla, _core_linalg))
_norm = globals().get("norm")


def norm(x: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.linalg.norm``; a list or tuple of traced values is stacked first, as in HIPS."""
    if isinstance(x, (list, tuple)) and _contains_tensor(x):
        x = _api.stack(list(x))
    return _norm(x, *args, **kwargs)
