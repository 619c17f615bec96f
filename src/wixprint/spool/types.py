"""The spool's request and answer types: what other actors hold to talk to it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from wixprint.vocabulary import JobTarget, Variant

ALERT_SLIP_KIND = "alert"
"""Job kind of an alert slip: printed after every order ticket waiting at its printer."""
ALERT_SOURCE = "alert"
"""``orders.source`` of an alert slip's row (``db_slips``): never an order of the shop."""


class JobState(enum.Enum):
    QUEUED = "queued"
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"
    """Quarantined after repeated render errors (a poison order). Never for printer outages."""
    ATTENTION = "attention"
    """Needs attention: sent several times to a printer that answers, never confirmed. Set
    aside so the queue moves on; a late proof marks it printed, an operator reprint replaces
    it. Never printed without proof."""
    REPLACED = "replaced"
    """Was set aside; an operator reprint took its place."""


class AcceptOutcome(enum.Enum):
    NEW = "new"
    """First sight of the order; jobs created if it is printable."""
    DUPLICATE = "duplicate"
    """Seen already with the same or a newer ``updatedDate``: nothing changed."""
    UPDATED = "updated"
    """Stored again (newer), but nothing the kitchen must know: no new jobs."""
    REVISED = "revised"
    """A new revision with jobs (approved later, changed items, canceled)."""
    IGNORED = "ignored"
    """Not printable and never printed (e.g. canceled before approval): stored, no jobs."""
    SCHEDULED = "scheduled"
    """A pre-order held until its release time: stored, at most a notice slip."""


CAME_DUE_SOURCES = frozenset({"release", "payment"})
"""Arrivals of an order the spool already holds whose tickets came due (a pre-order's
release, its payment method): they are accepted while intake is paused for a full disk, like
the tickets of every order already received."""


@dataclass(frozen=True, slots=True)
class IncomingOrder:
    """An order handed to the spool by the fetcher or the webhook route."""

    order_id: str
    number: str
    status: str
    created: str
    """``createdDate`` as Wix sent it (UTC ISO)."""
    updated: str
    """``updatedDate`` as Wix sent it (UTC ISO): orders revisions."""
    fingerprints: Mapping[str, str]
    """Per receipt kind, a digest of what its ticket depends on; a change of one means a
    CHANGED ticket of that kind (``receipts.fingerprints``)."""
    printable: bool
    """What ``receipts.policy.decide`` said: the one rule of every way in."""
    raw_json: str
    """The Wix order object, as JSON text (rendering parses it again)."""
    targets: tuple[JobTarget, ...]
    """Where each receipt of a NEW order goes (from routing and layout)."""
    source: str = "poll"
    """poll | webhook | push | release | payment | demo | test: recorded for the status
    pages (``CAME_DUE_SOURCES``: the order is already held)."""
    changes_until: str = ""
    """Wix time after which a change of the order prints nothing (it is history: a refund
    or an archive months later reaches no station). "" for no limit."""
    hold_until: str = ""
    """Wix time until which a pre-order's tickets wait (``receipts.schedule``); "" for none.
    Once an order had tickets beyond its notice slip it is never held again."""
    notice_targets: tuple[JobTarget, ...] = ()
    """Where a held order's notice slip goes (printed once, never updated)."""
    await_payment: bool = False
    """Driver slips and customer receipts wait for the payment method (fetched from Wix once
    per order) until the order's payment is settled; the kitchen ticket never waits."""
    settle_payment: bool = False
    """This accept settles the payment: ``payment`` is what Wix said ("" if nothing came)."""
    payment: str = ""
    """``orderTransactions`` as JSON text, with ``settle_payment``."""
    skip_reason: str = ""
    """Why it does not print (``receipts.policy``), for ``/orders``; "" when it does."""
    due: str = ""
    """Due time (Wix time), for the status pages."""
    location_id: str = ""
    location_name: str = ""


@dataclass(frozen=True, slots=True)
class QuarantinedOrder:
    """An order intake could not take in, kept aside with the text Wix sent."""

    key: str
    """Wix's order id, or ``sha256:…`` of the text when it has none."""
    number: str
    updated: str
    """The ``updatedDate`` that failed: the same or an older one is not tried again."""
    source: str
    stage: str
    error: str
    raw: str
    """The order as received, as ASCII JSON (nothing lost, nothing that cannot be stored)."""


