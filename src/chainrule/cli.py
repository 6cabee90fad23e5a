"""The ``chainrule`` command: ``chainrule tour`` and ``chainrule diff EXPR``.

``diff`` differentiates an expression typed on the command line. The text is parsed by
:mod:`chainrule.expr` against a whitelist and never ``eval``'d; a refused expression ends with a
one-line message naming what was refused and exit status 2 (the status argparse uses for usage
errors), never a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import chainrule as cr

from .expr import MAX_DEPTH, MAX_LENGTH, MAX_NODES, Expression, ExpressionError, parse
from .tour import run
from .viz import extras
from .viz.graph import SAVE_SUFFIXES
from .viz.plot import WorkLimitError, derivative_name, derivatives, plot_curves

if TYPE_CHECKING:
    from .viz.graph import Graph

_DIFF_OPTIONS = ("--at", "--wrt", "--order", "--plot", "--range", "--graph", "--explain")

# Limits of ``chainrule diff``, so that no accepted input runs for more than a few seconds or
# takes more than about 200 MB. Derivative n of an expression re-differentiates the graph
# recorded for derivative n-1, so graphs grow geometrically with the order (2-4x per order for
# nested functions): the order is bounded, and so is the size of every graph recorded on the
# way. A recorded operation costs about half a kilobyte plus its arrays, which hold one value per
# point, so the budget shrinks as points are added (the plot's grid adds PLOT_POINTS).
MAX_ORDER = 10
MAX_POINTS = 1000  # values in --at
MAX_OPERATIONS = 150_000  # recorded operations, at one point
POINTS_PER_OPERATION = 256  # this many points cost as much as one more operation
PLOT_POINTS = 201

_LIMITS = textwrap.fill(
    f"limits: an expression has at most {MAX_LENGTH} characters, {MAX_NODES} parts and "
    f"{MAX_DEPTH} levels of nesting; --order is at most {MAX_ORDER}; --at takes at most "
    f"{MAX_POINTS} finite numbers and --range finite ones. Each derivative re-differentiates "
    "the graph recorded for the one before, so the work grows geometrically with the order "
    f"(2-4x per order for nested functions): a recorded graph may hold at most "
    f"{MAX_OPERATIONS:,} operations, divided by 1 + (points - 1)/{POINTS_PER_OPERATION} when "
    f"several points are evaluated (--plot adds {PLOT_POINTS}). A derivative that would need "
    "more is refused before its graph is recorded: one line, exit status 2, with the highest "
    "order that fits.",
    width=95,
)
_DIFF_EPILOG = f"""\
expressions: numbers, the variable, + - * / ** (and unary -), parentheses, the constants
pi, e, tau, and the functions sin cos tan arcsin arccos arctan (asin acos atan) sinh cosh tanh
exp expm1 log (ln) log1p log2 log10 sqrt square abs sigmoid relu reciprocal, pow(a, b),
maximum(a, b), minimum(a, b), arctan2(y, x). Nothing else is accepted.

{_LIMITS}

examples:
  chainrule diff "log(x**2)*sin(x) + 1/x" --at 2 --explain reverse
  chainrule diff "sin(x)" --order 2 --plot sin.png --range -6.3:6.3
  chainrule diff "exp(-t**2)" --wrt t --at 0.5,1 --graph g.svg
