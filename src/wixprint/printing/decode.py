"""ESC/POS decoding, sans-IO: an incremental tokenizer and a ticket decoder.

The tokenizer knows each command's length, so bytes inside raster images (``GS v 0``), 2D
codes (``GS ( k``) or process ids (``GS ( H``) are never read as text or as a status
request. The decoder turns tokens into readable tickets, split at cuts, with the text decoded
in the code page the printer would use. Both are used by the virtual printer's preview and by
the fake printer in the tests; neither ever raises on arbitrary bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from wixprint.printing._escpos_commands import ESC, FS, GS, Fixed, Terminated, measure

__all__ = [
    "CODEPAGES",
    "Command",
    "DecodedTicket",
    "Style",
    "Text",
    "TextRun",
    "TicketDecoder",
    "Token",
    "Tokenizer",
    "decode_tickets",
    "process_id_of",
]

MAX_KEPT_ARGS = 65536
"""Parameter bytes kept per command; longer payloads are counted, not stored."""

CODEPAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    16: "cp1252",
    19: "cp858",
    40: "iso8859_15",
}
"""ESC t n pages of the TM-m30III that we decode, to Python codec names."""

_TEXT_RUN = re.compile(rb"[\x20-\xff]+")
_SINGLE = {0x09: "HT", 0x0A: "LF", 0x0C: "FF", 0x0D: "CR", 0x18: "CAN"}


@dataclass(frozen=True, slots=True)
class Text:
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    """E.g. ``"ESC t"``, ``"GS ( k"``, ``"LF"``; unknown ones read like ``"ESC 0x07"``."""
    head: bytes
    """The bytes that name the command."""
    args: bytes
    """Parameters and payload (payload cut at :data:`MAX_KEPT_ARGS`)."""
    size: int
    """Bytes the command took in the stream."""
    known: bool = True
    realtime: bool = False
    """DLE EOT / DLE ENQ / DLE DC4: executed on receipt, even offline."""

    def arg(self, index: int, default: int = 0) -> int:
        return self.args[index] if index < len(self.args) else default


Token = Text | Command


class _Collecting:
    __slots__ = ("args", "head", "known", "name", "realtime", "remaining", "size")

    def __init__(self, spec: Fixed, head: bytes, args: bytes) -> None:
        self.name = spec.name
        self.known = spec.known
        self.realtime = spec.realtime
        self.head = head
        self.args = bytearray(args)
        self.remaining = spec.payload
        self.size = spec.header_len + spec.payload

    def token(self, *, truncated: bool = False) -> Command:
        if truncated:
            return Command(
                f"{self.name} (truncated)",
                self.head,
                bytes(self.args),
                self.size - self.remaining,
                known=False,
            )
        return Command(self.name, self.head, bytes(self.args), self.size, self.known, self.realtime)


class Tokenizer:
    """Feed bytes as they arrive; get whole tokens back.

    A command split across reads is held until complete (:attr:`pending` counts those bytes);
    text runs are returned as they come, so one line may arrive as several :class:`Text`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._collecting: _Collecting | None = None

    @property
    def pending(self) -> int:
        """Bytes received but not yet returned as a token."""
        held = self._collecting.size - self._collecting.remaining if self._collecting else 0
        return len(self._buf) + held

    def feed(self, data: bytes) -> list[Token]:
        buf = self._buf
        buf += data
        out: list[Token] = []
        i = 0
        end = len(buf)
        while i < end:
            collecting = self._collecting
            if collecting is not None:
                take = min(collecting.remaining, end - i)
                room = MAX_KEPT_ARGS - len(collecting.args)
                if room > 0:
                    collecting.args += buf[i : i + min(take, room)]
                collecting.remaining -= take
                i += take
                if collecting.remaining == 0:
                    out.append(collecting.token())
                    self._collecting = None
                continue
            b = buf[i]
            if b >= 0x20:
                run = _TEXT_RUN.match(buf, i)
                assert run is not None
                out.append(Text(run.group()))
                i = run.end()
                continue
            if b in _SINGLE:
                out.append(Command(_SINGLE[b], bytes((b,)), b"", 1))
                i += 1
                continue
            if b not in (ESC, GS, FS, 0x10):
                out.append(Command(f"0x{b:02X}", bytes((b,)), b"", 1, known=False))
                i += 1
                continue
            spec = measure(buf, i)
            if spec is None:
                break
            if isinstance(spec, Terminated):
                stop = buf.find(0, i + spec.head_len, i + spec.head_len + spec.limit)
                if stop < 0:
                    if end - i < spec.head_len + spec.limit:
                        break
                    head = bytes(buf[i : i + spec.head_len])
                    out.append(Command(spec.name, head, b"", spec.head_len, known=False))
                    i += spec.head_len
                    continue
                head = bytes(buf[i : i + spec.head_len])
                args = bytes(buf[i + spec.head_len : stop + 1])
                out.append(Command(spec.name, head, args, stop + 1 - i))
                i = stop + 1
                continue
            if end - i < spec.header_len:
                break
            head = bytes(buf[i : i + spec.head_len])
            args = bytes(buf[i + spec.head_len : i + spec.header_len])
            i += spec.header_len
            self._collecting = _Collecting(spec, head, args)
            if spec.payload == 0:
                out.append(self._collecting.token())
                self._collecting = None
        del buf[:i]
        return out

    def flush(self) -> list[Token]:
        """End of stream: return what is left as truncated (unknown) commands and reset."""
        out: list[Token] = []
        if self._collecting is not None:
            out.append(self._collecting.token(truncated=True))
            self._collecting = None
        if self._buf:
            out.append(Command("truncated", bytes(self._buf), b"", len(self._buf), known=False))
            self._buf.clear()
        return out


