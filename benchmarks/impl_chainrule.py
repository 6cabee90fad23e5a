"""chainrule versions: the same code a PyTorch user writes, in the native API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chainrule as cr
from benchmarks import hess as hess_workload


def _leaf(array: Any) -> cr.Tensor:
    return cr.tensor(array, requires_grad=True)


def chain(data: dict[str, Any]) -> Callable:
    x = _leaf(data["x"])
    ops = data["ops"]

    def step() -> tuple:
        x.grad = None
        y = x
        for i in range(ops):
            y = y * 1.01 if i % 2 == 0 else cr.sin(y)
        y.backward()
        return (x.grad.numpy(),)

    return step


def mlp(data: dict[str, Any]) -> Callable:
    x, onehot = cr.tensor(data["x"]), cr.tensor(data["onehot"])
    params = [_leaf(data[name]) for name in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params
    batch = x.shape[0]

    def step() -> tuple:
        for p in params:
            p.grad = None
        h = cr.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        s = z - cr.max(z, axis=1, keepdims=True)
        logp = s - cr.log(cr.sum(cr.exp(s), axis=1, keepdims=True))
        loss = -cr.sum(onehot * logp) / batch
        loss.backward()
        return tuple(p.grad.numpy() for p in params)

    return step


def wide(data: dict[str, Any]) -> Callable:
    x = _leaf(data["x"])
    rounds = data["rounds"]

    def step() -> tuple:
        x.grad = None
        y = x
        for _ in range(rounds):
            y = cr.sin(y) * 1.01
        cr.sum(y).backward()
        return (x.grad.numpy(),)

    return step


def hess(data: dict[str, Any]) -> Callable:
    # benchmarks/hess.py (the functional transforms' own benchmark) owns this workload.
    step = hess_workload.chainrule_step(data)
    return lambda: (step(),)


def seed(data: dict[str, Any]) -> Callable:
    a = _leaf(data["a"])

    def f(a: cr.Tensor) -> cr.Tensor:
        b = a * 2
        while cr.linalg.norm(b) < 1000:
            b = b * 2
        return b if cr.sum(b) > 0 else 100 * b

    def step() -> tuple:
        a.grad = None
        cr.sum(f(a)).backward()
        return (a.grad.numpy(),)

    return step
