"""The configuration's shape: frozen msgspec structs, the contract every other module reads.

Defaults live here; loading (``load``), the field walker (``walker``) and the semantic rules
(``rules``) sit beside it and import it, never the other way round.
"""

from __future__ import annotations

from typing import Literal

import msgspec

ReceiptKind = Literal["kitchen", "driver", "customer"]
RECEIPT_KINDS: tuple[ReceiptKind, ...] = ("kitchen", "driver", "customer")
PrinterModel = Literal[
    "auto",
    "TM-m30III",
    "TM-T20III",
    "TM-T88V",
    "TM-T88VI",
    "TM-T88VII",
    "generic-80mm",
    "generic-58mm",
]
"""Printer profiles (``printing/profiles.py`` holds their widths, speeds and cuts)."""
AlertLevel = Literal["critical", "warning", "info"]
ALERT_LEVELS: tuple[AlertLevel, ...] = ("critical", "warning", "info")
SmtpSecurity = Literal["starttls", "ssl", "none"]


class ServiceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    state_dir: str = "/var/lib/wixprint"
    timezone: str = "Europe/Berlin"
    restaurant_name: str = "Restaurant"
    retention_days: int = 90
    """Orders whose tickets all printed and that Wix last changed longer ago are pruned
    (by Wix's clock; never within the poll overlap); a tombstone of each stays."""
    stop_timeout: float = 20.0
    """Seconds a graceful stop may take before actors are cancelled (fits TimeoutStopSec)."""
    clock_skew_limit: float = 300.0
    """Seconds the Pi's clock may differ from Wix's before it is distrusted and reported."""


class HttpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    """The local listener: status, dashboard, metrics, admin (and the webhook paths too)."""
    port: int = 8000
    admin_token: str = ""
    """Secret; or WIXPRINT_ADMIN_TOKEN. Empty disables admin actions (reprint over HTTP)."""
    public_host: str = ""
    """The public listener, serving the webhook paths only: what a tunnel or a TLS reverse
    proxy forwards to. Empty: no public listener."""
    public_port: int = 8001
    allowed_hosts: list[str] = msgspec.field(default_factory=list)
    """Host names the local listener answers to besides IP addresses, ``localhost`` and this
    machine's own name (``<hostname>``, ``<hostname>.local``): the DNS-rebinding guard."""
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    """Web origins (``https://name[:port]``) that may open ``/ws/events`` besides the
    dashboard's own."""
    max_connections: int = 64
    """Open connections per listener; at the cap the oldest (websockets aside) is closed."""
    max_websockets: int = 8
    """Live-event clients at once; one more is refused with 503."""
    read_timeout: float = 10.0
    """A client that sends nothing for this long is disconnected — also while its request is
    still being answered (hypercorn's read timeout keeps running): a webhook whose commit
    stalls longer is cut off unanswered, and Wix sends it again."""


class WixConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_url: str = "https://www.wixapis.com"
    site_id: str = ""
    api_key: str = ""
    """Secret; or WIXPRINT_WIX_API_KEY."""
    poll_interval: float = 2.5
    """Seconds between polls: an order reaches the kitchen about half of it after Wix has it
    (median), without any push. 24 searches a minute at idle, an eighth of Wix's budget."""
    print_statuses: list[str] = msgspec.field(default_factory=lambda: ["APPROVED"])
    webhook_public_key: str = ""
    """PEM text or a path to a PEM file; empty disables POST /webhooks/wix."""
    not_before: str = ""
    """ISO time; orders created earlier are never printed. Empty: the first start."""
    overlap: float = 600.0
    """Seconds the poll window reaches back before the high-water mark."""
    request_timeout: float = 20.0
    """Overall deadline of one API call, seconds."""
    page_limit: int = 100
    restaurants_app_only: bool = False
    """Only orders with Wix Restaurants line items print, whether polled or pushed."""
    print_apps: list[str] = msgspec.field(default_factory=lambda: ["restaurants", "custom"])
    """Which line items print: kinds (restaurants, custom, stores, bookings, events,
    pricing_plans, gift_cards, table_reservations) or Wix app ids. An allow-list: items of
    any other app (reservations, gift cards, ...) never print."""
    location_id: str = ""
    """One business location's orders only: its id, or its name as Wix shows it. Empty: all
    locations. Orders that name no location print anyway (never lost)."""
    automation_token: str = ""
    """Secret in the URL of ``POST /webhooks/automation/<token>`` (a Wix Automation or a Velo
    ``events.js`` push); or WIXPRINT_AUTOMATION_TOKEN. Empty: that route answers 404."""
    webhook_instance_ids: list[str] = msgspec.field(default_factory=list)
    """App instance ids whose signed webhooks are accepted; empty: any (a warning)."""


class PrinterConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    transport: Literal["network", "device", "virtual"] = "network"
    host: str = ""
    port: int = 9100
    device: str = ""
    """Character device for transport = "device", e.g. /dev/usb/lp0."""
    directory: str = ""
    """Folder for transport = "virtual"; default: <state_dir>/virtual/<name>."""
    receipts: list[ReceiptKind] = msgspec.field(default_factory=lambda: ["kitchen"])
    sections: list[str] = msgspec.field(default_factory=list)
    """Menu section ids this printer takes (kitchen tickets only); empty: all the rest."""
    station: str = ""
    """Name printed on other tickets for items routed here (default: the printer name)."""
    location: str = ""
    """Business location (id or name) whose orders this printer prints; empty: any."""
    model: PrinterModel = "auto"
    """Printer profile (columns, speed, cut); "auto": the model the printer names, else a
    generic 80 mm printer."""
    columns: int = 0
    """Characters per line; 0: the profile's (48 on 80 mm Epsons, 42 on TM-T88, 32 on 58 mm)."""
    codepage: str = "CP858"
    proof: Literal["auto", "process_id", "status", "none"] = "auto"
    """How a printed ticket is confirmed: "auto" uses the GS ( H process ID where the printer
    answers it and DLE EOT status otherwise; or force one, or none at all."""
    connect_timeout: float = 5.0
    send_timeout: float = 20.0
    """Seconds for sending a ticket, plus twice its estimated print time."""
    reply_timeout: float = 20.0
    """Seconds to wait for proof while the printer reports no fault, plus twice the ticket's
    estimated print time."""
    status_timeout: float = 1.0
    """Seconds for one status reply; a missing one is asked again (twice, doubling)."""
    probe_interval: float = 15.0


class LayoutConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    delivery: list[ReceiptKind] = msgspec.field(
        default_factory=lambda: ["kitchen", "driver", "customer"]
    )
    pickup: list[ReceiptKind] = msgspec.field(default_factory=lambda: ["kitchen", "customer"])
    dine_in: list[ReceiptKind] = msgspec.field(default_factory=lambda: ["kitchen"])
    unknown: list[ReceiptKind] = msgspec.field(default_factory=lambda: ["kitchen", "customer"])
    """Receipts for an order whose fulfilment Wix does not tell (never a driver slip)."""
    copies: dict[str, int] = msgspec.field(default_factory=dict)
    """Copies per receipt kind, e.g. {kitchen = 2}; default 1."""
    header: list[str] = msgspec.field(default_factory=list)
    footer: list[str] = msgspec.field(default_factory=list)
    large_items: bool = True
    show_prices: bool = True
    """Prices on the customer receipt (kitchen tickets never show prices)."""
    language: Literal["de", "en"] = "de"
    preorder_lead: float = 45.0
    """Minutes before an order's due time at which its tickets print; an order due later is
    held (scheduled) until then."""
    preorder_notice: bool = True
    """A short "Vorbestellung erhalten" slip at the kitchen printers when an order is held."""


class NtfyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: str = ""
    """Topic URL on ntfy.sh or a self-hosted server (https://ntfy.sh/<topic>); empty: off.
    Anyone who knows a public topic can read it: treat it like a password."""
    token: str = ""
    """Secret access token of a protected topic (sent as Bearer); or WIXPRINT_NTFY_TOKEN."""
    levels: list[AlertLevel] = msgspec.field(default_factory=lambda: ["critical", "warning"])
    """Problem severities pushed; their resolved messages follow."""
    timeout: float = 10.0


class AlertWebhookConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: str = ""
    """JSON POST target (a Telegram, Slack or chat bridge); empty: off."""
    token: str = ""
    """Secret sent as Bearer token; or WIXPRINT_ALERT_WEBHOOK_TOKEN. Empty: no header."""
    levels: list[AlertLevel] = msgspec.field(default_factory=lambda: list(ALERT_LEVELS))
    timeout: float = 10.0


class AlertsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    printer_offline_after: float = 120.0
    internet_offline_after: float = 300.0
    unprinted_order_after: float = 600.0
    repeat_every: float = 3600.0
    language: Literal["de", "en"] = "de"
    quiet_hours: str = ""
    """Local "HH:MM-HH:MM" during which info-level mails wait; empty: none."""
    restarts_alert_after: int = 3
    """An actor restarting this often within an hour raises an alert."""
    disk_percent: float = 90.0
    memory_percent: float = 90.0
    temperature_c: float = 80.0
    ntfy: NtfyConfig = msgspec.field(default_factory=NtfyConfig)
    webhook: AlertWebhookConfig = msgspec.field(default_factory=AlertWebhookConfig)
    announce_printers: list[str] | Literal["all"] = "all"
    """Printers that print an alert slip when a problem arises (another printer out of
    paper, the internet down, ...): "all", or a list of printer names; [] turns slips off."""
    announce_resolved: bool = True
    """Print a short "resolved" slip when a problem that printed one ends."""


class SmtpRouteConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One mail server: ``[smtp]`` is the first, ``[smtp.fallback]`` the second, tried when
    the first fails at DNS, connect, TLS or login."""

    host: str = ""
    """Empty: no e-mail at all ([smtp]), no fallback ([smtp.fallback])."""
    port: int = 587
    security: SmtpSecurity = "starttls"
    username: str = ""
    password: str = ""
    """Secret; or WIXPRINT_SMTP_PASSWORD / WIXPRINT_SMTP_FALLBACK_PASSWORD."""
    sender: str = ""
    """From: address; on the fallback empty means smtp.sender (some providers insist on
    their own)."""


class SmtpConfig(SmtpRouteConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    recipients: list[str] = msgspec.field(default_factory=list)
    timeout: float = 20.0
    levels: list[AlertLevel] = msgspec.field(default_factory=lambda: list(ALERT_LEVELS))
    """Problem severities mailed; their resolved messages follow."""
    fallback: SmtpRouteConfig = msgspec.field(default_factory=SmtpRouteConfig)


class ConnectivityConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    internet_target: str = ""
    """host:port probed for the internet; empty: the host of wix.base_url on 443."""
    interval: float = 30.0
    """Seconds between probes while all is well."""
    interval_down: float = 2.0
    """Seconds between probes while something is down."""
    confirm: int = 2
    """Consecutive probes that must agree before a state change is published (hysteresis)."""


class MonitorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    interval: float = 30.0


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    service: ServiceConfig = msgspec.field(default_factory=ServiceConfig)
    http: HttpConfig = msgspec.field(default_factory=HttpConfig)
    wix: WixConfig = msgspec.field(default_factory=WixConfig)
    printers: list[PrinterConfig] = msgspec.field(default_factory=list)
    layout: LayoutConfig = msgspec.field(default_factory=LayoutConfig)
    alerts: AlertsConfig = msgspec.field(default_factory=AlertsConfig)
    smtp: SmtpConfig = msgspec.field(default_factory=SmtpConfig)
    connectivity: ConnectivityConfig = msgspec.field(default_factory=ConnectivityConfig)
    monitor: MonitorConfig = msgspec.field(default_factory=MonitorConfig)
