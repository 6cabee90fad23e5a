"""Checkpointing (rematerialization): ``cr.checkpoint(f)``, JAX's ``jax.checkpoint``.

A call of a checkpointed function that reverse mode differentiates is one application of a
primitive of the op table, ``checkpoint_call``: its inputs are the tensors among the arguments
and the tensors the function closes over that gradients reach (its *boundary*), its output the
function's differentiable result leaves (packed into one array when there are several, then
unpacked by recorded ops), its static parameter the call (:class:`_Call`). So recording, the
engine, hooks, the tape and the transforms treat it as any other op.

- Forward: the function runs once, recording, on stand-ins for its tensor arguments (same
  memory, no history); walking that graph back from the outputs finds the boundary. Then the
  graph is dropped: what stays is the op's node, which saves the inputs only.
- Backward (the op's reverse rule): the function runs again, recording, with the random
  generator in the state it had at the first run (``preserve_rng_state``), and the engine pulls
  the cotangent back through that graph to the stand-ins and the boundary. Leading batch axes
  of the cotangent (``jacrev``, ``vjp`` of a batch) go through the engine as they are. Under
  ``create_graph`` the stand-ins are connected to the op's inputs, so the cotangents are
  differentiable again (grad of grad).
- Forward mode just differentiates the function: with tangents present it runs as it is.

A rerun must rebuild exactly what the first run computed. The versions of the values the first
run's nodes saved are kept (a few integers): a rerun that sees other versions (the function
changed a tensor it closes over in place, or something changed one between forward and
backward) raises instead of giving a wrong gradient, and so does a function that changes its
own arguments in place.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import backends, random
from .engine import backpropagate
from .modes import record, state
from .node import Node, creation_order
from .ops import astype, identity, reshape
from .ops.primitive import Primitive
from .saved_hooks import suspended
from .tensor import Tensor, array_of
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["checkpoint"]


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))


def _visible_tangents(value: Any) -> bool:
    return isinstance(value, Tensor) and bool(value._tangents) and any(
        level < state.ceiling for level in value._tangents
    )


class checkpoint:  # noqa: N801 - JAX's name
    """``fun`` made to keep only its inputs for backward, and rerun to rebuild the rest.

    Use it as ``cr.checkpoint(f)(*args)`` or as a decorator. Arguments and results are pytrees;
    tensors the function closes over get their gradients too. A forward pass through a
    checkpointed function keeps none of what it computes inside; its backward pass runs it
    again. Random numbers drawn inside come out the same on the rerun
    (``preserve_rng_state=False`` skips restoring the generator).

    >>> import chainrule as cr
    >>> w = cr.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    >>> @cr.checkpoint
    ... def block(x):
    ...     return cr.tanh(x @ w)
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> block(block(x)).sum().backward()
    >>> x.grad
    tensor([[-1.389376  ,  0.34741664]])
    >>> cr.grad(lambda x: block(block(x)).sum())(x).detach()
    tensor([[-1.389376  ,  0.34741664]])
    """

    def __init__(self, fun: Callable, *, preserve_rng_state: bool = True) -> None:
        if not callable(fun):
            raise TypeError(f"checkpoint expects a function, got {type(fun).__name__}")
        self.fun = fun
        self.preserve_rng_state = preserve_rng_state
        functools.update_wrapper(self, fun)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """As a decorated method: bound to its instance."""
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves, treedef = tree_flatten((args, kwargs))
        if not state.grad_enabled or any(_visible_tangents(leaf) for leaf in leaves):
            return self.fun(*args, **kwargs)  # nothing recorded, or forward mode: f itself
        call = _Call(self, treedef, leaves)
        checkpointed, out = call.first_run(leaves)
        return call.apply(leaves) if checkpointed else out


class _Call:
    """One call of a checkpointed function: what rerunning it needs (the op's static parameter).

    It holds the arguments that are not tensors, where the tensors go, the random generator's
    state, the boundary, the saved versions, the outputs' layout and the output's memory; none
    of the values the function computed inside (the inputs' are the op's saved values).
    """

    __slots__ = (
        "function", "treedef", "static", "positions", "classes", "requires", "rng", "boundary",
        "versions", "out_treedef", "out_leaves", "packed", "shapes", "dtypes", "out_classes",
        "value", "cache", "last", "first",
    )

    def __init__(self, function: checkpoint, treedef: Any, leaves: list) -> None:
        self.function, self.treedef = function, treedef
        self.positions = [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor)]
        self.static = [None if isinstance(leaf, Tensor) else leaf for leaf in leaves]
        self.classes = [leaves[i]._op_class for i in self.positions]
        self.requires = [leaves[i]._requires_grad for i in self.positions]
        self.rng = random._generator.bit_generator.state if function.preserve_rng_state else None
        self.cache: tuple | None = None
        self.value: Any = None

    def run(self, stand_ins: list, again: bool) -> tuple[Any, int]:
        """The function on ``stand_ins`` in place of the tensor arguments; its result and the
        creation number it started at. Run ``again`` (for backward) it records whatever the
        caller's mode (``record``: a record-only tensor class, TensorFlow's or MXNet's, too),
        with the random generator in the state the first run found it in."""
        leaves = list(self.static)
        for position, stand_in in zip(self.positions, stand_ins, strict=True):
            leaves[position] = stand_in
        args, kwargs = tree_unflatten(self.treedef, leaves)
        with record() if again else contextlib.nullcontext(), _generator_state(
            self.rng if again else None
        ), suspended():
            start = next(creation_order)
            return self.function.fun(*args, **kwargs), start

    def first_run(self, leaves: list) -> tuple[bool, Any]:
        """Run the function on stand-ins (the arguments' memory, no history) and find its
        boundary and outputs. Returns (True, None) when the call is to be checkpointed, else
        (False, its result): no output needs a gradient, or one carries tangents (forward
        mode)."""
        stand_ins = [
            _stand_in(leaves[i]._array, None, cls, requires)
            for i, cls, requires in zip(self.positions, self.classes, self.requires, strict=True)
        ]
        out, start = self.run(stand_ins, again=False)
        if any(s._version[0] for s in stand_ins):
            raise RuntimeError(
                f"the checkpointed function {_name(self.function.fun)} changed one of its "
                f"arguments in place; a checkpointed function is run again for backward, so it "
                f"must leave its arguments as they are: work on a copy (x = x.clone() or "
                f"x.copy()) or make the update out of place"
            )
        out_leaves, self.out_treedef = tree_flatten(out)
        self.packed = [k for k, v in enumerate(out_leaves)
                       if isinstance(v, Tensor) and v._requires_grad]
        outputs = [out_leaves[k] for k in self.packed]
        self.boundary, self.versions = _walk(outputs, start, stand_ins)
        if any(_visible_tangents(v) for v in out_leaves + self.boundary):
            # a tensor it closes over carries tangents: forward mode, the function itself (drawing
            # the random numbers the first run drew)
            if self.rng is not None:
                random._generator.bit_generator.state = self.rng
            args, kwargs = tree_unflatten(self.treedef, leaves)
            return False, self.function.fun(*args, **kwargs)
        if not outputs:
            return False, out
        self.set_output(out_leaves)
        return True, None

    def set_output(self, out_leaves: list) -> None:
        """The differentiable outputs' layout and values (one array); the others kept."""
        arrays = [out_leaves[k]._array for k in self.packed]
        self.shapes = [a.shape for a in arrays]
        self.dtypes = [a.dtype for a in arrays]
        self.out_classes = [type(out_leaves[k]) for k in self.packed]
        self.out_leaves = [None if k in self.packed else v for k, v in enumerate(out_leaves)]
        if len(arrays) == 1:
            self.value = arrays[0]
        else:
            dtype = np.result_type(*arrays)
            self.value = np.concatenate([np.ravel(a).astype(dtype) for a in arrays])

    @property
    def packed_ndim(self) -> int:
        return len(self.shapes[0]) if len(self.shapes) == 1 else 1

    def apply(self, leaves: list) -> Any:
        """The call as one op of the table; the result rebuilt into its pytree."""
        inputs = [leaves[i] for i in self.positions] + [_as_input(b) for b in self.boundary]
        if any(backends.may_share_memory(self.value, x._array) for x in inputs):
            self.value = self.value.copy()  # (the op's output is its own memory, not a view)
        self.last = max(k for k, x in enumerate(inputs) if x._requires_grad)
        packed = _CARRIER.apply(tuple(inputs), {"call": self})
        self.value = None
        # what the first run returned (the output's own memory, and its version: an in-place
        # update of the output is the caller's business, and then it is not compared)
        self.first = (packed._array, packed._version, packed._version[0])
        out_leaves, self.out_leaves = self.out_leaves, None
        for k, part, cls in zip(self.packed, self.unpack(packed, ()), self.out_classes,
                                strict=True):
            out_leaves[k] = part if type(part) is cls else part._derive(cls)
        return tree_unflatten(self.out_treedef, out_leaves)

    def unpack(self, packed: Any, lead: tuple) -> list:
        """The output leaves (with leading batch axes ``lead``) from the packed array: recorded
        ops on a tensor, NumPy on a raw cotangent."""
        if len(self.shapes) == 1:
            return [packed]
        parts, start = [], 0
        for shape, dtype in zip(self.shapes, self.dtypes, strict=True):
            size = math.prod(shape)
            part = reshape(packed[..., start:start + size], shape=lead + shape)
            parts.append(part if part.dtype == dtype else astype(part, dtype=dtype))
            start += size
        return parts

    def cotangents_once(self, g: Any, xs: tuple, index: int) -> Any:
        """The engine asks for one input's cotangent at a time: the function is rerun at the
        first ask for a cotangent ``g``, and every input's handed out from then on."""
        cache = self.cache
        if cache is None or cache[0] is not g:
            self.cache = cache = (g, self.rerun(g, xs))
        if index >= self.last:
            self.cache = None
        return cache[1][index]

    def rerun(self, g: Any, xs: tuple) -> list:
        """Every input's cotangent: the function run again on stand-ins of the saved inputs,
        and ``g`` pulled back through what it recorded to the stand-ins and the boundary.
        Recorded (connected to the inputs) when the engine records: ``create_graph``."""
        create = state.grad_enabled
        stand_ins = [
            _stand_in(array_of(x), identity(x)._node, cls, True)
            if create and isinstance(x, Tensor) and x._requires_grad
            else _stand_in(array_of(x), None, cls, requires)
            for x, cls, requires in zip(
                xs[: len(self.classes)], self.classes, self.requires, strict=True
            )
        ]
        out, start = self.run(stand_ins, again=True)
        roots = self.check_rerun(out, start, stand_ins)
        lead = tuple(np.shape(g))[: np.ndim(g) - self.packed_ndim]
        pairs = [(root, part) for root, part in zip(roots, self.unpack(g, lead), strict=True)
                 if root._requires_grad]
        boundary = [_as_input(b) for b in self.boundary]
        targets = [s for s in stand_ins if s._requires_grad] + boundary
        leaf_grads, captured, _ = backpropagate(
            [root for root, _ in pairs], [part for _, part in pairs], retain_graph=create,
            create_graph=create, targets=targets, batch_ndim=len(lead),
            constant=lambda node: node.seq < start,
        )

        def received(target: Tensor) -> Any:
            if not target._requires_grad:
                return None
            if target._node is not None:
                return captured.get(target._node)
            entry = leaf_grads.get(id(target))
            return None if entry is None else entry[1]

        return [received(t) for t in stand_ins + boundary]

    def check_rerun(self, out: Any, start: int, stand_ins: list) -> list:
        """The rerun's differentiable outputs, once checked to be what the first run made: the
        same layout and output, the same versions of what its nodes saved, no other boundary
        (else something changed in place a value the function reads, and its gradient would be
        wrong)."""
        name = _name(self.function.fun)
        out_leaves, treedef = tree_flatten(out)
        roots = [out_leaves[k] for k in self.packed] if treedef == self.out_treedef else []
        if len(roots) != len(self.packed) or any(
            not isinstance(root, Tensor) or root.shape != shape or root.dtype != dtype
            for root, shape, dtype in zip(roots, self.shapes, self.dtypes, strict=True)
        ):
            raise RuntimeError(
                f"the checkpointed function {name} returned something else when run again for "
                f"backward (another structure, shape or dtype): a checkpointed function must "
                f"compute the same thing each time it runs"
            )
        boundary, versions = _walk(roots, start, stand_ins)
        known = {id(b) for b in self.boundary}
        if versions != self.versions or any(id(b) not in known for b in boundary) or (
            not self.same_output([root._array for root in roots])
        ):
            raise RuntimeError(
                f"the checkpointed function {name} read other values when run again for "
                f"backward than in its forward pass: a tensor it uses was changed in place "
                f"(by the function itself, or between forward and backward), or it draws "
                f"random numbers from another generator than chainrule.random, so the gradient "
                f"it would give is not the derivative of what the forward computed. Make the "
                f"update out of place, or do it outside the checkpointed function"
            )
        return roots

    def same_output(self, arrays: list) -> bool:
        """Whether the rerun returned what the first run did (up to rounding, in case the
        array library's kernels are not bitwise reproducible): a function that updates in place
        a tensor it closes over, but that no recorded op saved, changes its output on the rerun.
        Not checked when the random generator is not restored, the output was updated, or it
        is lazy."""
        array, counter, version = self.first
        if self.rng is None or counter[0] != version or backends.library_of(array).lazy:
            return True  # (a lazy array's check would compute the forward pass twice)
        if len(arrays) == 1:
            rerun = arrays[0]
        else:
            rerun = np.concatenate([np.ravel(a).astype(array.dtype) for a in arrays])
        if np.array_equal(rerun, array):
            return True
        scale = float(np.max(np.abs(array))) if array.size else 0.0
        return bool(np.allclose(rerun, array, rtol=1e-5, atol=1e-6 * scale))


def _walk(outputs: list, start: int, stand_ins: list) -> tuple[list, tuple]:
    """The boundary of the graph recorded since creation number ``start`` that ``outputs``
    reach: the leaf tensors and earlier nodes their gradients go to, the stand-ins (and their
    nodes) aside; and the versions of the values its nodes saved, in creation order, but those
    of the stand-ins' memory (their counters are made afresh for each run)."""
    own = {id(s) for s in stand_ins} | {id(s._node) for s in stand_ins if s._node is not None}
    counters = {id(s._version) for s in stand_ins}
    boundary: dict[int, Any] = {}
    nodes: dict[int, Node] = {}
    stack: list = []
    for value in outputs:
        if value._node is not None:
            stack.append(value._node)
        elif value._requires_grad and id(value) not in own:
            boundary[id(value)] = value
    while stack:
        node = stack.pop()
        if id(node) in nodes or id(node) in own:
            continue
        if node.seq < start:
            boundary[id(node)] = node
            continue
        nodes[id(node)] = node
        for parent in node.parents:
            if type(parent) is Node:
                stack.append(parent)
            elif parent is not None and id(parent) not in own:
                boundary[id(parent)] = parent
    versions = tuple(
        node.versions[i + 1]
        for node in sorted(nodes.values(), key=lambda node: node.seq)
        for i in range(0, len(node.versions), 2) if id(node.versions[i]) not in counters
    )
    return list(boundary.values()), versions


def _stand_in(array: Any, node: Node | None, cls: type, requires: bool) -> Tensor:
    """A tensor over an argument's memory for one run: a version counter of its own, the
    history ``node`` (or none), requiring grad as ``requires`` says."""
    out = Tensor._wrap(array, node, cls)
    out._requires_grad = requires or node is not None
    return out


def _as_input(boundary: Any) -> Tensor:
    """A boundary leaf as it is; a boundary node as a tensor of its output's shape and dtype
    (memory of one element: the op never reads it, the function reads what it closes over)."""
    if type(boundary) is not Node:
        return boundary
    zero = np.broadcast_to(np.zeros((), boundary.ans_dtype), boundary.ans_shape)
    return Tensor._wrap(zero, boundary)


@contextlib.contextmanager
def _generator_state(saved: dict | None) -> Iterator[None]:
    """The random generator in state ``saved`` for the block (nothing for None), then as it
    was: a rerun draws the numbers the first run drew, and draws none of the caller's."""
    if saved is None:
        yield
        return
    generator = random._generator
    current = generator.bit_generator.state
    generator.bit_generator.state = saved
    try:
        yield
    finally:
        generator.bit_generator.state = current


def _checkpoint_call(*xs: Any, call: _Call) -> Any:
    return call.value


def _cotangent(g: Any, xs: Any, index: int, call: _Call) -> Any:
    """checkpoint_call's reverse rule: the function rerun, once per cotangent."""
    return call.cotangents_once(g, xs, index)


def _tangent(t: Any, xs: Any, index: int, call: _Call) -> Any:
    raise RuntimeError(
        f"checkpoint_call of {_name(call.function.fun)} met forward-mode tangents; a "
        f"checkpointed function with tangents runs as it is, so this is a chainrule bug"
    )


# (not in the op table's catalogue: it carries the user's function, tested with it)
_CARRIER = Primitive(_checkpoint_call, name="checkpoint_call", catalogued=False).defrules(
    vjp=_cotangent, jvp=_tangent
)
