"""Transliteration, wrapping and money formatting for fixed-width paper."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wixprint.receipts.text import (
    canonical_codepage,
    format_money,
    item_lines,
    transliterate,
    two_columns,
    wrap,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Klingel „Weiß/Groß“", 'Klingel "Weiß/Groß"'),
        ("‚x‘ ’y’", "'x' 'y'"),
        ("schläft – nicht — so", "schläft - nicht - so"),
        ("Moment…", "Moment..."),
        ("50\u00a0€", "50 €"),
        ("sehr scharf 🌶🌶🌶", "sehr scharf "),
        ("Şebnem Gülşen ğ Ćevapčići", "Sebnem Gülsen g Cevapcici"),
        ("Łódź œuvre", "Lódz oeuvre"),
        ("a\x1b@b\x07c\u200dd\ufe0f", "a@bcd"),  # ESC and other controls never reach the printer
        ("tab\there", "tab here"),
        ("zwei\nZeilen", "zwei\nZeilen"),
        ("u\u0308ber", "über"),  # decomposed umlaut is composed, not dropped
    ],
)
def test_transliterate_cp858(raw: str, expected: str) -> None:
    assert transliterate(raw) == expected
    transliterate(raw).encode("cp858")  # every character is on the page


def test_transliterate_keeps_what_the_page_has() -> None:
    text = "Größe Ärger Übel öäü ß 5,00 € é ½"
    assert transliterate(text, "CP858") == text
    assert transliterate("„x“ – €", "CP1252") == "„x“ – €"  # CP1252 has them
    assert transliterate("Grüße 5 €", "CP437") == "Grüße 5 EUR"  # CP437 lacks €


@given(st.text())
def test_transliterate_never_raises_and_always_encodes(text: str) -> None:
    for page, codec in (("CP858", "cp858"), ("CP1252", "cp1252")):
        out = transliterate(text, page)
        out.encode(codec)
        assert all(ch == "\n" or ch >= " " for ch in out)


def test_unknown_codepage_transliterates_to_ascii() -> None:
    assert transliterate("Grüße", "KLINGON") == "Gruße".replace("ß", "ss")
    assert canonical_codepage("KLINGON") is None
    assert canonical_codepage("cp858") == "CP858"
    assert canonical_codepage("WPC1252") == "CP1252"


def test_wrap_breaks_at_words_and_indents_continuations() -> None:
    assert wrap("Bitte klingeln, das Baby schläft", 16, indent=2) == [
        "Bitte klingeln,",
        "  das Baby",
        "  schläft",
    ]
    assert wrap("Donaudampfschifffahrt", 8) == ["Donaudam", "pfschiff", "fahrt"]
    assert wrap("eins\n\nzwei", 10) == ["eins", "zwei"]
    assert wrap("   ", 10) == []


words = st.lists(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=25),
    max_size=12,
)


@given(words, st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=10))
def test_wrap_fits_and_keeps_every_character(ws: list[str], width: int, indent: int) -> None:
    text = " ".join(ws)
    lines = wrap(text, width, indent=indent)
    assert all(len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(ws)
    if 0 <= indent < width:
        assert all(line.startswith(" " * indent) for line in lines[1:])


@given(words, st.integers(min_value=8, max_value=60), st.integers(min_value=1, max_value=999))
def test_quantity_is_never_split_from_its_item(ws: list[str], width: int, qty: int) -> None:
    name = " ".join(ws)
    lines = item_lines(qty, name, width)
    prefix = f"{qty}x "
    assert all(len(line) <= width for line in lines)
    if ws:
        assert lines[0].startswith(prefix)
        assert lines[0][len(prefix)] != " "  # the item starts on the quantity's line
        assert all(line.startswith(" " * len(prefix)) for line in lines[1:])
        assert "".join("".join(lines)[len(prefix) :].split()) == "".join(ws)
    else:
        assert lines == [prefix.rstrip()]


def test_item_lines_hang_under_the_name() -> None:
    assert item_lines(2, "Königsberger Klopse mit Salzkartoffeln", 24) == [
        "2x Königsberger Klopse",
        "   mit Salzkartoffeln",
    ]


def test_two_columns() -> None:
    assert two_columns("Summe", "46,20 €", 20) == ["Summe        46,20 €"]
    assert two_columns("Gutschein SOMMER10 (Sommeraktion)", "-4,00 €", 24) == [
        "Gutschein        -4,00 €",
        "SOMMER10",
        "(Sommeraktion)",
    ]
    assert two_columns("x", "", 10) == ["x"]


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("46.2", "EUR", "de", "46,20 €"),
        ("0.0", "EUR", "de", "0,00 €"),
        ("2.5", "EUR", "de", "2,50 €"),
        ("1234.5", "EUR", "de", "1.234,50 €"),
        ("-4", "EUR", "de", "-4,00 €"),
        ("12", "CHF", "de", "12,00 CHF"),
        ("46.2", "EUR", "en", "€46.20"),
        ("1234.5", "EUR", "en", "€1,234.50"),
        ("-4", "EUR", "en", "-€4.00"),
        ("12", "USD", "en", "12.00 USD"),
    ],
)
def test_format_money(amount: str, currency: str, language: str, expected: str) -> None:
    assert format_money(Decimal(amount), currency, language) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("⅛ Rotwein", "1/8 Rotwein"),  # was "18 Rotwein": the fraction slash was dropped
        ("2⅛ l", "2 1/8 l"),  # never "21/8"
        ("⅓ Pizza", "1/3 Pizza"),
        ("0,5‰", "0,5o/oo"),  # was "0,5"
        ("7😀7", "7 7"),  # a dropped emoji does not join two numbers
        ("㋀", ""),  # a symbol never prints a digit
        ("½ Hähnchen", "½ Hähnchen"),  # CP858 has ½
        ("℅ Anna", "c/o Anna"),
    ],
)
def test_transliterate_never_changes_a_quantity(raw: str, expected: str) -> None:
    assert transliterate(raw) == expected


_LETTERS_AND_SYMBOLS = st.characters(
    categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Sm", "Sc", "Sk", "So"]
)
_DIGITS = re.compile("[0-9]+")


@given(_LETTERS_AND_SYMBOLS, st.sampled_from(["CP858", "CP1252", "CP437", "ISO_8859-15"]))
def test_no_letter_or_symbol_becomes_a_digit_or_joins_two_numbers(ch: str, page: str) -> None:
    assert _DIGITS.findall(transliterate(f"7{ch}7", page)) == ["7", "7"]
    assert _DIGITS.findall(transliterate(ch, page)) == []


@given(st.lists(st.one_of(_LETTERS_AND_SYMBOLS, st.sampled_from("0123456789 ")), max_size=30))
def test_the_numbers_of_a_text_are_the_numbers_of_its_ticket(chars: list[str]) -> None:
    text = "".join(chars)
    assert _DIGITS.findall(transliterate(text)) == _DIGITS.findall(text)


@given(st.characters(categories=["No", "Nl"]))
def test_a_number_sign_stays_apart_from_the_numbers_around_it(ch: str) -> None:
    found = _DIGITS.findall(transliterate(f"7{ch}7"))
    assert found[0] == "7"
    assert found[-1] == "7"
