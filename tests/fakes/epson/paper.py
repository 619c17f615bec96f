"""The fake printer's print head and paper: what ends up on the strips between cuts.

A real printer prints a line when it gets LF (or when the line is full: it wraps text wider
than the paper), keeps printing on the same strip until a cut, and keeps its code page and
style until ``ESC @``. So two jobs without a cut between them land on one strip, and text
wider than the print area wraps onto a second line. Each strip remembers where ``ESC @``
started a new job on it (:attr:`Strip.parts`).

:meth:`PrintHead.apply` turns one command into :class:`Step` objects; the engine commits
them one at a time (:meth:`PrintHead.commit`), waiting for paper and print time before each,
so paper can run out in the middle of a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from tests.fakes.epson.commands import Piece

CODEPAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858", 40: "iso8859_15"}
"""``ESC t n`` pages the fake knows (the TM-m30III's Western pages)."""
_IMAGES = {"GS v", "ESC *", "GS ( L", "GS 8", "GS *"}
_STYLE = {"ESC !", "ESC E", "ESC -", "ESC M", "ESC a", "GS !", "GS B", "ESC t", "ESC 2", "ESC 3"}
_NOT_PAPER = {"GS ( H", "GS I", "GS a", "GS r", "DLE EOT", "DLE ENQ", "DLE DC4", "NUL", "CR"}
"""Commands the engine answers itself or that leave nothing on paper."""


@dataclass
class Strip:
    """One piece of paper between two cuts (the last one may still be uncut)."""

    lines: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    """Line indexes where ``ESC @`` began a new job on this strip."""
    cut: bool = False
    tag: bytes | None = None
    """The process id the printer answered right after this strip was cut."""
    rolls: set[int] = field(default_factory=set)
    """Paper rolls it was printed on: two when the paper ran out in the middle of it."""
    connections: set[int] = field(default_factory=set)
    qr_data: list[bytes] = field(default_factory=list)
    codepages: set[int] = field(default_factory=set)
    unsupported_codepages: set[int] = field(default_factory=set)
    unknown_commands: list[str] = field(default_factory=list)
    wrapped: int = 0
    """Lines the printer wrapped because they were wider than its print area."""
    has_image: bool = False

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    @property
    def parts(self) -> list[str]:
        """The strip's text split where ``ESC @`` started a job (a cut-off job's remains,
        then the next job, when no cut came between them)."""
        bounds = sorted({0, *self.starts, len(self.lines)})
        pieces = ["".join(s + "\n" for s in self.lines[a:b]) for a, b in pairwise(bounds)]
        return [p for p in pieces if p.strip()] or [self.text]

    @property
    def has_content(self) -> bool:
        return any(line.strip() for line in self.lines) or bool(self.qr_data) or self.has_image


@dataclass(frozen=True, slots=True)
class Beep:
    """The buzzer sounded (``ESC ( A`` fn 48)."""

    after: int
    """Strips cut before it sounded."""
    times: int


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    """line | feed | qr | cut | init | image | beep | unknown"""
    text: str = ""
    units: int = 1
    """Print time in normal line heights."""
    data: bytes = b""


@dataclass
class _Style:
    font: str = "A"
    width: int = 1
    height: int = 1


class PrintHead:
    """Printer state (code page, style, line buffer, stored QR) and the paper it printed."""

    def __init__(self, *, dots: int = 576, font_dots: dict[str, int] | None = None) -> None:
        self.dots = dots
        self.font_dots = font_dots or {"A": 12, "B": 10, "C": 9}
        self.strips: list[Strip] = []
        self.current = Strip()
        self.roll = 1
        self.blank_cuts = 0
        self.buzzer = True
        """Has a buzzer (the TM-m30III has one built in): ``ESC ( A`` fn 48 sounds it."""
        self.beeps: list[Beep] = []
        self.power_on()

    def power_on(self) -> None:
        """Power-on state; what was already printed stays on the paper."""
        self._page = 0
        self._style = _Style()
        self._qr = b""
        self.clear_buffer()

    def clear_buffer(self) -> None:
        """Forget the line not yet printed (``ESC @``, ``DLE DC4`` fn 8, power loss)."""
        self._line: list[str] = []
        self._line_dots = 0
        self._line_units = 1

    def paper(self) -> list[Strip]:
        return [*self.strips, self.current] if self.current.has_content else list(self.strips)

    # --- turning commands into steps ----------------------------------------------------

    def apply(self, piece: Piece) -> list[Step]:
        name = piece.name
        if name == "text":
            return self._text(piece.params)
        if name == "LF":
            return [self._take_line()]
        if name == "HT":
            return self._text(b" " * (8 - len(self._line) % 8))
        if name == "ESC d":
            steps = [self._take_line()] if self._line else []
            return [*steps, Step("feed", units=max(0, piece.param(0)))]
        if name == "GS V":
            steps = [self._take_line()] if self._line else []
            return [*steps, Step("cut", units=4)]
        if name == "ESC @":
            self.power_on()
            return [Step("init", units=0)]
        if name == "GS ( k":
            return self._two_d(piece)
        if name == "ESC ( A":
            return [Step("beep", units=0, data=piece.params)]
        if name in _IMAGES:
            return [Step("image", units=8)]
        if name in _STYLE:
            self._set_style(piece)
            return []
        if name in _NOT_PAPER:
            return []
        if not piece.known or name.startswith("CTL"):
            return [Step("unknown", text=name, units=0)]
        return []

    def _set_style(self, piece: Piece) -> None:
        name, n, style = piece.name, piece.param(0), self._style
        if name == "ESC t":
            self._page = n
        elif name == "ESC !":
            style.font = "B" if n & 1 else "A"
            style.height = 2 if n & 0x10 else 1
            style.width = 2 if n & 0x20 else 1
        elif name == "GS !":
            style.width, style.height = (n >> 4 & 7) + 1, (n & 7) + 1
        elif name == "ESC M":
            style.font = {0: "A", 48: "A", 1: "B", 49: "B", 2: "C", 50: "C"}.get(n, "A")

    def _text(self, data: bytes) -> list[Step]:
        codec = CODEPAGES.get(self._page)
        if codec is None:
            self.current.unsupported_codepages.add(self._page)
        self.current.codepages.add(self._page)
        text = data.decode(codec or "cp437", errors="replace")
        steps: list[Step] = []
        char = self.font_dots.get(self._style.font, 12) * self._style.width
        for ch in text:
            if self._line_dots + char > self.dots:
                steps.append(self._take_line(wrapped=True))
            self._line.append(ch)
            self._line_dots += char
            self._line_units = max(self._line_units, self._style.height)
        return steps

    def _take_line(self, *, wrapped: bool = False) -> Step:
        step = Step("line", "".join(self._line), self._line_units, b"w" if wrapped else b"")
        self.clear_buffer()
        return step

    def _two_d(self, piece: Piece) -> list[Step]:
        cn, fn = piece.param(0), piece.param(1)
        if cn != 0x31:
            return []
        if fn == 0x50:  # store: cn fn m d1..dk
            self._qr = piece.params[3:]
        elif fn == 0x51:  # print the stored symbol
            return [Step("qr", units=6, data=self._qr)]
        return []

    # --- committing steps to paper -------------------------------------------------------

    def commit(self, step: Step, connection: int) -> Strip | None:
        """Put one step on paper; returns the strip a cut finished."""
        strip = self.current
        if step.kind in ("line", "qr", "image"):
            strip.rolls.add(self.roll)
            strip.connections.add(connection)
        if step.kind == "line":
            strip.lines.append(step.text)
            strip.wrapped += step.data == b"w"
        elif step.kind == "qr":
            strip.qr_data.append(step.data)
        elif step.kind == "image":
            strip.has_image = True
        elif step.kind == "init":
            strip.starts.append(len(strip.lines))
        elif step.kind == "unknown":
            strip.unknown_commands.append(step.text)
        elif step.kind == "beep":
            # ESC ( A fn 48 n c t: c beeps of pattern n; a printer without a buzzer is silent.
            if self.buzzer and step.data[:1] == b"\x30" and len(step.data) >= 4:
                self.beeps.append(Beep(after=len(self.strips), times=step.data[2]))
        elif step.kind == "cut":
            if not strip.has_content:
                self.blank_cuts += 1
                self.current = Strip()
                return None
            strip.cut = True
            strip.connections.add(connection)
            self.strips.append(strip)
            self.current = Strip()
            return strip
        return None
