"""HIPS autograd versions: ``autograd.grad`` / ``autograd.hessian`` of plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp

from benchmarks import hess as hess_workload


def chain(data: dict[str, Any]) -> Callable:
    x = data["x"]
    ops = data["ops"]

    def f(y: Any) -> Any:
        for i in range(ops):
            y = y * 1.01 if i % 2 == 0 else anp.sin(y)
        return y

    gradient = autograd.grad(f)

    def step() -> tuple:
        return (anp.asarray(gradient(x)),)

    return step


def mlp(data: dict[str, Any]) -> Callable:
    x, onehot = data["x"], data["onehot"]
    params = tuple(data[name] for name in ("w1", "b1", "w2", "b2"))
    batch = x.shape[0]

    def loss(params: tuple) -> Any:
        w1, b1, w2, b2 = params
        h = anp.tanh(anp.dot(x, w1) + b1)
        z = anp.dot(h, w2) + b2
        s = z - anp.max(z, axis=1, keepdims=True)
        logp = s - anp.log(anp.sum(anp.exp(s), axis=1, keepdims=True))
        return -anp.sum(onehot * logp) / batch

    gradient = autograd.grad(loss)

    def step() -> tuple:
        return tuple(gradient(params))

    return step


def wide(data: dict[str, Any]) -> Callable:
    x, rounds = data["x"], data["rounds"]

    def f(y: Any) -> Any:
        for _ in range(rounds):
            y = anp.sin(y) * 1.01
        return anp.sum(y)

    gradient = autograd.grad(f)

    def step() -> tuple:
        return (gradient(x),)

    return step


def hess(data: dict[str, Any]) -> Callable:
    step = hess_workload.autograd_step(data)  # autograd.hessian, from benchmarks/hess.py
    return lambda: (step(),)


def seed(data: dict[str, Any]) -> Callable:
    a = data["a"]

    def f(a: Any) -> Any:
        b = a * 2
        while anp.linalg.norm(b) < 1000:
            b = b * 2
        c = b if anp.sum(b) > 0 else 100 * b
        return anp.sum(c)

    gradient = autograd.grad(f)

    def step() -> tuple:
        return (gradient(a),)

    return step
