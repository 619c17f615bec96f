"""ESC/POS status protocol, sans-IO: request bytes, status tables and a reply stream parser.

Everything here is pure: the transports own sockets and deadlines, this module only turns
bytes into meaning. See the ESC/POS reference for the bit tables (DLE EOT n, ASB, GS ( H).
"""

from __future__ import annotations

from dataclasses import dataclass

from wixprint.vocabulary import Paper, PrinterStatus

__all__ = [
    "ATTEMPT_SLOTS",
    "CLEAR_BUFFERS",
    "DLE_EOT_ERROR",
    "DLE_EOT_OFFLINE",
    "DLE_EOT_PAPER",
    "DLE_EOT_PRINTER",
    "JOB_WINDOW",
    "MAX_PENDING_PAYLOAD",
    "AsbReply",
    "ClearReply",
    "InfoReply",
    "ProcessIdReply",
    "Reply",
    "ReplyParser",
    "StatusByte",
    "clean_start",
    "dle_eot",
    "frame_job",
    "is_asb_first_byte",
    "is_status_byte",
    "job_tag",
    "parse_status",
    "printer_info_request",
    "process_id_request",
    "tag_owner",
    "unframe_job",
]

DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_OFFLINE = b"\x10\x04\x02"
DLE_EOT_ERROR = b"\x10\x04\x03"
DLE_EOT_PAPER = b"\x10\x04\x04"

CLEAR_BUFFERS = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
"""``DLE DC4`` fn 8: discard the receive and print buffers and the stored process ids
(real-time; Epson answers ``37 25 00``). Sent before a retry, so a stale id from an earlier
attempt can never confirm this one (escpos.md §12)."""

MAX_PENDING_PAYLOAD = 600
"""The longest command payload one of our tickets can leave open when it is cut off: the QR
store of the driver slip (its data is capped below this, ``receipts`` checks it)."""

XON = 0x11
XOFF = 0x13

_FIXED_MASK = 0b1001_0011  # bits 0, 1, 4, 7 are fixed in status bytes
_STATUS_PATTERN = 0b0001_0010  # 0xx1xx10b
_ASB_PATTERN = 0b0001_0000  # 0xx1xx00b
_ASB_TAIL_MASK = 0b1001_0000  # bytes 2-4 of ASB: bits 4 and 7 are 0

_PROCESS_ID_HEADER = b"\x37\x22"
_PROCESS_ID_LENGTH = 7  # 37 22 d1 d2 d3 d4 00
_CLEARED = b"\x37\x25\x00"
_INFO_HEADER = 0x5F  # GS I n (n = 65..69): 5F text 00
_INFO_MAX = 80

# Filename- and log-safe; 64**4 = 16.7 million distinct tags before they repeat.
_TAG_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_TAG_BASE = len(_TAG_ALPHABET)
_TAG_LENGTH = 4
TAG_SPACE = _TAG_BASE**_TAG_LENGTH
"""Job ids are unique as tags within any window of this many consecutive ids."""


