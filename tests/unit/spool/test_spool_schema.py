"""Schema migrations on a raw sqlite3 connection."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from wixprint.errors import SpoolError
from wixprint.spool import schema


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "spool.db"


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(db_path, isolation_level=None)
    yield connection
    connection.close()


def tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows} - {"sqlite_sequence"}


def test_fresh_database_gets_every_migration_and_no_backup(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    report = schema.migrate(conn, db_path)
    latest = schema.SCHEMA_VERSION
    assert (report.old_version, report.new_version, report.backup) == (0, latest, None)
    assert schema.read_version(conn) == latest
    assert {
        "orders",
        "jobs",
        "cursors",
        "meta",
        "job_events",
        "webhook_events",
        "alert_outbox",
        "tombstones",
        "quarantine",
        "alert_deliveries",
        "alert_state",
    } <= tables(conn)
    assert list(db_path.parent.glob("*.bak")) == []


def test_each_version_adds_its_tables(conn: sqlite3.Connection, db_path: Path) -> None:
    schema.migrate(conn, db_path, target=1)
    assert schema.read_version(conn) == 1
    assert "alert_outbox" not in tables(conn)
    assert "jobs" in tables(conn)
    report = schema.migrate(conn, db_path)
    assert (report.old_version, report.new_version) == (1, schema.SCHEMA_VERSION)
    assert report.backup == db_path.with_name("spool.db.v1.bak")
    backup = sqlite3.connect(report.backup)
    try:
        assert schema.read_version(backup) == 1
        assert "alert_outbox" not in tables(backup)
    finally:
        backup.close()


def test_up_to_date_database_is_left_alone(conn: sqlite3.Connection, db_path: Path) -> None:
    schema.migrate(conn, db_path)
    report = schema.migrate(conn, db_path)
    latest = schema.SCHEMA_VERSION
    assert (report.old_version, report.new_version, report.backup) == (latest, latest, None)


def test_failed_migration_leaves_the_previous_version(
    conn: sqlite3.Connection, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema.migrate(conn, db_path)
    broken = (*schema.MIGRATIONS, ("CREATE TABLE extra (x)", "INSERT INTO missing VALUES (1)"))
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(broken))
    with pytest.raises(sqlite3.OperationalError, match="no such table: missing"):
        schema.migrate(conn, db_path, target=len(broken))
    assert schema.read_version(conn) == len(broken) - 1
    assert "extra" not in tables(conn)
    assert not conn.in_transaction
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_newer_database_is_refused(conn: sqlite3.Connection, db_path: Path) -> None:
    schema.migrate(conn, db_path)
    conn.execute("PRAGMA user_version = 70")
    newest = schema.SCHEMA_VERSION
    with pytest.raises(SpoolError, match=rf"version 70, newer than version {newest}"):
        schema.migrate(conn, db_path)
    assert schema.read_version(conn) == 70


def test_foreign_database_is_refused(conn: sqlite3.Connection, db_path: Path) -> None:
    conn.execute("CREATE TABLE something_else (x)")
    with pytest.raises(SpoolError) as refused:
        schema.migrate(conn, db_path)
    assert str(refused.value) == (
        "spool database has tables but no schema version: not a spool file"
    )


def test_a_migration_that_breaks_a_foreign_key_is_undone(
    conn: sqlite3.Connection, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema.migrate(conn, db_path)
    orphan = (
        "INSERT INTO jobs (order_id, revision, kind, printer, variant, created_at, updated_at)"
        " VALUES ('no-such-order', 1, 'kitchen', 'k', 'new', 0, 0)"
    )
    broken = (*schema.MIGRATIONS, (orphan,))
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(broken))
    with pytest.raises(SpoolError) as refused:
        schema.migrate(conn, db_path, target=len(broken))
    assert str(refused.value) == f"migration to version {len(broken)} broke a foreign key"
    assert schema.read_version(conn) == len(broken) - 1
    assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


_ORDER_COLUMNS = (
    "INSERT INTO orders (order_id, number, status, created, updated, fingerprint, raw_json,"
    " revision, received_at, updated_at, source) VALUES"
)
_JOB_COLUMNS = (
    "INSERT INTO jobs (order_id, revision, kind, printer, copy_no, variant, created_at,"
    " updated_at) VALUES"
)
_EVENT_COLUMNS = (
    "INSERT INTO job_events (id, at, job_id, order_id, kind, printer, event, state) VALUES"
)
_ORDER_O1 = "('o1', '1001', 'APPROVED', '', '', '', '{}', 1, 0, 0, 'poll')"


def _migrate_over_one_job(
    conn: sqlite3.Connection, db_path: Path, migration: tuple[schema.Step, ...], **columns: int
) -> None:
    """Migrate to just before ``migration``, add one queued job (with ``columns`` set),
    then take that one step."""
    before = schema.MIGRATIONS.index(migration)
    schema.migrate(conn, db_path, target=before)
    conn.execute(f"{_ORDER_COLUMNS} {_ORDER_O1}")
    names = "".join(f", {name}" for name in columns)
    conn.execute(
        _JOB_COLUMNS.replace(") VALUES", f"{names}) VALUES")
        + " ('o1', 1, 'kitchen', 'k', 0, 'new', 0, 0"
        + ", ?" * len(columns)
        + ")",
        tuple(columns.values()),
    )
    report = schema.migrate(conn, db_path, target=before + 1)
    assert report.backup is not None


def test_attention_migration_keeps_jobs_and_counts_no_unproven_attempts(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    _migrate_over_one_job(conn, db_path, schema._V6_ATTENTION)
    assert conn.execute("SELECT state, unproven FROM jobs").fetchall() == [("queued", 0)]


def test_unanswered_migration_keeps_jobs_and_counts_no_silent_attempts(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    _migrate_over_one_job(conn, db_path, schema._V8_UNANSWERED, unproven=2)
    rows = conn.execute("SELECT state, unproven, unanswered FROM jobs").fetchall()
    assert rows == [("queued", 2, 0)]


def test_unknown_target_is_a_bug(conn: sqlite3.Connection, db_path: Path) -> None:
    for target in (-1, schema.SCHEMA_VERSION + 1):
        with pytest.raises(ValueError, match=rf"^no schema version {target}$"):
            schema.migrate(conn, db_path, target=target)
    # Version 0 is an empty file: the oldest database a test can start from.
    report = schema.migrate(conn, db_path, target=0)
    assert (report.old_version, report.new_version, report.backup) == (0, 0, None)
    assert tables(conn) == set()


def test_schedule_and_payment_columns_keep_old_orders_printing_as_before(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    """From version 3: an order spooled before is neither held nor waiting for a payment."""
    schema.migrate(conn, db_path, target=3)
    conn.execute(
        f"{_ORDER_COLUMNS} ('o1', '10231', 'APPROVED', '2025-06-13T17:00:00Z',"
        " '2025-06-13T17:00:00Z', '', '{}', 1, 1.0, 1.0, 'poll')"
    )
    report = schema.migrate(conn, db_path)
    assert (report.old_version, report.new_version) == (3, schema.SCHEMA_VERSION)
    row = conn.execute(
        "SELECT hold_until, payment_wait, payment_settled, payment, skip_reason, due,"
        " location_id, location_name FROM orders WHERE order_id = 'o1'"
    ).fetchone()
    assert row == ("", None, 1, None, "", "", "", "")
    pending = conn.execute(
        "SELECT order_id FROM orders WHERE hold_until <> '' OR payment_wait IS NOT NULL"
    ).fetchall()
    assert pending == []


@pytest.fixture
def filled(conn: sqlite3.Connection, db_path: Path) -> sqlite3.Connection:
    """The newest schema holding one of each row the rules below are about."""
    schema.migrate(conn, db_path)
    for statement in (
        f"{_ORDER_COLUMNS} {_ORDER_O1}",
        f"{_JOB_COLUMNS} ('o1', 1, 'kitchen', 'k', 0, 'new', 0, 0)",
        "INSERT INTO cursors (name, value) VALUES ('orders', 'mark')",
        "INSERT INTO meta (name, value) VALUES ('history_start', 'x')",
        f"{_EVENT_COLUMNS} (1, 0, 1, 'o1', 'kitchen', 'k', 'queued', 'queued')",
        "INSERT INTO webhook_events (event_id, received_at) VALUES ('evt', 0)",
        "INSERT INTO tombstones (order_id, number, status, created, updated, revision,"
        " fingerprint, targets, printed, buried_at) VALUES ('t1', '9', 'A', '', '', 1, '', '',"
        " 1, 0)",
        "INSERT INTO quarantine (order_key, number, updated, source, stage, error, raw,"
        " first_at, last_at) VALUES ('q1', '8', '', 'poll', 'parse', 'e', '{}', 0, 0)",
        "INSERT INTO alert_outbox (key, level, subject, body, raised_at) VALUES"
        " ('k', 'critical', 's', 'b', 0)",
        "INSERT INTO alert_deliveries (alert_id, channel) VALUES (1, 'mail')",
        "INSERT INTO alert_state (name, value, updated_at) VALUES ('engine', '{}', 0)",
    ):
        conn.execute(statement)
    return conn


# What no code path may ever write: the schema itself refuses it (one job per order, revision,
# receipt kind, printer and copy; one row per order, event, channel delivery…).
_UNIQUE = "UNIQUE constraint failed: "
_CHECK = "CHECK constraint failed: "
_FOREIGN_KEY = "FOREIGN KEY constraint failed"
_REFUSED = {
    "the same order twice": (
        f"{_ORDER_COLUMNS} ('o1', '2', 'A', '', '', '', '{{}}', 1, 0, 0, 'p')",
        f"{_UNIQUE}orders.order_id",
    ),
    "a negative order revision": ("UPDATE orders SET revision = -1", f"{_CHECK}revision >= 0"),
    "printed_any neither 0 nor 1": (
        "UPDATE orders SET printed_any = 2",
        f"{_CHECK}printed_any IN (0, 1)",
    ),
    "payment_settled neither 0 nor 1": (
        "UPDATE orders SET payment_settled = 2",
        f"{_CHECK}payment_settled IN (0, 1)",
    ),
    "the same job twice": (
        f"{_JOB_COLUMNS} ('o1', 1, 'kitchen', 'k', 0, 'changed', 1, 1)",
        f"{_UNIQUE}jobs.order_id, jobs.revision, jobs.kind, jobs.printer, jobs.copy_no",
    ),
    "a job of no order": (
        f"{_JOB_COLUMNS} ('o2', 1, 'kitchen', 'k', 0, 'new', 0, 0)",
        _FOREIGN_KEY,
    ),
    "an order whose jobs remain deleted": ("DELETE FROM orders", _FOREIGN_KEY),
    "a job of revision 0": ("UPDATE jobs SET revision = 0", f"{_CHECK}revision >= 1"),
    "a job of no kind": ("UPDATE jobs SET kind = ''", f"{_CHECK}kind <> ''"),
    "a job for no printer": ("UPDATE jobs SET printer = ''", f"{_CHECK}printer <> ''"),
    "a negative copy number": ("UPDATE jobs SET copy_no = -1", f"{_CHECK}copy_no >= 0"),
    "reprint neither 0 nor 1": ("UPDATE jobs SET reprint = 2", f"{_CHECK}reprint IN (0, 1)"),
    "a negative unproven count": ("UPDATE jobs SET unproven = -1", f"{_CHECK}unproven >= 0"),
    "a negative unanswered count": (
        "UPDATE jobs SET unanswered = -1",
        f"{_CHECK}unanswered >= 0",
    ),
    "the same job event id twice": (
        f"{_EVENT_COLUMNS} (1, 1, 1, 'o1', 'kitchen', 'k', 'printed', 'done')",
        f"{_UNIQUE}job_events.id",
    ),
    "the same cursor twice": (
        "INSERT INTO cursors (name, value) VALUES ('orders', 'b')",
        f"{_UNIQUE}cursors.name",
    ),
    "the same meta name twice": (
        "INSERT INTO meta (name, value) VALUES ('history_start', 'y')",
        f"{_UNIQUE}meta.name",
    ),
    "the same webhook event twice": (
        "INSERT INTO webhook_events VALUES ('evt', 1)",
        f"{_UNIQUE}webhook_events.event_id",
    ),
    "the same tombstone twice": (
        "INSERT INTO tombstones SELECT * FROM tombstones",
        f"{_UNIQUE}tombstones.order_id",
    ),
    "a negative tombstone revision": (
        "UPDATE tombstones SET revision = -1",
        f"{_CHECK}revision >= 0",
    ),
    "a tombstone printed neither 0 nor 1": (
        "UPDATE tombstones SET printed = 2",
        f"{_CHECK}printed IN (0, 1)",
    ),
    "the same quarantined order twice": (
        "INSERT INTO quarantine SELECT * FROM quarantine",
        f"{_UNIQUE}quarantine.order_key",
    ),
    "a delivery of no alert": (
        "INSERT INTO alert_deliveries (alert_id, channel) VALUES (2, 'm')",
        _FOREIGN_KEY,
    ),
    "a delivery on no channel": (
        "UPDATE alert_deliveries SET channel = ''",
        f"{_CHECK}channel <> ''",
    ),
    "one alert twice on a channel": (
        "INSERT INTO alert_deliveries (alert_id, channel) VALUES (1, 'mail')",
        f"{_UNIQUE}alert_deliveries.alert_id, alert_deliveries.channel",
    ),
    "the engine state twice": (
        "INSERT INTO alert_state VALUES ('engine', '{}', 1)",
        f"{_UNIQUE}alert_state.name",
    ),
}


@pytest.mark.parametrize(("statement", "reason"), _REFUSED.values(), ids=_REFUSED)
def test_the_schema_refuses_what_no_code_may_write(
    filled: sqlite3.Connection, statement: str, reason: str
) -> None:
    """Each refusal for its own reason (SQLite's text names the rule that said no)."""
    with pytest.raises(sqlite3.IntegrityError, match=f"^{re.escape(reason)}$"):
        filled.execute(statement)


def test_ids_never_come_back_and_an_alert_takes_its_deliveries_along(
    filled: sqlite3.Connection,
) -> None:
    """A job or alert id in a log names one row for ever, even after pruning; a pruned alert
    leaves no delivery behind."""
    filled.execute("DELETE FROM jobs")
    filled.execute(f"{_JOB_COLUMNS} ('o1', 1, 'kitchen', 'k', 0, 'new', 0, 0)")
    filled.execute("DELETE FROM alert_outbox")
    assert filled.execute("SELECT count(*) FROM alert_deliveries").fetchone() == (0,)
    filled.execute(
        "INSERT INTO alert_outbox (key, level, subject, body, raised_at) VALUES"
        " ('k', 'info', 's', 'b', 1)"
    )
    ids = [
        r[0] for r in filled.execute("SELECT id FROM jobs UNION ALL SELECT id FROM alert_outbox")
    ]
    assert ids == [2, 2]
