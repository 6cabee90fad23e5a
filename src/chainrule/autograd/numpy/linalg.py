"""``autograd.numpy.linalg``: NumPy's linear algebra, differentiable where the core's
``chainrule.linalg`` has the function (see ``_wrap``)."""

from typing import Any

import numpy as _onp
import numpy.linalg as _npla

from ... import api as _api
from ... import linalg as _core_linalg
from .._box import contains_tensor as _contains_tensor
from . import _wrap

globals().update(_wrap.namespace(_npla, _core_linalg))
_norm = globals().get("norm")


def T(x: Any) -> Any:  # noqa: N802 - HIPS's name
    """The transpose of the last two axes (HIPS's helper of its linalg module)."""
    return _api.swapaxes(x, -1, -2) if _contains_tensor(x) else _onp.swapaxes(x, -1, -2)


def _dot(a: Any, b: Any) -> Any:
    """Matrix products over the last two axes (HIPS's helper, which its tests use)."""
    return _api.matmul(a, b) if _contains_tensor([a, b]) else _onp.matmul(a, b)


def norm(x: Any, *args: Any, **kwargs: Any) -> Any:
    """``numpy.linalg.norm``; a list or tuple of traced values is stacked first, as in HIPS."""
    if isinstance(x, (list, tuple)) and _contains_tensor(x):
        x = _api.stack(list(x))
    return _norm(x, *args, **kwargs)
