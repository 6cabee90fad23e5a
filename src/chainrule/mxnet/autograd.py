"""``mxnet.autograd``: ``record``, ``pause``, ``is_recording``, ``backward``, ``grad``,
``Function``.

``record()`` is the core's ``cr.record``: inside it, operations on MXNet arrays are recorded;
outside, they are not (the arrays' class selects the core's record-only option).

>>> from chainrule.mxnet import autograd
>>> with autograd.record():
...     autograd.is_recording()
True
>>> autograd.is_recording()
False
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import chainrule as cr
from chainrule import engine
from chainrule.custom.call import active
from chainrule.custom.rules import SavedOutput, apply_rules
from chainrule.modes import state
from chainrule.saved_hooks import pack_saved, unpacked

from ._ndarray import _as


class _Training(threading.local):
    def __init__(self) -> None:
        self.training = False


_training = _Training()


class _Scope:
    """A core recording mode plus MXNet's train/predict flag."""

    def __init__(self, mode: type, train_mode: bool) -> None:
        self._mode, self._train_mode = mode(), train_mode

    def __enter__(self) -> None:
        self._prev_training = _training.training
        _training.training = self._train_mode
        self._mode.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._mode.__exit__(*exc)
        _training.training = self._prev_training


def record(train_mode: bool = True) -> _Scope:
    """Record the operations inside the block so that ``backward`` can run."""
    return _Scope(cr.record, train_mode)


def pause(train_mode: bool = False) -> _Scope:
    """Do not record inside the block (inside a ``record`` block)."""
    return _Scope(cr.pause, train_mode)


def train_mode() -> _Scope:
    """Training behaviour (dropout...) without changing whether operations are recorded."""
    return _Scope(contextlib.nullcontext, True)


def predict_mode() -> _Scope:
    return _Scope(contextlib.nullcontext, False)


def is_recording() -> bool:
    return bool(state.recording and state.grad_enabled)


def is_training() -> bool:
    return _training.training


def set_recording(is_recording: bool) -> bool:  # noqa: FBT001 - MXNet's signature
    previous = globals()["is_recording"]()
    state.recording = state.grad_enabled = bool(is_recording)
    return previous


def set_training(train_mode: bool) -> bool:  # noqa: FBT001
    previous, _training.training = _training.training, bool(train_mode)
    return previous


def mark_variables(variables: Any, gradients: Any, grad_reqs: Any = "write") -> None:
    """Attach ``gradients[i]`` as the gradient buffer of ``variables[i]``, with ``grad_reqs[i]``
    (one string for all): backward writes (or adds) into those very arrays.

    >>> from chainrule.mxnet import autograd, np
    >>> x, buffer = np.array([1.0, 2.0]), np.zeros(2)
    >>> autograd.mark_variables([x], [buffer], "write")
    >>> with autograd.record():
    ...     y = (x * x).sum()
    >>> y.backward()
    >>> buffer
    array([2., 4.])
    """
    single = isinstance(variables, cr.Tensor)
    variables = [variables] if single else list(variables)
    gradients = [gradients] if isinstance(gradients, cr.Tensor) else list(gradients)
    reqs = [grad_reqs] * len(variables) if isinstance(grad_reqs, str) else list(grad_reqs)
    if not len(variables) == len(gradients) == len(reqs):
        raise ValueError(
            f"mark_variables needs one gradient buffer and one grad_req per variable, got "
            f"{len(variables)} variables, {len(gradients)} gradients and {len(reqs)} grad_reqs"
        )
    for index, (variable, gradient, req) in enumerate(zip(variables, gradients, reqs,
                                                          strict=True)):
        if not isinstance(gradient, cr.Tensor) or gradient.shape != variable.shape or (
                gradient.dtype != variable.dtype):
            raise ValueError(
                f"the gradient buffer of variable {index} must be an array of its shape "
                f"{tuple(variable.shape)} and dtype {variable.dtype}, got "
                f"{getattr(gradient, 'shape', type(gradient).__name__)} "
                f"{getattr(gradient, 'dtype', '')}; make it with np.zeros_like(variable)"
            )
        if req not in ("write", "add", "null"):
            raise ValueError(f"grad_req must be 'write', 'add' or 'null', got {req!r}")
    for variable, gradient, req in zip(variables, gradients, reqs, strict=True):
        variable.attach_grad(req)
        variable.grad = _as(gradient)


def backward(heads: Any, head_grads: Any = None, retain_graph: bool = False,
             train_mode: bool = True) -> None:
    """Backpropagate from all heads in one pass into the attached ``.grad`` buffers."""
    engine.backward(heads, head_grads, retain_graph)


