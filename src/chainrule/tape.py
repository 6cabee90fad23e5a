"""``GradientTape``: TensorFlow's way of asking for gradients, on the core engine.

A tape is a recording scope plus a list of what to differentiate with respect to. Inside
``with GradientTape() as tape:`` grad mode is on and so is ``record()`` mode, so tensors of a
record-only class (``Tensor._record_only``: TensorFlow's and MXNet's) are recorded only there;
tensors that already require grad (TensorFlow's
variables) are watched as they are used, and ``tape.watch(x)`` makes any floating tensor a
source. ``tape.gradient(target, sources)`` then runs the engine once (``gradients`` with
``allow_unused``): a non-scalar target is differentiated as its sum, a source the target does not
depend on, or that the tape does not watch, gets ``None``. A tape is single-use unless
``persistent=True``; the non-persistent one frees the graph as it goes. Called while a tape is
recording (nested tapes), ``gradient`` builds a differentiable result, which is how second
derivatives are taken.

Native tensors record whenever grad mode is on, so with them a tape also follows work done
before it opened; TensorFlow's tensors are record-only and stop at the tape's start.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from .engine import gradients
from .modes import pause, record, state
from .tensor import Tensor, is_differentiable_dtype

_NON_PERSISTENT_USED = (
    "A non-persistent GradientTape can only be used to compute one set of gradients (or "
    "jacobians)"
)


class _Tapes(threading.local):
    def __init__(self) -> None:
        self.recording: list[GradientTape] = []


_tapes = _Tapes()
# Leaves that require grad only because a tape watched them: they are not variables.
_made_by_watch: weakref.WeakSet = weakref.WeakSet()


def _flatten(structure: Any) -> list:
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in _flatten(value)]
    return [structure]


def _rebuild(structure: Any, values: Iterator) -> Any:
    if isinstance(structure, dict):
        return {key: _rebuild(value, values) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_rebuild(value, values) for value in structure)
    return next(values)


class GradientTape:
    """Record operations, then differentiate a target with respect to watched sources.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0)
    >>> with cr.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> tape.gradient(y, x)
    tensor(6.)
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._watched: dict[int, Tensor] = {}
        self._used = False
        self._mode: record | None = None

    # ---------------------------------------------------------------- recording
    def __enter__(self) -> GradientTape:
        self._mode = record()
        self._mode.__enter__()
        _tapes.recording.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self in _tapes.recording:
            _tapes.recording.remove(self)
        if self._mode is not None:
            self._mode.__exit__(*exc)
            self._mode = None

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
        """Differentiate with respect to ``tensor`` (a tensor or a nested list of them)."""
        for item in _flatten(tensor):
            if not isinstance(item, Tensor):
                raise ValueError(f"can only watch tensors, got {type(item).__name__}")
            if not is_differentiable_dtype(item.dtype):
                continue  # TensorFlow warns and ignores integer tensors
            if item._node is None and not item._rg:
                item.requires_grad = True
                _made_by_watch.add(item)
            self._watched[id(item)] = item

    def watched_variables(self) -> tuple:
        return tuple(self._watched.values())

    def reset(self) -> None:
        """Forget what was watched (operations already recorded stay recorded)."""
        self._watched.clear()

    # ---------------------------------------------------------------- differentiating
    def _watches(self, source: Tensor) -> bool:
        if id(source) in self._watched or source._node is not None:
            return True
        return (
            self._watch_accessed_variables and source._rg and source not in _made_by_watch
        )

    def _start(self) -> tuple[bool, bool]:
        """Check the tape may be used again; say whether to retain and to build a graph."""
        if self._used and not self._persistent:
            raise RuntimeError(_NON_PERSISTENT_USED)
        self._used = True
        create_graph = bool(_tapes.recording) and state.grad_enabled
        return self._persistent or create_graph, create_graph

    def _sources(self, sources: Any) -> tuple[list, list]:
        flat = _flatten(sources)
        for source in flat:
            if not isinstance(source, Tensor):
                raise ValueError(f"sources must be tensors, got {type(source).__name__}")
        usable = [
            s for s in flat if s._rg and is_differentiable_dtype(s.dtype) and self._watches(s)
        ]
        return flat, usable

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: str = "none",
    ) -> Any:
        """Gradient of the sum of ``target`` with respect to each of ``sources``.

        ``sources`` may be a tensor or a nested list/tuple/dict of them; the result has the same
        structure, with ``None`` for a source the target does not depend on (or zeros with
        ``unconnected_gradients="zero"``).
        """
        retain_graph, create_graph = self._start()
        targets = _flatten(target)
        weights = _flatten(output_gradients) if output_gradients is not None else None
        flat, usable = self._sources(sources)
        outputs, cotangents = [], []
        for index, item in enumerate(targets):
            if isinstance(item, Tensor) and item._rg:
                outputs.append(item)
                weight = weights[index] if weights is not None else None
                if weight is None:
                    weight = np.ones(item.shape, dtype=item.dtype)
                cotangents.append(weight)
        found: dict[int, Any] = {}
        if outputs and usable:
            grads = gradients(
                outputs, usable, cotangents, retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True,
            )
            found = {id(s): g for s, g in zip(usable, grads, strict=True)}
        return _rebuild(sources, iter(self._fill(s, found.get(id(s)), unconnected_gradients)
                                      for s in flat))

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
        retain_graph, create_graph = self._start()
        flat, usable = self._sources(sources)
        found: dict[int, Any] = {}
        if isinstance(target, Tensor) and target._rg and usable:
            count = target.size
            seeds = np.eye(count, dtype=target.dtype).reshape((count, *target.shape))
            grads = gradients(
                [target], usable, [Tensor._wrap(seeds) if create_graph else seeds],
                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True,
                batch_ndim=1,
            )
            found = {
                id(s): None if g is None else g.reshape(*target.shape, *s.shape)
                for s, g in zip(usable, grads, strict=True)
            }
        results = []
        for source in flat:
            grad = found.get(id(source))
            if grad is None and unconnected_gradients == "zero":
                grad = Tensor._wrap(
                    np.zeros(target.shape + source.shape, dtype=source.dtype),
                    cls=source._op_class,
                )
            results.append(grad)
        return _rebuild(sources, iter(results))

    @staticmethod
    def _fill(source: Tensor, grad: Any, unconnected: str) -> Any:
        if grad is None and unconnected == "zero":
            return Tensor._wrap(np.zeros_like(source.data), cls=source._op_class)
        return grad
