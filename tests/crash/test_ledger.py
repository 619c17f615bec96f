"""The ledger itself: it reads real tickets right and it catches each broken promise.

A chaos test is only as good as its ledger; these cases prove it can fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.crash.ledger import (
    MAX_COPIES,
    ExpectedOrder,
    PrintedTicket,
    classify,
    compare,
    expected_orders,
)
from tests.integration.harness import config_text
from wixprint.config import load_config_text
from wixprint.printing.decode import decode_tickets
from wixprint.receipts import TicketRequest, render_ticket
from wixprint.vocabulary import Variant
from wixprint.wix.parse import parse_order

CONFIG = load_config_text(
    config_text(Path("state"), "http://127.0.0.1:9", {"kitchen": 1, "bar": 2, "counter": 3})
)


def load(fixtures: Path, name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((fixtures / name).read_text())
    return data


def ticket(
    raw: dict[str, object],
    kind: str,
    printer: str,
    *,
    job: int = 7,
    reprint: bool = False,
    cut_at: int | None = None,
    at: str | None = None,
) -> PrintedTicket:
    """Render for ``printer``, "print" at ``at`` (default: the same; the bytes decoded,
    optionally cut short) and classify one ticket."""
    order = parse_order(raw, ZoneInfo(CONFIG.service.timezone)).order
    request = TicketRequest(kind=kind, variant=Variant.NEW, reprint=reprint, job_id=job, revision=1)
    target = next(p for p in CONFIG.printers if p.name == printer)
    data = render_ticket(order, request, config=CONFIG, printer=target).data
    decoded = decode_tickets(data if cut_at is None else data[:cut_at])[0]
    return classify(at or printer, 0, decoded.text, cut=decoded.cut)


def test_tickets_are_read_back_by_order_kind_banner_and_job(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    kitchen = ticket(raw, "kitchen", "kitchen")
    driver = ticket(raw, "driver", "counter", job=8)
    customer = ticket(raw, "customer", "counter", job=9, reprint=True)
    assert (kitchen.order_number, kitchen.kind, kitchen.reprint) == ("10231", "kitchen", False)
    assert (driver.kind, driver.job_id, driver.revision) == ("driver", 8, 1)
    assert (customer.kind, customer.reprint, customer.complete) == ("customer", True, True)
    fragment = ticket(raw, "kitchen", "kitchen", cut_at=200)
    assert fragment.order_number == "10231"
    assert not fragment.complete


def test_the_expected_tickets_follow_the_routing(fixtures_dir: Path) -> None:
    expected = expected_orders(
        [load(fixtures_dir, n) for n in ("order-01-delivery.json", "order-08-canceled.json")],
        CONFIG,
    )
    assert list(expected) == ["10231"]  # the canceled order never prints
    assert expected["10231"].targets == {
        ("kitchen", "kitchen"),
        ("kitchen", "bar"),
        ("driver", "counter"),
        ("customer", "counter"),
    }
    assert expected["10231"].kitchen_items["bar"] == ("2x Apfelschorle",)


def test_a_clean_run_passes_and_a_marked_duplicate_is_fine(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    expected = expected_orders([raw], CONFIG)
    printed = [
        ticket(raw, "kitchen", "kitchen", job=1),
        ticket(raw, "kitchen", "kitchen", job=1, cut_at=300),  # a crash mid-send...
        ticket(raw, "kitchen", "kitchen", job=1, reprint=True),  # ...and its marked copy
        ticket(raw, "kitchen", "bar", job=2),
        ticket(raw, "driver", "counter", job=3),
        ticket(raw, "customer", "counter", job=4),
    ]
    printed.append(ticket(raw, "driver", "counter", job=3, reprint=True, cut_at=147))
    assert printed[-1].order_number != "10231"  # cut inside the number
    report = compare(expected, printed[:1] + printed[2:], seed=5)
    assert report.ok, report.describe()
    assert (report.reprints, report.fragments) == (2, 1)


def test_each_broken_promise_is_reported(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    other = load(fixtures_dir, "order-02-pickup.json")
    expected: dict[str, ExpectedOrder] = expected_orders([raw], CONFIG)
    printed = [
        ticket(raw, "kitchen", "kitchen", job=1),
        ticket(raw, "kitchen", "kitchen", job=1),  # a blind resend
        ticket(raw, "customer", "kitchen", job=4),  # the receipt at the kitchen
        ticket(raw, "driver", "counter", job=3, cut_at=250),  # only a fragment
        ticket(other, "kitchen", "kitchen", job=9),  # an order that must not print
        ticket(raw, "kitchen", "kitchen", job=2, at="bar"),  # the bar gets the kitchen's items
    ]
    report = compare(expected, printed, seed=42)
    assert not report.ok
    assert report.missing == ("#10231 customer@counter", "#10231 driver@counter")
    assert len(report.unmarked_duplicates) == 1
    assert report.wrong_printer == ("#10231 customer@kitchen job 4 rev 1 [ticket 0]",)
    assert len(report.unexpected) == 1
    assert len(report.wrong_items) == 1
    assert "2x Apfelschorle" in report.wrong_items[0]
    text = report.describe()
    assert "WIXPRINT_CHAOS_SEED=42" in text
    assert "#10231 driver@counter" in text


def test_a_headless_tail_is_not_read_as_an_order() -> None:
    """What a printer would show if it printed the end of a ticket without its start."""
    tail = "\n".join(
        [
            "Notiz:",
            "Bestellung für das Nachtteam, bitte",
            "#12 Tische reserviert",
            "------",
            "Bar · Job 5 · Rev. 1",
        ]
    )
    found = classify("kitchen", 0, tail)
    assert found.order_number is None
    report = compare({}, [found], seed=1)
    assert report.unexpected  # complete (cut, with a footer) yet unreadable: reported


def test_a_ticket_printed_too_often_fails_even_when_marked(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-02-pickup.json")
    expected = expected_orders([raw], CONFIG)
    first = [ticket(raw, kind, printer, job=n) for n, (kind, printer) in enumerate(
        sorted(expected["10187"].targets))]  # fmt: skip
    marked = ticket(raw, "kitchen", "kitchen", job=0, reprint=True)
    fragment = ticket(raw, "kitchen", "kitchen", job=0, reprint=True, cut_at=300)
    assert fragment.order_number == "10187"
    # Torn paper from crashes mid-send is not a copy: three complete ones are still fine.
    allowed = compare(expected, [*first, fragment, marked, fragment, marked], seed=3)
    assert allowed.ok, allowed.describe()
    assert allowed.most_copies == MAX_COPIES
    report = compare(expected, [*first, marked, fragment, marked, marked], seed=3)
    assert not report.ok
    assert report.most_copies == MAX_COPIES + 1
    assert len(report.too_many_copies) == 1
    assert report.too_many_copies[0].count("#10187 kitchen@kitchen") == MAX_COPIES + 1
    assert f"printed more than {MAX_COPIES} times: 1" in report.describe()


def test_an_optional_order_may_print_but_an_expected_one_still_counts(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, "order-01-delivery.json")
    other = load(fixtures_dir, "order-02-pickup.json")
    expected = expected_orders([raw], CONFIG)
    extra = ticket(other, "kitchen", "kitchen", job=9)
    assert extra.order_number is not None
    assert compare(expected, [extra], optional={extra.order_number}).unexpected == ()
    assert len(compare(expected, [extra]).unexpected) == 1
    # Naming an expected order optional excuses nothing: it is still missing.
    report = compare(expected, [extra], optional={extra.order_number, "10231"})
    assert "#10231 kitchen@kitchen" in report.missing
