"""The spool's schema as a list of forward migrations, versioned by ``PRAGMA user_version``.

Migration ``i`` takes a database from version ``i`` to ``i + 1``, in its own
``BEGIN IMMEDIATE … PRAGMA user_version = i + 1 … COMMIT`` (``user_version`` is
transactional, so a failed step leaves the previous version intact). Before an existing
database is migrated, a copy is taken next to it as ``<name>.v<old>.bak``.

To change the schema, append a migration; never edit a shipped one. A step is one SQL
statement or a callable for data changes. Enum-like columns (state, variant, reason) carry no
CHECK constraints on purpose: a new value must not need SQLite's twelve-step table rebuild.
Foreign keys are switched off while migrating (rebuilding a referenced table needs that) and
``PRAGMA foreign_key_check`` must come back clean before each migration commits.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wixprint.errors import SpoolError
from wixprint.spool.horizons import POLL_MARK, latest, raise_history_start, stamp_snapshot

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "MigrationReport",
    "backup_database",
    "backup_path",
    "migrate",
    "read_version",
]

Step = str | Callable[[sqlite3.Connection], None]

_V1_CORE: tuple[Step, ...] = (
    """CREATE TABLE orders (
        order_id    TEXT PRIMARY KEY,
        number      TEXT NOT NULL,
        status      TEXT NOT NULL,
        created     TEXT NOT NULL,
        updated     TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        raw_json    TEXT NOT NULL,
        revision    INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0),
        received_at REAL NOT NULL,
        updated_at  REAL NOT NULL,
        source      TEXT NOT NULL,
        printed_any INTEGER NOT NULL DEFAULT 0 CHECK (printed_any IN (0, 1))
    )""",
    "CREATE INDEX orders_number ON orders (number)",
    "CREATE INDEX orders_received ON orders (received_at)",
    # AUTOINCREMENT: ids never come back after pruning, so a job id in a log stays unique.
    """CREATE TABLE jobs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id        TEXT NOT NULL REFERENCES orders (order_id),
        revision        INTEGER NOT NULL CHECK (revision >= 1),
        kind            TEXT NOT NULL CHECK (kind <> ''),
        printer         TEXT NOT NULL CHECK (printer <> ''),
        copy_no         INTEGER NOT NULL DEFAULT 0 CHECK (copy_no >= 0),
        variant         TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued',
        attempts        INTEGER NOT NULL DEFAULT 0,
        reprint         INTEGER NOT NULL DEFAULT 0 CHECK (reprint IN (0, 1)),
        reason          TEXT NOT NULL DEFAULT 'new',
        render_failures INTEGER NOT NULL DEFAULT 0,
        error           TEXT,
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL,
        printed_at      REAL,
        UNIQUE (order_id, revision, kind, printer, copy_no)
    )""",
    "CREATE INDEX jobs_queue ON jobs (printer, state, id)",
    "CREATE INDEX jobs_state ON jobs (state, created_at)",
    "CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # History for the status pages; no foreign key, it outlives pruned jobs for a while.
    """CREATE TABLE job_events (
        id       INTEGER PRIMARY KEY,
        at       REAL NOT NULL,
        job_id   INTEGER NOT NULL,
        order_id TEXT NOT NULL,
        kind     TEXT NOT NULL,
        printer  TEXT NOT NULL,
        event    TEXT NOT NULL,
        state    TEXT NOT NULL,
        detail   TEXT
    )""",
    "CREATE INDEX job_events_at ON job_events (at)",
)

_V2_OUTBOX: tuple[Step, ...] = (
    "CREATE TABLE webhook_events (event_id TEXT PRIMARY KEY, received_at REAL NOT NULL)",
    "CREATE INDEX webhook_events_received ON webhook_events (received_at)",
    """CREATE TABLE alert_outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        key        TEXT NOT NULL,
        level      TEXT NOT NULL,
        subject    TEXT NOT NULL,
        body       TEXT NOT NULL,
        raised_at  REAL NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        sent_at    REAL,
        last_error TEXT
    )""",
    "CREATE INDEX alert_outbox_pending ON alert_outbox (sent_at, id)",
)


def _history_after_old_pruning(conn: sqlite3.Connection) -> None:
    """Spools from before tombstones deleted whole orders when pruning, leaving no trace.

    If jobs were ever deleted (the id sequence ran past the jobs left), the history start
    becomes the newest known order's creation (else the poll mark): an order never seen but
    created before it may have been one of the pruned ones, and prints with the REPRINT
    banner. A spool that never pruned knows all of its history.
    """
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'").fetchone()
    left = int(conn.execute("SELECT count(*) FROM jobs").fetchone()[0])
    if seq is None or int(seq[0]) <= left:
        return
    created = [str(r[0]) for r in conn.execute("SELECT created FROM orders")]
    mark = conn.execute("SELECT value FROM cursors WHERE name = ?", (POLL_MARK,)).fetchone()
    start = latest(*created) or latest(None if mark is None else str(mark[0]))
    if start:
        raise_history_start(conn, start)


# Tombstones: what the spool remembers of an order after its row was pruned. Quarantine:
# orders that could not be taken in, with the text Wix sent.
_V3_TOMBSTONES: tuple[Step, ...] = (
    """CREATE TABLE tombstones (
        order_id    TEXT PRIMARY KEY,
        number      TEXT NOT NULL,
        status      TEXT NOT NULL,
        created     TEXT NOT NULL,
        updated     TEXT NOT NULL,
        revision    INTEGER NOT NULL CHECK (revision >= 0),
        fingerprint TEXT NOT NULL,
        targets     TEXT NOT NULL,
        printed     INTEGER NOT NULL CHECK (printed IN (0, 1)),
        buried_at   REAL NOT NULL
    )""",
    """CREATE TABLE quarantine (
        order_key  TEXT PRIMARY KEY,
        number     TEXT NOT NULL,
        updated    TEXT NOT NULL,
        source     TEXT NOT NULL,
        stage      TEXT NOT NULL,
        error      TEXT NOT NULL,
        raw        TEXT NOT NULL,
        first_at   REAL NOT NULL,
        last_at    REAL NOT NULL,
        times      INTEGER NOT NULL DEFAULT 1
    )""",
    _history_after_old_pruning,
)


# Alerts go to several channels (mail, push, webhook; printer slips later), each delivery
# tracked on its own so one channel down never blocks or duplicates another; the alert
# engine's problem state survives restarts. ``alert_outbox.sent_at`` now means "every
# delivery done"; ``problem_level`` is the problem's severity that routes the alert (a
# resolved message is level info but goes wherever its problem went).
_V4_ALERT_STATE: tuple[Step, ...] = (
    "ALTER TABLE alert_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'raise'",
    "ALTER TABLE alert_outbox ADD COLUMN problem_level TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE alert_outbox ADD COLUMN since REAL",
    """CREATE TABLE alert_deliveries (
        alert_id   INTEGER NOT NULL REFERENCES alert_outbox (id) ON DELETE CASCADE,
        channel    TEXT NOT NULL CHECK (channel <> ''),
        attempts   INTEGER NOT NULL DEFAULT 0,
        sent_at    REAL,
        last_error TEXT,
        PRIMARY KEY (alert_id, channel)
    )""",
    "CREATE INDEX alert_deliveries_pending ON alert_deliveries (channel, sent_at, alert_id)",
    # Mails still waiting from before: the only channel there was.
    "INSERT INTO alert_deliveries (alert_id, channel, attempts, last_error)"
    " SELECT id, 'mail', attempts, last_error FROM alert_outbox WHERE sent_at IS NULL",
    "UPDATE alert_outbox SET problem_level = level",
    """CREATE TABLE alert_state (
        name       TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
)

