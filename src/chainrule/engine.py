"""The reverse-mode engine.

Recording. Every primitive applied to a tensor that requires grad makes one :class:`Node`. A node
knows its primitive, the static parameters, its *parents* (for each input: the node that made
it, the leaf tensor itself, or None when no gradient flows there) and the raw arrays its
derivative rules will read. It never holds its own output tensor, so graphs contain no reference
cycles and die with the last tensor that points into them.

Backward. ``run`` works in two passes, both iterative, so a graph a million nodes deep is fine.
The first walks the graph from the roots, counts how many recorded consumers each node has, and
checks that every saved value is still there and unchanged (version counters) before anything
is written. The second is Kahn's algorithm: a node runs once all its consumers have handed it
their cotangents, which are summed in ``pending`` and dropped as soon as the node has run. Each
rule's result is summed down to its input's shape here, in one place (DESIGN.md decision 2), and
cast to its dtype. Leaf gradients are collected and written only at the end, so an error leaves
every ``.grad`` as it was.

Two speeds. Without ``create_graph`` rules run on raw NumPy arrays with recording off: the fast
first-order path. With ``create_graph`` (or when saved values carry forward-mode tangents) the
saved arrays are rewrapped as tensors linked to their parents, and the rules, written in
chainrule's own ops, record a new graph: gradients of gradients come for free.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .modes import state
from .tensor import Tensor


class Node:
    """One recorded application of a primitive (the ``grad_fn`` of its output)."""

    __slots__ = (
        "prim", "params", "parents", "saved", "ans", "shapes", "dtypes", "versions",
        "ans_shape", "hooks", "__weakref__",
    )

    def __init__(
        self, prim, params, parents, saved, ans, shapes, dtypes, versions, ans_shape
    ) -> None:
        self.prim = prim
        self.params = params
        self.parents = parents
        self.saved = saved
        self.ans = ans
        self.shapes = shapes
        self.dtypes = dtypes
        self.versions = versions
        self.ans_shape = ans_shape
        self.hooks = None

    def __repr__(self) -> str:
        return f"<{self.prim.title}Backward>"

    @property
    def name(self) -> str:
        return self.prim.name

    @property
    def next_functions(self) -> tuple:
        """The parents, as PyTorch names them: nodes, leaf tensors, or None."""
        return self.parents

    def add_hook(self, hook: Callable) -> None:
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def retain(self, tensor: Tensor) -> None:
        ref = weakref.ref(tensor)

        def keep(grad: Any) -> None:
            owner = ref()
            if owner is not None:
                value = grad if isinstance(grad, Tensor) else Tensor._wrap(np.array(grad))
                owner.grad = value if owner.grad is None else owner.grad + value

        self.add_hook(keep)

    def check(self) -> None:
        """Raise if the saved values were freed or changed in place since recording."""
        if self.saved is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time: the values saved by "
                f"{self!r} were freed by the first backward. Pass retain_graph=True to the "
                f"first backward (or gradient/GradientTape call) if you need to run it twice."
            )
        for box, version in self.versions:
            if box[0] != version:
                raise RuntimeError(
                    f"a value saved by {self!r} for backward was modified by an in-place "
                    f"operation (its version is now {box[0]}, expected {version}). Use the "
                    f"out-of-place form (y = y + 1 instead of y += 1), or .copy() first."
                )

    def release(self) -> None:
        self.saved = None
        self.ans = None


def _owned(array: Any) -> np.ndarray:
    """An array that nobody else holds: the one given when it is ours alone, else a copy."""
    if (
        type(array) is np.ndarray
        and array.base is None
        and array.flags.writeable
        and sys.getrefcount(array) <= _FIRST_OWNER_REFS
    ):
        return array
    return np.array(array)


def _probe_owner_refs() -> int:
    def probe(array: Any) -> int:
        return sys.getrefcount(array)

    holder = {0: np.zeros(1)}
    return probe(holder[0])


_FIRST_OWNER_REFS = _probe_owner_refs()


def unbroadcast(cotangent: Any, shape: tuple, batch_ndim: int) -> Any:
    """Sum ``cotangent`` down to ``shape`` (after ``batch_ndim`` leading batch axes)."""
    gshape = cotangent.shape
    if gshape[batch_ndim:] == shape:
        return cotangent
    from .ops import broadcast_to, reshape, sum as sum_

    lead = len(gshape) - batch_ndim - len(shape)
    if lead < 0:  # a rule returned something smaller: broadcast it up
        return broadcast_to(cotangent, shape=gshape[:batch_ndim] + shape)
    axes = tuple(range(batch_ndim, batch_ndim + lead))
    axes += tuple(
        batch_ndim + lead + i
        for i, size in enumerate(shape)
        if size == 1 and gshape[batch_ndim + lead + i] != 1
    )
    if axes:
        cotangent = sum_(cotangent, axis=axes)
    return reshape(cotangent, shape=gshape[:batch_ndim] + shape)


def _cast(cotangent: Any, dtype: np.dtype) -> Any:
    if cotangent.dtype == dtype:
        return cotangent
    from .ops import astype, real

    if cotangent.dtype.kind == "c" and dtype.kind != "c":
        cotangent = real(cotangent)
    return astype(cotangent, dtype=dtype)


def _collect(roots: Sequence[Any]) -> dict:
    """Count, for each node reachable from ``roots``, how many recorded edges point to it."""
    deps: dict[Node, int] = {}
    stack = []
    for node in roots:
        if type(node) is Node and node not in deps:
            deps[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        node.check()
        for parent in node.parents:
            if type(parent) is Node:
                if parent in deps:
                    deps[parent] += 1
                else:
                    deps[parent] = 1
                    stack.append(parent)
    return deps


def run(
    roots: Sequence[Tensor],
    cotangents: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Tensor] | None = None,
    batch_ndim: int = 0,
) -> tuple[dict, dict]:
    """Backpropagate ``cotangents`` from ``roots``.

    Returns ``(leaf_grads, captured)``: summed cotangents of the leaves reached (keyed by
    ``id``, with the leaf), and, for each non-leaf target tensor, the cotangent of its node.
    """
    pending: dict[Any, Any] = {}
    leaves: dict[int, list] = {}
    starts = []
    for root, cotangent in zip(roots, cotangents):
        node = root._node
        if node is None:
            if root._rg:
                _add_leaf(leaves, root, cotangent)
            continue
        pending[node] = pending[node] + cotangent if node in pending else cotangent
        starts.append(node)
    deps = _collect(starts)
    capture = {t._node for t in targets if t._node is not None} if targets else ()
    captured: dict[Node, Any] = {}
    ready = [node for node in dict.fromkeys(starts) if deps[node] == 0]

    previous = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            cotangent = pending.pop(node, None)
            if cotangent is not None:
                if node.hooks:
                    for hook in node.hooks:
                        result = hook(cotangent)
                        if result is not None:
                            cotangent = result
                if node in capture:
                    captured[node] = cotangent
                grads = node.prim.pullback(node, cotangent, create_graph)
            else:
                grads = None
            parents = node.parents
            if not retain_graph:
                node.release()
            for i, parent in enumerate(parents):
                if parent is None:
                    continue
                grad = grads[i] if grads is not None else None
                if grad is not None:
                    grad = unbroadcast(grad, node.shapes[i], batch_ndim)
                    grad = _cast(grad, node.dtypes[i])
                if type(parent) is Node:
                    if grad is not None:
                        pending[parent] = pending[parent] + grad if parent in pending else grad
                    count = deps[parent] - 1
                    deps[parent] = count
                    if count == 0:
                        ready.append(parent)
                elif grad is not None:
                    _add_leaf(leaves, parent, grad)
    finally:
        state.grad_enabled = previous
    return leaves, captured


def _add_leaf(leaves: dict, leaf: Tensor, grad: Any) -> None:
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, grad]
    else:
        entry[1] = entry[1] + grad


def _root_cotangent(root: Tensor, gradient: Any, create_graph: bool) -> Any:
    if gradient is None:
        if root.data.size != 1 and not root._implicit_sum:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{root.shape}. Pass gradient= (a tensor of that shape, e.g. ones_like(y)) or "
                f"reduce it first, e.g. y.sum().backward()"
            )
        cotangent = np.ones(root.data.shape, dtype=root.data.dtype)
    else:
        cotangent = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if cotangent.shape != root.shape:
            raise RuntimeError(
                f"gradient has shape {cotangent.shape} but the output has shape {root.shape}; "
                f"they must match"
            )
        if cotangent.dtype != root.data.dtype:
            cotangent = cotangent.astype(root.data.dtype)
        if create_graph and isinstance(gradient, Tensor):
            return gradient
    return Tensor._wrap(cotangent, cls=root._op_class) if create_graph else cotangent


def _check_roots(roots: Sequence[Tensor]) -> None:
    for root in roots:
        if not isinstance(root, Tensor):
            raise TypeError(f"can only differentiate tensors, got {type(root).__name__}")
        if not root._rg:
            raise RuntimeError(
                "this tensor does not require grad and has no grad_fn, so there is nothing to "
                "backpropagate: create the inputs with requires_grad=True (or call "
                "x.requires_grad_() / x.attach_grad()) before computing it, outside no_grad()"
            )


def backward(
    root: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Backpropagate from ``root`` into the leaves' ``.grad`` (see ``Tensor.backward``)."""
    _check_roots([root])
    if retain_graph is None:
        retain_graph = create_graph
    cotangent = _root_cotangent(root, gradient, create_graph)
    targets = None
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    leaves, captured = run(
        [root], [cotangent], retain_graph=retain_graph, create_graph=create_graph,
        targets=targets,
    )
    if targets is not None:
        allowed = {id(t) for t in targets if t._node is None}
        leaves = {key: entry for key, entry in leaves.items() if key in allowed}
        for target in targets:
            if target._node is not None and target._node in captured:
                _accumulate(target, captured[target._node], create_graph)
    for leaf, grad in leaves.values():
        _accumulate(leaf, grad, create_graph)


