"""Drawing the graph autograd recorded: ``cr.graph(y)``.

:func:`~chainrule.viz.trace.trace` lists the graph's vertices; :class:`Graph` shows them as
Graphviz text, or renders them with Graphviz's ``dot`` when it is on the PATH and otherwise with
the pure-Python layout of :mod:`chainrule.viz.layout`.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import extras
from .layout import (
    CONSTANT_TEXT,
    EDGE,
    INPUT_FILL,
    INPUT_LINE,
    OP_FILL,
    ROOT_FILL,
    argument_label,
    layout,
    matplotlib_figure,
    svg_document,
)
from .program import Program, program_vertices
from .steps import backward_steps, html_document, html_fragment
from .trace import Vertex, adjoints, call_text, format_value, trace

SAVE_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv", ".html")
# A big graph drawn through matplotlib is written at a lower resolution: a 135-operation graph
# is 100 inches wide, 15,000 pixels at 150 dpi (4.5 s and 190 MB to write).
PNG_MAX_WIDTH = 8000


class Graph:
    """The recorded graph of a tensor, ready to draw.

    ``dot()`` gives Graphviz text, ``svg()`` an SVG document, ``save(path)`` writes ``.svg``,
    ``.png``, ``.pdf``, ``.dot`` or ``.html`` (the backward pass step by step, ``html()``); in
    Jupyter it displays itself (step by step when made with ``step=True``). Each operation
    names its operands in argument order, ``true_divide(1, v0)``, and the edges into an
    operation of several operands say which argument they feed.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> g = cr.graph(cr.log(x ** 2) * cr.sin(x) + 1 / x)
    >>> [v.name for v in g.vertices if v.kind == "op"]
    ['power', 'log', 'sin', 'multiply', 'true_divide', 'add']
    >>> g.svg().startswith("<svg") or g.svg().startswith("<?xml")
    True
    """

    def __init__(
        self, root: Tensor | None, vertices: list[Vertex], *, values: bool = True,
        grads: bool = False, engine: str = "auto", title: str | None = None,
        step: bool = False,
    ) -> None:
        self.root = root
        self.vertices = vertices
        # Values on every vertex or on none: after backward() has freed what the graph saved,
        # some can no longer be known, and a drawing with a few of them would mislead.
        known = all(v.value is not None for v in vertices)
        self.show_values = values and known
        self.show_grads = grads
        self.engine = engine
        if values and not known:
            note = ("values not shown: backward() freed what the graph saved (draw it "
                    "before, or pass retain_graph=True)")
            title = f"{title} ({note})" if title else note
        self.title = title
        self._by_key = {v.key: v for v in vertices}
        self.step = step

    def __repr__(self) -> str:
        ops = sum(v.kind == "op" for v in self.vertices)
        return f"<Graph: {ops} operations, {len(self.vertices)} vertices>"

    # ------------------------------------------------------------------ text
    def lines(self, vertex: Vertex) -> list[str]:
        """The lines shown in a vertex's box."""
        if vertex.kind == "constant":  # a number is its own value
            lines = [vertex.name]
            if vertex.shape:
                lines.append(f"shape {vertex.shape}")
                if self.show_values:
                    lines.append(f"value {format_value(vertex.value)}")
            return lines
        if vertex.kind == "op":  # its operands in argument order: 1 / x is not x / 1
            named = vertex.name.split(" = ")[0] + " = " if " = " in vertex.name else ""
            head = f"{vertex.label}: {named}{call_text(vertex, self._by_key)}"
        else:
            head = f"{vertex.label}: {vertex.name}"
        lines = [head, f"shape {vertex.shape}"]
        if self.show_values:
            lines.append(f"value {format_value(vertex.value)}")
        if self.show_grads:
            grad = vertex.grad
            if grad is None and vertex.tensor is not None and vertex.tensor.grad is not None:
                grad = vertex.tensor.grad._array  # after the user's backward
            if grad is not None:
                lines.append(f"grad {format_value(grad)}")
        return lines

    def op_fill(self, key: int) -> str:
        """The fill of an operation's box: the root (the last vertex) stands out."""
        return ROOT_FILL if self.vertices and key == self.vertices[-1].key else OP_FILL

    def arguments(self) -> list[tuple[int, int, int, int]]:
        """Each edge as (source key, target key, argument index, the target's operand count)."""
        return [(key, v.key, index, len(v.inputs))
                for v in self.vertices for index, key in enumerate(v.inputs)]

    def edges(self) -> list[tuple[int, int]]:
        return [(source, target) for source, target, _, _ in self.arguments()]

    def dot(self) -> str:
        """Graphviz DOT text (render with ``dot -Tsvg``)."""
        ids = {v.key: f"n{i}" for i, v in enumerate(self.vertices)}
        out = [
            "digraph chainrule {",
            '  rankdir=TB; nodesep=0.3; ranksep=0.4;',
            '  node [fontname="Helvetica", fontsize=11];',
            f'  edge [color="{EDGE}", arrowsize=0.7];',
        ]
        if self.title:
            out.append(f'  labelloc=t; label="{_dot_escape(self.title)}";')
        for vertex in self.vertices:
            label = "\\n".join(_dot_escape(line) for line in self.lines(vertex))
            if vertex.kind == "input":
                style = (f'shape=ellipse, style=filled, fillcolor="{INPUT_FILL}", '
                         f'color="{INPUT_LINE}"')
            elif vertex.kind == "constant":
                style = f'shape=plaintext, fontcolor="{CONSTANT_TEXT}"'
            else:
                style = f'shape=box, style="rounded,filled", fillcolor="{self.op_fill(vertex.key)}"'
            out.append(f'  {ids[vertex.key]} [label="{label}", {style}];')
        for source, target, index, count in self.arguments():
            label = argument_label(index, count)
            attributes = (f' [headlabel="{label}", labelfontsize=9, labeldistance=1.6, '
                          f'labelfontcolor="{EDGE}"]' if label else "")
            out.append(f"  {ids[source]} -> {ids[target]}{attributes};")
        out.append("}")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------------ rendering
    def _use_dot(self) -> bool:
        if self.engine == "dot":
            if shutil.which("dot") is None:
                raise RuntimeError("engine='dot' but Graphviz's dot program is not installed")
            return True
        if self.engine not in ("auto", "python"):
            raise ValueError(f"engine must be 'auto', 'dot' or 'python', not {self.engine!r}")
        return self.engine == "auto" and shutil.which("dot") is not None

    def _run_dot(self, fmt: str) -> bytes:
        options = ["-Gdpi=150"] if fmt == "png" else []
        result = subprocess.run(
            ["dot", f"-T{fmt}", *options], input=self.dot().encode(), capture_output=True,
            timeout=60, check=True,
        )
        return result.stdout

    def svg(self) -> str:
        """An SVG document of the graph."""
        if self._use_dot():
            return self._run_dot("svg").decode()
        return svg_document(self, layout(self))

    def _repr_svg_(self) -> str:
        return self.svg()

    # ------------------------------------------------------------------ backward, step by step
    def steps(self) -> list:
        """The backward pass as steps (:class:`~chainrule.viz.steps.Step`): the seed, then one
        per operation in reverse evaluation order, each with the shares it hands its inputs."""
        return backward_steps(self)

    def html(self) -> str:
        """A self-contained HTML page that steps through the backward pass node by node (inline
        SVG and a little JavaScript, nothing fetched); ``save("backward.html")`` writes it."""
        return html_document(self)

    def _repr_html_(self) -> str | None:
        """In a notebook, ``cr.graph(y, step=True)`` shows the step-by-step view."""
        return html_fragment(self) if self.step else None

    def check_save(self, path: str | Path) -> str:
        """The format ``save(path)`` would write; raise now if it cannot (an unknown suffix, or
        PNG/PDF with neither Graphviz nor matplotlib), before any work is done."""
        suffix = Path(path).suffix.lower()
        if suffix not in SAVE_SUFFIXES:
            raise ValueError(f"cannot save a graph as {suffix or 'a file without suffix'!r}; "
                             f"use one of {' '.join(SAVE_SUFFIXES)}")
        if suffix in (".png", ".pdf") and not self._use_dot():
            extras.matplotlib(f"saving a graph as {suffix} without Graphviz",
                              "or install Graphviz, or save it as .svg, which needs neither")
        return suffix

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path``; the suffix picks the format (svg, png, pdf, dot/gv).

        PNG and PDF are drawn by Graphviz's ``dot`` when it is installed, else by matplotlib
        (``pip install 'chainrule[plot]'``); SVG and DOT need neither. An ``.html`` file is the
        step-by-step view of the backward pass (see :meth:`html`).
        """
        path = Path(path)
        suffix = self.check_save(path)
        if suffix == ".html":
            path.write_text(self.html(), encoding="utf-8")
        elif suffix in (".dot", ".gv"):
            path.write_text(self.dot())
        elif suffix == ".svg":
            path.write_text(self.svg())
        elif suffix in (".png", ".pdf"):
            if self._use_dot():
                path.write_bytes(self._run_dot(suffix[1:]))
            else:
                figure = matplotlib_figure(self, layout(self))
                dpi = None
                if suffix == ".png":  # 150 dpi, but no wider than PNG_MAX_WIDTH pixels
                    dpi = min(150.0, PNG_MAX_WIDTH / figure.get_figwidth())
                figure.savefig(path, dpi=dpi)
        return path


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _float_array(value: Any) -> np.ndarray:
    """A number or array as float64, or complex128 if it is complex (never cast to real)."""
    array = np.asarray(value)
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)


def _called(function: Any, args: tuple, names: dict | None) -> tuple[Any, dict]:
    """``function`` called on ``args`` as float tensors that require grad, and the names of
    those inputs (the function's parameters')."""
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        parameters = []
    tensors = [
        a if isinstance(a, Tensor) else Tensor(_float_array(a), requires_grad=True)
        for a in args
    ]
    names = dict(names or {})
    for position, tensor in enumerate(tensors):
        name = parameters[position] if position < len(parameters) else f"x{position}"
        names.setdefault(name, tensor)
    return function(*tensors), names


def _program_graph(program: Program, backward: bool, engine: str, title: str | None) -> Graph:
    """The graph of a ``cr.jit`` program (viz/program.py), which has no values to show."""
    if backward:
        raise ValueError("a cr.jit program has no backward pass of its own to show: draw the "
                         "graph of the eager call for grads or step=True")
    return Graph(None, program_vertices(program), values=False, engine=engine,
                 title=title or program.label)


def graph(
    y: Any, *args: Any, names: dict[str, Tensor] | None = None, values: bool = True,
    grads: bool | None = None, engine: str = "auto", title: str | None = None,
    step: bool = False,
) -> Graph:
    """The graph recorded for ``y``, to draw (``.svg()``, ``.save(path)``, Jupyter display).

    ``y`` is a tensor computed from inputs that require grad, or a function, called on ``args``
    (numbers or arrays become float64, or complex128, tensors that require grad, named after
    the function's parameters). Vertices show the operation, the shape, the value
    (``values=True``) and, with ``grads=True`` (the default for a function), the gradient
    d y / d vertex of every vertex, computed by one extra backward pass that keeps the graph
    and writes no ``.grad``. Without it, inputs show their ``.grad`` once you have run
    ``backward`` yourself.

    Inputs are named by ``names`` (``{"x": x}``), else by the caller's variables.

    ``y`` may be a ``cr.jit`` program (``cr.jit(f).trace(*args)``): one operation per call.

    ``step=True`` shows, in a notebook, the backward pass node by node (buttons or arrow
    keys): the seed, then each operation in reverse order handing its inputs their shares, a
    value used twice receiving two that add up. ``.save("backward.html")`` writes the same view
    as a self-contained page, for any graph. Call it before ``backward()`` (which frees the
    graph), or use ``backward(retain_graph=True)``.

    >>> import chainrule as cr
    >>> g = cr.graph(lambda x: cr.log(x ** 2) * cr.sin(x) + 1 / x, 2.0)
    >>> print(g.lines(g.vertices[0]))
    ['v0: x', 'shape ()', 'value 2', 'grad 0.0824']
    """
    if isinstance(y, Program):
        return _program_graph(y, step or bool(grads), engine, title)
    if callable(y) and not isinstance(y, Tensor):
        function = y
        y, names = _called(function, args, names)
        grads = True if grads is None else grads
        if title is None:
            title = getattr(function, "__name__", None)
            title = None if title == "<lambda>" else title
    elif args:
        raise TypeError("cr.graph(y) takes one tensor; pass a function to give it inputs")
    if not isinstance(y, Tensor):
        raise TypeError(f"cr.graph needs a tensor or a function, got {type(y).__name__}")
    if not y._requires_grad:
        raise ValueError(
            "this tensor has no recorded graph: compute it from inputs created with "
            "requires_grad=True (or attach_grad()) outside no_grad()"
        )
    if names is None:
        caller = sys._getframe(1)
        names = {k: v for k, v in caller.f_locals.items() if isinstance(v, Tensor)}
    vertices = trace(y, names)
    shown = False
    if grads:
        shown = adjoints(y, vertices)
    drawn = Graph(y, vertices, values=values, grads=bool(grads) or shown, engine=engine,
                  title=title, step=step)
    if step:
        drawn.steps()  # refused now (freed graph, non-scalar output), not when displayed
    return drawn
