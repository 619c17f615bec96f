# wix-printer-service: `make demo` to see it work, `make test` to check everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# `make chaos` draws a fresh seed; `make chaos SEED=<seed>` replays one (make test: a fixed list).
SEED   ?=
# `make chaos`: the long crash-injection profile (tests/crash, marker "chaos").
CHAOS_ORDERS ?= 2000
CHAOS_KILLS  ?= 20
# `make test` runs the suite on this many pytest-xdist workers (README: Testing); 1: one process.
PYTEST_WORKERS ?= 4

.PHONY: demo test lint typecheck pytest bench chaos mutants clean install test-deps \
	promtool-deps pi-check wheelhouse

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

# Debian packages the tests drive, installed in one go when missing (one `apt-get update`, not
# one per package): systemd-analyze lints ops/systemd; the disk tests make a small ext4 card on
# a loop device (e2fsprogs, mount); the clock test runs `wixprint run` under libfaketime; the
# dashboard tests drive chromium; the setup wizard's test drives it in tmux, as an owner over
# SSH would. promtool (ops/prometheus) ships only inside Debian's prometheus package: its one
# binary goes into the venv rather than install (and start) a Prometheus server.
test-deps: $(STAMP)
	@missing=""; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v mkfs.ext4 >/dev/null || missing="$$missing e2fsprogs"; \
	command -v losetup >/dev/null || missing="$$missing mount"; \
	ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || missing="$$missing faketime"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	promtool=yes; command -v promtool >/dev/null || test -x $(BIN)/promtool || promtool=""; \
	if [ -n "$$missing" ] || [ -z "$$promtool" ]; then apt-get update -qq; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi; \
	if [ -z "$$promtool" ]; then \
	  (cd $(VENV) && apt-get download -qq prometheus && \
	   dpkg-deb --fsys-tarfile prometheus_*.deb | tar -xO ./usr/bin/promtool > bin/promtool && \
	   chmod +x bin/promtool && rm -f prometheus_*.deb); \
	fi

# Kept for ops/prometheus/README.md and habit: the packages above, promtool among them.
promtool-deps: test-deps

pytest: $(STAMP) test-deps
	$(BIN)/python -m pytest -q -m "not chaos" $(if $(filter-out 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist worksteal)

test: lint typecheck pytest

# One JSON object per benchmark on stdout, about 8 minutes in all (README: Benchmarks).
bench: $(STAMP)
	@for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Replay a failure with the seed it printed: make chaos SEED=<seed> (smaller: CHAOS_ORDERS=200).
chaos: $(STAMP)
	WIXPRINT_CHAOS_SEED=$(SEED) WIXPRINT_CHAOS_RANDOM=1 WIXPRINT_CHAOS_ORDERS=$(CHAOS_ORDERS) \
	  WIXPRINT_CHAOS_KILLS=$(CHAOS_KILLS) $(BIN)/python -m pytest -q -m chaos tests/crash

# Install and smoke-test in emulated Raspberry Pi OS userlands (arm64, armhf); root, slow,
# not part of `make test` (README: Raspberry Pi architectures).
pi-check:
	command -v debootstrap >/dev/null && command -v qemu-arm-static >/dev/null || \
	  (apt-get update && apt-get install -y --no-install-recommends debootstrap \
	  qemu-user-static binfmt-support)
	bash ops/pi-check.sh

# The offline install's wheelhouse for THIS machine's Python and architecture, build
# requirements included (README: offline install).
WHEELS ?= wheels
wheelhouse: $(BIN)/python
	$(BIN)/python -m pip wheel --wheel-dir $(WHEELS) . "setuptools>=68" wheel

# Mutation testing (mutmut, pinned), one module at a time against its own quick tests, in a
# scratch copy under .mutants/ (README: Mutation score). Not part of `make test`: hours for all.
# One module or a few: make mutants MUTANTS="health wix/webhook"
MUTANTS ?=
mutants: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutants]'
	$(BIN)/python -m tests.mutation.run_mutants $(MUTANTS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .mutants
