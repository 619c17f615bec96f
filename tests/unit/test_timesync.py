"""Clock truth, sans-IO: the kernel's NTP state and Wix's ``Date`` weighed (``timesync``)."""

from __future__ import annotations

import ctypes
import sys

import pytest

from wixprint.timesync import (
    UNKNOWN_KERNEL,
    ClockVerdict,
    KernelClock,
    WixTimeSample,
    best_now,
    judge,
)
from wixprint.timesync.judge import JUMP_TOLERANCE, SAMPLE_MAX_AGE, span
from wixprint.timesync.kernel import MAXERROR_LIMIT, _Timex, read_kernel_clock

DAY = 86400.0
REAL = 1_780_000_000.0
"""The true time in these tests."""
SYNCED = KernelClock(True, 0.05)
UNSYNCED = KernelClock(False, 16.0, "STA_UNSYNC")
LIMIT = 300.0


def sample(offset: float, *, mono: float = 100.0) -> WixTimeSample:
    """Wix answered at true time REAL while our clock read REAL - offset."""
    return WixTimeSample(server=REAL, wall=REAL - offset, monotonic=mono)


def verdict(
    kernel: KernelClock, taken: WixTimeSample | None, *, wall: float, mono: float = 100.0
) -> ClockVerdict:
    return judge(kernel, taken, wall=wall, monotonic=mono, limit=LIMIT)


def test_a_synchronised_kernel_is_trusted_without_wix() -> None:
    found = verdict(SYNCED, None, wall=REAL)
    assert (found.trusted, found.skewed, found.reason) == (True, False, "")
    assert best_now(found, REAL) == REAL


def test_unsynchronised_and_no_word_from_wix_is_not_trusted_and_has_no_now() -> None:
    found = verdict(UNSYNCED, None, wall=REAL - 30 * DAY)
    assert not found.trusted
    assert found.reason == "not synchronised by NTP, and no time from Wix yet"
    assert best_now(found, REAL - 30 * DAY) is None
    unknown = verdict(UNKNOWN_KERNEL, None, wall=REAL)
    assert "unknown (not read)" in unknown.reason
    assert best_now(unknown, REAL) is None


@pytest.mark.parametrize(
    "kernel", [SYNCED, UNSYNCED, UNKNOWN_KERNEL], ids=["synced", "unsynced", "unknown"]
)
@pytest.mark.parametrize(
    ("offset", "words"),
    [(30 * DAY, "30 d behind"), (-30 * DAY, "30 d ahead of"), (LIMIT + 1, "5 min behind")],
)
def test_wix_disagreeing_beyond_the_limit_wins_and_gives_the_time(
    kernel: KernelClock, offset: float, words: str
) -> None:
    """Even a kernel that believes itself synchronised: a clock weeks off is not trusted,
    and the first start is taken from Wix's time instead."""
    wall = REAL - offset
    found = verdict(kernel, sample(offset), wall=wall)
    assert (found.trusted, found.skewed) == (False, True)
    assert found.reason == f"the clock is {words} Wix's time"
    assert best_now(found, wall) == pytest.approx(REAL)


def test_wix_agreeing_vouches_for_an_unsynchronised_clock() -> None:
    found = verdict(UNSYNCED, sample(2.0), wall=REAL - 2.0)
    assert (found.trusted, found.skewed) == (True, False)
    assert found.reason == "not synchronised by NTP, but agrees with Wix's time"
    assert best_now(found, REAL - 2.0) == REAL - 2.0
    quiet = verdict(UNKNOWN_KERNEL, sample(2.0), wall=REAL - 2.0)
    assert (quiet.trusted, quiet.reason) == (True, "")


def test_a_sample_is_stale_when_old_or_when_the_wall_clock_jumped_since() -> None:
    taken = sample(30 * DAY, mono=100.0)
    # Ten seconds later on both clocks: still the same clock, still skewed.
    later = verdict(UNSYNCED, taken, wall=REAL - 30 * DAY + 10, mono=110.0)
    assert later.skewed
    # The clock was corrected (a jump of 30 days in 10 s): the old offset says nothing now.
    jumped = verdict(UNSYNCED, taken, wall=REAL + 10, mono=110.0)
    assert (jumped.skewed, jumped.offset, jumped.trusted) == (False, None, False)
    small = verdict(UNSYNCED, taken, wall=REAL - 30 * DAY + 10 + JUMP_TOLERANCE / 2, mono=110.0)
    assert small.skewed
    old = verdict(
        UNSYNCED, taken, wall=REAL - 30 * DAY + SAMPLE_MAX_AGE + 1, mono=100.0 + SAMPLE_MAX_AGE + 1
    )
    assert old.offset is None


def test_spans() -> None:
    assert [span(s) for s in (40, 720, 5 * 3600, 30 * DAY)] == ["40 s", "12 min", "5 h", "30 d"]


def test_the_kernel_answers_on_this_machine() -> None:
    """adjtimex(2) read-only works unprivileged; the verdict is consistent with its numbers."""
    assert sys.platform == "linux"
    assert ctypes.sizeof(_Timex) >= 208  # the kernel's struct timex on 64-bit
    found = read_kernel_clock()
    assert found.synced is not None, found.detail
    assert found.maxerror is not None
    if found.synced:
        assert found.maxerror < MAXERROR_LIMIT
    else:
        assert found.detail
