"""Drawing the graph autograd recorded: ``cr.graph(y)``.

A tensor's ``grad_fn`` is the last :class:`~chainrule.node.Node` of the computation; its
``parents`` lead back to the leaves. :func:`trace` walks that graph once (iteratively) and lists
its vertices in evaluation order, the order the forward pass ran them: inputs, constants and
operations, each with its shape and, where the graph still knows it, its value. Nodes do not keep
their outputs (no reference cycles, see the engine), so values are gathered from what the graph
saved for backward (inputs and outputs the rules read), the root itself, and, failing that,
recomputed from the inputs by the primitive's NumPy forward.

Rendering uses Graphviz's ``dot`` when it is on the PATH; otherwise a small pure-Python layered
layout (layers by longest path from the inputs, barycentre ordering, dummy points for long
edges) is written as SVG directly, or drawn with matplotlib for PNG and PDF.
"""

from __future__ import annotations

import html
import inspect
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from ..node import Node
from ..tensor import Tensor

_SYMBOLS = {
    "add": "+", "subtract": "−", "multiply": "×", "true_divide": "÷", "power": "**",
    "negative": "−x", "matmul": "@", "dot": "·",
}


# One palette for the three renderers (Graphviz, the SVG writer, matplotlib).
_INPUT_FILL, _INPUT_LINE = "#dbeafe", "#1d4ed8"
_OP_FILL, _ROOT_FILL, _OP_LINE = "#f3f4f6", "#fde68a", "#374151"
_TEXT, _CONSTANT_TEXT, _EDGE = "#111827", "#6b7280", "#555555"


@dataclass(eq=False)
class Vertex:
    """One vertex of a traced graph: an input, a constant or an operation."""

    key: int
    kind: str  # "input", "constant" or "op"
    name: str
    shape: tuple | None  # None: a constant whose shape was not recorded
    inputs: list = field(default_factory=list)  # keys of the vertices this one reads
    value: Any = None
    grad: Any = None  # d(root)/d(this vertex), when known
    node: Any = None
    tensor: Any = None
    label: str = ""  # v0, v1, ... in evaluation order


