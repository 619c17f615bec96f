"""Fixtures shared by the service-level integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.smtp import FakeSmtpServer


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, collecting what it receives."""
    with FakeSmtpServer() as server:
        yield server


# ops/install.sh scratch roots (test_install, test_install_transaction).
from tests.integration.installer import installed_v1, installer, stub, v1, v2  # noqa: E402, F401
