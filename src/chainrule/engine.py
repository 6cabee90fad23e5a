"""The reverse-mode engine.

Recording. Every primitive applied to a tensor that requires grad makes one :class:`Node`. A node
knows its primitive, the static parameters, its *parents* (for each input: the node that made
it, the leaf tensor itself, or None when no gradient flows there) and the raw arrays its
derivative rules will read. It never holds its own output tensor, so graphs contain no reference
cycles and die with the last tensor that points into them.

Backward. ``run`` is one iterative pass, so a graph a million nodes deep is fine. Every node
carries its creation number, and a node's consumers were all created after it, so taking the
nodes that have received a cotangent latest-first (a heap) reaches each node only once all its
consumers have handed it theirs: its cotangent, summed in ``pending``, is complete, and is
dropped as soon as the node has run. No dependency counting, and nodes no cotangent reaches
are never visited. Before a node's rules run, it checks that its saved values are still there
and unchanged (version counters). Each rule's result is summed down to its input's shape here,
in one place (DESIGN.md decision 2), and cast to its dtype: the shape and dtype of the parent's
value (its node's output, or the leaf's array), so nodes store none per input. A node's last
rule may overwrite big arrays that only the engine holds (donation, below ``run``), so a long
chain of elementwise ops on big arrays runs without new buffers. Leaf gradients are collected and
written only at the end, so an error leaves every ``.grad`` as it was; ``gradients()`` that
must refuse an unused input walks the graph first, so that refusal frees nothing.

Writing ``.grad`` (decision 5). A later backward adds into the existing buffer in place, so a
buffer must belong to its ``.grad`` alone: :func:`_adopt` takes the engine's own fresh arrays
and copies anything the user or another gradient may hold.

Two speeds. Without ``create_graph`` rules run on raw NumPy arrays with recording off: the fast
first-order path. With ``create_graph`` (or when saved values carry forward-mode tangents) the
saved arrays are rewrapped as tensors linked to their parents, and the rules, written in
chainrule's own ops, record a new graph: gradients of gradients come for free.
"""

from __future__ import annotations

import heapq
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .kernels import sum_axes
from .modes import state
from .node import Node, Retain
from .tensor import Tensor


def _adopt(array: Any, taken: set) -> np.ndarray:
    """``array`` itself if it may become a ``.grad`` buffer, else a copy (decision 5).

    A buffer that later backwards add into in place must belong to that ``.grad`` alone. The
    arrays the engine hands over are results of the rules, with two exceptions handled where
    they arise: the user's ``gradient=`` is copied on entry and so is what a hook returns. What
    remains is sharing *within* one pass: a rule that passes its cotangent through unchanged
    (``add``) gives the same array to two inputs, so ``taken`` holds the ids already adopted.
    Views and read-only arrays (from ``reshape``, ``broadcast_to``) are always copied.
    """
    if (
        type(array) is np.ndarray
        and array.base is None
        and array.flags.writeable
        and id(array) not in taken
    ):
        taken.add(id(array))
        return array
    return np.array(array)


def unbroadcast(cotangent: Any, shape: tuple, batch_ndim: int) -> Any:
    """Sum ``cotangent`` down to ``shape`` (after ``batch_ndim`` leading batch axes)."""
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
        if lead < 0:
            return np.broadcast_to(cotangent, target)
        # The sum itself when it has the right shape, not a view of it, so that a leaf can
        # adopt it as its .grad without a copy (_adopt)
        if not lead:
            return sum_axes(cotangent, axes, True)
        if len(axes) == lead:
            return sum_axes(cotangent, axes, False)
        return np.add.reduce(cotangent, axis=axes, keepdims=True).reshape(target)
    from .ops import broadcast_to, reshape
    from .ops import sum as sum_

    if lead < 0:  # a rule returned something smaller: broadcast it up
        return broadcast_to(cotangent, shape=target)
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
    from .ops import astype, real

    if cotangent.dtype.kind == "c" and dtype.kind != "c":
        cotangent = real(cotangent)
    return astype(cotangent, dtype=dtype)


def _collect(roots: Sequence[Any]) -> dict:
    """Count, for each node reachable from ``roots``, how many recorded edges point to it
    (checking each one's saved values on the way)."""
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


_UNUSED = (
    "one of the differentiated tensors was not used to compute the outputs, so it has no "
    "gradient; pass allow_unused=True to get None for it, or remove it from the inputs"
)


