"""What the spool remembers of orders beyond their rows: tombstones, the quarantine, the
restore horizon, and pruning by Wix's clock.

**Tombstone rule.** An order id the spool has seen is never NEW again. Pruning an order row
leaves a tombstone (id, number, status, dates, revision, per-kind fingerprints, the
(kind, printer) pairs it had tickets at, whether one printed): a few bytes that the revision
rules read exactly like the row, so a pruned order that Wix sends again, through the poll
overlap or after a late change, is a duplicate or a proper revision, never a fresh order.
Tombstones are kept for years (``TOMBSTONE_RETENTION``); dropping them moves the history
start forward (``horizons.py``), so anything they covered comes back with a REPRINT banner.

Pruning decides by Wix's own timestamps: an order goes when its ``updatedDate`` is older than
``keep_for`` before the reference, the poll mark (Wix's clock) or this machine's clock,
whichever is earlier. A clock that is wrong can only delay pruning, never hasten it.
``keep_for`` is at least the poll overlap plus a day, so nothing goes that the next poll
could still bring back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from wixprint.spool.db import clip, read_tx, record_event, write_tx
from wixprint.spool.horizons import (
    RESTORE_HORIZON,
    SNAPSHOT,
    has_meta_table,
    latest,
    meta_value,
    raise_history_start,
    set_meta_value,
)
from wixprint.spool.revisions import StoredOrder
from wixprint.spool.types import ALERT_SOURCE, JobState, QuarantinedOrder
from wixprint.vocabulary import JobTarget
from wixprint.wixtime import format_wix_time, parse_wix_time, wix_time_of

__all__ = [
    "TOMBSTONE_RETENTION",
    "adopt_snapshot",
    "buried",
    "fingerprints_of",
    "fingerprints_text",
    "job_targets",
    "known_revisions",
    "prune",
    "quarantine_order",
]

TOMBSTONE_RETENTION = 2 * 365 * 86400.0
"""Seconds (of Wix's clock) a tombstone outlives its order's last update."""

_CHUNK = 300
_KNOWN = (("orders", "order_id"), ("tombstones", "order_id"), ("quarantine", "order_key"))


def fingerprints_text(fingerprints: Mapping[str, str]) -> str:
    return json.dumps(dict(fingerprints), sort_keys=True, separators=(",", ":"))


def fingerprints_of(text: str) -> dict[str, str]:
    """Per-kind fingerprints from the column; {} for a row from before they existed."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def job_targets(conn: sqlite3.Connection, order_id: str) -> tuple[JobTarget, ...]:
    """(kind, printer) pairs of the order's jobs, in job order."""
    rows = conn.execute(
        "SELECT kind, printer FROM jobs WHERE order_id = ? GROUP BY kind, printer ORDER BY MIN(id)",
        (order_id,),
    ).fetchall()
    return tuple(JobTarget(kind=str(r[0]), printer=str(r[1])) for r in rows)


def buried(conn: sqlite3.Connection, order_id: str) -> tuple[StoredOrder, bool] | None:
    """The order as its tombstone remembers it, and whether a ticket of it printed."""
    row = conn.execute(
        "SELECT status, updated, fingerprint, revision, targets, printed FROM tombstones"
        " WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if row is None:
        return None
    try:
        pairs = json.loads(row[4])
        targets = tuple(JobTarget(kind=str(k), printer=str(p)) for k, p in pairs)
    except (ValueError, TypeError):
        targets = ()
    stored = StoredOrder(
        status=str(row[0]),
        updated=str(row[1]),
        fingerprints=fingerprints_of(str(row[2])),
        revision=int(row[3]),
        targets=targets,
    )
    return stored, bool(row[5])


def known_revisions(conn: sqlite3.Connection, keys: Iterable[str]) -> dict[str, list[str]]:
    """Per order key, every ``updatedDate`` the spool holds for it: its row or tombstone,
    and a quarantined copy. Keys the spool never saw are absent."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, list[str]] = {}
    with read_tx(conn, "known_revisions"):
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = " UNION ALL ".join(
                f"SELECT {key}, updated FROM {table} WHERE {key} IN ({marks})"
                for table, key in _KNOWN
            )
            rows = conn.execute(query, chunk * len(_KNOWN)).fetchall()
            for key, updated in rows:
                found.setdefault(str(key), []).append(str(updated))
    return found


def quarantine_order(conn: sqlite3.Connection, order: QuarantinedOrder, now: float) -> bool:
    """Keep an order that could not be taken in; True the first time its key is kept."""
    values = (order.number, order.updated, order.source, order.stage, clip(order.error))
    with write_tx(conn, "quarantine_order"):
        cur = conn.execute(
            "UPDATE quarantine SET number = ?, updated = ?, source = ?, stage = ?, error = ?,"
            " raw = ?, last_at = ?, times = times + 1 WHERE order_key = ?",
            (*values, order.raw, now, order.key),
        )
        if cur.rowcount:
            return False
        conn.execute(
            "INSERT INTO quarantine (number, updated, source, stage, error, raw, first_at,"
            " last_at, order_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, order.raw, now, now, order.key),
        )
    return True


def adopt_snapshot(conn: sqlite3.Connection, now: float) -> str | None:
    """If this spool is a restored snapshot, set the restore horizon; the horizon or None.

    The horizon is the latest of: when the copy was taken, its poll mark, and now (the moment
    of the restore, as far as this machine's clock knows). Jobs the copy still had waiting are
    marked REPRINT: the replaced spool may have printed them.
    """
    if not has_meta_table(conn) or meta_value(conn, SNAPSHOT) is None:
        return None
    with write_tx(conn, "adopt_snapshot"):
        try:
            stamp = json.loads(meta_value(conn, SNAPSHOT) or "{}")
        except ValueError:
            stamp = {}
        if not isinstance(stamp, dict):
            stamp = {}
        horizon = latest(
            meta_value(conn, RESTORE_HORIZON),
            str(stamp.get("taken_at") or ""),
            str(stamp.get("mark") or ""),
            wix_time_of(now),
        )
        set_meta_value(conn, RESTORE_HORIZON, horizon)
        waiting = conn.execute(
            "UPDATE jobs SET reprint = 1, reason = 'restored', updated_at = ?"
            " WHERE state IN (?, ?) RETURNING id, state",
            (now, JobState.QUEUED.value, JobState.PRINTING.value),
        ).fetchall()
        for job_id, state in waiting:
            record_event(
                conn,
                job_id=int(job_id),
                event="restored",
                state=JobState(state),
                now=now,
                detail="restored from a backup: may be on paper",
            )
        conn.execute("DELETE FROM meta WHERE name = ?", (SNAPSHOT,))
    return horizon


def _reference(reference: str | None, now: float) -> datetime | None:
    """The earlier of the poll mark and this machine's clock; None without a mark."""
    mark = parse_wix_time(reference)
    if mark is None:
        return None
    clock = parse_wix_time(wix_time_of(now))
    return mark if clock is None else min(mark, clock)


def _older(rows: Iterable[tuple[object, object, object]], cutoff: datetime) -> list[str]:
    """Keys of (key, updated, created) rows whose last Wix date lies before ``cutoff``."""
    old = []
    for key, updated, created in rows:
        when = parse_wix_time(updated) or parse_wix_time(created)
        if when is not None and when < cutoff:
            old.append(str(key))
    return old


def _bury(conn: sqlite3.Connection, order_id: str, now: float) -> int:
    """Replace an order row and its jobs by a tombstone; rows deleted."""
    targets = json.dumps([[t.kind, t.printer] for t in job_targets(conn, order_id)])
    conn.execute(
        "INSERT OR REPLACE INTO tombstones (order_id, number, status, created, updated,"
        " revision, fingerprint, targets, printed, buried_at) SELECT order_id, number, status,"
        " created, updated, revision, fingerprint, ?, printed_any, ? FROM orders"
        " WHERE order_id = ?",
        (targets, now, order_id),
    )
    jobs = conn.execute("DELETE FROM jobs WHERE order_id = ?", (order_id,)).rowcount
    return jobs + conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,)).rowcount


def _prune_slips(conn: sqlite3.Connection, older_than: float) -> int:
    """Alert slips (``db_slips``) queued before ``older_than`` (wall seconds) whose jobs are
    all done: deleted outright, no tombstone (no poll brings them back). Rows deleted."""
    gone = [
        str(r[0])
        for r in conn.execute(
            "SELECT order_id FROM orders o WHERE source = ? AND received_at < ? AND NOT EXISTS"
            " (SELECT 1 FROM jobs j WHERE j.order_id = o.order_id AND j.state IN (?, ?))",
            (ALERT_SOURCE, older_than, JobState.QUEUED.value, JobState.PRINTING.value),
        )
    ]
    deleted = 0
    for order_id in gone:
        deleted += conn.execute("DELETE FROM jobs WHERE order_id = ?", (order_id,)).rowcount
        deleted += conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,)).rowcount
    return deleted


