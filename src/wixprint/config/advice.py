"""Warnings about a configuration that is valid but unsafe: shown by ``config check`` and
logged at start, never fatal (an owner's restaurant must keep printing)."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path
from urllib.parse import urlsplit

from wixprint.config.model import Config

__all__ = ["config_warnings", "file_warnings"]


def _loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_warnings(config: Config) -> list[str]:
    """Settings that send a secret in clear text over the network."""
    found = []
    url = urlsplit(config.wix.base_url)
    if url.scheme == "http" and not _loopback(url.hostname or ""):
        found.append("wix.base_url: plain http:// sends the Wix API key unencrypted; use https://")
    smtp = config.smtp
    if smtp.host and smtp.security == "none" and smtp.password and not _loopback(smtp.host):
        found.append(
            'smtp.security: "none" sends the SMTP password unencrypted; use "starttls" or "ssl"'
        )
    return found


def file_warnings(path: Path) -> list[str]:
    """The config file's permissions: it may hold secrets, and it decides what prints where."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return []
    found = []
    if mode & 0o022:
        found.append(
            f"file mode {mode:04o}: others can change it; chmod 0640 (owner root, group wixprint)"
        )
    elif mode & 0o004:
        found.append(
            f"file mode {mode:04o}: every user can read it (secrets, customers' printers); "
            "chmod 0640"
        )
    return found
