"""Drawing a graph without Graphviz: a small pure-Python layered layout (layers by longest
path from the inputs, barycentre ordering, dummy points for long edges), written as SVG
directly or drawn with matplotlib for PNG and PDF.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from . import extras

if TYPE_CHECKING:
    from .graph import Graph


# One palette for the three renderers (Graphviz, the SVG writer, matplotlib).
INPUT_FILL, INPUT_LINE = "#dbeafe", "#1d4ed8"
OP_FILL, ROOT_FILL, OP_LINE = "#f3f4f6", "#fde68a", "#374151"
TEXT, CONSTANT_TEXT, EDGE = "#111827", "#6b7280", "#555555"

FONT = 12.0
CHAR = 0.62 * FONT  # average glyph width of the monospace font
LINE = 1.35 * FONT
LABEL_FONT = 0.8 * FONT  # the argument labels on edges
PAD_X, PAD_Y, GAP_X, GAP_Y, MARGIN = 10.0, 7.0, 26.0, 40.0, 16.0


def argument_label(index: int, count: int) -> str:
    """The label of the edge into argument ``index`` of an operation of ``count`` operands:
    which operand is which matters (1 / x is not x / 1), so every multi-operand edge says."""
    return f"arg {index}" if count > 1 else ""


@dataclass
class Layout:
    boxes: dict  # key -> (cx, cy, width, height, lines)
    routes: list  # (source key, target key, [(x, y), ...], label) from source bottom to target top
    width: float
    height: float


def layout(graph: Graph) -> Layout:
    """Place the vertices in layers (longest path from the inputs) and route the edges."""
    layer = _layers(graph)
    rows, chains, up, down = _rows_and_chains(graph, layer)
    sizes = _sizes(graph, rows)
    _order_rows(rows, up, down)
    x = _x_coordinates(rows, sizes, up, down)
    top = MARGIN + (LINE + 6 if graph.title else 0)
    y, bottom = _y_coordinates(rows, sizes, top)
    boxes = {
        key: (x[key], y[key], sizes[key][0], sizes[key][1], sizes[key][2])
        for key in sizes if not isinstance(key, tuple)
    }
    routes = []
    for (source, target, chain), (_, _, index, count) in zip(
            chains, graph.arguments(), strict=True):
        points = [(x[source], y[source] + sizes[source][1] / 2)]
        points += [(x[item], y[item]) for item in chain[1:-1]]
        # An operation's operands arrive left to right in argument order, each labelled.
        slot = min(sizes[target][0] / count, 10 * CHAR) * (index - (count - 1) / 2)
        points.append((x[target] + slot, y[target] - sizes[target][1] / 2))
        routes.append((source, target, points, argument_label(index, count)))
    width = max((x[k] + sizes[k][0] / 2 for k in x), default=0.0) + MARGIN
    if graph.title:
        width = max(width, len(graph.title) * CHAR + 2 * MARGIN)
    return Layout(boxes, routes, width, bottom - GAP_Y + MARGIN)


def _layers(graph: Graph) -> dict[Any, int]:
    """Each vertex's layer: an operation's is one more than its deepest input's; inputs and
    constants sit just above their first consumer."""
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
    for vertex in vertices:
        if vertex.kind != "op" and consumers[vertex.key]:
            layer[vertex.key] = max(min(layer[k] for k in consumers[vertex.key]) - 1, 0)
    return layer


def _rows_and_chains(graph: Graph, layer: dict[Any, int]) -> tuple[dict, list, dict, dict]:
    """The items of each layer, and each edge as a chain of items: a long edge gets one dummy
    point per layer it crosses (added to ``layer``); ``up`` and ``down`` link neighbouring
    items of a chain."""
    chains = []
    rows: dict[int, list] = {}
    for vertex in graph.vertices:
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
    return rows, chains, up, down


def _sizes(graph: Graph, rows: dict[int, list]) -> dict[Any, tuple]:
    """Each item's (width, height, lines): a vertex's box fits its text; a dummy is thin."""
    sizes = {}
    for vertex in graph.vertices:
        lines = graph.lines(vertex)
        width = max(len(line) for line in lines) * CHAR + 2 * PAD_X
        height = len(lines) * LINE + 2 * PAD_Y
        if vertex.kind == "input":
            width, height = width * 1.2, height * 1.1
        sizes[vertex.key] = (width, height, lines)
    for depth in range(_depth_count(rows)):
        for item in rows.get(depth, []):
            if item not in sizes:
                sizes[item] = (2.0, LINE, [])
    return sizes


def _depth_count(rows: dict[int, list]) -> int:
    return max(rows) + 1 if rows else 0


def _order_rows(rows: dict[int, list], up: dict, down: dict) -> None:
    """Order the items within each layer by barycentre sweeps, starting from evaluation
    order, alternately downward (by the items above) and upward (by the items below)."""
    depth_count = _depth_count(rows)
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


def _x_coordinates(rows: dict[int, list], sizes: dict, up: dict, down: dict) -> dict:
    """Horizontal centres: each item pulled toward its neighbours, keeping the gaps."""
    depth_count = _depth_count(rows)
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
            _place_row(row, wanted, sizes, x)
    left = min(x[item] - sizes[item][0] / 2 for item in x) if x else 0.0
    for item in x:
        x[item] += MARGIN - left
    return x


def _place_row(row: list, wanted: list[float], sizes: dict, x: dict) -> None:
    """Place ``row`` as near its ``wanted`` centres as its gaps allow, shifted so that the
    displacements average to zero."""
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


def _y_coordinates(rows: dict[int, list], sizes: dict, top: float) -> tuple[dict, float]:
    """Vertical centres, one per layer from ``top`` down; and where the next layer would
    start."""
    y: dict[Any, float] = {}
    for depth in range(_depth_count(rows)):
        height = max(sizes[item][1] for item in rows[depth])
        for item in rows[depth]:
            y[item] = top + height / 2
        top += height + GAP_Y
    return y, top


def _path(points: list[tuple[float, float]]) -> str:
    """A smooth SVG path through ``points`` (vertical tangents at every point)."""
    (x0, y0) = points[0]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for (xa, ya), (xb, yb) in pairwise(points):
        middle = (ya + yb) / 2
        parts.append(f"C{xa:.1f},{middle:.1f} {xb:.1f},{middle:.1f} {xb:.1f},{yb:.1f}")
    return " ".join(parts)


def svg_document(graph: Graph, plan: Layout) -> str:
    """The drawing as SVG. Each vertex is a ``<g class="vertex" data-i="...">`` (its index in
    ``graph.vertices``), each edge a ``<path class="edge" data-source data-target>`` and a
    gradient line a ``<text class="grad">``: the step-by-step view of backward drives them."""
    index = {v.key: i for i, v in enumerate(graph.vertices)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{plan.width:.0f}" '
        f'height="{plan.height:.0f}" viewBox="0 0 {plan.width:.1f} {plan.height:.1f}" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{EDGE}"/></marker></defs>',
        f'<rect width="{plan.width:.1f}" height="{plan.height:.1f}" fill="white"/>',
    ]
    if graph.title:
        out.append(
            f'<text x="{plan.width / 2:.1f}" y="{MARGIN + FONT:.1f}" text-anchor="middle" '
            f'font-weight="bold">{html.escape(graph.title)}</text>'
        )
    for source, target, points, label in plan.routes:
        out.append(
            f'<path class="edge" data-source="{index[source]}" data-target="{index[target]}" '
            f'd="{_path(points)}" fill="none" stroke="{EDGE}" stroke-width="1.2" '
            'marker-end="url(#arrow)"/>'
        )
        if label:
            (x, y) = points[-1]
            out.append(f'<text class="arg" x="{x + 3:.1f}" y="{y - 5:.1f}" '
                       f'font-size="{LABEL_FONT:.0f}" fill="{EDGE}">{label}</text>')
    kinds = {v.key: v.kind for v in graph.vertices}
    for key, box in plan.boxes.items():
        out.append(f'<g class="vertex" data-i="{index[key]}">')
        out += _svg_vertex(graph, key, kinds[key], box)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_vertex(graph: Graph, key: int, kind: str, box: tuple) -> list[str]:
    cx, cy, width, height, lines = box
    left, top = cx - width / 2, cy - height / 2
    out = []
    if kind == "input":
        out.append(
            f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{width / 2:.1f}" '
            f'ry="{height / 2:.1f}" fill="{INPUT_FILL}" stroke="{INPUT_LINE}"/>'
        )
    elif kind == "op":
        out.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'rx="6" fill="{graph.op_fill(key)}" stroke="{OP_LINE}"/>'
        )
    colour = CONSTANT_TEXT if kind == "constant" else TEXT
    first = cy - (len(lines) - 1) * LINE / 2 + FONT * 0.35
    for i, line in enumerate(lines):
        weight = ' font-weight="bold"' if i == 0 and kind != "constant" else ""
        role = ' class="grad"' if line.startswith("grad ") else ""
        out.append(
            f'<text{role} x="{cx:.1f}" y="{first + i * LINE:.1f}" text-anchor="middle" '
            f'fill="{colour}"{weight}>{html.escape(line)}</text>'
        )
    return out


def matplotlib_figure(graph: Graph, plan: Layout) -> Any:
    """The same drawing with matplotlib (for PNG and PDF without Graphviz)."""
    extras.matplotlib("drawing a graph as PNG or PDF without Graphviz",
                      "or install Graphviz, or save it as .svg, which needs neither")
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
    for _source, _target, points, label in plan.routes:
        if label:
            ax.text(points[-1][0] + 3, points[-1][1] - 5, label, ha="left", va="bottom",
                    color=EDGE, family="monospace", size=LABEL_FONT * points_per_pixel)
        vertices = [points[0]]
        codes = [MplPath.MOVETO]
        for (xa, ya), (xb, yb) in pairwise(points):
            middle = (ya + yb) / 2
            vertices += [(xa, middle), (xb, middle), (xb, yb)]
            codes += [MplPath.CURVE4] * 3
        ax.add_patch(FancyArrowPatch(
            path=MplPath(vertices, codes), arrowstyle="-|>", mutation_scale=10,
            color=EDGE, linewidth=1.0,
        ))
    for key, (cx, cy, width, height, lines) in plan.boxes.items():
        kind = kinds[key]
        if kind == "input":
            ax.add_patch(Ellipse((cx, cy), width, height, facecolor=INPUT_FILL,
                                 edgecolor=INPUT_LINE))
        elif kind == "op":
            ax.add_patch(FancyBboxPatch(
                (cx - width / 2, cy - height / 2), width, height,
                boxstyle="round,pad=0,rounding_size=6", facecolor=graph.op_fill(key),
                edgecolor=OP_LINE,
            ))
        colour = CONSTANT_TEXT if kind == "constant" else TEXT
        first = cy - (len(lines) - 1) * LINE / 2
        for i, line in enumerate(lines):
            weight = "bold" if i == 0 and kind != "constant" else "normal"
            ax.text(cx, first + i * LINE, line, ha="center", va="center", color=colour,
                    fontweight=weight, **font)
    return figure

