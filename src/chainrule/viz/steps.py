"""The backward pass, node by node: the step-by-step view of ``cr.graph(y, step=True)``.

Reverse mode is easiest to follow one node at a time, as micrograd's and d2l's readers do by
hand: seed the output with gradient 1, then take the operations in reverse evaluation order (the
order chainrule's engine takes them); each runs its reverse rule on the gradient it has received
and hands each input a share. A value used more than once (x in log(x**2) * sin(x) + 1/x)
receives one share per use, and its gradient is their running sum: that is where gradients
accumulate, and why ``.grad`` is added to rather than overwritten.

:func:`backward_steps` computes the steps with the primitives' own reverse rules (the graph is
kept; no ``.grad`` is written). :func:`html_document` writes them as one self-contained HTML
file, the graph as inline SVG and a few lines of JavaScript to step through them (buttons or
arrow keys): nothing is fetched from the network.
"""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import pullback
from ..tensor import array_of
from .layout import layout, svg_document
from .trace import Vertex, call_text, format_value

if TYPE_CHECKING:
    from .graph import Graph


@dataclass
class Share:
    """What one step hands one input: ``share``, and the input's gradient before and after
    (``before`` is None the first time it receives one; otherwise the share accumulates)."""

    target: Vertex
    share: Any
    before: Any
    total: Any

    @property
    def accumulated(self) -> bool:
        return self.before is not None


@dataclass
class Step:
    """One step of the backward pass: ``vertex`` (the output for the seed, else an operation)
    runs its reverse rule on its gradient ``grad`` and hands out ``shares``."""

    vertex: Vertex
    grad: Any
    shares: list[Share] = field(default_factory=list)
    seed: bool = False


def backward_steps(graph: Graph) -> list[Step]:
    """The seed, then one step per operation in reverse evaluation order."""
    vertices = graph.vertices
    root = vertices[-1]
    if np.size(root.value) != 1:
        raise ValueError(f"the backward pass is shown from one number; the output has shape "
                         f"{root.shape}: draw y.sum() (what backward() with no argument "
                         "would need)")
    if any(v.node is not None and v.node.saved is None for v in vertices):
        raise RuntimeError("the step-by-step view re-runs the backward pass, but backward() has "
                           "freed this graph: draw it before backward, or call "
                           "backward(retain_graph=True)")
    by_key = {v.key: v for v in vertices}
    seed = np.ones(np.shape(root.value), dtype=np.asarray(root.value).dtype)
    totals: dict[int, Any] = {root.key: seed}
    steps = [Step(root, seed, seed=True)]
    for vertex in reversed(vertices):
        if vertex.kind != "op":
            continue
        grad = totals.get(vertex.key)
        step = Step(vertex, grad)
        steps.append(step)
        if grad is None:  # nothing flows into it: the output does not depend on it
            continue
        with np.errstate(all="ignore"):
            cotangents = pullback(vertex.node, grad) or []  # (a list: no pass given)
        for key, cotangent in zip(vertex.inputs, cotangents, strict=True):
            if cotangent is None or by_key[key].kind == "constant":
                continue
            share = np.array(array_of(cotangent))
            before = totals.get(key)
            totals[key] = share if before is None else before + share
            step.shares.append(Share(by_key[key], share, before, totals[key]))
    return steps


def _caption(step: Step, by_key: dict) -> str:
    vertex = step.vertex
    if step.seed:
        return (f"seed: grad({vertex.label}) = d{vertex.label}/d{vertex.label} = 1\n"
                "then each operation, in reverse order, hands each input a share")
    what = f"{vertex.label} = {call_text(vertex, by_key)}"
    if step.grad is None:
        return f"{what}: receives no gradient (the output does not depend on it)"
    lines = [f"{what} runs its backward rule on grad({vertex.label}) = "
             f"{format_value(step.grad)}:"]
    for share in step.shares:
        name = share.target.label
        if share.accumulated:
            lines.append(f"  grad({name}) += {format_value(share.share)}:  "
                         f"{format_value(share.before)} + {format_value(share.share)} = "
                         f"{format_value(share.total)}   ({name} is used more than once: its "
                         "gradients add up)")
        else:
            lines.append(f"  grad({name}) = {format_value(share.share)}")
    return "\n".join(lines)


def step_data(graph: Graph, steps: list[Step]) -> list[dict]:
    """The steps as the page's JavaScript reads them: vertex indices and texts."""
    index = {v.key: i for i, v in enumerate(graph.vertices)}
    by_key = {v.key: v for v in graph.vertices}
    return [{
        "active": index[step.vertex.key],
        "received": [index[share.target.key] for share in step.shares],
        "accumulated": [index[share.target.key] for share in step.shares if share.accumulated],
        "grads": ([[index[step.vertex.key], format_value(step.grad)]] if step.seed else [])
        + [[index[share.target.key], format_value(share.total)] for share in step.shares],
        "caption": _caption(step, by_key),
    } for step in steps]


