"""Generated code that can be read and debugged like the rest.

chainrule compiles a few functions from source text it writes itself (each primitive's
``apply``, its rules' calls, the constructors of nodes and tensors), because straight-line code
specialised once costs less per call than code that re-decides the same things every time. Each
gets a file name of its own, ``<chainrule generated: sin.apply>``, under which its source is
registered with :mod:`linecache`: tracebacks and ``pdb`` show its lines, and
``inspect.getsource`` returns it.

This module imports nothing of chainrule.
"""

from __future__ import annotations

import linecache
import string
from collections.abc import Callable
from typing import Any


def compile_function(source: str, namespace: dict[str, Any], label: str) -> Callable:
    """The one function that ``source`` defines, with ``namespace`` as its globals, compiled
    under the file name ``<chainrule generated: {label}>``."""
    filename = f"<chainrule generated: {label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - chainrule's own templates
    name = source[len("def "):source.index("(")]
    return namespace.pop(name)


def assignments(target: str, fields: dict[str, str], values: dict[str, str]) -> list[str]:
    """``target.field = value`` for each field of a declaration, whose values are expressions
    with ``{name}`` placeholders filled in from ``values`` (a missing one raises KeyError)."""
    return [f"{target}.{field} = {value.format_map(values)}" for field, value in fields.items()]


def parameters(fields: dict[str, str], defaults: dict[str, str]) -> str:
    """A parameter list of the ``{name}`` placeholders of a declaration's values, in order,
    each once, those in ``defaults`` with theirs: ``"prim, params, shapes=None"``."""
    names = [
        name for value in fields.values()
        for _, name, _, _ in string.Formatter().parse(value) if name
    ]
    return ", ".join(
        f"{name}={defaults[name]}" if name in defaults else name for name in dict.fromkeys(names)
    )


def constructor(
    signature: str, fields: dict[str, str], values: dict[str, str] | None,
    namespace: dict[str, Any], label: str, new: str | None = None,
) -> Callable:
    """``def {signature}`` setting every field of a declaration, each ``{name}`` filled in from
    ``values`` (None: the parameter of that name), on the object the expression ``new`` makes
    (then returned) or on ``self`` (for an ``__init__``)."""
    target = "self" if new is None else "made"
    lines = [] if new is None else [f"made = {new}"]
    lines += assignments(target, fields, values or _OwnName())
    if new is not None:
        lines.append("return made")
    source = f"def {signature}:\n" + "".join(f"    {line}\n" for line in lines)
    return compile_function(source, namespace, label)


class _OwnName(dict):
    """``{name}`` filled in with ``name`` itself."""

    def __missing__(self, name: str) -> str:
        return name
