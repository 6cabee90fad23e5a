"""Optional dependencies of the teaching tools: a missing one is named with its install line.

``import chainrule`` needs only NumPy; drawing a plot, or a graph as PNG or PDF without
Graphviz, needs matplotlib, the ``plot`` extra. Without it those calls raise
:class:`MissingExtraError`, an ``ImportError`` whose one-line message says what needs it and
the command that installs it (``pip install 'chainrule[plot]'``), instead of a bare
``ModuleNotFoundError`` from deep inside.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PLOT_INSTALL = "pip install 'chainrule[plot]'"


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


def matplotlib(what: str, alternative: str = "") -> ModuleType:
    """matplotlib, imported for ``what``; :class:`MissingExtraError` when it is not installed
    (its message ends with ``alternative``, another way to the same end, when there is one).

    A matplotlib that is installed but broken (one of its own dependencies missing) raises
    its own error: that is not fixed by installing the extra.
    """
    try:
        return importlib.import_module("matplotlib")
    except ModuleNotFoundError as error:
        if error.name != "matplotlib":
            raise
        raise MissingExtraError(
            f"{what} needs matplotlib, which is not installed: {PLOT_INSTALL}"
            + (f" ({alternative})" if alternative else ""),
            name="matplotlib",
        ) from None
