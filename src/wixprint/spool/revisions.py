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

Every job of a plan carries the REPRINT banner (``reason``) when the spool cannot know that
it is not on paper already: the order was last updated before the restore horizon, or it was
never seen and Wix created it before the spool's history starts (``horizons.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from wixprint.spool.horizons import Horizon
from wixprint.spool.types import AcceptOutcome, IncomingOrder
from wixprint.vocabulary import JobTarget, Variant
from wixprint.wixtime import parse_wix_time

__all__ = [
    "CANCELED_STATUSES",
    "NO_UPDATE_KINDS",
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
NO_UPDATE_KINDS = frozenset({"customer"})
"""Receipt kinds that get no CHANGED / CANCELED tickets: the guest has left with theirs."""


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


@dataclass(frozen=True, slots=True)
class PlannedJob:
    target: JobTarget
    variant: Variant


@dataclass(frozen=True, slots=True)
class AcceptPlan:
    outcome: AcceptOutcome
    revision: int
    """The order's revision after this accept."""
    variant: Variant | None = None
    """What this revision announces (a job of a newly needed kind is NEW regardless)."""
    jobs: tuple[PlannedJob, ...] = field(default=())
    reason: str = "new"
    """new | restored | before_history; anything but ``new`` prints the REPRINT banner."""

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


def _plan(
    outcome: AcceptOutcome,
    revision: int,
    variant: Variant,
    jobs: Iterable[PlannedJob],
    reason: str,
) -> AcceptPlan:
    return AcceptPlan(outcome, revision, variant, tuple(jobs), reason)


def plan_accept(
    stored: StoredOrder | None, order: IncomingOrder, horizon: Horizon | None = None
) -> AcceptPlan:
    """Decide the outcome, revision and new jobs for ``order`` (see the module rules)."""
    horizon = horizon or Horizon()
    reason = _reason(order, stored is not None, horizon)
    if stored is None:
        if not order.printable:
            return AcceptPlan(AcceptOutcome.IGNORED, 0)
        targets = _distinct(order.targets)
        jobs = (PlannedJob(t, Variant.NEW) for t in targets)
        return _plan(AcceptOutcome.NEW, 1 if targets else 0, Variant.NEW, jobs, reason)
    if not is_newer(order.updated, stored.updated):
        return AcceptPlan(AcceptOutcome.DUPLICATE, stored.revision)
    if stored.revision == 0:
        targets = _distinct(order.targets) if order.printable else ()
        if not targets:
            return AcceptPlan(AcceptOutcome.IGNORED, 0)
        jobs = (PlannedJob(t, Variant.NEW) for t in targets)
        return _plan(AcceptOutcome.REVISED, 1, Variant.NEW, jobs, reason)

    if _is_history(order):
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    before = stored.targets or _distinct(order.targets)
    kept = tuple(t for t in before if t.kind not in NO_UPDATE_KINDS)
    was_canceled = is_canceled(stored.status)
    if is_canceled(order.status) and not was_canceled:
        jobs = (PlannedJob(t, Variant.CANCELED) for t in kept)
        return _revise(stored, Variant.CANCELED, jobs, reason)
    if not order.printable:
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    changed = _changed_kinds(stored, order, was_canceled, before)
    had_kinds = {t.kind for t in before}
    planned = [PlannedJob(t, Variant.CHANGED) for t in kept if t.kind in changed]
    for target in _distinct(order.targets):
        if target in before:
            continue
        if target.kind not in had_kinds:
            planned.append(PlannedJob(target, Variant.NEW))  # a kind that newly applies
        elif target.kind in changed and target.kind not in NO_UPDATE_KINDS:
            planned.append(PlannedJob(target, Variant.CHANGED))  # e.g. a new kitchen station
    return _revise(stored, Variant.CHANGED, planned, reason)


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
    stored: StoredOrder, variant: Variant, jobs: Iterable[PlannedJob], reason: str
) -> AcceptPlan:
    planned = tuple(jobs)
    if not planned:
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    return _plan(AcceptOutcome.REVISED, stored.revision + 1, variant, planned, reason)
