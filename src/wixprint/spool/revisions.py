"""What an incoming order means for the kitchen: the spool's pure revision rules.

Given what the spool already holds for an order and a fresh copy from Wix, decide whether it
is a duplicate, and if not which tickets (if any) a new revision prints. No I/O: the
database layer reads the stored state, calls :func:`plan_accept` and writes the plan in the
same transaction.

Rules (``updated`` is Wix's ``updatedDate``):

* unknown order: stored; printable → revision 1, one NEW job per target (outcome NEW);
  not printable → no jobs (IGNORED).
* known order with ``updated`` not newer than the stored one: DUPLICATE, nothing changes,
  so a repeated fetch or webhook and an out-of-order older update are both no-ops.
* newer, and it never had jobs (revision 0): printable now → revision 1 with NEW jobs
  (outcome REVISED: "approved later"); still not printable → IGNORED.
* newer, had jobs, status became CANCELED → revision + 1, CANCELED tickets to every
  (kind, printer) that had jobs, except the customer receipt.
* newer, had jobs, printable, and the fingerprint changed (or it was canceled before and is
  approved again) → revision + 1, CHANGED tickets to the same (kind, printer) pairs except
  the customer receipt, plus kitchen targets the order did not have before.
* anything else → UPDATED: stored, no tickets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wixprint.spool.types import AcceptOutcome, IncomingOrder
from wixprint.vocabulary import JobTarget, Variant
from wixprint.wixtime import parse_wix_time

__all__ = [
    "CANCELED_STATUSES",
    "NO_UPDATE_KINDS",
    "AcceptPlan",
    "StoredOrder",
    "is_canceled",
    "is_newer",
    "parse_wix_time",
    "plan_accept",
]

CANCELED_STATUSES = frozenset({"CANCELED", "CANCELLED"})
NO_UPDATE_KINDS = frozenset({"customer"})
"""Receipt kinds that get no CHANGED / CANCELED tickets: the guest has left with theirs."""
NEW_TARGET_KINDS = frozenset({"kitchen"})
"""Kinds that get a CHANGED ticket at a printer the order did not use before."""


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """What the revision rules need of the stored order."""

    status: str
    updated: str
    fingerprint: str
    revision: int
    """0 while the order never had jobs."""
    targets: tuple[JobTarget, ...]
    """(kind, printer) pairs of its jobs, in job order; may be empty after pruning."""


@dataclass(frozen=True, slots=True)
class AcceptPlan:
    outcome: AcceptOutcome
    revision: int
    """The order's revision after this accept."""
    variant: Variant | None = None
    targets: tuple[JobTarget, ...] = ()
    """One new job per target (empty: no jobs)."""

    @property
    def store(self) -> bool:
        """Whether the order row is written at all."""
        return self.outcome is not AcceptOutcome.DUPLICATE


def is_newer(incoming: str, stored: str) -> bool:
    """Whether ``incoming`` is strictly later; unparsable times compare as text."""
    new, old = parse_wix_time(incoming), parse_wix_time(stored)
    if new is not None and old is not None:
        return new > old
    return incoming.strip() > stored.strip()


def is_canceled(status: str) -> bool:
    return status.strip().upper() in CANCELED_STATUSES


def _distinct(targets: Iterable[JobTarget]) -> tuple[JobTarget, ...]:
    return tuple(dict.fromkeys(targets))


def plan_accept(stored: StoredOrder | None, order: IncomingOrder) -> AcceptPlan:
    """Decide the outcome, revision and new jobs for ``order`` (see the module rules)."""
    if stored is None:
        if not order.printable:
            return AcceptPlan(AcceptOutcome.IGNORED, 0)
        targets = _distinct(order.targets)
        return AcceptPlan(AcceptOutcome.NEW, 1 if targets else 0, Variant.NEW, targets)
    if not is_newer(order.updated, stored.updated):
        return AcceptPlan(AcceptOutcome.DUPLICATE, stored.revision)
    if stored.revision == 0:
        targets = _distinct(order.targets) if order.printable else ()
        if not targets:
            return AcceptPlan(AcceptOutcome.IGNORED, 0)
        return AcceptPlan(AcceptOutcome.REVISED, 1, Variant.NEW, targets)

    # Pruning may have removed every job of an old order: fall back to its current targets.
    before = stored.targets or _distinct(order.targets)
    kept = tuple(t for t in before if t.kind not in NO_UPDATE_KINDS)
    was_canceled = is_canceled(stored.status)
    if is_canceled(order.status) and not was_canceled:
        return _revise(stored, Variant.CANCELED, kept)
    if order.printable and (order.fingerprint != stored.fingerprint or was_canceled):
        added = tuple(
            t for t in order.targets if t.kind in NEW_TARGET_KINDS and t not in set(before)
        )
        return _revise(stored, Variant.CHANGED, _distinct(kept + added))
    return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)


def _revise(stored: StoredOrder, variant: Variant, targets: tuple[JobTarget, ...]) -> AcceptPlan:
    if not targets:
        return AcceptPlan(AcceptOutcome.UPDATED, stored.revision)
    return AcceptPlan(AcceptOutcome.REVISED, stored.revision + 1, variant, targets)
