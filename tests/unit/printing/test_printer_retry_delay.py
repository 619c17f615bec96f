"""The printer actor's wait between tries after unknown outcomes, as a pure function."""

from __future__ import annotations

import pytest

from wixprint.actors.printer import RETRY_MIN, retry_delay

JITTER = 1.2
"""Each wait is up to 20 % longer than its base."""


@pytest.mark.parametrize("failures", [17, 18, 40, 10_000])
def test_the_wait_stops_doubling_after_sixteen_doublings_whatever_the_probe_interval(
    failures: int,
) -> None:
    """``failures`` is not reset by a late proof or an operator, so it may run past a few
    dozen; with a probe_interval of days the wait must not keep doubling (nor overflow)."""
    base = RETRY_MIN * 2.0**16  # about 9 hours
    for _ in range(50):
        assert base <= retry_delay(failures, probe_interval=1e9) < base * JITTER
