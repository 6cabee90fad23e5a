"""Plotting f and its derivatives, all computed by chainrule: ``cr.plot(f, (a, b))``.

The derivatives come from reverse mode on a grid of points: for a function applied elementwise,
the gradient of ``sum(f(x))`` is ``f'`` at every point at once, and ``create_graph=True`` keeps
the graph of that gradient so it can be differentiated again (any order). A function that is not
elementwise (it mixes points, or branches on a whole-array value) is detected by comparing a few
points with a point-by-point evaluation, and is then differentiated one point at a time; a parsed
expression (:mod:`chainrule.expr`) is elementwise by construction and skips that check.

Each derivative but the last re-differentiates the graph recorded for the one before, so the
graphs grow geometrically with the order: for nested functions the graph of f^(k+1) holds 2 to 4
times the operations of f^(k)'s. ``derivatives(..., max_operations=N)`` bounds that work: before
a graph is recorded its size is estimated from the last one, and :class:`WorkLimitError` is
raised instead of recording more than ``N`` operations (``chainrule diff`` uses this).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import gradients
from ..expr import Expression, as_function
from ..modes import collector_paused
from ..node import Node
from ..tensor import Tensor
from . import extras, poles

_STYLES = ("-", "--", ":", "-.")
_LONG_NAME = 40
# The graph of f^(k+1) is estimated at GROWTH times the graph of f^(k) before it is recorded.
# Measured on nested expressions of every function chainrule diff accepts: 2 to 3.4 for graphs
# of a thousand operations or more, up to 12 for graphs of a few operations (where it costs
# nothing). A graph that comes out larger than estimated is refused once recorded.
GROWTH = 3.5


class WorkLimitError(ValueError):
    """Derivative ``order`` would record more than ``limit`` operations (about ``operations``).

    ``highest`` is the highest order that stays within the limit.
    """

    def __init__(self, order: int, operations: int, limit: int) -> None:
        self.order = order
        self.operations = operations
        self.limit = limit
        self.highest = order - 1
        super().__init__(
            f"derivative {order} needs a recorded graph of about {operations:,} operations, "
            f"over the limit of {limit:,} (each order re-differentiates the graph of the one "
            f"before, so graphs grow geometrically); ask for {self.highest} derivatives or fewer"
        )


def count_operations(tensor: Any) -> int:
    """The number of recorded operations (graph nodes) that ``tensor`` depends on."""
    start = getattr(tensor, "_node", None)
    if start is None:
        return 0
    seen = {id(start)}
    stack = [start]
    while stack:
        for parent in stack.pop().parents:
            if isinstance(parent, Node) and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def _derivatives_at(
    function: Callable, xs: np.ndarray, order: int, max_operations: int | None = None
) -> list[np.ndarray]:
    """[f(xs), f'(xs), ..., f^(order)(xs)], treating f as elementwise."""
    x = Tensor(np.asarray(xs, dtype=np.float64), requires_grad=True)
    # (with the collector running, an order-7 derivative of a nested expression takes 6
    # times as long: recording makes many objects and no reference cycles)
    with np.errstate(all="ignore"), collector_paused():
        out = function(x)
        if not isinstance(out, Tensor):
            out = Tensor(np.broadcast_to(np.asarray(out, dtype=np.float64), x.shape).copy())
        if out.shape != x.shape:
            if out._array.size == 1 and x._array.size == 1:
                out = out.reshape(x.shape)
            else:
                raise ValueError(f"f(x) has shape {out.shape}, x has shape {x.shape}")
        results = [np.array(out._array, dtype=np.float64)]
        current = out
        for k in range(1, order + 1):
            record = k < order  # f^(k) is differentiated again: keep its graph
            if record and max_operations is not None and current._requires_grad:
                # f^(k+1) is taken from the graph of f^(k), recorded now: refuse before
                # recording one far over the limit, and after recording one over it.
                estimate = int(GROWTH * count_operations(current))
                if estimate > max_operations:
                    raise WorkLimitError(k + 1, estimate, max_operations)
            grad = None  # f^(k-1) does not depend on x: f^(k) is zero
            if current._requires_grad:
                (grad,) = gradients(current.sum(), x, create_graph=record, allow_unused=True)
            current = Tensor(np.zeros_like(x._array)) if grad is None else grad
            if record and max_operations is not None:
                recorded = count_operations(current)
                if recorded > max_operations:
                    raise WorkLimitError(k + 1, recorded, max_operations)
            results.append(np.array(current._array, dtype=np.float64))
    return results


def _pointwise(
    function: Callable, xs: np.ndarray, order: int, max_operations: int | None
) -> list[np.ndarray]:
    columns = [_derivatives_at(function, np.float64(value), order, max_operations)
               for value in xs]
    return [np.array([column[k] for column in columns]) for k in range(order + 1)]


def derivatives(
    f: Any, xs: Any, order: int = 1, *, max_operations: int | None = None
) -> list[np.ndarray]:
    """f and its first ``order`` derivatives at the points ``xs``, by chainrule.

    With ``max_operations``, raise :class:`WorkLimitError` rather than record a graph of more
    operations than that (the work of high orders grows geometrically).

    >>> import chainrule as cr
    >>> f, df = derivatives(cr.sin, [0.0, 1.0])
    >>> bool(np.allclose(df, np.cos([0.0, 1.0])))
    True
    >>> try:
    ...     derivatives("sin(exp(x)) * x", [1.0], order=10, max_operations=10_000)
    ... except WorkLimitError as error:
    ...     print(f"order {error.order} refused; up to {error.highest} fits")
    order 10 refused; up to 9 fits
    """
    function = as_function(f, "plot")
    xs = np.asarray(xs, dtype=np.float64).ravel()
    order = int(order)
    if order < 0:
        raise ValueError("the number of derivatives must be 0 or more")
    if isinstance(function, Expression):  # elementwise by construction
        return _derivatives_at(function, xs, order, max_operations)
    try:
        results = _derivatives_at(function, xs, order, max_operations)
    except WorkLimitError:
        raise
    except (ValueError, RuntimeError, TypeError):  # not vectorizable: branch on values...
        return _pointwise(function, xs, order, max_operations)
    probe = np.unique(np.linspace(0, len(xs) - 1, 3).astype(int)) if len(xs) else []
    expected = _pointwise(function, xs[probe], order, max_operations)
    for column, check in zip(results, expected, strict=True):
        if not np.allclose(column[probe], check, rtol=1e-6, atol=1e-9, equal_nan=True):
            return _pointwise(function, xs, order, max_operations)  # f mixes points
    return results


def derivative_name(name: str, order: int) -> str:
    """``name`` with ``order`` primes (f, f', f'') or, from the fourth on, ``f^(4)``."""
    return name + ("'" * order if order <= 3 else f"^({order})")


def _name(function: Callable) -> str:
    name = getattr(function, "__name__", None)
    return "f" if not name or name == "<lambda>" else name


def plot(
    f: Any, x_range: Any = (-2 * np.pi, 2 * np.pi), derivatives: int = 1, ax: Any = None,
    path: str | Path | None = None, *, num: int = 201, title: str | None = None,
) -> Any:
    """Plot f and its first ``derivatives`` derivatives, computed by chainrule; return the figure.

    ``x_range`` is ``(a, b)`` (``num`` points) or the points themselves. ``f`` is a function of a
    tensor (or an expression string such as ``"log(x**2)*sin(x) + 1/x"``, labelled
    ``f(x) = ...``). Draws on ``ax`` when given, and saves to ``path`` when given. Where f has a
    pole (1/x at 0) the y-range is set around the finite part of the curves and the pole is
    marked by a dashed vertical line (see :mod:`chainrule.viz.poles`). Needs matplotlib
    (``pip install 'chainrule[plot]'``).

    >>> import chainrule as cr
    >>> figure = cr.plot(cr.sin, (-6.3, 6.3))  # exercise 4: sin and its derivative
    >>> figure.axes[0].get_legend_handles_labels()[1]
    ['sin(x)', "sin'(x)"]
    >>> figure = cr.plot("x**3 - 2*x", (-2, 2))
    >>> figure.axes[0].get_legend_handles_labels()[1]
    ['f(x) = x**3 - 2*x', "f'(x)"]
    """
    function = as_function(f, "plot")
    extras.matplotlib("cr.plot")  # before any work
    if isinstance(x_range, tuple) and len(x_range) == 2 and np.ndim(x_range[0]) == 0:
        xs = np.linspace(float(x_range[0]), float(x_range[1]), int(num))
    else:
        xs = np.asarray(x_range, dtype=np.float64).ravel()
    curves = globals()["derivatives"](function, xs, derivatives)
    if isinstance(function, Expression):
        return plot_curves(xs, curves, formula=function.text, variable=function.variable,
                           ax=ax, path=path, title=title)
    return plot_curves(xs, curves, _name(function), ax=ax, path=path, title=title)


def _axes(ax: Any) -> tuple[Any, Any]:
    """(figure, axes) to draw on: ``ax``'s, or new ones (through pyplot if the user uses it)."""
    if ax is not None:
        return ax.figure, ax
    if "matplotlib.pyplot" in sys.modules:  # the user works with pyplot: play along
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=(7, 4))
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4))
    return figure, figure.add_subplot()


