"""Draw laid-out tickets (:mod:`wixprint.printing.paper`) as a PNG, one dot a pixel.

Each character is drawn into its own cell, so columns line up as on paper whatever the font;
bold is struck twice a dot apart as thermal heads do, double width and height stretch the
cell, inverted text is white on a black band, a QR code is drawn module by module.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from wixprint.printing.paper import CELL, Paper, PlacedQr, PlacedText

__all__ = ["MARGIN", "draw_papers", "paper_tops", "png_bytes"]

MARGIN = 16
"""White border around each ticket, pixels."""
_GAP = 24
"""Between tickets: a dashed line where the cutter cut."""


_FONT_FILES = ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf")
"""Monospace fonts with äöüß and € (Debian's fonts-dejavu-core); else Pillow's own font."""


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@functools.cache
def _glyph(char: str, bold: bool, font_name: str, cell: tuple[int, int]) -> Image.Image:
    """One character as a white-on-black mask, its font's cell stretched to ``cell``."""
    base_w, base_h = CELL.get(font_name, CELL["A"])
    mask = Image.new("L", (base_w, base_h), 0)
    draw = ImageDraw.Draw(mask)
    font = _font(base_h - 4)
    for dx in (0, 1) if bold else (0,):
        draw.text((base_w // 2 + dx, base_h - 4), char, fill=255, font=font, anchor="ms")
    return mask.resize(cell, Image.Resampling.NEAREST) if cell != (base_w, base_h) else mask


def _draw_text(image: Image.Image, piece: PlacedText, top: int) -> None:
    cell_w, cell_h = piece.cell
    x0, y0 = MARGIN + piece.x, top + piece.y
    draw = ImageDraw.Draw(image)
    if piece.style.invert:
        draw.rectangle((x0, y0, x0 + cell_w * len(piece.text) - 1, y0 + cell_h - 1), fill=0)
    ink = 255 if piece.style.invert else 0
    for i, char in enumerate(piece.text):
        if char.isspace():
            continue
        image.paste(
            ink,
            (x0 + i * cell_w, y0),
            _glyph(char, piece.style.bold, piece.style.font, (cell_w, cell_h)),
        )
    if piece.style.underline:
        y = y0 + cell_h - 2
        draw.line((x0, y, x0 + cell_w * len(piece.text) - 1, y), fill=ink, width=2)


def _draw_qr(image: Image.Image, code: PlacedQr, top: int) -> None:
    draw = ImageDraw.Draw(image)
    m = code.module
    for row, modules in enumerate(code.matrix):
        for col, dark in enumerate(modules):
            if dark:
                x, y = MARGIN + code.x + col * m, top + code.y + row * m
                draw.rectangle((x, y, x + m - 1, y + m - 1), fill=0)


def paper_tops(papers: Sequence[Paper]) -> list[int]:
    """The pixel row where each ticket starts (dot 0 of its layout)."""
    tops, top = [], MARGIN
    for paper in papers:
        tops.append(top)
        top += paper.height + 2 * MARGIN + _GAP
    return tops


def draw_papers(papers: Sequence[Paper]) -> Image.Image:
    """All tickets one below the other, white paper, black print (8-bit grey)."""
    width = max((p.width for p in papers), default=576) + 2 * MARGIN
    height = sum(p.height + 2 * MARGIN for p in papers) + _GAP * max(0, len(papers) - 1)
    image = Image.new("L", (width, max(height, 2 * MARGIN)), 255)
    draw = ImageDraw.Draw(image)
    for paper, top in zip(papers, paper_tops(papers), strict=True):
        for piece in paper.texts:
            _draw_text(image, piece, top)
        for code in paper.codes:
            _draw_qr(image, code, top)
        if paper is not papers[-1]:
            y = top + paper.height + MARGIN + _GAP // 2
            for x in range(0, width, 12):
                draw.line((x, y, x + 5, y), fill=128)
    return image


def png_bytes(papers: Sequence[Paper]) -> bytes:
    out = io.BytesIO()
    draw_papers(papers).save(out, format="PNG")
    return out.getvalue()
