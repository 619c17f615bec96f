"""DLE EOT status tables, process-id requests, job tags and the reply stream parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wixprint.printing.protocol import (
    ATTEMPT_SLOTS,
    CLEAR_BUFFERS,
    JOB_WINDOW,
    MAX_PENDING_PAYLOAD,
    TAG_SPACE,
    AsbReply,
    ClearReply,
    InfoReply,
    ProcessIdReply,
    ReplyParser,
    StatusByte,
    clean_start,
    dle_eot,
    frame_job,
    job_tag,
    parse_status,
    printer_info_request,
    process_id_request,
    tag_owner,
    unframe_job,
)
from wixprint.vocabulary import PrinterStatus

# The reference table (escpos.md §5.1): EOT 1, 2, 3, 4 per state.
TABLE = {
    "all ok": ((0x12, 0x12, 0x12, 0x12), PrinterStatus(online=True, paper="ok")),
    "near end": ((0x12, 0x12, 0x12, 0x1E), PrinterStatus(online=True, paper="near_end")),
    "paper out": ((0x1A, 0x32, 0x12, 0x7E), PrinterStatus(online=False, paper="out")),
    "cover open": (
        (0x1A, 0x16, 0x12, 0x12),
        PrinterStatus(online=False, paper="ok", cover_open=True),
    ),
}


@pytest.mark.parametrize("state", TABLE)
def test_status_table(state: str) -> None:
    replies, expected = TABLE[state]
    assert parse_status(*replies) == expected


def test_drawer_pin_3_is_ignored() -> None:
    # A real Epson answers EOT 1 with 16 (pin 3 high) and no drawer fitted.
    assert parse_status(0x16, 0x12, 0x12, 0x12) == PrinterStatus(online=True, paper="ok")


def test_what_can_print() -> None:
    assert parse_status(0x12, 0x12, 0x12, 0x1E).can_print  # near end still prints
    assert not parse_status(0x1A, 0x32, 0x12, 0x7E).can_print
    assert not parse_status(0x1A, 0x16, 0x12, 0x12).can_print
    assert not parse_status(0x12, 0x52, None, 0x12).can_print  # error occurred


def test_error_causes_from_eot3() -> None:
    for bit in (0x04, 0x08, 0x20, 0x40):
        assert parse_status(0x12, 0x12, 0x12 | bit, 0x12).error


def test_without_eot4_paper_is_known_only_at_paper_end() -> None:
    assert parse_status(0x12, 0x12, None, None).paper == "unknown"
    assert parse_status(0x1A, 0x32, None, None).paper == "out"


@pytest.mark.parametrize("bad", [0x00, 0x10, 0x13, 0x92, 0x37, 256, -1])
def test_invalid_status_byte_is_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        parse_status(bad, 0x12, 0x12, 0x12)
    with pytest.raises(ValueError):
        parse_status(0x12, 0x12, 0x12, bad)


def test_request_bytes() -> None:
    assert [dle_eot(n) for n in (1, 2, 3, 4)] == [bytes((0x10, 0x04, n)) for n in (1, 2, 3, 4)]
    with pytest.raises(ValueError):
        dle_eot(5)
    assert process_id_request(b"AB12") == bytes.fromhex("1d 28 48 06 00 30 30 41 42 31 32")


@pytest.mark.parametrize("tag", [b"ABC", b"ABCDE", b"AB\x1f1", b"AB\x7f1", b""])
def test_process_id_request_refuses_bad_tags(tag: bytes) -> None:
    with pytest.raises(ValueError):
        process_id_request(tag)


@given(st.integers(min_value=0, max_value=JOB_WINDOW - 1), st.integers(0, 1000))
def test_job_tag_round_trip(job_id: int, attempt: int) -> None:
    tag = job_tag(job_id, attempt)
    assert len(tag) == 4
    assert all(0x20 <= b <= 0x7E for b in tag)
    assert tag_owner(tag) == (job_id, attempt % ATTEMPT_SLOTS)
    process_id_request(tag)  # always a valid process id


def test_every_attempt_gets_a_fresh_tag() -> None:
    tags = {job_tag(i, a) for i in range(50_000) for a in range(1, ATTEMPT_SLOTS + 1)}
    assert len(tags) == 50_000 * ATTEMPT_SLOTS
    assert JOB_WINDOW >= 2_000_000  # years of tickets before a tag repeats
    assert job_tag(JOB_WINDOW + 5, 1) == job_tag(5, 1)
    assert TAG_SPACE == JOB_WINDOW * ATTEMPT_SLOTS


@pytest.mark.parametrize("tag", [b"~TST", b"~001", b"ab", b"ab cd"])
def test_tags_that_are_not_job_tags_have_no_owner(tag: bytes) -> None:
    assert tag_owner(tag) is None


def test_clean_start_pads_every_payload_and_clears_only_on_a_retry() -> None:
    assert clean_start(clear=False) == b"\x00" * MAX_PENDING_PAYLOAD
    assert clean_start(clear=True) == CLEAR_BUFFERS + b"\x00" * MAX_PENDING_PAYLOAD
    assert bytes.fromhex("10 14 08 01 03 14 01 06 02 08") == CLEAR_BUFFERS
    assert printer_info_request(67) == b"\x1dIC"
    with pytest.raises(ValueError):
        printer_info_request(1)


def test_parser_reads_printer_ids_and_the_clear_reply() -> None:
    parser = ReplyParser()
    stream = b"\x5fTM-m30III\x00" + b"\x37\x25\x00" + b"\x12" + b"\x5f\x00" + b"\x14"
    assert parser.feed(stream) == [InfoReply("TM-m30III"), ClearReply(), StatusByte(0x12)]


def test_parser_tells_replies_apart() -> None:
    parser = ReplyParser()
    stream = b"\x12" + b"\x37\x22AB12\x00" + b"\x10\x00\x03\x00" + b"\x7e"
    assert parser.feed(stream) == [
        StatusByte(0x12),
        ProcessIdReply(b"AB12"),
        AsbReply(b"\x10\x00\x03\x00"),
        StatusByte(0x7E),
    ]


def test_parser_ignores_xon_xoff_and_junk() -> None:
    parser = ReplyParser()
    replies = parser.feed(b"\x11\x13\x00\xff\x12\x13\x37\x22AB12\x00")
    assert replies == [StatusByte(0x12), ProcessIdReply(b"AB12")]
    assert parser.junk == 2  # 00 and FF; XON/XOFF are not junk


def test_broken_process_id_does_not_swallow_a_status() -> None:
    parser = ReplyParser()
    # A stray 37 22 then a status byte that cannot be part of a tag.
    assert parser.feed(b"\x37\x22\x12") == [StatusByte(0x12)]


@given(st.data())
def test_replies_split_across_reads(data: st.DataObject) -> None:
    stream = b"\x1a" + b"\x37\x22x-_9\x00" + b"\x18\x00\x0f\x00" + b"\x11" + b"\x32"
    expected = [
        StatusByte(0x1A),
        ProcessIdReply(b"x-_9"),
        AsbReply(b"\x18\x00\x0f\x00"),
        StatusByte(0x32),
    ]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    parser = ReplyParser()
    got = []
    start = 0
    for cut in [*cuts, len(stream)]:
        got += parser.feed(stream[start:cut])
        start = cut
    assert got == expected


@given(st.binary(max_size=200))
def test_parser_never_raises(data: bytes) -> None:
    ReplyParser().feed(data)


STATUS_QUERIES = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


@pytest.mark.parametrize("clear", [False, True])
def test_unframe_job_gives_back_exactly_the_ticket_a_job_framed(clear: bool) -> None:
    ticket = b"\x1b@" + b"\x00" * 700 + b"\x1b@body\x1dV\x00"  # NUL runs inside are kept
    framed = frame_job(ticket, tag=b"AB12", clear=clear, process_id=True)
    received = STATUS_QUERIES + framed + STATUS_QUERIES
    assert unframe_job(received, tag=b"AB12") == ticket
    other = frame_job(b"\x1b@other", tag=b"CD34", clear=False, process_id=True)
    assert unframe_job(received + other, tag=b"CD34") == b"\x1b@other"


def test_unframe_job_refuses_what_it_cannot_read_exactly() -> None:
    with pytest.raises(ValueError):
        unframe_job(frame_job(b"\x1b@x", tag=b"AB12", clear=False, process_id=False), tag=b"AB12")
    with pytest.raises(ValueError):
        unframe_job(b"\x1b@x" + process_id_request(b"AB12"), tag=b"AB12")
    twice = frame_job(b"\x1b@x", tag=b"AB12", clear=False, process_id=True) * 2
    with pytest.raises(ValueError):
        unframe_job(twice, tag=b"AB12")


def test_a_byte_outside_the_asb_pattern_does_not_start_a_status_report() -> None:
    # 0x01 is neither a status byte nor an ASB first byte, though zeros could be ASB's tail.
    parser = ReplyParser()
    assert parser.feed(b"\x01\x00\x00\x00") == []
    assert parser.junk == 4


def test_a_printer_name_is_read_up_to_80_characters() -> None:
    parser = ReplyParser()
    assert parser.feed(b"\x5f" + b"M" * 80 + b"\x00") == [InfoReply("M" * 80)]
    assert parser.feed(b"\x5f" + b"M" * 81 + b"\x00") == []


def test_each_paper_end_bit_stops_the_printer_on_its_own() -> None:
    # Real printers may set paper end in EOT 2 only, or in EOT 4 only (bits 5 and 6).
    assert parse_status(0x12, 0x12 | 0x20, 0x12, 0x12).paper == "out"
    assert parse_status(0x12, 0x12, 0x12, 0x12 | 0x20).paper == "out"
    assert parse_status(0x12, 0x12, 0x12, 0x12 | 0x40).paper == "out"
    assert parse_status(0x12, 0x12, 0x12, 0x12 | 0x04).paper == "near_end"
    assert parse_status(0x12, 0x12, 0x12, 0x12 | 0x08).paper == "near_end"


def test_any_printable_ascii_is_a_process_id_tag() -> None:
    assert process_id_request(b" ~~~").endswith(b" ~~~")


def test_a_negative_job_id_or_attempt_has_no_tag() -> None:
    for job_id, attempt in ((-1, 1), (1, -1)):
        with pytest.raises(ValueError):
            job_tag(job_id, attempt)


def test_only_the_text_forms_of_gs_i_are_asked() -> None:
    assert [printer_info_request(n) for n in range(65, 70)] == [
        bytes((0x1D, 0x49, n)) for n in range(65, 70)
    ]
    for n in (64, 70):
        with pytest.raises(ValueError):
            printer_info_request(n)


def test_the_clear_reply_is_read_when_nothing_follows_it() -> None:
    # A retry waits for exactly these three bytes; no further byte may be needed to see them.
    parser = ReplyParser()
    assert parser.feed(b"\x37\x25") == []
    assert parser.feed(b"\x00") == [ClearReply()]


def test_a_printer_name_is_printable_ascii_and_nothing_after_it_is_read_into_it() -> None:
    # The last character of "TM-T82" has the bit pattern of a status byte.
    assert ReplyParser().feed(b"\x5fTM-T82\x00") == [InfoReply("TM-T82")]
    assert ReplyParser().feed(b"\x5fTM T82~\x00") == [InfoReply("TM T82~")]
    assert ReplyParser().feed(b"\x5fA\x00") == [InfoReply("A")]
    assert ReplyParser().feed(b"\x5fTM\x7f\x00") == []


def test_a_process_id_is_printable_ascii() -> None:
    assert ReplyParser().feed(b"\x37\x22 ~~ \x00") == [ProcessIdReply(b" ~~ ")]
    assert ReplyParser().feed(b"\x37\x22AB1\x7f\x00") == []


def test_a_printer_name_split_across_reads_is_waited_for() -> None:
    parser = ReplyParser()
    assert parser.feed(b"\x5f" + b"M" * 80) == []
    assert parser.feed(b"\x00") == [InfoReply("M" * 80)]


def test_an_asb_needs_all_three_tail_bytes_in_pattern() -> None:
    assert ReplyParser().feed(b"\x10\x80\x00\x00") == []
    assert ReplyParser().feed(b"\x10\x00\x00\x00") == [AsbReply(b"\x10\x00\x00\x00")]
