PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The benchmarks compare against PyTorch and HIPS autograd, which chainrule never depends on:
# they live in a venv of their own.
BENCH_VENV := .venv-bench
BENCH_BIN := $(BENCH_VENV)/bin
BENCH_ARGS ?=
# nox runs the supported-platform matrix (noxfile.py) from a small venv of its own.
NOX_VENV := .venv-nox
NOX_ARGS ?=

.PHONY: tour test typecheck dist matrix bench lint clean docs

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# make test's tools and extras (tests, lint, type check, dist) into the same venv as the tour's.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

# The tour needs chainrule and matplotlib for its plots, not the test tools: its own stamp.
$(VENV)/.installed-tour: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot]"
	touch $@

tour: $(VENV)/.installed-tour
	$(BIN)/chainrule tour

test: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks tools noxfile.py
	$(BIN)/mypy
	$(BIN)/python -m pytest

# mypy over src/chainrule and tests/typing (the public API as users' code sees it), on Python
# 3.10's rules: the settings are pyproject.toml's [tool.mypy].
typecheck: $(VENV)/.installed
	$(BIN)/mypy

# The wheel and the sdist into dist/, each installed into a fresh venv and smoke tested.
dist: $(VENV)/.installed
	$(BIN)/python tools/check_dist.py

$(NOX_VENV)/.installed:
	$(PY) -m venv $(NOX_VENV)
	$(NOX_VENV)/bin/python -m pip install -q "nox[uv]==2026.10.20"
	touch $@

# The whole suite on every supported Python and NumPy (noxfile.py); one session:
# make matrix NOX_ARGS="-s tests-3.12", the list: make matrix NOX_ARGS=-l
matrix: $(NOX_VENV)/.installed
	$(NOX_VENV)/bin/nox $(NOX_ARGS)

$(BENCH_VENV)/.installed: pyproject.toml
	$(PY) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/python -m pip install -q --upgrade pip
	$(BENCH_BIN)/python -m pip install -q -e ".[bench]"
	touch $@

# make bench BENCH_ARGS=--quick for a smoke run; results also go to benchmarks/results/*.json
bench: $(BENCH_VENV)/.installed
	$(BENCH_BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The documentation site (docs/, Sphinx + MyST, docs/conf.py says why) into build/site, offline:
# its tools are the [docs] extra, in a venv of their own. Open build/site/index.html.
DOCS_VENV := .venv-docs
$(DOCS_VENV)/.installed: pyproject.toml
	$(PY) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install -q --upgrade pip
	$(DOCS_VENV)/bin/python -m pip install -q -e ".[docs]"
	touch $@

docs: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/sphinx-build -q -W --keep-going -b html -d build/doctrees docs build/site

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks tools noxfile.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(NOX_VENV) $(DOCS_VENV) .nox build dist src/*.egg-info .pytest_cache

# HIPS autograd 1.9.1's own test suite against chainrule.autograd (downloads its sdist from PyPI;
# not part of `make test`): prints the pass count over the tests in scope.
.PHONY: hips-suite
hips-suite: $(VENV)/.installed
	$(BIN)/python tools/hips_suite.py
