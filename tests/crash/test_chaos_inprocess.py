"""In-process chaos: every fault point armed at random while orders stream through the fake Wix
API (polls and signed webhooks) to fake network printers, on the virtual clock.

Afterwards the ledger must be clean (every approved order's tickets printed, each once or
with a REPRINT banner, none at the wrong printer), nothing may be left queued, and the
crashes must show as restarts in the supervision tree's ``statistics()``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio.testing

from tests.crash.conftest import chaos_orders
from tests.crash.scenario import ChaosResult, run_scenario

QUICK_ORDERS = 24
PRINTER_POINTS = ("printer.before_send", "printer.mid_send", "printer.after_send")


def check(result: ChaosResult) -> None:
    print(result.summary())
    why = result.describe()
    assert result.report.ok, why
    states = result.job_states
    assert states.get("queued", 0) == states.get("printing", 0) == 0, why
    assert states.get("failed", 0) == 0, why
    fires, restarts = result.fires, result.restarts
    assert sum(fires.values()) > 0, f"no fault fired\n{why}"
    # Each crash shows where it happened, in the tree's statistics.
    if any(fires.get(point, 0) for point in PRINTER_POINTS):
        assert sum(n for name, n in restarts.items() if name.startswith("printer:")) > 0, why
    if fires.get("fetcher.after_fetch", 0):
        assert restarts.get("fetcher", 0) > 0, why
    if fires.get("alerter.before_send", 0):
        assert restarts.get("alerter", 0) > 0, why


async def test_chaos_inprocess_quick(
    tmp_path: Path, seed: int, chaos_clock: trio.testing.MockClock
) -> None:
    check(await run_scenario(tmp_path, seed, QUICK_ORDERS, fault_scale=2.0))


@pytest.mark.chaos
async def test_chaos_inprocess_long(
    tmp_path: Path, seed: int, chaos_clock: trio.testing.MockClock
) -> None:
    """The long profile: every fault point and every dependency outage at once."""
    check(await run_scenario(tmp_path, seed, chaos_orders(), fault_scale=1.0, outages=True))
