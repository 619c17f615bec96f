"""What an incoming order prints: the spool's pure revision rules.

Given what the spool already holds for an order (its row, or the tombstone a pruned row left)
and a fresh copy from Wix, decide whether it is a duplicate, and if not which tickets (if
any) a new revision prints. No I/O: the database layer reads the stored state and the
horizons, calls :func:`plan_accept` and writes the plan in the same transaction.

Rules (``updated`` is Wix's ``updatedDate``; "kind" is a receipt kind):

* unknown order: stored; printable → revision 1, one NEW job per target (outcome NEW);
  not printable → no jobs (IGNORED).
* known order with ``updated`` not newer than the stored one: DUPLICATE, nothing changes,
  so a repeated fetch or webhook and an out-of-order older update are both no-ops.
* newer, and it never had jobs (revision 0): printable now → revision 1 with NEW jobs
  (outcome REVISED: "approved later"); still not printable → IGNORED.
* newer, had jobs, status became CANCELED → revision + 1, CANCELED tickets to every
  (kind, printer) that had jobs, except the customer receipt.
* newer, had jobs, printable: each kind whose fingerprint changed (every kind, if it was
  canceled before and is approved again) gets a CHANGED ticket at every printer it had and
  at printers it newly goes to; a kind the order did not have before and now needs (pickup
  became delivery: the driver slip) gets a NEW ticket. The customer receipt never gets a
  CHANGED one: the guest has left with theirs.
* newer, had jobs, but changed after ``changes_until`` (long after it was due): UPDATED. A
  refund, an archive or a chargeback months later is no news for the kitchen or the driver.
* anything else → UPDATED: stored, no tickets.

Tickets that wait (what an order needs *now* is a part of its targets):

* **held pre-orders** (``hold_until``): an order that never had tickets beyond its notice
  slip and whose release time has not come prints only the notice slip (NEW, outcome
  SCHEDULED); a change or cancellation while held prints nothing and is simply stored. Its
  release is the same order accepted again with ``hold_until`` empty: not a duplicate even
  with the same ``updatedDate`` (the stored row is held, the copy is not), and the tickets
  then print as kinds that newly apply. Once released, an order is never held again.
* **payment method** (``await_payment``): until the order's payment is settled, driver slips
  and customer receipts wait; settling it (``settle_payment``) is again an accept of the
  same order, never a duplicate while the stored row is unsettled.

A release or a settlement with the same ``updatedDate`` keeps the revision: the order did
not change, only its tickets came due.

Every job of a plan carries the REPRINT banner (``reason``) when the spool cannot know that
it is not on paper already: the order was last updated before the restore horizon, or it was
never seen and Wix created it before the spool's history starts (``horizons.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from wixprint.spool.horizons import Horizon
from wixprint.spool.types import AcceptOutcome, IncomingOrder
from wixprint.vocabulary import JobTarget, Variant
from wixprint.wixtime import parse_wix_time

__all__ = [
    "CANCELED_STATUSES",
    "NOTICE_KINDS",
    "NO_UPDATE_KINDS",
    "PAYMENT_KINDS",
    "AcceptPlan",
    "PlannedJob",
    "StoredOrder",
    "is_before_horizon",
    "is_canceled",
    "is_newer",
    "parse_wix_time",
    "plan_accept",
]

CANCELED_STATUSES = frozenset({"CANCELED", "CANCELLED", "REJECTED"})
"""A rejection after printing reaches the stations like a cancellation."""
NOTICE_KINDS = frozenset({"preorder"})
"""Job kinds that only announce an order (a held pre-order's slip): never updated."""
NO_UPDATE_KINDS = frozenset({"customer"}) | NOTICE_KINDS
"""Receipt kinds that get no CHANGED / CANCELED tickets: the guest has left with theirs,
and a notice slip is no order to cook."""
PAYMENT_KINDS = frozenset({"driver", "customer"})
"""Tickets that print the payment method, so wait (a few seconds) for it."""


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """What the revision rules need of the stored order (row or tombstone)."""

    status: str
    updated: str
    fingerprints: Mapping[str, str]
    """Per receipt kind; empty for rows written before per-kind fingerprints (no kind then
    counts as changed, so an upgrade never prints a wave of CHANGED tickets)."""
    revision: int
    """0 while the order never had jobs."""
    targets: tuple[JobTarget, ...]
    """(kind, printer) pairs of its jobs, in job order; empty only for rows whose jobs an
    older version pruned."""
    hold_until: str = ""
    """Held until then ("" when not held)."""
    payment_settled: bool = True
    """The payment method was fetched (or given up on): nothing waits for it any more."""

    @property
    def released(self) -> bool:
        """It had tickets beyond a notice slip: it is never held again."""
        return any(t.kind not in NOTICE_KINDS for t in self.targets)


@dataclass(frozen=True, slots=True)
class PlannedJob:
    target: JobTarget
    variant: Variant


@dataclass(frozen=True, slots=True)
class AcceptPlan:
    outcome: AcceptOutcome
    revision: int
    """The order's revision after this accept."""
    jobs: tuple[PlannedJob, ...] = field(default=())
    reason: str = "new"
    """new | restored | before_history; anything but ``new`` prints the REPRINT banner."""
    hold_until: str = ""
    """What the row keeps: held until then, "" when not held."""
    payment_wait: bool = False
    """Driver slips / customer receipts of the order wait for its payment method."""
    payment_settled: bool = True
    """Nothing of the order waits for the payment method any more."""

    @property
    def store(self) -> bool:
        """Whether the order row is written at all."""
        return self.outcome is not AcceptOutcome.DUPLICATE

    @property
    def targets(self) -> tuple[JobTarget, ...]:
        return tuple(job.target for job in self.jobs)


def is_newer(incoming: str, stored: str) -> bool:
    """Whether ``incoming`` is strictly later; unparsable times compare as text."""
    new, old = parse_wix_time(incoming), parse_wix_time(stored)
    if new is not None and old is not None:
        return new > old
    return incoming.strip() > stored.strip()


def is_before_horizon(stamp: str, horizon: str) -> bool:
    """Whether ``stamp`` lies before ``horizon``; an unreadable stamp may, so it does."""
    limit = parse_wix_time(horizon)
    if limit is None:
        return False
    moment = parse_wix_time(stamp)
    return moment is None or moment < limit


def is_canceled(status: str) -> bool:
    return status.strip().upper() in CANCELED_STATUSES


def _distinct(targets: Iterable[JobTarget]) -> tuple[JobTarget, ...]:
    return tuple(dict.fromkeys(targets))


def _is_history(order: IncomingOrder) -> bool:
    """Whether this change came after ``changes_until``: no station needs to hear of it."""
    until, when = parse_wix_time(order.changes_until), parse_wix_time(order.updated)
    return until is not None and when is not None and when > until


def _reason(order: IncomingOrder, known: bool, horizon: Horizon) -> str:
    if is_before_horizon(order.updated, horizon.restored):
        return "restored"
    if not known and is_before_horizon(order.created, horizon.history_start):
        return "before_history"
    return "new"


@dataclass(frozen=True, slots=True)
class _Readiness:
    """Which of the order's targets may print now, and what waits."""

    held: bool
    hold_until: str
    settled: bool
    targets: tuple[JobTarget, ...]
    """The targets that may print now (the notice slips only, while held)."""
    deferred: bool
    """Payment-kind targets the order needs but does not have yet wait for the payment."""


def _readiness(stored: StoredOrder | None, order: IncomingOrder) -> _Readiness:
    released = stored is not None and stored.released
    held = bool(order.hold_until) and order.printable and not released
    settled = (
        order.settle_payment
        or not order.await_payment
        or (stored is not None and stored.payment_settled)
    )
    had = set(stored.targets) if stored is not None else set()
    wanted = _distinct(order.targets)
    if held:
        notices = _distinct(order.notice_targets)
        return _Readiness(True, order.hold_until, settled, notices, False)
    if settled:
        return _Readiness(False, "", True, wanted, False)
    ready = tuple(t for t in wanted if t.kind not in PAYMENT_KINDS or t in had)
    waiting = order.printable and not is_canceled(order.status) and len(ready) < len(wanted)
    return _Readiness(False, "", False, ready, waiting)


def _plan(
    outcome: AcceptOutcome,
    revision: int,
    jobs: Iterable[PlannedJob],
    reason: str,
) -> AcceptPlan:
    return AcceptPlan(outcome, revision, tuple(jobs), reason)


def plan_accept(
    stored: StoredOrder | None, order: IncomingOrder, horizon: Horizon | None = None
) -> AcceptPlan:
    """Decide the outcome, revision and new jobs for ``order`` (see the module rules)."""
    ready = _readiness(stored, order)
    plan = _plan_accept(stored, order, horizon or Horizon(), ready)
    return replace(
        plan,
        hold_until=ready.hold_until,
        payment_wait=ready.deferred,
        payment_settled=ready.settled,
    )


def _plan_accept(
    stored: StoredOrder | None, order: IncomingOrder, horizon: Horizon, ready: _Readiness
) -> AcceptPlan:
    reason = _reason(order, stored is not None, horizon)
    if stored is None:
        if not order.printable:
            return AcceptPlan(AcceptOutcome.IGNORED, 0)
        jobs = [PlannedJob(t, Variant.NEW) for t in ready.targets]
        outcome = AcceptOutcome.SCHEDULED if ready.held else AcceptOutcome.NEW
        return _plan(outcome, 1 if jobs else 0, jobs, reason)
    if is_newer(stored.updated, order.updated):
        # An older copy than the one held (a release or a payment read before a newer
        # revision landed): nothing of it is written; the scheduler tries again from the row.
        return AcceptPlan(AcceptOutcome.DUPLICATE, stored.revision)
    came_due = (bool(stored.hold_until) and not ready.held) or (
        order.settle_payment and not stored.payment_settled
    )
    newer = is_newer(order.updated, stored.updated)
    if not newer and not came_due:
        return AcceptPlan(AcceptOutcome.DUPLICATE, stored.revision)
    if stored.revision == 0:
        if not order.printable:
            return AcceptPlan(AcceptOutcome.IGNORED, 0)
        jobs = [PlannedJob(t, Variant.NEW) for t in ready.targets]
        if not jobs:
            outcome = AcceptOutcome.SCHEDULED if ready.held else AcceptOutcome.IGNORED
            return _plan(outcome, 0, (), reason)
        outcome = AcceptOutcome.SCHEDULED if ready.held else AcceptOutcome.REVISED
        return _plan(outcome, 1, jobs, reason)

    if newer and _is_history(order):
        # A change long after the order was due; tickets that merely came due (a release, a
        # payment method) still print: they belong to the order as it was taken in.
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    before = stored.targets or _distinct(order.targets)
    kept = tuple(t for t in before if t.kind not in NO_UPDATE_KINDS)
    was_canceled = is_canceled(stored.status)
    if is_canceled(order.status) and not was_canceled:
        canceled = (PlannedJob(t, Variant.CANCELED) for t in kept)
        return _revise(stored, canceled, reason, bump=True)
    if not order.printable or ready.held:
        # Not printable now, or a pre-order still held: stored, nothing extra on paper.
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    changed = _changed_kinds(stored, order, was_canceled, before)
    had_kinds = {t.kind for t in before}
    planned = [PlannedJob(t, Variant.CHANGED) for t in kept if t.kind in changed]
    for target in ready.targets:
        if target in before:
            continue
        if target.kind not in had_kinds:
            planned.append(PlannedJob(target, Variant.NEW))  # a kind that newly applies
        elif target.kind in changed and target.kind not in NO_UPDATE_KINDS:
            planned.append(PlannedJob(target, Variant.CHANGED))  # e.g. a new kitchen station
    return _revise(stored, planned, reason, bump=newer)


def _changed_kinds(
    stored: StoredOrder, order: IncomingOrder, was_canceled: bool, before: tuple[JobTarget, ...]
) -> set[str]:
    if was_canceled:
        return {t.kind for t in before} | set(order.fingerprints)
    return {
        kind
        for kind, digest in order.fingerprints.items()
        if kind in stored.fingerprints and stored.fingerprints[kind] != digest
    }


def _revise(
    stored: StoredOrder,
    jobs: Iterable[PlannedJob],
    reason: str,
    *,
    bump: bool,
) -> AcceptPlan:
    """A revision with ``jobs``; ``bump`` False (tickets that came due, the order unchanged)
    keeps the revision number."""
    planned = tuple(jobs)
    if not planned:
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    revision = stored.revision + 1 if bump else stored.revision
    return _plan(AcceptOutcome.REVISED, revision, planned, reason)
