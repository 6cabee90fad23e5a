"""PyTorch (CPU) versions: the idiomatic eager code, ``.backward()`` and ``.grad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from benchmarks import hess as hess_workload


def _leaf(array: Any) -> torch.Tensor:
    return torch.tensor(array, requires_grad=True)


def chain(data: dict[str, Any]) -> Callable:
    x = _leaf(data["x"])
    ops = data["ops"]

    def step() -> tuple:
        x.grad = None
        y = x
        for i in range(ops):
            y = y * 1.01 if i % 2 == 0 else torch.sin(y)
        y.backward()
        return (x.grad.numpy(),)

    return step


def mlp(data: dict[str, Any]) -> Callable:
    x, onehot = torch.from_numpy(data["x"]), torch.from_numpy(data["onehot"])
    params = [_leaf(data[name]) for name in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params
    batch = x.shape[0]

    def step() -> tuple:
        for p in params:
            p.grad = None
        h = torch.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        s = z - torch.amax(z, dim=1, keepdim=True)
        logp = s - torch.log(torch.sum(torch.exp(s), dim=1, keepdim=True))
        loss = -torch.sum(onehot * logp) / batch
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
            y = torch.sin(y) * 1.01
        torch.sum(y).backward()
        return (x.grad.numpy(),)

    return step


def hess(data: dict[str, Any]) -> Callable:
    # torch.func.hessian, as benchmarks/hess.py writes it (it pins PyTorch to one thread)
    step = hess_workload.torch_step(data)
    return lambda: (step(),)


def seed(data: dict[str, Any]) -> Callable:
    a = _leaf(data["a"])

    def f(a: torch.Tensor) -> torch.Tensor:
        b = a * 2
        while torch.linalg.norm(b) < 1000:
            b = b * 2
        return b if b.sum() > 0 else 100 * b

    def step() -> tuple:
        a.grad = None
        f(a).sum().backward()
        return (a.grad.numpy(),)

    return step
