"""The mail channel: ``[smtp]`` as the first route, ``[smtp.fallback]`` as the second.

The second server is tried only when the first cannot be reached or does not let us in
(DNS, connect, TLS, login): a refusal after that (a recipient, a 4xx at send) would meet
the same fate there, and a mail the first server took must not go out twice. Both routes
send the same Message-ID, so should a mail still arrive twice (a thread abandoned mid-send)
mail clients show it once. ``send_along_routes`` is the blocking core, shared with the
systemd failure mail (``commands/failmail.py``).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from email.message import EmailMessage
from functools import partial

import trio

from wixprint.alerts.channels import AlertMessage, ChannelCheck
from wixprint.alerts.mailer import (
    MailRejected,
    SmtpSettings,
    build_message,
    diagnose_smtp,
    refused_summary,
    send_message_blocking,
)
from wixprint.config import SmtpConfig
from wixprint.errors import SmtpUnavailable
from wixprint.logs import get_logger

__all__ = [
    "FALLBACK_STAGES",
    "MailChannel",
    "RouteResult",
    "mail_routes",
    "send_along_routes",
    "without_passwords",
]

FALLBACK_STAGES = frozenset({"dns", "connect", "tls", "auth"})
"""A failure at one of these steps sends the mail along the next route."""


def mail_routes(
    smtp: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None
) -> list[SmtpSettings]:
    """The first route, and the fallback if configured (recipients and timeout shared; its
    sender defaults to the first's)."""
    first = SmtpSettings.from_config(smtp, ssl_context=ssl_context)
    fallback = smtp.fallback
    if not fallback.host:
        return [first]
    second = replace(
        first,
        host=fallback.host,
        port=fallback.port,
        security=fallback.security,
        username=fallback.username,
        password=fallback.password,
        sender=fallback.sender or first.sender,
    )
    return [first, second]


@dataclass(frozen=True, slots=True)
class RouteResult:
    route: SmtpSettings
    """The server that took the mail."""
    refused: dict[str, int]
    """Recipients it refused while accepting the others."""
    failures: tuple[str, ...]
    """Why the routes before it failed."""


def without_passwords(text: str, routes: Sequence[SmtpSettings]) -> str:
    """``text`` (an error to print) with every route's password cut out."""
    for route in routes:
        if route.password:
            text = text.replace(route.password, "***")
    return text


def send_along_routes(
    routes: Sequence[SmtpSettings], build: Callable[[SmtpSettings], EmailMessage]
) -> RouteResult:
    """Blocking: send ``build(route)`` along the first route that lets us in. Raises the
    last route's ``SmtpUnavailable`` or ``MailRejected``, naming every route's failure."""
    failures: list[str] = []
    for i, route in enumerate(routes):
        try:
            refused = send_message_blocking(route, build(route))
        except (SmtpUnavailable, MailRejected) as exc:
            failures.append(f"{route.host}: {exc}")
            if exc.stage in FALLBACK_STAGES and i + 1 < len(routes):
                continue
            if len(failures) == 1:
                raise
            both = "; ".join(failures)
            if isinstance(exc, MailRejected):
                raise MailRejected(both, stage=exc.stage, code=exc.code) from exc
            raise SmtpUnavailable(both, stage=exc.stage) from exc
        return RouteResult(route, refused, tuple(failures))
    raise ValueError("no mail route")


class MailChannel:
    name = "mail"

    def __init__(
        self, routes: list[SmtpSettings], *, levels: frozenset[str], tz: tzinfo | None = None
    ) -> None:
        if not routes:
            raise ValueError("a mail channel needs at least one route")
        self._routes = routes
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
        routes = mail_routes(smtp, ssl_context=ssl_context)
        return cls(routes, levels=frozenset(smtp.levels), tz=tz)

    @property
    def levels(self) -> frozenset[str]:
        return self._levels

    def describe(self) -> str:
        return " then ".join(_target(route) for route in self._routes)

    async def deliver(self, message: AlertMessage) -> None:
        """One worker thread for the whole attempt; cancellable, the thread then ends by
        its SMTP timeout (see ``mailer``)."""
        result = await trio.to_thread.run_sync(
            send_along_routes,
            self._routes,
            partial(self._build, message=message),
            limiter=self._limiter,
            abandon_on_cancel=True,
        )
        log = get_logger("alerter")
        if result.failures:
            log.warning("mail_fallback_used", route=result.route.host, failed=list(result.failures))
        if result.refused:
            log.warning("mail_recipients_refused", recipients=refused_summary(result.refused))

    async def check(self, message: AlertMessage) -> list[ChannelCheck]:
        checks = []
        for i, route in enumerate(self._routes):
            found = await diagnose_smtp(route, msg=self._build(route, message=message))
            label = "mail" if i == 0 else "mail (fallback)"
            checks.append(ChannelCheck(label, _target(route), found.ok, found.stage, found.message))
        return checks

    def _build(self, settings: SmtpSettings, *, message: AlertMessage) -> EmailMessage:
        domain = settings.sender.rpartition("@")[2] or "wixprint.invalid"
        return build_message(
            settings,
            message.subject,
            message.body,
            date=message.raised_at,
            tz=self._tz,
            message_id=f"<wixprint.{message.id}.{int(message.raised_at)}@{domain}>",
        )


def _target(route: SmtpSettings) -> str:
    return f"{route.host}:{route.port} ({route.security})"
