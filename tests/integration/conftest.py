"""Fixtures shared by the service-level integration tests."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio.testing

from tests.fakes.smtp import FakeSmtpServer
from tests.unit.spool.factories import open_sync_spool, open_test_spool
from wixprint.spool import Spool


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, collecting what it receives."""
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
async def spool(tmp_path: Path, thread_clock: trio.testing.MockClock) -> AsyncIterator[Spool]:
    """A spool on a real file in ``tmp_path``, timed by the virtual clock."""
    async with open_test_spool(tmp_path / "spool.db") as s:
        yield s


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The same file ``spool.db`` through the synchronous layer the spool client runs on its
    worker thread (no Trio): for tests of one ``db_*`` function or of the schema under it."""
    with open_sync_spool(tmp_path / "spool.db") as connection:
        yield connection


# ops/install.sh scratch roots (test_install, test_install_transaction).
from tests.integration.installer import installed_v1, installer, stub, v1, v2  # noqa: E402, F401
