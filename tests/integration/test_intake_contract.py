"""Intake's contract on a real spool file, without the rest of the service: what the spool
keeps of each arrival (what ``/orders`` shows), what the log says of it, how an order that
cannot be taken in is set aside and named, and which arrivals a full disk still lets in.

The service-wide tests (``test_intake_service.py``, ``test_intake_edges.py``) prove the
tickets on paper; these call intake as the poller, the webhook route and the scheduler do,
fast enough to run for every mutant of ``actors/intake.py``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from tests.integration.harness import (
    VirtualWall,
    config_text,
    fixture_order,
    poisoned,
    spy_on_parse,
    virtual_now,
)
from tests.unit.spool.factories import open_test_spool
from wixprint.actors import intake
from wixprint.actors.context import ActorContext, ClockTruth, Doorbell
from wixprint.config import load_config_text
from wixprint.errors import ClockUntrusted, InjectedFault, SpoolUnwritable
from wixprint.events import Event, JobsQueued, OrderQuarantined, OrderReceived
from wixprint.health import HealthRegistry
from wixprint.spool import Spool, db_orders
from wixprint.spool.types import OrderSummary
from wixprint.supervisor import Bus, Subscription, faults
from wixprint.web.metrics import Metrics
from wixprint.wix.jsontext import ascii_dump, loads
from wixprint.wixtime import format_wix_time

NOT_BEFORE = "2025-01-01T00:00:00Z"
Order = dict[str, Any]


def service_config(tmp_path: Path) -> str:
    """A kitchen printer and a counter (driver slips, customer receipts); no Wix reached."""
    return config_text(tmp_path, "http://127.0.0.1:9", {"kitchen": 9100, "counter": 9101})


@pytest.fixture
async def ctx(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[ActorContext]:
    """Intake's context as the service builds it, on a spool file."""
    config = load_config_text(service_config(tmp_path))
    context = ActorContext(
        config=config,
        bus=Bus[Event](),
        health=HealthRegistry(),
        metrics=Metrics(),
        transports={},
        wall=VirtualWall(),
    )
    context.doorbells.update({p.name: Doorbell() for p in config.printers})
    async with open_test_spool(tmp_path / "state" / "spool.sqlite3") as spool:
        context.spool.set(spool)
        yield context


@pytest.fixture
def order(fixtures_dir: Path) -> Callable[..., Order]:
    def make(name: str, **changes: object) -> Order:
        raw: Order = copy.deepcopy(fixture_order(fixtures_dir, f"order-{name}.json"))
        raw.update(changes)
        return raw

    return make


async def take(ctx: ActorContext, *raws: Order, source: str = "poll") -> None:
    await intake.accept_orders(ctx, raws, source=source, not_before=NOT_BEFORE)


async def shown(ctx: ActorContext) -> dict[str, OrderSummary]:
    """``/orders``: each order by its number."""
    return {o.number: o for o in await ctx.spool.get().recent_orders()}


def tickets(summary: OrderSummary) -> list[str]:
    return sorted(t.kind for t in summary.tickets)


