"""Semantic rules of the alert channels: the mail routes, ntfy and the alert webhook.

Kept beside ``rules`` (which calls it) so the alert channels' checks read as one piece.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from wixprint.config.model import Config
from wixprint.config.walker import Report

NTFY_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")
"""ntfy's topic names: letters, digits, ``-`` and ``_``, at most 64 characters."""
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


def ntfy_topic_url(url: str) -> tuple[str, str] | None:
    """``https://ntfy.sh/alerts-x7`` → (``https://ntfy.sh/``, ``alerts-x7``): the server root
    (ntfy takes JSON only there) and the topic; None if it is not such a URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        return None
    root, _, topic = parts.path.rstrip("/").rpartition("/")
    if parts.fragment or not NTFY_TOPIC.fullmatch(topic):
        return None
    return f"{parts.scheme}://{parts.netloc}{root}/", topic


def check_alert_channels(config: Config, report: Report) -> None:
    smtp, fallback = config.smtp, config.smtp.fallback
    if not smtp.levels:
        report.check("smtp.levels", "name at least one level (to stop mail, leave smtp.host empty)")
    if fallback.host:
        if not smtp.host:
            report.check("smtp.fallback.host", "a fallback needs the first route, smtp.host")
        _between(report, "smtp.fallback.port", fallback.port, 1, 65535)
        if fallback.username and not fallback.password:
            report.check(
                "smtp.fallback.password",
                "required when smtp.fallback.username is set (or WIXPRINT_SMTP_FALLBACK_PASSWORD)",
            )
        if fallback.sender and not _ADDRESS.fullmatch(fallback.sender):
            report.check("smtp.fallback.sender", f"not an e-mail address: {fallback.sender!r}")

    ntfy = config.alerts.ntfy
    if ntfy.url and ntfy_topic_url(ntfy.url) is None:
        report.check(
            "alerts.ntfy.url",
            "expected a topic URL like https://ntfy.sh/<topic> (topic: letters, digits, - and _,"
            " at most 64)",
        )
    webhook = config.alerts.webhook
    if webhook.url:
        parts = urlsplit(webhook.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            report.check("alerts.webhook.url", "must be an http:// or https:// URL")
    for name, channel in (("ntfy", ntfy), ("webhook", webhook)):
        if not channel.levels:
            report.check(
                f"alerts.{name}.levels", "name at least one level (to stop it, leave url empty)"
            )
        if not (math.isfinite(channel.timeout) and 0 < channel.timeout <= 300):
            report.check(
                f"alerts.{name}.timeout", f"must be 0 to 300 seconds, got {channel.timeout}"
            )
        if any(c in channel.token for c in "\r\n") or channel.token != channel.token.strip():
            report.check(f"alerts.{name}.token", "no line breaks or outer spaces")
    known = {p.name for p in config.printers}
    announce = config.alerts.announce_printers
    for i, name in enumerate(announce if isinstance(announce, list) else ()):
        if name not in known:
            report.check(
                f"alerts.announce_printers[{i}]",
                f"no printer named {name!r} (printers: {', '.join(sorted(known)) or 'none'})",
            )


def _between(report: Report, path: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        report.check(path, f"must be between {low:g} and {high:g}, got {value}")