def prune(
    conn: sqlite3.Connection,
    *,
    keep_for: float,
    reference: str | None,
    now: float,
    keep_tombstones_for: float = TOMBSTONE_RETENTION,
    events_older_than: float,
) -> int:
    """Bury old finished orders, drop old tombstones and history; rows deleted.

    An order goes when every job of it printed (a failed or waiting ticket, a held pre-order
    or tickets waiting for the payment method keep it) and
    its ``updatedDate`` is ``keep_for`` seconds older than the reference (module docstring).
    Job history, sent alerts, done alert slips and webhook ids are plain history: they go by
    this machine's clock, which can change nothing that prints (webhook ids after
    ``events_older_than`` seconds, the rest after ``keep_for``).
    """
    ref = _reference(reference, now)
    deleted = 0
    with write_tx(conn, "prune"):
        if ref is not None:
            finished = conn.execute(
                "SELECT order_id, updated, created FROM orders o WHERE hold_until = ''"
                " AND payment_wait IS NULL AND source <> ? AND NOT EXISTS"
                " (SELECT 1 FROM jobs j WHERE j.order_id = o.order_id AND j.state <> ?)",
                (ALERT_SOURCE, JobState.PRINTED.value),
            ).fetchall()
            for order_id in _older(finished, ref - timedelta(seconds=keep_for)):
                deleted += _bury(conn, order_id, now)
            cutoff = ref - timedelta(seconds=max(keep_for, keep_tombstones_for))
            stones = conn.execute("SELECT order_id, updated, created FROM tombstones")
            gone = _older(stones.fetchall(), cutoff)
            for order_id in gone:
                deleted += conn.execute(
                    "DELETE FROM tombstones WHERE order_id = ?", (order_id,)
                ).rowcount
            if gone:
                raise_history_start(conn, format_wix_time(cutoff))
            kept = conn.execute("SELECT order_key, updated, updated FROM quarantine")
            for key in _older(kept.fetchall(), cutoff):
                deleted += conn.execute(
                    "DELETE FROM quarantine WHERE order_key = ?", (key,)
                ).rowcount
        deleted += _prune_slips(conn, now - keep_for)
        deleted += conn.execute("DELETE FROM job_events WHERE at < ?", (now - keep_for,)).rowcount
        deleted += conn.execute(
            "DELETE FROM alert_outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
            (now - keep_for,),
        ).rowcount
        deleted += conn.execute(
            "DELETE FROM webhook_events WHERE received_at < ?", (now - events_older_than,)
        ).rowcount
    return deleted
