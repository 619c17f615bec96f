"""Orders in a real spool file as the rest of the service reads them: the text a ticket and a
preview render, the text intake decides on again, the pending and unprinted lists, the
status pages' view, and the name a failing call gives itself."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import BASE_TIME, KITCHEN, TARGETS, make_order, raw
from wixprint.errors import SpoolError
from wixprint.spool import AcceptOutcome, JobState, Spool, Variant
from wixprint.spool.types import OrderSummary, PendingOrder, TicketSummary
from wixprint.vocabulary import STORED_TRANSACTIONS_KEY, JobTarget

ANSWER = '{"payments":[{"regularPaymentDetails":{"offlinePayment":true}}]}'


async def test_an_order_settled_when_first_taken_in_keeps_its_payment_answer(
    spool: Spool,
) -> None:
    """The payment read can be the first the spool hears of an order (its row pruned, or
    never stored): the tickets still read the method, and an empty answer adds nothing."""
    order = replace(make_order("o-1", targets=TARGETS), await_payment=True)
    first = await spool.accept(replace(order, settle_payment=True, payment=ANSWER))
    assert first.outcome is AcceptOutcome.NEW
    text = await spool.order_raw("o-1")
    assert text is not None
    assert json.loads(text)[STORED_TRANSACTIONS_KEY] == json.loads(ANSWER)

    nothing = replace(make_order("o-2", number="10002"), await_payment=True)
    await spool.accept(replace(nothing, settle_payment=True, payment=""))
    assert await spool.order_raw("o-2") == nothing.raw_json
    await spool.accept(replace(make_order("o-3", number="10003"), await_payment=True))
    payments = {o.order_id: o.payment for o in await spool.recent_orders()}
    assert payments == {"o-1": "known", "o-2": "unavailable", "o-3": "waiting"}


async def test_a_failing_order_call_names_itself(spool: Spool) -> None:
    await spool.accept(make_order())
    conn = raw(spool)
    conn.execute("PRAGMA query_only = ON")  # the card turned read-only
    with pytest.raises(SpoolError, match=r"^spool reprint failed"):
        await spool.reprint("10001")
    conn.execute("PRAGMA query_only = OFF")
    conn.execute("ALTER TABLE orders RENAME TO orders_damaged")  # a damaged file
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "order_raw": lambda: spool.order_raw("o-1"),
        "find_order": lambda: spool.find_order_raw("10001"),
        "order_source": lambda: spool.order_source("o-1"),
        "pending_orders": spool.pending_orders,
        "unprinted_orders": lambda: spool.unprinted_orders(600),
        "recent_orders": spool.recent_orders,
    }
    for name, call in calls.items():
        with pytest.raises(SpoolError, match=rf"^spool {name} failed"):
            await call()


async def test_a_preview_finds_an_order_by_id_or_by_its_latest_number(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    first = make_order("o-1", number="101", note="first")
    await spool.accept(first)
    await trio.sleep(1)
    await spool.accept(make_order("o-2", number="101", note="a later order, same number"))
    await spool.accept(replace(make_order("o-3", number="103"), settle_payment=True, payment="{}"))
    assert await spool.find_order_raw("o-1") == first.raw_json
    assert json.loads(await spool.find_order_raw("101") or "")["id"] == "o-2"
    # What the tickets print: the payment answer beside Wix's fields.
    assert json.loads(await spool.find_order_raw("103") or "")[STORED_TRANSACTIONS_KEY] == {}
    assert await spool.find_order_raw("999") is None
    # Intake decides again on the text Wix sent, without the answer.
    assert await spool.order_source("o-3") == make_order("o-3", number="103").raw_json
    assert await spool.order_source("o-9") is None


async def test_pending_orders_come_in_the_order_their_tickets_are_due(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    late, early = "2025-06-14T12:00:00.000Z", "2025-06-14T11:00:00.000Z"
    notice = (JobTarget("preorder", "kitchen"),)
    for order_id, until in (("o-late", late), ("o-early", early)):
        order = make_order(order_id, number=order_id.upper(), targets=(KITCHEN,))
        await spool.accept(replace(order, hold_until=until, notice_targets=notice, due=until))
    await trio.sleep(5)
    waiting = replace(make_order("o-pay", number="O-PAY"), await_payment=True, due="soon")
    await spool.accept(waiting)
    assert await spool.pending_orders() == [
        PendingOrder("o-pay", "O-PAY", "", BASE_TIME + 5, "soon"),
        PendingOrder("o-early", "O-EARLY", early, None, early),
        PendingOrder("o-late", "O-LATE", late, None, late),
    ]


async def test_the_status_pages_see_each_order_and_ticket_as_stored(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    due, place = "2025-06-13T18:00:00Z", ("loc-1", "Mitte")
    order = make_order("o-1", number="101", targets=(KITCHEN,))
    await spool.accept(replace(order, due=due, location_id=place[0], location_name=place[1]))
    await trio.sleep(2)
    unpaid = make_order("o-2", number="102", status="INITIALIZED")
    skipped = replace(unpaid, await_payment=True, skip_reason="unpaid")
    await spool.accept(skipped)
    await trio.sleep(3)
    (copy,) = await spool.reprint("101")
    newest, oldest = await spool.recent_orders()
    assert newest == OrderSummary(
        "o-2", "102", "INITIALIZED", skipped.created, BASE_TIME + 2, "poll", 0, (), "unpaid"
    )
    assert (oldest.order_id, oldest.status, oldest.received_at) == ("o-1", "APPROVED", BASE_TIME)
    assert (oldest.due, oldest.location_id, oldest.location_name) == (due, *place)
    first, again = oldest.tickets
    assert first == TicketSummary(
        copy - 1, "kitchen", "kitchen", 1, Variant.NEW, JobState.QUEUED, False, BASE_TIME
    )
    assert again == TicketSummary(
        copy, "kitchen", "kitchen", 1, Variant.NEW, JobState.QUEUED, True, BASE_TIME + 5
    )


@pytest.mark.parametrize("text", ["{}", " {  }", '\n{ "id": "o-1" }\n'])
async def test_the_payment_answer_joins_any_stored_object(spool: Spool, text: str) -> None:
    """Spliced in beside Wix's fields, whatever white space the text has."""
    await settle(spool, text)
    stored = json.loads(await spool.order_raw("o-1") or "")
    assert stored == {**json.loads(text), STORED_TRANSACTIONS_KEY: json.loads(ANSWER)}


async def test_a_stored_text_that_is_no_object_is_read_as_it_came(spool: Spool) -> None:
    await settle(spool, "[]")
    assert await spool.order_raw("o-1") == "[]"


async def settle(spool: Spool, text: str) -> None:
    """Take in order o-1 with ``text`` as Wix's, its payment answer already read."""
    order = replace(make_order(), raw_json=text, await_payment=True)
    await spool.accept(replace(order, settle_payment=True, payment=ANSWER))
