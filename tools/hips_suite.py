"""Run HIPS autograd 1.9.1's own test suite against ``chainrule.autograd``.

Downloads the source distribution from PyPI (``pip download``), copies its ``tests/`` folder,
rewrites only the imports (``autograd`` -> ``chainrule.autograd``), runs it with pytest and
prints the pass count over the tests in scope.

Out of scope (HIPS's internals): names imported from ``autograd.core``, ``autograd.tracer``
(except ``primitive``, the same function as ``autograd.extend.primitive``),
``autograd.wrap_util`` and ``autograd.misc.const_graph``. Such a name becomes a placeholder that
skips the test using it (the whole module when used at import), and the skips are listed.
A public name ``chainrule.autograd`` lacks becomes a placeholder that fails the test using it,
so one missing name does not hide a module's other tests.

    python tools/hips_suite.py [--workdir build/hips-suite] [pytest args...]
"""

from __future__ import annotations

import argparse
import ast
import collections
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

VERSION = "1.9.1"
INTERNAL_MODULES = ("autograd.core", "autograd.tracer", "autograd.wrap_util")
INTERNAL_NAMES = {("autograd.misc", "const_graph"), ("autograd.misc.tracers", "const_graph")}
PUBLIC_ALIASES = {("autograd.tracer", "primitive"): ("chainrule.autograd.extend", "primitive")}

SCOPE_MODULE = '''"""Placeholders for names the rewritten imports could not give."""
import importlib

import pytest


class _Missing:
    def __init__(self, what, out_of_scope):
        self.what, self.out_of_scope = what, out_of_scope

    def _refuse(self, *args, **kwargs):
        if self.out_of_scope:
            pytest.skip(f"out of scope: uses HIPS internals ({self.what})",
                        allow_module_level=True)
        raise AttributeError(f"chainrule.autograd has no {self.what}")

    __call__ = __getitem__ = _refuse

    def __getattr__(self, name):
        if name.startswith("_"):  # what pytest's collection looks up
            raise AttributeError(name)
        if self.out_of_scope:
            return self._refuse()
        # a missing module's names fail where they are called, each test on its own
        return _Missing(f"{self.what}.{name}", out_of_scope=False)


def public(module, name):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return _Missing(f"{module}.{name}", out_of_scope=False)


def module(name, bind_root=False):
    """The module ``name`` (or the package at its root, which an ``import a.b`` binds);
    a placeholder that fails where it is used when the module is missing."""
    try:
        found = importlib.import_module(name)
    except ImportError:
        found = _Missing(name, out_of_scope=False)
    return importlib.import_module("chainrule.autograd") if bind_root else found


def internal(module, name):
    return _Missing(f"{module}.{name}", out_of_scope=True)
'''


def fetch_tests(workdir: Path) -> Path:
    """The sdist's tests/ folder, downloaded once into ``workdir``."""
    sdist = workdir / f"autograd-{VERSION}.tar.gz"
    if not sdist.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"autograd=={VERSION}", "-d", str(workdir), "-q"], check=True)
    source = workdir / f"autograd-{VERSION}"
    if not source.exists():
        with tarfile.open(sdist) as archive:
            # (the "data" filter refuses links and absolute paths; older Pythons lack it)
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(workdir, **safe)  # noqa: S202
    return source / "tests"


def _target(module: str) -> str:
    return "chainrule." + module


def _rewrite_from(node: ast.ImportFrom) -> list[str]:
    module = node.module or ""
    lines = []
    for alias in node.names:
        name, bound = alias.name, alias.asname or alias.name
        if (module, name) in PUBLIC_ALIASES:
            target, attr = PUBLIC_ALIASES[module, name]
            lines.append(f"from _hips_scope import public as _p; {bound} = _p({target!r}, "
                         f"{attr!r})")
        elif module.startswith(INTERNAL_MODULES) or (module, name) in INTERNAL_NAMES:
            lines.append(f"from _hips_scope import internal as _i; {bound} = _i({module!r}, "
                         f"{name!r})")
        else:
            lines.append(f"from _hips_scope import public as _p; {bound} = _p("
                         f"{_target(module)!r}, {name!r})")
    return lines


def _rewrite_import(alias: ast.alias) -> str:
    if alias.name.split(".")[0] != "autograd":
        return f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
    if alias.asname:
        return (f"from _hips_scope import module as _m; {alias.asname} = "
                f"_m({_target(alias.name)!r})")
    return f"from _hips_scope import module as _m; autograd = _m({_target(alias.name)!r}, True)"


