"""Sending alert mail with stdlib smtplib in a worker thread.

aiosmtplib is asyncio-only, so the blocking client runs through ``trio.to_thread`` behind a
``CapacityLimiter(1)``. The SMTP ``timeout`` bounds every socket operation, but that is 20 s
each by default, so a cancelled send abandons its thread: a stop never waits for a mail
server. The thread ends by itself within the timeout (and keeps the limiter until then); a
mail it still delivers was never marked sent, so it may arrive twice. Failures are sorted
into *temporary*
(``SmtpUnavailable``: retry later with backoff) and *permanent* (``MailRejected``: the
configuration or the server says no; retrying will not help). Neither the password nor the
settings' repr ever appears in a message.
"""

from __future__ import annotations

import contextlib
import email.utils
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from typing import Literal

import trio

from wixprint.config import SmtpConfig
from wixprint.errors import AlertChannelRejected, SmtpUnavailable

Security = Literal["starttls", "ssl", "none"]
Stage = Literal["config", "dns", "connect", "tls", "auth", "recipient", "send", "ok"]


class MailRejected(AlertChannelRejected):
    """The server or our configuration refuses the mail for good (bad login, 5xx,
    every recipient refused, TLS not possible). Retrying unchanged will not help.

    Attributes:
        stage: where it failed (``auth``, ``recipient``, ``tls``, ``send``, ...).
        code: the SMTP reply code, if there was one.
    """

    def __init__(self, message: str, *, stage: Stage, code: int | None = None) -> None:
        super().__init__(message, stage=stage, code=code)
        self.stage: Stage = stage


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    recipients: tuple[str, ...] = ()
    timeout: float = 20.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    """None: ``ssl.create_default_context()`` (system trust store). Tests pass their own."""
    local_hostname: str = ""
    """Name sent with EHLO; empty: ``socket.gethostname()`` (no DNS lookup, unlike getfqdn)."""

    @classmethod
    def from_config(
        cls, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpSettings:
        return cls(
            host=config.host,
            port=config.port,
            security=config.security,
            username=config.username,
            password=config.password,
            sender=config.sender,
            recipients=tuple(config.recipients),
            timeout=config.timeout,
            ssl_context=ssl_context,
        )

    @property
    def enabled(self) -> bool:
        """E-mail is configured at all (host, sender and at least one recipient)."""
        return bool(self.host and self.sender and self.recipients)


@dataclass(frozen=True, slots=True)
class SmtpDiagnosis:
    ok: bool
    stage: Stage
    message: str


def build_message(
    settings: SmtpSettings,
    subject: str,
    body: str,
    *,
    date: float,
    tz: tzinfo | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A plain-text mail dated ``date`` (the alert's original time, not the sending time).

    ``message_id`` lets an outbox keep one id across retries; default: a fresh one.
    """
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.recipients)
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = email.utils.format_datetime(datetime.fromtimestamp(date, tz or UTC))
    domain = settings.sender.rpartition("@")[2] or "wixprint.invalid"
    msg["Message-ID"] = message_id or email.utils.make_msgid("wixprint", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def send_message_blocking(settings: SmtpSettings, msg: EmailMessage) -> dict[str, int]:
    """Deliver ``msg`` to ``settings.recipients``; blocking, for a worker thread.

    Returns the recipients the server refused while accepting the others (address → SMTP
    code); empty when all were accepted. Raises SmtpUnavailable (temporary) or MailRejected.
    """
    tracker = _Tracker()
    try:
        return _session(settings, msg, tracker)
    except (smtplib.SMTPException, OSError) as exc:
        stage, temporary, text, code = _classify(exc, tracker.stage, settings)
        if temporary:
            raise SmtpUnavailable(f"{stage}: {text}", stage=stage) from exc
        raise MailRejected(f"{stage}: {text}", stage=stage, code=code) from exc


async def send_mail(
    settings: SmtpSettings, msg: EmailMessage, *, limiter: trio.CapacityLimiter
) -> dict[str, int]:
    """``send_message_blocking`` in a worker thread; one mail at a time per limiter.

    Cancellable: the caller returns at once and the thread is left to end by its timeout.
    """
    return await trio.to_thread.run_sync(
        send_message_blocking, settings, msg, limiter=limiter, abandon_on_cancel=True
    )


async def diagnose_smtp(
    settings: SmtpSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    msg: EmailMessage | None = None,
) -> SmtpDiagnosis:
    """Send a test mail step by step and name the stage that failed.

    Stages in order: config, dns, connect, tls, auth, recipient/send. ``msg`` defaults to a
    short English test mail.
    """
    if ssl_context is not None:
        settings = replace(settings, ssl_context=ssl_context)
    missing = [
        name
        for name, value in (
            ("smtp.host", settings.host),
            ("smtp.sender", settings.sender),
            ("smtp.recipients", settings.recipients),
        )
        if not value
    ]
    if missing:
        return SmtpDiagnosis(False, "config", f"not configured: {', '.join(missing)} empty")
    try:
        with trio.fail_after(settings.timeout):
            await trio.socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return SmtpDiagnosis(False, "dns", f"cannot resolve {settings.host!r}: {exc.strerror}")
    except trio.TooSlowError:
        text = f"resolving {settings.host!r} timed out after {settings.timeout:g} s"
        return SmtpDiagnosis(False, "dns", text)
    if msg is None:
        msg = build_message(
            settings,
            "wix-printer-service test",
            "This is a test e-mail from wix-printer-service.\n",
            date=time.time(),
        )
    tracker = _Tracker()
    try:
        refused = await trio.to_thread.run_sync(
            _session, settings, msg, tracker, abandon_on_cancel=True
        )
    except (smtplib.SMTPException, OSError) as exc:
        stage, _temporary, text, _code = _classify(exc, tracker.stage, settings)
        return SmtpDiagnosis(False, stage, text)
    if refused:
        text = f"sent, but the server refused: {refused_summary(refused)}"
        return SmtpDiagnosis(False, "recipient", text)
    where = f"{settings.host}:{settings.port} ({settings.security})"
    return SmtpDiagnosis(
        True, "ok", f"test mail accepted by {where} for {len(settings.recipients)} recipient(s)"
    )


def retry_delay(attempts: int, *, base: float = 30.0, cap: float = 1800.0) -> float:
    """Seconds before the next try after ``attempts`` failed ones: base, 2·base, … ≤ cap."""
    if attempts <= 0:
        return 0.0
    return min(cap, base * 2.0 ** min(attempts - 1, 30))


# -- the session and its failure classification -------------------------------------------


class _Tracker:
    """Which stage the blocking session reached; read after it failed."""

    stage: Stage = "connect"


def _session(settings: SmtpSettings, msg: EmailMessage, tracker: _Tracker) -> dict[str, int]:
    context = settings.ssl_context or ssl.create_default_context()
    local = settings.local_hostname or socket.gethostname()
    tracker.stage = "connect"
    smtp: smtplib.SMTP
    # Host in the constructor (it connects): starttls and SMTP_SSL take the TLS server name
    # from it, a later connect() would leave it empty.
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=local,
            timeout=settings.timeout,
            context=context,
        )
    else:
        smtp = smtplib.SMTP(
            settings.host, settings.port, local_hostname=local, timeout=settings.timeout
        )
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            tracker.stage = "tls"
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            tracker.stage = "auth"
            smtp.login(settings.username, settings.password)
        tracker.stage = "send"
        refused = smtp.send_message(
            msg, from_addr=settings.sender, to_addrs=list(settings.recipients)
        )
        tracker.stage = "ok"
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()  # the mail was accepted; a rude goodbye changes nothing
        return {addr: code for addr, (code, _reply) in refused.items()}
    finally:
        smtp.close()


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:300]


def _temporary(code: int) -> bool:
    return code < 0 or 400 <= code < 500


def _classify(
    exc: BaseException, stage: Stage, settings: SmtpSettings
) -> tuple[Stage, bool, str, int | None]:
    """(stage, temporary?, human text, SMTP code) for a failed session."""
    stage, temporary, text, code = _classify_raw(exc, stage, settings)
    if settings.password:
        text = text.replace(settings.password, "***")
    return stage, temporary, text, code


def _classify_raw(
    exc: BaseException, stage: Stage, settings: SmtpSettings
) -> tuple[Stage, bool, str, int | None]:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, socket.gaierror):
        return "dns", True, f"cannot resolve {settings.host!r}: {exc.strerror}", None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = {addr: code for addr, (code, _r) in exc.recipients.items()}
        listed = "; ".join(
            f"{addr}: {_reply(code, reply)}" for addr, (code, reply) in exc.recipients.items()
        )
        temporary = all(_temporary(c) for c in codes.values())
        first = next(iter(codes.values()), None)
        return "recipient", temporary, f"all recipients refused ({listed})", first
    if isinstance(exc, smtplib.SMTPSenderRefused):
        text = f"sender {exc.sender!r} refused: {_reply(exc.smtp_code, exc.smtp_error)}"
        return "send", _temporary(exc.smtp_code), text, exc.smtp_code
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = (
            f"login as {settings.username!r} failed: {_reply(exc.smtp_code, exc.smtp_error)}"
            " (check smtp.username and the password)"
        )
        return "auth", _temporary(exc.smtp_code), text, exc.smtp_code
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if stage == "tls":
            text = f"{where} does not offer STARTTLS (try security = ssl on port 465)"
        elif stage == "auth":
            text = f"{where} does not offer AUTH here (check smtp.security and smtp.port)"
        else:
            text = f"not supported by the server: {exc}"
        return stage, False, text, None
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):
            return stage, True, f"{where} did not answer within {settings.timeout:g} s", None
        return stage, True, f"{where} closed the connection ({exc})", None
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return stage, _temporary(code), f"server answered {_reply(code, exc.smtp_error)}", code
    if isinstance(exc, smtplib.SMTPException):
        return stage, False, str(exc), None
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = f"certificate of {settings.host!r} not trusted: {exc.verify_message}"
        return "tls", False, text, None
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return "tls", True, f"{where} closed the connection during TLS ({exc.reason})", None
    if isinstance(exc, ssl.SSLError):
        text = (
            f"TLS with {where} failed ({exc.reason or exc}); check smtp.security and "
            "smtp.port (465 = ssl, 587 = starttls, 25 = none/starttls)"
        )
        return "tls", False, text, None
    if isinstance(exc, TimeoutError):
        return stage, True, f"{where} timed out after {settings.timeout:g} s", None
    if isinstance(exc, ConnectionRefusedError):
        return "connect", True, f"connection to {where} refused", None
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        return stage, True, f"network error with {where}: {reason}", None
    return stage, False, type(exc).__name__, None


def refused_summary(refused: Mapping[str, int]) -> str:
    """``a@x (550), b@y (450)`` for a log line."""
    return ", ".join(f"{addr} ({code})" for addr, code in refused.items())
