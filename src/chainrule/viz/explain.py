"""The chain rule on the recorded graph, node by node: ``cr.explain(f, x, mode)``.

The function is run once on a float64 scalar that requires grad; the graph it records is walked
in evaluation order (see :func:`chainrule.viz.trace.trace`). Each node's local derivatives
d(node)/d(input) come from chainrule's own reverse rules (the primitive's vjp applied to a
cotangent of 1), never from a hand-written table. Then:

* forward mode (x to f) carries a tangent along the evaluation order, seeded with dx = 1:
  each node's tangent is the sum over its inputs of local derivative times input tangent;
* reverse mode (f to x) carries an adjoint against it, seeded with df = 1: each node hands each
  input the share adjoint times local derivative, and an input's adjoint is the sum of its
  shares.

Both end on the same f'(x), which is checked against chainrule's forward mode (tangents) and
reverse mode (``gradients``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from ..engine import pullback
from ..expr import as_function
from ..functional import grad, jvp
from ..tensor import Tensor
from .trace import Vertex, trace

_STDOUT = object()


@dataclass
class Explanation:
    """What ``explain`` printed, as data: ``derivative`` is f'(x)."""

    mode: str
    x: float
    value: float
    derivative: float
    rows: list = field(default_factory=list)
    forward_mode_check: float = float("nan")
    reverse_mode_check: float = float("nan")
    text: str = ""

    def __str__(self) -> str:
        return self.text

    def __float__(self) -> float:
        return self.derivative


def _num(value: Any) -> str:
    return f"{float(np.real(value)):.6g}"


def _local_derivatives(vertex: Vertex) -> list:
    """d(vertex)/d(input) for each input, from the primitive's own reverse rule."""
    node = vertex.node
    seed = np.ones(node.ans_shape, dtype=np.asarray(vertex.value).dtype)
    with np.errstate(all="ignore"):
        grads = pullback(node, seed)
    return [None if grad is None else float(np.real(np.sum(np.asarray(grad)))) for grad in grads]


def _checks(function: Callable, x: float) -> tuple[float, float]:
    """f'(x) again, by chainrule's own forward mode (``jvp``) and reverse mode (``grad``)."""
    primal = np.float64(x)
    _, tangent = jvp(function, (primal,), (np.float64(1.0),))
    return float(tangent), float(grad(function)(primal))


@dataclass
class _Chain:
    """What explain walks: the steps (inputs and operations, in evaluation order) of f at x,
    and for each operation, (input vertex, d(operation)/d(input)) along the edges a derivative
    flows through (constants and inputs without a gradient are left out)."""

    x: float
    name: str
    primal: Tensor
    steps: list[Vertex]
    by_key: dict
    links: dict

    def call_text(self, vertex: Vertex) -> str:
        operands = (self.by_key[k].name if self.by_key[k].kind == "constant"
                    else self.by_key[k].label for k in vertex.inputs)
        return f"{vertex.name.split(' = ')[-1]}({', '.join(operands)})"


def explain(
    f: Any, x: float, mode: str = "reverse", *, file: TextIO | None | object = _STDOUT,
    name: str = "x",
) -> Explanation:
    """Print the chain rule for f'(x) node by node, in forward or reverse mode.

    ``f`` is a function of one scalar (or an expression string for :mod:`chainrule.expr`).
    Returns an :class:`Explanation`; pass ``file=None`` to print nothing.

    >>> import chainrule as cr
    >>> f = lambda x: cr.log(x ** 2) * cr.sin(x) + 1 / x
    >>> fwd = cr.explain(f, 2.0, mode="forward", file=None)
    >>> rev = cr.explain(f, 2.0, mode="reverse", file=None)
    >>> round(fwd.derivative, 6), round(rev.derivative, 6)
    (0.082395, 0.082395)
    """
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be 'forward' or 'reverse', not {mode!r}")
    function = _floating(as_function(f, "explain"))
    x = float(x)
    primal = Tensor(np.float64(x), requires_grad=True)
    out = function(primal)
    if out._array.size != 1:
        raise ValueError(f"explain needs a scalar function; f(x) has shape {out.shape}")
    chain = _chain(out, primal, x, name)
    rows: list = []
    if not chain.steps:
        derivative = 0.0
        lines = [f"f({_num(x)}) = {_num(out._array)}: f does not depend on {name}, "
                 f"so f'({_num(x)}) = 0"]
    elif mode == "forward":
        lines, derivative = _forward_mode(chain, rows)
    else:
        lines, derivative = _reverse_mode(chain, rows)
    forward_check, reverse_check = _checks(function, x)
    lines.append(
        f"check: chainrule's forward mode (tangents) gives {_num(forward_check)}, "
        f"reverse mode (gradients) gives {_num(reverse_check)}"
    )
    text = "\n".join(line.rstrip() for line in lines)
    if file is _STDOUT:
        file = sys.stdout  # looked up now: it may have been redirected since import
    if file is not None:
        print(text, file=file)
    return Explanation(mode, x, float(np.real(out._array)), float(derivative), rows,
                       forward_check, reverse_check, text)


def _floating(user_function: Callable) -> Callable[[Any], Tensor]:
    """``user_function`` with its value as a floating tensor, whatever it returns."""

    def function(value: Any) -> Tensor:
        out = user_function(value)
        if isinstance(out, Tensor) and out.dtype.kind in "fc":
            return out
        return Tensor(np.asarray(out, dtype=np.float64))

    return function


