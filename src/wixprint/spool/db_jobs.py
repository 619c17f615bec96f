"""Print jobs: claim, finish, release, unconfirmed attempts, late proofs, render failures,
start-up requeue, queue views.

Every state change is one guarded ``UPDATE … WHERE state IN sources(event)`` that sets
``state = target(event)``, both taken from :mod:`wixprint.spool.machine`, so the SQL cannot
drift from the state machine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Literal

from wixprint.spool.db import (
    JOB_COLUMNS,
    clip,
    fetch_job,
    job_from_row,
    read_tx,
    record_event,
    write_tx,
)
from wixprint.spool.machine import (
    UNANSWERED_LIMIT,
    UNPROVEN_LIMIT,
    JobEvent,
    render_failure_event,
    sources,
    target,
    transition,
    unproven_event,
)
from wixprint.spool.types import ALERT_SLIP_KIND, Job, JobHistoryEntry, JobState, QueueStats

__all__ = [
    "attention_jobs",
    "claim_next",
    "get_job",
    "mark_printed",
    "quarantine",
    "queue_stats",
    "recent_job_events",
    "record_render_failure",
    "record_unknown",
    "release",
    "replace_attention",
    "requeue_interrupted",
    "resolve_late_proof",
]


def _guard(event: JobEvent) -> tuple[str, tuple[str, ...]]:
    """``state IN (?, …)`` and its parameters: the states where ``event`` is legal."""
    states = tuple(s.value for s in sources(event))
    return f"state IN ({','.join('?' * len(states))})", states


def claim_next(conn: sqlite3.Connection, printer: str, now: float) -> Job | None:
    """The oldest queued job of ``printer`` (by id), atomically moved to printing. Order
    tickets come first: an alert slip waits while any order ticket of its printer waits."""
    guard, states = _guard(JobEvent.CLAIM)
    with write_tx(conn, "claim"):
        row = conn.execute(
            f"UPDATE jobs SET state = ?, attempts = attempts + 1, updated_at = ?"
            f" WHERE id = (SELECT id FROM jobs WHERE printer = ? AND {guard}"
            " ORDER BY kind = ?, id LIMIT 1) RETURNING id",
            (target(JobEvent.CLAIM).value, now, printer, *states, ALERT_SLIP_KIND),
        ).fetchone()
        if row is None:
            return None
        job_id = int(row[0])
        record_event(conn, job_id=job_id, event=JobEvent.CLAIM, state=JobState.PRINTING, now=now)
        return fetch_job(conn, job_id)


def mark_printed(conn: sqlite3.Connection, job_id: int, now: float) -> bool:
    """printing → printed; False if the job was not printing (wrong state or unknown)."""
    guard, states = _guard(JobEvent.PRINTED)
    with write_tx(conn, "mark_printed"):
        row = conn.execute(
            f"UPDATE jobs SET state = ?, updated_at = ?, printed_at = ? WHERE id = ? AND {guard}"
            " RETURNING order_id",
            (target(JobEvent.PRINTED).value, now, now, job_id, *states),
        ).fetchone()
        if row is None:
            return False
        conn.execute("UPDATE orders SET printed_any = 1 WHERE order_id = ?", (row[0],))
        record_event(conn, job_id=job_id, event=JobEvent.PRINTED, state=JobState.PRINTED, now=now)
    return True


def release(
    conn: sqlite3.Connection, job_id: int, *, outcome_unknown: bool, error: str | None, now: float
) -> bool:
    """printing → queued. ``outcome_unknown`` marks the next copy as a REPRINT."""
    event = JobEvent.INTERRUPTED if outcome_unknown else JobEvent.RELEASE
    guard, states = _guard(event)
    extra = ", reprint = 1, reason = 'interrupted'" if outcome_unknown else ""
    with write_tx(conn, "release"):
        row = conn.execute(
            f"UPDATE jobs SET state = ?, updated_at = ?, error = COALESCE(?, error){extra}"
            f" WHERE id = ? AND {guard} RETURNING id",
            (target(event).value, now, clip(error), job_id, *states),
        ).fetchone()
        if row is None:
            return False
        record_event(
            conn, job_id=job_id, event=event, state=target(event), now=now, detail=clip(error)
        )
    return True


def record_unknown(
    conn: sqlite3.Connection,
    job_id: int,
    *,
    counted: bool,
    error: str | None,
    now: float,
    limit: int = UNPROVEN_LIMIT,
    unanswered_limit: int = UNANSWERED_LIMIT,
) -> JobState:
    """Bytes left but no proof came: printing → queued with REPRINT, or → attention.

    ``counted``: the printer answered status all along and never confirmed; the job is set
    aside once that happened ``limit`` times. A broken connection or a silent printer is an
    outage, not the job's fault: it is counted apart and sets the job aside only at
    ``unanswered_limit`` (each try may have put a copy on paper, and the job holds the
    printer's queue). Returns the new state; a job that was not printing is left alone and
    its state returned; KeyError if unknown.
    """
    return _count_failure(
        conn,
        job_id,
        op="record_unknown",
        counter="unproven" if counted else "unanswered",
        add=1,
        choose=lambda n: unproven_event(n, limit if counted else unanswered_limit),
        also=", reprint = 1, reason = 'interrupted'",
        error=error,
        now=now,
    )


def resolve_late_proof(
    conn: sqlite3.Connection,
    printer: str,
    job_low: int,
    slot: int,
    *,
    window: int,
    slots: int,
    now: float,
) -> Job | None:
    """A process id came back from ``printer`` after its job was given up on: mark that job
    printed.

    ``job_low`` is the job id modulo ``window`` and ``slot`` the attempt modulo ``slots``
    (what the tag encodes). Only a queued job (its REPRINT not sent yet: withdrawn) or one
    needing attention is resolved, and only if it had that attempt. Returns the job as it
    was before, or None when nothing matched.
    """
    guard, states = _guard(JobEvent.LATE_PROOF)
    with write_tx(conn, "resolve_late_proof"):
        row = conn.execute(
            "SELECT id, attempts FROM jobs WHERE printer = ? AND id % ? = ?"
            " ORDER BY id DESC LIMIT 1",
            (printer, window, job_low),
        ).fetchone()
        if row is None:
            return None
        job_id, attempts = int(row[0]), int(row[1])
        had_attempt = attempts >= slots or 1 <= slot <= attempts
        if not had_attempt:
            return None
        job = fetch_job(conn, job_id)
        done = conn.execute(
            f"UPDATE jobs SET state = ?, updated_at = ?, printed_at = ? WHERE id = ? AND {guard}"
            " RETURNING order_id",
            (target(JobEvent.LATE_PROOF).value, now, now, job_id, *states),
        ).fetchone()
        if done is None:
            return None
        conn.execute("UPDATE orders SET printed_any = 1 WHERE order_id = ?", (done[0],))
        record_event(
            conn,
            job_id=job_id,
            event=JobEvent.LATE_PROOF,
            state=JobState.PRINTED,
            now=now,
            detail=f"attempt {slot} (mod {slots}) confirmed late",
        )
    return job


def replace_attention(
    conn: sqlite3.Connection,
    order_id: str,
    kind: str | None,
    now: float,
    printer: str | None = None,
) -> list[int]:
    """attention → replaced for an order's jobs (of one receipt kind and/or printer, or all),
    inside the caller's transaction: an operator reprint takes their place."""
    guard, states = _guard(JobEvent.REPLACED)
    ids = [
        int(r[0])
        for r in conn.execute(
            f"UPDATE jobs SET state = ?, updated_at = ? WHERE order_id = ? AND {guard}"
            " AND (? IS NULL OR kind = ?) AND (? IS NULL OR printer = ?) RETURNING id",
            (target(JobEvent.REPLACED).value, now, order_id, *states, kind, kind, *[printer] * 2),
        ).fetchall()
    ]
    for job_id in ids:
        record_event(
            conn,
            job_id=job_id,
            event=JobEvent.REPLACED,
            state=JobState.REPLACED,
            now=now,
            detail="operator reprint",
        )
    return ids


def attention_jobs(conn: sqlite3.Connection, limit: int) -> list[Job]:
    """Jobs that need attention, oldest first."""
    with read_tx(conn, "attention_jobs"):
        rows = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs j JOIN orders o USING (order_id)"
            " WHERE j.state = ? ORDER BY j.id LIMIT ?",
            (JobState.ATTENTION.value, limit),
        ).fetchall()
    return [job_from_row(r) for r in rows]


