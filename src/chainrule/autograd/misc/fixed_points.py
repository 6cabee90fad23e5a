"""``autograd.misc.fixed_points``: the fixed point of an iteration, differentiated implicitly.

``fixed_point(f, a, x0, distance, tol)`` iterates ``x <- f(a)(x)`` from ``x0`` until two
iterates are within ``tol``. Its derivative in ``a`` does not go through the iterations: at the
fixed point ``x* = f(a)(x*)``, so a cotangent ``g`` of ``x*`` gives ``a``'s as the pullback
through ``f``'s dependence on ``a`` of the solution ``w`` of ``w = g + (df/dx)^T w``, itself a
fixed point, found by the same function (so derivatives of any order work, as in HIPS).
``x0``, ``distance`` and ``tol`` get no derivative.

>>> import chainrule.autograd.numpy as np
>>> from chainrule.autograd import grad
>>> sqrt = lambda a: fixed_point(lambda a: lambda x: 0.5 * (x + a / x), a, 1.0,
...                              lambda x, y: np.abs(x - y), 1e-12)
>>> float(sqrt(2.0)), float(grad(sqrt)(2.0))  # 1 / (2 sqrt(2)) = 0.35355...
(1.414213562373095, 0.35355339059327373)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..builtins import tuple as traced_tuple
from ..differential_operators import make_vjp
from ..extend import defvjp, primitive, vspace


@primitive
def fixed_point(f: Callable, a: Any, x0: Any, distance: Callable, tol: float) -> Any:
    step = f(a)
    x, previous = step(x0), x0
    while distance(x, previous) > tol:
        x, previous = step(x), x
    return x


def _adjoint_step(params: Any) -> Callable:
    """One step of ``w <- g + (df/dx)^T w`` at the fixed point, for ``params = (a, x*, g)``."""
    f, a, x_star, g = params
    pull_x, _ = make_vjp(f(a))(x_star)
    space = vspace(x_star)
    return lambda w: space.add(pull_x(w), g)


def _fixed_point_vjp(ans: Any, f: Callable, a: Any, x0: Any, distance: Callable,
                     tol: float) -> Callable:
    pull_a, _ = make_vjp(lambda a, x: f(a)(x))(a, ans)

    def vjp(g: Any) -> Any:
        adjoint = fixed_point(lambda params: _adjoint_step((f, *params)),
                              traced_tuple((a, ans, g)), vspace(x0).zeros(), distance, tol)
        return pull_a(adjoint)

    return vjp


defvjp(fixed_point, None, _fixed_point_vjp, None)
