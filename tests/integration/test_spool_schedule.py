"""Tickets that wait, on a real SQLite file: held pre-orders and the payment method."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.spool.factories import KITCHEN, TARGETS, make_order
from wixprint.spool import AcceptOutcome, Spool, Variant
from wixprint.vocabulary import JobTarget

NOTICE = JobTarget("preorder", "kitchen")
HELD_UNTIL = "2025-06-14T11:15:00.000Z"
T1 = "2025-06-13T17:00:00.000Z"


async def kinds(spool: Spool, order_id: str = "o-1") -> list[tuple[str, str]]:
    [summary] = [o for o in await spool.recent_orders(10) if o.order_id == order_id]
    return [(t.kind, t.variant.value) for t in summary.tickets]


async def test_a_held_preorder_prints_its_notice_then_its_tickets_once_when_released(
    spool: Spool,
) -> None:
    order = make_order(targets=(KITCHEN,))
    first = await spool.accept(replace(order, hold_until=HELD_UNTIL, notice_targets=(NOTICE,)))
    assert first.outcome is AcceptOutcome.SCHEDULED
    assert (first.hold_until, first.payment_wait) == (HELD_UNTIL, False)
    assert await kinds(spool) == [("preorder", "new")]
    [pending] = await spool.pending_orders()
    assert (pending.order_id, pending.hold_until) == ("o-1", HELD_UNTIL)
    assert pending.payment_wait is None  # held for its time, not for a payment method
    [summary] = await spool.recent_orders(1)
    assert summary.hold_until == HELD_UNTIL  # shown as scheduled on /orders

    # The poll sees it again while held: nothing new.
    again = await spool.accept(replace(order, hold_until=HELD_UNTIL, notice_targets=(NOTICE,)))
    assert again.outcome is AcceptOutcome.DUPLICATE

    # Its time came: the same order, no longer held, prints its kitchen ticket.
    released = await spool.accept(order)
    assert released.outcome is AcceptOutcome.REVISED
    assert await kinds(spool) == [("preorder", "new"), ("kitchen", "new")]
    assert await spool.pending_orders() == []
    # Released twice (the poll and the scheduler racing): printed once.
    assert (await spool.accept(order)).outcome is AcceptOutcome.DUPLICATE
    # Once released, never held again (a later change with a new slot prints CHANGED).
    moved = replace(order, updated=T1, fingerprints={"kitchen": "fp-2", "driver": "dfp-1"})
    later = await spool.accept(replace(moved, hold_until=HELD_UNTIL, notice_targets=(NOTICE,)))
    assert later.outcome is AcceptOutcome.REVISED
    assert (await kinds(spool))[-1] == ("kitchen", Variant.CHANGED.value)


async def test_a_preorder_held_without_a_notice_slip_prints_its_tickets_when_released(
    spool: Spool,
) -> None:
    """No printer takes notice slips: nothing prints while held, not even for a change."""
    order = make_order(targets=(KITCHEN,))
    first = await spool.accept(replace(order, hold_until=HELD_UNTIL))
    assert (first.outcome, first.job_ids) == (AcceptOutcome.SCHEDULED, ())
    moved = replace(order, updated=T1, fingerprints={"kitchen": "fp-2", "driver": "dfp-1"})
    changed = await spool.accept(replace(moved, hold_until=HELD_UNTIL))
    assert (changed.outcome, changed.job_ids) == (AcceptOutcome.SCHEDULED, ())
    assert await kinds(spool) == []
    released = await spool.accept(moved)
    assert (released.outcome, released.revision) == (AcceptOutcome.REVISED, 1)
    assert await kinds(spool) == [("kitchen", "new")]


async def test_a_preorder_canceled_while_held_prints_nothing_more(spool: Spool) -> None:
    order = make_order(targets=(KITCHEN,))
    await spool.accept(replace(order, hold_until=HELD_UNTIL, notice_targets=(NOTICE,)))
    canceled = replace(order, status="CANCELED", printable=False, updated=T1)
    result = await spool.accept(canceled)
    assert result.job_ids == ()
    assert await kinds(spool) == [("preorder", "new")]
    assert await spool.pending_orders() == []  # nothing left to release


async def test_driver_slip_and_receipt_wait_for_the_payment_method_not_the_kitchen(
    spool: Spool,
) -> None:
    order = replace(make_order(targets=TARGETS), await_payment=True)
    first = await spool.accept(order)
    assert (first.outcome, first.payment_wait) == (AcceptOutcome.NEW, True)
    assert await kinds(spool) == [("kitchen", "new")]
    [pending] = await spool.pending_orders()
    assert pending.payment_wait is not None
    assert (await spool.accept(order)).outcome is AcceptOutcome.DUPLICATE

    answer = '{"payments":[{"regularPaymentDetails":{"offlinePayment":true}}]}'
    settled = await spool.accept(replace(order, settle_payment=True, payment=answer))
    assert settled.outcome is AcceptOutcome.REVISED
    assert await kinds(spool) == [("kitchen", "new"), ("driver", "new"), ("customer", "new")]
    assert await spool.pending_orders() == []
    text = await spool.order_raw("o-1")
    assert text is not None
    assert "offlinePayment" in text  # the tickets read the method
    # Settled twice: printed once.
    again = await spool.accept(replace(order, settle_payment=True, payment=answer))
    assert again.outcome is AcceptOutcome.DUPLICATE


async def test_an_order_without_driver_slip_or_receipt_waits_for_no_payment_method(
    spool: Spool,
) -> None:
    order = replace(make_order(targets=(KITCHEN,)), await_payment=True)
    first = await spool.accept(order)
    assert (first.outcome, first.payment_wait) == (AcceptOutcome.NEW, False)
    assert await kinds(spool) == [("kitchen", "new")]
    assert await spool.pending_orders() == []  # no payment to fetch from Wix


async def test_tickets_that_came_due_print_even_for_an_order_long_past(spool: Spool) -> None:
    """The history rule stops changes months later, not an order's own first tickets."""
    order = replace(
        make_order(targets=TARGETS), await_payment=True, changes_until="2025-01-01T00:00:00Z"
    )
    await spool.accept(order)
    settled = await spool.accept(replace(order, settle_payment=True, payment="{}"))
    assert settled.outcome is AcceptOutcome.REVISED
    assert await kinds(spool) == [("kitchen", "new"), ("driver", "new"), ("customer", "new")]


async def test_a_payment_read_before_a_newer_revision_never_overwrites_it(spool: Spool) -> None:
    """The scheduler read the order, then a poll took in its cancellation, then the payment
    answer came: the older copy is not written (its jobs would collide with the cancellation's),
    and the next settle works from the stored row."""
    order = replace(make_order(targets=TARGETS), await_payment=True)
    await spool.accept(order)
    canceled = replace(order, status="CANCELED", printable=False, updated=T1)
    assert (await spool.accept(canceled)).outcome is AcceptOutcome.REVISED
    stale = await spool.accept(replace(order, settle_payment=True, payment="{}"))
    assert stale.outcome is AcceptOutcome.DUPLICATE
    [summary] = await spool.recent_orders(1)
    assert summary.status == "CANCELED"
    assert await kinds(spool) == [("kitchen", "new"), ("kitchen", "canceled")]