def process_id_of(command: Command) -> bytes | None:
    """The 4-byte tag of a ``GS ( H fn 48`` command, else ``None``."""
    if command.name == "GS ( H" and command.args[:4] == b"\x06\x00\x30\x30":
        tag = command.args[4:8]
        if len(tag) == 4:
            return tag
    return None


@dataclass(frozen=True, slots=True)
class Style:
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1
    invert: bool = False
    font: str = "A"
    align: str = "left"


@dataclass(frozen=True, slots=True)
class TextRun:
    text: str
    style: Style


@dataclass(frozen=True, slots=True)
class DecodedTicket:
    text: str
    codepages_used: tuple[int, ...]
    """``ESC t`` pages in effect while text was printed (0 = the power-on default)."""
    unsupported_codepages: tuple[int, ...]
    unknown_commands: tuple[str, ...]
    has_qr: bool
    qr_data: tuple[bytes, ...]
    has_image: bool
    has_barcode: bool
    cut: bool
    runs: tuple[TextRun, ...]
    """The text split where the style changes."""
    overflowing_lines: tuple[str, ...]
    """Lines wider than the 80 mm paper (48 / 57 / 64 columns for fonts A / B / C)."""


_LINE_UNITS = 3648  # lcm(48, 57, 64): one full line
_CHAR_UNITS = {"A": _LINE_UNITS // 48, "B": _LINE_UNITS // 57, "C": _LINE_UNITS // 64}
_IMAGES = {"GS v 0", "ESC *", "GS ( L", "GS 8 L", "GS *", "GS Q 0", "FS p"}
_FEEDS = {"ESC d", "ESC J", "ESC e", "ESC K"}
_CUTS = {"GS V", "ESC i", "ESC m"}
_ALIGN = ("left", "center", "right")


class TicketDecoder:
    """Printer state (code page, style) plus the ticket being printed; cut ends a ticket."""

    def __init__(self) -> None:
        self._stored_qr = b""
        self.reset()

    def reset(self) -> None:
        """Power-on state: default page and style, nothing on the current ticket."""
        self._page = 0
        self._style = Style()
        self._stored_qr = b""
        self.discard()

    def discard(self) -> None:
        """Forget the ticket in progress (lost in a power cut)."""
        self._runs: list[tuple[Style, list[str]]] = []
        self._visible = False
        self._pages: dict[int, None] = {}
        self._unsupported: dict[int, None] = {}
        self._unknown: dict[str, None] = {}
        self._qr: list[bytes] = []
        self._image = False
        self._barcode = False
        self._line: list[str] = []
        self._line_chars = 0
        self._fill = 0
        self._overflow: list[str] = []

    @property
    def style(self) -> Style:
        """The style text printed now would get (the preview drawing follows it)."""
        return self._style

    @property
    def codec(self) -> str:
        """Python codec of the code page in effect (CP437 for pages we do not decode)."""
        return CODEPAGES.get(self._page, CODEPAGES[0])

    @property
    def has_content(self) -> bool:
        """Something on the current ticket would show on paper."""
        return self._visible or bool(self._qr) or self._image or self._barcode

    def feed(self, token: Token) -> DecodedTicket | None:
        """Apply one token; returns the finished ticket when it was a cut."""
        if isinstance(token, Text):
            self._text(token.data)
            return None
        name = token.name
        if not token.known:
            self._unknown.setdefault(name)
        elif name == "LF":
            self._write("\n")
        elif name == "HT":
            self._write(" " * (8 - self._line_chars % 8))
        elif name in _FEEDS:
            if self._line_chars:
                self._write("\n")
        elif name in _CUTS:
            return self._close(cut=True)
        elif name == "ESC @":
            self._page = 0
            self._style = Style()
        else:
            self._command(token)
        return None

    def finish(self) -> DecodedTicket | None:
        """The ticket in progress as an uncut ticket, if anything would show on paper."""
        return self._close(cut=False) if self.has_content else None

    def _command(self, cmd: Command) -> None:
        name, n, style = cmd.name, cmd.arg(0), self._style
        if name == "ESC t":
            self._page = n
        elif name == "ESC !":
            self._style = replace(
                style,
                font="B" if n & 1 else "A",
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=bool(n & 0x80),
            )
        elif name == "ESC E":
            self._style = replace(style, bold=bool(n & 1))
        elif name == "ESC -":
            self._style = replace(style, underline=bool(n & 3))
        elif name == "ESC M":
            self._style = replace(style, font="ABC"[n & 3] if n & 3 < 3 else "A")
        elif name == "ESC a":
            self._style = replace(style, align=_ALIGN[n & 3] if n & 3 < 3 else "left")
        elif name == "GS !":
            self._style = replace(style, width=((n >> 4) & 7) + 1, height=(n & 7) + 1)
        elif name == "GS B":
            self._style = replace(style, invert=bool(n & 1))
        elif name == "GS ( k":
            self._two_d_code(cmd)
        elif name in _IMAGES:
            self._image = True
        elif name == "GS k":
            self._barcode = True

    def _two_d_code(self, cmd: Command) -> None:
        cn, fn = cmd.arg(2), cmd.arg(3)
        if cn != 0x31:
            return
        if fn == 0x50:
            self._stored_qr = cmd.args[5:]
        elif fn == 0x51:
            self._qr.append(self._stored_qr)

    def _text(self, data: bytes) -> None:
        codec = CODEPAGES.get(self._page)
        if codec is None:
            self._unsupported.setdefault(self._page)
            codec = CODEPAGES[0]
        self._pages.setdefault(self._page)
        self._write(data.decode(codec, errors="replace"))

    def _write(self, text: str) -> None:
        style = self._style
        if self._runs and self._runs[-1][0] == style:
            self._runs[-1][1].append(text)
        else:
            self._runs.append((style, [text]))
        self._visible = self._visible or (bool(text) and not text.isspace())
        unit = _CHAR_UNITS.get(style.font, _CHAR_UNITS["A"]) * style.width
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k:
                self._end_line()
            if piece:
                self._line.append(piece)
                self._line_chars += len(piece)
                self._fill += unit * len(piece)

    def _end_line(self) -> None:
        if self._fill > _LINE_UNITS:
            self._overflow.append("".join(self._line))
        self._line = []
        self._line_chars = 0
        self._fill = 0

    def _close(self, *, cut: bool) -> DecodedTicket:
        self._end_line()
        runs = tuple(TextRun("".join(parts), style) for style, parts in self._runs)
        ticket = DecodedTicket(
            text="".join(run.text for run in runs),
            codepages_used=tuple(sorted(self._pages)),
            unsupported_codepages=tuple(sorted(self._unsupported)),
            unknown_commands=tuple(self._unknown),
            has_qr=bool(self._qr),
            qr_data=tuple(self._qr),
            has_image=self._image,
            has_barcode=self._barcode,
            cut=cut,
            runs=runs,
            overflowing_lines=tuple(self._overflow),
        )
        self.discard()
        return ticket


def decode_tickets(data: bytes) -> list[DecodedTicket]:
    """Split a byte stream at cuts into readable tickets.

    Trailing data after the last cut becomes an uncut ticket when it would show on paper;
    real-time requests and process ids between tickets are skipped.
    """
    tokenizer = Tokenizer()
    decoder = TicketDecoder()
    tickets: list[DecodedTicket] = []
    for token in [*tokenizer.feed(data), *tokenizer.flush()]:
        ticket = decoder.feed(token)
        if ticket is not None:
            tickets.append(ticket)
    last = decoder.finish()
    if last is not None:
        tickets.append(last)
    return tickets
