PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The benchmarks compare against PyTorch and HIPS autograd, which chainrule never depends on:
# they live in a venv of their own.
BENCH_VENV := .venv-bench
BENCH_BIN := $(BENCH_VENV)/bin
BENCH_ARGS ?=

.PHONY: tour test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

tour: $(VENV)/.installed
	$(BIN)/chainrule tour

test: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

$(BENCH_VENV)/.installed: pyproject.toml
	$(PY) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/python -m pip install -q --upgrade pip
	$(BENCH_BIN)/python -m pip install -q -e ".[bench]"
	touch $@

# make bench BENCH_ARGS=--quick for a smoke run; results also go to benchmarks/results/*.json
bench: $(BENCH_VENV)/.installed
	$(BENCH_BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) $(BENCH_VENV) build src/*.egg-info .pytest_cache
