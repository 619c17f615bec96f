"""Alert texts about the Raspberry Pi itself (its SD card, its clock), beside the printer and
order texts of ``messages.py``: (title, what is wrong, what to do) per category."""

from __future__ import annotations

from typing import Literal

HostCategory = Literal["storage", "clock"]

HOST_TEXTS: dict[Literal["de", "en"], dict[HostCategory, tuple[str, str, str]]] = {
    "de": {
        "storage": (
            "Speicherkarte voll oder schreibgeschützt",
            "Der Dienst kann nichts mehr speichern{detail_paren}. Neue Bestellungen werden "
            "NICHT abgeholt, bis wieder Platz ist; schon empfangene Tickets werden weiter "
            "gedruckt, soweit möglich.",
            "Platz schaffen: alte Dateien und Logs löschen (z. B. sudo journalctl "
            "--vacuum-size=50M). Der Dienst macht danach von selbst weiter. Ist die Karte "
            "schreibgeschützt oder defekt: Raspberry Pi neu starten, Karte ersetzen. Bis "
            "dahin neue Bestellungen im Wix-Dashboard ansehen.",
        ),
        "clock": (
            "Uhr des Raspberry Pi falsch",
            "Die Uhr des Raspberry Pi weicht von der Zeit bei Wix ab{detail_paren}.",
            "Internet und Zeitabgleich prüfen: timedatectl status. Bestellungen werden "
            "weiter gedruckt; Zeiten in Mails und auf dem Status können falsch sein.",
        ),
    },
    "en": {
        "storage": (
            "SD card full or read-only",
            "The service cannot save anything{detail_paren}. New orders are NOT fetched "
            "until there is room again; tickets already received still print where possible.",
            "Free some space: delete old files and logs (e.g. sudo journalctl "
            "--vacuum-size=50M); the service carries on by itself. If the card is read-only "
            "or failing: reboot the Raspberry Pi and replace the card. Meanwhile watch new "
            "orders in the Wix dashboard.",
        ),
        "clock": (
            "Raspberry Pi clock is wrong",
            "The Raspberry Pi's clock differs from Wix's time{detail_paren}.",
            "Check the internet and time sync: timedatectl status. Orders still print; "
            "times in mails and on the status page may be wrong.",
        ),
    },
}
