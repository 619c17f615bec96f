"""``wixprint test-alert``: a test message through every alert channel and every mail route,
one line each, naming the step that failed (config, dns, connect, tls, auth, recipient,
send). Exit 0 when every one arrived, 1 otherwise (also when no channel is configured)."""

from __future__ import annotations

import ssl
import sys
import time
from zoneinfo import ZoneInfo

from wixprint.alerts.channel_set import build_channels
from wixprint.alerts.channels import ChannelCheck, probe_message
from wixprint.config import Config

__all__ = ["check_alert_channels", "format_check", "run_test_alert"]


async def check_alert_channels(
    config: Config, *, ssl_context: ssl.SSLContext | None = None
) -> list[ChannelCheck]:
    """Send the test message through each channel's every route, one after the other."""
    tz = ZoneInfo(config.service.timezone)
    message = probe_message(config, tz=tz, at=time.time())
    checks: list[ChannelCheck] = []
    for channel in build_channels(config, tz=tz, ssl_context=ssl_context):
        checks += await channel.check(message)
    return checks


def format_check(check: ChannelCheck) -> str:
    result = "ok" if check.ok else f"FAILED at {check.stage}"
    return f"{check.channel:<16} {check.target:<34} {result}: {check.message}"


async def run_test_alert(config: Config, *, ssl_context: ssl.SSLContext | None = None) -> int:
    checks = await check_alert_channels(config, ssl_context=ssl_context)
    if not checks:
        print(
            "no alert channel configured: set [smtp] host, [alerts.ntfy] url or "
            "[alerts.webhook] url (alerts show only in /health and the logs)",
            file=sys.stderr,
        )
        return 1
    for check in checks:
        print(format_check(check))
    return 0 if all(c.ok for c in checks) else 1
