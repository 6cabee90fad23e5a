"""``chainrule.scipy``: SciPy's functions on tensors, differentiable (JAX's ``jax.scipy``
layout: ``chainrule.scipy.special.gammaln``, ``chainrule.scipy.stats.norm.logpdf``).

SciPy is an optional dependency (``pip install chainrule[scipy]``): ``import chainrule`` never
imports it, and neither does this package until one of its submodules is used, which imports
that submodule (``chainrule.scipy.special`` on first access).
"""

from __future__ import annotations

import importlib
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
