"""``GradientTape``: TensorFlow's way of asking for gradients, on the core engine.

A tape is a recording scope plus a list of what to differentiate with respect to. Inside
``with GradientTape() as tape:`` grad mode is on and so is ``record()`` mode, so tensors of a
record-only class (``Tensor._record_only``: TensorFlow's and MXNet's) are recorded only there;
tensors that already require grad (TensorFlow's variables) are watched as they are used, and
``tape.watch(x)`` makes any floating tensor a source.

Watching is scoped, as in TensorFlow, where ``watch`` does not change the tensor. A watched leaf
that did not require grad is lent ``requires_grad`` while a tape that watches it is open (the
engine records only what requires grad) and given it back when the last such tape closes: after
the block it is the constant it was, with no ``.grad`` written and no history, and work done with
it outside the tapes is not recorded. ``gradient`` and ``jacobian`` lend it again for their own
pass, so a persistent tape works after its block.

A tape differentiates only what it recorded. Every node carries its creation number, so the
nodes a tape recorded are those made while it was open (its windows, between ``__enter__`` and
``__exit__``). ``gradient`` runs the engine with the other nodes (work done before the tape, or
recorded by another tape) as constants (``gradients(..., constant=)``): no cotangent goes past
them and none of their saved values is checked or freed. A result computed before the tape is
thus a constant to it, as in TensorFlow, and one tape's ``gradient`` never frees another's
graph. When the gradient is itself recorded (nested tapes: ``gradient`` called while another tape
is recording, which is how second derivatives are taken), the rules read those nodes' values
linked to them, so the outer tape still sees the dependency.

``tape.gradient(target, sources)`` then runs the engine once (``gradients`` with
``allow_unused``): a non-scalar target is differentiated as its sum, a source the target does not
depend on, or that the tape does not watch, gets ``None``. A tape is single-use unless
``persistent=True``; the non-persistent one frees its graph as it goes, unless another tape was
open at the same time (nested tapes record the same nodes, and the outer one may still need
them). ``gradient`` builds a differentiable result while another tape records or a transform
such as ``cr.grad`` runs.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import backends
from .engine import gradients
from .modes import pause, record, state
from .node import Node, creation_order
from .tensor import Tensor, is_differentiable_dtype
from .tree_util import PyTreeDef, tree_flatten, tree_unflatten

_NON_PERSISTENT_USED = (
    "A non-persistent GradientTape can only be used to compute one set of gradients (or "
    "jacobians)"
)


class _Tapes(threading.local):
    def __init__(self) -> None:
        self.recording: list[GradientTape] = []


_tapes = _Tapes()
# Every tape that has been opened and is still alive (its windows may hold nodes another tape
# recorded too: nested tapes share what both recorded).
_live: weakref.WeakSet = weakref.WeakSet()


class _Lent:
    """Leaves that require grad only because open tapes watch them: id -> [tensor, count]."""

    def __init__(self) -> None:
        self.leaves: dict[int, list] = {}
        self.lock = threading.Lock()

    def lend(self, tensor: Tensor) -> bool:
        """Make ``tensor`` require grad for one more tape; False if it is not ours to lend."""
        with self.lock:
            entry = self.leaves.get(id(tensor))
            if entry is not None:
                entry[1] += 1
                return True
            if tensor._node is not None or tensor._requires_grad:
                return False  # a variable, or a result: it requires grad in its own right
            tensor.requires_grad = True
            self.leaves[id(tensor)] = [tensor, 1]
            return True

    def give_back(self, tensor: Tensor) -> None:
        with self.lock:
            entry = self.leaves.get(id(tensor))
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] == 0:
                del self.leaves[id(tensor)]
                if tensor._node is None:
                    tensor.requires_grad = False

    def __contains__(self, tensor: Tensor) -> bool:
        return id(tensor) in self.leaves


_lent = _Lent()


def _now() -> int:
    """A number above the creation number of every node made so far, below any made later."""
    return next(creation_order)


def _flatten(structure: Any) -> tuple[list, PyTreeDef]:
    """The tensors of a nest of them, and its structure; ``None`` is a leaf, as in
    TensorFlow's ``nest`` (an output gradient of None for one of several targets)."""
    return tree_flatten(structure, is_leaf=_is_none)


def _is_none(value: Any) -> bool:
    return value is None


def _checked_sources(sources: Any) -> tuple[list, PyTreeDef]:
    """The sources, flat, and their structure, checked before the tape counts as used (a
    refusal costs nothing)."""
    flat, structure = _flatten(sources)
    for source in flat:
        if not isinstance(source, Tensor):
            raise ValueError(f"sources must be tensors, got {type(source).__name__}")
    return flat, structure


