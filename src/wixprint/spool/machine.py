"""The print job state machine: which state changes are legal, as pure data.

::

    queued ──claim──▶ printing ──printed──▶ printed (final)
      ▲                  │
      └── release ───────┤   nothing was sent (printer offline / not ready)
      └── interrupted ───┤   outcome unknown or found at start-up: next copy says REPRINT
      └── render_failed ─┘   rendering raised, below the limit
    queued / printing ──quarantine──▶ failed (final)
    printing ──set_aside──▶ attention       unproven on a printer that answers, N times,
                                              or unconfirmed in silence, M times
    queued / attention ──late_proof──▶ printed   an earlier attempt's proof came back
    attention ──replaced──▶ replaced (final)      an operator reprint took its place

``printed``, ``failed`` and ``replaced`` are final: an operator reprint creates a *new* job.
Every event has exactly one target state, so the database layer turns an event into one guarded
``UPDATE … SET state = target(event) WHERE state IN sources(event)``; a test checks that
the SQL and :func:`transition` agree for every (state, event) pair.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from wixprint.spool.types import JobState

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "UNANSWERED_LIMIT",
    "UNPROVEN_LIMIT",
    "JobEvent",
    "is_legal",
    "render_failure_event",
    "sources",
    "target",
    "transition",
    "unproven_event",
]


class JobEvent(enum.Enum):
    CLAIM = "claim"
    PRINTED = "printed"
    RELEASE = "release"
    """Nothing reached the printer: back to the queue unchanged."""
    INTERRUPTED = "interrupted"
    """The ticket may be on paper: back to the queue, next copy carries the REPRINT banner."""
    RENDER_FAILED = "render_failed"
    QUARANTINE = "quarantine"
    """Render failures reached the limit: a poison order, kept aside for a human."""
    SET_ASIDE = "set_aside"
    """Sent :data:`UNPROVEN_LIMIT` times to a printer that answers, or
    :data:`UNANSWERED_LIMIT` times to one that then went silent, never confirmed."""
    LATE_PROOF = "late_proof"
    """The printer confirmed an earlier attempt after all: printed, the reprint withdrawn."""
    REPLACED = "replaced"
    """An operator reprint took the place of a job that needed attention."""


UNPROVEN_LIMIT = 3
"""Unconfirmed attempts on a printer that answers before a job is set aside: at most this
many copies of one ticket, then the queue moves on and a human is told."""

UNANSWERED_LIMIT = 10
"""Unconfirmed attempts that ended in silence or a broken connection before a job is set
aside. Each is an outage, not the job's fault, so they get more room than unproven ones;
but each may have put a (torn) copy on paper, and the job holds its printer's queue."""

_Q, _P, _A = JobState.QUEUED, JobState.PRINTING, JobState.ATTENTION

TRANSITIONS: Mapping[tuple[JobState, JobEvent], JobState] = MappingProxyType(
    {
        (_Q, JobEvent.CLAIM): _P,
        (_P, JobEvent.PRINTED): JobState.PRINTED,
        (_P, JobEvent.RELEASE): _Q,
        (_P, JobEvent.INTERRUPTED): _Q,
        (_P, JobEvent.RENDER_FAILED): _Q,
        (_Q, JobEvent.QUARANTINE): JobState.FAILED,
        (_P, JobEvent.QUARANTINE): JobState.FAILED,
        (_P, JobEvent.SET_ASIDE): _A,
        (_Q, JobEvent.LATE_PROOF): JobState.PRINTED,
        (_A, JobEvent.LATE_PROOF): JobState.PRINTED,
        (_A, JobEvent.REPLACED): JobState.REPLACED,
    }
)

FINAL_STATES: frozenset[JobState] = frozenset(
    {JobState.PRINTED, JobState.FAILED, JobState.REPLACED}
)


def transition(state: JobState, event: JobEvent) -> JobState:
    """The state after ``event``; ValueError if the event is illegal in ``state``."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise ValueError(f"illegal job transition: {event.value} in state {state.value}") from None


def is_legal(state: JobState, event: JobEvent) -> bool:
    return (state, event) in TRANSITIONS


def sources(event: JobEvent) -> tuple[JobState, ...]:
    """States in which ``event`` is legal (in enum order, for stable SQL)."""
    return tuple(s for s in JobState if (s, event) in TRANSITIONS)


def target(event: JobEvent) -> JobState:
    """The single state ``event`` leads to, whatever the source."""
    (result,) = {t for (_, e), t in TRANSITIONS.items() if e is event}
    return result


def unproven_event(unproven: int, limit: int = UNPROVEN_LIMIT) -> JobEvent:
    """Retry (with a REPRINT banner) or set aside after the ``unproven``-th unconfirmed
    attempt on a printer that answers (counting this one)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return JobEvent.SET_ASIDE if unproven >= limit else JobEvent.INTERRUPTED


def render_failure_event(failures: int, max_failures: int) -> JobEvent:
    """Retry or quarantine after the ``failures``-th render failure (counting this one)."""
    if max_failures < 1:
        raise ValueError("max_failures must be at least 1")
    return JobEvent.QUARANTINE if failures >= max_failures else JobEvent.RENDER_FAILED
