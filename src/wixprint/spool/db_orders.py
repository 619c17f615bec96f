"""Orders in the spool: accept (upsert + jobs in one transaction), reprint, status views."""

from __future__ import annotations

import sqlite3

from wixprint.spool.db import read_tx, record_event, write_tx
from wixprint.spool.db_jobs import replace_attention
from wixprint.spool.db_memory import buried, fingerprints_of, fingerprints_text, job_targets
from wixprint.spool.horizons import read_horizon
from wixprint.spool.revisions import StoredOrder, plan_accept
from wixprint.spool.types import (
    AcceptOutcome,
    AcceptResult,
    IncomingOrder,
    JobState,
    OrderSummary,
    TicketSummary,
)
from wixprint.vocabulary import JobTarget, Variant

__all__ = [
    "accept",
    "insert_job",
    "order_raw",
    "recent_orders",
    "reprint",
    "unprinted_orders",
]

_OPEN_STATES = (JobState.QUEUED.value, JobState.PRINTING.value)


def insert_job(
    conn: sqlite3.Connection,
    *,
    order_id: str,
    revision: int,
    target: JobTarget,
    variant: Variant,
    now: float,
    copy_no: int = 0,
    reason: str = "new",
) -> int:
    """One queued job; returns its id (inside the caller's write transaction)."""
    row = conn.execute(
        "INSERT INTO jobs (order_id, revision, kind, printer, copy_no, variant, state,"
        " reprint, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        (
            order_id,
            revision,
            target.kind,
            target.printer,
            copy_no,
            variant.value,
            JobState.QUEUED.value,
            int(reason != "new"),
            reason,
            now,
            now,
        ),
    ).fetchone()
    job_id = int(row[0])
    record_event(
        conn, job_id=job_id, event="created", state=JobState.QUEUED, now=now, detail=reason
    )
    return job_id


def _stored(conn: sqlite3.Connection, order_id: str) -> tuple[StoredOrder | None, bool | None]:
    """The stored order (row, else tombstone), and for a tombstone whether it printed."""
    row = conn.execute(
        "SELECT status, updated, fingerprint, revision FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if row is None:
        stone = buried(conn, order_id)
        return (None, None) if stone is None else stone
    stored = StoredOrder(
        status=row[0],
        updated=row[1],
        fingerprints=fingerprints_of(str(row[2])),
        revision=int(row[3]),
        targets=job_targets(conn, order_id),
    )
    return stored, None


def accept(conn: sqlite3.Connection, order: IncomingOrder, now: float) -> AcceptResult:
    """Upsert ``order`` and create its jobs, all in one transaction (rules: revisions.py).

    An order known only by its tombstone gets its row back (the tombstone goes), with the
    revision counting on from the tombstone's.
    """
    with write_tx(conn, "accept"):
        stored, printed_before = _stored(conn, order.order_id)
        plan = plan_accept(stored, order, read_horizon(conn))
        if plan.outcome is AcceptOutcome.DUPLICATE:
            return AcceptResult(plan.outcome, plan.revision)
        fingerprint = fingerprints_text(order.fingerprints)
        if stored is None or printed_before is not None:
            conn.execute("DELETE FROM tombstones WHERE order_id = ?", (order.order_id,))
            conn.execute(
                "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
                " raw_json, revision, received_at, updated_at, source, printed_any)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order.order_id,
                    order.number,
                    order.status,
                    order.created,
                    order.updated,
                    fingerprint,
                    order.raw_json,
                    plan.revision,
                    now,
                    now,
                    order.source,
                    int(bool(printed_before)),
                ),
            )
        else:
            conn.execute(
                "UPDATE orders SET number = ?, status = ?, updated = ?, fingerprint = ?,"
                " raw_json = ?, revision = ?, updated_at = ? WHERE order_id = ?",
                (
                    order.number,
                    order.status,
                    order.updated,
                    fingerprint,
                    order.raw_json,
                    plan.revision,
                    now,
                    order.order_id,
                ),
            )
        job_ids = [
            insert_job(
                conn,
                order_id=order.order_id,
                revision=plan.revision,
                target=job.target,
                variant=job.variant,
                now=now,
                reason=plan.reason,
            )
            for job in plan.jobs
        ]
    printers = tuple(dict.fromkeys(t.printer for t in plan.targets)) if job_ids else ()
    return AcceptResult(plan.outcome, plan.revision, tuple(job_ids), printers)


