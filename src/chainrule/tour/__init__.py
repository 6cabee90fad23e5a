"""The guided tour (``chainrule tour``, ``make tour``): the chapter end to end, then its exercises.

The chapter's code runs as a transcript: each statement is printed as at a Python prompt, run,
and its value shown, first in the native API, then in each dialect exactly as the chapter writes
it for MXNet, PyTorch and TensorFlow (only the import line differs). ``assert`` lines check each
result. The four scripts are data, ``chapter/*.txt`` beside this module: Python read by
:func:`transcript`, not modules to import (a bare expression there is a value to show). The
exercises (``exercises.py``) are answered with computations.

A section that fails is reported (with its error) and the tour goes on; the exit status is then
1, so a missing feature cannot go unnoticed. A section that needs matplotlib, when it is not
installed, is skipped with one line saying how to install it (``pip install 'chainrule[plot]'``)
and is not a failure: the plots are an optional extra.
"""

from __future__ import annotations

import ast
import sys
import textwrap
import time
import traceback
from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from ..viz.extras import MissingExtraError
from .exercises import (
    exercise_1,
    exercise_2,
    exercise_3,
    exercise_4,
    exercise_5,
    exercise_8,
    exercises_6_7,
    first_line,
)


def chapter(dialect: str) -> str:
    """The chapter's code for ``dialect`` (native, pytorch, mxnet or tensorflow)."""
    return (resources.files(__name__) / "chapter" / f"{dialect}.txt").read_text(encoding="utf-8")


def transcript(code: str, out: TextIO, namespace: dict | None = None) -> dict:
    """Run ``code`` statement by statement, printing each with its value, as at a prompt."""
    namespace = {} if namespace is None else namespace
    source = textwrap.dedent(code).strip("\n")
    lines = source.splitlines()
    tree = ast.parse(source)
    for statement in tree.body:
        text = lines[statement.lineno - 1: statement.end_lineno]
        print(">>> " + text[0], file=out)
        for line in text[1:]:
            print("... " + line, file=out)
        if isinstance(statement, ast.Expr):
            code_object = compile(ast.Expression(statement.value), "<tour>", "eval")
            value = eval(code_object, namespace)  # noqa: S307 - the tour's own code
            if value is not None or not isinstance(statement.value, ast.Call):
                print(textwrap.indent(repr(value), "    "), file=out)  # x.grad: None, shown
        else:
            module = ast.Module(body=[statement], type_ignores=[])
            exec(compile(module, "<tour>", "exec"), namespace)  # noqa: S102 - the tour's own code
    return namespace


def sections(directory: Path) -> list[tuple[str, Callable[[TextIO], Any]]]:
    return [
        ("The chapter in the native API (import chainrule as cr)",
         partial(transcript, chapter("native"))),
        ("The chapter in the PyTorch dialect (import chainrule.torch as torch)",
         partial(transcript, chapter("pytorch"))),
        ("The chapter in the MXNet dialect (from chainrule.mxnet import autograd, np, npx)",
         partial(transcript, chapter("mxnet"))),
        ("The chapter in the TensorFlow dialect (import chainrule.tensorflow as tf)",
         partial(transcript, chapter("tensorflow"))),
        ("Exercise 1: the cost of a second derivative", exercise_1),
        ("Exercise 2: running backward twice", exercise_2),
        ("Exercise 3: control flow with a vector or matrix a", exercise_3),
        ("Exercise 4: plot sin and its derivative", lambda out: exercise_4(out, directory)),
        ("Exercise 5: the dependency graph of f(x) = log(x**2) sin(x) + 1/x",
         lambda out: exercise_5(out, directory)),
        ("Exercises 6 and 7: the chain rule on that graph, forward and reverse", exercises_6_7),
        ("Exercise 8: forward or reverse mode?", exercise_8),
    ]


def run(directory: str | Path = "tour-output", out: TextIO | None = None,
        only: list[int] | None = None) -> int:
    """Run the tour, writing its images into ``directory``; return the exit status."""
    out = sys.stdout if out is None else out
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    chosen = sections(directory)
    failures = []
    start = time.perf_counter()
    for number, (title, section) in enumerate(chosen, 1):
        if only and number not in only:
            continue
        print(f"\n[{number}/{len(chosen)}] {title}", file=out)
        print("-" * min(100, len(title) + 8), file=out)
        began = time.perf_counter()
        try:
            section(out)
        except MissingExtraError as error:  # an optional part not installed: not a failure
            print(f"   skipped: {error}", file=out)
        except Exception as error:  # report it, keep going, fail at the end
            failures.append((number, title, error))
            print(f"!! section {number} FAILED: {first_line(error)}", file=out)
            print(textwrap.indent("".join(traceback.format_exception(error)[-3:]), "   "),
                  file=out)
        print(f"   ({time.perf_counter() - began:.2f} s)", file=out)
        out.flush()
    elapsed = time.perf_counter() - start
    print(file=out)
    if failures:
        print(f"tour finished in {elapsed:.1f} s with {len(failures)} failed section(s): "
              + ", ".join(str(number) for number, _, _ in failures), file=out)
        return 1
    print(f"tour finished in {elapsed:.1f} s; images in {directory}/", file=out)
    return 0
