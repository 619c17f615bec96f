"""Semantic rules no type can express, run on the typed result of the walker."""

from __future__ import annotations

import codecs
import datetime
import math
import re
import zoneinfo
from pathlib import Path

import msgspec

from wixprint.config.model import RECEIPT_KINDS, Config, PrinterConfig
from wixprint.config.rules_alerts import check_alert_channels
from wixprint.config.walker import Report
from wixprint.vocabulary import BusinessLocation, ItemKind

_KNOWN_STATUSES = ("APPROVED", "CANCELED", "INITIALIZED", "PENDING", "REJECTED")
_ITEM_KINDS = tuple(k.value for k in ItemKind if k is not ItemKind.OTHER)
_APP_ID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_QUIET_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_ORIGIN = re.compile(r"https?://[^/\s:@]+(:\d{1,5})?")
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
_URL_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,200}")
MAX_PREORDER_LEAD = 7 * 24 * 60.0
"""Minutes: a lead longer than a week is a typo (hours or seconds meant)."""


def check_semantics(config: Config, report: Report, base_dir: Path) -> Config:
    """Rules no type can express. Returns *config* with a webhook key path replaced by its PEM."""

    def positive(path: str, value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            report.check(path, f"must be a positive number of seconds, got {value}")

    def between(path: str, value: float, low: float, high: float) -> None:
        if not (math.isfinite(value) and low <= value <= high):
            report.check(path, f"must be between {low:g} and {high:g}, got {value}")

    svc = config.service
    try:
        zoneinfo.ZoneInfo(svc.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        report.check("service.timezone", f"unknown time zone {svc.timezone!r}")
    if not svc.state_dir.strip():
        report.check("service.state_dir", "must not be empty")
    between("service.retention_days", svc.retention_days, 1, 36500)
    positive("service.stop_timeout", svc.stop_timeout)
    between("service.clock_skew_limit", svc.clock_skew_limit, 10, 86400)

    http = config.http
    if not http.host.strip():
        report.check("http.host", "must not be empty")
    between("http.port", http.port, 0, 65535)
    between("http.public_port", http.public_port, 0, 65535)
    if http.public_host and http.public_port == http.port != 0:
        report.check("http.public_port", "must differ from http.port", uses=("http.port",))
    between("http.max_connections", http.max_connections, 4, 4096)
    between("http.max_websockets", http.max_websockets, 0, http.max_connections // 2)
    between("http.read_timeout", http.read_timeout, 1, 300)
    for i, name in enumerate(http.allowed_hosts):
        if not _HOST_NAME.fullmatch(name):
            report.check(f"http.allowed_hosts[{i}]", f"not a host name: {name!r}")
    for i, origin in enumerate(http.allowed_origins):
        if not _ORIGIN.fullmatch(origin):
            report.check(
                f"http.allowed_origins[{i}]",
                f"expected scheme://host[:port] (http or https, no path), got {origin!r}",
            )

    wix = config.wix
    if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", wix.base_url):
        report.check("wix.base_url", "must be an http:// or https:// URL")
    positive("wix.poll_interval", wix.poll_interval)
    positive("wix.request_timeout", wix.request_timeout)
    between("wix.overlap", wix.overlap, 0, 7 * 86400)
    between("wix.page_limit", wix.page_limit, 1, 100)
    if not wix.print_statuses:
        report.check("wix.print_statuses", "must name at least one order status")
    for i, status in enumerate(wix.print_statuses):
        if status not in _KNOWN_STATUSES:
            known = ", ".join(_KNOWN_STATUSES)
            report.check(f"wix.print_statuses[{i}]", f"unknown status {status!r} (known: {known})")
    if not wix.print_apps:
        report.check("wix.print_apps", "must name at least one kind or app id, or nothing prints")
    for i, app in enumerate(wix.print_apps):
        if app not in _ITEM_KINDS and not _APP_ID.fullmatch(app):
            known = ", ".join(_ITEM_KINDS)
            report.check(
                f"wix.print_apps[{i}]", f"{app!r} is neither a Wix app id nor a kind ({known})"
            )
    if wix.not_before:
        try:
            datetime.datetime.fromisoformat(wix.not_before)
        except ValueError:
            report.check("wix.not_before", f"not an ISO-8601 time: {wix.not_before!r}")
    if wix.restaurants_app_only and not any(
        a == ItemKind.RESTAURANTS.value or _APP_ID.fullmatch(a) for a in wix.print_apps
    ):
        report.check(
            "wix.restaurants_app_only",
            "only orders with a Wix Restaurants item are fetched, but print_apps does not print"
            ' them: add "restaurants" to wix.print_apps',
            uses=("wix.print_apps",),
        )
    if wix.automation_token and not _URL_TOKEN.fullmatch(wix.automation_token):
        report.check(
            "wix.automation_token",
            "must be 16 to 200 characters of A-Z a-z 0-9 . _ ~ - (it travels in a URL)",
        )
    for i, instance in enumerate(wix.webhook_instance_ids):
        if not _APP_ID.fullmatch(instance.strip()):
            report.check(f"wix.webhook_instance_ids[{i}]", f"not an instance id: {instance!r}")
    pem = _webhook_key(wix.webhook_public_key, base_dir, report)

    names: set[str] = set()
    places: dict[tuple[str, str, int], str] = {}
    for i, p in enumerate(config.printers):
        at = f"printers[{i}]"
        place = _printer_place(p)
        if place is not None and place in places:
            # Two entries would each claim, clear and prove jobs on one printer, unaware of
            # each other: a retry's buffer clear could wipe the other's ticket.
            report.check(
                f"{at}.{'host' if p.transport == 'network' else 'device'}",
                f"the same printer as {places[place]!r}: one [[printers]] entry per printer "
                "(list every receipt kind it prints in its receipts)",
            )
        elif place is not None:
            places[place] = p.name
        if not p.name.strip():
            report.check(f"{at}.name", "must not be empty")
        elif p.name in names:
            report.check(f"{at}.name", f"duplicate printer name {p.name!r}")
        elif p.name != p.name.strip() or re.search(r"[/\\\x00-\x1f]", p.name):
            report.check(f"{at}.name", "no slashes, control characters or outer spaces")
        names.add(p.name)
        if p.transport == "network" and not p.host.strip():
            report.check(
                f"{at}.host", 'required when transport = "network"', uses=(f"{at}.transport",)
            )
        if p.transport == "device" and not p.device.strip():
            report.check(
                f"{at}.device", 'required when transport = "device"', uses=(f"{at}.transport",)
            )
        between(f"{at}.port", p.port, 1, 65535)
        if not p.receipts:
            report.check(f"{at}.receipts", "must name at least one receipt kind")
        if p.columns:
            between(f"{at}.columns", p.columns, 20, 100)
        try:
            codecs.lookup(p.codepage)
        except LookupError:
            report.check(f"{at}.codepage", f"unknown code page {p.codepage!r}")
        for key in (
            "connect_timeout",
            "send_timeout",
            "reply_timeout",
            "status_timeout",
            "probe_interval",
        ):
            positive(f"{at}.{key}", getattr(p, key))
        if not BusinessLocation.compatible(p.location, wix.location_id):
            report.check(
                f"{at}.location",
                f"never prints: this Pi takes only orders of location {wix.location_id!r}",
                uses=("wix.location_id",),
            )

    between("layout.preorder_lead", config.layout.preorder_lead, 0.1, MAX_PREORDER_LEAD)
    if "driver" in config.layout.unknown:
        report.check("layout.unknown", "no driver slip for an order without a delivery address")
    for kind, copies in config.layout.copies.items():
        if kind not in RECEIPT_KINDS:
            report.check(
                f"layout.copies.{kind}", f"not a receipt kind ({', '.join(RECEIPT_KINDS)})"
            )
        else:
            between(f"layout.copies.{kind}", copies, 1, 5)

    alerts = config.alerts
    for key in ("printer_offline_after", "internet_offline_after", "unprinted_order_after"):
        between(f"alerts.{key}", getattr(alerts, key), 0, 7 * 86400)
    positive("alerts.repeat_every", alerts.repeat_every)
    between("alerts.restarts_alert_after", alerts.restarts_alert_after, 1, 1000)
    between("alerts.disk_percent", alerts.disk_percent, 1, 100)
    between("alerts.memory_percent", alerts.memory_percent, 1, 100)
    between("alerts.temperature_c", alerts.temperature_c, 1, 150)
    quiet = _QUIET_HOURS.fullmatch(alerts.quiet_hours)
    if alerts.quiet_hours and not quiet:
        report.check("alerts.quiet_hours", f'expected "HH:MM-HH:MM", got {alerts.quiet_hours!r}')
    elif quiet and quiet.group(1, 2) == quiet.group(3, 4):
        report.check("alerts.quiet_hours", "start and end must differ")

    smtp = config.smtp
    between("smtp.port", smtp.port, 1, 65535)
    positive("smtp.timeout", smtp.timeout)
    if smtp.host:
        if not smtp.sender:
            report.check("smtp.sender", "required when smtp.host is set", uses=("smtp.host",))
        if not smtp.recipients:
            report.check("smtp.recipients", "at least one recipient required when smtp.host is set")
        if smtp.username and not smtp.password:
            report.check(
                "smtp.password", "required when smtp.username is set (or WIXPRINT_SMTP_PASSWORD)"
            )
    for path, address in [("smtp.sender", smtp.sender)] + [
        (f"smtp.recipients[{i}]", r) for i, r in enumerate(smtp.recipients)
    ]:
        if address and not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
            report.check(path, f"not an e-mail address: {address!r}")
    check_alert_channels(config, report)

    conn = config.connectivity
    if conn.internet_target and not re.fullmatch(r"[^\s:]+:\d{1,5}", conn.internet_target):
        report.check("connectivity.internet_target", 'expected "host:port"')
    positive("connectivity.interval", conn.interval)
    positive("connectivity.interval_down", conn.interval_down)
    between("connectivity.confirm", conn.confirm, 1, 100)
    positive("monitor.interval", config.monitor.interval)

    if pem != wix.webhook_public_key:
        config = msgspec.structs.replace(
            config, wix=msgspec.structs.replace(wix, webhook_public_key=pem)
        )
    return config


def _webhook_key(value: str, base_dir: Path, report: Report) -> str:
    """Empty, PEM text, or a path to a PEM file: returns the PEM text (or *value* on error)."""
    path = "wix.webhook_public_key"
    if not value.strip():
        return ""
    pem = value
    if not value.lstrip().startswith("-----BEGIN"):
        file = base_dir / Path(value).expanduser()
        try:
            pem = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            report.check(path, f"neither PEM text nor a readable file: {value} ({reason})")
            return value
    # Imported here: cryptography costs start-up time and only matters with webhooks on.
    from wixprint.config.keys import load_public_key

    try:
        load_public_key(pem)  # exactly what the service does with it
    except ValueError as exc:
        report.check(path, str(exc))
        return value
    return pem


def _printer_place(printer: PrinterConfig) -> tuple[str, str, int] | None:
    """Where a physical printer is reached (None for a virtual one: a folder each)."""
    if printer.transport == "network" and printer.host.strip():
        return ("network", printer.host.strip().lower(), printer.port)
    if printer.transport == "device" and printer.device.strip():
        return ("device", printer.device.strip(), 0)
    return None