def intake_log(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(event, order number or id) of each line intake logged."""
    lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    return [
        (m["event"], str(m.get("order", m.get("order_id"))))
        for m in lines
        if m.get("actor") == "intake"
    ]


def set_aside(ctx: ActorContext) -> list[OrderQuarantined]:
    """The quarantines published (each one an alert, counted in the metrics)."""
    return [e for e in ctx.recent if isinstance(e, OrderQuarantined)]


def quarantine_rows(spool: Spool) -> list[tuple[str, str, str, str]]:
    """(key, number, stage, error) of the spool's quarantine table, as the alert tells the
    owner to look them up."""
    with contextlib.closing(sqlite3.connect(spool.path)) as conn:
        rows = conn.execute("SELECT order_key, number, stage, error FROM quarantine").fetchall()
    return [(str(k), str(n), str(s), str(e)) for k, n, s, e in rows]


async def rung(bell: Doorbell) -> bool:
    """Whether ``bell`` was rung (the fetcher's scheduler wakes for it)."""
    with trio.move_on_after(1.0):
        await bell.wait()
        return True
    return False


# -- the gate and the lookup ------------------------------------------------------------


async def test_orders_are_judged_by_the_configured_not_before_else_the_first_start(
    ctx: ActorContext, tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    first_start = "2025-06-15T15:06:40.000Z"
    with trio.fail_after(1):  # configured: nobody waits for the clock actor
        assert await intake.wait_not_before(ctx) == NOT_BEFORE
    ctx.clock.set_first_start(first_start)
    assert intake.not_before_now(ctx) == NOT_BEFORE
    assert await intake.wait_not_before(ctx) == NOT_BEFORE

    text = service_config(tmp_path).replace(f'not_before = "{NOT_BEFORE}"', "")
    ctx.config = load_config_text(text)
    ctx.clock = ClockTruth()
    with pytest.raises(ClockUntrusted):  # a webhook now is answered 503, Wix sends it again
        intake.not_before_now(ctx)
    waited: list[str] = []
    async with trio.open_nursery() as nursery:

        async def poller() -> None:
            waited.append(await intake.wait_not_before(ctx))

        nursery.start_soon(poller)
        await trio.sleep(1)
        assert waited == []  # the poll waits for the first start
        ctx.clock.set_first_start(first_start)
    assert waited == [first_start]
    assert intake.not_before_now(ctx) == first_start


async def test_orders_already_spooled_cost_a_lookup_and_a_change_is_taken_in(
    ctx: ActorContext,
    order: Callable[..., Order],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    parsed = spy_on_parse(monkeypatch)
    batch = [order("03-dine-in-pos"), order("02-pickup")]
    await take(ctx, *batch)
    await take(ctx, *batch)  # the poll's overlap, a webhook of the same revision
    assert parsed == ["10232", "10187"]
    caplog.clear()
    changed = dict(batch[1], updatedDate="2025-06-15T12:00:00.000Z", buyerNote="Ohne Zwiebeln")
    await take(ctx, batch[0], changed)
    assert parsed == ["10232", "10187", "10187"]
    stored = loads(str(await ctx.spool.get().order_raw(str(changed["id"]))))
    assert isinstance(stored, dict)
    assert (stored["updatedDate"], stored["buyerNote"]) == (changed["updatedDate"], "Ohne Zwiebeln")
    lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert [(m["event"], m["order"], m["outcome"]) for m in lines] == [
        ("order_accepted", "10187", "updated")  # nothing new to print: same tickets
    ]


def published(seen: Subscription[Event]) -> list[Event]:
    """What was published on the bus since the last look."""
    events: list[Event] = []
    while True:
        try:
            events.append(seen.receive_nowait())
        except trio.WouldBlock:
            return events


async def test_an_order_taken_in_wakes_its_printers_and_a_known_one_wakes_nothing(
    ctx: ActorContext, order: Callable[..., Order]
) -> None:
    kitchen = ctx.doorbells["kitchen"]
    raw = order("03-dine-in-pos")
    with ctx.bus.subscribe() as seen:
        await take(ctx, raw)
        events = published(seen)
        assert await rung(kitchen)  # the kitchen's printer actor looks at its queue
        assert [type(e) for e in events] == [OrderReceived, JobsQueued]
        received, queued = events
        assert isinstance(received, OrderReceived)
        assert isinstance(queued, JobsQueued)
        # /metrics counts an order received on its first sight
        assert (received.number, received.outcome, received.source, received.jobs) == (
            "10232",
            "new",
            "poll",
            1,
        )
        assert received.first_sight
        assert queued.printers == ("kitchen", "counter")
        await take(ctx, raw)  # known: nothing new to print
        assert published(seen) == []
        assert not await rung(kitchen)
        await take(ctx, dict(raw, updatedDate="2025-06-15T12:00:00.000Z", buyerNote="Bitte"))
        again = published(seen)[0]  # a new note: a CHANGED ticket, the same order
        assert isinstance(again, OrderReceived)
        assert (again.number, again.outcome, again.first_sight) == ("10232", "revised", False)


async def test_a_crash_right_after_the_commit_keeps_the_order(
    ctx: ActorContext, order: Callable[..., Order]
) -> None:
    """The fetcher dies there (its mark does not move) and its restart reads the order
    again: it is in the spool already, one lookup."""
    raw = order("03-dine-in-pos")
    with faults.armed("spool.after_commit", times=1), pytest.raises(InjectedFault):
        await take(ctx, raw)
    assert tickets((await shown(ctx))["10232"]) == ["kitchen"]
    with faults.armed("spool.after_commit"):
        await take(ctx, raw)  # known: no commit, so no crash window either
    assert tickets((await shown(ctx))["10232"]) == ["kitchen"]


# -- what the log says -------------------------------------------------------------------


async def test_the_log_names_what_was_taken_in_what_does_not_print_and_what_waits(
    ctx: ActorContext, order: Callable[..., Order], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    dine_in = order("03-dine-in-pos")
    reservation = order("11-table-reservation")
    held_with_a_book = order("04-many-items-modifiers")  # due in five days; a Stores item
    broken_note = order("01-delivery", buyerNote="Extra scharf \ud83d bitte")
    odd_field = order("02-pickup", buyerNote=42)
    await take(ctx, dine_in, reservation, held_with_a_book, broken_note, odd_field)
    canceled = dict(dine_in, status="CANCELED", updatedDate="2025-06-14T20:00:00.000Z")
    await take(ctx, canceled)
    assert intake_log(caplog) == [
        ("order_accepted", "10232"),
        ("order_accepted", "10262"),
        ("order_skipped", "10262"),
        ("order_accepted", "10244"),
        ("order_items_skipped", "10244"),
        ("order_scheduled", "10244"),
        ("order_text_repaired", str(broken_note["id"])),
        ("order_accepted", "10231"),
        ("order_fields_ignored", "10187"),
        ("order_accepted", "10187"),
        ("order_accepted", "10232"),  # the cancellation: printed before, so not "skipped"
    ]


# -- one order's failure sets that order aside, named -------------------------------------


@pytest.mark.parametrize(
    ("stage", "owner", "name"),
    [
        ("clean", intake, "safe_json"),
        ("parse", intake, "parse_order"),
        ("route", intake, "decide"),
        ("commit", db_orders, "plan_accept"),
    ],
)
async def test_an_order_that_fails_is_set_aside_with_the_step_and_error_that_stopped_it(
    ctx: ActorContext,
    order: Callable[..., Order],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    stage: str,
    owner: object,
    name: str,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(owner, name, poisoned(getattr(owner, name), {"10232"}, stage))
    bad, good = order("03-dine-in-pos"), order("02-pickup")
    await take(ctx, bad, good, source="webhook")
    assert intake_log(caplog) == [("order_quarantined", "10232"), ("order_accepted", "10187")]
    assert [(e.order_id, e.number, e.source, e.stage, e.error) for e in set_aside(ctx)] == [
        (bad["id"], "10232", "webhook", stage, "RuntimeError")
    ]
    spool = ctx.spool.get()
    assert quarantine_rows(spool) == [
        (bad["id"], "10232", stage, f"RuntimeError: a bug at {stage}")
    ]
    assert list(await shown(ctx)) == ["10187"]  # the next order went on


@pytest.mark.parametrize(
    ("number", "named"),
    [
        ("10232", "10232"),
        (10232, "10232"),
        ("  10232 ", "10232"),
        ("B" * 50, "B" * 40),
        ("   ", "?"),
        (True, "?"),
        ([10232], "?"),
        (None, "?"),
    ],
)
async def test_a_set_aside_order_is_named_by_its_number_as_far_as_it_has_one(
    ctx: ActorContext,
    order: Callable[..., Order],
    monkeypatch: pytest.MonkeyPatch,
    number: object,
    named: str,
) -> None:
    def broken(raw: Any, tz: Any) -> Any:
        raise ValueError("no parser today")

    monkeypatch.setattr(intake, "parse_order", broken)
    raw = order("03-dine-in-pos")
    if number is None:
        del raw["number"]
    else:
        raw["number"] = number
    await take(ctx, raw)
    assert [e.number for e in set_aside(ctx)] == [named]  # the alert's "Bestellung …"
    assert [row[1] for row in quarantine_rows(ctx.spool.get())] == [named]


async def test_an_order_without_an_id_is_set_aside_once_under_the_digest_of_its_text(
    ctx: ActorContext, order: Callable[..., Order]
) -> None:
    """A signed webhook may carry an order without its id; if it cannot be read either, its
    text is its name: the same text again is the same quarantined order, one alert."""
    raw = order("03-dine-in-pos", lineItems="not a list")
    del raw["id"]
    for _ in range(2):
        await take(ctx, raw, source="webhook")
    key = "sha256:" + hashlib.sha256(ascii_dump(raw).encode("ascii")).hexdigest()
    assert [e.order_id for e in set_aside(ctx)] == [key]
    assert [row[0] for row in quarantine_rows(ctx.spool.get())] == [key]


# -- what /orders shows -------------------------------------------------------------------


async def test_orders_shows_each_orders_creation_and_location_as_wix_sent_them(
    ctx: ActorContext, order: Callable[..., Order]
) -> None:
    pos = order("15-pos-take-away")  # id and name
    no_date = order("03-dine-in-pos")
    del no_date["createdDate"]
    named_only = order("16-zum-mitnehmen", businessLocation={"name": "Mitte"})
    id_only = order("17-vor-ort-essen", businessLocation={"id": "loc-2"})
    await take(ctx, pos, no_date, named_only, id_only)
    listed = await shown(ctx)
    assert {n: (o.created, o.location_id, o.location_name) for n, o in listed.items()} == {
        "10266": (
            pos["createdDate"],
            "5a1c7e0b-3f3a-4c55-9d4e-8b7a6c5d4e3f",
            "Prenzlauer Berg",
        ),
        "10232": ("", "", ""),
        "10267": (named_only["createdDate"], "", "Mitte"),
        "10268": (id_only["createdDate"], "loc-2", ""),
    }


# -- what waits, and a full disk ----------------------------------------------------------


async def test_a_payment_method_that_never_came_prints_the_waiting_tickets_as_unavailable(
    ctx: ActorContext, order: Callable[..., Order], thread_clock: trio.testing.MockClock
) -> None:
    dine_in, delivery = order("03-dine-in-pos"), order("01-delivery")
    await take(ctx, dine_in)
    assert not await rung(ctx.pending)  # nothing waits: the scheduler is left alone
    await take(ctx, delivery)
    assert await rung(ctx.pending)  # the driver slip waits for the payment method
    waiting = (await shown(ctx))["10231"]
    assert (waiting.payment, tickets(waiting)) == ("waiting", ["kitchen"])
    await intake.settle_payment(ctx, str(delivery["id"]), None, not_before=NOT_BEFORE)
    settled = (await shown(ctx))["10231"]
    assert (settled.payment, tickets(settled)) == ("unavailable", ["customer", "driver", "kitchen"])
    await intake.settle_payment(ctx, "no-such-order", None, not_before=NOT_BEFORE)
    assert list(await shown(ctx)) == ["10231", "10232"]  # nothing else came of it


async def test_a_full_disk_refuses_new_orders_but_lets_in_the_tickets_that_came_due(
    ctx: ActorContext,
    order: Callable[..., Order],
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
) -> None:
    delivery = order("01-delivery")
    preorder = order("03-dine-in-pos", id="preorder-1", number="20001")
    due = virtual_now() + timedelta(minutes=50)  # held until 45 minutes before
    preorder["shippingInfo"] = {
        "logistics": {
            "deliveryTimeSlot": {"from": format_wix_time(due), "to": format_wix_time(due)}
        }
    }
    await take(ctx, delivery, preorder)
    assert await rung(ctx.pending)
    assert tickets((await shown(ctx))["20001"]) == ["preorder"]  # the notice slip only
    spool = ctx.spool.get()
    spool.intake_paused = "the disk is full"
    with pytest.raises(SpoolUnwritable):
        await take(ctx, order("02-pickup"))
    await trio.sleep(6 * 60)
    await intake.release_orders(ctx, [preorder], not_before=NOT_BEFORE)
    answer = fixture_order(fixtures_dir, "transactions-order-01-delivery.json")
    await intake.settle_payment(ctx, str(delivery["id"]), answer, not_before=NOT_BEFORE)
    listed = await shown(ctx)
    assert tickets(listed["20001"]) == ["kitchen", "preorder"]
    assert (listed["10231"].payment, tickets(listed["10231"])) == (
        "known",
        ["customer", "driver", "kitchen"],
    )
    assert "10187" not in listed
