"""Seeds and profiles for the crash-injection suite.

Every test takes its randomness from one seed: ``WIXPRINT_CHAOS_SEED`` if set, else a fresh
one. A failing test names its seed in the assertion message and in a report section, so
``WIXPRINT_CHAOS_SEED=<seed> pytest tests/crash -k <test>`` replays it (as far as threads and
sockets allow: fault firing, the order stream and the outage schedule are seeded).

The quick profiles run in ``make test``; ``make chaos`` runs the tests marked ``chaos`` with
``WIXPRINT_CHAOS_ORDERS`` orders and ``WIXPRINT_CHAOS_KILLS`` process kills.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Generator, Iterator

import pytest
import trio.testing

from wixprint.supervisor import faults

SEED_ENV = "WIXPRINT_CHAOS_SEED"
ORDERS_ENV = "WIXPRINT_CHAOS_ORDERS"
KILLS_ENV = "WIXPRINT_CHAOS_KILLS"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def chaos_orders(default: int = 2000) -> int:
    """Orders for the long profile (``make chaos CHAOS_ORDERS=...``)."""
    return env_int(ORDERS_ENV, default)


def chaos_kills(default: int = 20) -> int:
    """Process kills for the long profile (``make chaos CHAOS_KILLS=...``)."""
    return env_int(KILLS_ENV, default)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The test's seed; shown in the report of a failing test."""
    value = env_int(SEED_ENV, secrets.randbelow(2**31))
    request.node.user_properties.append(("chaos_seed", value))
    return value


@pytest.fixture(autouse=True)
def _no_armed_faults() -> Iterator[None]:
    """Fault points are process-global: no test leaves one armed for the next."""
    faults.reset()
    yield
    faults.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for name, value in item.user_properties:
            if name == "chaos_seed":
                report.sections.append(
                    ("chaos seed", f"replay with {SEED_ENV}={value} (test {item.nodeid})")
                )
    return report


@pytest.fixture
def chaos_clock() -> trio.testing.MockClock:
    """``thread_clock`` with a shorter idle threshold: a chaos run has thousands of timers."""
    return trio.testing.MockClock(autojump_threshold=0.02)