def rewrite(source: str) -> str:
    """``source`` with its imports of ``autograd`` pointing at ``chainrule.autograd``."""
    lines = source.splitlines()
    edits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "autograd":
            edits.append((node, _rewrite_from(node)))
        elif isinstance(node, ast.Import) and any(
                a.name.split(".")[0] == "autograd" for a in node.names):
            edits.append((node, [_rewrite_import(alias) for alias in node.names]))
    for node, new in sorted(edits, key=lambda e: -e[0].lineno):
        indent = lines[node.lineno - 1][: node.col_offset]
        lines[node.lineno - 1: node.end_lineno] = [indent + line for line in new]
    return "\n".join(lines) + "\n"


def prepare(tests: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in sorted(tests.glob("*.py")):
        (target / path.name).write_text(rewrite(path.read_text()))
    (target / "_hips_scope.py").write_text(SCOPE_MODULE)
    (target / "pytest.ini").write_text("[pytest]\n")


def module_tests(path: Path) -> int:
    """The number of test functions ``path`` defines at module level (in ``if``/``try``
    blocks too): what a module that fails or skips at import takes with it."""
    count = 0
    stack = list(ast.parse(path.read_text()).body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            count += node.name.startswith("test")
        elif isinstance(node, (ast.If, ast.Try)):
            stack.extend(ast.iter_child_nodes(node))
    return count


def report(junit: Path, tests: Path) -> int:
    """Print the counts per file, the skipped (out-of-scope) tests and the failure causes;
    a module that fails or is skipped at import counts as all the tests it defines."""
    per_file: dict = collections.defaultdict(collections.Counter)
    causes: collections.Counter = collections.Counter()
    skipped = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        classname = case.get("classname", "")
        name = classname.split(".")[0] or case.get("name", "?").removesuffix(".py")
        weight = 1 if classname else module_tests(tests / f"{name}.py")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                message = (child.get("message") or "").splitlines()
                causes[(message[0] if message else child.tag)[:110]] += weight
            elif child.tag == "skipped":
                message = child.get("message", "")
                out_of_scope = "out of scope" in message or "collection skipped" in message
                outcome = "excluded" if out_of_scope else "skipped"
                skipped.append(f"{outcome}: {name}::{case.get('name')}: {message[:80]}")
        per_file[name][outcome] += weight
    print(f"\n{'file':28} {'passed':>7} {'failed':>7} {'skipped':>8} {'excluded':>9}")
    for name in sorted(per_file):
        counts = per_file[name]
        print(f"{name:28} {counts['passed']:7} {counts['failed']:7} {counts['skipped']:8} "
              f"{counts['excluded']:9}")
    total = sum(per_file.values(), collections.Counter())
    in_scope = total["passed"] + total["failed"]
    print(f"\nexcluded (HIPS internals): {total['excluded']}; "
          f"skipped by the suite itself (an optional package missing): {total['skipped']}")
    for line in sorted(skipped):
        print("  " + line)
    print("\nmost common failure causes:")
    for cause, count in causes.most_common(25):
        print(f"  {count:4}  {cause}")
    missing = sum(count for cause, count in causes.items()
                  if "has no attribute" in cause or "chainrule.autograd has no" in cause)
    print(f"\nfailures on a name chainrule.autograd lacks: {missing}; other failures: "
          f"{sum(causes.values()) - missing}")
    share = 100.0 * total["passed"] / in_scope if in_scope else 0.0
    print(f"\nHIPS autograd {VERSION} suite against chainrule.autograd: "
          f"{total['passed']} / {in_scope} tests in scope pass ({share:.1f}%)")
    scipy = per_file.get("test_scipy", collections.Counter())
    rest = in_scope - scipy["passed"] - scipy["failed"]
    if scipy and rest:
        passed = total["passed"] - scipy["passed"]
        print(f"without test_scipy ({scipy['passed'] + scipy['failed']} tests): {passed} / {rest} "
              f"pass ({100.0 * passed / rest:.1f}%)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="build/hips-suite", type=Path)
    args, pytest_args = parser.parse_known_args()
    tests = fetch_tests(args.workdir)
    target = args.workdir / "tests-chainrule"
    prepare(tests, target)
    junit = (args.workdir / "junit.xml").resolve()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--continue-on-collection-errors",
                    "--junitxml", str(junit), "-o", "junit_family=xunit1", *pytest_args],
                   cwd=target, check=False)
    return report(junit, target)


if __name__ == "__main__":
    sys.exit(main())
