"""The configuration: one TOML file, validated before anything starts.

Structs here are the contract every other module reads. Loading, secrets and validation
live below them (see ``load_config``).
"""

from __future__ import annotations

import codecs
import datetime
import math
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import msgspec

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
    interval_down: float = 5.0
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


_INVALID: Any = object()  # a value that failed conversion; its problem is already reported
_ZEROS: tuple[object, ...] = ("", 0, 0.0, False, [], {})


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "table"
    return "array" if isinstance(value, list) else type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Report:
    """Collects problem lines and remembers which key paths failed conversion."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.bad: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.lines.append(f"{path}: {message}")
        self.bad.add(path)

    def is_bad(self, path: str) -> bool:
        return any(path == b or path.startswith((b + ".", b + "[")) for b in self.bad)

    def check(self, path: str, message: str, *, uses: tuple[str, ...] = ()) -> None:
        """A semantic problem, dropped when *path* or an input in *uses* is already bad."""
        if not any(self.is_bad(p) for p in (path, *uses)):
            self.lines.append(f"{path}: {message}")

    def value(self, raw: object, tp: Any, path: str) -> Any:
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return self.struct(raw, tp, path)
        origin = get_origin(tp)
        if origin is list:
            if not isinstance(raw, list):
                self.error(path, f"expected array, got {_kind(raw)}")
                return _INVALID
            items = [self.value(x, get_args(tp)[0], f"{path}[{i}]") for i, x in enumerate(raw)]
            return _INVALID if any(x is _INVALID for x in items) else items
        if origin is dict:
            if not isinstance(raw, dict):
                self.error(path, f"expected table, got {_kind(raw)}")
                return _INVALID
            entries = {k: self.value(v, get_args(tp)[1], _join(path, k)) for k, v in raw.items()}
            return _INVALID if _INVALID in entries.values() else entries
        if origin is Literal:
            choices = get_args(tp)
            if isinstance(raw, str) and raw in choices:
                return raw
            got = repr(raw) if isinstance(raw, str) else _kind(raw)
            self.error(path, f"expected one of {', '.join(map(repr, choices))}, got {got}")
            return _INVALID
        try:
            return msgspec.convert(raw, tp)
        except msgspec.ValidationError as exc:
            message = str(exc).replace("`", "")
            self.error(path, message[:1].lower() + message[1:])
            return _INVALID

    def struct(self, raw: object, cls: type[msgspec.Struct], path: str) -> Any:
        if not isinstance(raw, dict):
            self.error(path or "(top level)", f"expected table, got {_kind(raw)}")
            return _INVALID
        fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
        converted: dict[str, Any] = {}
        for key, item in raw.items():  # in file order, so problems read top to bottom
            if key in fields:
                converted[key] = self.value(item, fields[key].type, _join(path, key))
            else:
                self.lines.append(f"unknown key '{_join(path, key)}'")
        kwargs: dict[str, Any] = {}
        for key, field in fields.items():
            value = converted.get(key, _INVALID)
            if value is _INVALID:
                if field.default is not msgspec.NODEFAULT:
                    value = field.default
                elif field.default_factory is not msgspec.NODEFAULT:
                    value = field.default_factory()
                else:
                    if key not in raw:
                        self.error(_join(path, key), "missing required key")
                    value = _placeholder(field.type)
                    if value is _INVALID:
                        return _INVALID
            kwargs[field.name] = value
        return cls(**kwargs)


def _placeholder(tp: Any) -> Any:
    """A stand-in for a required field that failed, so the remaining checks can still run."""
    for zero in _ZEROS:
        try:
            return msgspec.convert(zero, tp)
        except msgspec.ValidationError:
            continue
    return _INVALID  # pragma: no cover - no required field of such a type exists


_KNOWN_STATUSES = ("APPROVED", "CANCELED", "INITIALIZED")
_QUIET_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


def _check(config: Config, report: _Report, base_dir: Path) -> Config:
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

    if not config.http.host.strip():
        report.check("http.host", "must not be empty")
    between("http.port", config.http.port, 0, 65535)

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
    if wix.not_before:
        try:
            datetime.datetime.fromisoformat(wix.not_before)
        except ValueError:
            report.check("wix.not_before", f"not an ISO-8601 time: {wix.not_before!r}")
    pem = _webhook_key(wix.webhook_public_key, base_dir, report)

    names: set[str] = set()
    for i, p in enumerate(config.printers):
        at = f"printers[{i}]"
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
        between(f"{at}.columns", p.columns, 20, 100)
        try:
            codecs.lookup(p.codepage)
        except LookupError:
            report.check(f"{at}.codepage", f"unknown code page {p.codepage!r}")
        for key in ("connect_timeout", "send_timeout", "reply_timeout", "probe_interval"):
            positive(f"{at}.{key}", getattr(p, key))

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


def _webhook_key(value: str, base_dir: Path, report: _Report) -> str:
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
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.strip().encode("utf-8"))
    except (ValueError, TypeError):
        report.check(path, "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)")
        return value
    if not isinstance(key, RSAPublicKey):
        report.check(path, "not an RSA public key (Wix signs webhooks with RS256)")
        return value
    return pem
