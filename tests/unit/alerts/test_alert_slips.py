"""Alert slips, the pure parts: which messages print one, on which printers, what it says in
each ticket language, and the buzzer each printer profile sounds. The rendered bytes are read
back by the fake printer's own command reader and print head."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.epson.commands import CommandReader
from tests.fakes.epson.paper import PrintHead
from tests.fakes.fake_printer import is_alert_slip
from wixprint.alerts import AlertEngine
from wixprint.alerts.messages import AlertFacts, MailKind
from wixprint.alerts.problems import AlertAction
from wixprint.alerts.slips import (
    SLIP_CATEGORIES,
    AlertSlip,
    decode_facts,
    decode_slip,
    encode_facts,
    encode_slip,
    slip_printers,
    wants_slip,
)
from wixprint.alerts.state import EngineState, decode_state, encode_state
from wixprint.config import AlertsConfig, Config, LayoutConfig, PrinterConfig, ServiceConfig
from wixprint.events import TicketNeedsAttention
from wixprint.printing.profiles import EPSON_BUZZER, GENERIC_80, PROFILES
from wixprint.receipts import TicketRequest
from wixprint.receipts.alert_slip import MAX_SLIP_ORDERS, render_alert_slip, slip_lines
from wixprint.vocabulary import Variant

T0 = 1_750_000_000.0
TZ = ZoneInfo("Europe/Berlin")
PRINTERS = ("kitchen", "bar", "counter")
PAPER_OUT = AlertFacts(
    category="paper_out", key="paper_out:kitchen", level="critical", since=T0, target="kitchen"
)
INTERNET = AlertFacts(category="internet_down", key="internet_down", level="critical", since=T0)


@pytest.mark.parametrize(
    ("kind", "facts", "resolved", "expected"),
    [
        ("raise", PAPER_OUT, True, True),
        ("repeat", PAPER_OUT, True, False),  # once per problem
        ("resolve", PAPER_OUT, True, True),
        ("resolve", PAPER_OUT, False, False),  # announce_resolved = false
        ("raise", INTERNET, True, True),
        ("raise", replace(PAPER_OUT, category="paper_near_end"), True, False),  # a warning
        ("raise", replace(INTERNET, category="disk", key="disk"), True, False),
        ("raise", None, True, False),  # an alert stored before facts were kept
    ],
)
def test_which_messages_print_a_slip(
    kind: MailKind, facts: AlertFacts | None, resolved: bool, expected: bool
) -> None:
    assert wants_slip(kind, facts, announce_resolved=resolved) is expected


def test_every_slip_category_is_critical_as_the_channel_routes_only_critical() -> None:
    """The printers channel takes critical problems: a slip category mailed at a lower level
    would never reach it."""
    engine_levels = {"paper_out", "cover_open", "printer_offline", "internet_down", "wix_auth"}
    assert engine_levels <= SLIP_CATEGORIES
    assert "paper_near_end" not in SLIP_CATEGORIES


@pytest.mark.parametrize(
    ("announce", "facts", "working", "expected"),
    [
        (None, PAPER_OUT, {}, ("bar", "counter")),  # all others by default
        (["counter"], PAPER_OUT, {}, ("counter",)),
        (["kitchen", "counter"], PAPER_OUT, {}, ("counter",)),  # never the printer at fault
        ([], PAPER_OUT, {}, ()),  # [] turns slips off
        (None, PAPER_OUT, {"bar": False}, ("counter",)),  # only printers that can print
        (None, INTERNET, {"kitchen": True}, PRINTERS),  # no printer at fault: all of them
        (
            None,
            replace(INTERNET, category="needs_attention", target="10231", printer="bar"),
            {},
            ("kitchen", "counter"),
        ),
    ],
)
def test_which_printers_print_it(
    announce: list[str] | None,
    facts: AlertFacts,
    working: dict[str, bool],
    expected: tuple[str, ...],
) -> None:
    assert slip_printers(PRINTERS, announce, facts, working) == expected


def test_a_set_aside_ticket_names_its_printer_in_the_facts() -> None:
    engine = AlertEngine(AlertsConfig(), restaurant="R", language="de", tz=TZ)
    event = TicketNeedsAttention(
        at=T0, job_id=7, order_number="10231", printer="bar", receipt="kitchen", attempts=3
    )
    (action,) = engine.observe(event, T0)
    assert action.facts is not None
    assert (action.facts.target, action.facts.printer) == ("10231", "bar")


def test_facts_and_slips_survive_the_outbox_and_the_saved_state() -> None:
    assert decode_facts(encode_facts(PAPER_OUT)) == PAPER_OUT
    assert decode_facts("") is None
    assert decode_facts("{not json") is None
    slip = AlertSlip(key=PAPER_OUT.key, kind="raise", raised_at=T0 + 120, facts=PAPER_OUT)
    assert decode_slip(encode_slip(slip)) == slip
    with pytest.raises(ValueError, match="unreadable alert slip"):
        decode_slip('{"id": "an order"}')
    held = AlertAction(
        key=PAPER_OUT.key,
        level="info",
        problem_level="critical",
        kind="resolve",
        subject="s",
        body="b",
        raised_at=T0,
        at=T0,
        since=T0,
        facts=PAPER_OUT,
    )
    state = EngineState()
    state = replace(state, book=replace(state.book, deferred=(held,)))
    assert decode_state(encode_state(state)).book.deferred == (held,)


def config(language: str = "de") -> Config:
    return Config(
        service=ServiceConfig(restaurant_name="Gasthaus", timezone="Europe/Berlin"),
        layout=LayoutConfig(language=language),  # type: ignore[arg-type]
        printers=[PrinterConfig(name=n) for n in PRINTERS],
    )


REQUEST = TicketRequest(kind="alert", variant=Variant.NEW, reprint=False, job_id=9, revision=1)


@pytest.mark.parametrize(
    ("language", "kind", "expected"),
    [
        (
            "de",
            "raise",
            (
                "! ACHTUNG !",
                "kitchen: Papier leer",
                "Papier nachlegen. Die wartenden Tickets kommen danach von selbst.",
                "seit 17:06",
            ),
        ),
        (
            "en",
            "raise",
            (
                "! ALERT !",
                "kitchen: out of paper",
                "Load paper. The waiting tickets then print by themselves.",
                "since 17:06",
            ),
        ),
        (
            "de",
            "resolve",
            ("BEHOBEN", "kitchen: Papier leer", "wieder in Ordnung, Dauer 5 Min.", "17:11"),
        ),
        (
            "en",
            "resolve",
            ("RESOLVED", "kitchen: out of paper", "back to normal after 5 min", "17:11"),
        ),
    ],
)
def test_slip_text_in_the_ticket_language(
    language: str, kind: MailKind, expected: tuple[str, ...]
) -> None:
    raised_at = T0 + (300 if kind == "resolve" else 120)
    slip = AlertSlip(key=PAPER_OUT.key, kind=kind, raised_at=raised_at, facts=PAPER_OUT)
    assert slip_lines(slip, language, TZ) == expected  # type: ignore[arg-type]


def test_internet_wix_and_late_orders_say_what_the_kitchen_must_know() -> None:
    def lines(facts: AlertFacts) -> str:
        slip = AlertSlip(key=facts.key, kind="raise", raised_at=T0, facts=facts)
        return " ".join(slip_lines(slip, "de", TZ))

    assert "verspätet" in lines(INTERNET)
    assert "KEINE Bestellungen" in lines(replace(INTERNET, category="wix_auth", key="wix_auth"))
    numbers = tuple(str(10000 + i) for i in range(MAX_SLIP_ORDERS + 2))
    late = lines(replace(INTERNET, category="unprinted_orders", key="u", orders=numbers))
    assert f"Nicht gedruckt: {', '.join(numbers[:MAX_SLIP_ORDERS])} +2 weitere" in late


@pytest.mark.parametrize("model", sorted(PROFILES))
def test_slip_in_large_type_with_the_profiles_buzzer(model: str) -> None:
    profile = PROFILES[model]
    printer = PrinterConfig(name="counter", model=model)  # type: ignore[arg-type]
    slip = AlertSlip(key=PAPER_OUT.key, kind="raise", raised_at=T0 + 120, facts=PAPER_OUT)
    ticket = render_alert_slip(slip, REQUEST, config=config(), printer=printer, profile=profile)
    head = PrintHead(dots=profile.dots)
    pieces = CommandReader().feed(ticket.data)
    for piece in pieces:
        for step in head.apply(piece):
            head.commit(step, 0)
    (strip,) = head.paper()
    assert strip.cut
    assert strip.unknown_commands == []
    assert strip.wrapped == 0
    assert "kitchen: Papier leer" in " ".join(" ".join(strip.lines).split())  # may wrap
    assert any(p.name == "ESC !" and p.param(0) & 0x30 == 0x30 for p in pieces)  # 2x wide, tall
    names = [p.name for p in pieces]
    assert "ESC B" not in names  # python-escpos' buzzer is no Epson command
    if profile.epson:
        assert ticket.data.endswith(EPSON_BUZZER)  # after the cut: the slip is out
        assert [(b.after, b.times) for b in head.beeps] == [(1, 3)]
    else:
        assert "ESC ( A" not in names
        assert head.beeps == []


def test_epson_buzzer_bytes() -> None:
    """``ESC ( A pL pH fn n c t``: fn 48, pattern 1, three beeps, 1 s cycle (escpos.md §11
    item 6); ``ESC B n t`` (python-escpos' ``buzzer()``) is not Epson's."""
    assert EPSON_BUZZER == b"\x1b(A\x04\x00\x30\x01\x03\x0a"
    assert {name for name, p in PROFILES.items() if p.buzzer == EPSON_BUZZER} == {
        name for name, p in PROFILES.items() if p.epson
    }
    assert GENERIC_80.buzzer == b""


def test_a_reprinted_slip_says_so() -> None:
    slip = AlertSlip(key=INTERNET.key, kind="raise", raised_at=T0, facts=INTERNET)
    request = replace(REQUEST, reprint=True, cut_first=True)
    ticket = render_alert_slip(slip, request, config=config("en"), printer=PrinterConfig(name="x"))
    assert "REPRINT" in ticket.preview
    assert "Internet down" in ticket.preview


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("kind", ["raise", "resolve"])
def test_the_tests_tell_a_slip_from_an_order_ticket(language: str, kind: MailKind) -> None:
    """The crash ledger and the harness leave slips out of the order tickets they count."""
    slip = AlertSlip(key=INTERNET.key, kind=kind, raised_at=T0, facts=INTERNET)
    for reprint in (False, True):
        request = replace(REQUEST, reprint=reprint)
        printer = PrinterConfig(name="x")
        ticket = render_alert_slip(slip, request, config=config(language), printer=printer)
        assert is_alert_slip(ticket.preview)
    assert not is_alert_slip("#10231\nLieferung\n2x Currywurst\n")
