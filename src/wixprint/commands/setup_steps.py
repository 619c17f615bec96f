"""The steps of ``wixprint setup`` that talk to the world: Wix, the printers, the mail server.

Each asks, tries at once what was typed (one Wix search, a scan and a test page with a
width ruler, a test mail through ``test-alert``'s diagnosis) and explains a failure in the
owner's words before asking again. Nothing here writes files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
import trio

from wixprint.alerts.mailer import Security, SmtpSettings, diagnose_smtp
from wixprint.commands.printers import find_printers
from wixprint.commands.testprint import print_test_tickets
from wixprint.commands.wizard import Prompter
from wixprint.config import RECEIPT_KINDS, Config, PrinterConfig, ServiceConfig
from wixprint.config.tomledit import Value
from wixprint.errors import WixAuthError, WixprintError
from wixprint.printing.probe import local_networks, probe_printer
from wixprint.printing.scan import PRINTER_PORT, FoundPrinter, format_found
from wixprint.wix.client import open_wix_client
from wixprint.wix.diagnosis import diagnose_auth

__all__ = ["SMTP_PRESETS", "ask_printers", "ask_smtp", "ask_wix", "newest_order_number"]

NEWEST_FIRST = [{"fieldName": "createdDate", "order": "DESC"}]
_SECURITY: dict[str, Security] = {"starttls": "starttls", "ssl": "ssl", "none": "none"}
SMTP_PRESETS: dict[str, tuple[str, int, Security]] = {
    "gmail": ("smtp.gmail.com", 587, "starttls"),
    "outlook": ("smtp-mail.outlook.com", 587, "starttls"),
    "gmx": ("mail.gmx.net", 587, "starttls"),
    "web.de": ("smtp.web.de", 587, "starttls"),
    "ionos": ("smtp.ionos.de", 587, "starttls"),
    "strato": ("smtp.strato.de", 465, "ssl"),
    "t-online": ("securesmtp.t-online.de", 465, "ssl"),
}
"""Host, port and security of common providers (their published submission settings)."""
_NAMES = ("kitchen", "bar", "counter")


async def newest_order_number(base_url: str, api_key: str, site_id: str) -> str | None:
    """One search request for the newest order; its number, or None when there is none."""
    async with open_wix_client(base_url, api_key, site_id, request_timeout=15.0) as client:
        pages = client.search_orders(filter={}, sort=NEWEST_FIRST, limit=1)
        async with contextlib.aclosing(pages) as pages_:
            async for page in pages_:
                return (
                    str(page.orders[0].get("number") or page.orders[0]["id"])
                    if page.orders
                    else None
                )
    return None


def ask_wix(ask: Prompter, *, base_url: str, site_id: str, api_key: str) -> tuple[str, str]:
    """Site ID and API key, checked with one search request until they work or the owner
    goes on anyway."""
    ask.say("wix_head")
    while True:
        site_id = ask.ask("site_id", site_id)
        api_key = ask.ask("api_key", api_key, secret=True)
        ask.say("checking")
        try:
            number = trio.run(newest_order_number, base_url, api_key, site_id)
        except WixAuthError as exc:
            diagnosis = diagnose_auth(
                exc.status_code, message=exc.wix_message, code=exc.wix_code, site_id=site_id
            )
            ask.say("wix_refused", status=exc.status_code)
            for cause in diagnosis.causes:
                ask.line(f"  - {ask.t(f'cause_{cause.value}')}")
        except (WixprintError, OSError) as exc:
            ask.say("wix_unreachable", reason=f"{type(exc).__name__}: {exc}")
        else:
            ask.say("wix_ok", number=number) if number else ask.say("wix_ok_empty")
            return site_id, api_key
        if not ask.yes("again"):
            return site_id, api_key


def _receipts(ask: Prompter, name: str, default: Sequence[str]) -> list[str]:
    def check(answer: str) -> str | None:
        kinds = [k.strip() for k in answer.split(",") if k.strip()]
        ok = kinds and all(k in RECEIPT_KINDS for k in kinds)
        return None if ok else ask.t("bad_receipts")

    answer = ask.ask("receipts", ", ".join(default) or "kitchen", check=check, name=name)
    return [k.strip() for k in answer.split(",") if k.strip()]


def _describe(ask: Prompter, name: str, found: FoundPrinter) -> dict[str, Value]:
    receipts = _receipts(ask, name, ["kitchen"] if name != "counter" else ["driver", "customer"])
    entry: dict[str, Value] = {"name": name}
    if found.device:
        entry.update(transport="device", device=found.device)
    else:
        entry.update(transport="network", host=found.host, port=found.port)
    entry["receipts"] = receipts
    if "kitchen" in receipts:
        sections = ask.ask("sections", "")
        entry["sections"] = [s.strip() for s in sections.split(",") if s.strip()]
    entry["columns"] = found.profile.columns
    return entry


def _scan(ask: Prompter) -> list[FoundPrinter]:
    def check(answer: str) -> str | None:
        from wixprint.printing.scan import scan_targets

        try:
            scan_targets(answer.split())
        except ValueError as exc:
            return str(exc)
        return None

    ranges = ask.ask("scan_ranges", " ".join(local_networks()), check=check)
    ask.say("scanning")
    found = trio.run(find_printers, ranges.split())
    if found:
        ask.line("\n".join(format_found(found)))
    else:
        ask.say("found_none")
    return found


def _by_address(answer: str) -> FoundPrinter:
    if answer.startswith("/dev/"):
        return FoundPrinter(device=answer)
    host, _, port = answer.partition(":")
    port_number = int(port) if port.isdigit() else PRINTER_PORT
    found = trio.run(probe_printer, host, port_number)
    return found or FoundPrinter(host=host, port=port_number)


def _unique(names: set[str]) -> Callable[[str], str | None]:
    return lambda answer: None if answer not in names else f"{answer}?"


def _name_and_describe(
    ask: Prompter, printer: FoundPrinter, chosen: list[dict[str, Value]]
) -> None:
    names = {str(c["name"]) for c in chosen}
    suggestion = next(
        n for n in (*_NAMES, *(f"printer{i}" for i in range(2, 99))) if n not in names
    )
    model = " ".join(x for x in (printer.manufacturer, printer.model) if x) or "?"
    name = ask.ask("name_for", suggestion, where=printer.where, model=model, check=_unique(names))
    if name != "-":
        chosen.append(_describe(ask, name, printer))


def ask_printers(ask: Prompter, current: list[Any], *, zone: str) -> list[dict[str, Value]]:
    """The printers: kept ones (only name and receipts asked), found ones, typed ones; then
    a test page with a width ruler on each, and the column count when it did not fit."""
    ask.say("printers_head")
    chosen: list[dict[str, Value]] = []
    taken: set[str] = set()
    for item in current:
        if not isinstance(item, dict) or "name" not in item:
            continue
        where = str(item.get("host") or item.get("device") or item.get("transport", ""))
        if ask.yes("keep_printer", name=item["name"], where=where):
            receipts = _receipts(ask, str(item["name"]), item.get("receipts", ["kitchen"]))
            chosen.append({"name": str(item["name"]), "receipts": receipts})
            taken.add(where)
            taken.add(f"{where}:{item.get('port', PRINTER_PORT)}")
    found = [p for p in _scan(ask) if p.where not in taken and f"{p.host}:{p.port}" not in taken]
    for printer in found:
        _name_and_describe(ask, printer, chosen)
    while address := ask.ask("add_address", ""):
        _name_and_describe(ask, _by_address(address), chosen)
    if not chosen:
        ask.say("no_printers")
    for entry in chosen:
        if "transport" in entry:  # new: the kept ones were tested before
            _test_page(ask, entry, zone)
    return chosen


def _test_page(ask: Prompter, entry: dict[str, Value], zone: str) -> None:
    name = str(entry["name"])
    while ask.yes("test_print", name=name):
        printer = msgspec.convert(entry, PrinterConfig)
        config = Config(service=ServiceConfig(timezone=zone), printers=[printer])
        trio.run(print_test_tickets, config, name)
        columns = printer.columns
        if ask.yes("ruler_ok", columns=columns):
            return
        answer = ask.ask(
            "columns",
            str(42 if columns > 42 else 32),
            check=lambda a: None if a.isdigit() and 24 <= int(a) <= 64 else "24-64",
        )
        entry["columns"] = int(answer)


def ask_smtp(
    ask: Prompter, current: Mapping[str, Any], *, password: str
) -> tuple[dict[str, Value], str]:
    """The ``[smtp]`` keys and the password; a test mail until it goes or the owner moves on."""
    ask.say("smtp_head")
    host = str(current.get("host", ""))
    preset = next((n for n, p in SMTP_PRESETS.items() if p[0] == host), "other" if host else "none")
    choice = ask.choose(
        "provider",
        (*SMTP_PRESETS, "other", "none"),
        preset,
        names=", ".join((*SMTP_PRESETS, "other", "none")),
    )
    if choice == "none":
        return {"host": ""}, password
    port = int(current.get("port", 587))
    security = _SECURITY.get(str(current.get("security")), "starttls")
    user, sender = str(current.get("username", "")), str(current.get("sender", ""))
    recipients = ", ".join(current.get("recipients", []))
    while True:
        if choice in SMTP_PRESETS:
            host, port, security = SMTP_PRESETS[choice]
        else:
            host = ask.ask("smtp_host", host)
            port = int(
                ask.ask("smtp_port", str(port), check=lambda a: None if a.isdigit() else "1-65535")
            )
            security = _SECURITY[ask.choose("smtp_security", tuple(_SECURITY), security)]
        user = ask.ask("smtp_user", user)
        password = ask.ask("smtp_password", password, secret=True) if user else ""
        sender = ask.ask("smtp_sender", sender or (user if "@" in user else ""))
        recipients = ask.ask("smtp_recipients", recipients or sender)
        to = [r.strip() for r in recipients.split(",") if r.strip()]
        values: dict[str, Value] = {
            "host": host,
            "port": port,
            "security": security,
            "username": user,
            "sender": sender,
            "recipients": to,
        }
        if not ask.yes("test_mail"):
            return values, password
        settings = SmtpSettings(
            host=host,
            port=port,
            security=security,
            username=user,
            password=password,
            sender=sender,
            recipients=tuple(to),
        )
        result = trio.run(diagnose_smtp, settings)
        if result.ok:
            ask.say("mail_ok", to=", ".join(to))
            return values, password
        ask.say("mail_failed", stage=result.stage, message=result.message)
        if not ask.yes("change_smtp"):
            return values, password
        choice = "other"