"""


_RANGE_FORM = "A:B, two numbers with A < B (--range -3:3 or --range=-3:3)"


class UsageError(Exception):
    """A bad command line: reported on one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: automatic differentiation on NumPy. Run the guided tour of the "
        "autodiff chapter, or differentiate an expression.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tour = commands.add_parser(
        "tour", help="run the chapter and its exercises end to end (native API and dialects)",
        description="Run the autodiff chapter end to end in the native API and in each dialect, "
        "answer its exercises with computations, and write the plot of sin and sin' and the "
        "graph of exercise 5 into DIR.",
    )
    tour.add_argument("--out", metavar="DIR", default="tour-output",
                      help="where to write the images (default: tour-output/)")
    tour.add_argument("--section", metavar="N", type=int, action="append",
                      help="run only section N (repeatable)")
    diff = commands.add_parser(
        "diff", help="differentiate an expression such as 'log(x**2)*sin(x) + 1/x'",
        description="Differentiate an expression of one variable with chainrule. The expression "
        "is parsed against a whitelist, never evaluated as Python.",
        epilog=_DIFF_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("expression", metavar="EXPR", help="the expression, quoted")
    diff.add_argument("--at", metavar="X", default="1",
                      help="where to evaluate: a number or a comma-separated list (default: 1)")
    diff.add_argument("--wrt", metavar="NAME", default="x", help="the variable (default: x)")
    diff.add_argument("--order", metavar="N", type=int, default=1,
                      help="print derivatives up to order N (default: 1)")
    diff.add_argument("--plot", metavar="FILE", help="plot f and its derivatives into FILE")
    diff.add_argument("--range", metavar="A:B", dest="range_", default=None,
                      help=f"the x range of the plot: {_RANGE_FORM} (default: -5:5)")
    diff.add_argument("--graph", metavar="FILE",
                      help="draw the recorded graph at the first X into FILE ("
                      + " ".join(SAVE_SUFFIXES) + "; .html: the backward pass step by step)")
    diff.add_argument("--explain", choices=("forward", "reverse"),
                      help="show the chain rule node by node at the first X")
    return parser


def _is_option(token: str) -> bool:
    """Whether argparse reads ``token`` as an option of ``diff`` (it accepts abbreviations)."""
    if token in ("-h", "--"):
        return True
    name = token.split("=", 1)[0]
    return len(name) > 2 and any(
        option.startswith(name) for option in (*_DIFF_OPTIONS, "--help")
    )


def _prepare(argv: list[str]) -> list[str]:
    """Let values and expressions start with '-' (``--at -1``, ``--range -3:3``, ``-x**2``)."""
    if not argv or argv[0] != "diff":
        return argv
    out = [argv[0]]
    index = 1
    while index < len(argv):
        token = argv[index]
        if token in _DIFF_OPTIONS and index + 1 < len(argv):
            out.append(f"{token}={argv[index + 1]}")
            index += 2
            continue
        if token.startswith("-") and not _is_option(token):
            token = " " + token  # an expression such as -x**2 or --x, not an option
        out.append(token)
        index += 1
    return out


def _number(text: str, what: str, expected: str = "a number") -> float:
    """One finite number, or a UsageError naming ``what`` and the text."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what} must be {expected}, not {text.strip()!r}") from None
    if not math.isfinite(value):
        too_large = not any(word in text.lower() for word in ("nan", "inf"))
        raise UsageError(f"{what} takes finite numbers, not {text.strip()!r}"
                         + (" (too large for a 64-bit float)" if too_large else ""))
    return value


def _numbers(text: str, what: str) -> list[float]:
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise UsageError(f"{what} is empty: give a number or a comma-separated list")
    expected = "a number or a comma-separated list"
    for part in parts:  # the whole text in the message when one part is not a number
        try:
            float(part)
        except ValueError:
            raise UsageError(f"{what} must be {expected}, not {text!r}") from None
    if len(parts) > MAX_POINTS:
        raise UsageError(f"{what} has {len(parts)} values; at most {MAX_POINTS} are evaluated")
    return [_number(part, what) for part in parts]


def _range(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise UsageError(f"--range takes {_RANGE_FORM}, not {text!r}")
    low, high = (_number(part, "--range", f"a number ({_RANGE_FORM})") for part in parts)
    if low == high:
        raise UsageError(f"--range {text} is empty: it needs A < B, as in --range {low:g}:"
                         f"{low + 1:g}")
    if low > high:
        raise UsageError(f"--range {text} is reversed: it needs A < B, as in --range "
                         f"{high:g}:{low:g}")
    if not math.isfinite(high - low):
        raise UsageError(f"--range {text!r} is too wide (B - A overflows a 64-bit float)")
    return low, high


def _output(path: str, option: str, suffixes: Sequence[str]) -> str:
    """Check an output file name before any work is done: a known suffix, an existing folder."""
    if not path.strip():
        raise UsageError(f"{option} needs a file name")
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {path!r} is a folder; give a file name")
    if target.suffix.lower() not in suffixes:
        known = " ".join(suffixes)
        raise UsageError(
            f"{option} {path!r} has {'no suffix' if not target.suffix else 'the suffix '}"
            f"{target.suffix}; use one of {known}"
        )
    if not target.parent.is_dir():
        raise UsageError(f"{option} {path!r}: the folder {str(target.parent)!r} does not exist")
    return path


def _plot_suffixes() -> tuple[str, ...]:
    extras.matplotlib("--plot")
    from matplotlib.figure import Figure

    return tuple(f".{kind}" for kind in sorted(Figure().canvas.get_supported_filetypes()))


def operation_limit(points: int) -> int:
    """The most operations a recorded graph may hold when ``points`` points are evaluated."""
    return MAX_OPERATIONS * POINTS_PER_OPERATION // (POINTS_PER_OPERATION + max(points, 1) - 1)


def _ordinal(order: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(order, f"{order}th")


def diff(args: argparse.Namespace) -> int:
    # Everything is checked before anything is printed or computed at length: a refusal is one
    # line on stderr and exit status 2, with nothing else on the screen.
    try:
        function = parse(args.expression, variable=args.wrt)
    except ExpressionError as error:
        raise UsageError(str(error)) from None
    name = function.variable  # as Python reads it (NFKC)
    points = _numbers(args.at, "--at")
    _check_order(args.order)
    if args.range_ is not None and args.plot is None:
        raise UsageError("--range goes with --plot FILE")
    plot_range = _range(args.range_) if args.range_ is not None else (-5.0, 5.0)
    if args.graph is not None:
        _output(args.graph, "--graph", SAVE_SUFFIXES)
    if args.plot is not None:
        _output(args.plot, "--plot", _plot_suffixes())
    grid = np.linspace(*plot_range, PLOT_POINTS) if args.plot is not None else np.empty(0)
    xs = np.concatenate([np.asarray(points, dtype=np.float64), grid])
    with np.errstate(all="ignore"):  # f may be inf or nan at some points: print it, no warning
        graph = _graph(function, points[0]) if args.graph is not None else None
        if graph is not None:
            graph.check_save(args.graph)  # PNG without Graphviz or matplotlib: refused now
        columns = _derivatives(function, xs, args.order, plotted=args.plot is not None)
        _print_derivatives(function, points, columns)
        if args.explain:
            print()
            print(cr.explain(function, points[0], mode=args.explain, name=name))
        if graph is not None:
            path = graph.save(args.graph)
            print(f"graph written to {path}")
        if args.plot:
            curves = [column[len(points):] for column in columns]
            plot_curves(grid, curves, formula=function.text, variable=name, path=args.plot)
            print(f"plot written to {args.plot}")
    return 0


def _check_order(order: int) -> None:
    if not 0 <= order <= MAX_ORDER:
        raise UsageError(
            f"refused --order {order}: the order must be between 0 and {MAX_ORDER} (each "
            "order re-differentiates the graph of the one before, so the work grows "
            "geometrically)"
        )


def _graph(function: Expression, point: float) -> Graph:
    """The graph ``function`` records at ``point``, to draw for --graph; refused when it
    records nothing."""
    name = function.variable
    x = cr.tensor(point, dtype="float64", requires_grad=True)
    y = function(x)
    if not (isinstance(y, cr.Tensor) and y.requires_grad):
        raise UsageError(
            f"--graph has nothing to draw: f({name}) = {function.text} does not "
            f"depend on {name}, so no operation was recorded; give an expression of "
            f"{name}, or leave out --graph"
        )
    text = function.text if len(function.text) <= 80 else function.text[:77] + "..."
    return cr.graph(y, names={name: x}, grads=True,
                    title=f"f({name}) = {text} at {name} = {point:g}")


def _derivatives(function: Expression, xs: np.ndarray, order: int, *, plotted: bool) -> list:
    """f and its derivatives up to ``order`` at ``xs``, within the work limit for so many
    points (refused, with what would fit, over it)."""
    limit = operation_limit(len(xs))
    try:
        return derivatives(function, xs, order, max_operations=limit)
    except WorkLimitError as error:
        count = f"{len(xs)} points" if len(xs) > 1 else "one point"
        if plotted:
            count += f" (--plot adds {PLOT_POINTS})"
        raise UsageError(
            f"refused --order {order}: the {_ordinal(error.order)} derivative of this "
            f"expression needs a recorded graph of about {error.operations:,} operations, "
            f"over the limit of {limit:,} for {count} (graphs grow 2-4x per order); use "
            f"--order {error.highest} or less{', fewer points' if len(xs) > 1 else ''}, "
            "or a shorter expression"
        ) from None


def _print_derivatives(function: Expression, points: list[float], columns: list) -> None:
    name = function.variable
    print(f"f({name}) = {function.text}")
    for position, at in enumerate(points):
        print(f"at {name} = {at:g}:")
        for order, column in enumerate(columns):
            value = float(column[position]) + 0.0
            print(f"  {derivative_name('f', order)}({at:g}) = {value:.15g}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a variable such as é on an ASCII terminal
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(_prepare(argv))
    try:
        if args.command == "tour":
            return run(args.out, only=args.section)
        return diff(args)
    except UsageError as error:
        print(f"chainrule {args.command}: {error}", file=sys.stderr)
        return 2
    except extras.MissingExtraError as error:
        print(f"chainrule {args.command}: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError, ArithmeticError, ImportError) as error:
        print(f"chainrule {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: still one line, not a traceback
        print(f"chainrule {args.command}: internal error, please report it: "
              f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
