"""The other printer speaks up: the whole service in-process with two fake Epson printers
over TCP on 127.0.0.1, on the virtual clock.

What the kitchen sees: when the kitchen printer runs out of paper, the counter printer
prints one short slip in large type and beeps, within the grace period and a few seconds;
order tickets already waiting at the counter still come first; a "resolved" slip follows
when the paper is back; and neither an alerter crash nor a process restart prints a slip
twice.
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from tests.fakes.fake_printer import line_delay
from tests.integration.harness import (
    Rig,
    VirtualWall,
    child_status,
    config_text,
    get_json,
    new_order,
    open_rig,
    pass_time,
    wait_fast,
)
from wixprint.events import AlertEvent
from wixprint.supervisor import faults

GRACE = 120.0
"""``[alerts] printer_offline_after`` (the default): paper out is announced after it."""
RAISED = "Papier leer"
RESOLVED = "BEHOBEN"


async def refill_and_expect_raised_then_resolved(rig: Rig, clock: trio.testing.MockClock) -> None:
    rig.printers["kitchen"].paper_out = False
    await wait_fast(clock, lambda: len(rig.slips("counter")) >= 2, limit=600)
    await pass_time(clock, 600)
    raised, resolved = rig.slips("counter")
    assert "! ACHTUNG !" in raised
    assert RESOLVED in resolved


async def start_two(rig: Rig, clock: trio.testing.MockClock, extra: str = "") -> str:
    ports = {name: p.port for name, p in rig.printers.items()}
    text = config_text(rig.tmp, rig.shop_url, ports, extra=extra)
    await rig.start(text)
    await pass_time(clock, 10)
    return text


async def test_kitchen_out_of_paper_prints_one_slip_on_the_counter_then_a_resolved_one(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        kitchen, counter = rig.printers["kitchen"], rig.printers["counter"]
        await start_two(rig, thread_clock)
        kitchen.paper_out = True
        gone = VirtualWall()()
        await wait_fast(thread_clock, lambda: len(rig.slips("counter")) >= 1, limit=600)
        assert VirtualWall()() - gone < GRACE + 20  # the grace and a few seconds
        (slip,) = rig.slips("counter")
        assert "! ACHTUNG !" in slip
        assert "kitchen: Papier leer" in slip
        assert "Papier nachlegen" in slip
        # The buzzer sounded once, right after the slip was cut.
        assert [(b.after, b.times) for b in counter.head.beeps] == [(1, 3)]

        await pass_time(thread_clock, 900)  # repeats go by mail, never on paper
        assert len(rig.slips("counter")) == 1
        kitchen.paper_out = False
        await wait_fast(thread_clock, lambda: len(rig.slips("counter")) >= 2, limit=600)
        await pass_time(thread_clock, 600)
        _raised, resolved = rig.slips("counter")
        assert RESOLVED in resolved
        assert "kitchen: Papier leer" in resolved
        assert "Dauer" in resolved
        assert rig.slips("kitchen") == []  # the printer at fault never announces itself
        assert len(counter.head.beeps) == 2
        # Slips are no orders: the order list does not show them.
        orders = await get_json(rig, "/orders")
        assert all(o["number"] != "ALERT" for o in orders["orders"])


async def test_order_tickets_waiting_at_the_counter_print_before_the_slip(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        kitchen, counter = rig.printers["kitchen"], rig.printers["counter"]
        counter.print_delay = line_delay(8.0)  # a slow counter: tickets pile up
        await start_two(rig, thread_clock)
        kitchen.paper_out = True
        await pass_time(thread_clock, GRACE - 15)
        # Two deliveries, a pickup, one of unknown kind: six tickets at the counter, 48 s.
        first = [str(new_order(rig)["number"]) for _ in range(4)]

        def slip_queued() -> bool:
            assert rig.service is not None
            return any(
                isinstance(e, AlertEvent) and e.channel == "printers" and e.state == "sent"
                for e in rig.service.ctx.recent
            )

        await wait_fast(thread_clock, slip_queued, limit=300)
        assert len(counter.tickets) < 4  # still busy with the first orders
        second = str(new_order(rig)["number"])  # a delivery, after the slip was queued
        await wait_fast(thread_clock, lambda: len(rig.slips("counter")) >= 1, limit=300)
        await pass_time(thread_clock, 30)
        printed = rig.paper("counter")
        # Order tickets first, whenever they came: the slip waited for the second order too.
        assert [t for t in printed if "ACHTUNG" in t] == printed[-1:]
        assert "kitchen: Papier leer" in printed[-1]
        at_counter = [n for n in (*first, second) if any(n in t for t in printed)]
        assert second in at_counter  # deliveries: driver slips
        assert first[0] in at_counter
        assert len(printed) >= 6


async def test_an_alerter_crash_prints_no_slip_twice(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        kitchen = rig.printers["kitchen"]
        await start_two(rig, thread_clock)
        with faults.armed("alerter.before_send", times=1):
            kitchen.paper_out = True  # the slip is in the outbox; the alerter dies queueing it
            await wait_fast(thread_clock, lambda: len(rig.slips("counter")) >= 1, limit=600)
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "alerter")["restarts"] == 1
        await pass_time(thread_clock, 300)
        await refill_and_expect_raised_then_resolved(rig, thread_clock)


async def test_a_process_restart_prints_no_slip_twice(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        kitchen = rig.printers["kitchen"]
        text = await start_two(rig, thread_clock)
        kitchen.paper_out = True
        await wait_fast(thread_clock, lambda: len(rig.slips("counter")) >= 1, limit=600)
        await pass_time(thread_clock, 30)

        await rig.stop()  # still out of paper while the process is away and back
        await pass_time(thread_clock, 60)
        await rig.start(text)
        await pass_time(thread_clock, 900)
        assert len(rig.slips("counter")) == 1

        await refill_and_expect_raised_then_resolved(rig, thread_clock)


async def test_announce_printers_empty_turns_slips_off(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        await start_two(rig, thread_clock, extra="\n[alerts]\nannounce_printers = []\n")
        rig.printers["kitchen"].paper_out = True
        await pass_time(thread_clock, GRACE + 120)
        assert rig.printers["counter"].tickets == []


async def test_a_paused_printer_gets_no_slip(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """An operator paused the counter: a slip there would print only when it is resumed,
    long after the problem (the mail still goes)."""
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        await start_two(rig, thread_clock)
        assert rig.service is not None
        rig.service.ctx.set_paused("counter", True)
        rig.printers["kitchen"].paper_out = True
        await pass_time(thread_clock, GRACE + 120)
        rig.service.ctx.set_paused("counter", False)
        await pass_time(thread_clock, 60)
        assert rig.slips("counter") == []
