"""The pure job state machine."""

from __future__ import annotations

import itertools

import pytest

from wixprint.spool.machine import (
    FINAL_STATES,
    UNPROVEN_LIMIT,
    JobEvent,
    is_legal,
    render_failure_event,
    sources,
    target,
    transition,
    unproven_event,
)
from wixprint.spool.types import JobState

Q, P, DONE, FAILED = JobState.QUEUED, JobState.PRINTING, JobState.PRINTED, JobState.FAILED


def test_happy_path() -> None:
    assert transition(Q, JobEvent.CLAIM) is P
    assert transition(P, JobEvent.PRINTED) is DONE


@pytest.mark.parametrize("event", [JobEvent.RELEASE, JobEvent.INTERRUPTED, JobEvent.RENDER_FAILED])
def test_printing_goes_back_to_the_queue(event: JobEvent) -> None:
    assert transition(P, event) is Q


@pytest.mark.parametrize("state", [Q, P])
def test_quarantine_from_queued_or_printing(state: JobState) -> None:
    assert transition(state, JobEvent.QUARANTINE) is FAILED


@pytest.mark.parametrize(
    ("state", "event"),
    list(itertools.product(sorted(FINAL_STATES, key=lambda s: s.value), JobEvent)),
)
def test_final_states_accept_nothing(state: JobState, event: JobEvent) -> None:
    with pytest.raises(
        ValueError, match=rf"^illegal job transition: {event.value} in state {state.value}$"
    ):
        transition(state, event)


def test_a_queued_job_cannot_be_printed_without_claim() -> None:
    with pytest.raises(ValueError, match="printed in state queued"):
        transition(Q, JobEvent.PRINTED)
    assert not is_legal(Q, JobEvent.RELEASE)
    assert not is_legal(P, JobEvent.CLAIM)


def test_sources_and_target_describe_the_table() -> None:
    for state, event in itertools.product(JobState, JobEvent):
        assert is_legal(state, event) == (state in sources(event))
        if is_legal(state, event):
            assert transition(state, event) is target(event)
    assert sources(JobEvent.QUARANTINE) == (Q, P)


def test_render_failure_limit() -> None:
    assert render_failure_event(1, 3) is JobEvent.RENDER_FAILED
    assert render_failure_event(2, 3) is JobEvent.RENDER_FAILED
    assert render_failure_event(3, 3) is JobEvent.QUARANTINE
    assert render_failure_event(1, 1) is JobEvent.QUARANTINE
    with pytest.raises(ValueError, match=r"^max_failures must be at least 1$"):
        render_failure_event(1, 0)


def test_event_names_are_the_ones_spools_already_hold() -> None:
    """``job_events.event`` stores these names; spools written by earlier versions, the
    status pages and ``wixprint watch`` read them back, so a rename would orphan history."""
    assert {e.name: e.value for e in JobEvent} == {
        "CLAIM": "claim",
        "PRINTED": "printed",
        "RELEASE": "release",
        "INTERRUPTED": "interrupted",
        "RENDER_FAILED": "render_failed",
        "QUARANTINE": "quarantine",
        "SET_ASIDE": "set_aside",
        "LATE_PROOF": "late_proof",
        "REPLACED": "replaced",
    }


def test_unconfirmed_attempts_are_bounded() -> None:
    """On a printer that answers but never confirms, a job prints at most UNPROVEN_LIMIT
    times, then it is set aside and the queue moves on."""
    assert [unproven_event(n) for n in range(1, UNPROVEN_LIMIT + 1)] == [
        *[JobEvent.INTERRUPTED] * (UNPROVEN_LIMIT - 1),
        JobEvent.SET_ASIDE,
    ]
    assert 2 <= UNPROVEN_LIMIT <= 3
    assert transition(P, JobEvent.SET_ASIDE) is JobState.ATTENTION
    with pytest.raises(ValueError, match="at least 1"):
        unproven_event(1, 0)


def test_a_set_aside_job_is_never_printed_without_proof() -> None:
    aside = JobState.ATTENTION
    assert not is_legal(aside, JobEvent.CLAIM)  # the queue does not pick it again
    assert not is_legal(aside, JobEvent.PRINTED)
    assert transition(aside, JobEvent.LATE_PROOF) is DONE  # only a proof prints it
    assert transition(Q, JobEvent.LATE_PROOF) is DONE  # its pending reprint withdrawn
    assert transition(aside, JobEvent.REPLACED) is JobState.REPLACED  # operator reprint
    assert JobState.REPLACED in FINAL_STATES
    assert JobState.ATTENTION not in FINAL_STATES
