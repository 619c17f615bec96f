"""The pure revision rules: what an incoming order prints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.unit.spool.factories import BAR, CUSTOMER, DRIVER, KITCHEN, TARGETS, make_order
from wixprint.spool.horizons import Horizon
from wixprint.spool.revisions import (
    AcceptPlan,
    StoredOrder,
    is_newer,
    parse_wix_time,
    plan_accept,
)
from wixprint.spool.types import AcceptOutcome
from wixprint.vocabulary import JobTarget, Variant

T0 = "2025-06-13T16:47:23.905Z"
T1 = "2025-06-13T16:50:00.000Z"


def planned(plan: AcceptPlan) -> list[tuple[JobTarget, Variant]]:
    """What each planned ticket goes to, and what it announces."""
    return [(job.target, job.variant) for job in plan.jobs]


def stored(
    *,
    status: str = "APPROVED",
    updated: str = T0,
    fingerprint: str = "fp-1",
    driver_fingerprint: str = "dfp-1",
    revision: int = 1,
    targets: tuple[JobTarget, ...] = TARGETS,
) -> StoredOrder:
    fingerprints = {"kitchen": fingerprint, "driver": driver_fingerprint}
    return StoredOrder(status, updated, fingerprints, revision, targets)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-13T16:47:23.905Z", datetime(2025, 6, 13, 16, 47, 23, 905000, tzinfo=UTC)),
        ("2025-06-13T16:47:23Z", datetime(2025, 6, 13, 16, 47, 23, tzinfo=UTC)),
        ("2025-06-13T18:47:23+02:00", datetime(2025, 6, 13, 16, 47, 23, tzinfo=UTC)),
        ("2025-06-13 16:47:23", datetime(2025, 6, 13, 16, 47, 23, tzinfo=UTC)),
        ("2025-06-13T16:47:23.9051234Z", datetime(2025, 6, 13, 16, 47, 23, 905123, tzinfo=UTC)),
        ("yesterday", None),
    ],
)
def test_parse_wix_time(text: str, expected: datetime | None) -> None:
    assert parse_wix_time(text) == expected


def test_is_newer_compares_instants_not_text() -> None:
    assert not is_newer("2025-06-13T16:47:23.905+00:00", "2025-06-13T16:47:23.905Z")
    assert not is_newer("2025-06-13T18:47:23.905+02:00", "2025-06-13T16:47:23.905Z")
    assert is_newer("2025-06-13T16:47:24Z", "2025-06-13T16:47:23.905Z")
    # Text order would say the opposite here ("18" > "16"): the instant is earlier.
    assert not is_newer("2025-06-13T18:00:00+03:00", "2025-06-13T16:00:00Z")


def test_is_newer_falls_back_to_text_for_garbage() -> None:
    assert is_newer("b", "a")
    assert not is_newer("a", "a")
    # One side readable, the other not: text as well, never a crash of the accept.
    assert is_newer("yesterday", T0)
    assert not is_newer(T0, "yesterday")


def test_new_printable_order_gets_one_job_per_target() -> None:
    plan = plan_accept(None, make_order())
    assert (plan.outcome, plan.revision) == (AcceptOutcome.NEW, 1)
    assert planned(plan) == [(t, Variant.NEW) for t in TARGETS]


def test_duplicate_targets_are_collapsed() -> None:
    plan = plan_accept(None, make_order(targets=(KITCHEN, KITCHEN, DRIVER)))
    assert plan.targets == (KITCHEN, DRIVER)


def test_not_printable_is_ignored() -> None:
    plan = plan_accept(None, make_order(status="INITIALIZED"))
    assert (plan.outcome, plan.revision, plan.targets) == (AcceptOutcome.IGNORED, 0, ())


@pytest.mark.parametrize("updated", [T0, "2025-06-13T16:47:23.905+00:00", "2025-06-13T16:00:00Z"])
def test_same_or_older_update_is_a_duplicate(updated: str) -> None:
    plan = plan_accept(
        stored(), make_order(updated=updated, fingerprint="other", status="CANCELED")
    )
    assert plan.outcome is AcceptOutcome.DUPLICATE
    assert not plan.store


def test_approved_later_prints_revision_one() -> None:
    plan = plan_accept(stored(status="INITIALIZED", revision=0, targets=()), make_order(updated=T1))
    assert (plan.outcome, plan.revision) == (AcceptOutcome.REVISED, 1)
    assert planned(plan) == [(t, Variant.NEW) for t in TARGETS]


def test_still_not_printable_stays_ignored() -> None:
    before = stored(status="INITIALIZED", revision=0, targets=())
    plan = plan_accept(before, make_order(status="CANCELED", updated=T1))
    assert (plan.outcome, plan.revision, plan.targets) == (AcceptOutcome.IGNORED, 0, ())
    # Still never printed, so an approval after that prints the whole order.
    again = stored(status="CANCELED", updated=T1, revision=plan.revision, targets=())
    approved = plan_accept(again, make_order(updated="2025-06-13T17:00:00Z"))
    assert (approved.outcome, approved.targets) == (AcceptOutcome.REVISED, TARGETS)


@pytest.mark.parametrize("status", ["CANCELED", "CANCELLED", "REJECTED"])
def test_cancel_goes_to_every_station_but_the_customer(status: str) -> None:
    """A rejection after printing, or the British spelling, reaches the stations alike."""
    plan = plan_accept(stored(), make_order(status=status, updated=T1))
    assert (plan.outcome, plan.revision) == (AcceptOutcome.REVISED, 2)
    assert planned(plan) == [(KITCHEN, Variant.CANCELED), (DRIVER, Variant.CANCELED)]


def test_cancel_twice_prints_once() -> None:
    plan = plan_accept(
        stored(status="CANCELED", revision=2), make_order(status="CANCELED", updated=T1)
    )
    assert plan.outcome is AcceptOutcome.UPDATED


def test_changed_items_go_to_old_kitchens_and_new_kitchens_only() -> None:
    plan = plan_accept(
        stored(), make_order(fingerprint="fp-2", updated=T1, targets=(BAR, CUSTOMER))
    )
    assert (plan.outcome, plan.revision) == (AcceptOutcome.REVISED, 2)
    # The driver slip depends on nothing that changed: no ticket for the driver.
    assert planned(plan) == [(KITCHEN, Variant.CHANGED), (BAR, Variant.CHANGED)]


def test_a_new_address_reaches_the_driver_only() -> None:
    """Not even a kitchen station added to the routing since: its ticket did not change."""
    moved = make_order(driver_fingerprint="dfp-2", updated=T1, targets=(*TARGETS, BAR))
    plan = plan_accept(stored(), moved)
    assert (plan.outcome, plan.revision) == (AcceptOutcome.REVISED, 2)
    assert planned(plan) == [(DRIVER, Variant.CHANGED)]


def test_pickup_becoming_delivery_prints_changed_kitchen_and_a_new_driver_slip() -> None:
    before = stored(targets=(KITCHEN, CUSTOMER))
    now_delivery = make_order(
        fingerprint="fp-2", driver_fingerprint="dfp-2", updated=T1, targets=TARGETS
    )
    plan = plan_accept(before, now_delivery)
    assert (plan.outcome, plan.revision) == (AcceptOutcome.REVISED, 2)
    assert planned(plan) == [(KITCHEN, Variant.CHANGED), (DRIVER, Variant.NEW)]


def test_delivery_becoming_pickup_tells_the_driver() -> None:
    plan = plan_accept(
        stored(),
        make_order(fingerprint="fp-2", driver_fingerprint="dfp-2", updated=T1, targets=(KITCHEN,)),
    )
    assert planned(plan) == [(KITCHEN, Variant.CHANGED), (DRIVER, Variant.CHANGED)]


def test_rows_from_before_per_kind_fingerprints_never_count_as_changed() -> None:
    legacy = StoredOrder("APPROVED", T0, {}, 1, TARGETS)
    plan = plan_accept(legacy, make_order(fingerprint="other", updated=T1))
    assert (plan.outcome, plan.targets) == (AcceptOutcome.UPDATED, ())


def test_first_tickets_of_an_order_from_before_the_history_start_say_reprint() -> None:
    horizon = Horizon(history_start="2025-06-14T00:00:00.000Z")
    plan = plan_accept(None, make_order(), horizon)
    assert (plan.outcome, plan.reason) == (AcceptOutcome.NEW, "before_history")
    later = make_order(created="2025-06-14T10:00:00Z", updated="2025-06-14T10:00:00Z")
    assert plan_accept(None, later, horizon).reason == "new"
    # A known order is not doubtful: the spool remembers what it printed.
    changed = plan_accept(stored(), make_order(fingerprint="fp-2", updated=T1), horizon)
    assert (changed.outcome, changed.reason) == (AcceptOutcome.REVISED, "new")


def test_every_ticket_before_the_restore_horizon_says_reprint() -> None:
    horizon = Horizon(restored="2025-06-13T17:00:00.000Z")
    assert plan_accept(None, make_order(), horizon).reason == "restored"
    changed = plan_accept(stored(), make_order(fingerprint="fp-2", updated=T1), horizon)
    assert (changed.outcome, changed.reason) == (AcceptOutcome.REVISED, "restored")
    after = make_order(updated="2025-06-13T17:00:00.001Z")
    assert plan_accept(None, after, horizon).reason == "new"
    at_the_horizon = make_order(updated="2025-06-13T17:00:00.000Z")
    assert plan_accept(None, at_the_horizon, horizon).reason == "new"  # not before it
    assert plan_accept(None, make_order(updated="garbled"), horizon).reason == "restored"


def test_newer_without_kitchen_relevant_change_is_updated() -> None:
    plan = plan_accept(stored(), make_order(updated=T1))
    assert (plan.outcome, plan.revision, plan.targets) == (AcceptOutcome.UPDATED, 1, ())


def test_reapproved_after_cancel_prints_changed() -> None:
    plan = plan_accept(stored(status="CANCELED", revision=2), make_order(updated=T1))
    assert (plan.outcome, plan.revision) == (AcceptOutcome.REVISED, 3)
    assert planned(plan) == [(KITCHEN, Variant.CHANGED), (DRIVER, Variant.CHANGED)]
    # Every station that had the order hears of it again, whatever the fingerprints say.
    bare = replace(make_order(updated=T1), fingerprints={})
    assert plan_accept(stored(status="CANCELED", revision=2), bare).targets == (KITCHEN, DRIVER)


def test_customer_only_order_gets_no_update_tickets() -> None:
    plan = plan_accept(stored(targets=(CUSTOMER,)), make_order(status="CANCELED", updated=T1))
    assert (plan.outcome, plan.revision) == (AcceptOutcome.UPDATED, 1)


def test_jobs_pruned_falls_back_to_current_targets() -> None:
    plan = plan_accept(stored(targets=()), make_order(status="CANCELED", updated=T1))
    assert plan.targets == (KITCHEN, DRIVER)
    assert plan.revision == 2


def test_a_change_after_changes_until_is_history_and_prints_nothing() -> None:
    changed = replace(make_order(fingerprint="fp-2", updated=T1), changes_until=T0)
    plan = plan_accept(stored(), changed)
    assert (plan.outcome, plan.revision, plan.targets) == (AcceptOutcome.UPDATED, 1, ())
    # A change at the very moment of the limit is not after it: the kitchen hears of it.
    in_time = plan_accept(stored(), replace(changed, changes_until=T1))
    assert (in_time.outcome, in_time.targets) == (AcceptOutcome.REVISED, (KITCHEN,))


def test_a_settled_payment_of_an_order_known_by_its_tombstone_is_a_duplicate() -> None:
    """A tombstone keeps no payment state: pruning keeps an order whose tickets wait for it,
    so a pruned order had nothing waiting, and a late payment answer prints nothing."""
    order = replace(make_order(), await_payment=True, settle_payment=True, payment="{}")
    plan = plan_accept(stored(), order)
    assert (plan.outcome, plan.targets) == (AcceptOutcome.DUPLICATE, ())
