"""Alert channels: the ways an alert reaches people (mail, ntfy, a webhook; printer slips
later). The engine decides *what* to say and *when*; a channel only carries one message.

Every channel is a small object with a ``name`` (its key in the outbox), the problem
severities it takes, ``deliver`` (raises ``AlertChannelUnavailable`` to retry later,
``AlertChannelRejected`` when the settings are wrong) and ``check`` (``wixprint
test-alert``: a real test message, step by step). The alerter drains each channel's own
deliveries from the outbox, so adding a channel is one class and one line in
``channel_set.build_channels``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Protocol

from wixprint.alerts.messages import AlertFacts, Level, MailKind, compose_test
from wixprint.config import Config

__all__ = [
    "AlertChannel",
    "AlertMessage",
    "ChannelCheck",
    "probe_message",
    "routes_for",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertMessage:
    """One message as every channel gets it (texts already in the alert language)."""

    id: str
    """Stable across retries (``alert-17``): idempotency key, mail Message-ID."""
    key: str
    kind: MailKind
    level: Level
    problem_level: Level
    subject: str
    body: str
    raised_at: float
    """When the alert was decided: its original time, however late it leaves."""
    since: float | None = None
    test: bool = False
    facts: AlertFacts | None = None
    """What the message reports (None for a test, or an alert stored before facts were)."""


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """One step-by-step test of one route of a channel (``wixprint test-alert``)."""

    channel: str
    target: str
    """Where it went, without secrets (``smtp.example.com:587``, ``https://ntfy.sh``)."""
    ok: bool
    stage: str
    """The step that failed (config, dns, connect, tls, auth, recipient, send) or ok."""
    message: str


class AlertChannel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def levels(self) -> frozenset[str]:
        """Problem severities it carries (a resolved message follows its problem)."""
        ...

    def describe(self) -> str:
        """Where it delivers, for logs: never a secret or a full push URL."""
        ...

    async def deliver(self, message: AlertMessage) -> None:
        """Deliver or raise ``AlertChannelUnavailable`` / ``AlertChannelRejected``."""
        ...

    async def check(self, message: AlertMessage) -> list[ChannelCheck]:
        """Send ``message`` as a test through every route; never raises for a failure."""
        ...


def routes_for(channels: Iterable[AlertChannel], problem_level: str) -> tuple[str, ...]:
    """The channels that carry a problem of this severity."""
    return tuple(c.name for c in channels if problem_level in c.levels)


def probe_message(config: Config, *, tz: tzinfo, at: float) -> AlertMessage:
    """What ``wixprint test-alert`` sends through every channel."""
    text = compose_test(
        restaurant=config.service.restaurant_name,
        language=config.alerts.language,
        tz=tz,
        at=at,
    )
    return AlertMessage(
        id=f"test-{int(at)}",
        key="test",
        kind="raise",
        level="info",
        problem_level="info",
        subject=text.subject,
        body=text.body,
        raised_at=at,
        test=True,
    )
