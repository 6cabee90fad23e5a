"""``torch.autograd``: ``grad`` and ``backward`` on the core engine.

>>> import chainrule.torch as torch
>>> x = torch.tensor(3.0, requires_grad=True)
>>> (dx,) = torch.autograd.grad(x ** 2, x, create_graph=True)
>>> torch.autograd.grad(dx, x)
(tensor(2.),)
"""

from __future__ import annotations

from typing import Any

import chainrule as cr
from chainrule import engine

from . import function, functional, graph  # noqa: F401

# Imported by the same name: the module's exports, for type checkers too.
from .anomaly_mode import detect_anomaly as detect_anomaly
from .anomaly_mode import set_detect_anomaly as set_detect_anomaly
from .function import Function as Function


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs`` (a tuple), leaving ``.grad`` alone."""
    grads = cr.gradients(
        outputs, inputs, grad_outputs, retain_graph=retain_graph, create_graph=create_graph,
        allow_unused=bool(allow_unused) or materialize_grads,
    )
    if materialize_grads:
        inputs = [inputs] if isinstance(inputs, cr.Tensor) else list(inputs)
        grads = tuple(cr.zeros_like(x) if g is None else g for g, x in zip(grads, inputs,
                                                                            strict=True))
    return grads


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Backpropagate from all of ``tensors`` in one pass, accumulating into ``.grad``."""
    engine.backward(tensors, grad_tensors, retain_graph, create_graph, inputs)
