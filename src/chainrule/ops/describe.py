"""Signatures and docstrings for public functions made from primitives at import time.

``cr.sin`` is built by a factory (:func:`chainrule.api._elementwise`) around the primitive, and a
function built that way would show ``sin(*args, **params)`` to ``help()``, IDEs and the API
reference (Sphinx autodoc reads the live objects). The factory sets the attributes made here on
the function object it returns: no wrapper is added, so a call costs what it did.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

import numpy as np

# What the functions that NumPy lacks compute, in the words NumPy uses for its own.
_SUMMARIES = {
    "sigmoid": "The logistic sigmoid ``1 / (1 + exp(-x))``, element-wise (SciPy's ``expit``).",
    "relu": "The rectified linear unit ``maximum(x, 0)``, element-wise.",
}


def signature(prim: Any, name: str) -> inspect.Signature:
    """The call signature of a primitive's public function: its inputs, positional-only as NumPy's
    ufuncs take them, named as NumPy names them (``x1, x2``) where NumPy has the function."""
    names = numpy_inputs(name, len(prim.inputs)) or prim.inputs
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    return inspect.Signature(params, return_annotation="Tensor")


def numpy_inputs(name: str, count: int) -> list[str] | None:
    """The names of ``numpy.<name>``'s first ``count`` parameters, or None."""
    function = getattr(np, name, None)
    if function is None:
        return None
    if isinstance(function, np.ufunc):  # (its docstring's first line is the signature)
        names = (function.__doc__ or "").split("(", 1)[-1].split(")")[0].split(",")[:count]
    else:
        try:
            names = list(inspect.signature(function).parameters)[:count]
        except (TypeError, ValueError):
            return None
    names = [n.strip() for n in names]
    return names if len(names) == count and all(n.isidentifier() for n in names) else None


def numpy_summary(name: str) -> str | None:
    """The first sentence NumPy's docstring of ``numpy.<name>`` gives (after the signature line
    that ufuncs' docstrings start with), or None where NumPy has no such function."""
    doc = getattr(getattr(np, name, None), "__doc__", None)
    if not doc:
        return None
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        text = " ".join(paragraph.split())
        if text and not re.match(r"\w+\(", text):  # (a ufunc's own name may differ: divide)
            return text
    return None


def elementwise_doc(prim: Any, name: str) -> str:
    """The docstring of an elementwise public function: what it computes, its NumPy
    counterpart, broadcasting, and whether (and how far) it is differentiable."""
    summary = _SUMMARIES.get(name) or numpy_summary(name) or f"Element-wise ``{name}``."
    inputs = numpy_inputs(name, len(prim.inputs)) or prim.inputs
    parts = [summary]
    if name not in _SUMMARIES and hasattr(np, name):
        parts.append(f"The counterpart of ``numpy.{name}``: the same values and result dtype.")
    if len(inputs) == 1:
        parts.append(f"``{inputs[0]}`` may be a tensor, a NumPy array or a Python number; the "
                     "result is a :class:`~chainrule.Tensor`.")
    else:
        parts.append(" and ".join(f"``{n}``" for n in inputs) + " may be tensors, NumPy arrays "
                     "or Python numbers, broadcast against each other as NumPy broadcasts; the "
                     "result is a :class:`~chainrule.Tensor`.")
    if prim.differentiable:
        parts.append(
            "Differentiable in every floating input, in reverse and forward mode, to any order "
            "(its rules are written in chainrule's own ops)."
        )
    else:
        parts.append(
            f"Not differentiable (its values are piecewise constant or not floating): the result "
            f"is a tensor without history, as ``numpy.{name}`` gives a plain array."
        )
    return "\n\n".join(textwrap.fill(part, 88) for part in parts) + "\n"