def _check_used(targets: Sequence[Tensor], roots: Sequence[Tensor], deps: dict) -> None:
    """Raise, before anything runs or is freed, if a target is not reachable from the roots."""
    leaves = {id(root) for root in roots if root._node is None}
    if any(target._node is None for target in targets):
        for node in deps:
            for parent in node.parents:
                if parent is not None and type(parent) is not Node:
                    leaves.add(id(parent))
    for target in targets:
        used = target._node in deps if target._node is not None else id(target) in leaves
        if not used:
            raise RuntimeError(_UNUSED)


def run(
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
    :func:`commit`).
    """
    pending: dict[Any, Any] = {}
    leaves: dict[int, list] = {}
    retained: list = []
    for root, cotangent in zip(roots, cotangents, strict=True):
        node = root._node
        if node is None:
            if root._rg:
                _add_leaf(leaves, root, cotangent)
            continue
        pending[node] = pending[node] + cotangent if node in pending else cotangent
    if targets and not allow_unused:
        _check_used(targets, roots, _collect(list(pending)))
    capture = {t._node for t in targets if t._node is not None} if targets else ()
    if capture and len(capture) == len(targets):
        # Only intermediates are wanted: nothing made before the earliest of them can be on
        # a path from the roots to one (a node's consumers come after it), so those nodes,
        # and the earliest itself, are constants to this pass: their rules do not run, their
        # hooks do not fire and their saved values stay, as torch.autograd.grad stops there.
        floor = min(node.seq for node in capture)
        below = constant
        constant = (lambda node: node.seq <= floor) if below is None else (
            lambda node: node.seq <= floor or below(node)
        )
    captured: dict[Node, Any] = {}
    # Every consumer of a node was created after it, so taking nodes latest-first (a heap on
    # creation order) reaches each one only once all of its consumers have run and its
    # cotangent in ``pending`` is complete. A node no cotangent reaches is never visited.
    heap = [(-node.seq, node) for node in pending]
    heapq.heapify(heap)

    previous = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        following = None  # the next node, when it is known without the heap (see below)
        while True:
            if following is not None:
                node, following = following, None
            elif heap:
                node = heapq.heappop(heap)[1]
            else:
                break
            if constant is not None and constant(node):
                cotangent = pending.pop(node)
                if capture and node in capture:
                    captured[node] = cotangent
                continue
            versions = node.versions
            # (inline for the commonest case, one saved value unchanged)
            if node.saved is None or versions and (
                len(versions) != 2 or versions[0][0] != versions[1]
            ):
                node.check()
            cotangent = pending.pop(node)
            if node.hooks:
                cotangent = _node_hooks(node.hooks, cotangent, create_graph, retained)
            if capture and node in capture:
                captured[node] = cotangent
            prim = node.prim
            parents = node.parents
            saved = node.saved
            ans = node.ans
            if create_graph or node.tensor_mode:
                saved, ans = prim.link(node)
            rules = prim.vjps * len(parents) if prim.variadic else prim.vjps
            params = node.params
            shapes = node.shapes
            ans_shape = node.ans_shape
            if not retain_graph:
                node.saved = node.ans = None
            last = -1  # the last rule to run, which may overwrite what only the engine holds
            if (
                type(cotangent) is np.ndarray and cotangent.size >= DONATE_MIN
                and not (create_graph or node.tensor_mode)
            ):
                last = len(parents) - 1
                while parents[last] is None:
                    last -= 1
            for i, parent in enumerate(parents):
                if parent is None:
                    continue
                if i == last and rules[i].donates:  # (read after the other rules have run)
                    donated = _donatable(cotangent, saved, ans, retain_graph)
                    grad = rules[i].call(
                        cotangent, saved, ans, params, shapes, i, ans_shape, donated
                    )
                else:
                    grad = rules[i].call(cotangent, saved, ans, params, shapes, i, ans_shape)
                if grad is None:  # a symbolic zero
                    continue
                # The parent's value: its shape and dtype are what the gradient must have.
                if type(parent) is Node:
                    shape, dtype = parent.ans_shape, parent.ans_dtype
                else:
                    shape, dtype = parent._array.shape, parent._array.dtype
                # Decision 2: broadcasting is undone here, and only here.
                if grad.shape != shape and grad.shape[batch_ndim:] != shape:
                    grad = unbroadcast(grad, shape, batch_ndim)
                if grad.dtype is not dtype and grad.dtype != dtype:  # (NumPy's are singletons)
                    grad = _cast(grad, dtype)
                if type(parent) is Node:
                    if parent in pending:
                        pending[parent] = _sum_into(pending[parent], grad)
                    else:
                        pending[parent] = grad
                        # A chain (the heap empty, one new parent) needs no heap: this
                        # parent is next. A second new parent sends both to the heap.
                        if following is None and not heap:
                            following = parent
                        else:
                            if following is not None:
                                heapq.heappush(heap, (-following.seq, following))
                                following = None
                            heapq.heappush(heap, (-parent.seq, parent))
                else:
                    _add_leaf(leaves, parent, grad)
            # Let go of this node's arrays, so that the next node may be given them (donation)
            grad = cotangent = saved = ans = None
    finally:
        state.grad_enabled = previous
    return leaves, captured, retained


# Donation. A big array that only the engine holds may be overwritten by the last rule a node
# runs (no later rule reads it), which spares NumPy an allocation (and the page faults of a
# fresh buffer): the node's cotangent, and, once the graph is being freed, its saved inputs
# and output. Only the reference count sees every way a user can hold an array (a tensor, a
# view, ``t.numpy()``, a hook's argument kept aside...), so "only the engine holds it" is read
# off ``sys.getrefcount``. How many references the engine's own frames add depends on the
# interpreter (Python 3.10 keeps call arguments on the caller's stack, 3.11+ moves them), so
# no number is written here: at import, ``_calibrate`` runs the very functions below on probe
# arrays held exactly as ``run`` holds its arrays, finds the count at which each is sole, and
# checks that one reference more is refused. If that check fails (an interpreter whose counts
# do not behave, or one without a GIL), donation is switched off. Views and read-only arrays
# are never donated; small arrays are not worth the check.
DONATE_MIN = 1 << 12

# The highest reference count at which an array is the engine's alone, for each way the
# engine holds one: (a node's cotangent, a saved input, a node's output, a running sum).
# None until calibrated (nothing is donated then).
_SOLE: list = [None, None, None, None]


def _yours(array: Any, count: int, sole: Any) -> bool:
    return count <= sole and array.base is None and array.flags.writeable


def _donatable(cotangent: np.ndarray, saved: tuple, ans: Any, retain_graph: bool) -> list:
    """The ids of the arrays nobody but the engine holds (see DONATE_MIN)."""
    sole = _SOLE
    if sole[0] is None:
        return []
    donated = []
    if _yours(cotangent, sys.getrefcount(cotangent), sole[0]):
        donated.append(id(cotangent))
    if not retain_graph:  # the node has let go of its saved values: ``run`` alone holds them
        for value in saved:
            if type(value) is np.ndarray and _yours(value, sys.getrefcount(value), sole[1]):
                donated.append(id(value))
        if type(ans) is np.ndarray and _yours(ans, sys.getrefcount(ans), sole[2]):
            donated.append(id(ans))
    return donated


def _sum_into(total: Any, grad: Any) -> Any:
    """``total + grad``, added in place when only the engine holds ``total`` (a cotangent being
    summed in ``pending``, or a leaf's in ``leaves``)."""
    if (
        type(total) is np.ndarray and type(grad) is np.ndarray and _SOLE[3] is not None
        and _yours(total, sys.getrefcount(total), _SOLE[3])
        and total.shape == grad.shape and total.dtype == grad.dtype
    ):
        return np.add(total, grad, out=total)
    return total + grad


def _probe() -> np.ndarray:
    return np.zeros(2)


def _calibrate() -> None:
    """Set ``_SOLE`` by running ``_donatable`` and ``_sum_into`` on probes held as ``run`` holds
    its arrays (a local cotangent, output and tuple of saved values; a running sum in a dict or
    a list), or leave donation off if one reference more is not told apart."""
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        return  # free-threaded: counts are split between threads, do not rely on them
    found: list = [None, None, None, None]
    for limit in range(1, 32):
        _SOLE[:] = [limit] * 4
        cotangent, saved, ans = _probe(), (_probe(),), _probe()
        donated = _donatable(cotangent, saved, ans, False)
        for slot, array in enumerate((cotangent, saved[0], ans)):
            if found[slot] is None and id(array) in donated:
                found[slot] = limit
        pending = {0: _probe()}
        if found[3] is None and _sum_into(pending[0], pending[0] * 0) is pending[0]:
            found[3] = limit
        if None not in found:
            break
    _SOLE[:] = found
    if None in found or not _refuses_one_more():
        _SOLE[:] = [None, None, None, None]


def _refuses_one_more() -> bool:
    """Whether arrays the calibrated counts call sole are, and one more reference is seen."""
    cotangent, saved, ans = _probe(), (_probe(),), _probe()
    if len(_donatable(cotangent, saved, ans, False)) != 3:
        return False
    kept = [_probe(), _probe(), _probe()]
    cotangent, saved, ans = kept[0], (kept[1],), kept[2]
    if _donatable(cotangent, saved, ans, False):
        return False
    leaves = {0: [None, _probe()]}
    entry = leaves[0]
    if _sum_into(entry[1], entry[1] * 0) is not entry[1]:  # held by a list, sole
        return False
    kept_sum = entry[1]
    return _sum_into(entry[1], kept_sum * 0) is not kept_sum


_calibrate()


def _node_hooks(hooks: list, cotangent: Any, create_graph: bool, retained: list) -> Any:
    """A node's hooks on its cotangent, which they see (and return) in the user's convention.

    On the fast path what flows on is a copy of what the hooks saw, which the user may keep, so
    that a later in-place accumulation cannot reach it.
    """
    flowing = isinstance(cotangent, Tensor)  # recorded, or carrying tangents: keep it whole
    # The hooks get an array of their own: one may change it in place, and the engine's may be
    # on its way to other inputs too (``add`` hands the same cotangent to both).
    grad = _flip(cotangent if flowing else Tensor._wrap(np.array(cotangent)))
    grad = _flip(_run_hooks(hooks, grad, retained))
    if flowing or create_graph:  # (a tensor is never summed into in place)
        return grad
    return np.array(grad._array)


def _run_hooks(hooks: list, grad: Tensor, retained: list | None) -> Tensor:
    """Call each hook with the gradient; a result that is not None replaces it (checked: same
    shape, a floating dtype cast to the gradient's). ``retain_grad``'s hook (:class:`Retain`,
    last) puts the gradient in ``retained`` instead."""
    for hook in hooks:
        if type(hook) is Retain:
            if retained is not None:
                retained.append((hook.ref, grad))
            continue
        result = hook(grad)
        if result is not None:
            grad = _hook_result(hook, grad, result)
    return grad


def _hook_result(hook: Callable, grad: Tensor, result: Any) -> Tensor:
    """What a hook returned, as the gradient that flows on: refused if it is not an array of
    the gradient's shape and kind (real or complex floating); another precision is cast."""
    name = getattr(hook, "__qualname__", None) or repr(hook)
    if not isinstance(result, Tensor):
        if not isinstance(result, (np.ndarray, np.generic)):
            raise TypeError(
                f"hook '{name}' returned a {type(result).__name__}; a hook returns a tensor of "
                f"the gradient's shape, or None to leave the gradient as it is"
            )
        result = Tensor._wrap(np.asarray(result))
    if result._array.shape != grad._array.shape:
        raise RuntimeError(
            f"hook '{name}' has changed the size of value: the gradient has shape "
            f"{grad._array.shape} and the hook returned shape {result._array.shape}; a hook must "
            f"return a gradient of the same shape (or None)"
        )
    dtype = grad._array.dtype
    if result._array.dtype != dtype:
        kind = result._array.dtype.kind
        if kind not in "fc" or (kind == "c") != (dtype.kind == "c"):
            raise RuntimeError(
                f"hook '{name}' has changed the type of value from {dtype} to "
                f"{result._array.dtype}; a hook must return a {dtype} gradient (another "
                f"floating precision is cast to it)"
            )
        result = result.astype(dtype)
    return result


def _leaf_grad(leaf: Tensor, grad: Any, create_graph: bool) -> Any:
    """A leaf's gradient in the user's convention, after the leaf's hooks."""
    grad = _flip(grad)
    hooks = leaf._hooks
    if not hooks:
        return grad
    if isinstance(grad, Tensor):
        return _run_hooks(hooks, grad, None)
    grad = _run_hooks(hooks, Tensor._wrap(np.array(grad)), None)  # (their own, as above)
    return grad if create_graph else np.array(grad._array)


def _flip(value: Any) -> Any:
    """Between the engine's convention for complex cotangents and the user's: the conjugate.

    Rules are transposes of their tangent rules (``g * f'(z)``, as JAX's and HIPS autograd's),
    with no conjugates to get wrong; the user sees PyTorch's convention (for a real loss L,
    the gradient of z is dL/dRe z + i dL/dIm z, so that ``z -= lr * z.grad`` descends), which
    is the conjugate. Cotangents are conjugated where they enter (``gradient=``) and leave
    (``.grad``, ``gradients``, hooks). Real values are their own conjugates."""
    if value.dtype.kind != "c":
        return value
    if isinstance(value, Tensor):
        from .ops import conj

        return conj(value)
    return np.conj(value)


def _add_leaf(leaves: dict, leaf: Tensor, grad: Any) -> None:
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, grad]
    else:
        entry[1] = _sum_into(entry[1], grad)


