"""Shared by the webhook tests: one signing key per test module."""

from __future__ import annotations

import pytest

from tests.fakes.webhooks import KeyPair, generate_signing_key


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return generate_signing_key()