def _raw(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value._array
    return value


def trace(root: Tensor, names: dict[str, Tensor] | None = None) -> list[Vertex]:
    """The vertices of the graph that produced ``root``, in evaluation order."""
    if not isinstance(root, Tensor):
        raise TypeError(f"cr.graph needs a tensor (or a function), got {type(root).__name__}")
    start = root._node if root._node is not None else root
    vertices: dict[int, Vertex] = {}
    order: list[Vertex] = []
    stack: list[tuple[Any, bool]] = [(start, False)]
    seen: set[int] = set()
    next_constant = -1  # constants get negative keys (they have no object of their own)
    while stack:
        obj, expanded = stack.pop()
        if expanded:
            if type(obj) is Node:
                inputs = []
                for index, parent in enumerate(obj.parents):
                    if parent is None:
                        saved = obj.saved[index] if obj.saved is not None else None
                        # a constant's shape is known where it was saved or recorded
                        if obj.shapes is not None:
                            shape = tuple(obj.shapes[index])
                        else:
                            shape = None if saved is None else np.shape(_raw(saved))
                        constant = Vertex(
                            next_constant, "constant", "constant", shape, value=_raw(saved)
                        )
                        next_constant -= 1
                        order.append(constant)
                        inputs.append(constant.key)
                    else:
                        inputs.append(id(parent))  # the key of its vertex, made already
                vertex = Vertex(
                    id(obj), "op", obj.prim.name, tuple(obj.ans_shape), inputs, node=obj,
                    value=_raw(obj.ans),
                )
            else:
                vertex = Vertex(id(obj), "input", "", tuple(obj.shape), value=obj._array,
                                tensor=obj)
            vertices[id(obj)] = vertex
            order.append(vertex)
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        stack.append((obj, True))
        if type(obj) is Node:
            for parent in reversed(obj.parents):
                if parent is not None and id(parent) not in seen:
                    stack.append((parent, False))

    by_key = {v.key: v for v in order}
    # Values the consumers saved for backward, and the root's own value.
    for vertex in order:
        node = vertex.node
        if node is None or node.saved is None:
            continue
        for key, saved in zip(vertex.inputs, node.saved, strict=True):
            if saved is not None and by_key[key].value is None:
                by_key[key].value = _raw(saved)
    by_key[id(start)].value = root._array
    # Whatever is still missing, recompute from the inputs (evaluation order: inputs first).
    for vertex in order:
        if vertex.value is None and vertex.kind == "op":
            values = [by_key[key].value for key in vertex.inputs]
            if all(v is not None for v in values):
                try:
                    with np.errstate(all="ignore"):
                        vertex.value = np.asarray(
                            vertex.node.prim.impl(*values, **vertex.node.params)
                        )
                except Exception:  # a primitive that needs more than its inputs: leave it
                    vertex.value = None
    _recover_constants(order, by_key)
    _name_vertices(order, names or {})
    numbered = (v for v in order if v.kind != "constant")
    for index, vertex in enumerate(numbered):
        vertex.label = f"v{index}"
    return order


# A constant the rules did not save (the 1 of 1 / x) is found from the output and the other
# input of the arithmetic that read it.
_INVERSES = {
    ("add", 0): lambda ans, other: ans - other, ("add", 1): lambda ans, other: ans - other,
    ("subtract", 0): lambda ans, other: ans + other,
    ("subtract", 1): lambda ans, other: other - ans,
    ("multiply", 0): lambda ans, other: ans / other,
    ("multiply", 1): lambda ans, other: ans / other,
    ("true_divide", 0): lambda ans, other: ans * other,
    ("true_divide", 1): lambda ans, other: other / ans,
}


def _recover_constants(order: list[Vertex], by_key: dict) -> None:
    for vertex in order:
        if vertex.kind != "op" or len(vertex.inputs) != 2 or vertex.value is None:
            continue
        for index, key in enumerate(vertex.inputs):
            constant = by_key[key]
            other = by_key[vertex.inputs[1 - index]].value
            inverse = _INVERSES.get((vertex.name, index))
            if constant.kind != "constant" or constant.value is not None or other is None:
                continue
            if inverse is None:
                continue
            with np.errstate(all="ignore"):
                value = np.asarray(inverse(np.asarray(vertex.value), np.asarray(other)))
            if value.shape != constant.shape:
                # A broadcast constant (or one of unknown shape): read as a scalar when all
                # its entries agree; an unknown shape is otherwise the recovered one.
                flat = value.ravel()
                if constant.shape not in ((), None) or value.size == 0:
                    continue
                if np.allclose(flat, flat[0], rtol=1e-9, atol=1e-12):
                    value = np.asarray(flat[0])
                elif constant.shape == ():
                    continue
                constant.shape = value.shape
            if np.all(np.isfinite(value)):
                rounded = np.round(value, 10)
                constant.value = rounded if np.allclose(rounded, value, rtol=1e-12) else value


def _name_vertices(order: list[Vertex], names: dict[str, Any]) -> None:
    by_tensor = {}
    by_node = {}
    for name, value in names.items():
        if isinstance(value, Tensor):
            if value._node is None:
                by_tensor.setdefault(id(value), name)
            else:
                by_node.setdefault(id(value._node), name)
    inputs = [v for v in order if v.kind == "input"]
    for position, vertex in enumerate(inputs):
        default = "x" if len(inputs) == 1 else f"x{position}"
        vertex.name = by_tensor.get(vertex.key, default)
    for vertex in order:
        if vertex.kind == "op" and vertex.key in by_node:
            vertex.name = f"{by_node[vertex.key]} = {vertex.name}"
        if vertex.kind == "constant" and vertex.value is not None and np.size(vertex.value) == 1:
            vertex.name = _number(np.asarray(vertex.value).item())


def _number(value: Any) -> str:
    if isinstance(value, complex):
        return f"{value:.4g}"
    value = float(value)
    if np.isfinite(value) and value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def format_value(value: Any) -> str:
    """A short text for a value: the number for a scalar, a few entries for a small array."""
    array = np.asarray(value)
    if array.size == 1:
        return f"{array.item():.4g}" if array.dtype.kind in "fc" else str(array.item())
    if array.size <= 4 and array.ndim == 1:
        return "[" + ", ".join(f"{v:.3g}" for v in array.tolist()) + "]"
    return f"mean {array.mean():.3g}, range [{array.min():.3g}, {array.max():.3g}]"


def _adjoints(root: Tensor, order: list[Vertex]) -> bool:
    """Fill ``vertex.grad`` with d(root)/d(vertex) by one extra backward pass.

    The graph is retained and no ``.grad`` is written; hooks the user registered are set aside
    for the pass. Returns False when this is not possible (freed graph, non-scalar root).
    """
    from ..engine import gradients

    if root._array.size != 1 or not root._rg:
        return False
    nodes = [v for v in order if v.node is not None]
    leaves = [v for v in order if v.kind == "input" and v.tensor._rg]
    if any(v.node.saved is None for v in nodes):
        return False
    saved_hooks = [(v.node, v.node.hooks) for v in nodes]

    def capture(vertex: Vertex) -> Callable:
        def hook(cotangent: Any) -> None:
            vertex.grad = np.array(_raw(cotangent))

        return hook

    try:
        for vertex in nodes:
            vertex.node.hooks = [capture(vertex)]
        grads = gradients(
            root, [v.tensor for v in leaves], retain_graph=True, allow_unused=True
        ) if leaves else ()
    except RuntimeError:
        return False
    finally:
        for node, hooks in saved_hooks:
            node.hooks = hooks
    for vertex, grad in zip(leaves, grads, strict=True):
        vertex.grad = None if grad is None else np.array(grad._array)
    return True


class Graph:
    """The recorded graph of a tensor, ready to draw.

    ``dot()`` gives Graphviz text, ``svg()`` an SVG document, ``save(path)`` writes ``.svg``,
    ``.png``, ``.pdf`` or ``.dot``; in Jupyter it displays itself.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> g = cr.graph(cr.log(x ** 2) * cr.sin(x) + 1 / x)
    >>> [v.name for v in g.vertices if v.kind == "op"]
    ['power', 'log', 'sin', 'multiply', 'true_divide', 'add']
    >>> g.svg().startswith("<svg") or g.svg().startswith("<?xml")
    True
    """

    def __init__(
        self, root: Tensor, vertices: list[Vertex], *, values: bool = True,
        grads: bool = False, engine: str = "auto", title: str | None = None,
    ) -> None:
        self.root = root
        self.vertices = vertices
        self.show_values = values
        self.show_grads = grads
        self.engine = engine
        self.title = title

    def __repr__(self) -> str:
        ops = sum(v.kind == "op" for v in self.vertices)
        return f"<Graph: {ops} operations, {len(self.vertices)} vertices>"

    # ------------------------------------------------------------------ text
    def lines(self, vertex: Vertex) -> list[str]:
        """The lines shown in a vertex's box."""
        if vertex.kind == "constant":
            lines = [vertex.name]
            if vertex.shape:
                lines.append(f"shape {vertex.shape}")
            return lines
        head = vertex.name
        if vertex.kind == "op" and vertex.name in _SYMBOLS:
            head = f"{vertex.name} ({_SYMBOLS[vertex.name]})"
        lines = [f"{vertex.label}: {head}", f"shape {vertex.shape}"]
        if self.show_values and vertex.value is not None:
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
        return _ROOT_FILL if self.vertices and key == self.vertices[-1].key else _OP_FILL

    def edges(self) -> list[tuple[int, int]]:
        return [(key, v.key) for v in self.vertices for key in v.inputs]

    def dot(self) -> str:
        """Graphviz DOT text (render with ``dot -Tsvg``)."""
        ids = {v.key: f"n{i}" for i, v in enumerate(self.vertices)}
        out = [
            "digraph chainrule {",
            '  rankdir=TB; nodesep=0.3; ranksep=0.4;',
            '  node [fontname="Helvetica", fontsize=11];',
            f'  edge [color="{_EDGE}", arrowsize=0.7];',
        ]
        if self.title:
            out.append(f'  labelloc=t; label="{_dot_escape(self.title)}";')
        for vertex in self.vertices:
            label = "\\n".join(_dot_escape(line) for line in self.lines(vertex))
            if vertex.kind == "input":
                style = (f'shape=ellipse, style=filled, fillcolor="{_INPUT_FILL}", '
                         f'color="{_INPUT_LINE}"')
            elif vertex.kind == "constant":
                style = f'shape=plaintext, fontcolor="{_CONSTANT_TEXT}"'
            else:
                style = f'shape=box, style="rounded,filled", fillcolor="{self.op_fill(vertex.key)}"'
            out.append(f'  {ids[vertex.key]} [label="{label}", {style}];')
        for source, target in self.edges():
            out.append(f"  {ids[source]} -> {ids[target]};")
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
        return _svg(self, layout(self))

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path``; the suffix picks the format (svg, png, pdf, dot/gv)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".dot", ".gv"):
            path.write_text(self.dot())
        elif suffix == ".svg":
            path.write_text(self.svg())
        elif suffix in (".png", ".pdf"):
            if self._use_dot():
                path.write_bytes(self._run_dot(suffix[1:]))
            else:
                figure = _figure(self, layout(self))
                dpi = None
                if suffix == ".png":  # 150 dpi, but no wider than PNG_MAX_WIDTH pixels
                    dpi = min(150.0, PNG_MAX_WIDTH / figure.get_figwidth())
                figure.savefig(path, dpi=dpi)
        else:
            raise ValueError(f"cannot save a graph as {suffix or 'a file without suffix'!r}; "
                             "use .svg, .png, .pdf or .dot")
        return path


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------------- pure-Python layout
# A big graph drawn through matplotlib is written at a lower resolution: a 135-operation graph
# is 100 inches wide, 15,000 pixels at 150 dpi (4.5 s and 190 MB to write).
PNG_MAX_WIDTH = 8000
FONT = 12.0
CHAR = 0.62 * FONT  # average glyph width of the monospace font
LINE = 1.35 * FONT
PAD_X, PAD_Y, GAP_X, GAP_Y, MARGIN = 10.0, 7.0, 26.0, 34.0, 16.0


