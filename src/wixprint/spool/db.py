"""The spool's synchronous core over one sqlite3 connection: open, transactions, errors.

Every function in the ``db*`` modules takes the connection first and runs on a worker
thread, one at a time (the async :class:`~wixprint.spool.client.Spool` holds the only
connection behind a ``CapacityLimiter(1)``). Time comes in as ``now`` from the caller, so
the clock is read on the Trio thread and tests can use a virtual one.

Every write is ``BEGIN IMMEDIATE … COMMIT`` (ROLLBACK on any error): a deferred ``BEGIN``
that upgrades to a write fails at once with ``SQLITE_BUSY`` instead of waiting. sqlite3
errors become :class:`SpoolError` with the operation's name; SQLite's own messages name
tables and constraints, never bound values, so no order content leaks into them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from wixprint.errors import SpoolError, SpoolUnwritable
from wixprint.spool.machine import JobEvent
from wixprint.spool.schema import MigrationReport, migrate
from wixprint.spool.types import Job, JobState
from wixprint.vocabulary import Variant

__all__ = [
    "JOB_COLUMNS",
    "clip",
    "connect",
    "describe",
    "failure",
    "fetch_job",
    "job_from_row",
    "read_tx",
    "record_event",
    "write_tx",
]

ERROR_MAX = 500
"""Longest error text stored with a job or alert."""

JOB_COLUMNS = """
    j.id, j.order_id, o.number, j.revision, j.kind, j.printer, j.variant, j.state,
    j.attempts, j.reprint, j.reason, j.created_at, j.render_failures, j.error, j.copy_no,
    j.unproven, j.unanswered
"""
"""Select list for :func:`job_from_row`; use with ``FROM jobs j JOIN orders o USING (order_id)``."""


_STORAGE_CODES = {
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
}
"""Primary result codes that mean the disk (not the query) is the problem."""


def failure(message: str, exc: sqlite3.Error) -> SpoolError:
    """The error to raise for ``exc``: :class:`SpoolUnwritable` when the disk refuses (full,
    read-only, I/O error), a plain :class:`SpoolError` otherwise."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _STORAGE_CODES:
        return SpoolUnwritable(message, full=code & 0xFF == sqlite3.SQLITE_FULL)
    return SpoolError(message)


def describe(exc: sqlite3.Error) -> str:
    """``SQLITE_FULL: database or disk is full``: the error code name and SQLite's message."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return f"{name}: {exc}"


def connect(path: Path, now: float | None = None) -> tuple[sqlite3.Connection, MigrationReport]:
    """Open the spool file, set the per-connection pragmas and migrate to the latest schema.

    ``now`` (wall seconds) stamps the copy a migration keeps."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpoolError(f"cannot create the spool directory: {exc.strerror}") from exc
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    except sqlite3.Error as exc:
        raise SpoolError(f"cannot open the spool database ({describe(exc)})") from exc
    try:
        report = _configure(conn, path, now)
    except sqlite3.Error as exc:
        conn.close()
        raise SpoolError(f"cannot open the spool database ({describe(exc)})") from exc
    except BaseException:
        conn.close()
        raise
    return conn, report


def _configure(conn: sqlite3.Connection, path: Path, now: float | None) -> MigrationReport:
    conn.row_factory = sqlite3.Row
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise SpoolError(f"spool database refused WAL journaling (journal_mode={mode})")
    # Per connection, not stored in the file: set it on every open.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return migrate(conn, path, now=now)


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back (SQLITE_FULL, SQLITE_IOERR): check first.
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


@contextmanager
def write_tx(conn: sqlite3.Connection, op: str) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; ROLLBACK and SpoolError on failure.

    Fetch every ``RETURNING`` row inside the block: COMMIT fails while a statement is open.
    """
    with _transaction(conn, op, "BEGIN IMMEDIATE"):
        yield conn


@contextmanager
def read_tx(conn: sqlite3.Connection, op: str) -> Iterator[sqlite3.Connection]:
    """A deferred read transaction: several SELECTs see one snapshot."""
    with _transaction(conn, op, "BEGIN"):
        yield conn


@contextmanager
def _transaction(conn: sqlite3.Connection, op: str, begin: str) -> Iterator[None]:
    try:
        conn.execute(begin)
    except sqlite3.Error as exc:
        raise failure(f"spool {op} failed: cannot begin ({describe(exc)})", exc) from exc
    try:
        yield
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise failure(f"spool {op} failed ({describe(exc)})", exc) from exc
    except BaseException:
        _rollback(conn)
        raise


def job_from_row(row: sqlite3.Row) -> Job:
    """A :class:`Job` from a row selected with :data:`JOB_COLUMNS`."""
    return Job(
        id=int(row[0]),
        order_id=str(row[1]),
        order_number=str(row[2]),
        revision=int(row[3]),
        kind=str(row[4]),
        printer=str(row[5]),
        variant=Variant(row[6]),
        state=JobState(row[7]),
        attempts=int(row[8]),
        reprint=bool(row[9]),
        reason=str(row[10]),
        created_at=float(row[11]),
        render_failures=int(row[12]),
        error=row[13],
        copy_no=int(row[14]),
        unproven=int(row[15]),
        unanswered=int(row[16]),
    )


def fetch_job(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs j JOIN orders o USING (order_id) WHERE j.id = ?",
        (job_id,),
    ).fetchone()
    return None if row is None else job_from_row(row)


def record_event(
    conn: sqlite3.Connection,
    *,
    job_id: int,
    event: JobEvent | str,
    state: JobState,
    now: float,
    detail: str | None = None,
) -> None:
    """Append to the job history (inside the caller's write transaction)."""
    name = event.value if isinstance(event, JobEvent) else event
    conn.execute(
        "INSERT INTO job_events (at, job_id, order_id, kind, printer, event, state, detail)"
        " SELECT ?, id, order_id, kind, printer, ?, ?, ? FROM jobs WHERE id = ?",
        (now, name, state.value, clip(detail), job_id),
    )


def clip(text: str | None) -> str | None:
    return None if text is None else text[:ERROR_MAX]
