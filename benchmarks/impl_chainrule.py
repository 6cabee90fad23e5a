"""chainrule versions: the same code a PyTorch user writes, in the native API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chainrule as cr
from benchmarks import hess as hess_workload


def _leaf(array: Any) -> cr.Tensor:
    return cr.tensor(array, requires_grad=True)


def _numpy_grads(leaves: list[cr.Tensor]) -> tuple:
    return tuple(leaf.grad.numpy() for leaf in leaves)


def _step(leaves: list[cr.Tensor], loss: Callable[[], cr.Tensor],
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

    def loss() -> cr.Tensor:
        y = x
        for i in range(ops):
            y = y * 1.01 if i % 2 == 0 else cr.sin(y)
        return y

    return _step([x], loss)


def mlp(data: dict[str, Any]) -> Callable:
    return _step(*mlp_model(data))


def mlp_model(data: dict[str, Any]) -> tuple[list[cr.Tensor], Callable[[], cr.Tensor]]:
    """``mlp``'s parameters and loss, over the arrays of ``data`` as they are (NumPy's, or a
    device's: benchmarks/gpu.py)."""
    x, onehot = cr.tensor(data["x"]), cr.tensor(data["onehot"])
    params = [_leaf(data[name]) for name in ("w1", "b1", "w2", "b2")]
    w1, b1, w2, b2 = params
    batch = x.shape[0]

    def loss() -> cr.Tensor:
        h = cr.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        s = z - cr.max(z, axis=1, keepdims=True)
        logp = s - cr.log(cr.sum(cr.exp(s), axis=1, keepdims=True))
        return -cr.sum(onehot * logp) / batch

    return params, loss


def wide(data: dict[str, Any]) -> Callable:
    x = _leaf(data["x"])
    rounds = data["rounds"]

    def loss() -> cr.Tensor:
        y = x
        for _ in range(rounds):
            y = cr.sin(y) * 1.01
        return cr.sum(y)

    return _step([x], loss)


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

    return _step([a], lambda: cr.sum(f(a)))
