"""The ESC/POS tokenizer and ticket decoder, on python-escpos output and on random bytes."""

from __future__ import annotations

from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from wixprint.printing.decode import (
    Command,
    Text,
    TicketDecoder,
    Tokenizer,
    decode_tickets,
    process_id_of,
)
from wixprint.printing.protocol import process_id_request

UMLAUTS = "Größe Ärger Übel äöü ß 5,00 €"


def _escpos_ticket(text: str = UMLAUTS, *, qr: str = "https://example.com/o/1") -> bytes:
    p = Dummy(profile="TM-T20II")
    p.hw("INIT")
    p.charcode("CP858")
    p.set(bold=True, double_height=True, double_width=True, align="center")
    p.textln("KITCHEN")
    p.set_with_default()
    p.textln(text)
    p.qr(qr, native=True)
    p.cut()
    return bytes(p.output)


def test_python_escpos_ticket_decodes_with_umlauts_and_euro() -> None:
    [ticket] = decode_tickets(_escpos_ticket())
    assert "KITCHEN\n" in ticket.text
    assert UMLAUTS in ticket.text
    assert ticket.codepages_used == (19,)
    assert ticket.unknown_commands == ()
    assert ticket.has_qr
    assert ticket.qr_data == (b"https://example.com/o/1",)
    assert ticket.cut
    big = [run for run in ticket.runs if "KITCHEN" in run.text]
    assert big[0].style.bold
    assert big[0].style.width == 2
    assert big[0].style.align == "center"


def test_code_page_decides_the_characters() -> None:
    euro = {19: b"\xd5", 16: b"\x80", 40: b"\xa4"}
    for page, byte in euro.items():
        [ticket] = decode_tickets(b"\x1bt" + bytes((page,)) + byte + b"\n")
        assert ticket.text == "€\n", page
    # The power-on page is CP437 and ESC @ returns to it.
    [ticket] = decode_tickets(b"\x1bt\x13\x1b@\x84\n")
    assert ticket.text == "ä\n"
    assert ticket.codepages_used == (0,)


def test_unsupported_code_page_is_flagged() -> None:
    [ticket] = decode_tickets(b"\x1bt\x0fabc\n")
    assert ticket.unsupported_codepages == (15,)


def test_split_at_cuts() -> None:
    data = _escpos_ticket("one") + process_id_request(b"0001") + _escpos_ticket("two")
    tickets = decode_tickets(data + b"tail without cut")
    assert [("one" in t.text, "two" in t.text, t.cut) for t in tickets] == [
        (True, False, True),
        (False, True, True),
        (False, False, False),
    ]
    assert tickets[2].text == "tail without cut"


def test_bytes_inside_commands_are_not_text_or_status_requests() -> None:
    # Raster image whose data holds DLE EOT 1 and printable bytes.
    raster = b"\x1dv0\x00\x02\x00\x03\x00" + b"\x10\x04\x01ABC"
    qr_store = b"\x1d(k\x07\x001P0\x10\x04\x02Z"
    process_id = process_id_request(b"    ")  # tag of spaces: printable, must not be text
    tokens = Tokenizer().feed(raster + qr_store + process_id)
    assert all(not (isinstance(t, Command) and t.realtime) for t in tokens)
    assert not any(isinstance(t, Text) for t in tokens)
    assert [t.name for t in tokens if isinstance(t, Command)] == ["GS v 0", "GS ( k", "GS ( H"]


def test_real_time_requests_are_found_between_commands() -> None:
    tokens = Tokenizer().feed(b"ab\x10\x04\x01\x1b!\x00\x10\x04\x04")
    realtime = [t for t in tokens if isinstance(t, Command) and t.realtime]
    assert [(t.name, t.args) for t in realtime] == [("DLE EOT", b"\x01"), ("DLE EOT", b"\x04")]


def test_process_id_of() -> None:
    [cmd] = Tokenizer().feed(process_id_request(b"Zz-9"))
    assert isinstance(cmd, Command)
    assert process_id_of(cmd) == b"Zz-9"


def test_unknown_commands_are_flagged() -> None:
    [ticket] = decode_tickets(b"\x1b\x07hello\n\x07")
    assert ticket.text == "hello\n"
    assert set(ticket.unknown_commands) == {"ESC 0x07", "0x07"}


def test_overlong_lines_are_reported() -> None:
    fits = b"x" * 48 + b"\n"
    too_wide = b"\x1d!\x10" + b"y" * 25 + b"\n"  # double width: 24 columns
    font_b = b"\x1bM\x01" + b"z" * 57 + b"\n"
    [ticket] = decode_tickets(fits + too_wide + b"\x1d!\x00" + font_b)
    assert ticket.overflowing_lines == ("y" * 25,)


def test_incomplete_command_at_the_end() -> None:
    [ticket] = decode_tickets(b"hello\n\x1dv0\x00\x10\x00\x10\x00abc")
    assert ticket.text == "hello\n"
    assert ticket.unknown_commands == ("GS v 0 (truncated)",)


def test_decoder_finish_and_discard() -> None:
    decoder = TicketDecoder()
    for token in Tokenizer().feed(b"lost text"):
        decoder.feed(token)
    decoder.discard()
    assert decoder.finish() is None


@settings(max_examples=400)
@given(st.binary(max_size=400))
def test_decoder_never_raises(data: bytes) -> None:
    for ticket in decode_tickets(data):
        assert isinstance(ticket.text, str)


# Bytes that are mostly ESC/POS prefixes, so the command tables get exercised.
_commandish = st.lists(
    st.one_of(
        st.sampled_from([b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\x1d(k", b"\x1dv0", b"\x1bt"]),
        st.binary(max_size=6),
    ),
    max_size=60,
).map(b"".join)


@settings(max_examples=400)
@given(_commandish)
def test_decoder_never_raises_on_command_soup(data: bytes) -> None:
    decode_tickets(data)


@settings(max_examples=200)
@given(_commandish, st.data())
def test_tokens_do_not_depend_on_how_bytes_arrive(data: bytes, draw: st.DataObject) -> None:
    whole = Tokenizer()
    expected = [*whole.feed(data), *whole.flush()]
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=10)))
    pieces = Tokenizer()
    got = []
    start = 0
    for cut in [*cuts, len(data)]:
        got += pieces.feed(data[start:cut])
        start = cut
    got += pieces.flush()
    assert _merge_text(got) == _merge_text(expected)
    assert sum(t.size for t in got) == len(data)


def _merge_text(tokens: list[Text | Command]) -> list[Text | Command]:
    merged: list[Text | Command] = []
    for token in tokens:
        if isinstance(token, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].data + token.data)
        else:
            merged.append(token)
    return merged
