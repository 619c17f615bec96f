"""Text fitting for fixed-width thermal paper: code-page-safe text, wrapping, columns, money.

Everything here counts characters, one per printer column, so all text must first go
through ``transliterate``: afterwards each character is one byte of the printer's code page.
"""

from __future__ import annotations

import codecs
import unicodedata
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
    (Ş → S, č → c); spaces of any kind become one space; emoji, control characters (ESC
    could inject printer commands) and anything else unprintable are dropped. Newlines are
    kept for the caller to split. Never raises.
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
    for ch in unicodedata.normalize("NFC", str(s)):
        if ch == "\n":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if ch == "\t" or category in _SPACE_CATEGORIES:
            out.append(" ")
        elif category[0] == "C":
            continue  # control, format (zero-width joiners), surrogates, unassigned
        elif printable(ch):
            out.append(ch)
        elif ch in _FALLBACK:
            out.append("".join(c for c in _FALLBACK[ch] if printable(c)))
        else:
            base = unicodedata.normalize("NFKD", ch)
            out.append(
                "".join(
                    c
                    for c in base
                    if not unicodedata.combining(c) and unicodedata.category(c)[0] != "C"
                    if printable(c)
                )
            )
    return "".join(out)


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
