# wix-printer-service: `make demo` to see it work, `make test` to check everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SEED   ?= 1
# `make chaos`: the long crash-injection profile (tests/crash, marker "chaos").
CHAOS_ORDERS ?= 2000
CHAOS_KILLS  ?= 20

.PHONY: demo test lint typecheck pytest bench chaos clean install ops-deps browser-deps \
	promtool-deps faketime-deps pi-check wheelhouse

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

# The unit tests lint ops/systemd with systemd-analyze (Debian's systemd package); the disk
# tests make a small ext4 card on a loop device (e2fsprogs, mount).
ops-deps:
	command -v systemd-analyze >/dev/null || (apt-get update && apt-get install -y --no-install-recommends systemd)
	command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null || \
	  (apt-get update && apt-get install -y --no-install-recommends e2fsprogs mount)

# The clock test runs `wixprint run` under libfaketime (Debian's faketime package).
faketime-deps:
	ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || \
	  (apt-get update && apt-get install -y --no-install-recommends faketime)

# The dashboard test drives Debian's chromium.
browser-deps:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

# promtool checks ops/prometheus. It ships only inside Debian's prometheus package: take the
# one binary into the venv rather than install (and start) a Prometheus server.
promtool-deps: $(STAMP)
	command -v promtool >/dev/null || test -x $(BIN)/promtool || (apt-get update && \
	  cd $(VENV) && apt-get download prometheus && \
	  dpkg-deb --fsys-tarfile prometheus_*.deb | tar -xO ./usr/bin/promtool > bin/promtool && \
	  chmod +x bin/promtool && rm -f prometheus_*.deb)

pytest: $(STAMP) ops-deps browser-deps promtool-deps faketime-deps
	$(BIN)/python -m pytest -q -m "not chaos"

test: lint typecheck pytest

# One JSON object per benchmark on stdout, about 8 minutes in all (README: Benchmarks).
bench: $(STAMP)
	@for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Replay a failure with the seed it printed: make chaos SEED=<seed> (smaller: CHAOS_ORDERS=200).
chaos: $(STAMP)
	WIXPRINT_CHAOS_SEED=$(SEED) WIXPRINT_CHAOS_ORDERS=$(CHAOS_ORDERS) \
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

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