def _broken_at(xs: np.ndarray, curves: list[np.ndarray], where: list[float]) -> tuple:
    """xs and curves with a gap (a NaN) at each of ``where``, so no line joins +inf to -inf."""
    at = np.searchsorted(xs, where)
    return np.insert(xs, at, where), [np.insert(np.asarray(c, dtype=np.float64), at, np.nan)
                                      for c in curves]


def plot_curves(
    xs: np.ndarray, curves: list[np.ndarray], name: str = "f", *, formula: str | None = None,
    variable: str = "x", ax: Any = None, path: str | Path | None = None,
    title: str | None = None,
) -> Any:
    """Draw ``curves`` (f and its derivatives at ``xs``, as :func:`derivatives` gives them).

    ``name`` names the function (``sin``: sin(x), sin'(x)); an expression's text is given as
    ``formula`` instead (f(x) = formula, f'(x)). Poles are marked and kept out of the y-range.
    """
    extras.matplotlib("plotting")
    figure, ax = _axes(ax)
    xs = np.asarray(xs, dtype=np.float64)
    found = poles.poles(xs, curves) if len(xs) > 2 and np.all(np.diff(xs) > 0) else []
    drawn_xs, drawn = _broken_at(xs, curves, found)
    # A long formula is written out, cut, in the title: in the legend, a 1,500-character
    # expression made a figure 29,000 pixels wide.
    short = formula is not None and len(formula) <= _LONG_NAME
    if formula is not None:
        name = "f"
    for k, values in enumerate(drawn):
        label = f"{derivative_name(name, k)}({variable})"
        if k == 0 and short:
            label += f" = {formula}"
        ax.plot(drawn_xs, values, _STYLES[k % len(_STYLES)], linewidth=2 if k == 0 else 1.6,
                label=label)
    for index, pole in enumerate(found):
        ax.axvline(pole, color="#777777", linestyle="--", linewidth=0.9,
                   label="pole" if index == 0 else None)
    if found and (limits := poles.window(curves)) is not None:
        ax.set_ylim(*limits)
    ax.axhline(0.0, color="#999999", linewidth=0.6)
    ax.set_xlabel(variable)
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(_title(name, len(curves) - 1, formula, variable) if title is None else title)
    if path is not None:
        figure.savefig(path, dpi=150, bbox_inches="tight")
    return figure


def _title(name: str, count: int, formula: str | None, variable: str) -> str:
    title = f"{name} and its derivative" if count == 1 else (
        f"{name} and its first {count} derivatives" if count > 1 else name
    )
    title += " (computed by chainrule)" if count else ""
    if formula is not None:
        cut = formula if len(formula) <= 2 * _LONG_NAME else formula[:2 * _LONG_NAME - 3] + "..."
        title += f"\n{name}({variable}) = {cut}"
    return title


__all__ = ["WorkLimitError", "count_operations", "derivatives", "plot", "plot_curves"]