def _find_order(conn: sqlite3.Connection, order_key: str) -> tuple[str, int] | None:
    row = conn.execute(
        "SELECT order_id, revision FROM orders WHERE order_id = ?", (order_key,)
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT order_id, revision FROM orders WHERE number = ?"
            " ORDER BY received_at DESC LIMIT 1",
            (order_key,),
        ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def reprint(conn: sqlite3.Connection, order_key: str, kind: str | None, now: float) -> list[int]:
    """Operator reprint by order id or number: one new job per (kind, printer) it had.

    Each copy takes the order's latest revision and the variant of that ticket's latest job,
    so a reprinted kitchen ticket of a canceled order still says CANCELED. KeyError for an
    unknown order.
    """
    with write_tx(conn, "reprint"):
        found = _find_order(conn, order_key)
        if found is None:
            raise KeyError(order_key)
        order_id, revision = found
        replace_attention(conn, order_id, kind, now)  # the new copies take their place
        pairs = conn.execute(
            "SELECT kind, printer, (SELECT l.variant FROM jobs l WHERE l.order_id = j.order_id"
            " AND l.kind = j.kind AND l.printer = j.printer ORDER BY l.revision DESC, l.id DESC"
            " LIMIT 1) FROM jobs j WHERE order_id = ? AND (? IS NULL OR kind = ?)"
            " GROUP BY kind, printer ORDER BY MIN(id)",
            (order_id, kind, kind),
        ).fetchall()
        job_ids = []
        for pair_kind, printer, variant in pairs:
            copy_no = conn.execute(
                "SELECT COALESCE(MAX(copy_no), 0) + 1 FROM jobs WHERE order_id = ?"
                " AND revision = ? AND kind = ? AND printer = ?",
                (order_id, revision, pair_kind, printer),
            ).fetchone()[0]
            job_ids.append(
                insert_job(
                    conn,
                    order_id=order_id,
                    revision=revision,
                    target=JobTarget(kind=pair_kind, printer=printer),
                    variant=Variant(variant),
                    now=now,
                    copy_no=int(copy_no),
                    reason="operator",
                )
            )
    return job_ids


def order_raw(conn: sqlite3.Connection, order_id: str) -> str | None:
    with read_tx(conn, "order_raw"):
        row = conn.execute("SELECT raw_json FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return None if row is None else str(row[0])


def unprinted_orders(
    conn: sqlite3.Connection, older_than: float, now: float
) -> list[tuple[str, float]]:
    """(number, seconds waiting) of orders with a ticket queued or printing for too long.

    The wait counts from the oldest open job's creation, so a CHANGED ticket of an old order
    gets the full grace. Quarantined (failed) jobs are not counted: they are reported apart.
    """
    with read_tx(conn, "unprinted_orders"):
        rows = conn.execute(
            "SELECT o.number, MIN(j.created_at) AS since FROM jobs j JOIN orders o"
            " USING (order_id) WHERE j.state IN (?, ?) GROUP BY j.order_id"
            " HAVING since <= ? ORDER BY since",
            (*_OPEN_STATES, now - older_than),
        ).fetchall()
    return [(str(r[0]), now - float(r[1])) for r in rows]


def recent_orders(conn: sqlite3.Connection, limit: int) -> list[OrderSummary]:
    """Newest orders first, with every ticket's state. Never customer details."""
    with read_tx(conn, "recent_orders"):
        orders = conn.execute(
            "SELECT order_id, number, status, created, received_at, source, revision"
            " FROM orders ORDER BY received_at DESC, rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        tickets: dict[str, list[TicketSummary]] = {str(o[0]): [] for o in orders}
        if tickets:
            marks = ",".join("?" * len(tickets))
            for r in conn.execute(
                "SELECT order_id, id, kind, printer, revision, variant, state, reprint,"
                f" updated_at FROM jobs WHERE order_id IN ({marks}) ORDER BY id",
                tuple(tickets),
            ):
                tickets[str(r[0])].append(
                    TicketSummary(
                        job_id=int(r[1]),
                        kind=str(r[2]),
                        printer=str(r[3]),
                        revision=int(r[4]),
                        variant=Variant(r[5]),
                        state=JobState(r[6]),
                        reprint=bool(r[7]),
                        updated_at=float(r[8]),
                    )
                )
    return [
        OrderSummary(
            order_id=str(o[0]),
            number=str(o[1]),
            status=str(o[2]),
            created=str(o[3]),
            received_at=float(o[4]),
            source=str(o[5]),
            revision=int(o[6]),
            tickets=tuple(tickets[str(o[0])]),
        )
        for o in orders
    ]
