"""Shared fixtures. Only loopback addresses, never real sleeps."""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio.testing

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wix"


@pytest.fixture
def thread_clock() -> trio.testing.MockClock:
    """Virtual clock for tests that touch threads, SQLite or sockets.

    Jumps only after 0.1 s of real idleness, so worker threads and loopback peers get to
    answer before virtual time runs ahead (see trio-stack.md §7.2).
    """
    return trio.testing.MockClock(autojump_threshold=0.1)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def fixed_addresses() -> Iterator[None]:
    """One test at a time on 127.0.0.2/.3 port 9100 (the scan and the setup wizard, whose
    printers listen there and which scan 127.0.0.0/29), however many pytest-xdist workers or
    test runs there are: an exclusive lock on one file in the system's temporary directory,
    taken before the test's event loop starts."""
    with (Path(tempfile.gettempdir()) / "wixprint-tests-port-9100.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
