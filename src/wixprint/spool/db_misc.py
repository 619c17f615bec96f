"""Small spool tables and housekeeping: cursors, meta, webhook dedupe, statistics,
integrity and backup (the alert outbox is ``db_alerts``, pruning ``db_memory``)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from wixprint.errors import SpoolError
from wixprint.spool.db import describe, read_tx, write_tx
from wixprint.spool.horizons import set_meta_value
from wixprint.spool.schema import backup_database, read_version
from wixprint.spool.types import ALERT_SOURCE, JobState, SpoolStatistics

__all__ = [
    "EVENT_RETENTION",
    "backup_to",
    "get_value",
    "integrity_check",
    "seen_event",
    "set_value",
    "statistics",
    "wal_checkpoint",
]

EVENT_RETENTION = 7 * 24 * 3600.0
"""Seconds a webhook event id is remembered for dedupe."""

_TABLES = frozenset({"cursors", "meta"})


def get_value(conn: sqlite3.Connection, table: str, name: str) -> str | None:
    """A value from the ``cursors`` or ``meta`` key/value table."""
    if table not in _TABLES:
        raise ValueError(table)
    with read_tx(conn, f"get {table}"):
        row = conn.execute(f"SELECT value FROM {table} WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def set_value(conn: sqlite3.Connection, table: str, name: str, value: str) -> None:
    if table not in _TABLES:
        raise ValueError(table)
    with write_tx(conn, f"set {table}"):
        set_meta_value(conn, name, value, table=table)


def seen_event(conn: sqlite3.Connection, event_id: str, now: float) -> bool:
    """Remember a webhook event id; True if it was new."""
    with write_tx(conn, "seen_event"):
        cur = conn.execute(
            "INSERT OR IGNORE INTO webhook_events (event_id, received_at) VALUES (?, ?)",
            (event_id, now),
        )
        return cur.rowcount == 1


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def statistics(conn: sqlite3.Connection) -> SpoolStatistics:
    with read_tx(conn, "statistics"):
        version = read_version(conn)
        orders = int(
            conn.execute(
                "SELECT count(*) FROM orders WHERE source <> ?", (ALERT_SOURCE,)
            ).fetchone()[0]
        )
        jobs = {s.value: 0 for s in JobState}
        for state, count in conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"):
            jobs[str(state)] = int(count)
        pending = int(
            conn.execute("SELECT count(*) FROM alert_outbox WHERE sent_at IS NULL").fetchone()[0]
        )
        main = str(conn.execute("PRAGMA database_list").fetchone()[2])
    return SpoolStatistics(
        schema_version=version,
        db_bytes=_file_size(main) + _file_size(main + "-wal") if main else 0,
        orders=orders,
        jobs=jobs,
        pending_alerts=pending,
    )


def integrity_check(conn: sqlite3.Connection) -> bool:
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError:
        return False
    return [str(r[0]) for r in rows] == ["ok"]


def backup_to(conn: sqlite3.Connection, dest: Path, now: float) -> None:
    """A consistent copy of the spool at ``dest`` (online: committed data only), stamped as
    a snapshot taken ``now``."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        backup_database(conn, dest, taken_at=now)
    except sqlite3.Error as exc:
        raise SpoolError(f"spool backup failed ({describe(exc)})") from exc
    except OSError as exc:
        raise SpoolError(f"spool backup failed: {exc.strerror}") from exc


def wal_checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """``PRAGMA wal_checkpoint(TRUNCATE)``: (busy, wal pages, checkpointed pages)."""
    try:
        row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as exc:
        raise SpoolError(f"spool checkpoint failed ({describe(exc)})") from exc
    return int(row[0]), int(row[1]), int(row[2])
