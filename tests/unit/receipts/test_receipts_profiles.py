"""Printer profiles on paper: width, cut and print time, read back by the fake printer's own
command reader and print head (which share no code with our decoder), so a mistake in our
command table or our widths shows up as a wrapped line, an unknown command or a missing cut.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.epson.commands import CommandReader
from tests.fakes.epson.paper import PrintHead, Strip
from tests.unit.receipts.conftest import KINDS, ORDERS, load_order, make_config
from wixprint.config import PrinterConfig, PrinterModel, ReceiptKind
from wixprint.printing.base import JobOptions
from wixprint.printing.profiles import GENERIC_80, PROFILES, profile_for_name, resolve_profile
from wixprint.receipts import TicketRequest, render_ticket
from wixprint.receipts.render import FEED_CUT
from wixprint.receipts.testticket import render_test_ticket, ruler
from wixprint.vocabulary import Variant

DOTS = {name: p.dots for name, p in PROFILES.items()}


def on_paper(data: bytes, dots: int) -> list[Strip]:
    """What a printer with ``dots`` print width makes of ``data``."""
    head = PrintHead(dots=dots)
    for piece in CommandReader().feed(data):
        for step in head.apply(piece):
            head.commit(step, 0)
    return head.paper()


def test_every_configurable_model_has_a_profile() -> None:
    assert set(get_args(PrinterModel)) - {"auto"} == set(PROFILES)


@pytest.mark.parametrize(
    ("model", "columns", "dots"),
    [
        ("TM-m30III", 48, 576),
        ("TM-T20III", 48, 576),
        ("TM-T88V", 42, 512),
        ("TM-T88VI", 42, 512),
        ("TM-T88VII", 42, 512),
        ("generic-80mm", 48, 576),
        ("generic-58mm", 32, 384),
    ],
)
def test_profile_widths(model: str, columns: int, dots: int) -> None:
    profile = PROFILES[model]
    assert (profile.columns, profile.dots) == (columns, dots)
    assert profile.columns * 12 <= profile.dots  # Font A, 12 dots a character


@pytest.mark.parametrize("order_name", ORDERS)
@pytest.mark.parametrize("model", sorted(PROFILES))
def test_tickets_fit_the_paper_and_read_back_cleanly(order_name: str, model: str) -> None:
    kinds: list[ReceiptKind] = ["kitchen", "driver", "customer"]
    printer = PrinterConfig(name="theke", receipts=kinds, model=model)  # type: ignore[arg-type]
    config = make_config()
    for kind in KINDS:
        request = TicketRequest(kind, Variant.NEW, reprint=True, job_id=42, revision=1)
        ticket = render_ticket(load_order(order_name), request, config=config, printer=printer)
        [strip] = on_paper(ticket.data, DOTS[model])
        assert strip.cut
        assert strip.wrapped == 0, (kind, [line for line in strip.lines if len(line) > 32])
        assert strip.unknown_commands == []
        assert strip.unsupported_codepages == set()
        assert strip.lines[0].strip().startswith("REPRINT")
        assert ticket.data.endswith(FEED_CUT) == PROFILES[model].feed_cut


def test_48_columns_on_a_tm_t88_wrap_every_full_line() -> None:
    """The old advice (48 columns for a TM-T88) on its 512 dots: ruled lines wrap."""
    order = load_order("order-01-delivery")
    request = TicketRequest("kitchen", Variant.NEW, reprint=False, job_id=1, revision=1)
    wide = PrinterConfig(name="p", model="TM-T88V", columns=48)
    [strip] = on_paper(render_ticket(order, request, config=make_config(), printer=wide).data, 512)
    assert strip.wrapped > 0
    right = PrinterConfig(name="p", model="TM-T88V")
    [strip] = on_paper(render_ticket(order, request, config=make_config(), printer=right).data, 512)
    assert strip.wrapped == 0


def test_epson_profiles_cut_with_feed_to_cutter() -> None:
    order = load_order("order-02-pickup")
    request = TicketRequest("customer", Variant.NEW, reprint=False, job_id=1, revision=1)
    epson = render_ticket(
        order, request, config=make_config(), printer=PrinterConfig(name="p", model="TM-m30III")
    )
    generic = render_ticket(order, request, config=make_config(), printer=PrinterConfig(name="p"))
    assert epson.data.endswith(b"\x1dVB\x00")  # GS V 66 0: feed to the cutter, then cut
    assert b"\x1bd\x06" not in epson.data  # no 25 mm of blank paper first
    assert generic.data.endswith(b"\x1bd\x06\x1dV\x00")  # unknown printers: as before


def test_a_retry_is_cut_off_from_whatever_came_before() -> None:
    order = load_order("order-01-delivery")
    request = TicketRequest(
        "driver", Variant.NEW, reprint=True, job_id=1, revision=1, cut_first=True
    )
    printer = PrinterConfig(name="p", model="TM-m30III", receipts=["driver"])
    data = render_ticket(order, request, config=make_config(), printer=printer).data
    assert data.index(FEED_CUT) < data.index(b"REPRINT")


def test_print_time_scales_with_the_ticket() -> None:
    config = make_config(copies={"kitchen": 2})
    printer = PrinterConfig(name="p", model="TM-m30III")
    request = TicketRequest("kitchen", Variant.NEW, reprint=False, job_id=1, revision=1)
    small = render_ticket(
        load_order("order-03-dine-in-pos"), request, config=config, printer=printer
    )
    big = render_ticket(
        load_order("order-04-many-items-modifiers"), request, config=config, printer=printer
    )
    assert big.length.cuts == small.length.cuts == 2
    assert big.length.mm > small.length.mm > 0
    profile = PROFILES["TM-m30III"]
    big_wait = JobOptions(print_seconds=profile.print_seconds(big.length)).within(20.0)
    small_wait = JobOptions(print_seconds=profile.print_seconds(small.length)).within(20.0)
    assert big_wait > small_wait > 20.0
    slow = PROFILES["generic-80mm"]
    assert slow.print_seconds(big.length) > profile.print_seconds(big.length)


@pytest.mark.parametrize(
    ("reported", "profile"),
    [
        ("TM-m30III", "TM-m30III"),
        ("TM-T88V", "TM-T88V"),
        ("TM-T88VI", "TM-T88VI"),
        ("TM-T88VII", "TM-T88VII"),
        ("tm-t20iii ", "TM-T20III"),
        ("XP-80C", None),
        (None, None),
    ],
)
def test_reported_models(reported: str | None, profile: str | None) -> None:
    found = profile_for_name(reported)
    assert (found.name if found else None) == profile
    assert resolve_profile("auto", reported) == (found or GENERIC_80)
    assert resolve_profile("generic-58mm", reported).columns == 32  # configured wins


@pytest.mark.parametrize("model", ["TM-T88V", "generic-58mm", "TM-m30III"])
def test_the_test_ticket_has_a_ruler_across_the_full_width(model: str) -> None:
    profile = PROFILES[model]
    printer = PrinterConfig(name="bar", model=model)  # type: ignore[arg-type]
    now = datetime(2025, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    ticket = render_test_ticket(config=make_config(), printer=printer, now=now, profile=profile)
    [strip] = on_paper(ticket.data, profile.dots)
    assert strip.lines[0] == ruler(profile.columns)[0]
    assert len(strip.lines[0]) == profile.columns
    assert strip.wrapped == 0
    assert "Größe" in strip.text
    assert "€" in strip.text
    # On a printer narrower than configured, the ruler is the first line to wrap.
    [narrow] = on_paper(ticket.data, profile.dots - 24)
    assert narrow.lines[1] != ruler(profile.columns)[1]
