"""Alert slips in the spool: ordinary print jobs, so they are durable, proven and never
blindly resent like every ticket.

A slip is stored as a row of ``orders`` of its own (``source = 'alert'``, status ``ALERT``,
its text as ``raw_json``) with one job of kind ``alert`` per printer that is to print it.
Its ``order_id`` is the slip's key (the problem's key, the message kind and when it was
raised): a second enqueue of the same slip — after an alerter crash between queueing and
marking the delivery done, or a process restart — finds the row and adds nothing. The
order views, the unprinted-orders alert, operator reprints and pruning's tombstones leave
these rows out; pruning deletes them outright once their jobs are done
(``db_memory.prune``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from wixprint.spool.db import read_tx, write_tx
from wixprint.spool.db_orders import insert_job
from wixprint.spool.types import ALERT_SLIP_KIND, ALERT_SOURCE
from wixprint.vocabulary import JobTarget, Variant
from wixprint.wixtime import wix_time_of

__all__ = ["ALERT_NUMBER", "enqueue_slip", "slip_printers"]

ALERT_NUMBER = "ALERT"
"""What job views and logs show as the "order number" of a slip."""


def enqueue_slip(
    conn: sqlite3.Connection,
    slip_id: str,
    payload: str,
    printers: Sequence[str],
    now: float,
) -> list[int]:
    """Queue slip ``slip_id`` (text ``payload``) on ``printers``, once: the new job ids, or
    none when that slip was queued before (whatever printers it went to then)."""
    stamp = wix_time_of(now)
    with write_tx(conn, "enqueue_slip"):
        row = conn.execute(
            "INSERT INTO orders (order_id, number, status, created, updated, fingerprint,"
            " raw_json, revision, received_at, updated_at, source)"
            " VALUES (?, ?, 'ALERT', ?, ?, '', ?, 1, ?, ?, ?)"
            " ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
            (slip_id, ALERT_NUMBER, stamp, stamp, payload, now, now, ALERT_SOURCE),
        ).fetchone()
        if row is None:
            return []
        return [
            insert_job(
                conn,
                order_id=slip_id,
                revision=1,
                target=JobTarget(ALERT_SLIP_KIND, printer),
                variant=Variant.NEW,
                now=now,
            )
            for printer in dict.fromkeys(printers)
        ]


def slip_printers(conn: sqlite3.Connection, prefix: str) -> list[str]:
    """The printers of the newest slip whose key starts with ``prefix`` (none: [])."""
    with read_tx(conn, "slip_printers"):
        rows = conn.execute(
            "SELECT printer FROM jobs WHERE order_id = (SELECT order_id FROM orders"
            " WHERE source = ? AND substr(order_id, 1, length(?)) = ?"
            " ORDER BY received_at DESC, rowid DESC LIMIT 1) ORDER BY id",
            (ALERT_SOURCE, prefix, prefix),
        ).fetchall()
    return [str(r[0]) for r in rows]
