"""Dependency chaos: printers go offline, run out of paper (also mid-ticket), open their
cover, jam, fail, stop at near end, vanish from the network, lose power or reset mid-job or
inside a QR code, answer late or collide their proof with a status request (one printer
never answers process ids at all); Wix answers 5xx, rate-limits, times out, sends garbage or
is down; SMTP and the internet drop — overlapping, on a seeded schedule.

None of this is a bug: afterwards the ledger is clean, nothing is queued, no actor restarted
(outages must not burn restart intensity), and a printer outage longer than its grace was
mailed once SMTP was back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio.testing

from tests.crash.conftest import chaos_orders
from tests.crash.outages import HELD
from tests.crash.scenario import ChaosResult, run_scenario

QUICK_ORDERS = 30
GRACE = 30.0
"""``alerts.printer_offline_after`` in the chaos configuration."""
MAILED_AFTER = GRACE + 20.0
"""A printer down this long has been confirmed down and mailed (hysteresis, probes)."""


def check(result: ChaosResult) -> None:
    print(result.summary())
    why = result.describe()
    assert result.report.ok, why
    states = result.job_states
    assert states.get("queued", 0) == states.get("printing", 0) == 0, why
    assert states.get("failed", 0) == 0, why
    assert states.get("attention", 0) == 0, f"an outage set a ticket aside\n{why}"
    assert sum(result.restarts.values()) == 0, f"an outage restarted an actor\n{why}"
    assert result.gave_up == 0, why
    assert result.schedule is not None
    if result.schedule.longest("printer:", HELD) > MAILED_AFTER:
        assert result.mails, f"a long printer outage was never mailed\n{why}"


async def test_chaos_dependencies_quick(
    tmp_path: Path, seed: int, chaos_clock: trio.testing.MockClock
) -> None:
    check(await run_scenario(tmp_path, seed, QUICK_ORDERS, outages=True, mail_after=MAILED_AFTER))


@pytest.mark.chaos
async def test_chaos_dependencies_long(
    tmp_path: Path, seed: int, chaos_clock: trio.testing.MockClock
) -> None:
    orders = max(QUICK_ORDERS, chaos_orders() // 4)
    check(await run_scenario(tmp_path, seed, orders, outages=True, mail_after=MAILED_AFTER))
