"""How often the printer actor knocks, timed on the virtual clock as an operator would time it.

After an unknown outcome the next try comes 0.5 s later, then 1 s, then every 2 s (on a
printer probed every second: the cap is the larger of 2 s and ``probe_interval``), each
up to 20 % later; the count starts again with the next order. While the printer cannot print,
it is probed every second for ten minutes, then every ``probe_interval``. None of this
restarts the actor, and its log lines say which actor wrote them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import FakePrinter
from tests.integration.harness import (
    EPOCH,
    Rig,
    child_status,
    config_text,
    dashboard_events,
    get_json,
    jobs_of,
    new_orders,
    open_rig,
    pass_time,
    ticket_numbers,
    tune,
    wait_fast,
    wait_for,
)
from tests.integration.test_poll_mark_order import logged
from wixprint.printing.network import NetworkTransport
from wixprint.spool.machine import UNANSWERED_LIMIT

JITTER = 0.2
"""Each wait is up to 20 % longer than its base."""
SLACK = 0.35
"""Virtual seconds a try may take beyond its wait (connect, send, reset; a worker thread)."""


def _config(rig: Rig, probe_interval: float) -> str:
    text = config_text(rig.tmp, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
    text = tune(text, "printers", probe_interval=probe_interval)
    # The connectivity actor's own probes would be counted as the printer actor's knocks.
    return tune(text, "connectivity", interval=3600.0, interval_down=3600.0)


async def _times(printer: FakePrinter, counter: str, into: list[float]) -> None:
    """Append the virtual time whenever ``printer``'s ``counter`` goes up (once a step)."""
    seen = getattr(printer, counter)

    def more() -> bool:
        return bool(getattr(printer, counter) > seen)

    while True:
        await printer.wait_for(more)
        now = getattr(printer, counter)
        into.extend([trio.current_time()] * (now - seen))
        seen = now


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


class _Clocked(logging.Handler):
    """The virtual time at which each ``event`` line was written (in the field: its ``ts``)."""

    def __init__(self, event: str) -> None:
        super().__init__()
        self.event = event
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict) and record.msg.get("event") == self.event:
            self.times.append(trio.current_time())


@pytest.fixture
def unavailable(caplog: pytest.LogCaptureFixture) -> Iterator[_Clocked]:
    """When the printer actor found its printer unable to print (``printer_unavailable``)."""
    caplog.set_level(logging.INFO)
    handler = _Clocked("printer_unavailable")
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


async def _restarts(rig: Rig) -> int:
    recovery = await get_json(rig, "/recovery/status")
    restarts: int = child_status(recovery, "printer:kitchen")["restarts"]
    return restarts


