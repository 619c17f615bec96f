"""The fake printer's own ESC/POS command reader, written from Epson's command reference.

It deliberately shares nothing with ``wixprint.printing.decode``: if the product's command
table gets a length wrong, this reader disagrees and a test fails.

A :class:`CommandReader` is fed bytes as they arrive and hands back :class:`Piece` objects
(text runs and whole commands). Its state lives as long as the printer's power: a command cut
off at the end of one connection is completed by the first bytes of the next one, as on a
real printer (escpos.md §14).
"""

from __future__ import annotations

from dataclasses import dataclass

DLE, ESC, FS, GS = 0x10, 0x1B, 0x1C, 0x1D

# Parameter bytes after "<prefix> <letter>" for commands of fixed length.
_ESC_PARAMS: dict[int, int] = {
    ord(" "): 1, ord("!"): 1, ord("$"): 2, ord("%"): 1, ord("-"): 1, ord("2"): 0,
    ord("3"): 1, ord("<"): 0, ord("="): 1, ord("?"): 1, ord("@"): 0, ord("B"): 2,
    ord("E"): 1, ord("G"): 1, ord("J"): 1, ord("K"): 1, ord("L"): 0, ord("M"): 1,
    ord("R"): 1, ord("S"): 0, ord("T"): 1, ord("U"): 1, ord("V"): 1, ord("W"): 8,
    ord("\\"): 2, ord("a"): 1, ord("c"): 2, ord("d"): 1, ord("e"): 1, ord("i"): 0,
    ord("m"): 0, ord("p"): 3, ord("r"): 1, ord("t"): 1, ord("u"): 1, ord("v"): 0,
    ord("{"): 1, 0x0C: 0,
}  # fmt: skip
_GS_PARAMS: dict[int, int] = {
    ord("!"): 1, ord("$"): 2, ord("/"): 1, ord(":"): 0, ord("B"): 1, ord("H"): 1,
    ord("I"): 1, ord("L"): 2, ord("P"): 2, ord("T"): 1, ord("W"): 2, ord("\\"): 2,
    ord("^"): 3, ord("a"): 1, ord("b"): 1, ord("c"): 0, ord("f"): 1, ord("g"): 4,
    ord("h"): 1, ord("r"): 1, ord("w"): 1, ord("z"): 3,
}  # fmt: skip
_FS_PARAMS: dict[int, int] = {
    ord("!"): 1, ord("&"): 0, ord("-"): 1, ord("."): 0, ord("C"): 1, ord("S"): 2,
    ord("W"): 1, ord("p"): 2,
}  # fmt: skip
_PREFIX = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}
_CONTROLS = {0x00: "NUL", 0x09: "HT", 0x0A: "LF", 0x0C: "FF", 0x0D: "CR", 0x18: "CAN"}


@dataclass(frozen=True, slots=True)
class Piece:
    """A text run (``name == "text"``) or one whole command."""

    name: str
    """``"text"``, ``"LF"``, ``"ESC t"``, ``"GS ( k"``, ``"DLE EOT"``; unknown: ``"ESC ?7"``."""
    params: bytes = b""
    """Fixed parameters (for ``GS ( X``: fn and the rest after pL pH; for text: the bytes)."""
    size: int = 0
    known: bool = True

    def param(self, index: int) -> int:
        return self.params[index] if index < len(self.params) else -1


def _letter(code: int) -> str:
    return chr(code) if 0x21 <= code <= 0x7E else f"?{code:02X}"