def record_render_failure(
    conn: sqlite3.Connection, job_id: int, error: str, max_failures: int, now: float
) -> JobState:
    """Count a render failure of a printing job: back to queued, or failed at the limit.

    A job that is not printing is left alone and its state returned; KeyError if unknown.
    """
    return _count_failure(
        conn,
        job_id,
        op="record_render_failure",
        counter="render_failures",
        add=1,
        choose=lambda n: render_failure_event(n, max_failures),
        also="",
        error=error,
        now=now,
    )


def _count_failure(
    conn: sqlite3.Connection,
    job_id: int,
    *,
    op: str,
    counter: Literal["render_failures", "unproven", "unanswered"],
    add: int,
    choose: Callable[[int], JobEvent],
    also: str,
    error: str | None,
    now: float,
) -> JobState:
    """One failed try of a printing job: add to its ``counter`` and take the event that
    ``choose`` picks for the new count. A job that is not printing is left alone."""
    with write_tx(conn, op):
        row = conn.execute(f"SELECT state, {counter} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        state = JobState(row[0])
        if state is not JobState.PRINTING:
            return state
        count = int(row[1]) + add
        event = choose(count)
        new_state = transition(state, event)
        conn.execute(
            f"UPDATE jobs SET state = ?, {counter} = ?, error = COALESCE(?, error),"
            f" updated_at = ?{also} WHERE id = ? AND state = ?",
            (new_state.value, count, clip(error), now, job_id, state.value),
        )
        record_event(conn, job_id=job_id, event=event, state=new_state, now=now, detail=clip(error))
    return new_state


def quarantine(conn: sqlite3.Connection, job_id: int, error: str, now: float) -> bool:
    """queued/printing → failed at once (a job that can never print); False otherwise."""
    guard, states = _guard(JobEvent.QUARANTINE)
    with write_tx(conn, "quarantine"):
        row = conn.execute(
            f"UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE id = ? AND {guard}"
            " RETURNING id",
            (target(JobEvent.QUARANTINE).value, clip(error), now, job_id, *states),
        ).fetchone()
        if row is None:
            return False
        record_event(
            conn,
            job_id=job_id,
            event=JobEvent.QUARANTINE,
            state=JobState.FAILED,
            now=now,
            detail=clip(error),
        )
    return True


def requeue_interrupted(
    conn: sqlite3.Connection, now: float, printer: str | None = None
) -> list[Job]:
    """Jobs left printing may be on paper: queue them again with REPRINT.

    All of them at start-up, or one printer's when only its actor restarted.
    """
    guard, states = _guard(JobEvent.INTERRUPTED)
    with write_tx(conn, "requeue_interrupted"):
        ids = sorted(
            int(r[0])
            for r in conn.execute(
                f"UPDATE jobs SET state = ?, reprint = 1, reason = 'interrupted', updated_at = ?"
                f" WHERE {guard} AND (? IS NULL OR printer = ?) RETURNING id",
                (target(JobEvent.INTERRUPTED).value, now, *states, printer, printer),
            ).fetchall()
        )
        jobs = []
        for job_id in ids:
            record_event(
                conn,
                job_id=job_id,
                event=JobEvent.INTERRUPTED,
                state=JobState.QUEUED,
                now=now,
                detail="found printing",
            )
            job = fetch_job(conn, job_id)
            if job is not None:
                jobs.append(job)
    return jobs


def get_job(conn: sqlite3.Connection, job_id: int) -> Job | None:
    with read_tx(conn, "get_job"):
        return fetch_job(conn, job_id)


def queue_stats(
    conn: sqlite3.Connection, now: float, printers: tuple[str, ...] = ()
) -> dict[str, QueueStats]:
    """Per printer: depth (queued + printing), oldest open job's age, printed, failed, and
    jobs needing attention.

    ``printers`` adds zero entries for printers without any job.
    """
    q, p = JobState.QUEUED.value, JobState.PRINTING.value
    done, bad, aside = JobState.PRINTED.value, JobState.FAILED.value, JobState.ATTENTION.value
    with read_tx(conn, "queue_stats"):
        rows = conn.execute(
            "SELECT printer, SUM(state IN (?, ?)), MIN(CASE WHEN state IN (?, ?)"
            " THEN created_at END), SUM(state = ?), SUM(state = ?), SUM(state = ?)"
            " FROM jobs GROUP BY printer",
            (q, p, q, p, done, bad, aside),
        ).fetchall()
    stats = {name: QueueStats(name, 0, None, 0, 0) for name in printers}
    for name, depth, oldest, printed, failed, attention in rows:
        stats[str(name)] = QueueStats(
            printer=str(name),
            depth=int(depth),
            oldest_age=None if oldest is None else max(0.0, now - float(oldest)),
            printed=int(printed),
            failed=int(failed),
            attention=int(attention),
        )
    return stats


def recent_job_events(conn: sqlite3.Connection, limit: int) -> list[JobHistoryEntry]:
    """The job history, newest first."""
    with read_tx(conn, "recent_job_events"):
        rows = conn.execute(
            "SELECT e.id, e.at, e.job_id, e.order_id, o.number, e.kind, e.printer, e.event,"
            " e.state, e.detail FROM job_events e LEFT JOIN orders o USING (order_id)"
            " ORDER BY e.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    return [
        JobHistoryEntry(
            id=int(r[0]),
            at=float(r[1]),
            job_id=int(r[2]),
            order_id=str(r[3]),
            order_number=None if r[4] is None else str(r[4]),
            kind=str(r[5]),
            printer=str(r[6]),
            event=str(r[7]),
            state=JobState(r[8]),
            detail=r[9],
        )
        for r in rows
    ]
