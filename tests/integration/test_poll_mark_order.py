"""The poll mark moves only after the spool committed the page: a crash between fetch and
commit loses nothing even with ``overlap = 0``. (The default overlap of ten minutes would
re-fetch a page lost to a mark moved too early, and hide the fault.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio.testing

from tests.integration.harness import (
    config_text,
    get_json,
    new_order,
    new_orders,
    open_rig,
    pass_time,
    ticket_numbers,
    tune,
    wait_for,
)
from wixprint.supervisor import faults


@pytest.mark.parametrize("point", ["fetcher.after_fetch", "spool.after_commit"])
async def test_a_crash_between_fetch_and_commit_loses_no_order_without_overlap(
    tmp_path: Path, point: str, thread_clock: trio.testing.MockClock
) -> None:
    faults.reset()  # the counters are process-wide: earlier tests fired these points too
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", overlap=0.0, poll_interval=30.0))
        await trio.sleep(3)  # the first poll is done; the next one is 30 s away
        numbers = await new_orders(rig, 3)  # 1 s apart: distinct updatedDates, one page
        # after_fetch: before any order of the page is committed; after_commit: after the
        # first one, before the rest.
        with faults.armed(point, times=1):
            await wait_for(lambda: len(rig.tickets("kitchen")) >= 3, limit=120)
            assert faults.statistics()[point].fires == 1
        await pass_time(thread_clock, 40)
        assert ticket_numbers(rig, "kitchen") == numbers
        recovery = await get_json(rig, "/recovery/status")
        restarts = [e for e in recovery["recent"] if e["event"] == "actor_restarted"]
        assert [(e["actor"], e["error_type"]) for e in restarts] == [("fetcher", "InjectedFault")]


async def test_an_order_indexed_late_is_found_by_the_overlap(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """Wix's search index lags its writes, and not always in order: an order that becomes
    searchable after a newer one already moved the mark is found by the next polls' overlap
    window (with ``overlap = 0`` it is never printed)."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(text)
        await trio.sleep(3)
        late = new_order(rig)
        rig.shop.index_late(str(late["id"]), 60)
        await trio.sleep(1)
        prompt = new_order(rig)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        assert ticket_numbers(rig, "kitchen") == [str(prompt["number"])]
        await pass_time(thread_clock, 90)
        assert ticket_numbers(rig, "kitchen") == [str(prompt["number"]), str(late["number"])]