@dataclass
class Layout:
    boxes: dict  # key -> (cx, cy, width, height, lines)
    routes: list  # (source key, target key, [(x, y), ...]) from source bottom to target top
    width: float
    height: float


def layout(graph: Graph) -> Layout:
    """Place the vertices in layers (longest path from the inputs) and route the edges."""
    vertices = graph.vertices
    by_key = {v.key: v for v in vertices}
    consumers: dict[int, list[int]] = {v.key: [] for v in vertices}
    for source, target in graph.edges():
        consumers[source].append(target)
    layer: dict[Any, int] = {}
    for vertex in vertices:  # evaluation order: inputs come first
        if vertex.kind == "op":
            layer[vertex.key] = 1 + max(
                (layer[k] for k in vertex.inputs if by_key[k].kind != "constant"), default=0
            )
        else:
            layer[vertex.key] = 0
    for vertex in vertices:  # inputs and constants sit just above their first consumer
        if vertex.kind != "op" and consumers[vertex.key]:
            layer[vertex.key] = max(min(layer[k] for k in consumers[vertex.key]) - 1, 0)
    # Long edges get one dummy point per layer they cross.
    chains = []
    rows: dict[int, list] = {}
    for vertex in vertices:
        rows.setdefault(layer[vertex.key], []).append(vertex.key)
    up: dict[Any, list] = {}
    down: dict[Any, list] = {}
    for source, target in graph.edges():
        chain = [source]
        for depth in range(layer[source] + 1, layer[target]):
            dummy = ("dummy", source, target, depth)
            rows.setdefault(depth, []).append(dummy)
            layer[dummy] = depth
            chain.append(dummy)
        chain.append(target)
        chains.append((source, target, chain))
        for a, b in pairwise(chain):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    sizes = {}
    for vertex in vertices:
        lines = graph.lines(vertex)
        width = max(len(line) for line in lines) * CHAR + 2 * PAD_X
        height = len(lines) * LINE + 2 * PAD_Y
        if vertex.kind == "input":
            width, height = width * 1.2, height * 1.1
        sizes[vertex.key] = (width, height, lines)
    depth_count = max(rows) + 1 if rows else 0
    for depth in range(depth_count):
        for item in rows.get(depth, []):
            if item not in sizes:
                sizes[item] = (2.0, LINE, [])

    # Order within layers: barycentre sweeps, starting from evaluation order.
    position = {item: i for depth in rows for i, item in enumerate(rows[depth])}
    for sweep in range(8):
        depths = range(1, depth_count) if sweep % 2 == 0 else range(depth_count - 2, -1, -1)
        neighbours = up if sweep % 2 == 0 else down
        for depth in depths:
            row = rows[depth]

            def centre(item: Any, neighbours: dict = neighbours) -> float:
                linked = neighbours.get(item, [])
                if not linked:
                    return float(position[item])
                return sum(position[n] for n in linked) / len(linked)

            row.sort(key=centre)
            for i, item in enumerate(row):
                position[item] = i

    # Horizontal coordinates: pull each item toward its neighbours, keep the gaps.
    x: dict[Any, float] = {}
    for depth in range(depth_count):
        cursor = 0.0
        for item in rows[depth]:
            width = sizes[item][0]
            x[item] = cursor + width / 2
            cursor += width + GAP_X
    for sweep in range(12):
        neighbours = up if sweep % 2 == 0 else down
        depths = range(depth_count) if sweep % 2 == 0 else range(depth_count - 1, -1, -1)
        for depth in depths:
            row = rows[depth]
            wanted = []
            for item in row:
                linked = neighbours.get(item, []) + (up.get(item, []) + down.get(item, [])
                                                     if sweep >= 8 else [])
                wanted.append(sum(x[n] for n in linked) / len(linked) if linked else x[item])
            placed = []
            for i, item in enumerate(row):
                value = wanted[i]
                if i:
                    previous = row[i - 1]
                    low = placed[-1] + (sizes[previous][0] + sizes[item][0]) / 2 + GAP_X
                    value = max(value, low)
                placed.append(value)
            shift = sum(w - p for w, p in zip(wanted, placed, strict=True)) / len(row)
            for item, value in zip(row, placed, strict=True):
                x[item] = value + shift
    left = min(x[item] - sizes[item][0] / 2 for item in x) if x else 0.0
    for item in x:
        x[item] += MARGIN - left
    y: dict[Any, float] = {}
    top = MARGIN + (LINE + 6 if graph.title else 0)
    for depth in range(depth_count):
        height = max(sizes[item][1] for item in rows[depth])
        for item in rows[depth]:
            y[item] = top + height / 2
        top += height + GAP_Y
    boxes = {
        key: (x[key], y[key], sizes[key][0], sizes[key][1], sizes[key][2])
        for key in sizes if not isinstance(key, tuple)
    }
    routes = []
    for source, target, chain in chains:
        points = [(x[source], y[source] + sizes[source][1] / 2)]
        points += [(x[item], y[item]) for item in chain[1:-1]]
        points.append((x[target], y[target] - sizes[target][1] / 2))
        routes.append((source, target, points))
    width = max((x[k] + sizes[k][0] / 2 for k in x), default=0.0) + MARGIN
    if graph.title:
        width = max(width, len(graph.title) * CHAR + 2 * MARGIN)
    return Layout(boxes, routes, width, top - GAP_Y + MARGIN)


