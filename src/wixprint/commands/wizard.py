"""The plain prompts of ``wixprint setup``, in German or English.

One question a line, the default in brackets (Enter takes it), no cursor tricks or colours,
so it works over SSH, in ``tmux`` and on a serial console. Secrets are read without echo
when the input is a terminal. Ctrl-C (``KeyboardInterrupt``) and Ctrl-D (``EOFError``) go
up to the caller, which has written nothing yet.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

__all__ = ["TEXTS", "Prompter"]


TEXTS: dict[str, tuple[str, str]] = {
    "welcome": (
        "Einrichtung von wixprint. Enter übernimmt den Vorschlag in [Klammern], Strg-C bricht ab"
        " (dann wird nichts geschrieben).",
        "wixprint setup. Enter takes the suggestion in [brackets], Ctrl-C stops"
        " (nothing is written then).",
    ),
    "editing": ("Bestehende Einstellungen aus {path} werden bearbeitet.", "Editing {path}."),
    "language_prompt": ("Sprache / Language (de, en)", "Sprache / Language (de, en)"),
    "restaurant": ("Name des Restaurants", "Restaurant name"),
    "timezone": ("Zeitzone", "Time zone"),
    "bad_timezone": (
        "Unbekannte Zeitzone, z. B. Europe/Berlin.",
        "Unknown zone, e.g. Europe/Berlin.",
    ),
    "wix_head": ("--- Wix ---", "--- Wix ---"),
    "site_id": (
        "Wix Site-ID (die GUID nach /dashboard/ in der Adresse des Wix-Dashboards)",
        "Wix site ID (the GUID after /dashboard/ in the Wix dashboard's address)",
    ),
    "api_key": (
        'Wix API-Schlüssel (Wix: Einstellungen > API-Schlüssel, Recht "Read Orders")',
        'Wix API key (Wix: Settings > API Keys, permission "Read Orders")',
    ),
    "checking": ("Prüfe bei Wix ...", "Asking Wix ..."),
    "wix_ok": (
        "Wix antwortet. Neueste Bestellung: #{number}",
        "Wix answers. Newest order: #{number}",
    ),
    "wix_ok_empty": ("Wix antwortet. Noch keine Bestellungen.", "Wix answers. No orders yet."),
    "wix_refused": ("Wix lehnt ab ({status}). Wahrscheinlich:", "Wix refuses ({status}). Likely:"),
    "cause_permission": (
        'dem Schlüssel fehlt das Recht "Read Orders" (Wix: API-Schlüssel bearbeiten)',
        'the key lacks the permission "Read Orders" (Wix: edit the API key)',
    ),
    "cause_site_id": (
        "falsche Site-ID: die GUID nach /dashboard/ in der Dashboard-Adresse",
        "wrong site ID: the GUID after /dashboard/ in the dashboard's address",
    ),
    "cause_account": (
        "der Schlüssel stammt von einem Konto, dem die Website nicht gehört (Inhaber-Konto nutzen)",
        "the key was made by an account that does not own the site (use the owner's account)",
    ),
    "cause_key": (
        "der Schlüssel ist vertippt, unvollständig oder widerrufen",
        "the key is mistyped, incomplete or revoked",
    ),
    "wix_unreachable": ("Wix nicht erreichbar: {reason}", "Cannot reach Wix: {reason}"),
    "again": ("Nochmal eingeben?", "Enter again?"),
    "printers_head": ("--- Drucker ---", "--- Printers ---"),
    "scan_ranges": ("Welche Netze durchsuchen", "Networks to scan"),
    "scanning": ("Suche Drucker ...", "Looking for printers ..."),
    "found_none": ("Keine Drucker gefunden.", "No printers found."),
    "keep_printer": ("Drucker {name} ({where}) behalten?", "Keep printer {name} ({where})?"),
    "name_for": (
        "Name für {where} ({model}); - überspringt",
        "Name for {where} ({model}); - skips",
    ),
    "receipts": (
        "Was druckt {name}? kitchen (Küche), driver (Fahrer), customer (Kunde)",
        "What does {name} print? kitchen, driver, customer",
    ),
    "bad_receipts": (
        "Bitte aus kitchen, driver, customer wählen.",
        "Choose from kitchen, driver, customer.",
    ),
    "sections": (
        "Nur diese Menü-Bereiche (IDs, mit Komma; leer: alles Übrige)",
        "Only these menu sections (ids, comma-separated; empty: all the rest)",
    ),
    "add_address": (
        "Weiteren Drucker per Adresse hinzufügen (IP[:Port] oder /dev/usb/lp0; leer: fertig)",
        "Add a printer by address (IP[:port] or /dev/usb/lp0; empty: done)",
    ),
    "no_printers": (
        "Kein Drucker eingerichtet: ohne Drucker wird nichts gedruckt.",
        "No printer set up: nothing will print without one.",
    ),
    "test_print": ("Testseite auf {name} drucken?", "Print a test page on {name}?"),
    "ruler_ok": (
        "Passte das Lineal (----+----1…) auf eine Zeile, bis zur Marke „{columns}“?",
        'Did the ruler (----+----1…) fit on one line, up to its mark "{columns}"?',
    ),
    "columns": ("Wie viele Zeichen passen auf eine Zeile", "How many characters fit on a line"),
    "smtp_head": ("--- E-Mail-Alarme ---", "--- E-mail alerts ---"),
    "provider": ("E-Mail-Anbieter ({names})", "Mail provider ({names})"),
    "smtp_host": ("SMTP-Server", "SMTP server"),
    "smtp_port": ("Port", "Port"),
    "smtp_security": ("Verschlüsselung (starttls, ssl, none)", "Security (starttls, ssl, none)"),
    "smtp_user": ("Benutzername (leer: ohne Anmeldung)", "User name (empty: no login)"),
    "smtp_password": ("Passwort", "Password"),
    "smtp_sender": ("Absender-Adresse", "Sender address"),
    "smtp_recipients": ("Empfänger (mit Komma)", "Recipients (comma-separated)"),
    "test_mail": ("Test-Mail jetzt senden?", "Send a test mail now?"),
    "mail_ok": ("Test-Mail an {to} gesendet.", "Test mail sent to {to}."),
    "mail_failed": ("Fehlgeschlagen bei {stage}: {message}", "Failed at {stage}: {message}"),
    "change_smtp": ("Einstellungen ändern?", "Change the settings?"),
    "written": ("Geschrieben: {path}", "Written: {path}"),
    "credential_written": ("Geheimnis gespeichert: {path}", "Secret stored: {path}"),
    "put_secret": (
        "Als root dorthin legen: sudo sh -c 'umask 077; cat > {path}'  (oder Umgebung {env})",
        "Put it there as root: sudo sh -c 'umask 077; cat > {path}'  (or environment {env})",
    ),
    "not_root": (
        "Nicht als root gestartet: die Geheimnisse stehen nicht in der Datei.",
        "Not run as root: the secrets are not in the file.",
    ),
    "check": (
        "Prüfe die Konfiguration (wixprint config check):",
        "Checking (wixprint config check):",
    ),
    "next_root": (
        "Fertig. Jetzt: sudo systemctl restart wix-printer-service && wixprint status",
        "Done. Next: sudo systemctl restart wix-printer-service && wixprint status",
    ),
    "next_user": (
        "Fertig. Jetzt: wixprint run --config {path}",
        "Done. Next: wixprint run --config {path}",
    ),
    "check_failed": (
        "Die Konfiguration hat Fehler (siehe oben).",
        "The config has problems (see above).",
    ),
    "unreadable": (
        "{path} ist keine lesbare TOML-Datei: bitte reparieren oder beiseitelegen.",
        "{path} is not a readable TOML file: fix it or move it away first.",
    ),
    "aborted": ("Abgebrochen. Nichts geschrieben.", "Stopped. Nothing was written."),
    "yes_no": ("J/n", "Y/n"),
    "no_yes": ("j/N", "y/N"),
}


class Prompter:
    """Asks on ``out``, reads from ``inp``; ``lang`` is ``"de"`` or ``"en"``."""

    def __init__(self, inp: TextIO = sys.stdin, out: TextIO = sys.stdout, lang: str = "de") -> None:
        self.inp, self.out, self.lang = inp, out, lang

    def t(self, key: str, **values: object) -> str:
        de, en = TEXTS[key]
        return (en if self.lang == "en" else de).format(**values)

    def say(self, key: str, **values: object) -> None:
        print(self.t(key, **values), file=self.out, flush=True)

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _read(self, prompt: str, *, secret: bool) -> str:
        self.out.write(prompt)
        self.out.flush()
        if secret and self.inp.isatty():
            return getpass.getpass("", stream=self.out)
        text = self.inp.readline()
        if not text:
            raise EOFError
        return text.rstrip("\n")

    def ask(
        self,
        key: str,
        default: str = "",
        *,
        secret: bool = False,
        check: Callable[[str], str | None] | None = None,
        **values: object,
    ) -> str:
        """The answer (stripped), or ``default`` on Enter; ``check`` returns a complaint."""
        return self._ask(self.t(key, **values), default, secret=secret, check=check)

    def _ask(
        self,
        question: str,
        default: str,
        *,
        secret: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> str:
        shown = ("****" if default else "") if secret else default
        while True:
            bracket = f" [{shown}]" if shown else ""
            answer = self._read(f"{question}{bracket}: ", secret=secret).strip()
            answer = answer or default
            problem = check(answer) if check else None
            if problem is None:
                return answer
            self.line(problem)

    def yes(self, key: str, default: bool = True, **values: object) -> bool:
        hint = self.t("yes_no" if default else "no_yes")
        while True:
            answer = self._read(f"{self.t(key, **values)} [{hint}]: ", secret=False).strip()
            if not answer:
                return default
            if answer.lower()[0] in "yj":
                return True
            if answer.lower()[0] == "n":
                return False

    def choose(self, key: str, options: Sequence[str], default: str, **values: object) -> str:
        def check(answer: str) -> str | None:
            return None if answer in options else " / ".join(options)

        return self._ask(self.t(key, **values), default, check=check)
