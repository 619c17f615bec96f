"""Alert mail texts in German and English: plain text, no customer data.

Every mail says what is wrong, since when (local time), what to do and what is held; a
resolved mail says how long it lasted. Times shown are the *original* times of the alert,
because mails raised while the internet was down are sent later from the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from wixprint.alerts.texts_host import HOST_TEXTS

Level = Literal["critical", "warning", "info"]
Language = Literal["de", "en"]
MailKind = Literal["raise", "repeat", "resolve"]
Category = Literal[
    "printer_offline",
    "paper_out",
    "cover_open",
    "paper_near_end",
    "internet_down",
    "wix_auth",
    "unprinted_orders",
    "quarantined",
    "needs_attention",
    "order_quarantined",
    "restarts",
    "disk",
    "memory",
    "temperature",
    "throttled",
    "storage",
    "clock",
]

MAX_LISTED_ORDERS = 20
"""Order numbers listed in one mail; the rest are counted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertFacts:
    """What a mail reports about one problem. Only technical data and order numbers."""

    category: Category
    key: str
    level: Level
    since: float
    """Wall-clock seconds when the problem began."""
    target: str = ""
    """The printer, actor or order number the problem is about."""
    detail: str = ""
    """A short technical reason (never customer data)."""
    value: float | None = None
    threshold: float | None = None
    orders: tuple[str, ...] = ()
    count: int = 0
    held: int | None = None
    """Tickets waiting because of this problem, if known."""
    printer: str = ""
    """The printer a ticket problem happened at (a set-aside or quarantined ticket)."""


@dataclass(frozen=True, slots=True)
class MailText:
    subject: str
    body: str


_LEVEL_WORD: dict[Language, dict[Level, str]] = {
    "de": {"critical": "KRITISCH", "warning": "WARNUNG", "info": "Info"},
    "en": {"critical": "CRITICAL", "warning": "WARNING", "info": "Info"},
}