async def test_retries_after_unknown_outcomes_double_from_half_a_second_to_the_cap(
    tmp_path: Path,
    thread_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    unavailable: _Clocked,
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        printer.reset_mid_job(1000, every=True)  # every try: bytes sent, no proof
        await rig.start(_config(rig, probe_interval=1.0))
        resets: list[float] = []
        rig.nursery.start_soon(_times, printer, "resets", resets)
        # Two orders at once. The second one's arrival rings the printer's bell, which cuts
        # one of the first order's waits short (new work: try now); it is tried right after
        # the first is set aside, the third one after a quiet spell.
        await new_orders(rig, 2, every=0.0)
        await wait_for(lambda: len(resets) == 2 * UNANSWERED_LIMIT, 300)
        await new_orders(rig, 1)
        await wait_for(lambda: len(resets) == 3 * UNANSWERED_LIMIT, 300)
        bases = [0.5, 1.0] + [2.0] * (UNANSWERED_LIMIT - 3)
        for order in (1, 2):
            tries = resets[order * UNANSWERED_LIMIT : (order + 1) * UNANSWERED_LIMIT]
            for gap, base in zip(_gaps(tries), bases, strict=True):
                assert base <= gap <= base * (1 + JITTER) + SLACK, (order, _gaps(tries))
        assert await _restarts(rig) == 0
        unknown = logged(caplog, "print_outcome_unknown")
        aside = logged(caplog, "ticket_needs_attention")
        assert (len(unknown), len(aside)) == (3 * UNANSWERED_LIMIT, 3)
        named = {(line["actor"], line["printer"]) for line in unknown + aside}
        assert named == {("printer", "kitchen")}  # what an operator filters the log by

        # A fourth order finds the printer out of paper (nothing sent): once the roll is
        # changed its tries count from zero again (the first wait is cut short by the ring
        # of the printer's return).
        printer.paper_out = True
        await new_orders(rig, 1)
        await wait_for(lambda: len(unavailable.times) == 1)
        await pass_time(thread_clock, 5)
        before = len(resets)
        printer.paper_out = False
        await wait_for(lambda: len(resets) == before + 4)
        for gap, base in zip(_gaps(resets[before:])[1:], [1.0, 2.0], strict=True):
            assert base <= gap <= base * (1 + JITTER) + SLACK, _gaps(resets[before:])
        assert await _restarts(rig) == 0


async def test_a_printer_out_of_paper_is_probed_every_second_for_ten_minutes_then_less(
    tmp_path: Path,
    thread_clock: trio.testing.MockClock,
    unavailable: _Clocked,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        await rig.start(_config(rig, probe_interval=30.0))
        await pass_time(thread_clock, 3)
        # One status probe by the connectivity actor, one "what can you do" by the printer
        # actor; an idle printer that answered is not probed again.
        assert printer.connections == 2
        printer.paper_out = True
        connections: list[float] = []
        rig.nursery.start_soon(_times, printer, "connections", connections)
        (number,) = await new_orders(rig, 1)  # tried once, then it waits: the actor only probes
        await pass_time(thread_clock, 700, threshold=0.01)
        (down,) = unavailable.times
        # The dashboard dates and words the outage as the actor saw it when it tried the job.
        kitchen = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        assert (kitchen["paper"], kitchen["reason"], kitchen["last_check"]) == (
            "out",
            "printer 'kitchen' cannot print",
            EPOCH + down,
        )
        probes = [t for t in connections if t > down]
        assert len(probes) > 600
        for probe, gap in zip(probes, _gaps(probes), strict=False):
            expected = 1.0 if probe - down < 600 else 30.0
            assert expected <= gap <= expected + SLACK, (probe - down, gap)

        printer.paper_out = False
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) == 1, 60)
        await pass_time(thread_clock, 10)
        assert [("REPRINT" in t) for t in rig.tickets("kitchen")] == [False]
        # Rendered for the model it reported (TM-m30III): one feed-and-cut, GS V B.
        job = max((bytes(r) for r in printer.raw), key=len)
        assert b"\x1dVB\x00" in job
        assert await _restarts(rig) == 0
        checks = (await get_json(rig, "/health"))["checks"]
        assert checks["printer:kitchen"]["status"] == "ready"
        assert [name for name, check in checks.items() if check["status"] != "ready"] == []
        (identified,) = logged(caplog, "printer_identified")  # at the start: what it can do
        assert (identified["actor"], identified["model"], identified["proof"]) == (
            "printer",
            "TM-m30III",
            "process_id",
        )
        events = await dashboard_events(rig)
        (event,) = [e for e in events if e["event"] == "ticket_printed"]
        assert (event["order_number"], event["reprint"], event["late"]) == (number, False, False)
        assert logged(caplog, "reprint_withdrawn") == []  # there was no earlier copy
        (printed,) = logged(caplog, "ticket_printed")
        assert (printed["actor"], printed["order"], printed["reprint"]) == (
            "printer",
            number,
            False,
        )


