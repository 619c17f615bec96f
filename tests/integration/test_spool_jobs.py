"""Print jobs on a real SQLite file: claim, finish, release, render failures, reprint."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.unit.spool.factories import (
    BASE_TIME,
    KITCHEN,
    TARGETS,
    make_order,
    open_test_spool,
    virtual_wall,
)
from wixprint.errors import SpoolError
from wixprint.printing.protocol import ATTEMPT_SLOTS, JOB_WINDOW
from wixprint.spool import (
    Job,
    JobEvent,
    JobHistoryEntry,
    JobState,
    JobTarget,
    Spool,
    Variant,
    transition,
)
from wixprint.spool.machine import UNANSWERED_LIMIT, UNPROVEN_LIMIT, is_legal
from wixprint.wixtime import wix_time_of


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


async def claim(spool: Spool, printer: str) -> Job:
    job = await spool.claim_next(printer)
    assert job is not None
    return job


async def newest_event(spool: Spool, job_id: int) -> tuple[str, JobState, str | None]:
    """The job's newest history entry as the status page shows it: event, state, detail."""
    entry = next(e for e in await spool.recent_job_events() if e.job_id == job_id)
    return (entry.event, entry.state, entry.detail)


async def test_claims_follow_job_order_per_printer(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    for n in range(3):
        await spool.accept(make_order(f"o-{n}", number=str(100 + n)))
    kitchen = [(await claim(spool, "kitchen")).order_number for _ in range(3)]
    assert kitchen == ["100", "101", "102"]
    assert await spool.claim_next("kitchen") is None
    counter = await claim(spool, "counter")
    assert (counter.order_number, counter.kind, counter.state, counter.attempts) == (
        "100",
        "driver",
        JobState.PRINTING,
        1,
    )
    assert await spool.claim_next("nowhere") is None


FOUR_TICKETS = tuple(
    JobTarget(kind, "kitchen") for kind in ("kitchen", "driver", "customer", "bar")
)


async def fill(spool: Spool, jobs: int) -> set[int]:
    """``jobs`` queued jobs for the kitchen printer, four per order (fewer commits)."""
    ids: set[int] = set()
    for n in range(jobs // len(FOUR_TICKETS)):
        ids.update((await spool.accept(make_order(f"o-{n}", targets=FOUR_TICKETS))).job_ids)
    assert len(ids) == jobs
    return ids


async def claim_all(spools: list[Spool]) -> list[int]:
    claimed: list[int] = []

    async def claimer(s: Spool) -> None:
        while (job := await s.claim_next("kitchen")) is not None:
            claimed.append(job.id)
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        for s in spools:
            nursery.start_soon(claimer, s)
    return claimed


async def test_concurrent_claimers_take_each_job_once(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    ids = await fill(spool, 200)
    claimed = await claim_all([spool] * 4)
    assert sorted(claimed) == sorted(ids)


async def test_claimers_on_separate_connections_take_each_job_once(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with (
        open_test_spool(tmp_path / "spool.db") as a,
        open_test_spool(tmp_path / "spool.db") as b,
        open_test_spool(tmp_path / "spool.db") as c,
        open_test_spool(tmp_path / "spool.db") as d,
    ):
        ids = await fill(a, 200)
        claimed = await claim_all([a, b, c, d])
        assert len(claimed) == len(set(claimed)) == 200
        assert set(claimed) == ids


async def test_mark_printed_is_guarded(spool: Spool, thread_clock: trio.testing.MockClock) -> None:
    result = await spool.accept(make_order(targets=(KITCHEN,)))
    (job_id,) = result.job_ids
    assert not await spool.mark_printed(job_id)  # still queued
    await claim(spool, "kitchen")
    assert await spool.mark_printed(job_id)
    assert not await spool.mark_printed(job_id)
    assert not await spool.mark_printed(9999)
    job = await spool.get_job(job_id)
    assert job is not None
    assert job.state is JobState.PRINTED


async def test_release_when_nothing_was_sent_keeps_the_ticket_plain(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order(targets=(KITCHEN,)))
    job = await claim(spool, "kitchen")
    assert await spool.release(job.id, outcome_unknown=False, error="printer offline")
    again = await claim(spool, "kitchen")
    assert again.id == job.id
    assert (again.reprint, again.reason, again.attempts) == (False, "new", 2)
    assert again.error == "printer offline"


async def test_a_long_error_is_kept_cut_to_its_first_500_characters(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order(targets=(KITCHEN,)))
    job = await claim(spool, "kitchen")
    error = "printer offline: " + "x" * 600
    assert await spool.release(job.id, outcome_unknown=False, error=error)
    again = await spool.get_job(job.id)
    assert again is not None
    assert again.error == error[:500]
    assert (await spool.recent_job_events())[0].detail == error[:500]


async def test_a_job_knows_when_it_was_queued(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """The printer measures each ticket's latency from this moment."""
    before = virtual_wall()
    await spool.accept(make_order(targets=(KITCHEN,)))
    after = virtual_wall()
    job = await claim(spool, "kitchen")
    assert before <= job.created_at <= after


async def test_release_with_unknown_outcome_prints_a_reprint(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order(targets=(KITCHEN,)))
    job = await claim(spool, "kitchen")
    assert await spool.release(job.id, outcome_unknown=True)
    again = await claim(spool, "kitchen")
    assert (again.id, again.reprint, again.reason) == (job.id, True, "interrupted")
    assert not await spool.release(9999, outcome_unknown=True)


async def test_render_failures_quarantine_at_the_limit(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order("poison", targets=(KITCHEN,)))
    await spool.accept(make_order("fine", number="10002", targets=(KITCHEN,)))
    states = []
    for _ in range(3):
        job = await claim(spool, "kitchen")
        assert job.order_id == "poison"
        states.append(await spool.record_render_failure(job.id, "bad template"))
    assert states == [JobState.QUEUED, JobState.QUEUED, JobState.FAILED]
    failed = await spool.get_job(job.id)
    assert failed is not None
    assert (failed.render_failures, failed.error) == (3, "bad template")
    # The queue moves on to the next order.
    assert (await claim(spool, "kitchen")).order_id == "fine"
    assert (await spool.queue_stats())["kitchen"].failed == 1
    assert await spool.record_render_failure(job.id, "again") is JobState.FAILED
    with pytest.raises(KeyError):
        await spool.record_render_failure(9999, "x")


async def test_interrupted_jobs_come_back_as_reprints_after_a_crash(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    live, crashed = tmp_path / "live", tmp_path / "after-crash"
    crashed.mkdir()
    async with open_test_spool(live / "spool.db") as spool:
        await spool.accept(make_order())
        printing = await claim(spool, "kitchen")
        done = await claim(spool, "counter")
        assert await spool.mark_printed(done.id)
        # Power cut: what is on disk now (main file + WAL) is all that survives.
        for name in ("spool.db", "spool.db-wal"):
            shutil.copy(live / name, crashed / name)

    async with open_test_spool(crashed / "spool.db") as spool:
        requeued = await spool.requeue_interrupted()
        assert [(j.id, j.state, j.reprint, j.reason) for j in requeued] == [
            (printing.id, JobState.QUEUED, True, "interrupted")
        ]
        again = await claim(spool, "kitchen")
        assert (again.id, again.reprint, again.attempts) == (printing.id, True, 2)
        printed = await spool.get_job(done.id)
        assert printed is not None
        assert printed.state is JobState.PRINTED
        assert await spool.requeue_interrupted() != []  # `again` is printing now
        assert await spool.requeue_interrupted() == []


async def test_operator_reprint_by_number_and_id(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    by_number = await spool.reprint("10001")
    assert len(by_number) == len(TARGETS)
    jobs = [await spool.get_job(i) for i in by_number]
    assert [(j.kind, j.reprint, j.reason, j.copy_no) for j in jobs if j] == [
        ("kitchen", True, "operator", 1),
        ("driver", True, "operator", 1),
        ("customer", True, "operator", 1),
    ]
    (kitchen_copy,) = await spool.reprint("o-1", kind="kitchen")
    copy = await spool.get_job(kitchen_copy)
    assert copy is not None
    assert (copy.kind, copy.copy_no) == ("kitchen", 2)
    assert await spool.reprint("10001", kind="nothing") == []
    with pytest.raises(KeyError):
        await spool.reprint("99999")


async def test_reprint_of_a_canceled_order_says_canceled(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    await spool.accept(make_order(status="CANCELED", updated="2025-06-14T00:00:00Z"))
    ids = await spool.reprint("10001")
    jobs = [await spool.get_job(i) for i in ids]
    assert [(j.kind, j.revision, j.variant) for j in jobs if j] == [
        ("kitchen", 2, Variant.CANCELED),
        ("driver", 2, Variant.CANCELED),
        ("customer", 2, Variant.NEW),
    ]


async def put_in_state(spool: Spool, order_id: str, state: JobState) -> Job:
    """A fresh job (printer named after the order) brought to ``state`` through the API."""
    target = JobTarget("kitchen", order_id)
    (job_id,) = (await spool.accept(make_order(order_id, targets=(target,)))).job_ids
    await claim(spool, order_id)
    if state is JobState.QUEUED:  # tried once, no proof: queued for a REPRINT
        assert await spool.record_unknown(job_id, counted=False) is JobState.QUEUED
    if state is JobState.PRINTED:
        assert await spool.mark_printed(job_id)
    if state is JobState.FAILED:
        assert await spool.record_render_failure(job_id, "x", max_failures=1) is JobState.FAILED
    if state in (JobState.ATTENTION, JobState.REPLACED):
        assert await spool.record_unknown(job_id, counted=True, limit=1) is JobState.ATTENTION
    if state is JobState.REPLACED:
        await spool.reprint(order_id)
    job = await spool.get_job(job_id)
    assert job is not None
    assert job.state is state
    return job


def operation(spool: Spool, job: Job, event: JobEvent) -> Callable[[], Awaitable[object]]:
    ops: dict[JobEvent, Callable[[], Awaitable[object]]] = {
        JobEvent.CLAIM: lambda: spool.claim_next(job.printer),
        JobEvent.PRINTED: lambda: spool.mark_printed(job.id),
        JobEvent.RELEASE: lambda: spool.release(job.id, outcome_unknown=False),
        JobEvent.INTERRUPTED: lambda: spool.release(job.id, outcome_unknown=True),
        JobEvent.RENDER_FAILED: lambda: spool.record_render_failure(job.id, "x"),
        JobEvent.QUARANTINE: lambda: spool.quarantine(job.id, "x"),
        JobEvent.SET_ASIDE: lambda: spool.record_unknown(job.id, counted=True, limit=1),
        JobEvent.LATE_PROOF: lambda: spool.resolve_late_proof(
            job.printer,
            job.id % JOB_WINDOW,
            job.attempts % ATTEMPT_SLOTS,
            window=JOB_WINDOW,
            slots=ATTEMPT_SLOTS,
        ),
        JobEvent.REPLACED: lambda: spool.reprint(job.order_id),
    }
    return ops[event]


async def test_database_agrees_with_the_state_machine(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    for n, (state, event) in enumerate(itertools.product(JobState, JobEvent)):
        job = await put_in_state(spool, f"o-{n}", state)
        await operation(spool, job, event)()
        after = await spool.get_job(job.id)
        assert after is not None
        expected = transition(state, event) if is_legal(state, event) else state
        assert after.state is expected, (state, event)


async def test_requeue_interrupted_for_one_printer(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    await spool.accept(make_order())
    kitchen = await claim(spool, "kitchen")
    counter = await claim(spool, "counter")
    assert [j.id for j in await spool.requeue_interrupted(printer="kitchen")] == [kitchen.id]
    assert await newest_event(spool, kitchen.id) == (
        "interrupted",
        JobState.QUEUED,
        "found printing",
    )
    still = await spool.get_job(counter.id)
    assert still is not None
    assert still.state is JobState.PRINTING
    assert [j.id for j in await spool.requeue_interrupted()] == [counter.id]


async def _unconfirmed_until_aside(spool: Spool, job_id: int, *, counted: bool, limit: int) -> None:
    """``limit`` unconfirmed attempts of one kind: queued again until the last, then aside."""
    for n in range(1, limit + 1):
        await claim(spool, "kitchen")
        state = await spool.record_unknown(job_id, counted=counted, error="no proof")
        assert state is (JobState.ATTENTION if n == limit else JobState.QUEUED)


async def test_unconfirmed_attempts_set_a_job_aside_only_when_the_printer_answered(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    (job_id,) = (await spool.accept(make_order("a", targets=(KITCHEN,)))).job_ids
    # A broken connection is an outage, not the job's fault: counted apart (a higher limit).
    for _ in range(5):
        await claim(spool, "kitchen")
        assert await spool.record_unknown(job_id, counted=False) is JobState.QUEUED
    await _unconfirmed_until_aside(spool, job_id, counted=True, limit=UNPROVEN_LIMIT)
    job = await spool.get_job(job_id)
    assert job is not None
    assert (job.unproven, job.reprint, job.reason) == (UNPROVEN_LIMIT, True, "interrupted")
    assert await spool.claim_next("kitchen") is None  # the queue moves on
    assert [j.id for j in await spool.attention_jobs()] == [job_id]
    stats = (await spool.queue_stats())["kitchen"]
    assert (stats.depth, stats.attention) == (0, 1)


async def test_silent_unconfirmed_attempts_set_a_job_aside_at_their_own_limit(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """A printer that takes the ticket and then goes silent, every time: an outage, given
    more room than a printer that answers, but not for ever (each try may be on paper)."""
    (job_id,) = (await spool.accept(make_order("a", targets=(KITCHEN,)))).job_ids
    await claim(spool, "kitchen")
    assert await spool.record_unknown(job_id, counted=True) is JobState.QUEUED
    await _unconfirmed_until_aside(spool, job_id, counted=False, limit=UNANSWERED_LIMIT)
    job = await spool.get_job(job_id)
    assert job is not None
    assert (job.unproven, job.unanswered, job.reprint) == (1, UNANSWERED_LIMIT, True)
    assert await spool.claim_next("kitchen") is None  # the queue moves on
    assert [j.id for j in await spool.attention_jobs()] == [job_id]


async def test_a_late_proof_prints_the_job_it_belongs_to_and_nothing_else(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    (job_id,) = (await spool.accept(make_order("a", targets=(KITCHEN,)))).job_ids
    await claim(spool, "kitchen")
    await spool.record_unknown(job_id, counted=False)  # attempt 1 unknown: REPRINT pending

    async def late(printer: str, attempt: int) -> Job | None:
        low = job_id % JOB_WINDOW
        return await spool.resolve_late_proof(
            printer, low, attempt, window=JOB_WINDOW, slots=ATTEMPT_SLOTS
        )

    assert await late("kitchen", 2) is None  # no attempt 2 yet
    assert await late("bar", 1) is None  # another printer's
    found = await late("kitchen", 1)
    assert found is not None
    assert found.id == job_id
    job = await spool.get_job(job_id)
    assert job is not None
    assert job.state is JobState.PRINTED  # the pending reprint is withdrawn
    assert await spool.claim_next("kitchen") is None
    assert await late("kitchen", 1) is None  # once
    events = [e.event for e in await spool.recent_job_events() if e.job_id == job_id]
    assert events[0] == "late_proof"


async def test_an_operator_reprint_replaces_the_set_aside_job(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    (job_id,) = (await spool.accept(make_order("a", number="777", targets=(KITCHEN,)))).job_ids
    await claim(spool, "kitchen")
    assert await spool.record_unknown(job_id, counted=True, limit=1) is JobState.ATTENTION
    (copy_id,) = await spool.reprint("777")
    old, new = await spool.get_job(job_id), await spool.get_job(copy_id)
    assert old is not None
    assert new is not None
    assert (old.state, new.state, new.reprint) == (JobState.REPLACED, JobState.QUEUED, True)
    assert await newest_event(spool, job_id) == ("replaced", JobState.REPLACED, "operator reprint")
    assert await spool.attention_jobs() == []


async def test_reprint_of_one_printer_replaces_only_its_job_set_aside(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """Retrying a job set aside on the bar reprints that ticket there, and nowhere else."""
    targets = (JobTarget("kitchen", "kitchen"), JobTarget("kitchen", "bar"))
    await spool.accept(make_order(targets=targets))
    for printer in ("kitchen", "bar"):
        job = await claim(spool, printer)
        assert await spool.record_unknown(job.id, counted=True, limit=1) is JobState.ATTENTION
    (copy_id,) = await spool.reprint("10001", "kitchen", printer="bar")
    copy = await spool.get_job(copy_id)
    assert copy is not None
    assert (copy.printer, copy.kind, copy.reprint) == ("bar", "kitchen", True)
    states = {j.printer: j.state for j in [await spool.get_job(i) for i in (1, 2)] if j}
    assert states == {"bar": JobState.REPLACED, "kitchen": JobState.ATTENTION}


async def test_a_retry_after_a_late_proof_printed_the_job_prints_nothing(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """The dashboard saw the job set aside; before the tap landed, its late process id came
    back and printed it. The retry, checked inside its own transaction, adds no copy."""
    await spool.accept(make_order(targets=(JobTarget("kitchen", "bar"),)))
    job = await claim(spool, "bar")
    assert await spool.record_unknown(job.id, counted=True, limit=1) is JobState.ATTENTION
    assert await spool.resolve_late_proof("bar", job.id, 1, window=1000, slots=8) is not None
    assert await spool.reprint("10001", "kitchen", "bar", set_aside_only=True) == []
    done = await spool.get_job(job.id)
    assert done is not None
    assert done.state is JobState.PRINTED
    assert [j.id for j in await spool.attention_jobs(10)] == []


JOB_CALLS: dict[str, Callable[[Spool], Awaitable[object]]] = {
    "claim": lambda s: s.claim_next("kitchen"),
    "mark_printed": lambda s: s.mark_printed(1),
    "release": lambda s: s.release(1, outcome_unknown=False),
    "record_unknown": lambda s: s.record_unknown(1, counted=True),
    "resolve_late_proof": lambda s: s.resolve_late_proof(
        "kitchen", 1, 1, window=JOB_WINDOW, slots=ATTEMPT_SLOTS
    ),
    "attention_jobs": lambda s: s.attention_jobs(),
    "record_render_failure": lambda s: s.record_render_failure(1, "x"),
    "quarantine": lambda s: s.quarantine(1, "x"),
    "requeue_interrupted": lambda s: s.requeue_interrupted(),
    "get_job": lambda s: s.get_job(1),
    "queue_stats": lambda s: s.queue_stats(),
    "recent_job_events": lambda s: s.recent_job_events(),
}
"""Every job call of the spool, by the name its failure is logged under."""


async def test_a_failing_job_call_names_itself(spool: Spool) -> None:
    """On a damaged file the operator reads which call failed."""
    conn = spool._conn
    assert conn is not None
    for table in ("jobs", "job_events"):
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_damaged")
    for op, call in JOB_CALLS.items():
        with pytest.raises(SpoolError, match=rf"^spool {op} failed \("):
            await call(spool)


async def test_a_late_proof_of_the_last_attempt_slot_prints_the_job(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """Attempt ``ATTEMPT_SLOTS`` is tagged as slot 0: a job tried that often had it."""
    (job_id,) = (await spool.accept(make_order("a", targets=(KITCHEN,)))).job_ids
    for _ in range(ATTEMPT_SLOTS):
        await claim(spool, "kitchen")
        assert await spool.record_unknown(job_id, counted=False) is JobState.QUEUED
    found = await spool.resolve_late_proof(
        "kitchen", job_id % JOB_WINDOW, 0, window=JOB_WINDOW, slots=ATTEMPT_SLOTS
    )
    assert found is not None
    assert (found.id, found.attempts) == (job_id, ATTEMPT_SLOTS)
    assert await newest_event(spool, job_id) == (
        "late_proof",
        JobState.PRINTED,
        f"attempt 0 (mod {ATTEMPT_SLOTS}) confirmed late",
    )


async def test_a_job_that_can_never_print_is_quarantined_once(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    (job_id,) = (await spool.accept(make_order(targets=(KITCHEN,)))).job_ids
    assert await spool.quarantine(job_id, "unknown printer")
    job = await spool.get_job(job_id)
    assert job is not None
    assert (job.state, job.error) == (JobState.FAILED, "unknown printer")
    assert await newest_event(spool, job_id) == ("quarantine", JobState.FAILED, "unknown printer")
    assert not await spool.quarantine(job_id, "again")  # failed already: nothing changes
    assert not await spool.quarantine(9999, "unknown job")
    assert await newest_event(spool, job_id) == ("quarantine", JobState.FAILED, "unknown printer")


async def test_the_job_history_shows_each_change_and_outlives_its_order(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """Each entry as the status page shows it; once the order is buried (Wix's mark a day
    past its update) its number is gone, the entries stay (they go by this clock)."""
    (job_id,) = (await spool.accept(make_order(targets=(JobTarget("kitchen", "bar"),)))).job_ids
    await trio.sleep(1)
    await claim(spool, "bar")
    await trio.sleep(1)
    assert await spool.mark_printed(job_id)
    entry = functools.partial(
        JobHistoryEntry, job_id=job_id, order_id="o-1", kind="kitchen", printer="bar"
    )
    history = [
        entry(
            id=3, at=BASE_TIME + 2, order_number="10001", event="printed", state=JobState.PRINTED
        ),
        entry(id=2, at=BASE_TIME + 1, order_number="10001", event="claim", state=JobState.PRINTING),
        entry(
            id=1,
            at=BASE_TIME,
            order_number="10001",
            event="created",
            state=JobState.QUEUED,
            detail="new",
        ),
    ]
    assert await spool.recent_job_events() == history
    await spool.prune(keep_for=86400, reference=wix_time_of(BASE_TIME))
    assert await spool.order_raw("o-1") is None
    assert await spool.recent_job_events() == [
        dataclasses.replace(e, order_number=None) for e in history
    ]


async def test_job_states_are_read_by_the_words_in_the_file(
    spool: Spool, thread_clock: trio.testing.MockClock
) -> None:
    """The state words are the file format: the rows of a spool an earlier release wrote
    read back in their states, and its queued ticket is the one claimed."""
    conn = spool._conn
    assert conn is not None
    words = {
        "printing": JobState.PRINTING,
        "printed": JobState.PRINTED,
        "failed": JobState.FAILED,
        "attention": JobState.ATTENTION,
        "replaced": JobState.REPLACED,
        "queued": JobState.QUEUED,
    }
    ids = []
    for n, word in enumerate(words):
        (job_id,) = (await spool.accept(make_order(f"o-{n}", targets=(KITCHEN,)))).job_ids
        conn.execute("UPDATE jobs SET state = ? WHERE id = ?", (word, job_id))
        ids.append(job_id)
    assert [job.state for job in [await spool.get_job(i) for i in ids] if job] == [*words.values()]
    assert (await claim(spool, "kitchen")).id == ids[-1]
