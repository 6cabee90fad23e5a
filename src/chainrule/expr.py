"""A safe parser for one-variable math expressions (what ``chainrule diff`` differentiates).

The text is parsed with :mod:`ast` and checked node by node against a whitelist: numbers, one
variable, ``+ - * / **``, unary ``+``/``-``, and calls of the functions in :data:`FUNCTIONS`.
Nothing is ever ``eval``'d: the checked tree is interpreted with chainrule's own functions, so
the result is differentiable. Anything else is refused with an :class:`ExpressionError` naming
what was refused.

>>> from chainrule.expr import parse
>>> f = parse("log(x**2)*sin(x) + 1/x")
>>> round(float(f(2.0)), 6)
1.760554
"""

from __future__ import annotations

import ast
import math
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np

from . import api

MAX_LENGTH = 2000
MAX_NODES = 500
MAX_DEPTH = 60


_UNARY_FUNCTIONS = (
    "sin cos tan arcsin arccos arctan sinh cosh tanh exp expm1 log log1p log2 log10 sqrt "
    "square abs sigmoid relu reciprocal"
).split()
# The functions an expression may call: its name -> (the chainrule function, number of arguments).
FUNCTIONS: dict[str, tuple[str, int]] = {
    **{name: (name, 1) for name in _UNARY_FUNCTIONS},
    "asin": ("arcsin", 1), "acos": ("arccos", 1), "atan": ("arctan", 1), "ln": ("log", 1),
    "pow": ("power", 2), "maximum": ("maximum", 2), "minimum": ("minimum", 2),
    "arctan2": ("arctan2", 2), "atan2": ("arctan2", 2),
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}

_BINARY = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a ** b),
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}

# What the user wrote, as a reader would call it, for the refusal message.
_DESCRIPTIONS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "generator expressions",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.Compare: "comparisons", ast.BoolOp: "boolean operators ('and'/'or')",
    ast.IfExp: "conditional expressions", ast.NamedExpr: "assignment expressions (':=')",
    ast.JoinedStr: "f-strings", ast.Starred: "star arguments", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}
_OPERATOR_NAMES = {
    ast.FloorDiv: "'//'", ast.Mod: "'%'", ast.MatMult: "'@'", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.BitOr: "'|'", ast.BitXor: "'^' (use ** for powers)",
    ast.BitAnd: "'&'", ast.Invert: "'~'", ast.Not: "'not'",
}


class ExpressionError(ValueError):
    """The expression was refused: the message names what and where."""


class Expression:
    """A checked expression of one variable; calling it evaluates it with chainrule."""

    def __init__(self, text: str, tree: ast.Expression, variable: str) -> None:
        self.text = text
        self.tree = tree
        self.variable = variable

    def __repr__(self) -> str:
        return f"Expression({self.text!r}, variable={self.variable!r})"

    def __call__(self, value: Any) -> Any:
        return self._eval(self.tree.body, value)

    def _eval(self, node: ast.AST, value: Any) -> Any:
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return value if node.id == self.variable else np.float64(CONSTANTS[node.id])
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, value))
        if isinstance(node, ast.BinOp):
            left = self._eval(node.left, value)
            right = self._eval(node.right, value)
            return _BINARY[type(node.op)][1](left, right)
        function = getattr(api, FUNCTIONS[node.func.id][0])  # a checked ast.Call
        return function(*(self._eval(arg, value) for arg in node.args))


def _where(node: ast.AST) -> str:
    column = getattr(node, "col_offset", None)
    return f" at column {column + 1}" if column is not None else ""


def _refuse(what: str, node: ast.AST | None = None) -> ExpressionError:
    return ExpressionError(f"refused {what}{_where(node) if node is not None else ''}")


def _check(node: ast.AST, variable: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _refuse(f"an expression nested deeper than {MAX_DEPTH} levels", node)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _refuse(f"the constant {value!r} (only real numbers are allowed)", node)
        if isinstance(value, int) and abs(value) > 10**15:
            raise _refuse(f"the integer constant {value} (too large)", node)
        return
    if isinstance(node, ast.Name):
        if node.id == variable or node.id in CONSTANTS:
            return
        if node.id.startswith("_"):
            raise _refuse(f"the name {node.id!r} (names starting with '_')", node)
        if node.id in FUNCTIONS:
            raise _refuse(f"{node.id!r} used without being called", node)
        raise _refuse(
            f"the unknown name {node.id!r} (the variable is {variable!r}; "
            f"constants: {', '.join(CONSTANTS)})",
            node,
        )
    if isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise _refuse(f"the operator {_OPERATOR_NAMES.get(type(node.op), 'unary')}", node)
        _check(node.operand, variable, depth + 1)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            name = _OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)
            raise _refuse(f"the operator {name}", node)
        _check(node.left, variable, depth + 1)
        _check(node.right, variable, depth + 1)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute):
                raise _refuse(f"attribute access '.{func.attr}'", func)
            raise _refuse("a call of something that is not a plain function name", node)
        if func.id not in FUNCTIONS:
            raise _refuse(
                f"a call of the unknown function {func.id!r} (known: "
                f"{', '.join(sorted(FUNCTIONS))})",
                node,
            )
        if node.keywords:
            raise _refuse(f"keyword arguments in the call of {func.id!r}", node)
        arity = FUNCTIONS[func.id][1]
        if len(node.args) != arity:
            raise _refuse(
                f"{func.id}() with {len(node.args)} arguments (it takes {arity})", node
            )
        for arg in node.args:
            _check(arg, variable, depth + 1)
        return
    if isinstance(node, ast.Attribute):
        raise _refuse(f"attribute access '.{node.attr}'", node)
    description = _DESCRIPTIONS.get(type(node), f"the syntax {type(node).__name__!r}")
    raise _refuse(description, node)


def as_function(f: Any, caller: str) -> Callable:
    """``f`` itself if it is callable, else the expression string ``f`` parsed (for ``caller``)."""
    if isinstance(f, str):
        return parse(f)
    if not callable(f):
        raise TypeError(f"{caller} needs a function (or an expression string), got {f!r}")
    return f


def parse(text: str, variable: str = "x") -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` if anything is not allowed.

    >>> parse("x.__class__")
    Traceback (most recent call last):
    ...
    chainrule.expr.ExpressionError: refused attribute access '.__class__' at column 1
    """
    if not isinstance(variable, str):
        raise ExpressionError("refused a non-string variable name")
    # Python reads identifiers in NFKC form (a fullwidth x is x): so must the variable's name.
    variable = unicodedata.normalize("NFKC", variable)
    if not variable.isidentifier() or variable.startswith("_") or variable in CONSTANTS:
        raise ExpressionError(f"refused the variable name {variable!r}")
    if variable in FUNCTIONS:
        raise ExpressionError(f"refused the variable name {variable!r} (a function name)")
    if not isinstance(text, str):
        raise ExpressionError("refused a non-string expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"refused an expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("refused an empty expression")
    if "\n" in text.strip() or "\r" in text or "\x00" in text:
        raise ExpressionError("refused a multi-line expression (give one line)")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"refused invalid syntax{where}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("refused an expression that cannot be parsed") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"refused an expression with more than {MAX_NODES} parts")
    _check(tree.body, variable)
    return Expression(text.strip(), tree, variable)
