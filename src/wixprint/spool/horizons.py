"""Where the spool's memory ends: the two horizons behind a REPRINT banner on a first ticket.

A ticket the spool has no record of printing can still be on paper already, in two cases:

* **History start** (``meta.history_start``, Wix time): the spool knows every order Wix
  created from this moment on. Before it, records may have been dropped (spools from before
  tombstones pruned whole orders; tombstones themselves go after years). An order never seen
  but created earlier may have printed before: its tickets carry the banner.
* **Restore horizon** (``meta.restore_horizon``, Wix time): this spool is a restored backup
  (``wixprint restore``, or a migration's ``.bak`` copied back after an upgrade rollback).
  The spool it replaced may have printed anything that reached Wix before the restore, so
  every ticket of an order last updated before the horizon carries the banner, and so do the
  jobs the backup still had waiting.

Every copy of the spool (``backup_database``) is stamped with the moment it was taken
(``meta.snapshot``); the live file never has that stamp. A spool that opens with one is
therefore a restored copy: ``db_memory.adopt_snapshot`` sets the restore horizon and removes the
stamp, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from wixprint.wixtime import format_wix_time, parse_wix_time, wix_time_of

__all__ = [
    "HISTORY_START",
    "POLL_MARK",
    "RESTORE_HORIZON",
    "SNAPSHOT",
    "Horizon",
    "ensure_snapshot",
    "has_meta_table",
    "latest",
    "meta_value",
    "raise_history_start",
    "read_horizon",
    "set_meta_value",
    "stamp_snapshot",
]

POLL_MARK = "poll_mark"
"""The fetcher's high-water mark in the ``cursors`` table (Wix's ``updatedDate``)."""
HISTORY_START = "history_start"
RESTORE_HORIZON = "restore_horizon"
SNAPSHOT = "snapshot"


@dataclass(frozen=True, slots=True)
class Horizon:
    """Both horizons as Wix timestamps; "" when not set (nothing before it is doubtful)."""

    history_start: str = ""
    restored: str = ""


def latest(*stamps: str | None) -> str:
    """The latest readable timestamp among ``stamps``, in Wix form ("" if none is readable)."""
    moments = [m for m in (parse_wix_time(s) for s in stamps) if m is not None]
    return format_wix_time(max(moments)) if moments else ""


def meta_value(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def set_meta_value(conn: sqlite3.Connection, name: str, value: str, *, table: str = "meta") -> None:
    """Upsert one row of a key/value table (``meta`` or ``cursors``), in the caller's
    transaction."""
    if table not in ("meta", "cursors"):
        raise ValueError(table)
    conn.execute(
        f"INSERT INTO {table} (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def read_horizon(conn: sqlite3.Connection) -> Horizon:
    """Both horizons (inside the caller's transaction)."""
    return Horizon(
        history_start=meta_value(conn, HISTORY_START) or "",
        restored=meta_value(conn, RESTORE_HORIZON) or "",
    )


def raise_history_start(conn: sqlite3.Connection, stamp: str) -> None:
    """Move the history start forward to ``stamp`` (never back)."""
    set_meta_value(conn, HISTORY_START, latest(meta_value(conn, HISTORY_START), stamp))


def stamp_snapshot(copy: sqlite3.Connection, taken_at: float) -> None:
    """Mark a fresh copy of the spool as a snapshot taken at ``taken_at`` (wall seconds).

    Also records the copy's poll mark: Wix's own clock, a floor for the horizon if the
    restoring machine's clock is behind. A copy too old to have a meta table is left as is.
    """
    if not has_meta_table(copy):
        return
    mark = copy.execute("SELECT value FROM cursors WHERE name = ?", (POLL_MARK,)).fetchone()
    value = {"taken_at": wix_time_of(taken_at), "mark": None if mark is None else str(mark[0])}
    copy.execute("BEGIN IMMEDIATE")
    set_meta_value(copy, SNAPSHOT, json.dumps(value))
    copy.execute("COMMIT")


def ensure_snapshot(copy: sqlite3.Connection, fallback: float) -> None:
    """Stamp a copy made before copies were stamped: taken at its last recorded activity
    (else ``fallback``, e.g. the file's time), so restoring it still sets the horizon."""
    if not has_meta_table(copy) or meta_value(copy, SNAPSHOT) is not None:
        return
    row = copy.execute(
        "SELECT max(t) FROM (SELECT max(updated_at) AS t FROM jobs"
        " UNION ALL SELECT max(updated_at) FROM orders)"
    ).fetchone()
    stamp_snapshot(copy, float(row[0]) if row and row[0] is not None else fallback)


def has_meta_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    return row.fetchone() is not None