@dataclass(frozen=True, slots=True)
class AcceptResult:
    outcome: AcceptOutcome
    revision: int
    job_ids: tuple[int, ...] = ()
    printers: tuple[str, ...] = ()
    """Printers that got new jobs (distinct, in job order): ring their doorbells."""
    hold_until: str = ""
    """Held until then (Wix time); "" when nothing is held."""
    payment_wait: bool = False
    """Some of its tickets wait for the payment method."""
    first_sight: bool = field(kw_only=True)
    """Neither stored nor buried before: what the "orders received" counter counts (an
    outcome cannot tell: a pre-order is first seen as SCHEDULED, an unprintable order is
    IGNORED every time it changes). Also true for an order set aside (quarantined) at an
    earlier arrival, for one whose tombstone expired after two years, and for an order a
    restored backup did not hold yet: each is taken into the spool for the first time."""


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    order_id: str
    order_number: str
    revision: int
    kind: str
    printer: str
    variant: Variant
    state: JobState
    attempts: int
    reprint: bool
    """Print with a REPRINT banner: interrupted before proof, or an operator reprint."""
    reason: str
    """new | interrupted | operator | restored | before_history (all but new: REPRINT)"""
    created_at: float
    """Wall-clock seconds (time.time()) the job was created."""
    render_failures: int = 0
    error: str | None = None
    copy_no: int = 0
    """0 for the tickets of a revision; 1, 2, ... for operator reprints of the same ticket."""
    unproven: int = 0
    """Attempts that reached a printer which answered but never confirmed the ticket."""
    unanswered: int = 0
    """Attempts sent whose printer then went silent or dropped the connection."""


@dataclass(frozen=True, slots=True)
class QueueStats:
    printer: str
    depth: int
    """Jobs queued or printing."""
    oldest_age: float | None
    """Seconds since the oldest queued job was created, None if empty."""
    printed: int
    failed: int
    attention: int = 0
    """Jobs set aside as needing attention."""


@dataclass(frozen=True, slots=True)
class TicketSummary:
    job_id: int
    kind: str
    printer: str
    revision: int
    variant: Variant
    state: JobState
    reprint: bool
    updated_at: float


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """An order for the status pages: no names, phones or addresses."""

    order_id: str
    number: str
    status: str
    created: str
    received_at: float
    source: str
    revision: int
    tickets: tuple[TicketSummary, ...]
    skip_reason: str = ""
    """Why it prints nothing ("" when it prints)."""
    hold_until: str = ""
    """Scheduled: the Wix time its tickets print ("" when not held)."""
    due: str = ""
    location_id: str = ""
    location_name: str = ""
    payment: str = ""
    """waiting (tickets wait for the method) | known | unavailable | "" (not needed yet)."""


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An order with tickets still to come: held until ``hold_until``, or driver slip and
    customer receipt waiting (since ``payment_wait``, wall seconds) for the payment method."""

    order_id: str
    number: str
    hold_until: str
    payment_wait: float | None
    due: str = ""


@dataclass(frozen=True, slots=True)
class OutboxAlert:
    """One alert in the outbox; from ``pending_deliveries`` its ``attempts`` are that
    channel's."""

    id: int
    key: str
    level: str
    subject: str
    body: str
    raised_at: float
    attempts: int
    kind: str = "raise"
    """raise | repeat | resolve"""
    problem_level: str = ""
    """The problem's severity (a resolved message is level info, its problem's is not)."""
    since: float | None = None
    """When the problem began."""
    facts: str = ""
    """The problem's facts as JSON (channels that word their own text: printer slips)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAlert:
    """An alert to put in the outbox, with the channels that must deliver it."""

    key: str
    level: str
    kind: str
    subject: str
    body: str
    raised_at: float
    since: float
    problem_level: str
    channels: tuple[str, ...]
    """Empty: nobody to tell; the alert is stored as done (logs, /health and events had it)."""
    facts: str = ""
    """The problem's facts as JSON (see ``OutboxAlert.facts``)."""


@dataclass(frozen=True, slots=True)
class JobHistoryEntry:
    """One job state change, for the status pages (``recent_job_events``)."""

    id: int
    at: float
    job_id: int
    order_id: str
    order_number: str | None
    """None once the order itself was pruned."""
    kind: str
    printer: str
    event: str
    """created | claim | printed | release | interrupted | render_failed | quarantine |
    set_aside | late_proof | replaced | restored"""
    state: JobState
    """The state after the event."""
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class SpoolStatistics:
    schema_version: int
    db_bytes: int
    """Main database file plus its write-ahead log."""
    orders: int
    jobs: Mapping[str, int]
    """Job count per state value (every state present, zero included)."""
    pending_alerts: int
