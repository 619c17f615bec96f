"""The rendered bytes: code page, widths, banners, cuts, QR, routing sections, odd text."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.receipts.conftest import DRINKS, KINDS, ORDERS, load_order, make_config, render
from tests.unit.receipts.escpos_bytes import decode
from wixprint.config import Config, LayoutConfig, PrinterConfig
from wixprint.errors import RenderError
from wixprint.receipts import TicketRequest, render_ticket
from wixprint.receipts.text import format_money
from wixprint.vocabulary import Variant
from wixprint.wix.model import Discount, Fee, LineItem, Modifier, Order

CASES = [(name, kind) for name in ORDERS for kind in KINDS]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_one_fixed_code_page_and_nothing_else(
    orders: dict[str, Order], name: str, kind: str
) -> None:
    data = render(orders[name], kind).data
    assert data.startswith(b"\x1b@\x1bt\x13")  # ESC @, then ESC t 19 (CP858) at once
    decoded = decode(data)
    assert decoded.pages == [19]  # MagicEncode never switched pages
    assert decoded.inits == 1
    assert decoded.unknown == []
    assert b"\x1d(H" not in data  # the transport appends the process-ID request
    assert decoded.cuts == 1
    assert data.endswith(b"\x1dV\x00")


@pytest.mark.parametrize(("name", "kind"), CASES)
@pytest.mark.parametrize("columns", [48, 42, 32])
def test_no_line_wider_than_the_paper(
    orders: dict[str, Order], name: str, kind: str, columns: int
) -> None:
    printer = PrinterConfig(name="p", receipts=["kitchen", "driver", "customer"], columns=columns)
    ticket = render(orders[name], kind, printer=printer, reprint=True, variant=Variant.CHANGED)
    assert all(len(line) <= columns for line in ticket.preview.splitlines())
    lines = decode(ticket.data).lines
    assert lines
    assert all(line.width <= columns for line in lines), [
        (line.text, line.width) for line in lines if line.width > columns
    ]


def test_umlauts_and_euro_are_cp858_bytes(orders: dict[str, Order]) -> None:
    data = render(orders["order-01-delivery"], "customer").data
    body = data[len(b"\x1b@\x1bt\x13") :]
    assert "Schärfe".encode("cp858") in body
    assert b"Sch\x84rfe" in body  # ä is 0x84 on CP858
    assert "46,20 €".encode("cp858") == b"46,20 \xd5"
    assert b"46,20 \xd5" in body  # € is 0xD5 on CP858
    assert "Soße" in body.decode("cp858")
    assert "?" not in body.decode("cp858")  # nothing fell back to MagicEncode's '?'


def test_cp1252_printer(orders: dict[str, Order]) -> None:
    printer = PrinterConfig(name="p", receipts=["customer"], codepage="CP1252")
    data = render(orders["order-01-delivery"], "customer", printer=printer).data
    assert data.startswith(b"\x1b@\x1bt\x10")
    assert b"Sch\xe4rfe" in data
    assert b"46,20 \x80" in data
    assert decode(data).pages == [16]


def test_odd_characters_are_transliterated(orders: dict[str, Order]) -> None:
    ticket = render(orders["order-01-delivery"], "driver")
    text = decode(ticket.data).texts()
    assert 'Hinterhaus, 3. OG, Klingel "Weiß/Groß"' in text  # „“ became "
    assert "schläft - nicht klopfen" in " ".join(text)  # – became -
    order04 = render(orders["order-04-many-items-modifiers"], "driver")
    assert "Sebnem Özdemir" in decode(order04.data).texts()  # Ş became S, Ö stayed
    kitchen = decode(render(orders["order-04-many-items-modifiers"], "kitchen").data).texts()
    assert "   Schärfe: sehr scharf" in kitchen  # the chili emoji are dropped


def test_kitchen_tickets_show_no_prices(orders: dict[str, Order]) -> None:
    for name, order in orders.items():
        preview = render(order, "kitchen").preview
        amounts = [order.total, order.subtotal] + [i.total_price for i in order.line_items]
        amounts += [i.unit_price for i in order.line_items]
        for amount in amounts:
            assert amount is not None
            assert format_money(amount, "EUR") not in preview, name
        # No price column: (order 04's modifiers and order 07's note mention € in their text)
        assert not any(re.search(r"\d,\d\d €$", line) for line in preview.splitlines()), name


def test_kitchen_ticket_content(orders: dict[str, Order]) -> None:
    decoded = decode(render(orders["order-01-delivery"], "kitchen").data)
    number = decoded.find("#10231")
    assert (number.wide, number.tall, number.bold) == (True, True, True)
    assert number.text.endswith("18:47")
    assert decoded.find("LIEFERUNG").wide
    assert decoded.find("Fällig: 19:30-19:45").tall
    item = decoded.find("2x Currywurst mit Pommes")
    assert item.tall
    assert not item.wide
    assert "   Schärfe: mittel" in decoded.texts()
    assert "   Soße: Mayonnaise" in decoded.texts()
    assert "Bitte klingeln, das Baby schläft - nicht" in decoded.texts()


def test_kitchen_marks_next_day_slot_and_big_table(orders: dict[str, Order]) -> None:
    preview = render(orders["order-04-many-items-modifiers"], "kitchen").preview
    assert "Fällig: morgen 21.06., 00:20-00:35" in preview
    table = decode(render(orders["order-03-dine-in-pos"], "kitchen").data).find("Tisch: 12")
    assert table.wide
    assert table.tall


def test_kitchen_skips_empty_modifier_values(orders: dict[str, Order]) -> None:
    preview = render(orders["order-04-many-items-modifiers"], "kitchen").preview
    assert "Nudeln: glutenfrei" in preview
    assert "Sonderwunsch:\n" not in preview
    assert preview.count("Sonderwunsch") == 1  # only the Diavola's, which has a value


def test_large_items_off(orders: dict[str, Order]) -> None:
    data = render(orders["order-01-delivery"], "kitchen", config=make_config(large_items=False))
    item = decode(data.data).find("2x Currywurst mit Pommes")
    assert not item.tall
    assert item.bold


def test_reprint_banner_on_top(orders: dict[str, Order]) -> None:
    for kind in KINDS:
        ticket = render(orders["order-01-delivery"], kind, reprint=True)
        assert ticket.preview.splitlines()[0].strip() == "REPRINT - möglicherweise doppelt"
        first = decode(ticket.data).lines[0]
        assert (first.invert, first.bold, first.tall) == (True, True, True)
        assert first.width == 48  # a solid black band across the paper
        assert "REPRINT" not in render(orders["order-01-delivery"], kind).preview


@pytest.mark.parametrize(
    ("variant", "banner", "hint"),
    [
        (Variant.CANCELED, "STORNIERT", "NICHT ZUBEREITEN"),
        (Variant.CHANGED, "GEÄNDERT", "Ersetzt den vorherigen Bon"),
    ],
)
def test_variant_banners(
    orders: dict[str, Order], variant: Variant, banner: str, hint: str
) -> None:
    ticket = render(orders["order-01-delivery"], "kitchen", variant=variant, reprint=True)
    lines = decode(ticket.data).lines
    assert "REPRINT" in lines[0].text
    big = next(line for line in lines if line.text.strip() == banner)
    assert (big.wide, big.tall, big.bold, big.invert) == (True, True, True, True)
    assert hint in ticket.preview


def test_canceled_order_says_so_even_on_a_new_job(orders: dict[str, Order]) -> None:
    for kind in KINDS:
        assert "STORNIERT" in render(orders["order-08-canceled"], kind).preview
    assert "STORNIERT" not in render(orders["order-01-delivery"], "kitchen").preview


def test_copies_are_cut_apart(orders: dict[str, Order]) -> None:
    config = make_config(copies={"kitchen": 3})
    ticket = render(orders["order-01-delivery"], "kitchen", config=config)
    decoded = decode(ticket.data)
    assert decoded.cuts == 3
    assert decoded.inits == 1
    assert ticket.data.count(b"\x1dV\x00") == 3
    assert ticket.preview.count("[cut]") == 3
    assert ticket.preview.count("#10231") == 3
    assert decode(render(orders["order-01-delivery"], "customer", config=config).data).cuts == 1


def test_driver_cash_to_collect_stands_out(orders: dict[str, Order]) -> None:
    decoded = decode(render(orders["order-07-cash-not-paid"], "driver").data)
    cash = decoded.find("BAR KASSIEREN: 43,20 €")
    assert (cash.wide, cash.tall, cash.bold, cash.invert) == (True, True, True, True)
    assert decoded.find("NICHT BEZAHLT").invert
    assert "BEZAHLT" not in [line.text.strip() for line in decoded.lines]
    paid = decode(render(orders["order-01-delivery"], "driver").data)
    assert paid.find("BEZAHLT").wide
    assert not any("KASSIEREN" in line for line in paid.texts())


def test_driver_slip_has_contact_address_and_native_qr(orders: dict[str, Order]) -> None:
    ticket = render(orders["order-04-many-items-modifiers"], "driver")
    decoded = decode(ticket.data)
    for text in (
        "Tiergarten Tech GmbH",
        "Tel. +49 151 22334455",
        "Straße des 17. Juni 135",
        "Gebäude H, Empfang - Nachtpforte",
        "10623 Berlin",
        "Liefergebiet Charlottenburg",
    ):
        assert text in decoded.texts()
    assert decoded.qr_data == [
        b"https://www.google.com/maps/search/?api=1&query="
        b"Stra%C3%9Fe+des+17.+Juni+135%2C+10623+Berlin%2C+DE"
    ]
    assert b"\x1d(k" in ticket.data  # native QR (GS ( k), not a raster image
    assert b"\x1dv0" not in ticket.data
    assert "[QR]" in ticket.preview
    assert render(orders["order-02-pickup"], "driver").preview.count("[QR]") == 0


def test_driver_without_address_says_so(orders: dict[str, Order]) -> None:
    ticket = render(replace(orders["order-01-delivery"], address=None), "driver")
    assert "KEINE ADRESSE - Kunden anrufen" in ticket.preview
    assert "[QR]" not in ticket.preview


def test_customer_receipt_prints_wix_numbers(orders: dict[str, Order]) -> None:
    order = replace(
        orders["order-01-delivery"],
        discounts=(
            Discount("Sommer", "SOMMER10", Decimal("4.00")),
            Discount("Stammgast", None, Decimal("1.5")),
        ),
        fees=(Fee("Trinkgeld", Decimal("3.0")),),
        total=Decimal("99.99"),  # deliberately not the sum: Wix's number is printed as given
    )
    preview = render(order, "customer").preview
    for line in (
        "Gasthaus Grünwald",
        "Kastanienallee 21",
        "Bestellung 10231                13.06.2025 18:47",
        "2x Currywurst mit Pommes                 17,00 €",
        "   je 8,50 €",
        "Zwischensumme                            43,70 €",
        "Gutschein SOMMER10 (Sommer)              -4,00 €",
        "Stammgast                                -1,50 €",
        "Liefergebühr                              2,50 €",
        "Trinkgeld                                 3,00 €",
        "SUMME                                    99,99 €",
        "  enthaltene MwSt 7 %                     2,51 €",
        "  enthaltene MwSt 19 %                    1,25 €",
        "Vielen Dank und guten Appetit!",
    ):
        assert line in preview, line


def test_customer_receipt_without_prices(orders: dict[str, Order]) -> None:
    preview = render(orders["order-01-delivery"], "customer", config=make_config(show_prices=False))
    assert "2x Currywurst mit Pommes\n" in preview.preview
    assert "je 8,50" not in preview.preview
    assert "SUMME                                    46,20 €" in preview.preview


def test_english_labels_and_money(orders: dict[str, Order]) -> None:
    config = make_config(language="en")
    kitchen = render(orders["order-04-many-items-modifiers"], "kitchen", config=config).preview
    assert "DELIVERY" in kitchen
    assert "Due: tomorrow 21 Jun, 00:20-00:35" in kitchen
    driver = render(orders["order-07-cash-not-paid"], "driver", config=config).preview
    assert "COLLECT CASH: €43.20" in driver
    customer = render(orders["order-01-delivery"], "customer", config=config).preview
    assert "TOTAL                                     €46.20" in customer
    assert "incl. VAT 7 %" in customer
    reprint = render(orders["order-01-delivery"], "kitchen", config=config, reprint=True)
    assert "REPRINT - may be a duplicate" in reprint.preview


def test_station_routing_on_the_ticket(orders: dict[str, Order]) -> None:
    kitchen = PrinterConfig(name="kueche", receipts=["kitchen"], station="Küche")
    bar = PrinterConfig(name="bar", receipts=["kitchen"], sections=[DRINKS], station="Bar")
    config = Config(printers=[kitchen, bar], layout=LayoutConfig())
    order = orders["order-01-delivery"]
    bar_ticket = render(order, "kitchen", config=config, printer=bar).preview
    assert "2x Apfelschorle 0,5 l" in bar_ticket
    assert "\n1x Wiener Schnitzel" not in bar_ticket
    kitchen_ticket = render(order, "kitchen", config=config, printer=kitchen).preview
    assert "1x Wiener Schnitzel vom Kalb\n" in kitchen_ticket
    assert "An andere Stationen:\n> Bar\n  2x Apfelschorle 0,5 l\n" in kitchen_ticket
    assert "\n2x Apfelschorle" not in kitchen_ticket  # not among this station's items


def test_kitchen_ticket_without_items(orders: dict[str, Order]) -> None:
    ticket = render(replace(orders["order-01-delivery"], line_items=()), "kitchen")
    assert "(keine Artikel in dieser Bestellung)" in ticket.preview


@pytest.mark.parametrize(
    ("printer", "kind"),
    [
        (PrinterConfig(name="p", codepage="UTF-8"), "kitchen"),
        (PrinterConfig(name="p", columns=16), "kitchen"),
        (PrinterConfig(name="p"), "menu"),
    ],
)
def test_render_errors(orders: dict[str, Order], printer: PrinterConfig, kind: str) -> None:
    request = TicketRequest(kind=kind, variant=Variant.NEW, reprint=False, job_id=1, revision=1)
    with pytest.raises(RenderError):
        render_ticket(orders["order-01-delivery"], request, config=Config(), printer=printer)


odd_text = st.text(max_size=80)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=odd_text,
    note=odd_text,
    mod_name=odd_text,
    mod_value=odd_text,
    qty=st.integers(min_value=0, max_value=10_000),
    number=st.text(max_size=30),
    kind=st.sampled_from(KINDS),
    columns=st.sampled_from([24, 32, 48]),
)
def test_odd_text_never_crashes_or_overflows(
    name: str,
    note: str,
    mod_name: str,
    mod_value: str,
    qty: int,
    number: str,
    kind: str,
    columns: int,
) -> None:
    base = load_order("order-01-delivery")
    item = LineItem(id="x", name=name, quantity=qty, modifiers=(Modifier(mod_name, mod_value),))
    order = replace(base, number=number, buyer_note=note, line_items=(item, *base.line_items))
    printer = PrinterConfig(name="p", receipts=["kitchen", "driver", "customer"], columns=columns)
    ticket = render(order, kind, printer=printer, reprint=True)
    assert all(len(line) <= columns for line in ticket.preview.splitlines())
    decoded = decode(ticket.data)
    assert decoded.unknown == []
    assert all(line.width <= columns for line in decoded.lines)


def test_importing_receipts_does_not_import_escpos() -> None:
    code = "import sys, wixprint.receipts; print('escpos' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
