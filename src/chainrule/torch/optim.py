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
        """PyTorch's update. The velocity is a buffer of its own, a copy of the first step
        updated in place after (as PyTorch's ``momentum_buffer``): the step itself may be
        ``p.grad``, which ``zero_grad(set_to_none=False)`` zeroes and ``backward`` accumulates
        into; and written in place, it is state that ``torch.compile`` replays."""
        for p in self.params:
            if p.grad is None:
                continue
            step = p.grad + self.weight_decay * p if self.weight_decay else p.grad
            if self.momentum:
                velocity = self._velocity.get(id(p))
                if velocity is None:
                    velocity = self._velocity[id(p)] = step.detach().clone()
                else:
                    velocity.mul_(self.momentum).add_(step)
                step = velocity
            p -= self.lr * step
