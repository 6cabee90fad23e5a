"""Plotting f and its derivatives, all computed by chainrule: ``cr.plot(f, (a, b))``.

The derivatives come from reverse mode on a grid of points: for a function applied elementwise,
the gradient of ``sum(f(x))`` is ``f'`` at every point at once, and ``create_graph=True`` keeps
the graph of that gradient so it can be differentiated again (any order). A function that is not
elementwise (it mixes points, or branches on a whole-array value) is detected by comparing a few
points with a point-by-point evaluation, and is then differentiated one point at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..expr import as_function
from ..tensor import Tensor

_STYLES = ("-", "--", ":", "-.")


def _derivatives_at(function: Callable, xs: np.ndarray, order: int) -> list[np.ndarray]:
    """[f(xs), f'(xs), ..., f^(order)(xs)], treating f as elementwise."""
    from ..engine import gradients

    x = Tensor(np.asarray(xs, dtype=np.float64), requires_grad=True)
    with np.errstate(all="ignore"):
        out = function(x)
        if not isinstance(out, Tensor):
            out = Tensor(np.broadcast_to(np.asarray(out, dtype=np.float64), x.shape).copy())
        if out.shape != x.shape:
            if out.data.size == 1 and x.data.size == 1:
                out = out.reshape(x.shape)
            else:
                raise ValueError(f"f(x) has shape {out.shape}, x has shape {x.shape}")
        results = [np.array(out.data, dtype=np.float64)]
        current = out
        for k in range(1, order + 1):
            grad = None  # f^(k-1) does not depend on x: f^(k) is zero
            if current._rg:
                (grad,) = gradients(current.sum(), x, create_graph=k < order, allow_unused=True)
            current = Tensor(np.zeros_like(x.data)) if grad is None else grad
            results.append(np.array(current.data, dtype=np.float64))
    return results


def _pointwise(function: Callable, xs: np.ndarray, order: int) -> list[np.ndarray]:
    columns = [_derivatives_at(function, np.float64(value), order) for value in xs]
    return [np.array([column[k] for column in columns]) for k in range(order + 1)]


def derivatives(f: Any, xs: Any, order: int = 1) -> list[np.ndarray]:
    """f and its first ``order`` derivatives at the points ``xs``, by chainrule.

    >>> import chainrule as cr
    >>> f, df = derivatives(cr.sin, [0.0, 1.0])
    >>> bool(np.allclose(df, np.cos([0.0, 1.0])))
    True
    """
    function = as_function(f, "plot")
    xs = np.asarray(xs, dtype=np.float64).ravel()
    order = int(order)
    if order < 0:
        raise ValueError("the number of derivatives must be 0 or more")
    try:
        results = _derivatives_at(function, xs, order)
    except (ValueError, RuntimeError, TypeError):  # not vectorizable: branch on values...
        return _pointwise(function, xs, order)
    probe = np.unique(np.linspace(0, len(xs) - 1, 3).astype(int)) if len(xs) else []
    expected = _pointwise(function, xs[probe], order)
    for column, check in zip(results, expected, strict=True):
        if not np.allclose(column[probe], check, rtol=1e-6, atol=1e-9, equal_nan=True):
            return _pointwise(function, xs, order)  # f mixes points: the sum trick is wrong
    return results


def derivative_name(name: str, order: int) -> str:
    """``name`` with ``order`` primes (f, f', f'') or, from the fourth on, ``f^(4)``."""
    return name + ("'" * order if order <= 3 else f"^({order})")


def _name(function: Callable) -> str:
    if isinstance(getattr(function, "text", None), str):
        return function.text  # a parsed expression
    name = getattr(function, "__name__", None)
    return "f" if not name or name == "<lambda>" else name


def plot(
    f: Any, x_range: Any = (-2 * np.pi, 2 * np.pi), derivatives: int = 1, ax: Any = None,
    path: str | Path | None = None, *, num: int = 201, title: str | None = None,
) -> Any:
    """Plot f and its first ``derivatives`` derivatives, computed by chainrule; return the figure.

    ``x_range`` is ``(a, b)`` (``num`` points) or the points themselves. ``f`` is a function of a
    tensor (or an expression string such as ``"log(x**2)*sin(x) + 1/x"``). Draws on ``ax`` when
    given, and saves to ``path`` when given. Needs matplotlib.

    >>> import chainrule as cr
    >>> figure = cr.plot(cr.sin, (-6.3, 6.3))  # exercise 4: sin and its derivative
    >>> figure.axes[0].get_legend_handles_labels()[1]
    ['sin(x)', "sin'(x)"]
    """
    function = as_function(f, "plot")
    if isinstance(x_range, tuple) and len(x_range) == 2 and np.ndim(x_range[0]) == 0:
        xs = np.linspace(float(x_range[0]), float(x_range[1]), int(num))
    else:
        xs = np.asarray(x_range, dtype=np.float64).ravel()
    curves = globals()["derivatives"](function, xs, derivatives)
    if ax is None:
        if "matplotlib.pyplot" in sys.modules:  # the user works with pyplot: play along
            import matplotlib.pyplot as plt

            figure, ax = plt.subplots(figsize=(7, 4))
        else:
            from matplotlib.figure import Figure

            figure = Figure(figsize=(7, 4))
            ax = figure.add_subplot()
    else:
        figure = ax.figure
    name = _name(function)
    for k, values in enumerate(curves):
        ax.plot(xs, values, _STYLES[k % len(_STYLES)], linewidth=2 if k == 0 else 1.6,
                label=f"{derivative_name(name, k)}(x)")
    ax.axhline(0.0, color="#999999", linewidth=0.6)
    ax.set_xlabel("x")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title is None:
        title = f"{name} and its derivative" if derivatives == 1 else (
            f"{name} and its first {derivatives} derivatives" if derivatives > 1 else name
        )
        title += " (computed by chainrule)" if derivatives else ""
    ax.set_title(title)
    if path is not None:
        figure.savefig(path, dpi=150, bbox_inches="tight")
    return figure


__all__ = ["derivatives", "plot"]