class CommandReader:
    """Incremental reader; :attr:`inside` names the command whose bytes are still awaited."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._need = 0
        """Bytes still missing before the command in ``_buf`` can be measured again."""

    @property
    def inside(self) -> tuple[str, int] | None:
        """(command name, bytes of it received so far) while a command is incomplete."""
        if not self._buf:
            return None
        return (_describe(bytes(self._buf))[0], len(self._buf))

    def reset(self) -> None:
        self._buf.clear()
        self._need = 0

    def feed(self, data: bytes) -> list[Piece]:
        out: list[Piece] = []
        i = 0
        while i < len(data):
            if self._buf:
                take = min(self._need, len(data) - i)
                self._buf += data[i : i + take]
                self._need -= take
                i += take
                if self._need == 0:
                    self._measure(out)
                continue
            b = data[i]
            if b >= 0x20:
                j = i
                while j < len(data) and data[j] >= 0x20:
                    j += 1
                out.append(Piece("text", bytes(data[i:j]), j - i))
                i = j
            elif b in _PREFIX:
                self._buf.append(b)
                self._need = 1
                i += 1
            else:
                out.append(Piece(_CONTROLS.get(b, f"CTL {b:02X}"), b"", 1, b in _CONTROLS))
                i += 1
        return out

    def _measure(self, out: list[Piece]) -> None:
        raw = bytes(self._buf)
        length = _length(raw)
        if length > len(raw):
            self._need = length - len(raw)
            return
        name, params, known = _describe(raw)
        out.append(Piece(name, params, len(raw), known))
        self.reset()


def _length(raw: bytes) -> int:
    """The whole length of the command starting ``raw``, as far as ``raw`` tells: a value
    larger than ``len(raw)`` by one may only mean "one more byte, then ask again"."""
    prefix = raw[0]
    if len(raw) < 2:
        return 2
    code = raw[1]
    if prefix == DLE:
        return _length_dle(raw)
    if code == ord("("):
        # <prefix> ( X pL pH d1..dk: k = pL + 256 pH
        return 5 if len(raw) < 5 else 5 + raw[3] + 256 * raw[4]
    if prefix == GS and code in _GS_SPECIAL:
        return _GS_SPECIAL[code](raw)
    if prefix == ESC and code in _ESC_SPECIAL:
        return _ESC_SPECIAL[code](raw)
    table = {ESC: _ESC_PARAMS, GS: _GS_PARAMS, FS: _FS_PARAMS}[prefix]
    return 2 + table.get(code, 0)  # unknown: an Epson skips the two bytes


def _length_dle(raw: bytes) -> int:
    code = raw[1]
    if code not in (0x04, 0x05, 0x14):
        return 2
    if len(raw) < 3:
        return 3
    fn = raw[2]
    if code == 0x04:
        return 4 if fn in (7, 8) else 3
    if code == 0x05:
        return 3
    return {1: 5, 2: 5, 3: 8, 7: 4, 8: 10}.get(fn, 3)


def _gs_v(raw: bytes) -> int:
    if len(raw) < 3:
        return 3
    return 4 if raw[2] in (65, 66, 97, 98, 103, 104) else 3


def _gs_k(raw: bytes) -> int:
    if len(raw) < 3:
        return 3
    if raw[2] <= 6:  # data ends with NUL
        return len(raw) if len(raw) > 3 and raw[-1] == 0 else len(raw) + 1
    return 4 if len(raw) < 4 else 4 + raw[3]


def _gs_v0(raw: bytes) -> int:  # GS v 0 m xL xH yL yH d1..dk
    return 8 if len(raw) < 8 else 8 + (raw[4] + 256 * raw[5]) * (raw[6] + 256 * raw[7])


def _gs_8(raw: bytes) -> int:  # GS 8 L p1 p2 p3 p4 m fn ...
    return 7 if len(raw) < 7 else 7 + int.from_bytes(raw[3:7], "little")


def _gs_star(raw: bytes) -> int:  # GS * x y d1..d(x*y*8)
    return 4 if len(raw) < 4 else 4 + raw[2] * raw[3] * 8


def _esc_star(raw: bytes) -> int:  # ESC * m nL nH d1..dk
    if len(raw) < 5:
        return 5
    return 5 + (raw[3] + 256 * raw[4]) * (3 if raw[2] in (32, 33) else 1)


def _esc_d(raw: bytes) -> int:  # ESC D n1..nk NUL, at most 32 positions
    if (len(raw) > 2 and raw[-1] == 0) or len(raw) >= 35:
        return len(raw)
    return len(raw) + 1


_GS_SPECIAL = {
    ord("V"): _gs_v,
    ord("k"): _gs_k,
    ord("v"): _gs_v0,
    ord("8"): _gs_8,
    ord("*"): _gs_star,
}
_ESC_SPECIAL = {ord("*"): _esc_star, ord("D"): _esc_d}


def _describe(raw: bytes) -> tuple[str, bytes, bool]:
    """Name, parameters and whether Epson knows the command (``raw`` may be incomplete)."""
    prefix = _PREFIX[raw[0]]
    if len(raw) < 2:
        return (prefix, b"", True)
    code = raw[1]
    if raw[0] == DLE:
        names = {0x04: "DLE EOT", 0x05: "DLE ENQ", 0x14: "DLE DC4"}
        return (names.get(code, f"DLE {_letter(code)}"), raw[2:], code in names)
    name = f"{prefix} {_letter(code)}"
    if code == ord("("):
        sub = _letter(raw[2]) if len(raw) > 2 else ""
        return (f"{name} {sub}".rstrip(), raw[5:], True)
    table = {ESC: _ESC_PARAMS, GS: _GS_PARAMS, FS: _FS_PARAMS}[raw[0]]
    special = _GS_SPECIAL if raw[0] == GS else _ESC_SPECIAL if raw[0] == ESC else {}
    return (name, raw[2:], code in table or code in special)
