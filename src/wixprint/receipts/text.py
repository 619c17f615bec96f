"""Text fitting for fixed-width thermal paper: code-page-safe text, wrapping, columns, money.

Everything here counts characters, one per printer column, so all text must first go
through ``transliterate``: afterwards each character is one byte of the printer's code page.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

# Printer code page name (config ``printers.codepage``) -> Python codec.
CODECS: dict[str, str] = {
    "CP858": "cp858",
    "CP1252": "cp1252",
    "CP850": "cp850",
    "CP437": "cp437",
    "ISO_8859-15": "iso8859_15",
}
_ALIASES = {"PC858": "CP858", "WPC1252": "CP1252", "PC850": "CP850", "PC437": "CP437"}

# Replacements for characters a code page may lack; used only when the page lacks them.
_FALLBACK: dict[str, str] = {
    "„": '"',
    "“": '"',
    "”": '"',
    "‟": '"',
    "«": '"',
    "»": '"',
    "‚": "'",
    "‘": "'",
    "’": "'",
    "‛": "'",
    "‹": "'",
    "›": "'",
    "´": "'",
    "`": "'",
    "–": "-",
    "—": "-",
    "‒": "-",
    "―": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "•": "*",
    "·": ".",
    "→": "->",
    "←": "<-",
    "€": "EUR",
    "ß": "ss",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "ı": "i",
    "Œ": "OE",
    "œ": "oe",
    "Æ": "AE",
    "æ": "ae",
    "Ø": "O",
    "ø": "o",
    "×": "x",
    "½": "1/2",
    "¼": "1/4",
    "¾": "3/4",
    "⁄": "/",  # FRACTION SLASH: what NFKD makes of ⅛ is "1⁄8"; dropping it printed "18"
    "∕": "/",
    "‰": "o/oo",
    "‱": "o/ooo",
}
# Unicode space separators all print as one plain space.
_SPACE_CATEGORIES = frozenset({"Zs"})


def codec_for(codepage: str) -> str | None:
    """The Python codec of a printer code page name, or None if we do not support it."""
    name = codepage.strip().upper().replace("-", "_") if codepage else ""
    name = {"ISO_8859_15": "ISO_8859-15"}.get(name, name)
    return CODECS.get(_ALIASES.get(name, name))


def canonical_codepage(codepage: str) -> str | None:
    """The python-escpos name (``charcode`` argument) of a code page, or None if unsupported."""
    codec = codec_for(codepage)
    return next((k for k, v in CODECS.items() if v == codec), None)


def transliterate(s: str, codepage: str = "CP858") -> str:
    """Make ``s`` printable on ``codepage``: one character per column, nothing the page lacks.

    Characters the page has stay (umlauts, ß, € on CP858). Typographic quotes and dashes,
    ellipsis and the like become ASCII; accented letters the page lacks lose their accent
    (Ş → S, č → c); every character of a decomposition goes through the same table (⅛ →
    1/8); spaces of any kind become one space; emoji, control characters (ESC could inject
    printer commands) and anything else unprintable are dropped. Newlines are kept for the
    caller to split. Never raises.

    Quantities are never changed: a character that is not a number never turns into a digit
    (㋀ loses its "1"), and digits from different characters never run together ("2⅛" is
    "2 1/8", a dropped emoji between two digits leaves a space).
    """
    codec = codec_for(codepage) or "ascii"
    encoder = codecs.getincrementalencoder(codec)()

    def printable(ch: str) -> bool:
        try:
            encoder.encode(ch)
        except UnicodeEncodeError:
            return False
        return True

    out: list[str] = []
    plain_digit = gap = False
    for ch in unicodedata.normalize("NFC", str(s)):
        piece = _piece(ch, printable)
        if not piece:
            gap = gap or ch != "\n"
            continue
        digit = piece == ch and ch.isdigit()
        touching = out and out[-1][-1:].isdigit() and piece[0].isdigit()
        if touching and (gap or not (plain_digit and digit)):
            out.append(" ")
        out.append(piece)
        plain_digit, gap = digit, False
    return "".join(out)


def _piece(ch: str, printable: Callable[[str], bool]) -> str:
    """What one character prints as (may be empty)."""
    if ch == "\n":
        return ch
    category = unicodedata.category(ch)
    if ch == "\t" or category in _SPACE_CATEGORIES:
        return " "
    if category[0] == "C":
        return ""  # control, format (zero-width joiners), surrogates, unassigned
    if printable(ch):
        return ch
    parts = _FALLBACK.get(ch) or unicodedata.normalize("NFKD", ch)
    text = "".join(
        _FALLBACK.get(c, c)
        for c in parts
        if not unicodedata.combining(c) and unicodedata.category(c)[0] != "C"
    )
    text = "".join(c for c in text if printable(c) and unicodedata.category(c)[0] != "C")
    if category[0] != "N":  # only numbers may print digits
        text = "".join(c for c in text if not c.isdigit())
    return text.replace("\n", "")


def wrap(text: str, width: int, *, indent: int = 0) -> list[str]:
    """Greedy word wrap to ``width`` columns; lines after the first start with ``indent`` spaces.

    Newlines in ``text`` start new lines; runs of spaces collapse; a word longer than a line
    is broken hard. Every returned line is at most ``width`` long (``width`` >= 1). Empty or
    blank text gives no lines.
    """
    width = max(1, width)
    if not 0 <= indent < width:
        indent = 0
    raw: list[str] = []

    def room() -> int:
        return width - indent if raw else width

    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            if current and len(current) + 1 + len(word) <= room():
                current = f"{current} {word}"
                continue
            if current:
                raw.append(current)
            while len(word) > room():
                cut = room()
                raw.append(word[:cut])
                word = word[cut:]
            current = word
        if current:
            raw.append(current)
    return [line if i == 0 else " " * indent + line for i, line in enumerate(raw)]


def item_lines(qty: int, name: str, width: int) -> list[str]:
    """``"2x Currywurst mit Pommes"`` wrapped so the quantity always stays with its item.

    Continuation lines are indented under the name, not under the quantity. ``width`` must
    exceed the quantity prefix (``"2x "``); thermal tickets have 24 columns at least.
    """
    prefix = f"{qty}x "
    body = wrap(name, width - len(prefix))
    if not body:
        return [prefix.rstrip()]
    pad = " " * len(prefix)
    return [prefix + body[0], *(pad + line for line in body[1:])]


def two_columns(left: str, right: str, width: int) -> list[str]:
    """``left`` wrapped on the left, ``right`` flush right on the first line (prices)."""
    right = right.strip()
    if not right:
        return wrap(left, width) or [""]
    room = width - len(right) - 1
    if room < 1:
        return [*wrap(left, width), right[-width:].rjust(width)]
    lines = wrap(left, room) or [""]
    lines[0] = lines[0].ljust(room) + " " + right
    return lines


def center(text: str, width: int) -> str:
    """``text`` centred in ``width`` columns (left-padded only; trailing spaces are useless)."""
    return " " * max(0, (width - len(text)) // 2) + text


_CENT = Decimal("0.01")
_SYMBOLS = {"EUR": "€"}


def format_money(amount: Decimal, currency: str, language: str = "de") -> str:
    """Money as a guest reads it: German ``"1.234,50 €"``, English ``"€1,234.50"``.

    Other currencies than EUR carry their ISO code after the amount (``"12,00 CHF"``,
    ``"12.00 CHF"``). Rounds half-up to cents for display only; Wix's amounts are never
    recomputed.
    """
    value = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"  # "1,234.50"
    code = (currency or "EUR").strip().upper()
    symbol = _SYMBOLS.get(code)
    if language == "de":
        digits = digits.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return f"{sign}{digits} {symbol or code}"
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}"