# category -> (title, what is wrong, what to do); str.format fields from _fields().
_TEXTS: dict[Language, dict[Category, tuple[str, str, str]]] = {
    "de": {
        "printer_offline": (
            "Drucker {target} nicht erreichbar",
            "Der Drucker „{target}“ antwortet nicht{detail_paren}.",
            "Drucker einschalten und Netzwerkkabel prüfen. Bestellungen bleiben gespeichert "
            "und werden gedruckt, sobald der Drucker wieder erreichbar ist.",
        ),
        "paper_out": (
            "Drucker {target}: Papier leer",
            "Im Drucker „{target}“ ist kein Papier mehr.",
            "Papier nachlegen. Wartende Tickets werden danach automatisch gedruckt.",
        ),
        "cover_open": (
            "Drucker {target}: Deckel offen",
            "Der Deckel des Druckers „{target}“ ist offen.",
            "Deckel schließen. Wartende Tickets werden danach automatisch gedruckt.",
        ),
        "paper_near_end": (
            "Drucker {target}: Papier fast leer",
            "Die Papierrolle im Drucker „{target}“ geht zu Ende.",
            "Neue Papierrolle bereitlegen und bald wechseln.",
        ),
        "internet_down": (
            "Internet nicht erreichbar",
            "Das Internet ist nicht erreichbar{detail_paren}; neue Bestellungen kommen nicht an.",
            "Router und Internetanschluss prüfen. Bis dahin neue Bestellungen im "
            "Wix-Dashboard (z. B. am Handy) ansehen. Sobald das Internet zurück ist, werden "
            "alle Bestellungen nachgeholt und gedruckt.",
        ),
        "wix_auth": (
            "Wix lehnt die Anmeldung ab",
            "Wix lehnt den API-Schlüssel ab{detail_paren}. Es werden KEINE neuen "
            "Bestellungen abgeholt.",
            "In Wix einen neuen API-Schlüssel erstellen und mit der Site-ID in der "
            "Konfiguration eintragen, dann den Dienst neu starten. Bis dahin Bestellungen im "
            "Wix-Dashboard ansehen.",
        ),
        "unprinted_orders": (
            "Bestellungen nicht gedruckt",
            "Diese Bestellungen sind seit über {grace} noch nicht gedruckt: {orders}.",
            "Drucker prüfen und die Bestellungen im Wix-Dashboard ansehen; wenn nötig von "
            "Hand an die Küche geben.",
        ),
        "quarantined": (
            "Bestellung {target} kann nicht gedruckt werden",
            "Ein Ticket der Bestellung {target} ließ sich nicht drucken und wurde "
            "zurückgestellt{detail_paren}.",
            "Die Bestellung im Wix-Dashboard ansehen und von Hand an die Küche geben.",
        ),
        "needs_attention": (
            "Bestellung {target}: Druck nicht bestätigt",
            "Ein Ticket der Bestellung {target} ging {count}-mal an den Drucker{detail_paren}, "
            "der Drucker hat den Druck aber nie bestätigt. Es wurde zurückgestellt, die "
            "nächsten Bestellungen werden gedruckt.",
            "Am Drucker nachsehen, ob das Ticket da ist (Kopien tragen den Hinweis REPRINT). "
            "Fehlt es: im Dashboard oder mit wixprint reprint nachdrucken.",
        ),
        "order_quarantined": (
            "Bestellung {target} konnte nicht übernommen werden",
            "Die Bestellung {target} kam von Wix mit Daten, die nicht verarbeitet werden "
            "konnten{detail_paren}; sie wurde zurückgestellt und wird NICHT gedruckt. Alle "
            "anderen Bestellungen laufen weiter.",
            "Die Bestellung im Wix-Dashboard ansehen und von Hand an die Küche geben. Ihr "
            "Text ist im Spool gespeichert (Tabelle quarantine) für die Fehlersuche.",
        ),
        "restarts": (
            "Dienstteil {target} startet wiederholt neu",
            "Der Dienstteil „{target}“ ist in der letzten Stunde {count}-mal neu gestartet"
            "{detail_paren}.",
            "Hört es nicht von selbst auf, die Logs prüfen: journalctl -u wix-printer-service",
        ),
        "disk": (
            "Speicherplatz fast voll",
            "Die Speicherkarte ist zu {value} % belegt (Grenze {threshold} %).",
            "Alte Dateien und Logs löschen oder eine größere Speicherkarte einsetzen.",
        ),
        "memory": (
            "Arbeitsspeicher knapp",
            "Der Arbeitsspeicher ist zu {value} % belegt (Grenze {threshold} %).",
            "Hält es an: sudo systemctl restart wix-printer-service",
        ),
        "temperature": (
            "Raspberry Pi zu heiß",
            "Der Prozessor hat {value} °C (Grenze {threshold} °C).",
            "Für Belüftung sorgen, das Gehäuse nicht abdecken, nicht neben Herd oder Ofen stellen.",
        ),
        "throttled": (
            "Raspberry Pi gedrosselt",
            "Der Raspberry Pi drosselt sich (Unterspannung oder Überhitzung).",
            "Das offizielle Netzteil verwenden und für Kühlung sorgen.",
        ),
    },
    "en": {
        "printer_offline": (
            "Printer {target} offline",
            "The printer '{target}' does not answer{detail_paren}.",
            "Switch the printer on and check its network cable. Orders are kept and print "
            "as soon as the printer is back.",
        ),
        "paper_out": (
            "Printer {target}: out of paper",
            "The printer '{target}' is out of paper.",
            "Load paper. Waiting tickets then print by themselves.",
        ),
        "cover_open": (
            "Printer {target}: cover open",
            "The cover of the printer '{target}' is open.",
            "Close the cover. Waiting tickets then print by themselves.",
        ),
        "paper_near_end": (
            "Printer {target}: paper low",
            "The paper roll in the printer '{target}' is nearly used up.",
            "Have a new paper roll ready and change it soon.",
        ),
        "internet_down": (
            "Internet down",
            "The internet cannot be reached{detail_paren}; new orders do not arrive.",
            "Check the router and the internet line. Meanwhile watch new orders in the Wix "
            "dashboard (e.g. on a phone). When the internet is back, all orders are fetched "
            "and printed.",
        ),
        "wix_auth": (
            "Wix rejects the credentials",
            "Wix rejects the API key{detail_paren}. NO new orders are being fetched.",
            "Create a new API key in Wix, put it and the site ID into the configuration and "
            "restart the service. Meanwhile watch orders in the Wix dashboard.",
        ),
        "unprinted_orders": (
            "Orders not printed",
            "These orders have not been printed for more than {grace}: {orders}.",
            "Check the printers and look the orders up in the Wix dashboard; pass them to "
            "the kitchen by hand if needed.",
        ),
        "quarantined": (
            "Order {target} cannot be printed",
            "A ticket of order {target} could not be printed and was set aside{detail_paren}.",
            "Look the order up in the Wix dashboard and pass it to the kitchen by hand.",
        ),
        "needs_attention": (
            "Order {target}: printing not confirmed",
            "A ticket of order {target} went to the printer {count} times{detail_paren}, but "
            "the printer never confirmed it. It was set aside; the next orders print.",
            "Check the printer for the ticket (copies say REPRINT). If it is missing, reprint "
            "it from the dashboard or with wixprint reprint.",
        ),
        "order_quarantined": (
            "Order {target} could not be taken in",
            "Order {target} came from Wix with data that could not be processed{detail_paren}; "
            "it was set aside and will NOT print. All other orders go on.",
            "Look the order up in the Wix dashboard and pass it to the kitchen by hand. Its "
            "text is kept in the spool (table quarantine) for diagnosis.",
        ),
        "restarts": (
            "Component {target} restarting repeatedly",
            "The component '{target}' restarted {count} times in the last hour{detail_paren}.",
            "If it does not stop by itself, check the logs: journalctl -u wix-printer-service",
        ),
        "disk": (
            "Disk almost full",
            "The SD card is {value} % full (limit {threshold} %).",
            "Delete old files and logs or use a larger SD card.",
        ),
        "memory": (
            "Memory low",
            "Memory is {value} % used (limit {threshold} %).",
            "If it persists: sudo systemctl restart wix-printer-service",
        ),
        "temperature": (
            "Raspberry Pi too hot",
            "The CPU is at {value} °C (limit {threshold} °C).",
            "Give it air, do not cover the case, keep it away from stove and oven.",
        ),
        "throttled": (
            "Raspberry Pi throttled",
            "The Raspberry Pi is throttling itself (under-voltage or overheating).",
            "Use the official power supply and keep it cool.",
        ),
    },
}