class GradientTape:
    """Record operations, then differentiate a target with respect to watched sources.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0)
    >>> with cr.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> tape.gradient(y, x)
    tensor(6.)
    >>> x.requires_grad  # watching did not change x
    False
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._watched: dict[int, Tensor] = {}
        self._lent: dict[int, Tensor] = {}  # watched leaves lent requires_grad while open
        self._windows: list[list] = []  # [start, end or None] of each time it was open
        self._used = False
        self._mode: record | None = None

    # ---------------------------------------------------------------- recording
    def __enter__(self) -> GradientTape:
        self._mode = record()
        self._mode.__enter__()
        _tapes.recording.append(self)
        self._windows.append([_now(), None])
        _live.add(self)
        for tensor in self._watched.values():
            self._lend(tensor)
        return self

    def __exit__(self, *exc: object) -> None:
        if self in _tapes.recording:
            _tapes.recording.remove(self)
        if self._windows and self._windows[-1][1] is None:
            self._windows[-1][1] = _now()
        self._give_back()
        if self._mode is not None:
            self._mode.__exit__(*exc)
            self._mode = None

    def _open(self) -> bool:
        return bool(self._windows) and self._windows[-1][1] is None

    def _lend(self, tensor: Tensor) -> None:
        if id(tensor) not in self._lent and _lent.lend(tensor):
            self._lent[id(tensor)] = tensor

    def _give_back(self) -> None:
        for tensor in self._lent.values():
            _lent.give_back(tensor)
        self._lent.clear()

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Operations inside this block are not recorded (by any tape)."""
        if self not in _tapes.recording:
            raise ValueError("Tape must be recording to stop recording; use it inside `with`")
        _tapes.recording.remove(self)
        try:
            with pause():
                yield
        finally:
            _tapes.recording.append(self)

    def watch(self, tensor: Any) -> None:
        """Differentiate with respect to ``tensor`` (a tensor or a pytree of them, see
        :mod:`chainrule.tree_util`).

        The tensor itself is not changed: a constant is a source of this tape only, and only
        while the tape is open (and for its ``gradient`` calls).
        """
        items, _ = _flatten(tensor)
        for item in items:  # all checked before any is watched
            if not isinstance(item, Tensor):
                raise ValueError(f"can only watch tensors, got {type(item).__name__}")
        for item in items:
            if not is_differentiable_dtype(item.dtype):
                continue  # TensorFlow warns and ignores integer tensors
            self._watched[id(item)] = item
            if self._open():
                self._lend(item)

    def watched_variables(self) -> tuple:
        return tuple(self._watched.values())

    def reset(self) -> None:
        """Forget what was recorded and watched, as if the tape were closed and opened anew."""
        self._give_back()
        self._watched.clear()
        self._windows = [[_now(), None]] if self._open() else []

    # ---------------------------------------------------------------- differentiating
    def _inside(self, node: Node) -> bool:
        """Whether this tape recorded ``node`` (made while it was open)."""
        seq = node.seq
        for start, end in self._windows:
            if start < seq and (end is None or seq < end):
                return True
        return False

    def _watches(self, source: Tensor) -> bool:
        if id(source) in self._watched:
            return True
        if source._node is not None:  # a result: of this tape's work, or a constant to it
            return self._inside(source._node)
        return self._watch_accessed_variables and source._requires_grad and source not in _lent

    def _start(self) -> tuple[bool, bool]:
        """Check the tape may be used (again); say whether to retain and to build a graph."""
        if self._used and not self._persistent:
            raise RuntimeError(_NON_PERSISTENT_USED)
        # The gradient is itself differentiated when another tape is recording (nested tapes)
        # or a transform runs (cr.grad of a function that uses a tape).
        create_graph = bool(_tapes.recording or state.transform_depth) and state.grad_enabled
        # A non-persistent tape frees its graph as it goes, unless another live tape was open
        # at the same time and may have recorded the same nodes (an outer tape still needs them).
        retain_graph = self._persistent or create_graph or self._overlaps_another()
        return retain_graph, create_graph

    def _overlaps_another(self) -> bool:
        def overlap(a: list, b: list) -> bool:
            return (a[1] is None or b[0] < a[1]) and (b[1] is None or a[0] < b[1])

        return any(
            overlap(mine, theirs)
            for tape in list(_live) if tape is not self
            for mine in self._windows for theirs in tape._windows
        )

    @contextlib.contextmanager
    def _lending(self) -> Iterator[None]:
        """The watched leaves require grad for the length of one engine pass."""
        lent = [t for t in self._watched.values() if t._node is None and not t._requires_grad]
        for tensor in lent:
            tensor._requires_grad = True
        try:
            yield
        finally:
            for tensor in lent:
                tensor._requires_grad = False

    def _differentiate(
        self, targets: list, cotangents: list, sources: list, retain_graph: bool,
        create_graph: bool, batch_ndim: int = 0,
    ) -> dict:
        """Run the engine once on what this tape recorded; {id(source): gradient or None}."""
        with self._lending():
            usable = [s for s in sources
                      if s._requires_grad and is_differentiable_dtype(s.dtype) and self._watches(s)]
            # A target this tape did not record (made before it, or by another tape) is a
            # constant to it.
            roots = [(t, c) for t, c in zip(targets, cotangents, strict=True)
                     if isinstance(t, Tensor) and t._requires_grad
                     and (t._node is None or self._inside(t._node))]
            if not roots or not usable:
                return {}
            cls = roots[0][0]._op_class
            # The engine passes no cotangent beyond the nodes this tape did not record (its
            # rules see them as constants); run with create_graph, the rules still read their
            # values linked to them, so an outer tape sees through (nested tapes).
            grads = gradients(
                [t for t, _ in roots], usable,
                [Tensor._wrap(c, cls=cls) if create_graph and not isinstance(c, Tensor)
                 else c for _, c in roots],
                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True,
                batch_ndim=batch_ndim, constant=lambda node: not self._inside(node),
            )
            by_input = {id(s): g for s, g in zip(usable, grads, strict=True)}
        found = {}
        for source in usable:
            grad = by_input.get(id(source))
            if grad is not None and type(grad) is not source._op_class:
                grad = grad._derive(source._op_class, tangents=None)
            found[id(source)] = grad
        return found

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: str = "none",
    ) -> Any:
        """Gradient of the sum of ``target`` with respect to each of ``sources``.

        ``sources`` may be a tensor or a pytree of them (lists, tuples, dicts, registered
        classes: see :mod:`chainrule.tree_util`); the result has the same structure, with
        ``None`` for a source the target does not depend on (or zeros with
        ``unconnected_gradients="zero"``).
        """
        flat, structure = _checked_sources(sources)
        retain_graph, create_graph = self._start()
        targets, _ = _flatten(target)
        weights = _flatten(output_gradients)[0] if output_gradients is not None else None
        cotangents = []
        for index, item in enumerate(targets):
            weight = weights[index] if weights is not None else None
            if weight is None and isinstance(item, Tensor):
                weight = backends.ones(item.shape, item.dtype, like=item._array)
            cotangents.append(weight)
        found = self._differentiate(targets, cotangents, flat, retain_graph, create_graph)
        self._used = True  # (only once it worked: a refused call leaves the tape usable)
        return tree_unflatten(
            structure, [self._fill(s, found.get(id(s)), unconnected_gradients) for s in flat]
        )

    def jacobian(
        self,
        target: Tensor,
        sources: Any,
        unconnected_gradients: str = "none",
        parallel_iterations: Any = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """The full Jacobian, of shape ``target.shape + source.shape`` for each source.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0])
        >>> with cr.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.jacobian(y, x)
        tensor([[2., 0.],
                [0., 4.]])
        """
        flat, structure = _checked_sources(sources)
        retain_graph, create_graph = self._start()
        found: dict[int, Any] = {}
        if isinstance(target, Tensor):
            count = target.size
            seeds = backends.constant_like(
                np.eye(count, dtype=target.dtype).reshape((count, *target.shape)), target._array)
            found = self._differentiate([target], [seeds], flat, retain_graph, create_graph,
                                        batch_ndim=1)
        self._used = True
        results = []
        for source in flat:
            grad = found.get(id(source))
            if grad is not None:
                grad = grad.reshape(*target.shape, *source.shape)
            elif unconnected_gradients == "zero":
                grad = Tensor._wrap(
                    backends.zeros(target.shape + source.shape, source.dtype, like=source._array),
                    cls=source._op_class,
                )
            results.append(grad)
        return tree_unflatten(structure, results)

    @staticmethod
    def _fill(source: Tensor, grad: Any, unconnected: str) -> Any:
        if grad is None and unconnected == "zero":
            return Tensor._wrap(np.zeros_like(source._array), cls=source._op_class)
        return grad
