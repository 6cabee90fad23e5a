"""``torch.optim.SGD``: the update ``p -= lr * p.grad`` under ``no_grad``, and ``zero_grad``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import chainrule as cr


class SGD:
    """Minibatch stochastic gradient descent (optional momentum and weight decay)."""

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        self.params = list(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self._velocity: dict[int, Any] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @cr.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is None:
                continue
            step = p.grad + self.weight_decay * p if self.weight_decay else p.grad
            if self.momentum:
                velocity = self._velocity.get(id(p))
                velocity = step if velocity is None else self.momentum * velocity + step
                self._velocity[id(p)] = velocity
                step = velocity
            p -= self.lr * step
