"""PyTorch (CPU) versions: the idiomatic eager code, ``.backward()`` and ``.grad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from benchmarks import hess as hess_workload


def _leaf(array: Any, device: Any = None) -> torch.Tensor:
    return torch.tensor(array, requires_grad=True, device=device)


def _numpy_grads(leaves: list[torch.Tensor]) -> tuple:
    return tuple(leaf.grad.numpy() for leaf in leaves)


def _step(leaves: list[torch.Tensor], loss: Callable[[], torch.Tensor],
          grads: Callable[[list], tuple] = _numpy_grads) -> Callable:
    """One step: fresh ``.grad``, ``loss().backward()``, the leaves' gradients as NumPy arrays
    (or as ``grads(leaves)`` gives them: benchmarks/gpu.py keeps them on the device)."""

    def step() -> tuple:
        for leaf in leaves:
            leaf.grad = None
        loss().backward()
        return grads(leaves)

    return step


def chain(data: dict[str, Any]) -> Callable:
    x = _leaf(data["x"])
    ops = data["ops"]

    def loss() -> torch.Tensor:
        y = x
        for i in range(ops):
            y = y * 1.01 if i % 2 == 0 else torch.sin(y)
        return y

    return _step([x], loss)


def mlp(data: dict[str, Any]) -> Callable:
    return _step(*mlp_model(data))


def mlp_model(data: dict[str, Any], device: Any = None) -> tuple[list, Callable]:
    """``mlp``'s parameters and loss, on ``device`` (None: the CPU, sharing ``data``'s inputs
    as ``torch.from_numpy`` does)."""
    x = torch.as_tensor(data["x"], device=device)
    onehot = torch.as_tensor(data["onehot"], device=device)
    params = [_leaf(data[name], device) for name in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params
    batch = x.shape[0]

    def loss() -> torch.Tensor:
        h = torch.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        s = z - torch.amax(z, dim=1, keepdim=True)
        logp = s - torch.log(torch.sum(torch.exp(s), dim=1, keepdim=True))
        return -torch.sum(onehot * logp) / batch

    return params, loss


def wide(data: dict[str, Any]) -> Callable:
    x = _leaf(data["x"])
    rounds = data["rounds"]

    def loss() -> torch.Tensor:
        y = x
        for _ in range(rounds):
            y = torch.sin(y) * 1.01
        return torch.sum(y)

    return _step([x], loss)


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

    return _step([a], lambda: f(a).sum())
