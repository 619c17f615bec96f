"""Events on the in-process bus: what actors tell each other and the status surface.

Events carry order numbers, never customer names, phones or addresses. ``at`` is wall-clock
seconds (``time.time()``), so events can be shown and mailed with their original time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from wixprint.vocabulary import Paper


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: float

    @property
    def kind(self) -> str:
        """Snake-case event name for JSON (``order_received``)."""
        name = type(self).__name__
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"event": self.kind}
        data.update(asdict(self))
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReceived(Event):
    order_id: str
    number: str
    revision: int
    jobs: int
    source: str
    outcome: str
    first_sight: bool
    """The order's first arrival (neither stored nor remembered by its tombstone)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobsQueued(Event):
    """The doorbell: new jobs for these printers are in the spool."""

    printers: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketPrinted(Event):
    job_id: int
    order_number: str
    printer: str
    receipt: str
    reprint: bool
    latency: float
    """Seconds from job creation to proof of print."""
    late: bool = False
    """Confirmed by a process id that came back after the job was given up on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketQuarantined(Event):
    job_id: int
    order_number: str
    printer: str
    receipt: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketNeedsAttention(Event):
    """A ticket went to a printer that answers several times and was never confirmed: it is
    set aside (the queue moves on) until a late proof or an operator reprint."""

    job_id: int
    order_number: str
    printer: str
    receipt: str
    attempts: int
    """Unconfirmed attempts: as many copies may be on paper, each after the first marked
    REPRINT."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderQuarantined(Event):
    """An order Wix sent could not be taken in; it was set aside with its text."""

    order_id: str
    """Wix's order id, or ``sha256:…`` of the text when it has none."""
    number: str
    source: str
    stage: str
    """clean | parse | route | commit: where handling it failed."""
    error: str
    """The exception type only (its message may quote order content)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterState(Event):
    printer: str
    online: bool
    paper: Paper
    cover_open: bool
    since: float
    reason: str = ""
    paused: bool = False
    """An operator paused it: its jobs wait and its problems raise no alert."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InternetState(Event):
    online: bool
    since: float
    target: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageState(Event):
    """The spool's disk changed: can it write, are new orders taken (not while full)."""

    writable: bool
    intake: bool
    since: float
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockState(Event):
    """The wall clock's standing changed: trusted or not, and Wix's opinion of it."""

    trusted: bool
    skewed: bool
    """It differs from Wix's time by more than ``service.clock_skew_limit``."""
    offset: float | None
    """Wix's time minus ours, seconds (None: no recent answer from Wix)."""
    since: float
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WixAuthFailed(Event):
    status_code: int
    causes: tuple[str, ...] = ()
    """Likely causes, most likely first (``AuthCause`` values: permission, site_id, ...)."""
    wix_said: str = ""
    """Wix's error message and code (never the key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WixReachable(Event):
    """A Wix call succeeded (ends a Wix auth or availability problem)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorRestarted(Event):
    actor: str
    error_type: str
    message: str
    restarts: int
    delay: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceSample(Event):
    cpu_percent: float | None
    memory_percent: float | None
    disk_percent: float | None
    rss_bytes: int | None
    open_files: int | None
    temperature_c: float | None
    throttled_now: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent(Event):
    key: str
    level: Literal["critical", "warning", "info"]
    subject: str
    state: Literal["raised", "resolved", "sent", "repeat"]
    channel: str = ""
    """Who delivered it (``mail``, ``ntfy``, ``webhook``), for ``sent``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryRecorded(Event):
    """Something that failed came back."""

    what: str
    down_since: float
    duration: float
    held: int
    """Jobs or alerts held during the outage."""
