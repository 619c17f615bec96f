"""The alert outbox: alerts, one delivery per channel, and the alert engine's saved state.

An alert is written once, with a delivery row for each channel that must carry it; each
channel drains its own deliveries oldest first and marks them one by one, so a channel that
is down never holds back another and a delivered message is never sent again by a retry of
a different channel. ``alert_outbox.sent_at`` is set when the last delivery is done.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from wixprint.spool.db import clip, read_tx, write_tx
from wixprint.spool.types import NewAlert, OutboxAlert

__all__ = [
    "ENGINE_STATE",
    "load_alert_state",
    "mark_delivered",
    "mark_delivery_failed",
    "pending_alerts",
    "pending_deliveries",
    "record_alerts",
    "retire_channels",
]

ENGINE_STATE = "engine"
"""The ``alert_state`` row that holds the alert engine's problems."""

_COLUMNS = (
    "o.id, o.key, o.level, o.subject, o.body, o.raised_at, {attempts},"
    " o.kind, o.problem_level, o.since, o.facts"
)
_COMPLETE = (
    "UPDATE alert_outbox SET sent_at = ? WHERE sent_at IS NULL AND {which}"
    " AND NOT EXISTS (SELECT 1 FROM alert_deliveries d"
    " WHERE d.alert_id = alert_outbox.id AND d.sent_at IS NULL)"
)


def record_alerts(
    conn: sqlite3.Connection, alerts: Sequence[NewAlert], state: str | None, now: float
) -> list[int]:
    """Write ``alerts`` with their deliveries and, if given, the engine ``state``: one
    transaction, so the engine's memory of what it announced never disagrees with the
    outbox, whatever crashes in between."""
    ids: list[int] = []
    with write_tx(conn, "record_alerts"):
        for alert in alerts:
            row = conn.execute(
                "INSERT INTO alert_outbox (key, level, subject, body, raised_at, kind,"
                " problem_level, since, sent_at, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (
                    alert.key,
                    alert.level,
                    alert.subject,
                    alert.body,
                    alert.raised_at,
                    alert.kind,
                    alert.problem_level,
                    alert.since,
                    None if alert.channels else now,
                    alert.facts,
                ),
            ).fetchone()
            alert_id = int(row[0])
            conn.executemany(
                "INSERT INTO alert_deliveries (alert_id, channel) VALUES (?, ?)",
                [(alert_id, channel) for channel in dict.fromkeys(alert.channels)],
            )
            ids.append(alert_id)
        if state is not None:
            conn.execute(
                "INSERT INTO alert_state (name, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (ENGINE_STATE, state, now),
            )
    return ids


def load_alert_state(conn: sqlite3.Connection) -> str | None:
    with read_tx(conn, "load_alert_state"):
        row = conn.execute(
            "SELECT value FROM alert_state WHERE name = ?", (ENGINE_STATE,)
        ).fetchone()
    return None if row is None else str(row[0])


def pending_alerts(conn: sqlite3.Connection, limit: int) -> list[OutboxAlert]:
    """Alerts some channel has still to deliver, oldest first."""
    with read_tx(conn, "pending_alerts"):
        rows = conn.execute(
            f"SELECT {_COLUMNS.format(attempts='o.attempts')} FROM alert_outbox o"
            " WHERE o.sent_at IS NULL ORDER BY o.id LIMIT ?",
            (limit,),
        ).fetchall()
    return [_alert(r) for r in rows]


def pending_deliveries(conn: sqlite3.Connection, channel: str, limit: int) -> list[OutboxAlert]:
    """What ``channel`` has still to deliver, oldest first, with its own attempt count."""
    with read_tx(conn, "pending_deliveries"):
        rows = conn.execute(
            f"SELECT {_COLUMNS.format(attempts='d.attempts')} FROM alert_deliveries d"
            " JOIN alert_outbox o ON o.id = d.alert_id"
            " WHERE d.channel = ? AND d.sent_at IS NULL ORDER BY o.id LIMIT ?",
            (channel, limit),
        ).fetchall()
    return [_alert(r) for r in rows]


def mark_delivered(conn: sqlite3.Connection, alert_id: int, channel: str, now: float) -> None:
    with write_tx(conn, "mark_delivered"):
        conn.execute(
            "UPDATE alert_deliveries SET sent_at = ?, attempts = attempts + 1, last_error = NULL"
            " WHERE alert_id = ? AND channel = ? AND sent_at IS NULL",
            (now, alert_id, channel),
        )
        conn.execute(_COMPLETE.format(which="id = ?"), (now, alert_id))


def mark_delivery_failed(conn: sqlite3.Connection, alert_id: int, channel: str, error: str) -> None:
    with write_tx(conn, "mark_delivery_failed"):
        conn.execute(
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = ?"
            " WHERE alert_id = ? AND channel = ? AND sent_at IS NULL",
            (clip(error), alert_id, channel),
        )
        conn.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            (clip(f"{channel}: {error}"), alert_id),
        )


def retire_channels(conn: sqlite3.Connection, active: Sequence[str], now: float) -> int:
    """Forget deliveries for channels no longer configured (they would wait for ever);
    alerts left with nothing to deliver are done. Returns the deliveries dropped."""
    retired = f"channel NOT IN ({', '.join('?' for _ in active)})" if active else "1"
    with write_tx(conn, "retire_channels"):
        dropped = conn.execute(
            f"DELETE FROM alert_deliveries WHERE sent_at IS NULL AND {retired}", tuple(active)
        ).rowcount
        if dropped:
            conn.execute(_COMPLETE.format(which="1"), (now,))
    return int(dropped)


def _alert(row: sqlite3.Row) -> OutboxAlert:
    return OutboxAlert(
        id=int(row[0]),
        key=str(row[1]),
        level=str(row[2]),
        subject=str(row[3]),
        body=str(row[4]),
        raised_at=float(row[5]),
        attempts=int(row[6]),
        kind=str(row[7]),
        problem_level=str(row[8]) or str(row[2]),
        since=None if row[9] is None else float(row[9]),
        facts=str(row[10] or ""),
    )
