"""The mail channel: ``[smtp]`` as the first route, ``[smtp.fallback]`` as the second.

The second server is tried only when the first cannot be reached or does not let us in
(DNS, connect, TLS, login): a refusal after that (a recipient, a 4xx at send) would meet
the same fate there, and a mail the first server took must not go out twice. Both routes
send the same Message-ID, so should a mail still arrive twice (a thread abandoned mid-send)
mail clients show it once.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from datetime import tzinfo
from email.message import EmailMessage

import trio

from wixprint.alerts.channels import AlertMessage, ChannelCheck
from wixprint.alerts.mailer import (
    MailRejected,
    SmtpSettings,
    build_message,
    diagnose_smtp,
    refused_summary,
    send_mail,
)
from wixprint.config import SmtpConfig
from wixprint.errors import SmtpUnavailable
from wixprint.logs import get_logger

__all__ = ["FALLBACK_STAGES", "MailChannel"]

FALLBACK_STAGES = frozenset({"dns", "connect", "tls", "auth"})
"""A failure at one of these steps sends the mail along the next route."""


@dataclass(frozen=True, slots=True)
class _Route:
    label: str
    settings: SmtpSettings

    @property
    def target(self) -> str:
        s = self.settings
        return f"{s.host}:{s.port} ({s.security})"


class MailChannel:
    name = "mail"

    def __init__(
        self, routes: list[SmtpSettings], *, levels: frozenset[str], tz: tzinfo | None = None
    ) -> None:
        if not routes:
            raise ValueError("a mail channel needs at least one route")
        self._routes = [
            _Route("mail" if i == 0 else "mail (fallback)", settings)
            for i, settings in enumerate(routes)
        ]
        self._levels = levels
        self._tz = tz
        self._limiter = trio.CapacityLimiter(1)

    @classmethod
    def from_config(
        cls,
        smtp: SmtpConfig,
        *,
        tz: tzinfo | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> MailChannel:
        first = SmtpSettings.from_config(smtp, ssl_context=ssl_context)
        routes = [first]
        fallback = smtp.fallback
        if fallback.host:
            routes.append(
                replace(
                    first,
                    host=fallback.host,
                    port=fallback.port,
                    security=fallback.security,
                    username=fallback.username,
                    password=fallback.password,
                    sender=fallback.sender or first.sender,
                )
            )
        return cls(routes, levels=frozenset(smtp.levels), tz=tz)

    @property
    def levels(self) -> frozenset[str]:
        return self._levels

    def describe(self) -> str:
        return " then ".join(route.target for route in self._routes)

    async def deliver(self, message: AlertMessage) -> None:
        """Send along the first route that lets us in; raises the last route's error,
        naming every route's failure."""
        failures: list[str] = []
        for route in self._routes:
            mail = self._build(route.settings, message)
            try:
                refused = await send_mail(route.settings, mail, limiter=self._limiter)
            except (SmtpUnavailable, MailRejected) as exc:
                failures.append(f"{route.settings.host}: {exc}")
                if exc.stage in FALLBACK_STAGES and route is not self._routes[-1]:
                    get_logger("alerter").warning(
                        "mail_route_failed", route=route.label, stage=exc.stage, next="fallback"
                    )
                    continue
                if len(failures) == 1:
                    raise
                both = "; ".join(failures)
                if isinstance(exc, MailRejected):
                    raise MailRejected(both, stage=exc.stage, code=exc.code) from exc
                raise SmtpUnavailable(both, stage=exc.stage) from exc
            if refused:
                get_logger("alerter").warning(
                    "mail_recipients_refused", recipients=refused_summary(refused)
                )
            return

    async def check(self, message: AlertMessage) -> list[ChannelCheck]:
        checks = []
        for route in self._routes:
            found = await diagnose_smtp(route.settings, msg=self._build(route.settings, message))
            checks.append(
                ChannelCheck(route.label, route.target, found.ok, found.stage, found.message)
            )
        return checks

    def _build(self, settings: SmtpSettings, message: AlertMessage) -> EmailMessage:
        domain = settings.sender.rpartition("@")[2] or "wixprint.invalid"
        return build_message(
            settings,
            message.subject,
            message.body,
            date=message.raised_at,
            tz=self._tz,
            message_id=f"<wixprint.{message.id}.{int(message.raised_at)}@{domain}>",
        )
