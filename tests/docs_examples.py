"""Run the code examples of a Markdown page, checking every output the page shows.

A page's fenced blocks run in order in one namespace, as a reader would type them:

- ``pycon`` blocks are doctests (``>>>`` lines, then the output, compared with ELLIPSIS and
  NORMALIZE_WHITESPACE);
- ``python`` blocks run statement by statement; a statement whose line ends in a comment that
  reads as a value (``x.grad  # tensor([1., 2.])``, continued on comment lines below it) must
  print as that value (whitespace aside; more prose may follow it), and one whose comment names
  an exception (``# RuntimeError: grad can be ...``) must raise it, with that message (``...``
  and ``(...)`` stand for any text);
- ``console`` blocks run their ``$ chainrule ...`` commands and compare what they print (a
  command shown without output must exit 0).

A block after ``<!-- docs-test: skip: <reason> -->`` is not run (a cluster, a GPU). Blocks of
other languages (``sh``, plain text) are not Python and are left alone.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import re
import shlex
import tokenize
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"<!-- docs-test: skip: (.+?) -->\s*$")
# A comment that states a value (what the statement evaluates to) or an exception.
VALUE = re.compile(r"^(\('|\(?tensor\(|\(?array\(|<tf\.Tensor|<\w+Backward>|\(?True|\(?False)")
ERROR = re.compile(r"^(\w+(?:Error|Exception)): (.*)$", re.S)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass
class Block:
    lang: str
    code: str
    line: int  # of the block's first code line, 1-based
    skip: str | None


def blocks(text: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        line = text.count("\n", 0, match.start(2)) + 1
        found.append(Block(match.group(1), match.group(2), line, skip and skip.group(1)))
    return found


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pattern(claim: str) -> re.Pattern:
    """The claim as a regular expression on squashed text: ``...`` and ``(...)`` match
    anything."""
    parts = re.split(r"\(\.\.\.\)|\.\.\.", _squash(claim))
    return re.compile(".*".join(re.escape(p) for p in parts), re.S)


def _comments(code: str) -> dict[int, tuple[int, str]]:
    """Line -> (column, text) of each comment in ``code``."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = (token.start[1], token.string[1:].strip())
    return found


def _claim(code_lines: list[str], comments: dict, end: int) -> str | None:
    """The comment at the end of line ``end`` with its continuation lines (comment-only lines
    right below, at the same column)."""
    if end not in comments:
        return None
    column, text = comments[end]
    parts, line = [text], end + 1
    while line in comments and comments[line][0] == column and \
            not code_lines[line - 1][:column].strip():
        parts.append(comments[line][1])
        line += 1
    return " ".join(parts)


def _check_value(value: object, claim: str) -> str | None:
    shown, said = _squash(repr(value)), _squash(claim)
    if said.startswith(shown) or ("..." in claim and _pattern(claim).match(shown)):
        return None
    return f"shows {claim!r}, but the value is {repr(value)!r}"


def _check_error(error: BaseException | None, claim: str) -> str | None:
    match = ERROR.match(claim)
    name, message = match.group(1), match.group(2)
    if error is None:
        return f"says it raises {name}, but it ran"
    names = {cls.__name__ for cls in type(error).__mro__}
    if name not in names or not _pattern(message).match(_squash(str(error))):
        return f"says {claim!r}, but raised {type(error).__name__}: {error}"
    return None


def run_python(block: Block, namespace: dict, where: str) -> list[str]:
    tree = ast.parse(block.code)
    lines = block.code.split("\n")
    comments = _comments(block.code)
    problems = []
    for stmt in tree.body:
        claim = _claim(lines, comments, stmt.end_lineno)
        at = f"{where}:{block.line + stmt.lineno - 1}"
        error = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # (what it prints is not checked)
                _exec(stmt, namespace, at)
        except Exception as e:  # noqa: BLE001 - a claim says which one, if any
            error = e
        if claim and ERROR.match(claim):
            problem = _check_error(error, claim)
        elif error is not None:
            problem = f"raised {type(error).__name__}: {error}"
        elif claim and VALUE.match(claim):
            value = _value_of(stmt, namespace)
            problem = None if value is _NONE else _check_value(value, claim)
        else:
            problem = None
        if problem:
            problems.append(f"{at}: {ast.get_source_segment(block.code, stmt)!r} {problem}")
            if error is not None and not claim:
                break  # (what follows depends on it)
    return problems


_NONE = object()


def _exec(stmt: ast.stmt, namespace: dict, at: str) -> None:
    module = ast.Module([stmt], type_ignores=[])
    if isinstance(stmt, ast.Expr):
        namespace["_"] = eval(compile(ast.Expression(stmt.value), at, "eval"), namespace)
    else:
        exec(compile(module, at, "exec"), namespace)


def _value_of(stmt: ast.stmt, namespace: dict) -> object:
    """What a value comment describes: the expression's value, or the variable assigned."""
    if isinstance(stmt, ast.Expr):
        return namespace["_"]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], ast.Name):
        return namespace[stmt.targets[0].id]
    return _NONE


def run_pycon(block: Block, namespace: dict, where: str) -> list[str]:
    test = doctest.DocTestParser().get_doctest(block.code, namespace, where, where, block.line - 1)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=out.write, clear_globs=False)
    namespace.update(test.globs)  # (a DocTest runs in a copy of the globals it is given)
    return [out.getvalue()] if runner.failures else []


def run_console(block: Block, where: str) -> list[str]:
    from chainrule.cli import main

    problems, command, expected = [], None, []
    for raw in [*block.code.split("\n"), "$ "]:
        if raw.startswith("$ "):
            if command and command[0] == "chainrule":
                stdout, stderr = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                    try:
                        status = main(command[1:])
                    except SystemExit as exit:
                        status = exit.code
                shown = (stdout.getvalue() + stderr.getvalue()).strip()
                if not expected and status:  # (a command shown without output must succeed)
                    problems.append(f"{where}: $ {shlex.join(command)} exited {status}: {shown}")
                elif expected and _squash(shown) != _squash("\n".join(expected)):
                    problems.append(f"{where}: $ {shlex.join(command)} printed\n{shown}\n"
                                    f"but the page shows\n" + "\n".join(expected))
            ours = raw.startswith("$ chainrule ")
            command, expected = (shlex.split(raw[2:]) if ours else None), []
        elif raw.strip():
            expected.append(raw)
    return problems


def run_page(path: Path) -> tuple[list[str], int, list[str]]:
    """(problems, blocks run, reasons for the blocks skipped) of one page."""
    namespace: dict = {"__name__": "__docs__"}
    problems, ran, skipped = [], 0, []
    for block in blocks(path.read_text()):
        if block.lang not in ("python", "pycon", "console"):
            continue
        if block.skip:
            skipped.append(block.skip)
            continue
        where = f"{path.name}:{block.line}"
        if block.lang == "python" and block.code.lstrip().startswith(">>>"):
            problems += run_pycon(block, namespace, where)  # (a session, highlighted)
        elif block.lang == "python":
            problems += run_python(block, namespace, where)
        elif block.lang == "pycon":
            problems += run_pycon(block, namespace, where)
        else:
            problems += run_console(block, where)
        ran += 1
    return problems, ran, skipped
