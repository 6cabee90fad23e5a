"""Tracing the graph autograd recorded, for drawing and explaining it.

A tensor's ``grad_fn`` is the last :class:`~chainrule.node.Node` of the computation; its
``parents`` lead back to the leaves. :func:`trace` walks that graph once (iteratively) and lists
its vertices in evaluation order, the order the forward pass ran them: inputs, constants and
operations, each with its shape and, where the graph still knows it, its value. Nodes do not keep
their outputs (no reference cycles, see the engine), so values are gathered from what the graph
saved for backward (inputs and outputs the rules read), the root itself, and, failing that,
recomputed from the inputs by the primitive's NumPy forward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import numpy as np

from ..engine import gradients
from ..node import Node
from ..tensor import Tensor, array_of


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


def trace(root: Tensor, names: dict[str, Tensor] | None = None) -> list[Vertex]:
    """The vertices of the graph that produced ``root``, in evaluation order."""
    if not isinstance(root, Tensor):
        raise TypeError(f"cr.graph needs a tensor (or a function), got {type(root).__name__}")
    start = root._node if root._node is not None else root
    order = _evaluation_order(start)
    by_key = {v.key: v for v in order}
    _gather_values(order, by_key)
    by_key[id(start)].value = root._array
    _recompute_values(order, by_key)
    _recover_constants(order, by_key)
    _name_vertices(order, names or {})
    numbered = (v for v in order if v.kind != "constant")
    for index, vertex in enumerate(numbered):
        vertex.label = f"v{index}"
    return order


def _evaluation_order(start: Node | Tensor) -> list[Vertex]:
    """A vertex for each object behind ``start``, each after its parents: a depth-first walk
    with an explicit stack, since graphs may be deeper than the recursion limit."""
    order: list[Vertex] = []
    constant_keys: Iterator[int] = count(-1, -1)  # constants have no object of their own
    stack: list[tuple[Any, bool]] = [(start, False)]
    seen: set[int] = set()
    while stack:
        obj, expanded = stack.pop()
        if expanded:
            order.append(_vertex(obj, order, constant_keys))
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        stack.append((obj, True))
        if type(obj) is Node:
            for parent in reversed(obj.parents):
                if parent is not None and id(parent) not in seen:
                    stack.append((parent, False))
    return order


def _vertex(obj: Node | Tensor, order: list[Vertex], constant_keys: Iterator[int]) -> Vertex:
    """The vertex of an input tensor or of a node; a node's constant inputs are appended to
    ``order`` first, as vertices of their own."""
    if type(obj) is not Node:
        return Vertex(id(obj), "input", "", tuple(obj.shape), value=obj._array, tensor=obj)
    inputs = []
    for index, parent in enumerate(obj.parents):
        if parent is None:
            constant = _constant(obj, index, next(constant_keys))
            order.append(constant)
            inputs.append(constant.key)
        else:
            inputs.append(id(parent))  # the key of its vertex, made already
    return Vertex(id(obj), "op", obj.prim.name, tuple(obj.ans_shape), inputs, node=obj,
                  value=array_of(obj.ans))


def _constant(node: Node, index: int, key: int) -> Vertex:
    """The vertex of ``node``'s constant input ``index``: its shape is known where it was
    saved or recorded."""
    saved = node.saved[index] if node.saved is not None else None
    if node.shapes is not None:
        shape = tuple(node.shapes[index])
    else:
        shape = None if saved is None else np.shape(array_of(saved))
    return Vertex(key, "constant", "constant", shape, value=array_of(saved))


def _gather_values(order: list[Vertex], by_key: dict) -> None:
    """The values the consumers saved for backward."""
    for vertex in order:
        node = vertex.node
        if node is None or node.saved is None:
            continue
        for key, saved in zip(vertex.inputs, node.saved, strict=True):
            if saved is not None and by_key[key].value is None:
                by_key[key].value = array_of(saved)


def _recompute_values(order: list[Vertex], by_key: dict) -> None:
    """Whatever is still missing, recomputed from the inputs (in evaluation order, inputs come
    first)."""
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


def format_value(value: Any) -> str:
    """A short text for a value: the number for a scalar, a few entries for a small array."""
    array = np.asarray(value)
    if array.size == 1:
        return f"{array.item():.4g}" if array.dtype.kind in "fc" else str(array.item())
    if array.size <= 4 and array.ndim == 1:
        return "[" + ", ".join(f"{v:.3g}" for v in array.tolist()) + "]"
    return f"mean {array.mean():.3g}, range [{array.min():.3g}, {array.max():.3g}]"


def call_text(vertex: Vertex, by_key: dict) -> str:
    """An operation with its operands in argument order, ``true_divide(1, v0)``: constants by
    their value, other vertices by their label."""
    operands = (by_key[k].name if by_key[k].kind == "constant" else by_key[k].label
                for k in vertex.inputs)
    return f"{vertex.name.split(' = ')[-1]}({', '.join(operands)})"


def _number(value: Any) -> str:
    if isinstance(value, complex):
        return f"{value:.4g}"
    value = float(value)
    if np.isfinite(value) and value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def adjoints(root: Tensor, order: list[Vertex]) -> bool:
    """Fill ``vertex.grad`` with d(root)/d(vertex) by one extra backward pass.

    The graph is retained and no ``.grad`` is written; hooks the user registered are set aside
    for the pass. Returns False when this is not possible (freed graph, non-scalar root).
    """
    if root._array.size != 1 or not root._requires_grad:
        return False
    nodes = [v for v in order if v.node is not None]
    leaves = [v for v in order if v.kind == "input" and v.tensor._requires_grad]
    if any(v.node.saved is None for v in nodes):
        return False
    saved_hooks = [(v.node, v.node.hooks) for v in nodes]

    def capture(vertex: Vertex) -> Callable:
        def hook(cotangent: Any) -> None:
            vertex.grad = np.array(array_of(cotangent))

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