def grad(heads: Any, variables: Any, head_grads: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, train_mode: bool = True) -> Any:
    """Gradients of ``heads`` (summed) with respect to ``variables``, without touching
    ``.grad``."""
    single = isinstance(variables, cr.Tensor)
    heads = heads if isinstance(heads, (list, tuple)) else [heads]
    if head_grads is None:
        head_grads = [cr.ones_like(h) for h in heads]
    grads = cr.gradients(heads, variables, head_grads, retain_graph=retain_graph,
                         create_graph=create_graph)
    return _as(grads[0]) if single else [_as(g) for g in grads]


class Function:
    """A computation with its own backward, MXNet's ``autograd.Function``: subclass it with
    ``forward(self, *inputs)`` and ``backward(self, *output_grads)`` (one gradient per input
    back), and call an instance, once, inside ``record()``. ``forward`` runs without
    recording; ``self.save_for_backward(...)`` keeps what ``backward`` reads
    (``self.saved_tensors``). Saved inputs and outputs keep their history, so a ``backward``
    written with differentiable operations differentiates again (``create_graph=True``).

    >>> from chainrule.mxnet import autograd, np
    >>> class sigmoid(autograd.Function):
    ...     def forward(self, x):
    ...         y = 1 / (1 + np.exp(-x))
    ...         self.save_for_backward(y)
    ...         return y
    ...     def backward(self, dy):
    ...         y, = self.saved_tensors
    ...         return dy * y * (1 - y)
    >>> x = np.array([0.0, 2.0])
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     m = sigmoid()(x)
    >>> m.backward()
    >>> x.grad
    array([0.25      , 0.10499363])
    """

    def __init__(self) -> None:
        self._used = False
        self._saved: tuple = ()

    def save_for_backward(self, *args: Any) -> None:
        self._saved = args

    @property
    def saved_tensors(self) -> tuple:
        return tuple(
            t.unpack() if isinstance(t, SavedOutput) else unpacked(t) for t in self._saved
        )

    @saved_tensors.setter
    def saved_tensors(self, values: tuple) -> None:
        self._saved = tuple(values)

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *inputs)")

    def backward(self, *output_grads: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must define backward(self, *output_grads), returning one "
            f"gradient per input of forward"
        )

    def __call__(self, *inputs: Any) -> Any:
        if self._used:
            raise RuntimeError(
                "Each Function instance can only be called once. Please create another instance."
            )
        for index, value in enumerate(inputs):
            if not isinstance(value, cr.Tensor):
                raise TypeError(
                    f"{type(self).__name__}: the inputs of an autograd.Function are arrays, but "
                    f"input {index} is a {type(value).__name__}"
                )
        self._used = True
        self._shapes = [tuple(x.shape) for x in inputs]
        recording = is_recording()
        with pause():
            outputs = self.forward(*inputs)
        single = isinstance(outputs, cr.Tensor)
        outs = (outputs,) if single else tuple(outputs)
        if not recording or not active(list(inputs)):
            return outputs
        results = [_as(r) for r in apply_rules(
            type(self).__name__, inputs, [cr.tensor(o)._array for o in outs], self._vjp,
            what=f"{type(self).__name__}.backward",
        )]
        returned = {id(o): SavedOutput(r) for o, r in zip(outs, results, strict=True)}
        # (through the saved-value hooks in force, as any saved value)
        self._saved = tuple(returned.get(id(t)) or pack_saved(t) for t in self._saved)
        return results[0] if single else results

    def _vjp(self, cotangents: list) -> list:
        """The user's backward, checked as MXNet does: one array per input of forward."""
        name = type(self).__name__
        # MXNet's arrays record inside record() only: differentiated again (create_graph),
        # the backward is recorded as the engine asks
        with record() if state.grad_enabled else contextlib.nullcontext():
            grads = self.backward(*[_as(c) for c in cotangents])
        grads = (grads,) if isinstance(grads, cr.Tensor) else tuple(grads)
        if len(grads) != len(self._shapes):
            raise ValueError(
                f"{name}.backward must return exactly the same number of NDArrays as the "
                f"number of NDArrays arguments to forward. Expecting {len(self._shapes)} got "
                f"{len(grads)}"
            )
        for grad in grads:
            if not isinstance(grad, cr.Tensor):
                raise TypeError(
                    f"autograd.Function.backward must return NDArrays, not {type(grad)} "
                    f"({name}.backward)"
                )
        return list(grads)
