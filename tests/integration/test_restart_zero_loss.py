"""Zero loss across a restart: the service is stopped (as SIGTERM stops it) while orders
stream in and a ticket is on its way to the printer, more orders arrive while it is down, and
it starts again on the same state directory.

What the kitchen sees: every order once — a second copy only with the REPRINT banner — and
nothing left waiting. The ticket that was printing when the stop came is finished within the
printer's stop grace, not abandoned.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import trio
import trio.testing

from tests.fakes.fake_printer import line_delay
from tests.integration.harness import Rig, VirtualWall, config_text, open_rig, wait_for

PRINT_SECONDS = 0.5
"""How long the fake printers take per ticket: long enough to stop in the middle of one."""


@asynccontextmanager
async def order_stream(rig: Rig, every: float) -> AsyncIterator[list[str]]:
    """Adds a new order to the shop every ``every`` virtual seconds; yields their numbers."""
    wall = VirtualWall()
    numbers: list[str] = []

    async def add_orders() -> None:
        while True:
            order = rig.shop.new_demo_order(datetime.fromtimestamp(wall(), UTC))
            numbers.append(str(order["number"]))
            await trio.sleep(every)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(add_orders)
        yield numbers
        nursery.cancel_scope.cancel()


def job_states(spool: Path) -> Counter[tuple[str, str]]:
    """(printer, state) → jobs, read from the spool file of a stopped service."""
    with contextlib.closing(sqlite3.connect(spool)) as conn:
        return Counter(
            {
                (printer, state): n
                for printer, state, n in conn.execute(
                    "SELECT printer, state, count(*) FROM jobs GROUP BY printer, state"
                )
            }
        )


def job_ids(spool: Path, printer: str) -> set[int]:
    with contextlib.closing(sqlite3.connect(spool)) as conn:
        return {i for (i,) in conn.execute("SELECT id FROM jobs WHERE printer = ?", (printer,))}


def order_of(ticket: str) -> str:
    """The order number on a ticket (``#10231``, or ``Bestellung 10231`` on receipts)."""
    match = re.search(r"(?:#|Bestellung )(\d+)", ticket)
    assert match, ticket
    return match.group(1)


def job_of(ticket: str) -> int:
    match = re.search(r" · Job (\d+) · ", ticket)
    assert match, ticket
    return int(match.group(1))


def assert_once_or_marked(tickets: list[str]) -> set[int]:
    """Each job printed once, or again only with the REPRINT banner; the jobs printed."""
    copies: dict[int, list[str]] = {}
    for ticket in tickets:
        copies.setdefault(job_of(ticket), []).append(ticket)
    for job, texts in copies.items():
        plain = [t for t in texts if "REPRINT" not in t]
        assert len(plain) <= 1, f"job {job} printed {len(plain)} times without REPRINT"
    return set(copies)


async def test_stop_mid_stream_and_restart_loses_nothing_and_never_prints_twice_unmarked(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        for printer in rig.printers.values():
            printer.print_delay = line_delay(PRINT_SECONDS)
        ports = {name: p.port for name, p in rig.printers.items()}
        text = config_text(tmp_path, rig.shop_url, ports)
        await rig.start(text)
        assert rig.config is not None
        stop_timeout = rig.config.service.stop_timeout
        kitchen = rig.printers["kitchen"]
        spool = tmp_path / "state" / "spool.sqlite3"

        async with order_stream(rig, every=1.0) as numbers:
            await wait_for(lambda: len(kitchen.tickets) >= 3)
            # Stop the moment the next ticket's bytes reach the kitchen printer: mid-print.
            printed_before = len(kitchen.tickets)
            await kitchen.wait_job_bytes(kitchen.job_bytes + 1)
            assert len(kitchen.tickets) == printed_before
            started = trio.current_time()
            with trio.fail_after(stop_timeout):  # what runner.serve allows after SIGTERM
                await rig.stop()
            stop_took = trio.current_time() - started
            before_stop = len(numbers)

            # The ticket in flight came out, and the spool holds no job in limbo.
            assert len(kitchen.tickets) > printed_before
            states = await trio.to_thread.run_sync(job_states, spool)
            assert {state for _, state in states} <= {"printed", "queued"}
            assert states[("kitchen", "printed")] == len(kitchen.tickets)
            assert states[("counter", "printed")] == len(rig.printers["counter"].tickets)

            # Orders keep coming while the service is down.
            await trio.sleep(6)
        assert len(numbers) - before_stop >= 5
        assert stop_took < stop_timeout

        service = await rig.start(text)

        def all_printed() -> bool:
            kitchen_orders = set(map(order_of, rig.tickets("kitchen")))
            idle = all(q.depth == 0 for q in service.ctx.queue_cache.values())
            return kitchen_orders >= set(numbers) and idle

        await wait_for(all_printed)
        await trio.sleep(5)  # time for anything that would wrongly print twice
        await rig.stop()

    states = await trio.to_thread.run_sync(job_states, spool)
    assert {state for _, state in states} == {"printed"}  # nothing left waiting
    for name, printer in rig.printers.items():
        printed = assert_once_or_marked([t.text for t in printer.tickets])
        assert printed == await trio.to_thread.run_sync(job_ids, spool, name)
    # Every order reached the kitchen, including those sent while the service was down.
    assert set(map(order_of, rig.tickets("kitchen"))) == set(numbers)
