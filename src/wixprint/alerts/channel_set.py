"""The configured alert channels, built from the configuration.

Kept apart from ``channels`` (the protocol every channel implements), which the channel
classes import: building them there was an import circle.
"""

from __future__ import annotations

import ssl
from datetime import tzinfo

from wixprint.alerts.channels import AlertChannel
from wixprint.alerts.mail_channel import MailChannel
from wixprint.alerts.push import NtfyChannel, WebhookChannel
from wixprint.alerts.slip_channel import PrinterSlipChannel, SlipSink, announce_targets
from wixprint.config import Config

__all__ = ["build_channels"]


def build_channels(
    config: Config,
    *,
    tz: tzinfo,
    ssl_context: ssl.SSLContext | None = None,
    slips: SlipSink | None = None,
) -> list[AlertChannel]:
    """The configured channels, in a stable order (the names are outbox keys).

    Printer slips need the running service's spool (``slips``); operator commands
    (``test-alert``, the failure mail) build the others only."""
    channels: list[AlertChannel] = []
    if config.smtp.host:
        channels.append(MailChannel.from_config(config.smtp, tz=tz, ssl_context=ssl_context))
    alerts = config.alerts
    if alerts.ntfy.url:
        channels.append(NtfyChannel(alerts.ntfy, ssl_context=ssl_context))
    if alerts.webhook.url:
        restaurant = config.service.restaurant_name
        channels.append(
            WebhookChannel(alerts.webhook, restaurant=restaurant, tz=tz, ssl_context=ssl_context)
        )
    if slips is not None and announce_targets(config):
        channels.append(PrinterSlipChannel(config, slips))
    return channels
