"""What the spool's schema and transactions guarantee whatever the code above them does: one
job per (order, revision, receipt kind, printer, copy), and writers that never interleave,
even from two processes (the service and ``wixprint restore``/``backup`` or a second start)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.unit.spool.factories import make_order, open_sync_spool
from wixprint.errors import SpoolError
from wixprint.spool import JobTarget
from wixprint.spool.db import write_tx
from wixprint.spool.db_orders import accept, insert_job
from wixprint.vocabulary import Variant

NOW = 1_750_000_000.0


def test_a_duplicate_job_is_refused_by_the_schema(conn: sqlite3.Connection) -> None:
    result = accept(conn, make_order("o-1"), NOW)
    assert result.job_ids
    first = conn.execute("SELECT * FROM jobs WHERE id = ?", (result.job_ids[0],)).fetchone()
    # Straight SQL, past every check in the code: the table itself says no.
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(
            "INSERT INTO jobs (order_id, revision, kind, printer, copy_no, variant,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                first["order_id"],
                first["revision"],
                first["kind"],
                first["printer"],
                first["copy_no"],
                first["variant"],
                NOW,
                NOW,
            ),
        )

    def write_half_then_the_job_again() -> None:
        with write_tx(conn, "insert job"):
            conn.execute("INSERT INTO meta (name, value) VALUES ('half', 'written')")
            insert_job(
                conn,
                order_id=first["order_id"],
                revision=first["revision"],
                target=JobTarget(first["kind"], first["printer"]),
                variant=Variant(first["variant"]),
                now=NOW,
            )

    # And through the code's own insert, inside a write transaction: a SpoolError, rolled back;
    # a plain one: a bug, not a disk that refuses (which would pause intake).
    with pytest.raises(SpoolError) as refused:
        write_half_then_the_job_again()
    assert type(refused.value) is SpoolError
    assert str(refused.value).startswith(
        "spool insert job failed (SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: jobs."
    )
    count = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    assert count == len(result.job_ids)
    # Nothing of the failed transaction stays, and the next one begins.
    with write_tx(conn, "after"):
        assert conn.execute("SELECT value FROM meta WHERE name = 'half'").fetchone() is None


def test_a_second_writer_waits_until_the_first_commits(tmp_path: Path) -> None:
    """Two connections to one file (two processes): while one holds a write transaction, the
    other cannot begin one, not even to read first (no busy wait here: it fails at once). A
    deferred ``BEGIN`` would let both read the same value and one update be lost."""
    path = tmp_path / "spool.db"
    with open_sync_spool(path) as first, open_sync_spool(path) as second:
        second.execute("PRAGMA busy_timeout = 0")
        with write_tx(first, "count"):
            value = int(first.execute("SELECT count(*) FROM meta").fetchone()[0])
            with pytest.raises(SpoolError) as busy, write_tx(second, "count"):
                pass
            assert type(busy.value) is SpoolError
            assert (
                str(busy.value)
                == "spool count failed: cannot begin (SQLITE_BUSY: database is locked)"
            )
            first.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (f"w{value}", "first"))
        with write_tx(second, "count"):
            value2 = int(second.execute("SELECT count(*) FROM meta").fetchone()[0])
            second.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (f"w{value2}", "second"))
        assert value2 == value + 1  # the second writer saw the first's commit
        names = {row[0] for row in first.execute("SELECT name FROM meta")}
        assert {f"w{value}", f"w{value2}"} <= names
