"""Printer profiles: paper width, print speed, cut and buzzer of the models we support.

``[[printers]] model`` names one; ``"auto"`` takes the model the printer names itself
(``GS I``) when we know it, else the generic 80 mm profile. Widths are Font A (12 dots a
character): escpos.md §13. Speeds are round data-sheet figures [inf]; the proof wait doubles
the estimate, because a weak power supply and double-height lines print slower.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EPSON_BUZZER",
    "GENERIC_80",
    "PROFILES",
    "PrinterProfile",
    "TicketLength",
    "profile_for_name",
    "resolve_profile",
]

LINE_MM = 4.23
"""One Font A line with the default 1/6 inch spacing."""
TALL_LINE_MM = 8.47
QR_MM = 30.0
CUT_MM = 15.0
"""Feed to the cutter (head-to-cutter distance on an 80 mm Epson)."""


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    name: str
    columns: int
    """Font A characters per line."""
    dots: int
    dpi: int
    speed: float
    """Print speed, mm/s (data sheet, rounded down)."""
    feed_cut: bool
    """Cuts with ``GS V 66 0`` (feed to the cutter and cut), else ``ESC d 6`` + ``GS V 0``."""
    epson: bool
    """An Epson TM that answers ``GS ( H`` and ``GS I`` (escpos.md §12)."""
    buzzer: bytes = b""
    """The command that sounds its buzzer (alert slips); empty: none we know of."""

    def print_seconds(self, length: TicketLength) -> float:
        """Seconds the printer needs to put ``length`` on paper (data-sheet speed)."""
        return length.mm / self.speed


@dataclass(frozen=True, slots=True)
class TicketLength:
    """How much paper a rendered ticket takes (all copies)."""

    lines: int = 0
    tall_lines: int = 0
    codes: int = 0
    cuts: int = 0

    @property
    def mm(self) -> float:
        return (
            self.lines * LINE_MM
            + self.tall_lines * TALL_LINE_MM
            + self.codes * QR_MM
            + self.cuts * CUT_MM
        )


EPSON_BUZZER = bytes((0x1B, 0x28, 0x41, 4, 0, 48, 1, 3, 10))
"""``ESC ( A`` fn 48 ``n c t``: sound pattern 1, three beeps of a 1 s cycle (escpos.md §11
item 6). Epson lists it for every TM here; a printer without a buzzer fitted does nothing.
Not python-escpos' ``buzzer()`` (``ESC B``, which is no Epson command). Generic printers
get none: an unknown command may print as garbage."""
GENERIC_80 = PrinterProfile("generic-80mm", 48, 576, 203, 150.0, False, False)
PROFILES: dict[str, PrinterProfile] = {
    p.name: p
    for p in (
        PrinterProfile("TM-m30III", 48, 576, 203, 250.0, True, True, EPSON_BUZZER),
        PrinterProfile("TM-T20III", 48, 576, 203, 250.0, True, True, EPSON_BUZZER),
        PrinterProfile("TM-T88V", 42, 512, 180, 300.0, True, True, EPSON_BUZZER),
        PrinterProfile("TM-T88VI", 42, 512, 180, 350.0, True, True, EPSON_BUZZER),
        PrinterProfile("TM-T88VII", 42, 512, 180, 500.0, True, True, EPSON_BUZZER),
        GENERIC_80,
        PrinterProfile("generic-58mm", 32, 384, 203, 100.0, False, False),
    )
}
"""Every model ``[[printers]] model`` accepts besides ``"auto"`` (config checks the list)."""


def profile_for_name(reported: str | None) -> PrinterProfile | None:
    """The profile of the model a printer named itself (``GS I 67``), if we know it."""
    if not reported:
        return None
    wanted = "".join(reported.split()).upper()
    for name in sorted(PROFILES, key=len, reverse=True):  # TM-T88VII before TM-T88V
        profile = PROFILES[name]
        if profile.epson and wanted.startswith(name.upper()):
            return profile
    return None


def resolve_profile(model: str, reported: str | None = None) -> PrinterProfile:
    """The configured model's profile; for ``"auto"`` the reported model's, else generic."""
    if model != "auto":
        return PROFILES.get(model, GENERIC_80)
    return profile_for_name(reported) or GENERIC_80
