"""The ``chainrule`` command: ``chainrule tour`` and ``chainrule diff EXPR``.

``diff`` differentiates an expression typed on the command line. The text is parsed by
:mod:`chainrule.expr` against a whitelist and never ``eval``'d; a refused expression ends with a
one-line message naming what was refused and exit status 2 (the status argparse uses for usage
errors), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

_DIFF_OPTIONS = ("--at", "--wrt", "--order", "--plot", "--range", "--graph", "--explain")
_DIFF_EPILOG = """\
expressions: numbers, the variable, + - * / ** (and unary -), parentheses, the constants
pi, e, tau, and the functions sin cos tan arcsin arccos arctan (asin acos atan) sinh cosh tanh
exp expm1 log (ln) log1p log2 log10 sqrt square abs sigmoid relu reciprocal, pow(a, b),
maximum(a, b), minimum(a, b), arctan2(y, x). Nothing else is accepted.

examples:
  chainrule diff "log(x**2)*sin(x) + 1/x" --at 2 --explain reverse
  chainrule diff "sin(x)" --order 2 --plot sin.png --range -6.3:6.3
  chainrule diff "exp(-t**2)" --wrt t --at 0.5,1 --graph g.svg
"""


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
                      help="the x range of the plot (default: -5:5)")
    diff.add_argument("--graph", metavar="FILE",
                      help="draw the recorded graph at the first X into FILE (.svg .png .dot)")
    diff.add_argument("--explain", choices=("forward", "reverse"),
                      help="show the chain rule node by node at the first X")
    return parser


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
        if token.startswith("-") and not token.startswith("--") and token not in ("-h",):
            token = " " + token  # an expression such as -x**2, not an option
        out.append(token)
        index += 1
    return out


def _numbers(text: str, what: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(
            f"{what} must be a number or a comma-separated list, not {text!r}"
        ) from None
    if not values:
        raise UsageError(f"{what} is empty")
    return values


def _range(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(f"--range must look like A:B (e.g. -3:3), not {text!r}")
    low, high = (_numbers(part, "--range")[0] for part in parts)
    if not low < high:
        raise UsageError(f"--range needs A < B, got {text!r}")
    return low, high


def diff(args: argparse.Namespace) -> int:
    import chainrule as cr

    from .expr import ExpressionError, parse
    from .viz.plot import derivative_name, derivatives

    try:
        function = parse(args.expression, variable=args.wrt)
    except ExpressionError as error:
        raise UsageError(str(error)) from None
    points = _numbers(args.at, "--at")
    if not 0 <= args.order <= 10:
        raise UsageError(f"--order must be between 0 and 10, not {args.order}")
    if args.range_ is not None and args.plot is None:
        raise UsageError("--range goes with --plot FILE")
    plot_range = _range(args.range_) if args.range_ is not None else (-5.0, 5.0)
    with np.errstate(all="ignore"):  # f may be inf or nan at some points: print it, no warning
        columns = derivatives(function, points, args.order)
        print(f"f({args.wrt}) = {function.text}")
        for position, at in enumerate(points):
            print(f"at {args.wrt} = {at:g}:")
            for order, column in enumerate(columns):
                value = float(column[position]) + 0.0
                print(f"  {derivative_name('f', order)}({at:g}) = {value:.15g}")
        if args.explain:
            print()
            cr.explain(function, points[0], mode=args.explain, name=args.wrt)
        if args.graph:
            x = cr.tensor(points[0], dtype="float64", requires_grad=True)
            graph = cr.graph(function(x), names={args.wrt: x}, grads=True,
                             title=f"f({args.wrt}) = {function.text} at {args.wrt} = "
                                   f"{points[0]:g}")
            path = graph.save(args.graph)
            print(f"graph written to {path}")
        if args.plot:
            cr.plot(function, plot_range, derivatives=args.order, path=args.plot)
            print(f"plot written to {args.plot}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(_prepare(argv))
    try:
        if args.command == "tour":
            from .tour import run

            return run(args.out, only=args.section)
        return diff(args)
    except UsageError as error:
        print(f"chainrule {args.command}: {error}", file=sys.stderr)
        return 2
    except ImportError as error:
        print(f"chainrule {args.command}: {error} (plots need matplotlib: "
              "pip install 'chainrule[plot]')", file=sys.stderr)
        return 1
    except (OSError, ValueError, ArithmeticError) as error:
        print(f"chainrule {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
