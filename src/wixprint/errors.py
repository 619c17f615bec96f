"""Every exception type of wix-printer-service, in one place.

The tree::

    WixprintError
    ├── ConfigError                 bad configuration: nothing starts, exit 78
    ├── DependencyUnavailable       an *expected* outage: backed off, never counts as a bug
    │   ├── WixUnavailable          Wix API unreachable, 5xx, 429, timeout
    │   ├── PrinterOffline          printer unreachable (connect refused, timeout, reset)
    │   ├── PrinterNotReady         printer answers but cannot print now (paper out, cover open)
    │   ├── AlertChannelUnavailable an alert channel cannot take a message now (retry later)
    │   │   └── SmtpUnavailable     SMTP server unreachable or refusing for now
    │   ├── SpoolUnwritable         the spool's disk is full or read-only (also a SpoolError)
    │   └── ClockUntrusted          no trustworthy time yet to record the first start
    ├── WixAuthError                Wix rejected our credentials (401/403): configuration, alerted
    ├── WixRequestError             Wix rejected a request (other 4xx): a bug on our side
    ├── AlertChannelRejected        an alert channel refuses for good (login, token, 4xx)
    ├── PrintOutcomeUnknown         bytes left for the printer but no proof came back: the job
    │                               may or may not be on paper, so it is never blindly resent
    ├── RenderError                 an order could not be turned into a ticket (poison order)
    ├── WebhookRejected             a webhook failed verification (signature, expiry, shape)
    ├── SpoolError                  the spool database cannot do what was asked
    ├── InjectedFault               raised by an armed fault point (tests, crash injection)
    └── RestartIntensityExceeded    a supervisor gave up: carries its recent restart history

Dependency outages are states, not bugs: the actor that meets one backs off and reports
degraded health. Supervisors never count them against restart intensity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wixprint.vocabulary import PrinterStatus

__all__ = [
    "AlertChannelRejected",
    "AlertChannelUnavailable",
    "ClockUntrusted",
    "ConfigError",
    "DependencyUnavailable",
    "InjectedFault",
    "PrintOutcomeUnknown",
    "PrinterNotReady",
    "PrinterOffline",
    "RenderError",
    "RestartIntensityExceeded",
    "SmtpUnavailable",
    "SpoolError",
    "SpoolUnwritable",
    "WebhookRejected",
    "WixAuthError",
    "WixRequestError",
    "WixUnavailable",
    "WixprintError",
]


class WixprintError(Exception):
    """Base of every error this service raises on purpose."""


class ConfigError(WixprintError):
    """The configuration is unusable.

    Attributes:
        problems: one line per problem, each naming the key path and what was expected.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("; ".join(self.problems))


class DependencyUnavailable(WixprintError):
    """Something outside the process is down. Expected; handled by backoff, not restarts."""


class WixUnavailable(DependencyUnavailable):
    """The Wix API cannot be reached or answered 429/5xx.

    Attributes:
        retry_after: seconds Wix asked us to wait (``Retry-After``), if it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PrinterOffline(DependencyUnavailable):
    """The printer cannot be reached (refused, timed out, reset before anything was sent)."""


class PrinterNotReady(DependencyUnavailable):
    """The printer answers but cannot print (paper out, cover open, offline). Nothing was sent."""

    def __init__(self, message: str, *, status: PrinterStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


class AlertChannelUnavailable(DependencyUnavailable):
    """An alert channel (mail server, push service, webhook receiver) cannot take a message
    right now: unreachable, timed out, 429 or 5xx. The message waits in the outbox.

    Attributes:
        stage: the step that failed (``dns``, ``connect``, ``tls``, ``send``, ...).
    """

    def __init__(self, message: str, *, stage: str = "send") -> None:
        super().__init__(message)
        self.stage = stage


class SmtpUnavailable(AlertChannelUnavailable):
    """The SMTP server cannot take mail right now."""


class ClockUntrusted(DependencyUnavailable):
    """Nobody vouches for the clock yet (no NTP sync, no answer from Wix), so the first start
    (the ``not_before`` gate) is not recorded and orders are not taken: a clock weeks behind
    would print weeks of history, one ahead would drop new orders."""


class AlertChannelRejected(WixprintError):
    """An alert channel or our settings refuse the message for good: a bad login or token, a
    4xx answer. Retrying unchanged will not help; the message stays in the outbox (retried
    with backoff) until the settings are fixed.

    Attributes:
        stage: the step that failed (``auth``, ``recipient``, ``tls``, ``send``, ...).
        code: the SMTP or HTTP status code, if there was one.
    """

    def __init__(self, message: str, *, stage: str = "send", code: int | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.code = code


class WixAuthError(WixprintError):
    """Wix answered 401/403: the key, its permissions or the site id is wrong. Alert, do not
    crash-loop (``wix/diagnosis.py`` tells which is likely).

    Attributes:
        status_code: 401 or 403.
        wix_message, wix_code: ``message`` and ``details.applicationError.code`` of Wix's
            answer, free of the key; "" when Wix sent none.
    """

    def __init__(
        self, message: str, *, status_code: int, wix_message: str = "", wix_code: str = ""
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.wix_message = wix_message
        self.wix_code = wix_code


class WixRequestError(WixprintError):
    """Wix rejected a request with a 4xx other than 401/403/429."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class PrintOutcomeUnknown(WixprintError):
    """Bytes were (partly) sent but no proof of printing arrived.

    The ticket may already be on paper. The job goes back to the queue marked as a possible
    duplicate, so the next copy carries a REPRINT banner.

    Attributes:
        answered: the printer answered status all along (it is there, it just never
            confirmed); False when the connection broke or went silent. Only answered
            outcomes count towards setting a job aside: a printer outage is not the job's
            fault.
    """

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered


class RenderError(WixprintError):
    """An order could not be rendered into a ticket."""


class WebhookRejected(WixprintError):
    """A webhook body failed verification or could not be understood.

    Attributes:
        status_code: the HTTP status to answer with (401 bad token, 400 bad shape, 413 too big).
    """

    def __init__(self, message: str, *, status_code: int = 401) -> None:
        super().__init__(message)
        self.status_code = status_code


class SpoolError(WixprintError):
    """The spool database failed (cannot open, cannot write, integrity problem)."""


class SpoolUnwritable(SpoolError, DependencyUnavailable):
    """The spool's storage refuses writes: the disk is full, read-only or failing.

    An outage of the SD card, not a bug: restarting an actor (or the process) changes
    nothing, so supervisors back off without counting it, and the spool actor reports it
    and notices by itself when writing works again.

    Attributes:
        full: the disk has no room left (else it is read-only or failing).
    """

    def __init__(self, message: str, *, full: bool = False) -> None:
        super().__init__(message)
        self.full = full


class InjectedFault(WixprintError):
    """Raised by an armed fault point."""

    def __init__(self, point: str) -> None:
        super().__init__(f"injected fault at {point}")
        self.point = point


class RestartIntensityExceeded(WixprintError):
    """A supervisor saw more restarts than its intensity allows and gave up.

    Attributes:
        supervisor: the supervisor's name.
        history: the recent restart events (most recent last), for the parent and the logs.
    """

    def __init__(self, supervisor: str, history: Sequence[object]) -> None:
        super().__init__(f"supervisor {supervisor!r} reached its maximum restart intensity")
        self.supervisor = supervisor
        self.history: tuple[object, ...] = tuple(history)
