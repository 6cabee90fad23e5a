"""``autograd.test_util``: HIPS's derivative checks, as strict as HIPS's.

``check_grads(f)(x)`` compares, along random directions, the forward (``make_jvp``) and
reverse (``make_vjp``) derivatives with central finite differences (step ``1e-6``) to the
tolerances ``1e-6`` absolute or relative, then checks the derivatives of the derivative
functions the same way, to ``order``.

>>> from chainrule.autograd.test_util import check_grads
>>> import chainrule.autograd.numpy as np
>>> check_grads(np.sin)(0.3)
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Any

from ._vspace import vspace
from .differential_operators import _make_jvp, _make_vjp, unary_to_nary

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a: Any, b: Any) -> bool:
    """Equal to ``TOL`` absolutely or ``RTOL`` relatively."""
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _name(f: Callable) -> str:
    return getattr(f, "__name__", "[unknown name]")


def make_numerical_jvp(f: Callable, x: Any) -> Callable:
    """``v -> (f(x + v eps/2) - f(x - v eps/2)) / eps``."""
    y = f(x)
    x_vs, y_vs = vspace(x), vspace(y)

    def jvp(v: Any) -> Any:
        f_x_plus = f(x_vs.add(x, x_vs.scalar_mul(v, EPS / 2)))
        f_x_minus = f(x_vs.add(x, x_vs.scalar_mul(v, -EPS / 2)))
        neg_f_x_minus = y_vs.scalar_mul(f_x_minus, -1.0)
        return y_vs.scalar_mul(y_vs.add(f_x_plus, neg_f_x_minus), 1.0 / EPS)

    return jvp


def check_vjp(f: Callable, x: Any) -> None:
    """``<v, vjp(u)> == <u, J v>`` for random ``u``, ``v``, against finite differences."""
    vjp, y = _make_vjp(f, x)
    jvp = make_numerical_jvp(f, x)
    x_vs, y_vs = vspace(x), vspace(y)
    x_v, y_v = x_vs.randn(), y_vs.randn()
    vjp_y = x_vs.covector(vjp(y_vs.covector(y_v)))
    assert vspace(vjp_y) == x_vs, f"VSpace mismatch:\nvjp: {vspace(vjp_y)}\nx: {x_vs}"
    vjv_exact = x_vs.inner_prod(x_v, vjp_y)
    vjv_numeric = y_vs.inner_prod(y_v, jvp(x_v))
    assert scalar_close(vjv_numeric, vjv_exact), (
        f"Derivative (VJP) check of {_name(f)} failed with arg {x}:\n"
        f"analytic: {vjv_exact}\nnumeric:  {vjv_numeric}"
    )


def check_jvp(f: Callable, x: Any) -> None:
    """The forward derivative along a random direction against finite differences."""
    jvp = _make_jvp(f, x)
    jvp_numeric = make_numerical_jvp(f, x)
    x_v = vspace(x).randn()
    check_equivalent(jvp(x_v)[1], jvp_numeric(x_v))


def check_equivalent(x: Any, y: Any) -> None:
    """Same vector space, and the same inner product with a random vector."""
    x_vs, y_vs = vspace(x), vspace(y)
    assert x_vs == y_vs, f"VSpace mismatch:\nx: {x_vs}\ny: {y_vs}"
    v = x_vs.randn()
    assert scalar_close(x_vs.inner_prod(x, v), x_vs.inner_prod(y, v)), (
        f"Value mismatch:\nx: {x}\ny: {y}")


@unary_to_nary
def check_grads(f: Callable, x: Any, modes: Any = None, order: int = 2) -> None:
    """Check ``f``'s derivatives at ``x`` in ``modes`` (``"fwd"``, ``"rev"``; both by
    default), and those of its derivatives, to ``order``."""
    if modes is None:
        modes = ["fwd", "rev"]
    if not all(mode in ("fwd", "rev") for mode in modes):
        raise ValueError(f"modes must be 'fwd' and/or 'rev', got {modes!r}")
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            def jvp_f(x: Any, v: Any) -> Any:
                return _make_jvp(f, x)(v)[1]

            jvp_f.__name__ = f"jvp_{_name(f)}"
            check_grads(jvp_f, (0, 1), modes, order=order - 1)(x, vspace(x).randn())
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            def vjp_f(x: Any, v: Any) -> Any:
                return _make_vjp(f, x)[0](v)

            vjp_f.__name__ = f"vjp_{_name(f)}"
            check_grads(vjp_f, (0, 1), modes, order=order - 1)(x, vspace(f(x)).randn())


def combo_check(fun: Callable, *args: Any, **kwargs: Any) -> Callable:
    """``check_grads`` of ``fun`` for every combination of the given arguments and keyword
    values: ``combo_check(f, (0,))([x1, x2], axis=[0, 1])``."""
    def _check_grads(f: Callable) -> Callable:
        return check_grads(f, *args, **kwargs)

    def _combo_check(*args: Any, **kwargs: Any) -> None:
        kwarg_key_vals = [[(k, x) for x in xs] for k, xs in kwargs.items()]
        for _args in product(*args):
            for _kwargs in product(*kwarg_key_vals):
                _check_grads(fun)(*_args, **dict(_kwargs))

    return _combo_check