# Tickets that wait, and what the status pages show of an order (issue 13): a pre-order held
# until ``hold_until`` (Wix time), driver slips and customer receipts waiting for the payment
# method since ``payment_wait`` (wall seconds), the Order Transactions answer (``payment``,
# JSON; NULL until fetched), why an order prints nothing, its due time and business location.
# Rows from before print as they always did: settled, nothing held.
_V5_SCHEDULE_AND_PAYMENT: tuple[Step, ...] = (
    "ALTER TABLE orders ADD COLUMN hold_until TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE orders ADD COLUMN payment_wait REAL",
    "ALTER TABLE orders ADD COLUMN payment_settled INTEGER NOT NULL DEFAULT 1"
    " CHECK (payment_settled IN (0, 1))",
    "ALTER TABLE orders ADD COLUMN payment TEXT",
    "ALTER TABLE orders ADD COLUMN skip_reason TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE orders ADD COLUMN due TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE orders ADD COLUMN location_id TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE orders ADD COLUMN location_name TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX orders_pending ON orders (order_id)"
    " WHERE hold_until <> '' OR payment_wait IS NOT NULL",
)


_V6_ATTENTION: tuple[Step, ...] = (
    # Unconfirmed attempts on a printer that answers: at the limit a job needs attention.
    "ALTER TABLE jobs ADD COLUMN unproven INTEGER NOT NULL DEFAULT 0 CHECK (unproven >= 0)",
)

