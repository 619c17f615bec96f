"""Preview pictures of every fixture ticket, checked by what they show, not pixel by pixel.

The golden file of each ticket is its paper layout as text (each piece of text with its
style and position, each QR code with its payload), reviewed like the text goldens.
Regenerate after a deliberate change with ``WIXPRINT_UPDATE_GOLDEN=1``. The PNG is then
read back: every character cell of the layout has ink (white ink on an inverted band),
every QR module sampled from the picture matches the code of the golden payload, and the
paper outside them is blank. Fonts may change between Pillow versions; this stays.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from tests.unit.receipts.conftest import GOLDEN, KINDS, ORDERS, check_golden, render
from wixprint.printing.paper import Paper, describe, lay_out
from wixprint.printing.png import MARGIN, paper_tops, png_bytes
from wixprint.wix.model import Order

INK = 128


def _extrema(image: Image.Image) -> tuple[int, int]:
    """Darkest and lightest grey of a one-band picture."""
    return cast(tuple[int, int], image.getextrema())


def _read_back(png: bytes, papers: list[Paper]) -> None:
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width == max(p.width for p in papers) + 2 * MARGIN
    blank = Image.new("1", image.size, 1)  # 0 where the layout puts something
    for paper, top in zip(papers, paper_tops(papers), strict=True):
        for piece in paper.texts:
            w, h = piece.cell
            x0, y0 = MARGIN + piece.x, top + piece.y
            blank.paste(0, (x0, y0, x0 + w * len(piece.text), y0 + h))
            for i, char in enumerate(piece.text):
                cell = image.crop((x0 + i * w, y0, x0 + (i + 1) * w, y0 + h))
                lo, hi = _extrema(cell)
                if piece.style.invert:
                    assert lo < INK, f"inverted band missing at {piece.text!r}"
                    assert char.isspace() or hi > INK, f"no white ink for {char!r}"
                else:
                    assert char.isspace() or lo < INK, f"no ink for {char!r} in {piece.text!r}"
        for code in paper.codes:
            m = code.module
            x0, y0 = MARGIN + code.x, top + code.y
            sampled = tuple(
                tuple(
                    image.getpixel((x0 + c * m + m // 2, y0 + r * m + m // 2)) < INK  # type: ignore[operator]
                    for c in range(len(code.matrix))
                )
                for r in range(len(code.matrix))
            )
            assert sampled == code.matrix, f"QR {code.data!r} does not read back"
            size = len(code.matrix) * m
            blank.paste(0, (x0, y0, x0 + size, y0 + size))
        # the cut line between tickets is drawn in grey: not ink
    outside = Image.composite(image, Image.new("L", image.size, 255), blank)
    assert _extrema(outside)[0] >= INK, "ink where the layout puts nothing"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ORDERS)
def test_preview_picture_matches_golden(orders: dict[str, Order], name: str, kind: str) -> None:
    papers = lay_out(render(orders[name], kind).data)
    check_golden(GOLDEN / "preview" / f"{name}-{kind}.txt", "".join(describe(p) for p in papers))
    _read_back(png_bytes(papers), papers)


def test_the_read_back_catches_a_missing_qr_code(orders: dict[str, Order]) -> None:
    papers = lay_out(render(orders["order-01-delivery"], "driver").data)
    assert papers[0].codes
    without = [Paper(p.width, p.height, p.texts, [], p.cut) for p in papers]
    with pytest.raises(AssertionError, match="does not read back"):
        _read_back(png_bytes(without), papers)


def test_styles_reach_the_layout(orders: dict[str, Order]) -> None:
    papers = lay_out(render(orders["order-01-delivery"], "kitchen").data)
    styles = {(t.style.bold, t.style.width, t.style.height) for t in papers[0].texts}
    assert (True, 2, 2) in styles  # order number: double width and height
    assert (False, 1, 1) in styles


def _run(tmp_path: Path, what: str, **kwargs: str) -> tuple[int, str, str]:
    from wixprint.commands.preview import run_preview

    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nstate_dir = "{tmp_path}"\n[layout]\nlanguage = "en"\n')
    out, err = io.StringIO(), io.StringIO()
    code = run_preview(what, config_arg=str(config), environ={}, out=out, err=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def test_preview_command_shows_every_ticket_and_draws_them(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "wix" / "order-02-pickup.json"
    png = tmp_path / "pickup.png"
    code, out, _ = _run(tmp_path, str(fixture), png=str(png))
    assert code == 0
    assert "=== kitchen @ preview (48 columns) ===" in out
    assert "=== customer @ preview (48 columns) ===" in out
    assert "PICKUP" in out  # the configured language
    assert f"picture: {png}" in out
    with Image.open(png) as image:
        assert image.width == 576 + 2 * MARGIN


def test_preview_says_what_it_cannot_find(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, "10231")
    assert code == 1
    assert "no spool" in err
    (tmp_path / "spool.sqlite3").write_bytes(b"not a database, and longer than a header" * 4)
    code, _, err = _run(tmp_path, "10231")
    assert code == 1
    assert "cannot read the spool" in err
    code, _, err = _run(tmp_path, str(tmp_path / "missing.json"))
    assert code == 1
    assert "cannot read" in err
