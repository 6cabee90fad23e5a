"""HIPS's optimizers: ``sgd``, ``rmsprop``, ``adam``, on nested containers of arrays.

``grad(x, i)`` gives the gradient at iteration ``i``; ``callback(x, i, g)`` is called before
each step, with ``x`` and ``g`` in ``x0``'s structure.

>>> from chainrule.autograd import grad
>>> from chainrule.autograd.misc.optimizers import adam
>>> import chainrule.autograd.numpy as np
>>> loss = lambda p, i: np.sum((p["w"] - 3.0) ** 2)
>>> best = adam(grad(loss), {"w": np.zeros(2)}, step_size=0.1, num_iters=300)
>>> np.round(best["w"], 2)
array([3., 3.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as onp

from .flatten import flatten


def unflatten_optimizer(optimize: Callable) -> Callable:
    """An optimizer of flat vectors as one of nested containers of arrays."""

    @functools.wraps(optimize)
    def _optimize(grad: Callable, x0: Any, callback: Callable | None = None, *args: Any,
                  **kwargs: Any) -> Any:
        _x0, unflatten = flatten(x0)

        def _grad(x: Any, i: int) -> Any:
            return flatten(grad(unflatten(x), i))[0]

        _callback = None
        if callback:
            def _callback(x: Any, i: int, g: Any) -> Any:
                return callback(unflatten(x), i, unflatten(g))

        return unflatten(optimize(_grad, _x0, _callback, *args, **kwargs))

    return _optimize


@unflatten_optimizer
def sgd(grad: Callable, x: Any, callback: Callable | None = None, num_iters: int = 200,
        step_size: float = 0.1, mass: float = 0.9) -> Any:
    """Stochastic gradient descent with momentum."""
    velocity = onp.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@unflatten_optimizer
def rmsprop(grad: Callable, x: Any, callback: Callable | None = None, num_iters: int = 100,
            step_size: float = 0.1, gamma: float = 0.9, eps: float = 10**-8) -> Any:
    """Root mean squared propagation."""
    avg_sq_grad = onp.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        avg_sq_grad = avg_sq_grad * gamma + g**2 * (1 - gamma)
        x = x - step_size * g / (onp.sqrt(avg_sq_grad) + eps)
    return x


@unflatten_optimizer
def adam(grad: Callable, x: Any, callback: Callable | None = None, num_iters: int = 100,
         step_size: float = 0.001, b1: float = 0.9, b2: float = 0.999,
         eps: float = 10**-8) -> Any:
    """Adam (Kingma and Ba, 2014): RMSprop with momentum and bias correction."""
    m = onp.zeros(len(x))
    v = onp.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g**2) + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (onp.sqrt(vhat) + eps)
    return x
