"""The reverse-mode engine: one backward pass over the recorded graph.

Recording. Every primitive applied to a tensor that requires grad makes one :class:`Node`. A node
knows its primitive, the static parameters, its *parents* (for each input: the node that made
it, the leaf tensor itself, or None when no gradient flows there) and the raw arrays its
derivative rules will read. It never holds its own output tensor, so graphs contain no reference
cycles and die with the last tensor that points into them.

Backward. :func:`backpropagate` is one iterative loop, so a graph a million nodes deep is fine:
*schedule* the next node, *receive* its cotangent, run its rules (:func:`pullback`), *send* the
results to its parents. Every node carries its creation number, and a node's consumers were all
created after it, so taking the nodes that have received a cotangent latest-first (a heap)
reaches each node only once all its consumers have handed it theirs: its cotangent, summed
while pending, is complete, and is dropped as soon as the node has run. No dependency counting,
and nodes no cotangent reaches are never visited. Receiving checks that the node's saved values
are still there and unchanged (version counters) and runs its hooks. ``pullback`` checks each
rule's result against its input, the parent's value (its node's output, or the leaf's array),
so nodes store no shape or dtype per input: the result of a broadcasting primitive is summed
down to the input's shape (broadcasting is undone here and nowhere else), any other mismatch is
a wrong rule and raises; the result is cast to the input's dtype. A node's last rule may
overwrite big arrays that only the engine holds (:mod:`chainrule.donation`), so a long chain of
elementwise ops on big arrays runs without new buffers. Leaf gradients are collected and
written only at the end (:mod:`chainrule.commit`), so an error leaves every ``.grad`` as it
was; ``gradients()`` that must refuse an unused input walks the graph first, so that refusal
frees nothing.

Two speeds. Without ``create_graph`` rules run on raw NumPy arrays with recording off: the fast
first-order path. With ``create_graph`` (or when saved values carry forward-mode tangents) the
saved arrays are rewrapped as tensors linked to their parents, and the rules, written in
chainrule's own ops, record a new graph: gradients of gradients come for free.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import backends
from .anomaly import blame, check_cotangent
from .anomaly import mode as anomaly
from .commit import adopt, commit
from .donation import DONATE_MIN, calibrate, donatable, sum_into
from .donation import sole_counts as _SOLE  # noqa: F401 - the donation tests read engine._SOLE
from .hooks import conj_if_complex, leaf_gradient, node_hooks
from .kernels import reduce, sum_axes
from .modes import state
from .node import Node
from .ops import astype, real, reshape
from .ops import sum as sum_
from .saved_hooks import PackedValues, unpack_saved
from .tensor import Tensor

# How many passes have started (cr.jit: whether a traced call ran backward).
passes = 0


def backpropagate(
    roots: Sequence[Tensor],
    cotangents: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Tensor] | None = None,
    batch_ndim: int = 0,
    allow_unused: bool = True,
    constant: Callable[[Node], bool] | None = None,
) -> tuple[dict, dict, list]:
    """Backpropagate ``cotangents`` from ``roots``.

    With ``allow_unused=False`` a target the roots do not depend on raises before anything runs.
    ``constant(node)`` true makes a node a constant to this pass: its cotangent is captured if
    it is a target's, but its rules do not run and its saved values are neither checked nor
    freed (a ``GradientTape`` differentiates only the nodes it recorded).
    Returns ``(leaf_grads, captured, retained)``: summed cotangents of the leaves reached
    (keyed by ``id``, with the leaf); for each non-leaf target tensor, the cotangent of its
    node; and the ``(tensor ref, gradient)`` pairs of tensors that ``retain_grad`` (written by
    :func:`~chainrule.commit.commit`).
    """
    global passes
    passes += 1
    flow = _Pass(roots, cotangents, create_graph)
    if targets and not allow_unused:
        _check_used(targets, roots, _reachable(flow.pending))
    flow.stop_at(targets, constant)
    free = not retain_graph
    previous = state.grad_enabled
    state.grad_enabled = create_graph  # the rules record only to differentiate them again
    try:
        if anomaly.enabled:
            _checked_pass(flow, create_graph, free, batch_ndim)
        else:
            for node, cotangent in flow.received():
                pullback(node, cotangent, create_graph, free, batch_ndim, flow)
    finally:
        state.grad_enabled = previous
    return flow.leaves, flow.captured, flow.retained


def _checked_pass(flow: _Pass, create_graph: bool, free: bool, batch_ndim: int) -> None:
    """The pass under anomaly detection (:mod:`chainrule.anomaly`): each rule's result is
    checked for NaN, an error in a node's rules is told where the node was created, and the
    nodes let go of their saved values only once the whole pass has succeeded, so that a
    failure leaves the graph as it was (the leaves' ``.grad`` are written after the pass)."""
    ran = []
    for node, cotangent in flow.received():
        with blame(node):
            grads = pullback(node, cotangent, create_graph, False, batch_ndim)
            if anomaly.checking:
                for index, grad in enumerate(grads):
                    if grad is not None:
                        check_cotangent(node, index, grad)
        for parent, grad in zip(node.parents, grads):
            if grad is not None:
                flow.send(parent, grad)
        ran.append(node)
    if free:
        for node in ran:
            node.saved = node.ans = None


class _Pass:
    """One backward pass's cotangents in flight: ``pending`` (node -> its cotangent so far),
    the nodes waiting in creation order, what the pass captures and collects."""

    __slots__ = (
        "pending", "heap", "following", "leaves", "retained", "captured", "capture", "constant",
        "create_graph",
    )

    def __init__(self, roots: Sequence[Tensor], cotangents: Sequence[Any], create_graph: bool):
        self.pending: dict[Node, Any] = {}
        self.leaves: dict[int, list] = {}  # id(leaf) -> [leaf, its summed cotangent]
        self.retained: list = []
        self.captured: dict[Node, Any] = {}
        self.capture: Any = ()
        self.constant: Callable[[Node], bool] | None = None
        self.create_graph = create_graph
        for root, cotangent in zip(roots, cotangents, strict=True):
            node = root._node
            if node is not None:
                pending = self.pending
                pending[node] = pending[node] + cotangent if node in pending else cotangent
            elif root._requires_grad:
                self.add_leaf(root, cotangent)
        self.heap = [(-node.seq, node) for node in self.pending]
        heapq.heapify(self.heap)
        self.following: Node | None = None  # the next node, when known without the heap

    def stop_at(self, targets: Sequence[Tensor] | None, constant: Callable | None) -> None:
        """Capture the cotangents of the targets that are not leaves. When only such are
        wanted, nothing made before the earliest of them can be on a path from the roots to
        one (a node's consumers come after it), so those nodes, and the earliest itself, are
        constants to this pass: their rules do not run, their hooks do not fire and their saved
        values stay, as torch.autograd.grad stops there."""
        capture = {t._node for t in targets if t._node is not None} if targets else ()
        if capture and len(capture) == len(targets):
            floor = min(node.seq for node in capture)
            below = constant
            constant = (lambda node: node.seq <= floor) if below is None else (
                lambda node: node.seq <= floor or below(node)
            )
        self.capture, self.constant = capture, constant

    def received(self) -> Iterator[tuple[Node, Any]]:
        """Schedule and receive: each node that has a cotangent, latest-created first, with that
        cotangent, now complete (see the module docstring), after the node's checks and hooks.
        A node that is a constant to this pass is skipped (its cotangent captured if wanted)."""
        heap, pending, capture, constant = self.heap, self.pending, self.capture, self.constant
        while True:
            node = self.following
            if node is not None:
                self.following = None
            elif heap:
                node = heapq.heappop(heap)[1]
            else:
                return
            cotangent = pending.pop(node)
            if constant is not None and constant(node):
                if node in capture:
                    self.captured[node] = cotangent
                continue
            versions = node.versions
            # (inline for the commonest case, one saved value unchanged)
            if node.saved is None or versions and (
                len(versions) != 2 or versions[0][0] != versions[1]
            ):
                node.check()
            if node.hooks:
                cotangent = node_hooks(node.hooks, cotangent, self.create_graph, self.retained)
            if capture and node in capture:
                self.captured[node] = cotangent
            yield node, cotangent

    def wait(self, parent: Node) -> None:
        """Schedule ``parent``, which has just been sent its first cotangent. A chain (the heap
        empty, one new parent) needs no heap: that parent is next; a second one sends both to
        the heap."""
        if self.following is None and not self.heap:
            self.following = parent
            return
        if self.following is not None:
            heapq.heappush(self.heap, (-self.following.seq, self.following))
            self.following = None
        heapq.heappush(self.heap, (-parent.seq, parent))

    def send(self, parent: Node | Tensor, grad: Any) -> None:
        """Send ``grad`` to ``parent``: summed into what it has pending (a node) or collected
        (a leaf)."""
        if type(parent) is not Node:
            self.add_leaf(parent, grad)
        elif parent in self.pending:
            self.pending[parent] = sum_into(self.pending[parent], grad)
        else:
            self.pending[parent] = grad
            self.wait(parent)

    def add_leaf(self, leaf: Tensor, grad: Any) -> None:
        entry = self.leaves.get(id(leaf))
        if entry is None:
            self.leaves[id(leaf)] = [leaf, grad]
        else:
            entry[1] = sum_into(entry[1], grad)


def pullback(
    node: Node, cotangent: Any, differentiable: bool = False, free: bool = False,
    batch_ndim: int = 0, flow: _Pass | None = None,
) -> list | None:
    """Run ``node``'s reverse rules on ``cotangent`` and send each input its cotangent, in the
    input's shape and dtype, in the pass ``flow`` (without one: return them, None where none
    flows). ``differentiable``: the rules run on linked tensors and record. ``free``: the node
    lets go of its saved values; then the last rule may overwrite the cotangent and the freed
    values when nothing else holds them (:mod:`chainrule.donation`). ``batch_ndim``: leading
    batch axes of the cotangent, which every result keeps."""
    parents = node.parents
    saved, ans = node.saved, node.ans
    last = -1  # the last rule to run, which may overwrite what only the engine holds
    if differentiable or node.saves_tensors:  # (linked, or packed by saved-value hooks)
        saved, ans = link(node, differentiable)
    elif type(cotangent) is np.ndarray and cotangent.size >= DONATE_MIN:
        last = len(parents) - 1
        while parents[last] is None:
            last -= 1
    if free:
        node.saved = node.ans = None
    prim = node.prim
    rules = prim.vjps * len(parents) if prim.variadic else prim.vjps
    params, shapes, ans_shape = node.params, node.shapes, node.ans_shape
    grads = None if flow is not None else [None] * len(parents)
    pending = None if flow is None else flow.pending
    index = -1
    for parent in parents:
        index += 1
        if parent is None:
            continue
        rule = rules[index]
        if index == last and rule.donates:  # (what is donated is read after the other rules)
            donated = donatable(cotangent, saved, ans, free)
            grad = rule.call(cotangent, saved, ans, params, shapes, index, ans_shape, donated)
        else:
            grad = rule.call(cotangent, saved, ans, params, shapes, index, ans_shape)
        if grad is None:  # a symbolic zero
            continue
        # The parent's value: its shape and dtype are what the gradient must have.
        if type(parent) is Node:
            shape, dtype = parent.ans_shape, parent.ans_dtype
        else:
            shape, dtype = parent._array.shape, parent._array.dtype
        if grad.shape != shape and grad.shape[batch_ndim:] != shape:
            grad = _summed_to_shape(grad, shape, node, index, batch_ndim)
        if grad.dtype is not dtype and grad.dtype != dtype:  # (NumPy's are singletons)
            grad = _cast(grad, dtype)
        # send (as _Pass.send, inline: one call fewer per input)
        if flow is None:
            grads[index] = grad
        elif type(parent) is not Node:
            flow.add_leaf(parent, grad)
        elif parent in pending:
            pending[parent] = sum_into(pending[parent], grad)
        else:
            pending[parent] = grad
            flow.wait(parent)
    return grads


def link(node: Node, differentiable: bool = True) -> tuple:
    """The node's saved inputs and output as tensors connected to the graph, so that rules run
    on them record (create_graph) and carry their tangents (forward over reverse); values that
    saved-value hooks packed are unpacked first (and stay raw arrays for the fast path)."""
    saved, ans = node.saved, node.ans
    if type(saved) is PackedValues:
        saved, ans, linked = unpack_saved(node)
        if not (differentiable or linked):
            return saved, ans
    saved = tuple([_linked(value, parent) for value, parent in zip(saved, node.parents)])
    if ans is not None:
        linked = Tensor._wrap(ans._array if isinstance(ans, Tensor) else ans, node)
        if isinstance(ans, Tensor):
            linked._tangents = ans._tangents
        ans = linked
    return saved, ans


def _linked(value: Any, parent: Any) -> Any:
    """A saved raw value as a tensor connected to the graph it came from."""
    if value is None or isinstance(value, Tensor) or parent is None:
        return value
    if type(parent) is Node:
        return Tensor._wrap(value, parent)
    return parent  # a leaf tensor: the value is its data


def _summed_to_shape(grad: Any, shape: tuple, node: Node, index: int, batch_ndim: int) -> Any:
    """A rule's result that has not its input's ``shape``: summed down to it if the primitive
    broadcasts its inputs; any other mismatch is a wrong rule, named in the error."""
    prim = node.prim
    found = grad.shape[batch_ndim:]
    broadcasting = prim.broadcasting
    if broadcasting and len(found) >= len(shape):
        for size, other in zip(reversed(shape), reversed(found)):
            if size != 1 and size != other:
                break
        else:  # the shape the input was broadcast to
            return unbroadcast(grad, shape, batch_ndim)
    if len(found) == len(shape) and all(map(backends.same_size, found, shape)):
        return grad  # (sizes a lazy array does not know yet)
    name = prim.inputs[index] if index < len(prim.inputs) else f"{prim.variadic}[{index}]"
    batch = f" (after {batch_ndim} batch axes)" if batch_ndim else ""
    raise RuntimeError(
        f"the reverse rule of {prim.name} for input {index} ({name}) returned shape "
        f"{tuple(grad.shape)}, but that input has shape {shape}{batch}: a rule must return a "
        f"cotangent of its input's shape"
        + ("" if broadcasting else f" ({prim.name} is not declared broadcasting)")
    )


def unbroadcast(cotangent: Any, shape: tuple, batch_ndim: int) -> Any:
    """Sum ``cotangent`` down to ``shape`` (after ``batch_ndim`` leading batch axes), which
    it broadcasts to."""
    gshape = cotangent.shape
    if gshape[batch_ndim:] == shape:
        return cotangent
    target = gshape[:batch_ndim] + shape
    lead = len(gshape) - batch_ndim - len(shape)
    axes = tuple(range(batch_ndim, batch_ndim + lead))
    axes += tuple(
        batch_ndim + lead + i
        for i, size in enumerate(shape)
        if size == 1 and gshape[batch_ndim + lead + i] != 1
    )
    if not isinstance(cotangent, Tensor):  # first order: NumPy directly, one reduction
        # The sum itself when it has the right shape, not a view of it, so that a leaf can
        # adopt it as its .grad without a copy
        if not lead:
            return sum_axes(cotangent, axes, True)
        if len(axes) == lead:
            return sum_axes(cotangent, axes, False)
        return reduce(np.add, cotangent, axes, True).reshape(target)

    if axes:
        cotangent = sum_(cotangent, axis=axes)
    return reshape(cotangent, shape=target)


def _cast(cotangent: Any, dtype: np.dtype) -> Any:
    if cotangent.dtype == dtype:
        return cotangent
    if not isinstance(cotangent, Tensor):  # first order: NumPy directly
        if cotangent.dtype.kind == "c" and dtype.kind != "c":
            cotangent = cotangent.real
        return cotangent.astype(dtype)

    if cotangent.dtype.kind == "c" and dtype.kind != "c":
        cotangent = real(cotangent)
    return astype(cotangent, dtype=dtype)


calibrate(backpropagate)


def _reachable(nodes: Any) -> set:
    """The nodes reachable from ``nodes`` (checking each one's saved values on the way)."""
    reached = {node for node in nodes if type(node) is Node}
    stack = list(reached)
    while stack:
        node = stack.pop()
        node.check()
        for parent in node.parents:
            if type(parent) is Node and parent not in reached:
                reached.add(parent)
                stack.append(parent)
    return reached


_UNUSED = (
    "one of the differentiated tensors was not used to compute the outputs, so it has no "
    "gradient; pass allow_unused=True to get None for it, or remove it from the inputs"
)


def _check_used(targets: Sequence[Tensor], roots: Sequence[Tensor], reached: set) -> None:
    """Raise, before anything runs or is freed, if a target is not reachable from the roots."""
    leaves = {id(root) for root in roots if root._node is None}
    if any(target._node is None for target in targets):
        for node in reached:
            for parent in node.parents:
                if parent is not None and type(parent) is not Node:
                    leaves.add(id(parent))
    for target in targets:
        used = target._node in reached if target._node is not None else id(target) in leaves
        if not used:
            raise RuntimeError(_UNUSED)


def _root_cotangent(root: Tensor, gradient: Any, create_graph: bool) -> Any:
    """The cotangent a root starts with, in the engine's convention (see ``conj_if_complex``)."""
    if gradient is None:
        if root._array.size != 1 and not root._implicit_sum:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has shape "
                f"{root.shape}. Pass gradient= (grad_outputs= in cr.gradients), a tensor of that "
                f"shape such as cr.ones_like(y), or reduce it first, e.g. y.sum().backward()"
            )
        if root._array.dtype.kind == "c":
            raise RuntimeError(
                f"grad can be implicitly created only for real scalar outputs; this output is "
                f"{root._array.dtype}. Differentiate a real loss (e.g. cr.abs(y) ** 2 or y.real), "
                f"or pass gradient= to say which combination of its real and imaginary parts"
            )
        data = root._array
        # (np.array is a quarter of np.ones's cost for the usual scalar loss)
        cotangent = (
            (np.array(1, data.dtype) if not data.ndim else np.ones(data.shape, data.dtype))
            if backends.is_numpy(data) else backends.ones(data.shape, data.dtype, like=data)
        )
    else:
        cotangent = gradient._array if isinstance(gradient, Tensor) else backends.asarray(
            gradient, like=root._array)
        if cotangent.dtype.kind == "c" and root._array.dtype.kind != "c":
            raise RuntimeError(
                f"gradient is complex ({cotangent.dtype}) but the output is real "
                f"({root._array.dtype}); a real output's gradient is real: pass its real part"
            )
        if cotangent.shape != root.shape:
            raise RuntimeError(
                f"gradient has shape {cotangent.shape} but the output has shape {root.shape}; "
                f"they must match"
            )
        if isinstance(gradient, Tensor) and (create_graph or gradient._tangents):
            # recorded, or carrying forward-mode tangents (jvp of a vjp): it flows as a tensor
            if gradient.dtype != root.dtype:
                gradient = gradient.astype(root.dtype)
            return conj_if_complex(gradient)
        # A copy: the caller keeps ``gradient``, and it may flow unchanged into a ``.grad``.
        cotangent = conj_if_complex(backends.copy(cotangent, root._array.dtype))
    return Tensor._wrap(cotangent, cls=root._op_class) if create_graph else cotangent


