"""Shared fixtures. Only loopback addresses, never real sleeps."""

from __future__ import annotations

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
