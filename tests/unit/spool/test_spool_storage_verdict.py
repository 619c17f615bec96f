"""What a write check means for health and intake (``spool/storage.py``), and the reserve
file that keeps printing going on a full disk (``spool/reserve.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wixprint.errors import DependencyUnavailable, SpoolError, SpoolUnwritable
from wixprint.health import Health
from wixprint.spool.reserve import RESERVE_FILE, hold_reserve, release_reserve
from wixprint.spool.storage import WriteCheck, pause_reason, storage_verdict, write_check_of


def test_a_storage_failure_is_a_spool_error_and_an_outage() -> None:
    exc = SpoolUnwritable("spool accept failed (SQLITE_FULL: database or disk is full)", full=True)
    assert isinstance(exc, SpoolError)
    assert isinstance(exc, DependencyUnavailable)
    assert write_check_of(exc) is WriteCheck.FULL
    assert write_check_of(SpoolUnwritable("readonly")) is WriteCheck.REFUSED
    assert write_check_of(None) is WriteCheck.OK
    assert "full" in pause_reason(WriteCheck.FULL)
    assert "read-only" in pause_reason(WriteCheck.REFUSED)


@pytest.mark.parametrize(
    ("check", "paused", "health", "writable", "intake", "words"),
    [
        (WriteCheck.OK, False, Health.READY, True, True, ""),
        (WriteCheck.OK, True, Health.DOWN, True, False, "the disk is full: new orders wait"),
        (WriteCheck.FULL, True, Health.DOWN, False, False, "cannot write: the disk is full"),
        (WriteCheck.REFUSED, True, Health.DOWN, False, False, "read-only or failing SD card"),
    ],
    ids=["ok", "on-the-reserve", "full", "read-only"],
)
def test_verdicts(
    check: WriteCheck, paused: bool, health: Health, writable: bool, intake: bool, words: str
) -> None:
    verdict = storage_verdict(check, "SQLITE_X: detail", intake_paused=paused)
    assert (verdict.health, verdict.writable, verdict.intake) == (health, writable, intake)
    assert words in verdict.reason
    if check is not WriteCheck.OK:
        assert "SQLITE_X: detail" in verdict.reason


def test_the_reserve_is_real_bytes_released_and_held_again_only_with_room(tmp_path: Path) -> None:
    assert hold_reserve(tmp_path, 256 * 1024)
    path = tmp_path / RESERVE_FILE
    assert path.stat().st_blocks * 512 >= 256 * 1024  # allocated, not a sparse promise
    assert hold_reserve(tmp_path, 256 * 1024)  # already there: nothing written
    assert release_reserve(tmp_path) >= 256 * 1024
    assert not path.exists()
    assert release_reserve(tmp_path) == 0
    # Not again while the disk could not keep that much room free beside it.
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert not hold_reserve(tmp_path, 256 * 1024, room=free)
    assert not path.exists()
