"""The async handle to the spool: one SQLite connection, one worker thread at a time.

``open_spool`` opens (and migrates) the database and yields a :class:`Spool`; every method is
one transaction run through ``trio.to_thread.run_sync`` behind a ``CapacityLimiter(1)``, so
the event loop never blocks on the disk and the connection is never used by two threads at
once. The clock is read on the Trio thread and handed down, so tests can pass a virtual one.

A cancelled caller waits for its statement to finish (``abandon_on_cancel=False``): a write
is either committed or rolled back, never left half-done.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import trio

from wixprint.errors import SpoolError, SpoolUnwritable
from wixprint.spool import db, db_alerts, db_jobs, db_memory, db_misc, db_orders, db_slips
from wixprint.spool.machine import UNANSWERED_LIMIT, UNPROVEN_LIMIT
from wixprint.spool.schema import MigrationReport
from wixprint.spool.storage import WriteCheck, pause_reason
from wixprint.spool.types import (
    CAME_DUE_SOURCES,
    AcceptResult,
    IncomingOrder,
    Job,
    JobHistoryEntry,
    JobState,
    NewAlert,
    OrderSummary,
    OutboxAlert,
    PendingOrder,
    QuarantinedOrder,
    QueueStats,
    SpoolStatistics,
)

__all__ = ["Spool", "open_spool"]

P = ParamSpec("P")
R = TypeVar("R")

_MAX_LIST = 1000


class Spool:
    """What actors hold to talk to the spool. Create it with :func:`open_spool`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        path: Path,
        clock: Callable[[], float],
        migration: MigrationReport,
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._limiter = trio.CapacityLimiter(1)
        self._clock = clock
        self.path = path
        self.migration = migration
        """How the database was found and migrated at open (for the start-up log)."""
        self.intake_paused = ""
        """Why :meth:`accept` refuses new orders now ("": it takes them). The spool actor
        sets it while the disk is full, so the room left goes to printing what is spooled."""
        self.on_unwritable: Callable[[SpoolUnwritable], None] | None = None
        """Called whenever a call fails because the disk refuses writes (the spool actor
        then checks and reports at once, whoever met it)."""
        self.restore_horizon: str | None = None
        """Set when this open found a restored backup: tickets of orders last updated before
        it carry the REPRINT banner (``spool.horizons``)."""

    async def _run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await trio.to_thread.run_sync(
                functools.partial(fn, *args, **kwargs), limiter=self._limiter
            )
        except SpoolUnwritable as exc:
            if self.on_unwritable is not None:
                self.on_unwritable(exc)
            raise

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SpoolError("the spool is closed")
        return self._conn

    # --- orders -------------------------------------------------------------------------

    async def accept(self, order: IncomingOrder) -> AcceptResult:
        """Upsert the order and create its jobs in one transaction. Idempotent.

        Raises:
            SpoolUnwritable: the disk refuses the write, or intake is paused (disk full) and
                the order is not one already held whose tickets came due.
        """
        if self.intake_paused and order.source not in CAME_DUE_SOURCES:
            # The refusal says which pause it is: the fetcher's /health line is built from it.
            refused = self.intake_paused == pause_reason(WriteCheck.REFUSED)
            raise SpoolUnwritable(f"new orders wait: {self.intake_paused}", full=not refused)
        return await self._run(db_orders.accept, self._db(), order, self._clock())

    async def reprint(
        self,
        order_key: str,
        kind: str | None = None,
        printer: str | None = None,
        *,
        set_aside_only: bool = False,
    ) -> list[int]:
        """Operator reprint by order id or number (of one kind and/or printer, or all);
        KeyError if unknown. New job ids; with ``set_aside_only`` none unless a job of
        theirs is still set aside (checked in the same transaction)."""
        return await self._run(
            db_orders.reprint,
            self._db(),
            order_key,
            kind,
            self._clock(),
            printer,
            set_aside_only=set_aside_only,
        )

    async def known_revisions(self, order_keys: Sequence[str]) -> dict[str, list[str]]:
        """Per order key, the ``updatedDate`` values the spool holds (row or tombstone, and a
        quarantined copy); keys never seen are absent. One read, no write."""
        return await self._run(db_memory.known_revisions, self._db(), order_keys)

    async def quarantine_order(self, order: QuarantinedOrder) -> bool:
        """Keep an order that could not be taken in; True the first time its key is kept."""
        return await self._run(db_memory.quarantine_order, self._db(), order, self._clock())

    async def order_raw(self, order_id: str) -> str | None:
        """The order's text for its tickets (with its payment answer, once fetched)."""
        return await self._run(db_orders.order_raw, self._db(), order_id)

    async def find_order_raw(self, order_key: str) -> str | None:
        """``order_raw`` of an order given by id or number; None if unknown."""
        return await self._run(db_orders.find_order_raw, self._db(), order_key)

    async def order_source(self, order_id: str) -> str | None:
        """The order's text as Wix sent it, to decide on it again."""
        return await self._run(db_orders.order_source, self._db(), order_id)

    async def pending_orders(self) -> list[PendingOrder]:
        """Held pre-orders and orders whose tickets wait for the payment method."""
        return await self._run(db_orders.pending_orders, self._db())

    async def unprinted_orders(self, older_than: float) -> list[tuple[str, float]]:
        """(order number, seconds waiting) for orders with a ticket open that long."""
        return await self._run(db_orders.unprinted_orders, self._db(), older_than, self._clock())

    async def recent_orders(self, limit: int = 50) -> list[OrderSummary]:
        return await self._run(db_orders.recent_orders, self._db(), min(limit, _MAX_LIST))

    # --- jobs ---------------------------------------------------------------------------

    async def claim_next(self, printer: str) -> Job | None:
        """The printer's oldest queued job, now printing (attempts + 1); None if idle."""
        return await self._run(db_jobs.claim_next, self._db(), printer, self._clock())

    async def mark_printed(self, job_id: int) -> bool:
        """printing → printed; False if the job was not printing."""
        return await self._run(db_jobs.mark_printed, self._db(), job_id, self._clock())

    async def release(
        self, job_id: int, *, outcome_unknown: bool, error: str | None = None
    ) -> bool:
        """printing → queued; ``outcome_unknown`` makes the next copy a REPRINT.

        Returns False if the job was not printing (nothing changed).
        """
        return await self._run(
            db_jobs.release,
            self._db(),
            job_id,
            outcome_unknown=outcome_unknown,
            error=error,
            now=self._clock(),
        )

    async def record_unknown(
        self,
        job_id: int,
        *,
        counted: bool,
        error: str | None = None,
        limit: int = UNPROVEN_LIMIT,
        unanswered_limit: int = UNANSWERED_LIMIT,
    ) -> JobState:
        """Sent, never confirmed: printing → queued (REPRINT next), or → attention once a
        printer that answers failed to confirm it ``limit`` times (``counted``), or once it
        went silent after the send ``unanswered_limit`` times."""
        return await self._run(
            db_jobs.record_unknown,
            self._db(),
            job_id,
            counted=counted,
            error=error,
            now=self._clock(),
            limit=limit,
            unanswered_limit=unanswered_limit,
        )

    async def resolve_late_proof(
        self, printer: str, job_low: int, slot: int, *, window: int, slots: int
    ) -> Job | None:
        """A late process id from ``printer`` (job id mod ``window``, attempt mod ``slots``):
        its job, if queued for a reprint or needing attention, is printed now. The job as it
        was, or None."""
        return await self._run(
            db_jobs.resolve_late_proof,
            self._db(),
            printer,
            job_low,
            slot,
            window=window,
            slots=slots,
            now=self._clock(),
        )

    async def enqueue_slip(self, slip_id: str, payload: str, printers: Sequence[str]) -> list[int]:
        """Queue an alert slip (text ``payload``) on ``printers`` once: the new job ids; none
        when slip ``slip_id`` was queued before (``db_slips``)."""
        return await self._run(
            db_slips.enqueue_slip, self._db(), slip_id, payload, tuple(printers), self._clock()
        )

    async def slip_printers(self, prefix: str) -> list[str]:
        """The printers the newest slip whose key starts with ``prefix`` was queued on."""
        return await self._run(db_slips.slip_printers, self._db(), prefix)

    async def attention_jobs(self, limit: int = 100) -> list[Job]:
        """Jobs set aside as needing attention, oldest first."""
        return await self._run(db_jobs.attention_jobs, self._db(), min(limit, _MAX_LIST))

    async def record_render_failure(
        self, job_id: int, error: str, *, max_failures: int = 3
    ) -> JobState:
        """printing → queued, or → failed at ``max_failures``; the new state."""
        return await self._run(
            db_jobs.record_render_failure,
            self._db(),
            job_id,
            error,
            max_failures,
            self._clock(),
        )

    async def quarantine(self, job_id: int, error: str) -> bool:
        """queued/printing → failed at once; False if the job was in neither."""
        return await self._run(db_jobs.quarantine, self._db(), job_id, error, self._clock())

    async def requeue_interrupted(self, printer: str | None = None) -> list[Job]:
        """Jobs left printing go back to the queue marked REPRINT (all, or one printer's).

        Call it at start-up, and when one printer actor (re)starts for its own jobs: a job
        that actor held when it died may be on paper.
        """
        return await self._run(db_jobs.requeue_interrupted, self._db(), self._clock(), printer)

    async def get_job(self, job_id: int) -> Job | None:
        return await self._run(db_jobs.get_job, self._db(), job_id)

    async def queue_stats(self, printers: tuple[str, ...] = ()) -> dict[str, QueueStats]:
        """Per printer; ``printers`` adds empty entries for printers without jobs."""
        return await self._run(db_jobs.queue_stats, self._db(), self._clock(), printers)

    async def recent_job_events(self, limit: int = 100) -> list[JobHistoryEntry]:
        return await self._run(db_jobs.recent_job_events, self._db(), min(limit, _MAX_LIST))

    # --- cursors, meta, webhook dedupe ---------------------------------------------------

    async def get_cursor(self, name: str) -> str | None:
        return await self._run(db_misc.get_value, self._db(), "cursors", name)

    async def set_cursor(self, name: str, value: str) -> None:
        await self._run(db_misc.set_value, self._db(), "cursors", name, value)

    async def get_meta(self, name: str) -> str | None:
        return await self._run(db_misc.get_value, self._db(), "meta", name)

    async def set_meta(self, name: str, value: str) -> None:
        await self._run(db_misc.set_value, self._db(), "meta", name, value)

    async def seen_event(self, event_id: str) -> bool:
        """Remember a webhook event id; True if it is new (process it), False if seen."""
        return await self._run(db_misc.seen_event, self._db(), event_id, self._clock())

    # --- alert outbox -------------------------------------------------------------------

    async def record_alerts(
        self, alerts: Sequence[NewAlert], state: str | None = None
    ) -> list[int]:
        """Write alerts with one delivery per channel and, if given, the alert engine's
        state, in one transaction. The new alert ids."""
        return await self._run(
            db_alerts.record_alerts, self._db(), tuple(alerts), state, self._clock()
        )

    async def load_alert_state(self) -> str | None:
        """The alert engine's state as last recorded (None: never)."""
        return await self._run(db_alerts.load_alert_state, self._db())

    async def pending_alerts(self, limit: int = 50) -> list[OutboxAlert]:
        """Alerts some channel has still to deliver, oldest first."""
        return await self._run(db_alerts.pending_alerts, self._db(), min(limit, _MAX_LIST))

    async def pending_deliveries(self, channel: str, limit: int = 50) -> list[OutboxAlert]:
        """What ``channel`` has still to deliver, oldest first (attempts: this channel's)."""
        return await self._run(
            db_alerts.pending_deliveries, self._db(), channel, min(limit, _MAX_LIST)
        )

    async def mark_delivered(self, alert_id: int, channel: str) -> None:
        await self._run(db_alerts.mark_delivered, self._db(), alert_id, channel, self._clock())

    async def mark_delivery_failed(self, alert_id: int, channel: str, error: str) -> None:
        await self._run(db_alerts.mark_delivery_failed, self._db(), alert_id, channel, error)

    async def retire_alert_channels(self, active: Sequence[str]) -> int:
        """Drop waiting deliveries of channels not in ``active``; the number dropped."""
        return await self._run(db_alerts.retire_channels, self._db(), tuple(active), self._clock())

    # --- housekeeping -------------------------------------------------------------------

    async def prune(
        self,
        *,
        keep_for: float,
        reference: str | None,
        keep_tombstones_for: float = db_memory.TOMBSTONE_RETENTION,
        events_older_than: float = db_misc.EVENT_RETENTION,
    ) -> int:
        """Bury finished orders last updated ``keep_for`` seconds before ``reference`` (the
        poll mark; this machine's clock if earlier); by the same reference, drop tombstones
        and quarantined orders older than ``keep_tombstones_for`` (at least ``keep_for``). By
        this machine's clock alone, drop job history, sent alerts and done alert slips older
        than ``keep_for``, and webhook ids older than ``events_older_than``. Rows deleted;
        without a reference, only what goes by the clock."""
        return await self._run(
            db_memory.prune,
            self._db(),
            keep_for=keep_for,
            reference=reference,
            now=self._clock(),
            keep_tombstones_for=keep_tombstones_for,
            events_older_than=events_older_than,
        )

    async def statistics(self) -> SpoolStatistics:
        return await self._run(db_misc.statistics, self._db())

    async def integrity_check(self) -> bool:
        return await self._run(db_misc.integrity_check, self._db())

    async def backup_to(self, dest: Path) -> None:
        """Consistent online copy at ``dest`` (writes wait while it runs)."""
        await self._run(db_misc.backup_to, self._db(), dest, self._clock())

    async def wal_checkpoint(self) -> tuple[int, int, int]:
        return await self._run(db_misc.wal_checkpoint, self._db())

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await trio.to_thread.run_sync(conn.close, limiter=self._limiter)


@asynccontextmanager
async def open_spool(path: Path, *, clock: Callable[[], float] = time.time) -> AsyncIterator[Spool]:
    """Open (create, migrate) the spool database at ``path``; close it on exit.

    Raises SpoolError if the file cannot be opened or written, or was written by a newer
    version. Open it before starting any actor: migrations run here.
    """
    conn, report = await trio.to_thread.run_sync(db.connect, path, clock())
    spool = Spool(conn, path=path, clock=clock, migration=report)
    try:
        spool.restore_horizon = await spool._run(db_memory.adopt_snapshot, conn, clock())
    except BaseException:
        with trio.CancelScope(shield=True):
            await spool.aclose()
        raise
    try:
        yield spool
    finally:
        with trio.CancelScope(shield=True):
            await spool.aclose()
