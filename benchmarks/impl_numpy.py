"""Hand-written NumPy: forward and backward by hand, the floor for a NumPy backend.

Each backward keeps only what it needs and works in place where it can: this is what an
autodiff library on NumPy could at best reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import hess as hess_workload


def chain(data: dict[str, Any]) -> Callable:
    x0 = data["x"]
    ops = data["ops"]

    def step() -> tuple:
        y = x0
        saved = []  # the inputs of the sines
        for i in range(ops):
            if i % 2 == 0:
                y = y * 1.01
            else:
                saved.append(y)
                y = np.sin(y)
        grad = np.ones_like(x0)
        for i in reversed(range(ops)):
            grad = grad * 1.01 if i % 2 == 0 else grad * np.cos(saved.pop())
        return (np.asarray(grad),)

    return step


def _mlp_forward(x, onehot, w1, b1, w2, b2) -> tuple:
    """The forward of both hand-written ``mlp`` versions, loss included; returns what their
    backwards read."""
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    m = z.max(axis=1, keepdims=True)
    s = z - m
    e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    logp = s - np.log(total)
    _loss = -(onehot * logp).sum() / x.shape[0]
    return h, z, m, e, total


def _mlp_backward_from_z(x, h, w2, dz) -> tuple:
    """From ``d loss / d z`` down to the four parameters (``h`` is overwritten)."""
    dw2 = h.T @ dz
    db2 = dz.sum(axis=0)
    dh = dz @ w2.T
    h *= h
    np.subtract(1, h, out=h)
    dh *= h
    dw1 = x.T @ dh
    db1 = dh.sum(axis=0)
    return dw1, db1, dw2, db2


def mlp(data: dict[str, Any]) -> Callable:
    x, onehot = data["x"], data["onehot"]
    w1, b1, w2, b2 = data["w1"], data["b1"], data["w2"], data["b2"]
    batch = x.shape[0]

    def step() -> tuple:
        h, _z, _m, e, total = _mlp_forward(x, onehot, w1, b1, w2, b2)
        # d loss / d z = (softmax - onehot) / batch; the max cancels exactly
        dz = e / total
        dz -= onehot
        dz /= batch
        return _mlp_backward_from_z(x, h, w2, dz)

    return step


def mlp_written(data: dict[str, Any]) -> Callable:
    """``mlp`` with the backward of the graph as written: each op's own derivative in turn, no
    algebra across ops (the max's path is followed, not cancelled). Not a framework of the
    table: ``profile_ops.py mlp`` reports it, to show how much of ``mlp``'s distance to the floor
    is the floor's shortcut rather than an autodiff's overhead."""
    x, onehot = data["x"], data["onehot"]
    w1, b1, w2, b2 = data["w1"], data["b1"], data["w2"], data["b2"]
    batch = x.shape[0]

    def step() -> tuple:
        h, z, m, e, total = _mlp_forward(x, onehot, w1, b1, w2, b2)
        gs = onehot * np.float32(-1.0 / batch)  # through / batch, -, sum and * onehot
        glog = -gs.sum(axis=1, keepdims=True)  # logp = s - log(total), total's side summed
        gs += (glog / total) * e  # log, the sum's broadcast, exp: s's second use
        gm = -gs.sum(axis=1, keepdims=True)  # s = z - m, m's side summed
        gz = gs
        gz += gm * (z == m)  # max: its cotangent where the maximum is (one hit per row here)
        return _mlp_backward_from_z(x, h, w2, gz)

    return step


def wide(data: dict[str, Any]) -> Callable:
    x0, rounds = data["x"], data["rounds"]
    scale = np.float32(1.01)

    def step() -> tuple:
        y = x0
        saved = []  # the inputs of the sines; all but the first are ours to overwrite
        for _ in range(rounds):
            saved.append(y)
            y = np.sin(y)
            y *= scale
        _total = y.sum()
        del y
        grad = np.full_like(x0, scale)
        for i in reversed(range(rounds)):
            value = saved.pop()
            cosine = np.cos(value) if i == 0 else np.cos(value, out=value)
            del value
            grad *= cosine
            if i:
                grad *= scale
        return (grad,)

    return step


def hess(data: dict[str, Any]) -> Callable:
    # analytic: A^T diag(-2 t (1 - t^2)) A with t = tanh(A x), as benchmarks/hess.py has it
    return lambda: (hess_workload.exact(data),)


def seed(data: dict[str, Any]) -> Callable:
    a = data["a"]

    def step() -> tuple:
        factor = np.float32(2)
        b = a * 2
        while np.linalg.norm(b) < 1000:
            b = b * 2
            factor *= 2
        if b.sum() <= 0:
            factor *= 100
        # d sum(f(a)) / da = the factor f applied
        return (np.full_like(a, factor),)

    return step