for _language, _texts in HOST_TEXTS.items():
    for _category, _text in _texts.items():
        _TEXTS[_language][_category] = _text

_LABELS: dict[Language, dict[str, str]] = {
    "de": {
        "since": "Seit",
        "ago": "seit {d}",
        "todo": "Was tun",
        "held": "Wartend",
        "held_now": "{n} Ticket(s) warten.",
        "held_after": "{n} Ticket(s) haben gewartet und werden jetzt gedruckt.",
        "repeat": "Erinnerung: das Problem besteht weiterhin.",
        "ongoing": " (besteht weiter)",
        "resolved": "Behoben",
        "resolved_line": "Das Problem ist behoben.",
        "duration": "Dauer",
        "orders_done": "Betroffene Bestellungen: {orders}.",
        "raised": "Gemeldet",
        "more": "und {n} weitere",
        "footer": "Automatische Nachricht von wix-printer-service",
        "test_subject": "Testnachricht",
        "test_body": "Dies ist eine Testnachricht von wix-printer-service.\n"
        "Wenn sie ankommt, ist dieser Weg für Alarme richtig eingerichtet.",
    },
    "en": {
        "since": "Since",
        "ago": "for {d}",
        "todo": "What to do",
        "held": "Waiting",
        "held_now": "{n} ticket(s) waiting.",
        "held_after": "{n} ticket(s) were held and are printing now.",
        "repeat": "Reminder: the problem is still going on.",
        "ongoing": " (still ongoing)",
        "resolved": "Resolved",
        "resolved_line": "The problem is resolved.",
        "duration": "Duration",
        "orders_done": "Orders concerned: {orders}.",
        "raised": "Raised",
        "more": "and {n} more",
        "footer": "Automatic message from wix-printer-service",
        "test_subject": "Test message",
        "test_body": "This is a test message from wix-printer-service.\n"
        "If it arrives, this way of alerting is set up right.",
    },
}


