"""How a SciPy module becomes the dialect's, as a NumPy one does (``numpy._wrap``): the
function of ``chainrule.scipy`` on traced values and SciPy's own on plain ones; a SciPy function
that ``chainrule.scipy`` lacks runs on plain values and refuses traced ones."""

from __future__ import annotations

import types
from typing import Any

from ..numpy._wrap import dispatching, refusing


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
                        else refusing(f"{where}.{name}", scipy_fn))
    return result
