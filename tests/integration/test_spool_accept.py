"""Spool intake: accept rules on a real SQLite file, one transaction per order."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import trio.testing

from tests.unit.spool.factories import (
    BAR,
    CUSTOMER,
    DRIVER,
    KITCHEN,
    TARGETS,
    make_order,
    open_test_spool,
)
from wixprint.errors import SpoolError
from wixprint.spool import (
    AcceptOutcome,
    AcceptResult,
    Job,
    JobState,
    JobTarget,
    Spool,
    Variant,
    db_orders,
)

T1 = "2025-06-13T17:00:00.000Z"
T2 = "2025-06-13T17:30:00.000Z"


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


async def drain(spool: Spool, printer: str) -> list[Job]:
    """Claim and print everything queued for ``printer``."""
    done = []
    while (job := await spool.claim_next(printer)) is not None:
        assert await spool.mark_printed(job.id)
        done.append(job)
    return done


async def job_count(spool: Spool) -> int:
    return sum((await spool.statistics()).jobs.values())


async def test_new_order_gets_one_queued_job_per_target(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    result = await spool.accept(make_order())
    assert (result.outcome, result.revision) == (AcceptOutcome.NEW, 1)
    assert len(result.job_ids) == 3
    assert result.printers == ("kitchen", "counter")
    jobs = [await spool.get_job(i) for i in result.job_ids]
    assert [(j.kind, j.printer) for j in jobs if j] == [(t.kind, t.printer) for t in TARGETS]
    for job in jobs:
        assert job is not None
        assert (job.state, job.variant, job.reprint, job.reason) == (
            JobState.QUEUED,
            Variant.NEW,
            False,
            "new",
        )
        assert job.order_number == "10001"
    assert await spool.order_raw("o-1") == make_order().raw_json


async def test_same_order_twice_is_a_no_op(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    first = await spool.accept(make_order())
    again = await spool.accept(make_order())
    # Nothing queued, no doorbell, nothing held, nothing waiting for a payment method.
    assert again == AcceptResult(
        AcceptOutcome.DUPLICATE,
        1,
        job_ids=(),
        printers=(),
        hold_until="",
        payment_wait=False,
        first_sight=False,
    )
    assert await job_count(spool) == len(first.job_ids)


async def test_older_update_arriving_late_changes_nothing(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    newer = make_order(updated=T2, fingerprint="fp-2", driver_fingerprint="dfp-2", note="newer")
    assert (await spool.accept(newer)).outcome is AcceptOutcome.REVISED
    older = make_order(updated=T1, status="CANCELED", note="older")
    result = await spool.accept(older)
    assert result.outcome is AcceptOutcome.DUPLICATE
    assert await spool.order_raw("o-1") == newer.raw_json
    assert await job_count(spool) == 3 + 2


async def test_same_instant_in_another_format_is_a_duplicate(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order(updated="2025-06-13T16:47:23.905Z"))
    result = await spool.accept(make_order(updated="2025-06-13T18:47:23.905+02:00"))
    assert result.outcome is AcceptOutcome.DUPLICATE


async def test_only_an_orders_first_arrival_is_its_first_sight(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """What /metrics counts as an order received: once per order, whatever the outcome says
    (a pre-order is first SCHEDULED, an unprintable order is IGNORED at every change)."""
    arrivals = [
        make_order("plain"),
        make_order("plain"),  # the poll sees it again
        make_order("plain", updated=T1),  # stored again, nothing for the kitchen
        make_order("unpaid", status="INITIALIZED"),
        make_order("unpaid", status="INITIALIZED", updated=T1),  # changed, still not printable
        replace(make_order("pre"), hold_until="2025-06-14T11:15:00.000Z"),
        make_order("pre"),  # released
    ]
    seen = [((r := await spool.accept(o)).outcome.value, r.first_sight) for o in arrivals]
    assert seen == [
        ("new", True),
        ("duplicate", False),
        ("updated", False),
        ("ignored", True),
        ("ignored", False),
        ("scheduled", True),
        ("revised", False),
    ]


async def test_not_printable_is_stored_without_jobs_then_printed_when_approved(
    spool: Spool,
    thread_clock: trio.testing.MockClock,
) -> None:
    pending = await spool.accept(make_order(status="INITIALIZED"))
    assert (pending.outcome, pending.revision, pending.job_ids) == (AcceptOutcome.IGNORED, 0, ())
    assert await spool.order_raw("o-1") is not None
    assert await job_count(spool) == 0

    approved = await spool.accept(make_order(updated=T1))
    assert (approved.outcome, approved.revision) == (AcceptOutcome.REVISED, 1)
    jobs = [await spool.get_job(i) for i in approved.job_ids]
    assert [j.variant for j in jobs if j] == [Variant.NEW] * 3


async def test_cancel_after_print_goes_to_the_same_stations_but_not_the_customer(
    spool: Spool,
    thread_clock: trio.testing.MockClock,
) -> None:
    await spool.accept(make_order())
    printed = await drain(spool, "kitchen") + await drain(spool, "counter")
    assert len(printed) == 3

    result = await spool.accept(make_order(status="CANCELED", updated=T1))
    assert (result.outcome, result.revision) == (AcceptOutcome.REVISED, 2)
    kitchen = await drain(spool, "kitchen")
    counter = await drain(spool, "counter")
    assert [(j.kind, j.variant, j.revision) for j in kitchen] == [("kitchen", Variant.CANCELED, 2)]
    assert [(j.kind, j.variant) for j in counter] == [("driver", Variant.CANCELED)]

    # A repeated cancel (newer timestamp, still canceled) prints nothing more.
    again = await spool.accept(make_order(status="CANCELED", updated=T2))
    assert (again.outcome, again.job_ids) == (AcceptOutcome.UPDATED, ())


async def test_changed_items_print_changed_tickets(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    changed = make_order(updated=T1, fingerprint="fp-2", targets=(KITCHEN, BAR, DRIVER, CUSTOMER))
    result = await spool.accept(changed)
    assert (result.outcome, result.revision) == (AcceptOutcome.REVISED, 2)
    jobs = [await spool.get_job(i) for i in result.job_ids]
    # Only the kitchen's content changed: its stations get CHANGED, the driver nothing.
    assert [(j.kind, j.printer, j.variant) for j in jobs if j] == [
        ("kitchen", "kitchen", Variant.CHANGED),
        ("kitchen", "bar", Variant.CHANGED),
    ]
    assert await spool.order_raw("o-1") == changed.raw_json


async def test_newer_copy_without_kitchen_change_is_stored_without_jobs(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    update = make_order(updated=T1, note="payment arrived")
    result = await spool.accept(update)
    assert (result.outcome, result.revision, result.job_ids) == (AcceptOutcome.UPDATED, 1, ())
    assert await spool.order_raw("o-1") == update.raw_json


async def test_order_and_jobs_commit_together(
    spool: Spool, thread_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = db_orders.insert_job
    calls = 0

    def failing_insert(conn: sqlite3.Connection, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real_insert(conn, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(db_orders, "insert_job", failing_insert)
    order = make_order(note="Erika Mustermann, Kastanienallee 21")
    with pytest.raises(SpoolError, match="spool accept failed") as caught:
        await spool.accept(order)
    assert "Erika" not in str(caught.value)
    assert "Kastanienallee" not in str(caught.value)
    assert await spool.order_raw("o-1") is None
    assert await job_count(spool) == 0
    assert (await spool.recent_job_events()) == []

    monkeypatch.setattr(db_orders, "insert_job", real_insert)
    retry = await spool.accept(order)
    assert (retry.outcome, len(retry.job_ids)) == (AcceptOutcome.NEW, 3)


async def test_constraint_violation_rolls_back_an_update(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    bad = make_order(updated=T1, fingerprint="fp-2", targets=(KITCHEN, JobTarget("kitchen", "")))
    with pytest.raises(SpoolError, match="CHECK constraint failed"):
        await spool.accept(bad)
    # The stored copy is the old one, so the fetcher's retry still sees the change.
    assert await spool.order_raw("o-1") == make_order().raw_json
    assert await job_count(spool) == 3
    good = make_order(updated=T1, fingerprint="fp-2")
    assert (await spool.accept(good)).outcome is AcceptOutcome.REVISED


async def test_outcomes_are_the_words_of_the_logs_events_and_metrics(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """``order_accepted outcome=…`` in the log and the events stream say these words, and the
    orders-received metric counts an order at "new" or "ignored"."""
    held = replace(make_order("o-3"), hold_until="2025-06-15T18:00:00.000Z")
    outcomes = [
        (await spool.accept(order)).outcome.value
        for order in (
            make_order(),
            make_order(),
            make_order(updated=T1, note="payment arrived"),
            make_order(updated=T2, fingerprint="fp-2"),
            make_order("o-2", status="INITIALIZED"),
            held,
        )
    ]
    assert outcomes == ["new", "duplicate", "updated", "revised", "ignored", "scheduled"]


async def test_an_order_given_only_its_required_fields_prints_at_once_and_shows_no_more(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """What an incoming order leaves out: nothing held, no wait for the payment method, and
    no reason, due time or location on the status pages."""
    result = await spool.accept(make_order(targets=(KITCHEN, DRIVER)))
    assert (result.outcome, len(result.job_ids), result.hold_until, result.payment_wait) == (
        AcceptOutcome.NEW,
        2,
        "",
        False,
    )
    assert await spool.pending_orders() == []
    (shown,) = await spool.recent_orders()
    assert (
        shown.skip_reason,
        shown.hold_until,
        shown.due,
        shown.location_id,
        shown.location_name,
        shown.payment,
    ) == ("", "", "", "", "", "unavailable")  # not asked for: none known, none awaited


async def test_a_later_copy_that_brings_no_payment_keeps_the_known_one(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    paid = replace(make_order(), await_payment=True, settle_payment=True, payment='{"paid": 1}')
    await spool.accept(paid)
    assert (await spool.accept(make_order(updated=T1, note="later"))).outcome is (
        AcceptOutcome.UPDATED
    )
    assert [o.payment for o in await spool.recent_orders()] == ["known"]