def dle_eot(n: int) -> bytes:
    """The real-time status request ``DLE EOT n`` for n = 1..4."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n must be 1-4, got {n}")
    return (DLE_EOT_PRINTER, DLE_EOT_OFFLINE, DLE_EOT_ERROR, DLE_EOT_PAPER)[n - 1]


def is_status_byte(value: int) -> bool:
    """True when *value* has the DLE EOT reply pattern ``0xx1xx10b``."""
    return 0 <= value <= 0xFF and value & _FIXED_MASK == _STATUS_PATTERN


def is_asb_first_byte(value: int) -> bool:
    """True when *value* has the first-byte ASB pattern ``0xx1xx00b``."""
    return 0 <= value <= 0xFF and value & _FIXED_MASK == _ASB_PATTERN


def _check(name: str, value: int) -> int:
    if not is_status_byte(value):
        raise ValueError(f"{name} reply {value!r} is not a DLE EOT status byte (0xx1xx10b)")
    return value


def parse_status(eot1: int, eot2: int, eot3: int | None, eot4: int | None) -> PrinterStatus:
    """Combine DLE EOT 1-4 replies into a :class:`PrinterStatus`.

    ``eot3`` and ``eot4`` may be ``None`` when they were not asked for: without EOT 4 the
    paper state is only known when EOT 2 says the printer stopped at paper end. The drawer
    pin 3 bit is ignored (a real Epson reports it high with no drawer fitted).

    Raises:
        ValueError: a byte does not have the fixed status pattern.
    """
    _check("DLE EOT 1", eot1)
    _check("DLE EOT 2", eot2)
    online = not eot1 & 0x08
    cover_open = bool(eot2 & 0x04)
    error = bool(eot2 & 0x40)
    if eot3 is not None:
        error = error or bool(_check("DLE EOT 3", eot3) & 0x6C)
    paper: Paper
    if eot4 is not None:
        _check("DLE EOT 4", eot4)
        if eot4 & 0x60 or eot2 & 0x20:
            paper = "out"
        elif eot4 & 0x0C:
            paper = "near_end"
        else:
            paper = "ok"
    else:
        paper = "out" if eot2 & 0x20 else "unknown"
    return PrinterStatus(online=online, paper=paper, cover_open=cover_open, error=error)


def _check_tag(tag: bytes) -> bytes:
    if len(tag) != _TAG_LENGTH or any(not 0x20 <= b <= 0x7E for b in tag):
        raise ValueError("a process id tag is 4 bytes, each 0x20-0x7E")
    return bytes(tag)


def process_id_request(tag: bytes) -> bytes:
    """``GS ( H fn 48``: ask the printer to answer ``37 22 tag 00`` once the data before it
    is printed.

    Raises:
        ValueError: *tag* is not 4 bytes in 0x20-0x7E.
    """
    return b"\x1d\x28\x48\x06\x00\x30\x30" + _check_tag(tag)


ATTEMPT_SLOTS = 8
"""Attempts of one job that get distinct process ids (a retry never reuses the last one)."""
JOB_WINDOW = TAG_SPACE // ATTEMPT_SLOTS
"""Job ids are told apart by their tags within any window of this many consecutive ids."""


def job_tag(job_id: int, attempt: int = 1) -> bytes:
    """The 4-character process id of one attempt at ``job_id`` (base 64: letters, digits,
    ``-`` and ``_``).

    A fresh id per attempt: a printer keeps the latest process id it could not send and sends
    it later (escpos.md §12), so a stored reply from attempt 1 must never read as attempt 2's.
    """
    if job_id < 0 or attempt < 0:
        raise ValueError("job ids and attempts are not negative")
    n = (job_id % JOB_WINDOW) * ATTEMPT_SLOTS + attempt % ATTEMPT_SLOTS
    digits = bytearray()
    for _ in range(_TAG_LENGTH):
        n, digit = divmod(n, _TAG_BASE)
        digits.append(_TAG_ALPHABET[digit])
    return bytes(reversed(digits))


def tag_owner(tag: bytes) -> tuple[int, int] | None:
    """(job id modulo :data:`JOB_WINDOW`, attempt modulo :data:`ATTEMPT_SLOTS`) of a job tag;
    None for any other tag (a test print's, a capability probe's)."""
    if len(tag) != _TAG_LENGTH:
        return None
    n = 0
    for b in tag:
        index = _TAG_ALPHABET.find(bytes((b,)))
        if index < 0:
            return None
        n = n * _TAG_BASE + index
    return divmod(n, ATTEMPT_SLOTS)


def printer_info_request(n: int) -> bytes:
    """``GS I n``: 67 model name, 66 manufacturer, 65 firmware (block reply ``5F … 00``)."""
    if n not in (65, 66, 67, 68, 69):
        raise ValueError("only the text forms of GS I (65-69) are used")
    return bytes((0x1D, 0x49, n))


def clean_start(*, clear: bool) -> bytes:
    """What goes before a ticket so it starts clean (escpos.md §14).

    A printer keeps one command parser across connections: a job cut off inside a QR
    payload leaves the printer waiting for the rest, and the next job's first bytes would
    become QR data. NULs complete any payload ours can leave open (a NUL outside a command
    is ignored); the ticket's own ``ESC @`` follows. ``clear`` first discards what the printer
    still holds from an earlier attempt, and its stored process ids.
    """
    return (CLEAR_BUFFERS if clear else b"") + b"\x00" * MAX_PENDING_PAYLOAD


def frame_job(data: bytes, *, tag: bytes, clear: bool, process_id: bool) -> bytes:
    """What goes to a network printer for one ticket: the clean start, the ticket's own bytes
    (which begin with ``ESC @``), then, when proof is by process id, ``GS ( H`` with ``tag``.
    :func:`unframe_job` is its inverse: the one place that knows this framing."""
    trailer = process_id_request(tag) if process_id else b""
    return clean_start(clear=clear) + data + trailer


def unframe_job(received: bytes, *, tag: bytes) -> bytes:
    """The ticket inside what a printer received on the connection that printed the job with
    process id ``tag``: from the first clean start (``MAX_PENDING_PAYLOAD`` NULs, then the
    ticket's ``ESC @``) after the previous job's ``GS ( H`` up to this job's. Status queries
    before and after it are not part of it.

    Exact, not a search for something similar: ValueError unless the request for ``tag`` is
    there once and a clean start precedes it.
    """
    trailer = process_id_request(tag)
    end = received.find(trailer)
    if end < 0 or received.find(trailer, end + 1) >= 0:
        raise ValueError(f"no single process id request for {tag!r}")
    previous = received.rfind(trailer[:-_TAG_LENGTH], 0, end)
    begin = 0 if previous < 0 else previous + len(trailer)
    start = received.find(clean_start(clear=False) + b"\x1b@", begin, end)
    if start < 0:
        raise ValueError(f"no clean start before the request for {tag!r}")
    return received[start + MAX_PENDING_PAYLOAD : end]


@dataclass(frozen=True, slots=True)
class StatusByte:
    """One DLE EOT reply byte."""

    value: int


@dataclass(frozen=True, slots=True)
class ProcessIdReply:
    """``37 22 d1 d2 d3 d4 00``: the data before the matching GS ( H has been printed."""

    tag: bytes


@dataclass(frozen=True, slots=True)
class AsbReply:
    """Four Automatic Status Back bytes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class InfoReply:
    """``5F text 00``: the answer to ``GS I n`` (model name, manufacturer, firmware)."""

    text: str


@dataclass(frozen=True, slots=True)
class ClearReply:
    """``37 25 00``: the printer discarded its buffers (``DLE DC4`` fn 8)."""


Reply = StatusByte | ProcessIdReply | AsbReply | InfoReply | ClearReply


class ReplyParser:
    """Splits the printer's reply stream into typed replies.

    Feed it whatever ``receive_some`` returned; replies split across reads are reassembled.
    XON/XOFF and bytes that fit no reply pattern are dropped (counted in :attr:`junk`).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.junk = 0

    def feed(self, data: bytes) -> list[Reply]:
        self._buf += data
        replies: list[Reply] = []
        buf = self._buf
        while buf:
            first = buf[0]
            if first == _PROCESS_ID_HEADER[0]:
                if buf[:3] == _CLEARED[: len(buf)]:
                    if len(buf) < 3:
                        break
                    replies.append(ClearReply())
                    del buf[:3]
                    continue
                verdict = _match_process_id(buf)
                if verdict is None:
                    break
                if verdict:
                    replies.append(ProcessIdReply(bytes(buf[2:6])))
                    del buf[:_PROCESS_ID_LENGTH]
                    continue
            elif first == _INFO_HEADER:
                end = _match_info(buf)
                if end is None:
                    break
                if end:
                    replies.append(InfoReply(bytes(buf[1:end]).decode("ascii")))
                    del buf[: end + 1]
                    continue
            elif is_status_byte(first):
                replies.append(StatusByte(first))
                del buf[:1]
                continue
            elif is_asb_first_byte(first):
                verdict = _match_asb(buf)
                if verdict is None:
                    break
                if verdict:
                    replies.append(AsbReply(bytes(buf[:4])))
                    del buf[:4]
                    continue
            if first not in (XON, XOFF):
                self.junk += 1
            del buf[:1]
        return replies


def _match_process_id(buf: bytearray) -> bool | None:
    """True: a whole reply is at the start; False: it cannot be one; None: need more bytes."""
    for i, b in enumerate(buf[:_PROCESS_ID_LENGTH]):
        if i < 2:
            ok = b == _PROCESS_ID_HEADER[i]
        elif i < 6:
            ok = 0x20 <= b <= 0x7E
        else:
            ok = b == 0
        if not ok:
            return False
    return True if len(buf) >= _PROCESS_ID_LENGTH else None


def _match_info(buf: bytearray) -> int | None:
    """Index of the closing NUL of a ``5F … 00`` reply; 0: cannot be one; None: need more."""
    for i, b in enumerate(buf[1 : _INFO_MAX + 2], start=1):
        if b == 0:
            return i if i > 1 else 0
        if not 0x20 <= b <= 0x7E:
            return 0
    return None if len(buf) <= _INFO_MAX + 1 else 0


def _match_asb(buf: bytearray) -> bool | None:
    for b in buf[1:4]:
        if b & _ASB_TAIL_MASK:
            return False
    return True if len(buf) >= 4 else None
