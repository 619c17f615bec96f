"""Orders in the spool: accept (upsert + jobs in one transaction), reprint, status views,
and the orders whose tickets are still to come (held pre-orders, tickets waiting for the
payment method)."""

from __future__ import annotations

import sqlite3

from wixprint.spool.db import read_tx, record_event, write_tx
from wixprint.spool.db_jobs import replace_attention
from wixprint.spool.db_memory import buried, fingerprints_of, fingerprints_text, job_targets
from wixprint.spool.horizons import read_horizon
from wixprint.spool.revisions import StoredOrder, plan_accept
from wixprint.spool.types import (
    ALERT_SOURCE,
    AcceptOutcome,
    AcceptResult,
    IncomingOrder,
    JobState,
    OrderSummary,
    PendingOrder,
    TicketSummary,
)
from wixprint.vocabulary import STORED_TRANSACTIONS_KEY, JobTarget, Variant

__all__ = [
    "accept",
    "insert_job",
    "order_raw",
    "order_source",
    "pending_orders",
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
        "SELECT status, updated, fingerprint, revision, hold_until, payment_settled FROM orders"
        " WHERE order_id = ?",
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
        hold_until=str(row[4]),
        payment_settled=bool(row[5]),
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
            return AcceptResult(plan.outcome, plan.revision, first_sight=False)
        fingerprint = fingerprints_text(order.fingerprints)
        if stored is None or printed_before is not None:
            conn.execute("DELETE FROM tombstones WHERE order_id = ?", (order.order_id,))
            conn.execute(
                "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
                " raw_json, revision, received_at, updated_at, source, printed_any, hold_until,"
                " payment_wait, payment_settled, payment, skip_reason, due, location_id,"
                " location_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?)",
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
                    plan.hold_until,
                    now if plan.payment_wait else None,
                    int(plan.payment_settled),
                    (order.payment or None) if order.settle_payment else None,
                    *_shown(order),
                ),
            )
        else:
            conn.execute(
                "UPDATE orders SET number = ?, status = ?, updated = ?, fingerprint = ?,"
                " raw_json = ?, revision = ?, updated_at = ?, hold_until = ?,"
                " payment_wait = CASE WHEN ? THEN COALESCE(payment_wait, ?) END,"
                " payment_settled = ?, payment = CASE WHEN ? THEN ? ELSE payment END,"
                " skip_reason = ?, due = ?, location_id = ?, location_name = ?"
                " WHERE order_id = ?",
                (
                    order.number,
                    order.status,
                    order.updated,
                    fingerprint,
                    order.raw_json,
                    plan.revision,
                    now,
                    plan.hold_until,
                    int(plan.payment_wait),
                    now,
                    int(plan.payment_settled),
                    int(order.settle_payment),
                    order.payment or None,
                    *_shown(order),
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
    return AcceptResult(
        plan.outcome,
        plan.revision,
        tuple(job_ids),
        printers,
        hold_until=plan.hold_until,
        payment_wait=plan.payment_wait,
        first_sight=stored is None,
    )


def _shown(order: IncomingOrder) -> tuple[str, str, str, str]:
    """What the status pages show of an order besides its tickets."""
    return (order.skip_reason, order.due, order.location_id, order.location_name)


def _find_order(conn: sqlite3.Connection, order_key: str) -> tuple[str, int] | None:
    row = conn.execute(
        "SELECT order_id, revision FROM orders WHERE order_id = ? AND source <> ?",
        (order_key, ALERT_SOURCE),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT order_id, revision FROM orders WHERE number = ? AND source <> ?"
            " ORDER BY received_at DESC LIMIT 1",
            (order_key, ALERT_SOURCE),
        ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def reprint(
    conn: sqlite3.Connection,
    order_key: str,
    kind: str | None,
    now: float,
    printer: str | None = None,
    *,
    set_aside_only: bool = False,
) -> list[int]:
    """Operator reprint by order id or number: one new job per (kind, printer) it had, or
    only those of one receipt kind and/or one printer (a job set aside is retried so).
    ``set_aside_only``: nothing (``[]``) unless such a job is still set aside in this same
    transaction — a late proof that printed it meanwhile makes the retry print nothing.

    Each copy takes the order's latest revision and the variant of that ticket's latest job,
    so a reprinted kitchen ticket of a canceled order still says CANCELED. KeyError for an
    unknown order.
    """
    with write_tx(conn, "reprint"):
        found = _find_order(conn, order_key)
        if found is None:
            raise KeyError(order_key)
        order_id, revision = found
        replaced = replace_attention(conn, order_id, kind, now, printer)  # copies take their place
        if set_aside_only and not replaced:
            return []
        pairs = conn.execute(
            "SELECT kind, printer, (SELECT l.variant FROM jobs l WHERE l.order_id = j.order_id"
            " AND l.kind = j.kind AND l.printer = j.printer ORDER BY l.revision DESC, l.id DESC"
            " LIMIT 1) FROM jobs j WHERE order_id = ? AND (? IS NULL OR kind = ?)"
            " AND (? IS NULL OR printer = ?) GROUP BY kind, printer ORDER BY MIN(id)",
            (order_id, kind, kind, printer, printer),
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
    """The order's text for its tickets: Wix's order, with the Order Transactions answer (once
    fetched) beside its fields under ``STORED_TRANSACTIONS_KEY``."""
    with read_tx(conn, "order_raw"):
        row = conn.execute(
            "SELECT raw_json, payment FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
    if row is None:
        return None
    raw, payment = str(row[0]), row[1]
    body = raw.lstrip()
    if payment is None or not body.startswith("{"):
        return raw
    rest = body[1:].lstrip()
    joint = "" if rest.startswith("}") else ","
    # Both parts are JSON we wrote (an object, and the answer's text): splicing keeps the
    # order's text as Wix sent it and costs no parse.
    return f'{{"{STORED_TRANSACTIONS_KEY}":{payment}{joint}{rest}'


def find_order_raw(conn: sqlite3.Connection, order_key: str) -> str | None:
    """:func:`order_raw` of an order given by id or number (the latest with that number):
    what a preview renders, so it shows what the printer actor prints."""
    with read_tx(conn, "find_order"):
        found = _find_order(conn, order_key)
    return None if found is None else order_raw(conn, found[0])


def order_source(conn: sqlite3.Connection, order_id: str) -> str | None:
    """The order's text as Wix sent it (to decide on it again), None if not held."""
    with read_tx(conn, "order_source"):
        row = conn.execute("SELECT raw_json FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return None if row is None else str(row[0])


def pending_orders(conn: sqlite3.Connection) -> list[PendingOrder]:
    """Orders with tickets still to come: held, or waiting for the payment method."""
    with read_tx(conn, "pending_orders"):
        rows = conn.execute(
            "SELECT order_id, number, hold_until, payment_wait, due FROM orders"
            " WHERE hold_until <> '' OR payment_wait IS NOT NULL ORDER BY hold_until, rowid"
        ).fetchall()
    return [
        PendingOrder(
            order_id=str(r[0]),
            number=str(r[1]),
            hold_until=str(r[2]),
            payment_wait=None if r[3] is None else float(r[3]),
            due=str(r[4]),
        )
        for r in rows
    ]


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
            " USING (order_id) WHERE j.state IN (?, ?) AND o.source <> ? GROUP BY j.order_id"
            " HAVING since <= ? ORDER BY since",
            (*_OPEN_STATES, ALERT_SOURCE, now - older_than),
        ).fetchall()
    return [(str(r[0]), now - float(r[1])) for r in rows]


def recent_orders(conn: sqlite3.Connection, limit: int) -> list[OrderSummary]:
    """Newest orders first, with every ticket's state. Never customer details."""
    with read_tx(conn, "recent_orders"):
        orders = conn.execute(
            "SELECT order_id, number, status, created, received_at, source, revision,"
            " skip_reason, hold_until, due, location_id, location_name, payment_wait,"
            " payment_settled, payment IS NOT NULL"
            " FROM orders WHERE source <> ? ORDER BY received_at DESC, rowid DESC LIMIT ?",
            (ALERT_SOURCE, limit),
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
            skip_reason=str(o[7]),
            hold_until=str(o[8]),
            due=str(o[9]),
            location_id=str(o[10]),
            location_name=str(o[11]),
            payment=_payment_state(o[12], bool(o[13]), bool(o[14])),
        )
        for o in orders
    ]


def _payment_state(wait: float | None, settled: bool, known: bool) -> str:
    if wait is not None:
        return "waiting"
    if known:
        return "known"
    return "unavailable" if settled else ""
