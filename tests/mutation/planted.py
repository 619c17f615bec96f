"""Mutants planted by hand: mutmut does not mutate inside strings, so it never touches the
SQL of the spool's migrations. Each pair is (exact old text of the module's source, new text);
``run_mutants`` applies them one at a time in the scratch copy, after mutmut, and runs the
module's tests against each (the old text must occur exactly once)."""

from __future__ import annotations

_NO_CHECK = (
    # orders
    "revision    INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0)",
    "printed_any INTEGER NOT NULL DEFAULT 0 CHECK (printed_any IN (0, 1))",
    # jobs
    "revision        INTEGER NOT NULL CHECK (revision >= 1)",
    "kind            TEXT NOT NULL CHECK (kind <> '')",
    "printer         TEXT NOT NULL CHECK (printer <> '')",
    "copy_no         INTEGER NOT NULL DEFAULT 0 CHECK (copy_no >= 0)",
    "reprint         INTEGER NOT NULL DEFAULT 0 CHECK (reprint IN (0, 1))",
    # tombstones
    "revision    INTEGER NOT NULL CHECK (revision >= 0)",
    "printed     INTEGER NOT NULL CHECK (printed IN (0, 1))",
    # alert_deliveries
    "channel    TEXT NOT NULL CHECK (channel <> '')",
)
"""Column definitions whose CHECK is taken out."""

_NEW_DEFAULTS = (
    ("kind TEXT NOT NULL DEFAULT 'raise'", "kind TEXT NOT NULL DEFAULT 'x'"),
    # equivalent: the UPDATE right after overwrites every old row, record_alerts always writes it
    ("problem_level TEXT NOT NULL DEFAULT ''", "problem_level TEXT NOT NULL DEFAULT 'x'"),
    ("hold_until TEXT NOT NULL DEFAULT ''", "hold_until TEXT NOT NULL DEFAULT 'x'"),
    ("payment_settled INTEGER NOT NULL DEFAULT 1", "payment_settled INTEGER NOT NULL DEFAULT 0"),
    ("skip_reason TEXT NOT NULL DEFAULT ''", "skip_reason TEXT NOT NULL DEFAULT 'x'"),
    ("due TEXT NOT NULL DEFAULT ''", "due TEXT NOT NULL DEFAULT 'x'"),
    ("location_id TEXT NOT NULL DEFAULT ''", "location_id TEXT NOT NULL DEFAULT 'x'"),
    ("location_name TEXT NOT NULL DEFAULT ''", "location_name TEXT NOT NULL DEFAULT 'x'"),
    ("unproven INTEGER NOT NULL DEFAULT 0", "unproven INTEGER NOT NULL DEFAULT 1"),
    ("facts TEXT NOT NULL DEFAULT ''", "facts TEXT NOT NULL DEFAULT 'x'"),
    ("unanswered INTEGER NOT NULL DEFAULT 0", "unanswered INTEGER NOT NULL DEFAULT 1"),
)
"""The defaults that columns added by a migration give the rows from before."""


def _out(text: str, part: str) -> tuple[str, str]:
    """``text`` and ``text`` without ``part``."""
    return text, text.replace(part, "", 1)


_UNIQUE_JOB = ",\n        UNIQUE (order_id, revision, kind, printer, copy_no)"
_COPY = "SELECT id, 'mail', attempts, last_error FROM alert_outbox WHERE sent_at IS NULL"

SCHEMA: tuple[tuple[str, str], ...] = (
    # each primary key and uniqueness key taken out
    _out("CREATE TABLE orders (\n        order_id    TEXT PRIMARY KEY,", " PRIMARY KEY"),
    ("id              INTEGER PRIMARY KEY AUTOINCREMENT", "id              INTEGER"),
    _out(f"printed_at      REAL{_UNIQUE_JOB}", _UNIQUE_JOB),
    ("cursors (name TEXT PRIMARY KEY,", "cursors (name TEXT,"),
    ("meta (name TEXT PRIMARY KEY,", "meta (name TEXT,"),
    ("id       INTEGER PRIMARY KEY,", "id       INTEGER,"),
    ("event_id TEXT PRIMARY KEY,", "event_id TEXT,"),
    ("id         INTEGER PRIMARY KEY AUTOINCREMENT", "id         INTEGER"),
    _out("CREATE TABLE tombstones (\n        order_id    TEXT PRIMARY KEY,", " PRIMARY KEY"),
    ("order_key  TEXT PRIMARY KEY,", "order_key  TEXT,"),
    ("last_error TEXT,\n        PRIMARY KEY (alert_id, channel)", "last_error TEXT"),
    ("name       TEXT PRIMARY KEY,", "name       TEXT,"),
    # AUTOINCREMENT taken out: ids of pruned rows would come back
    ("id              INTEGER PRIMARY KEY AUTOINCREMENT", "id              INTEGER PRIMARY KEY"),
    ("id         INTEGER PRIMARY KEY AUTOINCREMENT", "id         INTEGER PRIMARY KEY"),
    # each CHECK taken out
    *((text, text[: text.index(" CHECK")]) for text in _NO_CHECK),
    ('" CHECK (payment_settled IN (0, 1))"', '""'),
    (" CHECK (unproven >= 0)", ""),
    (" CHECK (unanswered >= 0)", ""),
    # each foreign key, and the cascade, taken out
    ("TEXT NOT NULL REFERENCES orders (order_id),", "TEXT NOT NULL,"),
    ("INTEGER NOT NULL REFERENCES alert_outbox (id) ON DELETE CASCADE,", "INTEGER NOT NULL,"),
    (" ON DELETE CASCADE", ""),
    # the version 4 data copy: waiting mails into mail deliveries, the problem level
    (_COPY, _COPY.replace("'mail'", "'xmailx'")),
    (_COPY, _COPY.replace("attempts,", "0,")),
    (_COPY, _COPY.replace("last_error FROM", "NULL FROM")),
    (_COPY, _COPY.replace("IS NULL", "IS NOT NULL")),
    (_COPY, _COPY.replace(" WHERE sent_at IS NULL", "")),
    # equivalent: an empty problem level is read as the alert's own level (db_alerts._alert)
    ("SET problem_level = level", "SET problem_level = ''"),
    *_NEW_DEFAULTS,
)  # fmt: skip

PLANTED: dict[str, tuple[tuple[str, str], ...]] = {"spool/schema": SCHEMA}
"""Module (as in ``modules.MODULES``) → its planted mutants."""