# The other printer speaks up (issue 16): an alert keeps its problem's facts as JSON, so a
# channel that words its own text (a slip in the ticket language) can do so from the outbox
# after any restart. Slips themselves are ordinary jobs (``db_slips``): no table of their own.
_V7_ALERT_SLIPS: tuple[Step, ...] = (
    "ALTER TABLE alert_outbox ADD COLUMN facts TEXT NOT NULL DEFAULT ''",
)

_V8_UNANSWERED: tuple[Step, ...] = (
    # Unconfirmed attempts that ended in silence: at a (higher) limit a job needs attention.
    "ALTER TABLE jobs ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0 CHECK (unanswered >= 0)",
)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    _V1_CORE,
    _V2_OUTBOX,
    _V3_TOMBSTONES,
    _V4_ALERT_STATE,
    _V5_SCHEDULE_AND_PAYMENT,
    _V6_ATTENTION,
    _V7_ALERT_SLIPS,
    _V8_UNANSWERED,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class MigrationReport:
    old_version: int
    new_version: int
    backup: Path | None
    """The copy taken before migrating, None for a new database or no migration."""


def read_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def backup_path(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.v{version}.bak")


def backup_database(conn: sqlite3.Connection, dest: Path, *, taken_at: float | None = None) -> None:
    """A consistent single-file copy of ``conn``'s database at ``dest``, replaced atomically.

    Runs on the caller's connection (the sqlite3 backup API), so it sees committed data only
    and needs no second writer on the spool file. The copy is stamped as a snapshot taken at
    ``taken_at`` (wall seconds, default now): opened as a spool again, it knows it was
    restored (``spool.horizons``).
    """
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    target = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.backup(target)
        # A self-contained file: no -wal/-shm companions needed to read the copy.
        target.execute("PRAGMA journal_mode=DELETE")
        stamp_snapshot(target, time.time() if taken_at is None else taken_at)
    finally:
        target.close()
    os.replace(tmp, dest)


def migrate(
    conn: sqlite3.Connection,
    path: Path | None,
    *,
    target: int = SCHEMA_VERSION,
    now: float | None = None,
) -> MigrationReport:
    """Bring ``conn`` forward to ``target`` (tests stop early to build old databases).

    ``path`` is the database file, for the backup copy; None skips the copy. ``now`` (wall
    seconds) stamps the copy.
    Raises SpoolError for a database newer than this code, or one that is not a spool.
    """
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"no schema version {target}")
    current = read_version(conn)
    if current > SCHEMA_VERSION:
        raise SpoolError(
            f"spool database has schema version {current}, newer than version "
            f"{SCHEMA_VERSION} that this program knows: refusing to downgrade"
        )
    if current == 0 and _has_tables(conn):
        raise SpoolError("spool database has tables but no schema version: not a spool file")
    if current >= target:
        return MigrationReport(current, current, None)
    backup = None
    if current > 0 and path is not None:
        backup = backup_path(path, current)
        backup_database(conn, backup, taken_at=now)
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        for version in range(current, target):
            _apply(conn, version)
    finally:
        conn.execute("PRAGMA foreign_keys=ON")
    return MigrationReport(current, target, backup)


def _has_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    return int(row[0]) > 0


def _check_foreign_keys(conn: sqlite3.Connection, version: int) -> None:
    if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
        raise SpoolError(f"migration to version {version} broke a foreign key")


def _apply(conn: sqlite3.Connection, version: int) -> None:
    steps: Sequence[Step] = MIGRATIONS[version]
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in steps:
            if isinstance(step, str):
                conn.execute(step)
            else:
                step(conn)
        _check_foreign_keys(conn, version + 1)
        conn.execute(f"PRAGMA user_version = {version + 1:d}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
