"""A small ESC/POS reader for tests: the lines, styles, cuts and codes a printer would produce.

Knows exactly the commands the renderer may emit; anything else is recorded as unknown, so
a test notices a stray command instead of mistaking it for text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS = 0x1B, 0x1D
PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858", 40: "iso8859_15"}


@dataclass
class Printed:
    text: str = ""
    width: int = 0
    """Columns used: double-width characters count two."""
    wide: bool = False
    tall: bool = False
    bold: bool = False
    invert: bool = False


@dataclass
class Decoded:
    pages: list[int] = field(default_factory=list)
    lines: list[Printed] = field(default_factory=list)
    cuts: int = 0
    qr_data: list[bytes] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)
    inits: int = 0

    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    def find(self, needle: str) -> Printed:
        return next(line for line in self.lines if needle in line.text)


def decode(data: bytes) -> Decoded:
    out = Decoded()
    i = 0
    wide = tall = bold = invert = False
    encoding = "cp437"
    line = Printed()

    def flush() -> None:
        nonlocal line
        out.lines.append(line)
        line = Printed()

    while i < len(data):
        b = data[i]
        if b == ESC:
            cmd, arg = data[i + 1], data[i + 2] if i + 2 < len(data) else 0
            if cmd == 0x40:  # ESC @
                out.inits += 1
                wide = tall = bold = invert = False
                i += 2
                continue
            if cmd == 0x74:  # ESC t n
                out.pages.append(arg)
                encoding = PAGES.get(arg, "cp437")
            elif cmd == 0x21:  # ESC ! n
                wide, tall, bold = bool(arg & 0x20), bool(arg & 0x10), bool(arg & 0x08)
            elif cmd == 0x45:  # ESC E n
                bold = bool(arg)
            elif cmd in (0x61, 0x64):  # ESC a n (align), ESC d n (feed)
                pass
            else:
                out.unknown.append(data[i : i + 3])
            i += 3
            continue
        if b == GS:
            cmd = data[i + 1]
            if cmd == 0x42:  # GS B n
                invert = bool(data[i + 2])
                i += 3
            elif cmd == 0x56:  # GS V m [n]
                out.cuts += 1
                i += 4 if data[i + 2] in (65, 66) else 3
            elif cmd == 0x28 and data[i + 2] == 0x6B:  # GS ( k pL pH cn fn ...
                size = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5 : i + 5 + size]
                if body[:3] == b"1P0":
                    out.qr_data.append(body[3:])
                i += 5 + size
            else:
                out.unknown.append(data[i : i + 3])
                i += 3
            continue
        if b == 0x0A:
            flush()
            i += 1
            continue
        if b < 0x20:
            out.unknown.append(bytes([b]))
            i += 1
            continue
        ch = bytes([b]).decode(encoding)
        if not line.text:
            line.wide, line.tall, line.bold, line.invert = wide, tall, bold, invert
        line.text += ch
        line.width += 2 if wide else 1
        i += 1
    if line.text:
        flush()
    return out