_NOTHING_TO_BACKPROPAGATE = (
    "this tensor does not require grad and has no grad_fn, so there is nothing to "
    "backpropagate: create the inputs with requires_grad=True (or call "
    "x.requires_grad_() / x.attach_grad()) before computing it, outside no_grad()"
)
_INPUT_WITHOUT_GRAD = (
    "one of the inputs does not require grad; create it with requires_grad=True"
)


def _check_differentiable(tensors: Sequence[Any], what: str, refusal: str) -> None:
    """Each of ``tensors`` (roots, or inputs to differentiate with respect to) is a tensor
    that requires grad, or a TypeError/RuntimeError says which rule it breaks."""
    for tensor in tensors:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{what} tensors, got {type(tensor).__name__}")
        if not tensor._requires_grad:
            raise RuntimeError(refusal)


def backward(
    roots: Tensor | Sequence[Tensor],
    gradients: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Backpropagate from ``roots`` (one tensor, or several in one pass, their gradients
    summed) into the leaves' ``.grad`` (see ``Tensor.backward``)."""
    if isinstance(roots, Tensor):
        roots, gradients = [roots], [gradients]
    else:
        roots = list(roots)
        if gradients is None or isinstance(gradients, Tensor):
            gradients = [gradients] * len(roots)
    _check_differentiable(roots, "can only differentiate", _NOTHING_TO_BACKPROPAGATE)
    if retain_graph is None:
        retain_graph = create_graph
    cotangents = [
        _root_cotangent(root, gradient, create_graph)
        for root, gradient in zip(roots, gradients, strict=True)
    ]
    targets = None
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        targets = list({id(target): target for target in targets}.values())  # each once
    leaves, captured, retained = backpropagate(
        roots, cotangents, retain_graph=retain_graph, create_graph=create_graph,
        targets=targets,
    )
    # Every hook runs before anything is written: a hook that raises leaves every .grad alone.
    writes = [(leaf, leaf_gradient(leaf, grad, create_graph)) for leaf, grad in leaves.values()]
    if targets is not None:
        allowed = {id(t) for t in targets if t._node is None}
        writes = [(leaf, grad) for leaf, grad in writes if id(leaf) in allowed]
        for target in targets:
            if target._node is not None and target._node in captured:
                writes.append((target, conj_if_complex(captured[target._node])))
    commit(writes, retained, create_graph)


def gradients(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    batch_ndim: int = 0,
    constant: Callable[[Node], bool] | None = None,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    PyTorch's ``torch.autograd.grad``: ``grad_outputs`` weights non-scalar outputs.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (dx,) = cr.gradients(x ** 2, x, create_graph=True)
    >>> dx, cr.gradients(dx, x)[0]
    (tensor(6., grad_fn=<MultiplyBackward>), tensor(2.))
    """
    outputs, grad_outputs = _outputs_and_weights(outputs, grad_outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    _check_differentiable(inputs, "inputs must be", _INPUT_WITHOUT_GRAD)
    if retain_graph is None:
        retain_graph = create_graph
    if batch_ndim:
        cotangents = [conj_if_complex(cotangent) for cotangent in grad_outputs]
    else:
        cotangents = [
            _root_cotangent(output, gradient, create_graph)
            for output, gradient in zip(outputs, grad_outputs, strict=True)
        ]
    leaves, captured, retained = backpropagate(
        outputs, cotangents, retain_graph=retain_graph, create_graph=create_graph,
        targets=inputs, batch_ndim=batch_ndim, allow_unused=allow_unused,
        constant=constant,
    )
    results = []
    taken: set = set()
    for tensor in inputs:
        if tensor._node is None:
            entry = leaves.get(id(tensor))
            grad = None if entry is None else leaf_gradient(tensor, entry[1], create_graph)
        else:
            grad = captured.get(tensor._node)
            grad = None if grad is None else conj_if_complex(grad)
        if grad is None and not allow_unused:
            raise RuntimeError(_UNUSED)
        if grad is not None and not isinstance(grad, Tensor):
            # Two inputs may receive the same array (``add`` passes it through): one each.
            grad = Tensor._wrap(adopt(grad, taken), cls=tensor._op_class)
        results.append(grad)
    if not batch_ndim:  # (as PyTorch, retain_grad sees this pass too, unless batched)
        commit([], retained, create_graph)
    return tuple(results)


def _outputs_and_weights(outputs: Any, grad_outputs: Any) -> tuple[list, list]:
    """``gradients``' outputs and their weights (None: implicit), as lists of one per output."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif (isinstance(grad_outputs, (Tensor, np.ndarray)) or np.isscalar(grad_outputs)
          or backends.is_foreign(grad_outputs)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give one per output"
        )
    _check_differentiable(outputs, "can only differentiate", _NOTHING_TO_BACKPROPAGATE)
    return outputs, grad_outputs
