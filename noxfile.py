"""The supported-platform matrix: the whole suite on every supported Python with the newest NumPy
that Python can have, and with the oldest NumPy chainrule supports; then the tests that compare
with real PyTorch, where a CPU-only torch wheel can be installed.

    make matrix                          # installs nox into .venv-nox, runs every session
    make matrix NOX_ARGS=-l              # lists the sessions
    make matrix NOX_ARGS="-s tests-3.12" # runs one
    make matrix NOX_ARGS="-j auto"       # one session per core at a time (.ci/run does this)

The Pythons (the classifiers), the NumPy floor and the test dependencies come from
pyproject.toml. The interpreters are found on PATH as python3.X; where those are pyenv shims,
the newest installed patch of each supported version is activated for the run, so no path or
patch version is written down here. A supported Python that cannot be found fails the run: it is
not skipped.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox
from packaging.version import Version

nox.options.sessions = ["tests", "oldest_numpy", "oracles"]
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"
nox.options.allow_parallel = True  # each session has its own venv: nox -j 2 runs two at once
# uv (installed beside nox) makes a session's venv and installs in seconds where pip takes most of
# a minute; it finds the interpreters as nox does, and must not download one either.
nox.options.default_venv_backend = "uv|virtualenv"
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

PYPROJECT = nox.project.load_toml("pyproject.toml")
# The supported Pythons are the ones pyproject.toml's classifiers name, the oldest its
# requires-python floor.
PYTHONS = sorted((c.rsplit(" ", 1)[1] for c in PYPROJECT["project"]["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)), key=Version)
assert PYPROJECT["project"]["requires-python"] == f">={PYTHONS[0]}", "classifiers disagree"
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
# What the tests import: the test extra but the tools make test runs once (ruff, mypy, build).
TEST_DEPS = [d for d in EXTRAS["test"] if not d.startswith(("ruff", "mypy", "build"))]
NUMPY_FLOOR = next(re.fullmatch(r"numpy\s*>=\s*([\d.]+)", d).group(1)
                   for d in PYPROJECT["project"]["dependencies"] if d.startswith("numpy"))
# The oldest NumPy at each end of the Python range: the floor on the oldest Python, and on the
# newest the first NumPy with wheels for it (2.1 for Python 3.13), or the floor if later.
OLDEST_NUMPY = [(PYTHONS[0], NUMPY_FLOOR),
                (PYTHONS[-1], max(NUMPY_FLOOR, "2.1", key=Version))]
TORCH = next(d for d in EXTRAS["bench"] if d.startswith("torch"))  # the benchmarks' pins
HIPS = next(d for d in EXTRAS["bench"] if d.startswith("autograd"))
ORACLES = ('importorskip("torch")', 'importorskip("autograd")')


def _activate_pyenv_versions() -> None:
    """pyenv's python3.X shims run only a version that is active: activate the newest installed
    patch of each supported version, after those already active (python3 keeps its meaning)."""
    if not shutil.which("pyenv"):
        return
    pyenv = lambda *args: subprocess.run(  # noqa: E731
        ["pyenv", *args], capture_output=True, text=True, check=False).stdout
    installed = pyenv("versions", "--bare").split()
    active = [v for v in pyenv("version-name").strip().split(":") if v]
    newest = []
    for minor in PYTHONS:
        patches = [v for v in installed if re.fullmatch(rf"{re.escape(minor)}\.\d+", v)]
        if patches:
            newest.append(max(patches, key=Version))
    versions = active + [v for v in newest if v not in active]
    if versions:
        os.environ["PYENV_VERSION"] = ":".join(versions)


_activate_pyenv_versions()


def _run_suite(session: nox.Session, *paths: str) -> None:
    session.run("python", "-c", "import sys, numpy; "
                "print('Python', sys.version.split()[0], 'NumPy', numpy.__version__)")
    session.run("python", "-m", "pytest", *paths, *session.posargs)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole suite with the newest NumPy this Python can have; of the slowest tables (cr.jit
    and Dask on each op's samples), one third per Python, in turn: every sample runs on some
    Python here, and all of them in `make test`."""
    if os.environ.get("CHAINRULE_TESTED_PYTHON") == session.python:
        session.skip("`make test` ran the suite on this Python with the newest NumPy (.ci/run)")
    session.install(".", "numpy", *TEST_DEPS)
    session.env["CHAINRULE_TABLE_PART"] = f"{PYTHONS.index(session.python) % 3}/3"
    _run_suite(session)


@nox.session(python=[python for python, _ in OLDEST_NUMPY])
def oldest_numpy(session: nox.Session) -> None:
    """The whole suite with the oldest NumPy this Python can have; of the slowest tables, one
    half per session."""
    numpy = dict(OLDEST_NUMPY)[session.python]
    session.install(".", f"numpy=={numpy}.*", *TEST_DEPS)
    pythons = [python for python, _ in OLDEST_NUMPY]
    session.env["CHAINRULE_TABLE_PART"] = f"{pythons.index(session.python)}/{len(pythons)}"
    _run_suite(session)


# Python 3.11: the CPU-only torch wheel this project's machines hold is built for it, and pip
# (not uv) is the installer that is configured to find it.
@nox.session(python="3.11", venv_backend="virtualenv")
def oracles(session: nox.Session) -> None:
    """The tests that compare with real PyTorch and HIPS autograd (they skip where these are not
    installed)."""
    # PyPI's torch wheel pulls in CUDA (gigabytes): use a CPU-only build or none.
    report = Path(session.create_tmp()) / "torch.json"
    report.unlink(missing_ok=True)
    session.run("python", "-m", "pip", "install", "-q", "--dry-run", "--report", str(report),
                TORCH, silent=True, success_codes=[0, 1])
    plan = json.loads(report.read_text())["install"] if report.exists() else []
    cpu_only = any(p["metadata"]["name"] == "torch" and p["metadata"]["version"].endswith("+cpu")
                   for p in plan)
    if not cpu_only or any(p["metadata"]["name"].startswith("nvidia") for p in plan):
        session.skip(f"no CPU-only wheel of {TORCH} can be installed here")
    session.install(".", TORCH, HIPS, *TEST_DEPS)
    session.run("python", "-c", "import torch, autograd; print('torch', torch.__version__)")
    users = sorted(str(p) for p in Path("tests").glob("test_*.py")
                   if any(oracle in p.read_text() for oracle in ORACLES))
    _run_suite(session, *users)