async def test_after_a_restart_with_an_order_waiting_its_retries_double_from_the_start(
    tmp_path: Path, thread_clock: trio.testing.MockClock, unavailable: _Clocked
) -> None:
    """The count of failed tries starts at zero with the actor, not with its first idle
    moment: an order waiting at the start, on a printer out of paper at the start, is retried
    like any other once the roll is changed."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = _config(rig, probe_interval=1.0)
        printer.paper_out = True
        await rig.start(text)
        (number,) = await new_orders(rig, 1)
        with trio.fail_after(60):
            while not (orders := await get_json(rig, "/orders"))["orders"]:  # noqa: ASYNC110
                await trio.sleep(1)
        assert [t["state"] for t in jobs_of(orders, number)] == ["queued"]
        await rig.stop()

        await rig.start(text)  # still out of paper: it cannot say what it supports yet
        await pass_time(thread_clock, 5)
        printer.paper_out = False
        printer.reset_mid_job(1000, every=True)
        resets: list[float] = []
        rig.nursery.start_soon(_times, printer, "resets", resets)
        await wait_for(lambda: len(resets) == 4)
        # The first wait is cut short by the start's rings (the printer reached, new work).
        for gap, base in zip(_gaps(resets)[1:], [1.0, 2.0], strict=True):
            assert base <= gap <= base * (1 + JITTER) + SLACK, _gaps(resets)
        assert await _restarts(rig) == 0
        # A printer that could not say what it supports was probed, never sent the order.
        assert unavailable.times == []


async def test_an_unreachable_printer_is_dated_from_the_try_and_prints_on_without_a_restart(
    tmp_path: Path, thread_clock: trio.testing.MockClock, unavailable: _Clocked
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        # Many agreeing looks before a printer counts as back (or gone).
        await rig.start(tune(_config(rig, probe_interval=30.0), "connectivity", confirm=20))
        await pass_time(thread_clock, 3)
        printer.unreachable = True  # unplugged: connections are refused
        (number,) = await new_orders(rig, 1)
        await wait_for(lambda: len(unavailable.times) == 1)
        await pass_time(thread_clock, 30)
        (down,) = unavailable.times
        kitchen = (await get_json(rig, "/connectivity/status"))["printers"]["kitchen"]
        # Offline since the try that found it so, as the dashboard says.
        assert (kitchen["online"], kitchen["since"]) == (False, EPOCH + down)
        assert kitchen["reason"].startswith("printer 'kitchen': cannot connect")
        assert await _restarts(rig) == 0

        printer.unreachable = False
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        assert ticket_numbers(rig, "kitchen") == [number]
        assert await _restarts(rig) == 0
        # The printed ticket is proof enough: back at once, not after twenty looks.
        checks = (await get_json(rig, "/health"))["checks"]
        assert checks["printer:kitchen"]["status"] == "ready"


async def test_an_unreachable_printer_is_knocked_on_every_second_for_ten_minutes_then_less(
    tmp_path: Path, thread_clock: trio.testing.MockClock, unavailable: _Clocked
) -> None:
    """Unplugged with an order waiting: each knock is one refused connection (counted by the
    transport, as the network sees them), one a second for ten minutes, then one every
    ``probe_interval``; the ten minutes are not started again by each refusal."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        service = await rig.start(_config(rig, probe_interval=30.0))
        await pass_time(thread_clock, 3)
        transport = service.ctx.transports["kitchen"]
        assert isinstance(transport, NetworkTransport)
        printer.unreachable = True  # unplugged: connections are refused
        await new_orders(rig, 1)
        await wait_for(lambda: len(unavailable.times) == 1)
        (down,) = unavailable.times
        at_first = transport.statistics().offline
        await pass_time(thread_clock, down + 610 - trio.current_time(), threshold=0.01)
        fast = transport.statistics().offline - at_first
        await pass_time(thread_clock, 600, threshold=0.01)
        slow = transport.statistics().offline - at_first - fast
        assert 590 <= fast <= 612, fast  # one a second
        assert 19 <= slow <= 21, slow  # one every 30 s
        assert rig.tickets("kitchen") == []
        assert await _restarts(rig) == 0