def _path(points: list[tuple[float, float]]) -> str:
    """A smooth SVG path through ``points`` (vertical tangents at every point)."""
    (x0, y0) = points[0]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for (xa, ya), (xb, yb) in pairwise(points):
        middle = (ya + yb) / 2
        parts.append(f"C{xa:.1f},{middle:.1f} {xb:.1f},{middle:.1f} {xb:.1f},{yb:.1f}")
    return " ".join(parts)


def _svg(graph: Graph, plan: Layout) -> str:
    kinds = {v.key: v.kind for v in graph.vertices}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{plan.width:.0f}" '
        f'height="{plan.height:.0f}" viewBox="0 0 {plan.width:.1f} {plan.height:.1f}" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_EDGE}"/></marker></defs>',
        f'<rect width="{plan.width:.1f}" height="{plan.height:.1f}" fill="white"/>',
    ]
    if graph.title:
        out.append(
            f'<text x="{plan.width / 2:.1f}" y="{MARGIN + FONT:.1f}" text-anchor="middle" '
            f'font-weight="bold">{html.escape(graph.title)}</text>'
        )
    for _source, _target, points in plan.routes:
        out.append(
            f'<path d="{_path(points)}" fill="none" stroke="{_EDGE}" stroke-width="1.2" '
            'marker-end="url(#arrow)"/>'
        )
    for key, (cx, cy, width, height, lines) in plan.boxes.items():
        kind = kinds[key]
        left, top = cx - width / 2, cy - height / 2
        if kind == "input":
            out.append(
                f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{width / 2:.1f}" '
                f'ry="{height / 2:.1f}" fill="{_INPUT_FILL}" stroke="{_INPUT_LINE}"/>'
            )
        elif kind == "op":
            out.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'rx="6" fill="{graph.op_fill(key)}" stroke="{_OP_LINE}"/>'
            )
        colour = _CONSTANT_TEXT if kind == "constant" else _TEXT
        first = cy - (len(lines) - 1) * LINE / 2 + FONT * 0.35
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 and kind != "constant" else ""
            out.append(
                f'<text x="{cx:.1f}" y="{first + i * LINE:.1f}" text-anchor="middle" '
                f'fill="{colour}"{weight}>{html.escape(line)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _figure(graph: Graph, plan: Layout) -> Any:
    """The same drawing with matplotlib (for PNG and PDF without Graphviz)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MplPath

    kinds = {v.key: v.kind for v in graph.vertices}
    scale = 100.0  # layout pixels per inch
    figure = Figure(figsize=(plan.width / scale, plan.height / scale))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, plan.width)
    ax.set_ylim(plan.height, 0)
    ax.axis("off")
    points_per_pixel = 72.0 / scale
    font = {"family": "monospace", "size": FONT * points_per_pixel}
    if graph.title:
        ax.text(plan.width / 2, MARGIN + FONT * 0.5, graph.title, ha="center", va="center",
                fontweight="bold", **font)
    for _source, _target, points in plan.routes:
        vertices = [points[0]]
        codes = [MplPath.MOVETO]
        for (xa, ya), (xb, yb) in pairwise(points):
            middle = (ya + yb) / 2
            vertices += [(xa, middle), (xb, middle), (xb, yb)]
            codes += [MplPath.CURVE4] * 3
        ax.add_patch(FancyArrowPatch(
            path=MplPath(vertices, codes), arrowstyle="-|>", mutation_scale=10,
            color=_EDGE, linewidth=1.0,
        ))
    for key, (cx, cy, width, height, lines) in plan.boxes.items():
        kind = kinds[key]
        if kind == "input":
            ax.add_patch(Ellipse((cx, cy), width, height, facecolor=_INPUT_FILL,
                                 edgecolor=_INPUT_LINE))
        elif kind == "op":
            ax.add_patch(FancyBboxPatch(
                (cx - width / 2, cy - height / 2), width, height,
                boxstyle="round,pad=0,rounding_size=6", facecolor=graph.op_fill(key),
                edgecolor=_OP_LINE,
            ))
        colour = _CONSTANT_TEXT if kind == "constant" else _TEXT
        first = cy - (len(lines) - 1) * LINE / 2
        for i, line in enumerate(lines):
            weight = "bold" if i == 0 and kind != "constant" else "normal"
            ax.text(cx, first + i * LINE, line, ha="center", va="center", color=colour,
                    fontweight=weight, **font)
    return figure


# ---------------------------------------------------------------------- public function
def _float_array(value: Any) -> np.ndarray:
    """A number or array as float64, or complex128 if it is complex (never cast to real)."""
    array = np.asarray(value)
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)


def graph(
    y: Any, *args: Any, names: dict[str, Tensor] | None = None, values: bool = True,
    grads: bool | None = None, engine: str = "auto", title: str | None = None,
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

    >>> import chainrule as cr
    >>> g = cr.graph(lambda x: cr.log(x ** 2) * cr.sin(x) + 1 / x, 2.0)
    >>> print(g.lines(g.vertices[0]))
    ['v0: x', 'shape ()', 'value 2', 'grad 0.0824']
    """
    if callable(y) and not isinstance(y, Tensor):
        function = y
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
        y = function(*tensors)
        grads = True if grads is None else grads
        if title is None:
            title = getattr(function, "__name__", None)
            title = None if title == "<lambda>" else title
    elif args:
        raise TypeError("cr.graph(y) takes one tensor; pass a function to give it inputs")
    if not isinstance(y, Tensor):
        raise TypeError(f"cr.graph needs a tensor or a function, got {type(y).__name__}")
    if not y._rg:
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
        shown = _adjoints(y, vertices)
    return Graph(y, vertices, values=values, grads=bool(grads) or shown, engine=engine,
                 title=title)
