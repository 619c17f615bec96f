"""ESC/POS command lengths (Epson TM series), for the tokenizer in :mod:`decode`.

:func:`measure` looks at the bytes from a prefix (ESC, GS, FS, DLE) and says how long the
command is: a :class:`Fixed` header plus a payload whose length the header gives, or a
:class:`Terminated` command that ends with NUL. ``None`` means: not enough bytes yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DLE = 0x10
ESC = 0x1B
FS = 0x1C
GS = 0x1D

_PREFIX_NAMES = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}


@dataclass(frozen=True, slots=True)
class Fixed:
    name: str
    head_len: int
    """Bytes naming the command (prefix, letter, sub-letter)."""
    header_len: int
    """Bytes needed before the payload length is known (head included)."""
    payload: int
    known: bool = True
    realtime: bool = False


@dataclass(frozen=True, slots=True)
class Terminated:
    name: str
    head_len: int
    limit: int
    """At most this many bytes after the head, NUL included."""


Spec = Fixed | Terminated
_Measure = Callable[[bytearray, int], "Spec | None"]

# Commands of constant total length: code -> (name, total length).
_ESC_FIXED: dict[int, tuple[str, int]] = {
    0x0C: ("ESC FF", 2),
    0x20: ("ESC SP", 3),
    0x21: ("ESC !", 3),
    0x24: ("ESC $", 4),
    0x25: ("ESC %", 3),
    0x2D: ("ESC -", 3),
    0x32: ("ESC 2", 2),
    0x33: ("ESC 3", 3),
    0x3C: ("ESC <", 2),
    0x3D: ("ESC =", 3),
    0x3F: ("ESC ?", 3),
    0x40: ("ESC @", 2),
    0x42: ("ESC B", 4),  # python-escpos' buzzer; not an Epson command
    0x45: ("ESC E", 3),
    0x47: ("ESC G", 3),
    0x4A: ("ESC J", 3),
    0x4B: ("ESC K", 3),
    0x4C: ("ESC L", 2),
    0x4D: ("ESC M", 3),
    0x52: ("ESC R", 3),
    0x53: ("ESC S", 2),
    0x54: ("ESC T", 3),
    0x55: ("ESC U", 3),
    0x56: ("ESC V", 3),
    0x57: ("ESC W", 10),
    0x5C: ("ESC \\", 4),
    0x61: ("ESC a", 3),
    0x63: ("ESC c", 4),
    0x64: ("ESC d", 3),
    0x65: ("ESC e", 3),
    0x69: ("ESC i", 2),
    0x6D: ("ESC m", 2),
    0x70: ("ESC p", 5),
    0x72: ("ESC r", 3),
    0x74: ("ESC t", 3),
    0x75: ("ESC u", 3),
    0x76: ("ESC v", 2),
    0x7B: ("ESC {", 3),
}
_GS_FIXED: dict[int, tuple[str, int]] = {
    0x21: ("GS !", 3),
    0x24: ("GS $", 4),
    0x2F: ("GS /", 3),
    0x3A: ("GS :", 2),
    0x42: ("GS B", 3),
    0x48: ("GS H", 3),
    0x49: ("GS I", 3),
    0x4C: ("GS L", 4),
    0x50: ("GS P", 4),
    0x54: ("GS T", 3),
    0x57: ("GS W", 4),
    0x5C: ("GS \\", 4),
    0x5E: ("GS ^", 5),
    0x61: ("GS a", 3),
    0x62: ("GS b", 3),
    0x63: ("GS c", 2),
    0x66: ("GS f", 3),
    0x67: ("GS g", 6),
    0x68: ("GS h", 3),
    0x72: ("GS r", 3),
    0x77: ("GS w", 3),
    0x7A: ("GS z", 5),
}
_FS_FIXED: dict[int, tuple[str, int]] = {
    0x21: ("FS !", 3),
    0x26: ("FS &", 2),
    0x2D: ("FS -", 3),
    0x2E: ("FS .", 2),
    0x43: ("FS C", 3),
    0x53: ("FS S", 4),
    0x57: ("FS W", 3),
    0x70: ("FS p", 4),
}


def _avail(buf: bytearray, i: int, n: int) -> bool:
    return len(buf) - i >= n


def _letter(code: int) -> str:
    return chr(code) if 0x21 <= code <= 0x7E else f"0x{code:02X}"


def _paren(prefix: str) -> _Measure:
    """``<prefix> ( X pL pH d1..dk``: k = pL + 256 pH."""

    def measure(buf: bytearray, i: int) -> Spec | None:
        if not _avail(buf, i, 5):
            return None
        name = f"{prefix} ( {_letter(buf[i + 2])}"
        return Fixed(name, 3, 5, buf[i + 3] | buf[i + 4] << 8)

    return measure


def _esc_star(buf: bytearray, i: int) -> Spec | None:
    if not _avail(buf, i, 5):
        return None
    m, k = buf[i + 2], buf[i + 3] | buf[i + 4] << 8
    return Fixed("ESC *", 2, 5, k * 3 if m in (32, 33) else k, known=m in (0, 1, 32, 33))


def _esc_amp(buf: bytearray, i: int) -> Spec | None:
    """``ESC & y c1 c2 [x d1..d(y*x)]...``: user-defined characters."""
    if not _avail(buf, i, 5):
        return None
    y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
    if not 1 <= y <= 3 or c1 > c2:
        return Fixed("ESC &", 2, 5, 0, known=False)
    pos = i + 5
    for _ in range(c2 - c1 + 1):
        if pos >= len(buf):
            return None
        pos += 1 + y * buf[pos]
    return Fixed("ESC &", 2, 5, pos - i - 5)


def _gs_v_cut(buf: bytearray, i: int) -> Spec | None:
    if not _avail(buf, i, 3):
        return None
    m = buf[i + 2]
    if m in (0, 1, 48, 49):
        return Fixed("GS V", 2, 3, 0)
    if m in (65, 66, 97, 98, 103, 104):
        return Fixed("GS V", 2, 4, 0)
    return Fixed("GS V", 2, 3, 0, known=False)


def _gs_k_barcode(buf: bytearray, i: int) -> Spec | None:
    if not _avail(buf, i, 3):
        return None
    m = buf[i + 2]
    if m <= 6:
        return Terminated("GS k", 3, 256)
    if 65 <= m <= 79:
        if not _avail(buf, i, 4):
            return None
        return Fixed("GS k", 2, 4, buf[i + 3])
    return Fixed("GS k", 2, 3, 0, known=False)


def _raster(name: str, sub: int) -> _Measure:
    """``GS v 0`` / ``GS Q 0``: ``m xL xH yL yH`` then x * y bytes."""

    def measure(buf: bytearray, i: int) -> Spec | None:
        if not _avail(buf, i, 3):
            return None
        if buf[i + 2] != sub:
            return Fixed(f"{name[:4]} {_letter(buf[i + 2])}", 3, 3, 0, known=False)
        if not _avail(buf, i, 8):
            return None
        x = buf[i + 4] | buf[i + 5] << 8
        y = buf[i + 6] | buf[i + 7] << 8
        return Fixed(name, 3, 8, x * y)

    return measure


def _gs_8(buf: bytearray, i: int) -> Spec | None:
    """``GS 8 L p1 p2 p3 p4 ...``: graphics with a 32-bit length."""
    if not _avail(buf, i, 3):
        return None
    sub = buf[i + 2]
    if sub != 0x4C:
        return Fixed(f"GS 8 {_letter(sub)}", 3, 3, 0, known=False)
    if not _avail(buf, i, 7):
        return None
    return Fixed("GS 8 L", 3, 7, int.from_bytes(buf[i + 3 : i + 7], "little"))


def _gs_star(buf: bytearray, i: int) -> Spec | None:
    if not _avail(buf, i, 4):
        return None
    return Fixed("GS *", 2, 4, buf[i + 2] * buf[i + 3] * 8)


_ESC_SPECIAL: dict[int, _Measure] = {
    0x2A: _esc_star,
    0x26: _esc_amp,
    0x28: _paren("ESC"),
    0x44: lambda buf, i: Terminated("ESC D", 2, 33),
}
_GS_SPECIAL: dict[int, _Measure] = {
    0x28: _paren("GS"),
    0x2A: _gs_star,
    0x38: _gs_8,
    0x51: _raster("GS Q 0", 0x30),
    0x56: _gs_v_cut,
    0x6B: _gs_k_barcode,
    0x76: _raster("GS v 0", 0x30),
}
_FS_SPECIAL: dict[int, _Measure] = {0x28: _paren("FS")}

_TABLES = {
    ESC: (_ESC_FIXED, _ESC_SPECIAL),
    GS: (_GS_FIXED, _GS_SPECIAL),
    FS: (_FS_FIXED, _FS_SPECIAL),
}


def _measure_dle(buf: bytearray, i: int) -> Spec | None:
    code = buf[i + 1]
    if code not in (0x04, 0x05, 0x14):
        return Fixed("DLE", 1, 1, 0, known=False)
    if not _avail(buf, i, 3):
        return None
    fn = buf[i + 2]
    if code == 0x04:
        return Fixed("DLE EOT", 2, 4 if fn in (7, 8) else 3, 0, realtime=True)
    if code == 0x05:
        return Fixed("DLE ENQ", 2, 3, 0, realtime=True)
    total = 10 if fn == 8 else 4 if fn == 7 else 5
    return Fixed("DLE DC4", 2, total, 0, realtime=True)


def measure(buf: bytearray, i: int) -> Spec | None:
    """The command starting at ``buf[i]`` (a prefix byte), or ``None`` if more bytes are needed."""
    if not _avail(buf, i, 2):
        return None
    prefix, code = buf[i], buf[i + 1]
    if prefix == DLE:
        return _measure_dle(buf, i)
    fixed, special = _TABLES[prefix]
    name_prefix = _PREFIX_NAMES[prefix]
    if code in fixed:
        name, total = fixed[code]
        return Fixed(name, 2, total, 0)
    if code in special:
        return special[code](buf, i)
    return Fixed(f"{name_prefix} {_letter(code)}", 2, 2, 0, known=False)
