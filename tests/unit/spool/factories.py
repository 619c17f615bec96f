"""Builders shared by the spool tests (unit and integration)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import trio

from wixprint.spool import IncomingOrder, JobTarget, NewAlert, Spool, open_spool
from wixprint.spool.db import connect

BASE_TIME = 1_750_000_000.0
"""Wall-clock seconds at virtual time zero."""

KITCHEN = JobTarget("kitchen", "kitchen")
BAR = JobTarget("kitchen", "bar")
DRIVER = JobTarget("driver", "counter")
CUSTOMER = JobTarget("customer", "counter")
TARGETS = (KITCHEN, DRIVER, CUSTOMER)


def virtual_wall() -> float:
    """Wall-clock seconds that follow Trio's (mock) clock."""
    return BASE_TIME + trio.current_time()


def make_order(
    order_id: str = "o-1",
    *,
    number: str = "10001",
    status: str = "APPROVED",
    updated: str = "2025-06-13T16:47:23.905Z",
    created: str = "2025-06-13T16:47:21.482Z",
    fingerprint: str = "fp-1",
    driver_fingerprint: str = "dfp-1",
    printable: bool | None = None,
    targets: tuple[JobTarget, ...] = TARGETS,
    source: str = "poll",
    note: str = "",
) -> IncomingOrder:
    raw = json.dumps({"id": order_id, "number": number, "status": status, "note": note})
    return IncomingOrder(
        order_id=order_id,
        number=number,
        status=status,
        created=created,
        updated=updated,
        fingerprints={"kitchen": fingerprint, "driver": driver_fingerprint},
        printable=status == "APPROVED" if printable is None else printable,
        raw_json=raw,
        targets=targets,
        source=source,
    )


@asynccontextmanager
async def open_test_spool(path: Path) -> AsyncIterator[Spool]:
    """A spool on a real file, timed by the virtual clock."""
    async with open_spool(path, clock=virtual_wall) as spool:
        yield spool


def raw(spool: Spool) -> sqlite3.Connection:
    """The open spool's own connection, to damage or inspect the file under it."""
    conn = spool._conn
    assert conn is not None
    return conn


@contextmanager
def open_sync_spool(path: Path) -> Iterator[sqlite3.Connection]:
    """The spool file through the synchronous layer the client runs on its worker thread
    (migrated, its pragmas set), closed afterwards."""
    connection, _ = connect(path, now=BASE_TIME)
    try:
        yield connection
    finally:
        connection.close()


def new_alert(
    key: str = "paper_out:kitchen",
    *,
    kind: str = "raise",
    level: str = "critical",
    raised_at: float = BASE_TIME,
    channels: tuple[str, ...] = ("mail", "ntfy"),
    problem_level: str | None = None,
    facts: str = "",
) -> NewAlert:
    """``problem_level`` defaults to ``level`` (a resolved alert is level info)."""
    return NewAlert(
        key=key,
        level="info" if kind == "resolve" else level,
        kind=kind,
        subject=f"{kind} {key}",
        body=f"{key} body",
        raised_at=raised_at,
        since=raised_at - 120,
        problem_level=level if problem_level is None else problem_level,
        channels=channels,
        facts=facts,
    )
