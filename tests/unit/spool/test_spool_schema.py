"""Schema migrations on a raw sqlite3 connection."""

from __future__ import annotations

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
    with pytest.raises(SpoolError, match="not a spool file"):
        schema.migrate(conn, db_path)


def _migrate_over_one_job(
    conn: sqlite3.Connection, db_path: Path, migration: tuple[schema.Step, ...], **columns: int
) -> None:
    """Migrate to just before ``migration``, add one queued job (with ``columns`` set),
    then take that one step."""
    before = schema.MIGRATIONS.index(migration)
    schema.migrate(conn, db_path, target=before)
    conn.execute(
        "INSERT INTO orders (order_id, number, status, created, updated, fingerprint, raw_json,"
        " revision, received_at, updated_at, source) VALUES"
        " ('o1', '1001', 'APPROVED', '', '', '', '{}', 1, 0, 0, 'poll')"
    )
    names = "".join(f", {name}" for name in columns)
    conn.execute(
        "INSERT INTO jobs (order_id, revision, kind, printer, variant, state, created_at,"
        f" updated_at{names}) VALUES ('o1', 1, 'kitchen', 'k', 'new', 'queued', 0, 0"
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
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE jobs SET unproven = -1")


def test_unanswered_migration_keeps_jobs_and_counts_no_silent_attempts(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    _migrate_over_one_job(conn, db_path, schema._V8_UNANSWERED, unproven=2)
    rows = conn.execute("SELECT state, unproven, unanswered FROM jobs").fetchall()
    assert rows == [("queued", 2, 0)]
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE jobs SET unanswered = -1")


def test_unknown_target_is_a_bug(conn: sqlite3.Connection, db_path: Path) -> None:
    with pytest.raises(ValueError, match="no schema version 99"):
        schema.migrate(conn, db_path, target=99)


def test_schedule_and_payment_columns_keep_old_orders_printing_as_before(
    conn: sqlite3.Connection, db_path: Path
) -> None:
    """From version 3: an order spooled before is neither held nor waiting for a payment."""
    schema.migrate(conn, db_path, target=3)
    conn.execute(
        "INSERT INTO orders (order_id, number, status, created, updated, fingerprint, raw_json,"
        " revision, received_at, updated_at, source) VALUES ('o1', '10231', 'APPROVED',"
        " '2025-06-13T17:00:00Z', '2025-06-13T17:00:00Z', '', '{}', 1, 1.0, 1.0, 'poll')"
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