# wix_auth: advice per likely cause (AuthCause values; the problem's target lists them).
_AUTH_ADVICE: dict[Language, dict[str, str]] = {
    "de": {
        "permission": "Dem API-Schlüssel fehlt die Berechtigung „Read Orders“: im "
        "API-Schlüssel-Manager (manage.wix.com/account/api-keys) den Schlüssel bearbeiten "
        "und unter Wix eCommerce „Read Orders“ (Bestellungen lesen) anhaken.",
        "site_id": "Die Site-ID ist falsch: es ist die lange Kennung nach /dashboard/ in der "
        "Adresse des Wix-Dashboards dieser Website.",
        "account": "Der Schlüssel stammt aus einem Konto, dem die Website nicht gehört: ihn "
        "im Wix-Konto des Inhabers der Website erstellen.",
        "key": "Der Schlüssel ist falsch kopiert, unvollständig oder widerrufen: im "
        "API-Schlüssel-Manager einen neuen erstellen.",
    },
    "en": {
        "permission": 'The API key lacks the "Read Orders" permission: in the API Keys '
        "Manager (manage.wix.com/account/api-keys) edit the key and tick Wix eCommerce "
        '"Read Orders".',
        "site_id": "The site ID is wrong: it is the long ID after /dashboard/ in the address "
        "of this site's Wix dashboard.",
        "account": "The key comes from an account that does not own the site: create it in "
        "the Wix account of the site's owner.",
        "key": "The key is mistyped, incomplete or revoked: create a new one in the API Keys "
        "Manager.",
    },
}
_AUTH_FRAME: dict[Language, tuple[str, str]] = {
    "de": (
        "Wahrscheinliche Ursachen, die wahrscheinlichste zuerst:",
        "Danach die Konfiguration anpassen und den Dienst neu starten. Bis dahin Bestellungen "
        "im Wix-Dashboard ansehen.",
    ),
    "en": (
        "Likely causes, most likely first:",
        "Then fix the configuration and restart the service. Meanwhile watch orders in the "
        "Wix dashboard.",
    ),
}


def _advice(facts: AlertFacts, language: Language, todo: str) -> str:
    """The category's advice; for ``wix_auth`` the advice for each likely cause, in order."""
    if facts.category != "wix_auth":
        return todo
    causes = [c for c in facts.target.split(",") if c in _AUTH_ADVICE[language]]
    if not causes:
        return todo
    head, tail = _AUTH_FRAME[language]
    steps = [f"{i}. {_AUTH_ADVICE[language][c]}" for i, c in enumerate(causes, start=1)]
    return "\n".join([head, *steps, tail])


def format_time(ts: float, tz: tzinfo, language: Language) -> str:
    """Local wall-clock time as staff read it."""
    local = datetime.fromtimestamp(ts, tz)
    if language == "de":
        return local.strftime("%d.%m.%Y %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def format_duration(seconds: float, language: Language) -> str:
    """Rounded human duration: ``45 Sek.`` / ``12 min`` / ``2 h 5 min`` / ``1 d 3 h``."""
    total = max(0, round(seconds))
    de = language == "de"
    if total < 60:
        return f"{total} Sek." if de else f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} Min." if de else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if de:
            return f"{hours} Std. {minutes} Min." if minutes else f"{hours} Std."
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if de:
        day_word = "Tag" if days == 1 else "Tage"
        return f"{days} {day_word} {hours} Std." if hours else f"{days} {day_word}"
    return f"{days} d {hours} h" if hours else f"{days} d"


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _orders(orders: tuple[str, ...], language: Language) -> str:
    shown = ", ".join(orders[:MAX_LISTED_ORDERS])
    rest = len(orders) - MAX_LISTED_ORDERS
    if rest > 0:
        shown += " " + _LABELS[language]["more"].format(n=rest)
    return shown