def _root_cotangent(root: Tensor, gradient: Any, create_graph: bool) -> Any:
    """The cotangent a root starts with, in the engine's convention (see ``_flip``)."""
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
        cotangent = np.array(1, data.dtype) if not data.ndim else np.ones(data.shape, data.dtype)
    else:
        cotangent = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
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
            return _flip(gradient)
        # A copy: the caller keeps ``gradient``, and it may flow unchanged into a ``.grad``.
        cotangent = _flip(np.array(cotangent, dtype=root._array.dtype))
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
    _check_roots(roots)
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
    leaves, captured, retained = run(
        roots, cotangents, retain_graph=retain_graph, create_graph=create_graph,
        targets=targets,
    )
    # Every hook runs before anything is written: a hook that raises leaves every .grad alone.
    writes = [(leaf, _leaf_grad(leaf, grad, create_graph)) for leaf, grad in leaves.values()]
    if targets is not None:
        allowed = {id(t) for t in targets if t._node is None}
        writes = [(leaf, grad) for leaf, grad in writes if id(leaf) in allowed]
        for target in targets:
            if target._node is not None and target._node in captured:
                writes.append((target, _flip(captured[target._node])))
    commit(writes, retained, create_graph)


# Writing gradients into ``.grad``: one backward's writes happen together under this lock, so
# that threads running backward into the same leaves lose no addition (np.add releases the GIL).
_GRAD_LOCK = threading.Lock()