_STYLE = """
.cr-steps { font-family: system-ui, sans-serif; }
.cr-steps .controls { margin: 0.5em 0; }
.cr-steps button { font-size: 1em; margin-right: 0.3em; }
.cr-steps pre { background: #f9fafb; border: 1px solid #e5e7eb; padding: 0.6em;
  white-space: pre-wrap; min-height: 4.5em; }
.cr-steps g.active rect, .cr-steps g.active ellipse { stroke: #dc2626; stroke-width: 3; }
.cr-steps g.received rect, .cr-steps g.received ellipse { fill: #dcfce7; }
.cr-steps g.accumulated rect, .cr-steps g.accumulated ellipse { fill: #fde68a; }
.cr-steps path.flowing { stroke: #dc2626; stroke-width: 2.5; }
.cr-steps text.grad { fill: #b91c1c; font-weight: bold; }
"""

# The player: state k is the seed and the first k steps replayed (each step sets the running
# gradients of the vertices it reached).
_SCRIPT = """
(function () {
  var root = document.getElementById("ID");
  var steps = JSON.parse(root.querySelector("script.cr-data").textContent);
  var k = 0;
  function show(n) {
    k = Math.max(0, Math.min(steps.length - 1, n));
    var grads = {};
    for (var s = 0; s <= k; s++) {
      steps[s].grads.forEach(function (pair) { grads[pair[0]] = pair[1]; });
    }
    var step = steps[k];
    root.querySelectorAll("g.vertex").forEach(function (g) {
      var i = Number(g.getAttribute("data-i"));
      var text = g.querySelector("text.grad");
      if (text) { text.textContent = i in grads ? "grad " + grads[i] : "grad ?"; }
      g.classList.toggle("active", i === step.active);
      g.classList.toggle("received", step.received.indexOf(i) >= 0);
      g.classList.toggle("accumulated", step.accumulated.indexOf(i) >= 0);
    });
    root.querySelectorAll("path.edge").forEach(function (p) {
      var flowing = Number(p.getAttribute("data-target")) === step.active &&
        step.received.indexOf(Number(p.getAttribute("data-source"))) >= 0;
      p.classList.toggle("flowing", flowing);
    });
    root.querySelector("pre").textContent = step.caption;
    root.querySelector(".counter").textContent = "step " + (k + 1) + " of " + steps.length;
  }
  var moves = {first: function () { return 0; }, back: function () { return k - 1; },
               next: function () { return k + 1; }, last: function () { return steps.length; }};
  root.querySelectorAll("button").forEach(function (b) {
    b.addEventListener("click", function () { show(moves[b.getAttribute("data-move")]()); });
  });
  root.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") { show(k + 1); }
    if (event.key === "ArrowLeft") { show(k - 1); }
  });
  show(0);
})();
"""

_ids = itertools.count()


def html_fragment(graph: Graph) -> str:
    """The view as one ``<div>`` (what a notebook shows): its own ids, so that several can
    live on one page."""
    steps = backward_steps(graph)
    # Each box is drawn with its widest running gradient, so that every one fits in it.
    widest = {graph.vertices[-1].key: steps[0].grad}
    for share in (share for step in steps for share in step.shares):
        key = share.target.key
        if key not in widest or len(format_value(share.total)) > len(format_value(widest[key])):
            widest[key] = share.total
    drawn = [_with_grad(v, widest.get(v.key)) for v in graph.vertices]
    picture = type(graph)(graph.root, drawn, values=graph.show_values, grads=True,
                          engine="python", title=graph.title)
    svg = svg_document(picture, layout(picture))
    data = json.dumps(step_data(graph, steps)).replace("</", "<\\/")
    uid = f"cr-steps-{next(_ids)}-{id(graph):x}"
    buttons = "".join(f'<button type="button" data-move="{move}">{text}</button>'
                      for move, text in (("first", "« first"), ("back", "‹ back"),
                                         ("next", "next ›"), ("last", "last »")))
    return (
        f'<div class="cr-steps" id="{uid}" tabindex="0"><style>{_STYLE}</style>'
        f'<div class="controls">{buttons} <span class="counter"></span> '
        "(or the arrow keys)</div><pre></pre>"
        f"{svg}"
        f'<script type="application/json" class="cr-data">{data}</script>'
        f"<script>{_SCRIPT.replace('ID', uid)}</script></div>"
    )


def _with_grad(vertex: Vertex, grad: Any) -> Vertex:
    """A copy of ``vertex`` with the gradient its box is drawn with (none for a constant; 0
    where no gradient reaches)."""
    if vertex.kind == "constant":
        return replace(vertex, grad=None)
    return replace(vertex, grad=np.zeros(np.shape(vertex.value)) if grad is None else grad)


def html_document(graph: Graph) -> str:
    """A self-contained HTML page: the graph, the steps and the player, nothing fetched."""
    title = html.escape(graph.title or "the backward pass, step by step")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head><body>\n{html_fragment(graph)}\n</body></html>\n")
