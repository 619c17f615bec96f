"""The configuration: one TOML file, validated before anything starts.

Structs here are the contract every other module reads. Loading, secrets and validation
live below them (see ``load_config``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from wixprint.config_rules import _check, _Report
from wixprint.errors import ConfigError

ReceiptKind = Literal["kitchen", "driver", "customer"]
RECEIPT_KINDS: tuple[ReceiptKind, ...] = ("kitchen", "driver", "customer")


class ServiceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    state_dir: str = "/var/lib/wixprint"
    timezone: str = "Europe/Berlin"
    restaurant_name: str = "Restaurant"
    retention_days: int = 90
    """Printed jobs and their orders older than this are pruned."""
    stop_timeout: float = 20.0
    """Seconds a graceful stop may take before actors are cancelled (fits TimeoutStopSec)."""


class HttpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str = ""
    """Secret; or WIXPRINT_ADMIN_TOKEN. Empty disables admin actions (reprint over HTTP)."""


class WixConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_url: str = "https://www.wixapis.com"
    site_id: str = ""
    api_key: str = ""
    """Secret; or WIXPRINT_WIX_API_KEY."""
    poll_interval: float = 10.0
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
    """Only fetch orders with Wix Restaurants line items."""


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
    columns: int = 48
    codepage: str = "CP858"
    proof: Literal["process_id", "status", "none"] = "process_id"
    """How a printed ticket is confirmed: GS ( H process ID, DLE EOT status, or not at all."""
    connect_timeout: float = 5.0
    send_timeout: float = 20.0
    reply_timeout: float = 20.0
    """Seconds to wait for proof while the printer reports no fault."""
    probe_interval: float = 15.0


class LayoutConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    delivery: list[ReceiptKind] = msgspec.field(
        default_factory=lambda: ["kitchen", "driver", "customer"]
    )
    pickup: list[ReceiptKind] = msgspec.field(default_factory=lambda: ["kitchen", "customer"])
    dine_in: list[ReceiptKind] = msgspec.field(default_factory=lambda: ["kitchen"])
    copies: dict[str, int] = msgspec.field(default_factory=dict)
    """Copies per receipt kind, e.g. {kitchen = 2}; default 1."""
    header: list[str] = msgspec.field(default_factory=list)
    footer: list[str] = msgspec.field(default_factory=list)
    large_items: bool = True
    show_prices: bool = True
    """Prices on the customer receipt (kitchen tickets never show prices)."""
    language: Literal["de", "en"] = "de"


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


class SmtpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: str = ""
    """Empty disables e-mail (alerts still show in /health and the logs)."""
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    """Secret; or WIXPRINT_SMTP_PASSWORD."""
    sender: str = ""
    recipients: list[str] = msgspec.field(default_factory=list)
    timeout: float = 20.0


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


# --------------------------------------------------------------------------------------------
# Loading and validation.
#
# msgspec stops at the first error, but an operator fixing a file wants every problem at once,
# so a small walker converts the TOML field by field (msgspec.convert on each leaf) and collects
# one line per problem. Semantic checks then run on the typed result; a check whose inputs
# already failed type conversion stays quiet, so each mistake is reported once.
# --------------------------------------------------------------------------------------------

DEFAULT_CONFIG_PATH = Path("/etc/wixprint/config.toml")
CONFIG_PATH_ENV = "WIXPRINT_CONFIG"

# (section, key, environment variable, systemd credential name)
SECRET_SOURCES: tuple[tuple[str, str, str, str], ...] = (
    ("wix", "api_key", "WIXPRINT_WIX_API_KEY", "wix_api_key"),
    ("smtp", "password", "WIXPRINT_SMTP_PASSWORD", "smtp_password"),
    ("http", "admin_token", "WIXPRINT_ADMIN_TOKEN", "admin_token"),
)


def resolve_config_path(cli_path: str | None, environ: Mapping[str, str]) -> Path:
    """``--config``, else ``$WIXPRINT_CONFIG``, else ``/etc/wixprint/config.toml``."""
    if cli_path:
        return Path(cli_path)
    from_env = environ.get(CONFIG_PATH_ENV, "")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, parse and validate the file at *path*; secrets may come from *environ*.

    *environ* defaults to ``os.environ``. Raises ``ConfigError`` whose ``problems`` are lines
    without the file name (callers prefix it). A missing, unreadable or syntactically broken
    file gives exactly one line.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(["file not found"]) from None
    except IsADirectoryError:
        raise ConfigError(["cannot read: is a directory, not a file"]) from None
    except OSError as exc:
        raise ConfigError([f"cannot read: {exc.strerror or type(exc).__name__}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text (byte {exc.start})"]) from None
    env = os.environ if environ is None else environ
    return load_config_text(text, env, base_dir=path.parent)


def load_config_text(
    text: str, environ: Mapping[str, str] | None = None, *, base_dir: Path | None = None
) -> Config:
    """Validate TOML *text* (tests, demo). *environ* defaults to an empty mapping here, so a
    test never picks up the operator's secrets; a relative ``webhook_public_key`` path is
    resolved against *base_dir* (default: the working directory)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"invalid TOML: {exc}"]) from None
    report = _Report()
    _apply_secrets(data, {} if environ is None else environ, report)
    config = report.struct(data, Config, "")
    if not isinstance(config, Config):  # pragma: no cover - every Config field has a default
        raise ConfigError(report.lines or ["invalid configuration"])
    config = _check(config, report, base_dir or Path.cwd())
    if report.lines:
        raise ConfigError(report.lines)
    return config