def _accumulate(leaf: Tensor, grad: Any, create_graph: bool) -> None:
    """Write one backward's gradient into ``leaf.grad`` by the leaf's ``grad_req``."""
    req = leaf._grad_req
    if req == "null":
        return
    if create_graph or isinstance(grad, Tensor):
        grad = grad if isinstance(grad, Tensor) else Tensor._wrap(grad, cls=leaf._op_class)
        if req == "write" or leaf.grad is None:
            leaf.grad = grad
        else:
            leaf.grad = leaf.grad + grad
        return
    current = leaf.grad
    if current is None or current.shape != leaf.shape:
        leaf.grad = Tensor._wrap(_owned(grad), cls=leaf._op_class)
        return
    buffer = current.data
    if not (isinstance(buffer, np.ndarray) and buffer.flags.writeable):
        current.data = buffer = np.array(buffer)
    # Decision 5: reuse the buffer the user already has (and may hold references to).
    if req == "write":
        np.copyto(buffer, grad)
    else:
        np.add(buffer, grad, out=buffer)
    current._version[0] += 1


def gradients(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    batch_ndim: int = 0,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    PyTorch's ``torch.autograd.grad``: ``grad_outputs`` weights non-scalar outputs.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (dx,) = cr.gradients(x ** 2, x, create_graph=True)
    >>> dx, cr.gradients(dx, x)[0]
    (tensor(6., grad_fn=<MultiplyBackward>), tensor(2.))
    """
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    inputs_list = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give one per output"
        )
    _check_roots(outputs)
    for tensor in inputs_list:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"inputs must be tensors, got {type(tensor).__name__}")
        if not tensor._rg:
            raise RuntimeError(
                "one of the inputs does not require grad; create it with requires_grad=True"
            )
    if retain_graph is None:
        retain_graph = create_graph
    if batch_ndim:
        cotangents = list(grad_outputs)
    else:
        cotangents = [_root_cotangent(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    leaves, captured = run(
        outputs, cotangents, retain_graph=retain_graph, create_graph=create_graph,
        targets=inputs_list, batch_ndim=batch_ndim,
    )
    results = []
    for tensor in inputs_list:
        if tensor._node is None:
            entry = leaves.get(id(tensor))
            grad = entry[1] if entry is not None else None
        else:
            grad = captured.get(tensor._node)
        if grad is None:
            if not allow_unused:
                raise RuntimeError(
                    "one of the differentiated tensors was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            results.append(None)
            continue
        if not isinstance(grad, Tensor):
            grad = Tensor._wrap(grad, cls=tensor._op_class)
        results.append(grad)
    return tuple(results)