def _chain(out: Tensor, primal: Tensor, x: float, name: str) -> _Chain:
    """The graph behind ``out`` as a chain of scalar steps; other shapes are refused."""
    vertices = trace(out, {name: primal}) if out._requires_grad else []
    steps = [v for v in vertices if v.kind != "constant"]
    for vertex in steps:
        if np.size(vertex.value) != 1 if vertex.value is not None else True:
            raise ValueError(
                f"explain follows scalar chains; {vertex.label} ({vertex.name}) has shape "
                f"{vertex.shape}"
            )
    by_key = {v.key: v for v in vertices}
    links = {
        v.key: [(by_key[key], local)
                for key, local in zip(v.inputs, _local_derivatives(v), strict=True)
                if local is not None and by_key[key].kind != "constant"]
        for v in steps if v.kind == "op"
    }
    return _Chain(x, name, primal, steps, by_key, links)


def _forward_mode(chain: _Chain, rows: list) -> tuple[list[str], float]:
    """The lines of forward mode, a tangent carried along the evaluation order; its rows are
    appended to ``rows``."""
    name, steps = chain.name, chain.steps
    lines = [
        f"Forward mode ({name} -> f) at {name} = {_num(chain.x)}: seed d{name}/d{name} = 1, "
        "then in evaluation order",
        "  tangent(v) = sum over inputs u of  dv/du * tangent(u)",
        "",
        f"  {'node':<5} {'operation':<24} {'value':>12}   {'local derivatives':<24} tangent",
    ]
    tangent: dict[int, float] = {}
    for vertex in steps:
        if vertex.kind == "input":
            tangent[vertex.key] = 1.0 if vertex.tensor is chain.primal else 0.0
            operation, local_text, flow = vertex.name, ["(input)"], _num(tangent[vertex.key])
        else:
            operation = chain.call_text(vertex)
            terms, total, local_text = [], 0.0, []
            for source, local in chain.links[vertex.key]:
                local_text.append(f"d{vertex.label}/d{source.label} = {_num(local)}")
                terms.append(f"{_num(local)}*{_num(tangent[source.key])}")
                total += local * tangent[source.key]
            tangent[vertex.key] = total
            flow = " + ".join(terms) + f" = {_num(total)}"
        rows.append({"node": vertex.label, "operation": operation,
                     "value": float(np.real(vertex.value)), "tangent": tangent[vertex.key]})
        lines.append(f"  {vertex.label:<5} {operation:<24} {_num(vertex.value):>12}   "
                     f"{local_text[0] if local_text else '':<24} {flow}")
        for extra in local_text[1:]:
            lines.append(f"  {'':<5} {'':<24} {'':>12}   {extra:<24}")
    derivative = tangent[steps[-1].key]
    lines.append("")
    lines.append(f"f'({_num(chain.x)}) = tangent({steps[-1].label}) = {_num(derivative)}")
    return lines, derivative


def _reverse_mode(chain: _Chain, rows: list) -> tuple[list[str], float]:
    """The lines of reverse mode: the values by a forward pass, then an adjoint carried
    against the evaluation order; its rows are appended to ``rows``."""
    name, steps, last = chain.name, chain.steps, chain.steps[-1]
    lines = [
        f"Reverse mode (f -> {name}) at {name} = {_num(chain.x)}: the forward pass computes the "
        "values (evaluation order):",
    ]
    for vertex in steps:
        operation = vertex.name if vertex.kind == "input" else chain.call_text(vertex)
        lines.append(f"  {vertex.label:<5} {operation:<24} {_num(vertex.value):>12}")
    lines += [
        "",
        f"then, seeded with adjoint({last.label}) = df/d{last.label} = 1, each node in reverse "
        "order hands each input u",
        "  adjoint(u) += adjoint(v) * dv/du",
        "",
        f"  {'node':<5} {'adjoint':>12}   shares handed back (running sums)",
    ]
    adjoint: dict[int, float] = {v.key: 0.0 for v in steps}
    adjoint[last.key] = 1.0
    for vertex in reversed(steps):
        shares = []
        for source, local in chain.links.get(vertex.key, ()):
            share = adjoint[vertex.key] * local
            adjoint[source.key] += share
            shares.append(f"adjoint({source.label}) += {_num(adjoint[vertex.key])}*{_num(local)}"
                          f" = {_num(share)} -> {_num(adjoint[source.key])}")
        rows.append({"node": vertex.label, "operation": vertex.name,
                     "value": float(np.real(vertex.value)), "adjoint": adjoint[vertex.key]})
        label = vertex.label if vertex.kind == "op" else f"{vertex.label} ({vertex.name})"
        lines.append(f"  {label:<5} {_num(adjoint[vertex.key]):>12}   "
                     f"{shares[0] if shares else '(input: done)'}")
        for share in shares[1:]:
            lines.append(f"  {'':<5} {'':>12}   {share}")
    inputs = [v for v in steps if v.kind == "input" and v.tensor is chain.primal]
    derivative = adjoint[inputs[0].key] if inputs else 0.0
    lines.append("")
    lines.append(f"f'({_num(chain.x)}) = adjoint({inputs[0].label if inputs else name}) = "
                 f"{_num(derivative)}")
    return lines, derivative
