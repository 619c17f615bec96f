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
from wixprint.config import Config

__all__ = ["build_channels"]


def build_channels(
    config: Config, *, tz: tzinfo, ssl_context: ssl.SSLContext | None = None
) -> list[AlertChannel]:
    """The configured channels, in a stable order (the names are outbox keys)."""
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
    return channels