def commit(writes: list, retained: list, create_graph: bool) -> None:
    """Write a finished pass's gradients: ``writes`` (tensor, gradient) by each tensor's
    ``grad_req``, and the gradients of tensors that ``retain_grad`` (summed into their
    ``.grad``). Nothing here can fail once the pass has run (``.grad`` is checked when
    assigned), so a backward writes all of its gradients or none."""
    taken: set = set()
    with _GRAD_LOCK:
        for tensor, grad in writes:
            _accumulate(tensor, grad, create_graph, taken)
        for ref, grad in retained:
            owner = ref()
            if owner is not None:
                owner._grad = grad if owner._grad is None else owner._grad + grad


def _accumulate(leaf: Tensor, grad: Any, create_graph: bool, taken: set) -> None:
    """Write one backward's gradient into ``leaf.grad`` by the leaf's ``grad_req``."""
    req = leaf._grad_req
    if req == "null" or not leaf._rg:  # (requires_grad_(False) since the graph was made)
        return
    current = leaf._grad
    if create_graph or isinstance(grad, Tensor):
        grad = grad if isinstance(grad, Tensor) else Tensor._wrap(grad, cls=leaf._op_class)
        leaf._grad = grad if req == "write" or current is None else current + grad
        return
    if current is None:
        leaf._grad = Tensor._wrap(_adopt(grad, taken), cls=leaf._op_class)
        return
    buffer = current._array
    if not (isinstance(buffer, np.ndarray) and buffer.flags.writeable):
        current._array = buffer = np.array(buffer)
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
        cotangents = [_flip(cotangent) for cotangent in grad_outputs]
    else:
        cotangents = [
            _root_cotangent(output, gradient, create_graph)
            for output, gradient in zip(outputs, grad_outputs, strict=True)
        ]
    leaves, captured, retained = run(
        outputs, cotangents, retain_graph=retain_graph, create_graph=create_graph,
        targets=inputs_list, batch_ndim=batch_ndim, allow_unused=allow_unused,
        constant=constant,
    )
    results = []
    taken: set = set()
    for tensor in inputs_list:
        if tensor._node is None:
            entry = leaves.get(id(tensor))
            grad = _leaf_grad(tensor, entry[1], create_graph) if entry is not None else None
        else:
            grad = captured.get(tensor._node)
            grad = None if grad is None else _flip(grad)
        if grad is None:
            if not allow_unused:
                raise RuntimeError(_UNUSED)
            results.append(None)
            continue
        if not isinstance(grad, Tensor):
            # Two inputs may receive the same array (``add`` passes it through): one each.
            grad = Tensor._wrap(_adopt(grad, taken), cls=tensor._op_class)
        results.append(grad)
    if not batch_ndim:  # (as PyTorch, retain_grad sees this pass too, unless batched)
        commit([], retained, create_graph)
    return tuple(results)
