"""``torch.autograd.functional``: ``jacobian``, ``hessian``, ``vjp``, ``jvp`` of a function of
tensors, with PyTorch's signatures (``vjp(func, inputs, v) -> (outputs, vjp)``).

>>> import chainrule.torch as torch
>>> torch.autograd.functional.jacobian(lambda x: x ** 2, torch.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chainrule as cr

from .._tensor import _as


def _call(func: Callable, inputs: Any) -> tuple[Callable, tuple, bool]:
    single = not isinstance(inputs, (tuple, list))
    inputs = (inputs,) if single else tuple(inputs)
    return (lambda *xs: func(*[_as(x) for x in xs])), inputs, single


def jacobian(func: Callable, inputs: Any, create_graph: bool = False) -> Any:
    f, inputs, single = _call(func, inputs)
    jac = cr.jacrev(f, argnums=tuple(range(len(inputs))))(*inputs)
    return _as(jac[0]) if single else tuple(_as(j) for j in jac)


def hessian(func: Callable, inputs: Any, create_graph: bool = False) -> Any:
    f, inputs, single = _call(func, inputs)
    if not single:
        raise NotImplementedError("hessian of a function of several inputs")
    return _as(cr.hessian(f)(*inputs))


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False) -> tuple:
    f, inputs, single = _call(func, inputs)
    out, pull = cr.vjp(f, *inputs)
    grads = pull(cr.ones_like(out) if v is None else v)
    return _as(out), _as(grads[0]) if single else tuple(_as(g) for g in grads)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False) -> tuple:
    f, inputs, single = _call(func, inputs)
    tangents = tuple(cr.ones_like(x) for x in inputs) if v is None else (
        (v,) if single else tuple(v))
    out, tangent = cr.jvp(f, inputs, tangents)
    return _as(out), _as(tangent)
