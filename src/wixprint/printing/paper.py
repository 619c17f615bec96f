"""Where the printer puts each character and code on the paper, from ESC/POS bytes. Pure.

``wixprint preview --png`` draws from this layout, so what it shows is what the bytes say,
not what we meant to send: the same tokenizer and decoder (styles, code pages) as the fake
printer, and the QR code rebuilt from its ``GS ( k`` payload with the module size and error
correction the bytes ask for. Font A is 12×24 dots a character, Font B 9×17 (escpos.md §13);
double width and height scale the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import qrcode
import qrcode.constants

from wixprint.printing.decode import Command, Style, Text, TicketDecoder, Tokenizer

__all__ = ["CELL", "Paper", "PlacedQr", "PlacedText", "describe", "lay_out"]

CELL = {"A": (12, 24), "B": (9, 17), "C": (9, 17)}
"""Character cell (width, height) in dots per font."""
_EC = {
    48: qrcode.constants.ERROR_CORRECT_L,
    49: qrcode.constants.ERROR_CORRECT_M,
    50: qrcode.constants.ERROR_CORRECT_Q,
    51: qrcode.constants.ERROR_CORRECT_H,
}
_FEED_LINES = {"ESC d"}
_FEED_DOTS = {"ESC J"}
_CUTS = {"GS V", "ESC i", "ESC m"}


@dataclass(frozen=True, slots=True)
class PlacedText:
    x: int
    y: int
    """Top of the row, dots from the top of the ticket."""
    text: str
    style: Style

    @property
    def cell(self) -> tuple[int, int]:
        width, height = CELL.get(self.style.font, CELL["A"])
        return width * self.style.width, height * self.style.height


@dataclass(frozen=True, slots=True)
class PlacedQr:
    x: int
    y: int
    module: int
    """Dots per module."""
    data: bytes
    matrix: tuple[tuple[bool, ...], ...]


@dataclass
class Paper:
    """One ticket as printed, up to its cut."""

    width: int
    height: int = 0
    texts: list[PlacedText] = field(default_factory=list)
    codes: list[PlacedQr] = field(default_factory=list)
    cut: bool = False


def _qr_matrix(data: bytes, ec: int) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=_EC.get(ec, _EC[49]), border=0)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(v) for v in row) for row in code.get_matrix())


class _Layout:
    def __init__(self, width: int) -> None:
        self.width = width
        self.decoder = TicketDecoder()
        self.papers: list[Paper] = []
        self.paper = Paper(width)
        self.row: list[tuple[str, Style]] = []
        self.qr_data = b""
        self.qr_module = 3
        self.qr_ec = 48

    def text(self, data: bytes) -> None:
        text = data.decode(self.decoder.codec, errors="replace")
        style = self.decoder.style
        if self.row and self.row[-1][1] == style:
            self.row[-1] = (self.row[-1][0] + text, style)
        else:
            self.row.append((text, style))

    def line(self) -> None:
        """LF: print the row, advance by its tallest character."""
        style = self.decoder.style
        cells = [PlacedText(0, 0, text, s).cell for text, s in self.row]
        used = sum(w * len(text) for (w, _), (text, _s) in zip(cells, self.row, strict=True))
        height = max((h for _, h in cells), default=CELL.get(style.font, CELL["A"])[1])
        x = {"center": (self.width - used) // 2, "right": self.width - used}.get(style.align, 0)
        x = max(0, x)
        for (text, s), (w, _) in zip(self.row, cells, strict=True):
            ink = text.lstrip(" ")
            if ink.strip() or (s.invert and text):  # an inverted band shows its spaces too
                skip = 0 if s.invert else len(text) - len(ink)
                self.paper.texts.append(PlacedText(x + w * skip, self.paper.height, text[skip:], s))
            x += w * len(text)
        self.paper.height += height
        self.row = []

    def two_d_code(self, cmd: Command) -> None:
        if cmd.arg(2) != 0x31:
            return
        fn = cmd.arg(3)
        if fn == 0x43:
            self.qr_module = max(1, min(16, cmd.arg(4)))
        elif fn == 0x45:
            self.qr_ec = cmd.arg(4)
        elif fn == 0x50:
            self.qr_data = cmd.args[5:]
        elif fn == 0x51 and self.qr_data:
            if self.row:
                self.line()
            matrix = _qr_matrix(self.qr_data, self.qr_ec)
            size = len(matrix) * self.qr_module
            align = self.decoder.style.align
            x = {"center": (self.width - size) // 2, "right": self.width - size}.get(align, 0)
            self.paper.codes.append(
                PlacedQr(max(0, x), self.paper.height, self.qr_module, self.qr_data, matrix)
            )
            self.paper.height += size

    def feed(self, cmd: Command) -> None:
        if cmd.name in _FEED_LINES or cmd.name in _FEED_DOTS:
            if self.row:
                self.line()
            self.paper.height += cmd.arg(0) * (24 if cmd.name in _FEED_LINES else 1)
        elif cmd.name in _CUTS:
            if self.row:
                self.line()
            self.paper.cut = True
            self.papers.append(self.paper)
            self.paper = Paper(self.width)
        elif cmd.name == "LF":
            self.line()
        elif cmd.name == "GS ( k":
            self.two_d_code(cmd)

    def finish(self) -> list[Paper]:
        if self.row:
            self.line()
        if self.paper.texts or self.paper.codes:
            self.papers.append(self.paper)
        return self.papers


def lay_out(data: bytes, *, width: int = 576) -> list[Paper]:
    """The tickets in ``data`` (split at cuts), ``width`` dots wide."""
    layout = _Layout(width)
    tokenizer = Tokenizer()
    for token in [*tokenizer.feed(data), *tokenizer.flush()]:
        if isinstance(token, Text):
            layout.text(token.data)
        elif token.known:
            layout.feed(token)
        layout.decoder.feed(token)  # style and code page for what follows
    return layout.finish()


def _flags(style: Style) -> str:
    flags = [
        name
        for name, on in (
            ("bold", style.bold),
            ("underline", style.underline),
            ("invert", style.invert),
            (f"{style.width}x{style.height}", (style.width, style.height) != (1, 1)),
            (f"font {style.font}", style.font != "A"),
        )
        if on
    ]
    return ",".join(flags) or "plain"


def describe(paper: Paper) -> str:
    """The layout as text, one line per placed piece: what a golden file compares."""
    lines = [f"paper {paper.width}x{paper.height} dots{', cut' if paper.cut else ''}"]
    pieces: list[tuple[int, int, str]] = [
        (t.y, t.x, f"text {_flags(t.style)} {t.text.rstrip()!r}") for t in paper.texts
    ]
    pieces.extend(
        (q.y, q.x, f"qr {len(q.matrix)}x{len(q.matrix)} modules of {q.module} dots {q.data!r}")
        for q in paper.codes
    )
    lines.extend(f"{y:5} {x:4} {what}" for y, x, what in sorted(pieces))
    return "\n".join(lines) + "\n"
