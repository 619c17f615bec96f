"""What a write check means for health and intake (``spool/storage.py``), and the reserve
file that keeps printing going on a full disk (``spool/reserve.py``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from wixprint.errors import DependencyUnavailable, SpoolError, SpoolUnwritable
from wixprint.health import Health
from wixprint.spool import reserve
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


def test_the_default_reserve_is_the_documented_4_mb_file_only_the_service_may_read(
    tmp_path: Path,
) -> None:
    assert hold_reserve(tmp_path)
    path = tmp_path / "disk-reserve"
    assert path.stat().st_size == 4 * 1024 * 1024
    assert path.stat().st_mode & 0o777 == 0o600
    allocated = path.stat().st_blocks * 512
    assert release_reserve(tmp_path) == allocated >= 4 * 1024 * 1024


def test_a_reserve_of_an_odd_size_is_written_to_the_byte(tmp_path: Path) -> None:
    assert hold_reserve(tmp_path, 100_000)
    assert (tmp_path / RESERVE_FILE).stat().st_size == 100_000


def test_a_complete_reserve_is_kept_even_without_room_for_another(tmp_path: Path) -> None:
    """The reserve already there is the room: asking again must not give it up."""
    assert hold_reserve(tmp_path, 256 * 1024)
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert hold_reserve(tmp_path, 256 * 1024, room=free)


def test_a_reserve_shorter_than_asked_is_not_trusted(tmp_path: Path) -> None:
    assert hold_reserve(tmp_path, 256 * 1024)
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert not hold_reserve(tmp_path, 256 * 1024 + 100, room=free)  # short by 100 bytes


@pytest.mark.parametrize(("extra", "held"), [(0, True), (-1, False)])
def test_a_reserve_is_written_only_when_it_and_the_room_fit_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: int, held: bool
) -> None:
    size, room = 100_000, 50_000
    monkeypatch.setattr(reserve, "free_bytes", lambda folder: size + room + extra)
    assert hold_reserve(tmp_path, size, room=room) is held
    monkeypatch.setattr(reserve, "free_bytes", lambda folder: size + extra)
    assert release_reserve(tmp_path) >= 0
    assert hold_reserve(tmp_path, size) is held  # by default no room beside it is asked


def test_a_disk_that_fills_up_during_the_write_leaves_no_reserve(tmp_path: Path) -> None:
    """``/dev/full`` answers every write with ENOSPC, as a full card does."""
    (tmp_path / RESERVE_FILE).symlink_to("/dev/full")
    assert not hold_reserve(tmp_path, 256 * 1024)
    assert not (tmp_path / RESERVE_FILE).is_symlink()


def test_a_sparse_file_in_place_of_the_reserve_is_replaced_by_real_bytes(tmp_path: Path) -> None:
    """A copy or restore may leave a sparse file: a size on paper, no room held."""
    path = tmp_path / RESERVE_FILE
    with path.open("wb") as file:
        file.truncate(1024 * 1024)
    assert path.stat().st_blocks == 0
    assert hold_reserve(tmp_path, 256 * 1024)
    assert path.stat().st_size == 256 * 1024
    assert path.stat().st_blocks * 512 >= 256 * 1024


@pytest.mark.parametrize(
    ("check", "paused", "reason"),
    [
        (WriteCheck.OK, False, ""),
        (
            WriteCheck.OK,
            True,
            "the disk is full: new orders wait in Wix until space is freed; "
            "tickets already received still print",
        ),
        (
            WriteCheck.FULL,
            True,
            "cannot write: the disk is full (SQLITE_FULL: disk full); new orders wait in Wix",
        ),
        (
            WriteCheck.REFUSED,
            True,
            "cannot write: SQLITE_FULL: disk full (read-only or failing SD card); "
            "new orders wait in Wix",
        ),
    ],
    ids=["ok", "on-the-reserve", "full", "read-only"],
)
def test_the_reason_health_and_the_alert_show_word_for_word(
    check: WriteCheck, paused: bool, reason: str
) -> None:
    """The owner reads these on ``/health`` and in the mail; the README quotes them."""
    assert storage_verdict(check, "SQLITE_FULL: disk full", intake_paused=paused).reason == reason


def test_a_refused_caller_is_told_why_intake_is_paused_word_for_word() -> None:
    assert pause_reason(WriteCheck.FULL) == "the disk is full; they are fetched once space is freed"
    assert pause_reason(WriteCheck.REFUSED) == (
        "the SD card refuses writes (read-only or failing); they wait in Wix"
    )


def test_a_verdict_cannot_be_altered() -> None:
    verdict = storage_verdict(WriteCheck.OK, "", intake_paused=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.intake = False  # type: ignore[misc]