def _fields(facts: AlertFacts, language: Language, grace: float) -> dict[str, str]:
    return {
        "target": facts.target,
        "detail_paren": f" ({facts.detail})" if facts.detail else "",
        "value": _number(facts.value),
        "threshold": _number(facts.threshold),
        "orders": _orders(facts.orders, language),
        "count": str(facts.count),
        "grace": format_duration(grace, language),
    }


def _clean(text: str) -> str:
    """One header line: no line breaks can sneak into a subject."""
    return " ".join(text.split())


def title(facts: AlertFacts, language: Language) -> str:
    """The short problem name, as used in subjects and status pages."""
    return _clean(_TEXTS[language][facts.category][0].format(**_fields(facts, language, 0.0)))


def compose(
    kind: MailKind,
    facts: AlertFacts,
    *,
    at: float,
    restaurant: str,
    language: Language,
    tz: tzinfo,
    ended: float | None = None,
    grace: float = 0.0,
) -> MailText:
    """Subject and plain-text body of one alert mail.

    ``at`` is when the alert was raised (the mail's original time); ``ended`` is when the
    problem ended (resolve only); ``grace`` is quoted in texts that mention a waiting time.
    """
    labels = _LABELS[language]
    fields = _fields(facts, language, grace)
    name, what, todo = _TEXTS[language][facts.category]
    head = _clean(name.format(**fields))
    tag = f"[{_clean(restaurant)}]"
    since_text = format_time(facts.since, tz, language)
    lines: list[str]
    if kind == "resolve":
        end = facts.since if ended is None else max(ended, facts.since)
        subject = f"{tag} {labels['resolved']}: {head}"
        lines = [
            f"{labels['resolved']}: {head}",
            "",
            labels["resolved_line"],
            f"{labels['duration']}: {format_duration(end - facts.since, language)} "
            f"({since_text} – {format_time(end, tz, language)})",
        ]
        if facts.orders:
            lines.append(labels["orders_done"].format(orders=fields["orders"]))
        if facts.held:
            lines.append(labels["held_after"].format(n=facts.held))
    else:
        suffix = labels["ongoing"] if kind == "repeat" else ""
        subject = f"{tag} {_LEVEL_WORD[language][facts.level]}: {head}{suffix}"
        ago = labels["ago"].format(d=format_duration(at - facts.since, language))
        lines = [head, ""]
        if kind == "repeat":
            lines += [labels["repeat"], ""]
        lines += [
            what.format(**fields),
            f"{labels['since']}: {since_text} ({ago})",
        ]
        if facts.held:
            lines.append(f"{labels['held']}: {labels['held_now'].format(n=facts.held)}")
        lines += ["", f"{labels['todo']}: {_advice(facts, language, todo)}"]
    lines += [
        "",
        "-- ",
        f"{labels['footer']} · {_clean(restaurant)} · "
        f"{labels['raised']} {format_time(at, tz, language)} · {facts.key}",
    ]
    return MailText(subject=subject, body="\n".join(lines) + "\n")


def compose_test(*, restaurant: str, language: Language, tz: tzinfo, at: float) -> MailText:
    """The message ``wixprint test-alert`` sends through every channel."""
    labels = _LABELS[language]
    subject = f"[{_clean(restaurant)}] {labels['test_subject']}"
    body = (
        f"{labels['test_body']}\n\n-- \n{labels['footer']} · {_clean(restaurant)} · "
        f"{format_time(at, tz, language)}\n"
    )
    return MailText(subject=subject, body=body)
