# wix-printer-service: `make demo` to see it work, `make test` to check everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SEED   ?= 1

.PHONY: demo test lint typecheck pytest bench chaos clean install ops-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wixprint demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The unit tests lint ops/systemd with systemd-analyze (Debian's systemd package).
ops-deps:
	command -v systemd-analyze >/dev/null || (apt-get update && apt-get install -y --no-install-recommends systemd)

pytest: $(STAMP) ops-deps
	$(BIN)/python -m pytest -q -m "not chaos"

test: lint typecheck pytest

bench: $(STAMP)
	@for script in bench/bench_*.py; do $(BIN)/python $$script; done

chaos: $(STAMP)
	WIXPRINT_CHAOS_SEED=$(SEED) $(BIN)/python -m pytest -q -m chaos tests/crash

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
