"""``autograd.util``: HIPS's small helpers, and its deprecated ``quick_grad_check``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from .test_util import check_grads


def subvals(x: Any, ivs: Any) -> tuple:
    """``x`` as a tuple with the values at the given ``(index, value)`` pairs replaced."""
    items = list(x)
    for index, value in ivs:
        items[index] = value
    return tuple(items)


def subval(x: Any, i: int, v: Any) -> tuple:
    """``x`` as a tuple with ``v`` at index ``i``."""
    return subvals(x, [(i, v)])


def quick_grad_check(fun: Callable, arg0: Any, extra_args: tuple = (), kwargs: Any = None,
                     verbose: bool = True, eps: float = 1e-4, rtol: float = 1e-4,
                     atol: float = 1e-6, rs: Any = None) -> None:
    """Deprecated (as in HIPS): ``check_grads(fun, modes=["rev"], order=1)`` at ``arg0``."""
    warnings.warn("The quick_grad_check function is deprecated; use "
                  "chainrule.autograd.test_util.check_grads", DeprecationWarning, stacklevel=2)
    def fun_(arg0: Any) -> Any:
        return fun(arg0, *extra_args, **(kwargs or {}))

    check_grads(fun_, modes=["rev"], order=1)(arg0)
