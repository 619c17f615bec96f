"""Alert slips in a real spool file: queued once per slip key, claimed after every order
ticket waiting at the same printer, kept out of the order views and the unprinted-orders
count, pruned without tombstones; and the migration that keeps an alert's facts."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import (
    BASE_TIME,
    CUSTOMER,
    make_order,
    new_alert,
    open_test_spool,
    raw,
)
from wixprint.alerts.channels import AlertMessage
from wixprint.alerts.messages import AlertFacts
from wixprint.alerts.slip_channel import PrinterSlipChannel
from wixprint.alerts.slips import AlertSlip, encode_facts, encode_slip, slip_prefix
from wixprint.config import load_config_text
from wixprint.errors import SpoolError
from wixprint.spool import Spool
from wixprint.spool.schema import _V7_ALERT_SLIPS, MIGRATIONS, migrate
from wixprint.spool.types import ALERT_SLIP_KIND

FACTS = AlertFacts(
    category="paper_out",
    key="paper_out:kitchen",
    level="critical",
    since=BASE_TIME - 130,
    target="kitchen",
)


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


def slip(kind: Literal["raise", "resolve"] = "raise", raised_at: float = BASE_TIME) -> AlertSlip:
    return AlertSlip(key=FACTS.key, kind=kind, raised_at=raised_at, facts=FACTS)


async def test_a_slip_is_queued_once_whoever_queues_it_again(spool: Spool) -> None:
    first = await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter", "bar"])
    assert len(first) == 2
    # The alerter died before marking the delivery done, or the process restarted: again.
    assert await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"]) == []
    # The resolved slip of the same problem is another slip.
    ended = slip("resolve", BASE_TIME + 300)
    assert len(await spool.enqueue_slip(ended.slip_id, encode_slip(ended), ["counter"])) == 1
    stats = await spool.queue_stats()
    assert (stats["counter"].depth, stats["bar"].depth) == (2, 1)


async def test_order_tickets_are_claimed_before_a_slip_that_came_first(spool: Spool) -> None:
    await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"])
    await spool.accept(make_order("o-1", number="1001", targets=(CUSTOMER,)))
    await spool.accept(make_order("o-2", number="1002", targets=(CUSTOMER,)))
    claimed = []
    while (job := await spool.claim_next("counter")) is not None:
        claimed.append((job.kind, job.order_number))
        await spool.mark_printed(job.id)
    assert claimed == [("customer", "1001"), ("customer", "1002"), (ALERT_SLIP_KIND, "ALERT")]


async def test_slips_are_no_orders(spool: Spool, thread_clock: trio.testing.MockClock) -> None:
    await spool.accept(make_order("o-1", number="1001", targets=(CUSTOMER,)))
    await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"])
    await trio.sleep(3600)
    assert [o.number for o in await spool.recent_orders()] == ["1001"]
    assert [n for n, _ in await spool.unprinted_orders(older_than=600)] == ["1001"]
    assert (await spool.statistics()).orders == 1
    with pytest.raises(KeyError):
        await spool.reprint("ALERT")
    raw = await spool.order_raw(slip().slip_id)
    assert raw == encode_slip(slip())


async def test_the_slips_an_earlier_release_queued_are_still_slips(spool: Spool) -> None:
    """The word "alert" (the source of a slip's row, the kind of its job) is the file format:
    a slip queued before an upgrade is no order and waits behind the order tickets."""
    await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"])
    conn = spool._conn
    assert conn is not None
    conn.execute("UPDATE orders SET source = 'alert' WHERE order_id = ?", (slip().slip_id,))
    conn.execute("UPDATE jobs SET kind = 'alert' WHERE order_id = ?", (slip().slip_id,))
    await spool.accept(make_order("o-1", number="1001", targets=(CUSTOMER,)))
    assert [o.number for o in await spool.recent_orders()] == ["1001"]
    assert (await spool.statistics()).orders == 1
    claimed = [await spool.claim_next("counter") for _ in range(2)]
    assert [job.order_number for job in claimed if job] == ["1001", "ALERT"]


async def test_pruning_deletes_printed_slips_without_tombstones(
    spool: Spool, tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"])
    waiting = slip(raised_at=BASE_TIME + 1)
    await spool.enqueue_slip(waiting.slip_id, encode_slip(waiting), ["bar"])
    job = await spool.claim_next("counter")
    assert job is not None
    await spool.mark_printed(job.id)
    await trio.sleep(3 * 86400)
    await spool.prune(keep_for=86400, reference="2030-01-01T00:00:00Z")
    conn = sqlite3.connect(tmp_path / "spool.db")
    try:
        kept = conn.execute("SELECT order_id FROM orders").fetchall()
        assert kept == [(waiting.slip_id,)]  # a slip still waiting stays
        assert conn.execute("SELECT count(*) FROM tombstones").fetchone() == (0,)
    finally:
        conn.close()


@dataclass
class _Sink:
    spool: Spool
    states: dict[str, bool] = field(default_factory=dict)

    def working(self) -> Mapping[str, bool]:
        return self.states

    async def enqueue(self, s: AlertSlip, printers: Sequence[str]) -> Sequence[str]:
        jobs = await self.spool.enqueue_slip(s.slip_id, encode_slip(s), printers)
        return tuple(printers) if jobs else ()

    async def announced(self, key: str) -> Sequence[str]:
        return await self.spool.slip_printers(slip_prefix("raise", key))


RAISED = AlertMessage(
    id="alert-1",
    key=FACTS.key,
    kind="raise",
    level="critical",
    problem_level="critical",
    subject="s",
    body="b",
    raised_at=BASE_TIME,
    facts=FACTS,
)
CONFIG = """
[[printers]]
name = "kitchen"
host = "127.0.0.1"
[[printers]]
name = "counter"
host = "127.0.0.1"
port = 9101
[[printers]]
name = "bar"
host = "127.0.0.1"
port = 9102
"""


async def test_a_delivery_repeated_after_a_crash_queues_nothing_twice(spool: Spool) -> None:
    sink = _Sink(spool, {"bar": False})  # the bar is out of paper too
    channel = PrinterSlipChannel(load_config_text(CONFIG), sink)
    message = RAISED
    await channel.deliver(message)
    await channel.deliver(message)
    stats = await spool.queue_stats(("kitchen", "counter", "bar"))
    assert {name: q.depth for name, q in stats.items()} == {"kitchen": 0, "counter": 1, "bar": 0}


async def test_alert_slips_migration_keeps_alerts_and_adds_their_facts(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        before = MIGRATIONS.index(_V7_ALERT_SLIPS)
        migrate(conn, path, target=before)
        conn.execute(
            "INSERT INTO alert_outbox (key, level, subject, body, raised_at) VALUES"
            " ('internet_down', 'critical', 's', 'b', 1.0)"
        )
        report = migrate(conn, path, target=before + 1)
        assert report.backup is not None
        assert conn.execute("SELECT key, facts FROM alert_outbox").fetchall() == [
            ("internet_down", "")
        ]
    finally:
        conn.close()
    async with open_test_spool(path) as spool:
        (new_id,) = await spool.record_alerts([replace(new_alert(), facts=encode_facts(FACTS))])
        (pending,) = await spool.pending_deliveries("mail")
        assert (pending.id, pending.facts) == (new_id, encode_facts(FACTS))


async def test_a_resolved_slip_goes_only_where_the_problem_was_announced(spool: Spool) -> None:
    sink = _Sink(spool, {"bar": False})
    channel = PrinterSlipChannel(load_config_text(CONFIG), sink)
    raised = RAISED
    internet = replace(FACTS, category="internet_down", key="internet_down", target="")
    await channel.deliver(raised)
    sink.states["bar"] = True  # refilled meanwhile: it never heard of the problem
    await channel.deliver(replace(raised, id="alert-2", kind="resolve", raised_at=BASE_TIME + 60))
    # A problem that printed no slip (no printer could print then) ends without one.
    ended = replace(raised, id="alert-3", key="internet_down", kind="resolve", facts=internet)
    await channel.deliver(ended)
    stats = await spool.queue_stats(("kitchen", "counter", "bar"))
    assert {name: q.depth for name, q in stats.items()} == {"kitchen": 0, "counter": 2, "bar": 0}


async def test_a_slip_job_is_the_first_revision_of_its_row(spool: Spool) -> None:
    """A slip is never revised: its job must not look like a changed order's reprint."""
    await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"])
    job = await spool.claim_next("counter")
    assert job is not None
    assert (job.order_id, job.order_number, job.revision, job.kind) == (
        slip().slip_id,
        "ALERT",
        1,
        ALERT_SLIP_KIND,
    )
    assert (job.reprint, job.reason) == (False, "new")  # no REPRINT banner on a first slip


async def test_a_failing_slip_call_names_itself(spool: Spool) -> None:
    conn = raw(spool)
    conn.execute("PRAGMA query_only = ON")  # the card turned read-only
    with pytest.raises(SpoolError, match=r"^spool enqueue_slip failed"):
        await spool.enqueue_slip(slip().slip_id, encode_slip(slip()), ["counter"])
    conn.execute("PRAGMA query_only = OFF")
    conn.execute("ALTER TABLE jobs RENAME TO jobs_damaged")  # a damaged file
    with pytest.raises(SpoolError, match=r"^spool slip_printers failed"):
        await spool.slip_printers(slip_prefix("raise", FACTS.key))
