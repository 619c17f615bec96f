"""Loading the configuration: the file, secrets from credentials and the environment, then
validation by ``walker`` (types, every error by key path) and ``rules`` (semantics).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wixprint.config.model import Config
from wixprint.config.rules import check_semantics
from wixprint.config.walker import Report
from wixprint.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/wixprint/config.toml")
CONFIG_PATH_ENV = "WIXPRINT_CONFIG"
CREDSTORE_ENV = "WIXPRINT_CREDSTORE"
"""Colon-separated folders searched for ``wixprint.<credential>`` when no
``$CREDENTIALS_DIRECTORY`` is set (operator commands run by root; install tests)."""
DEFAULT_CREDSTORES = ("/etc/credstore", "/run/credstore", "/usr/lib/credstore")
"""Where systemd looks up a relative ``LoadCredential=`` source, in its order."""
CREDSTORE_PREFIX = "wixprint."
"""``LoadCredential=wix_api_key:wixprint.wix_api_key``: the file name in the credential store."""

# (table path, key, environment variable, systemd credential name)
SECRET_SOURCES: tuple[tuple[str, str, str, str], ...] = (
    ("wix", "api_key", "WIXPRINT_WIX_API_KEY", "wix_api_key"),
    ("smtp", "password", "WIXPRINT_SMTP_PASSWORD", "smtp_password"),
    ("http", "admin_token", "WIXPRINT_ADMIN_TOKEN", "admin_token"),
    ("smtp.fallback", "password", "WIXPRINT_SMTP_FALLBACK_PASSWORD", "smtp_fallback_password"),
    ("alerts.ntfy", "token", "WIXPRINT_NTFY_TOKEN", "ntfy_token"),
    ("alerts.webhook", "token", "WIXPRINT_ALERT_WEBHOOK_TOKEN", "alert_webhook_token"),
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
    return load_config_text(text, env, base_dir=path.parent, credstores=credstores_of(env))


def credstores_of(environ: Mapping[str, str]) -> tuple[Path, ...]:
    """The credential store folders for *environ*: ``$WIXPRINT_CREDSTORE`` or systemd's.

    So ``sudo wixprint config check`` (and backup, restore, test-alert) sees the same
    secrets as the service, which systemd hands them from these folders."""
    listed = environ.get(CREDSTORE_ENV)
    folders = DEFAULT_CREDSTORES if listed is None else listed.split(":")
    return tuple(Path(f) for f in folders if f)


def load_config_text(
    text: str,
    environ: Mapping[str, str] | None = None,
    *,
    base_dir: Path | None = None,
    credstores: tuple[Path, ...] = (),
) -> Config:
    """Validate TOML *text* (tests, demo). *environ* defaults to an empty mapping here, so a
    test never picks up the operator's secrets; a relative ``webhook_public_key`` path is
    resolved against *base_dir* (default: the working directory). *credstores* are searched
    for ``wixprint.<name>`` when *environ* has no ``CREDENTIALS_DIRECTORY``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"invalid TOML: {exc}"]) from None
    report = Report()
    _apply_secrets(data, {} if environ is None else environ, credstores, report)
    config = report.struct(data, Config, "")
    if not isinstance(config, Config):  # pragma: no cover - every Config field has a default
        raise ConfigError(report.lines or ["invalid configuration"])
    config = check_semantics(config, report, base_dir or Path.cwd())
    if report.lines:
        raise ConfigError(report.lines)
    return config


def secret_values(config: Config) -> tuple[str, ...]:
    """The non-empty secrets, for log redaction (push URLs too: a topic URL is a password)."""
    alerts = config.alerts
    values = (
        config.wix.api_key,
        config.smtp.password,
        config.http.admin_token,
        config.smtp.fallback.password,
        alerts.ntfy.token,
        alerts.webhook.token,
        alerts.ntfy.url,
        alerts.webhook.url,
    )
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
        f"http: {http.host}:{http.port} (admin token {mask(http.admin_token)}), public "
        + (f"webhooks on {http.public_host}:{http.public_port}" if http.public_host else "none"),
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
            f"{', '.join(smtp.recipients)}, password {mask(smtp.password)}, "
            f"levels {', '.join(smtp.levels)}"
        )
        fallback = smtp.fallback
        if fallback.host:
            lines.append(
                f"smtp fallback: {fallback.host}:{fallback.port} ({fallback.security}), "
                f"password {mask(fallback.password)}"
            )
    else:
        lines.append("smtp: off (no host; alerts show in /health and the logs)")
    for name, push in (("ntfy", alerts.ntfy), ("alert webhook", alerts.webhook)):
        if push.url:
            lines.append(
                f"{name}: {url_origin(push.url)}/…, token {mask(push.token)}, "
                f"levels {', '.join(push.levels)}"
            )
    return "\n".join(lines)


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what may be shown of a push URL (its path is the
    secret part: an ntfy topic, a chat webhook's key)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rpartition('@')[2]}" if rest else "(invalid)"


def _read_credential(path: Path, name: str, report: Report) -> str | None:
    """A credential file's value; None if it is missing or empty (an empty file must not
    blank a secret the environment provides). One line ending (LF or CRLF) is dropped."""
    try:
        value = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        report.lines.append(f"credential {name}: cannot read ({reason})")
        return None
    value = value.removesuffix("\n").removesuffix("\r")
    return value or None


def _credstore_value(stores: tuple[Path, ...], name: str, report: Report) -> str | None:
    for store in stores:
        try:
            if not store.is_dir():
                continue
        except PermissionError:  # not root: the store is not ours to read
            continue
        value = _read_credential(store / f"{CREDSTORE_PREFIX}{name}", name, report)
        if value is not None:
            return value
    return None


def _apply_secrets(
    data: dict[str, Any],
    environ: Mapping[str, str],
    credstores: tuple[Path, ...],
    report: Report,
) -> None:
    """Put secrets into the raw data: credentials beat the environment beats the file.

    Credentials are systemd's (``$CREDENTIALS_DIRECTORY``) inside the service, else the
    credential store the unit names them from, so a root shell sees what the service sees."""
    cred_dir = environ.get("CREDENTIALS_DIRECTORY", "")
    for section, key, env_name, cred_name in SECRET_SOURCES:
        if cred_dir:
            value = _read_credential(Path(cred_dir) / cred_name, cred_name, report)
        else:
            value = _credstore_value(credstores, cred_name, report)
        if value is None:
            value = environ.get(env_name) or None
        if value is None:
            continue
        table: object = data
        for part in section.split("."):
            if not isinstance(table, dict):
                break
            table = table.setdefault(part, {})
        if isinstance(table, dict):  # not a table: the walker reports the file's mistake
            table[key] = value
