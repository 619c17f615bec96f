"""What a restart touches, through the whole tree: a crash of the spool actor restarts every
service after it with the new handle (root is rest_for_one); a printer actor's restart puts
back only its own printer's jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import line_delay
from tests.integration.harness import (
    child_status,
    config_text,
    fixture_order,
    get_json,
    jobs_of,
    new_order,
    open_rig,
    pass_time,
    ticket_numbers,
    wait_for,
)
from tests.integration.test_intake_real_shapes import fresh
from tests.integration.test_poll_mark_order import logged
from wixprint.spool import QueueStats
from wixprint.supervisor import faults


async def test_a_spool_actor_crash_restarts_every_service_after_it(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        service = await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        first = str(new_order(rig)["number"])
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        await pass_time(thread_clock, 30)
        old = service.ctx.spool.get()

        async def crash(printers: tuple[str, ...] = ()) -> dict[str, QueueStats]:
            raise RuntimeError("spool actor bug")  # a bug in the spool actor's upkeep

        old.queue_stats = crash  # type: ignore[method-assign]
        await wait_for(lambda: service.ctx.spool.get() not in (None, old))
        await trio.sleep(1)
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "spool")["restarts"] == 1
        restarts = [e for e in recovery["recent"] if e["event"] == "actor_restarted"]
        # rest_for_one: the services supervisor is restarted with the spool, every actor in it
        # started again after the crash, none kept running on the old handle.
        # (An actor that touched the closed handle in between may show its own SpoolError.)
        seen = [(e["actor"], e["error_type"]) for e in restarts]
        assert {("spool", "RuntimeError"), ("services", "")} <= set(seen), seen
        for actor in ("fetcher", "web", "alerter", "connectivity", "printer:kitchen"):
            assert child_status(recovery, actor)["uptime"] < 30, actor

        # And they work on the new handle: the next order prints, the first not again.
        second = str(new_order(rig)["number"])
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)
        await pass_time(thread_clock, 20)
        assert ticket_numbers(rig, "kitchen") == [first, second]


async def test_a_printer_restart_requeues_only_its_own_jobs(
    tmp_path: Path,
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults.reset()  # the counters are process-wide: earlier tests fired these points too
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
        # The counter takes 4 s per ticket: its job is still printing when the kitchen's
        # actor dies right after sending (and restarts, putting back what it held).
        rig.printers["counter"].print_delay = line_delay(4.0)
        ports = {name: p.port for name, p in rig.printers.items()}
        with faults.armed("printer.after_send", times=1):
            await rig.start(config_text(tmp_path, rig.shop_url, ports))
            await wait_for(lambda: faults.statistics()["printer.after_send"].fires == 1)
            assert len(rig.tickets("counter")) == 0  # its first ticket is still in the printer
        await wait_for(
            lambda: len(rig.tickets("counter")) >= 2 and len(rig.tickets("kitchen")) >= 2
        )
        await pass_time(thread_clock, 30)
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "printer:kitchen")["restarts"] == 1
        assert child_status(recovery, "printer:counter")["restarts"] == 0
        requeued = logged(caplog, "job_interrupted_requeued")  # by the restarted actor
        assert [(r["actor"], r["printer"], r["order"]) for r in requeued] == [
            ("printer", "kitchen", "10231")
        ]
        # The kitchen's ticket may be on paper: printed again, marked. The counter's never.
        kitchen, counter = rig.tickets("kitchen"), rig.tickets("counter")
        assert ["REPRINT" in t for t in kitchen] == [False, True]
        assert len(counter) == 2
        assert not any("REPRINT" in t for t in counter)
        # The kitchen's copy starts with the printer's buffers cleared, no other ticket does.
        assert (rig.printers["kitchen"].clears, rig.printers["counter"].clears) == (1, 0)
        tickets = jobs_of(await get_json(rig, "/orders"), "10231")
        assert {(t["printer"], t["state"], t["reprint"]) for t in tickets} == {
            ("kitchen", "printed", True),
            ("counter", "printed", False),
        }


async def test_what_a_crash_cut_off_is_cut_away_before_the_reprint(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The kitchen's actor dies halfway through sending a long ticket; the printer prints the
    lines that came. The restarted actor's REPRINT begins with a cut: the fragment is a strip
    of its own, the REPRINT whole on the next, and no blank strip is cut anywhere."""
    faults.reset()
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.add_order(fresh(fixtures_dir, "order-04-many-items-modifiers.json"))
        printer = rig.printers["kitchen"]
        printer.print_delay = 0.0  # what came is on paper before the actor is back
        with faults.armed("printer.mid_send", times=1):
            await rig.start(config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}))
            await wait_for(lambda: faults.statistics()["printer.mid_send"].fires == 1)
        await wait_for(lambda: len(printer.tickets) >= 2)  # the restart: no fast clock jumps
        await pass_time(thread_clock, 30)
        fragment, reprint = printer.paper()
        assert (fragment.cut, reprint.cut) == (True, True)
        assert "2x Pizza Margherita" in fragment.text
        assert ("REPRINT" in fragment.text, "Job 1" in fragment.text) == (False, False)
        assert reprint.parts == [reprint.text]  # nothing of the first copy above it
        assert reprint.lines[0].strip() == "REPRINT - möglicherweise doppelt"
        assert "Job 1 · Rev. 1" in reprint.lines[-1]
        assert printer.head.blank_cuts == 0