def secret_values(config: Config) -> tuple[str, ...]:
    """The non-empty secrets, for log redaction."""
    values = (config.wix.api_key, config.smtp.password, config.http.admin_token)
    return tuple(v for v in values if v)


def summarize(config: Config) -> str:
    """A readable summary for ``config check`` and the start-up log; secrets show as ``****``."""

    def mask(value: str) -> str:
        return "****" if value else "(not set)"

    svc, http, wix, alerts, smtp = (
        config.service,
        config.http,
        config.wix,
        config.alerts,
        config.smtp,
    )
    lines = [
        f"restaurant: {svc.restaurant_name}",
        f"timezone: {svc.timezone}",
        f"state dir: {svc.state_dir}",
        f"http: {http.host}:{http.port} (admin token {mask(http.admin_token)})",
        f"wix: site {wix.site_id or '(not set)'} at {wix.base_url}, api key {mask(wix.api_key)}, "
        f"poll every {wix.poll_interval:g}s, statuses {', '.join(wix.print_statuses)}",
        f"webhooks: {'on' if wix.webhook_public_key else 'off'}",
    ]
    if not config.printers:
        lines.append("printers: none")
    for p in config.printers:
        target = {"network": f"{p.host}:{p.port}", "device": p.device}.get(
            p.transport, p.directory or "(state dir)"
        )
        extra = f" sections {', '.join(p.sections)}" if p.sections else ""
        lines.append(f"printer {p.name}: {p.transport} {target} -> {', '.join(p.receipts)}{extra}")
    lines.append(
        f"alerts: printer offline after {alerts.printer_offline_after:g}s, internet offline "
        f"after {alerts.internet_offline_after:g}s, unprinted order after "
        f"{alerts.unprinted_order_after:g}s, repeat every {alerts.repeat_every:g}s"
    )
    if smtp.host:
        lines.append(
            f"smtp: {smtp.host}:{smtp.port} ({smtp.security}) from {smtp.sender} to "
            f"{', '.join(smtp.recipients)}, password {mask(smtp.password)}"
        )
    else:
        lines.append("smtp: off (no host; alerts show in /health and the logs)")
    return "\n".join(lines)


def _read_credential(directory: str, name: str, report: _Report) -> str | None:
    path = Path(directory) / name
    try:
        value = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        report.lines.append(f"credential {name}: cannot read ({reason})")
        return None
    if value.endswith("\n"):
        value = value[:-1]
    return value


def _apply_secrets(data: dict[str, Any], environ: Mapping[str, str], report: _Report) -> None:
    """Put secrets into the raw data: credentials beat the environment beats the file."""
    cred_dir = environ.get("CREDENTIALS_DIRECTORY", "")
    for section, key, env_name, cred_name in SECRET_SOURCES:
        value = _read_credential(cred_dir, cred_name, report) if cred_dir else None
        if value is None:
            value = environ.get(env_name) or None
        table = data.setdefault(section, {})
        if value is not None and isinstance(table, dict):
            table[key] = value
