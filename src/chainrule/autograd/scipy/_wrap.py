"""How a SciPy module becomes the dialect's: the function of ``chainrule.scipy`` on traced
values and SciPy's own on plain ones (the dialect's ``numpy._wrap.dispatching``); a SciPy
function that ``chainrule.scipy`` lacks runs on plain values and refuses traced ones, where HIPS
would fail when differentiating it."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

from ..numpy._wrap import dispatching, traced_call


def _refusing(name: str, scipy_fn: Callable) -> Callable:
    @functools.wraps(scipy_fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        if traced_call(args, kwargs):
            raise NotImplementedError(
                f"{name} has no derivative in chainrule: call it on values that are not "
                "differentiated, or declare its rules with chainrule.autograd.extend")
        return scipy_fn(*args, **kwargs)

    return function


def namespace(scipy_namespace: Any, core: Any, names: Any = None) -> dict:
    """The dialect's version of SciPy's ``scipy_namespace`` (a module, or a distribution
    object such as ``scipy.stats.norm``): ``names`` (default: the module's public functions)
    dispatching to ``core``'s function of the same name, or refusing traced values."""
    if names is None:
        names = [n for n, v in vars(scipy_namespace).items()
                 if not n.startswith("_") and callable(v) and not isinstance(v, (type,
                                                                              types.ModuleType))]
    where = getattr(scipy_namespace, "__name__", None) or type(scipy_namespace).__name__
    result = {}
    for name in names:
        scipy_fn = getattr(scipy_namespace, name)
        core_fn = getattr(core, name, None)
        result[name] = (dispatching(core_fn, scipy_fn) if callable(core_fn)
                        else _refusing(f"{where}.{name}", scipy_fn))
    return result
