"""The chain rule on the recorded graph, node by node: ``cr.explain(f, x, mode)``.

The function is run once on float64 ``x`` (a number or a small array) that requires grad; the
graph it records is walked in evaluation order (see :func:`chainrule.viz.trace.trace`). Each
node's local derivatives d(node)/d(input) come from chainrule's own reverse rules (the
primitive's vjp applied to each unit cotangent, which gives the local Jacobian row by row), never
from a hand-written table. Then:

* forward mode (x to f) carries a tangent along the evaluation order, seeded with dx/dx = 1 (the
  identity for a vector x: one tangent per input direction, the Jacobian dv/dx): each node's
  tangent is the sum over its inputs of local derivative times input tangent;
* reverse mode (f to x) carries an adjoint against it, seeded with df = 1: each node hands each
  input the share adjoint times local derivative, and an input's adjoint is the sum of its
  shares (a value used twice receives two shares: that is where gradients accumulate).

Both end on the same f'(x) (the gradient, for a vector x), which is checked against chainrule's
forward mode (``jacfwd``) and reverse mode (``grad``). The result displays as its table: as text
at a prompt, as an HTML table in a notebook.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from ..engine import pullback
from ..expr import as_function
from ..functional import grad, jacfwd
from ..tensor import Tensor, array_of
from .trace import Vertex, call_text, trace

# explain prints every number of every step: a vertex with more entries than this is refused
# (its local Jacobians would fill the screen; cr.graph draws big graphs).
MAX_ENTRIES = 64
_COLUMNS = {
    "forward": ("node", "operation", "value", "local derivatives", "tangent"),
    "reverse": ("node", "operation", "value", "adjoint", "shares handed back (running sums)"),
}


@dataclass(repr=False)
class Explanation:
    """What ``explain`` printed, as data: ``derivative`` is f'(x) (the gradient, for a vector
    x), ``rows`` one dict per node in the order the mode visits them.

    At a prompt it shows as the printed text, in a notebook as a table."""

    mode: str
    x: Any
    value: float
    derivative: Any
    rows: list = field(default_factory=list)
    forward_mode_check: Any = float("nan")
    reverse_mode_check: Any = float("nan")
    text: str = ""
    heading: str = ""
    result: str = ""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __float__(self) -> float:
        if np.size(self.derivative) != 1:
            raise TypeError(f"f'(x) is a gradient of shape {np.shape(self.derivative)}, not "
                            "one number: read .derivative")
        return float(self.derivative)

    def _cells(self, row: dict) -> list[list[str]]:
        """The row's cells, each a list of lines."""
        if self.mode == "forward":
            return [[row["node"]], [row["operation"]], [_num(row["value"])], row["local"],
                    [row["flow"]]]
        return [[row["node"]], [row["operation"]], [_num(row["value"])], [_num(row["adjoint"])],
                row["shares"]]

    def _repr_markdown_(self) -> str:
        def cell(lines: list[str]) -> str:
            return "<br>".join(f"`{line}`" for line in lines if line).replace("|", "\\|")

        columns = _COLUMNS[self.mode]
        out = [self.heading, "", "| " + " | ".join(columns) + " |",
               "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(cell(c) for c in self._cells(row)) + " |" for row in self.rows]
        return "\n".join([*out, "", self.result, ""])

    def _repr_html_(self) -> str:
        def cell(lines: list[str]) -> str:
            return "<br>".join(html.escape(line) for line in lines)

        head = "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS[self.mode])
        body = "".join(
            "<tr>" + "".join(f'<td style="text-align:left;font-family:monospace">{cell(c)}</td>'
                             for c in self._cells(row)) + "</tr>"
            for row in self.rows
        )
        return (f'<div class="chainrule-explain"><p>{html.escape(self.heading)}</p>'
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p><b>{html.escape(self.result)}</b></p></div>")


def _num(value: Any) -> str:
    """A number as 6 significant digits; an array as a nested list of such numbers."""
    array = np.real(np.asarray(value))
    if array.size == 1:
        return f"{float(array.item()):.6g}"
    text = np.array2string(array, separator=", ", max_line_width=10**9, threshold=10**9,
                           formatter={"float_kind": lambda v: f"{v:.6g}"})
    return " ".join(text.split())


@dataclass
class _Chain:
    """What explain walks: the steps (inputs and operations, in evaluation order) of f at x,
    and for each operation, (input vertex, local Jacobian d(operation)/d(input) as a matrix of
    shape (operation's size, input's size)) along the edges a derivative flows through
    (constants and inputs without a gradient are left out)."""

    x: np.ndarray
    name: str
    primal: Tensor
    steps: list[Vertex]
    by_key: dict
    links: dict

    @property
    def scalar(self) -> bool:
        """Whether every quantity is one number (then the products are written out)."""
        return all(np.size(v.value) == 1 for v in self.steps)


def explain(
    f: Any, x: Any, mode: str = "reverse", *, file: TextIO | None = None,
    name: str = "x",
) -> Explanation:
    """The chain rule for f'(x) node by node, in forward or reverse mode.

    ``f`` is a function of one number or small array ``x`` that returns one number (or an
    expression string for :mod:`chainrule.expr`). Returns an :class:`Explanation`, which shows
    as its table at a prompt and in a notebook (and ``print()`` prints it in a script);
    ``file``: a stream to print the table to as well.

    >>> import chainrule as cr
    >>> f = lambda x: cr.log(x ** 2) * cr.sin(x) + 1 / x
    >>> fwd = cr.explain(f, 2.0, mode="forward")
    >>> rev = cr.explain(f, 2.0, mode="reverse")
    >>> round(fwd.derivative, 6), round(rev.derivative, 6)
    (0.082395, 0.082395)
    >>> cr.explain(lambda x: 2 * cr.dot(x, x), [0.0, 1.0, 2.0]).derivative
    array([0., 4., 8.])
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be 'forward' or 'reverse', not {mode!r}")
    function = _floating(as_function(f, "explain"))
    point = np.array(array_of(x) if isinstance(x, Tensor) else x, dtype=np.float64)
    primal = Tensor(point.copy(), requires_grad=True)
    out = function(primal)
    if out._array.size != 1:
        raise ValueError(f"explain needs f to return one number (a loss); f(x) has shape "
                         f"{out.shape}: sum it, or explain one entry")
    chain = _chain(out, primal, point, name)
    shown = _num(point)
    rows: list = []
    if not chain.steps:
        derivative: Any = np.zeros_like(point)
        lines = [f"f({shown}) = {_num(out._array)}: f does not depend on {name}, "
                 f"so f'({shown}) = 0"]
    elif mode == "forward":
        lines, derivative = _forward_mode(chain, rows)
    else:
        lines, derivative = _reverse_mode(chain, rows)
    forward_check, reverse_check = _checks(function, point)
    lines.append(
        f"check: chainrule's forward mode (tangents) gives {_num(forward_check)}, "
        f"reverse mode (gradients) gives {_num(reverse_check)}"
    )
    text = "\n".join(line.rstrip() for line in lines)
    if file is not None:
        print(text, file=file)
    result = next((line for line in lines if line.startswith("f'(")), lines[0])
    return Explanation(mode, _plain(point), float(np.real(out._array).item()),
                       _plain(derivative), rows, _plain(forward_check), _plain(reverse_check),
                       text, heading=lines[0], result=result)


def _plain(value: Any) -> Any:
    """A float for one number, else a float64 array."""
    array = np.real(np.asarray(value))
    return float(array) if array.ndim == 0 else array.astype(np.float64)


def _checks(function: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f'(x) again, by chainrule's own forward mode (``jacfwd``) and reverse mode (``grad``)."""
    return np.asarray(jacfwd(function)(x)), np.asarray(grad(function)(x))


def _floating(user_function: Callable) -> Callable[[Any], Tensor]:
    """``user_function`` with its value as a floating tensor, whatever it returns."""

    def function(value: Any) -> Tensor:
        out = user_function(value)
        if isinstance(out, Tensor) and out.dtype.kind in "fc":
            return out
        return Tensor(np.asarray(out, dtype=np.float64))

    return function


def _jacobians(vertex: Vertex) -> list:
    """d(vertex)/d(input) for each input as a (vertex size, input size) matrix, from the
    primitive's own reverse rule applied to each unit cotangent (None: nothing flows)."""
    node = vertex.node
    value = np.asarray(vertex.value)
    rows: list = [[] for _ in node.parents]
    for k in range(value.size):
        seed = np.zeros(node.ans_shape, dtype=value.dtype)
        seed.flat[k] = 1
        with np.errstate(all="ignore"):
            grads = pullback(node, seed) or []  # (a list: no pass given)
        for index, cotangent in enumerate(grads):
            rows[index].append(None if cotangent is None
                               else np.real(np.asarray(cotangent, dtype=np.complex128)).ravel())
    return [None if not row or row[0] is None else np.array(row) for row in rows]


def _chain(out: Tensor, primal: Tensor, x: np.ndarray, name: str) -> _Chain:
    """The graph behind ``out`` as a chain of steps; vertices too big to print are refused."""
    vertices = trace(out, {name: primal}) if out._requires_grad else []
    steps = [v for v in vertices if v.kind != "constant"]
    for vertex in steps:
        if vertex.value is None or np.size(vertex.value) > MAX_ENTRIES:
            raise ValueError(
                f"explain prints every entry of every step, at most {MAX_ENTRIES}; "
                f"{vertex.label} ({vertex.name}) has shape {vertex.shape}: use a smaller x, "
                "or cr.graph to draw the graph"
            )
    by_key = {v.key: v for v in vertices}
    links = {
        v.key: [(by_key[key], local)
                for key, local in zip(v.inputs, _jacobians(v), strict=True)
                if local is not None and by_key[key].kind != "constant"]
        for v in steps if v.kind == "op"
    }
    return _Chain(x, name, primal, steps, by_key, links)


def _forward_mode(chain: _Chain, rows: list) -> tuple[list[str], Any]:
    """The lines of forward mode, a tangent carried along the evaluation order; its rows are
    appended to ``rows``."""
    name, steps, n = chain.name, chain.steps, chain.x.size
    seed = "1" if chain.x.ndim == 0 else f"the identity ({n} directions)"
    lines = [
        f"Forward mode ({name} -> f) at {name} = {_num(chain.x)}: seed d{name}/d{name} = {seed}, "
        "then in evaluation order",
        "  tangent(v) = sum over inputs u of  dv/du * tangent(u)",
        "",
        f"  {'node':<5} {'operation':<24} {'value':>12}   {'local derivatives':<24} tangent",
    ]
    tangent: dict[int, np.ndarray] = {}  # (vertex size, n): d(vertex)/dx
    for vertex in steps:
        size, shape = np.size(vertex.value), tuple(np.shape(vertex.value))
        if vertex.kind == "input":
            primal = vertex.tensor is chain.primal
            tangent[vertex.key] = np.eye(n) if primal else np.zeros((size, n))
            operation, local_text = vertex.name, ["(input)"]
            flow = _num(tangent[vertex.key].reshape(shape + chain.x.shape))
        else:
            operation = call_text(vertex, chain.by_key)
            terms, total, local_text = [], np.zeros((size, n)), []
            for source, local in chain.links[vertex.key]:
                local_text.append(f"d{vertex.label}/d{source.label} = "
                                  f"{_num(local.reshape(shape + np.shape(source.value)))}")
                terms.append(f"{_num(local)}*{_num(tangent[source.key])}")
                total = total + local @ tangent[source.key]
            tangent[vertex.key] = total
            flow = _num(total.reshape(shape + chain.x.shape))
            if chain.scalar:
                flow = " + ".join(terms) + f" = {flow}"
        quantity = tangent[vertex.key].reshape(shape + chain.x.shape)
        rows.append({"node": vertex.label, "operation": operation, "value": _plain(vertex.value),
                     "tangent": _plain(quantity), "local": local_text, "flow": flow})
        lines.append(f"  {vertex.label:<5} {operation:<24} {_num(vertex.value):>12}   "
                     f"{local_text[0] if local_text else '':<24} {flow}")
        for extra in local_text[1:]:
            lines.append(f"  {'':<5} {'':<24} {'':>12}   {extra:<24}")
    derivative = tangent[steps[-1].key].reshape(chain.x.shape)
    lines.append("")
    lines.append(f"f'({_num(chain.x)}) = tangent({steps[-1].label}) = {_num(derivative)}")
    return lines, derivative


def _reverse_mode(chain: _Chain, rows: list) -> tuple[list[str], Any]:
    """The lines of reverse mode: the values by a forward pass, then an adjoint carried
    against the evaluation order; its rows are appended to ``rows``."""
    name, steps, last = chain.name, chain.steps, chain.steps[-1]
    lines = [
        f"Reverse mode (f -> {name}) at {name} = {_num(chain.x)}: the forward pass computes the "
        "values (evaluation order):",
    ]
    for vertex in steps:
        operation = vertex.name if vertex.kind == "input" else call_text(vertex, chain.by_key)
        lines.append(f"  {vertex.label:<5} {operation:<24} {_num(vertex.value):>12}")
    lines += [
        "",
        f"then, seeded with adjoint({last.label}) = df/d{last.label} = 1, each node in reverse "
        "order hands each input u",
        "  adjoint(u) += adjoint(v) * dv/du",
        "",
        f"  {'node':<5} {'adjoint':>12}   shares handed back (running sums)",
    ]
    adjoint = {v.key: np.zeros(np.size(v.value)) for v in steps}
    adjoint[last.key] = np.ones(1)
    for vertex in reversed(steps):
        shares = [_hand_back(chain, vertex, source, local, adjoint)
                  for source, local in chain.links.get(vertex.key, ())]
        value = adjoint[vertex.key].reshape(np.shape(vertex.value))
        operation = vertex.name if vertex.kind == "input" else call_text(vertex, chain.by_key)
        rows.append({"node": vertex.label, "operation": operation,
                     "value": _plain(vertex.value), "adjoint": _plain(value),
                     "shares": shares or ["(input: done)"]})
        label = vertex.label if vertex.kind == "op" else f"{vertex.label} ({vertex.name})"
        lines.append(f"  {label:<5} {_num(value):>12}   "
                     f"{shares[0] if shares else '(input: done)'}")
        for share in shares[1:]:
            lines.append(f"  {'':<5} {'':>12}   {share}")
    inputs = [v for v in steps if v.kind == "input" and v.tensor is chain.primal]
    derivative: np.ndarray = (adjoint[inputs[0].key] if inputs else np.zeros(chain.x.size))
    derivative = derivative.reshape(chain.x.shape)
    lines.append("")
    lines.append(f"f'({_num(chain.x)}) = adjoint({inputs[0].label if inputs else name}) = "
                 f"{_num(derivative)}")
    return lines, derivative


def _hand_back(chain: _Chain, vertex: Vertex, source: Vertex, local: np.ndarray,
               adjoint: dict) -> str:
    """Add ``vertex``'s share to ``source``'s adjoint; the text of that step."""
    share = adjoint[vertex.key] @ local
    adjoint[source.key] = adjoint[source.key] + share
    shape = np.shape(source.value)
    total = _num(adjoint[source.key].reshape(shape))
    if chain.scalar:
        return (f"adjoint({source.label}) += {_num(adjoint[vertex.key])}*{_num(local)} = "
                f"{_num(share)} -> {total}")
    return f"adjoint({source.label}) += {_num(share.reshape(shape))} -> {total}"
