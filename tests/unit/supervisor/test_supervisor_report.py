"""What the journal says about each supervision decision (``wixprint.supervisor`` log lines).

Charter: see ``test_supervisor_core.py`` (virtual clock, exact times, absolute deadlines).
An operator reads these lines to learn which actor ended, how, and what the tree did about it:
a crash is an error with its traceback, an outage one warning with its reason, a normal
return one info line.
"""

from __future__ import annotations

import logging

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import (
    EXACT,
    Boom,
    FailsWhileCancelled,
    Log,
    Raises,
    Scripted,
    Step,
    run_until,
)
from wixprint.supervisor import (
    Backoff,
    ChildSpec,
    Restart,
    RestartEvent,
    Supervisor,
    current_child,
)

_FIELDS = (
    "supervisor",
    "actor",
    "classification",
    "action",
    "delay",
    "error_type",
    "restarts_in_window",
    "error",
    "grace",
    "cancel_timeout",
)


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, dict[str, object], bool]]:
    """``(level, event, fields, with traceback)`` of each supervision line."""
    return [
        (
            record.levelname,
            record.getMessage(),
            {key: vars(record)[key] for key in _FIELDS if key in vars(record)},
            record.exc_info is not None,
        )
        for record in caplog.records
        if record.name == "wixprint.supervisor"
    ]


async def _journal(
    caplog: pytest.LogCaptureFixture, sup: Supervisor, until: float
) -> list[tuple[str, str, dict[str, object], bool]]:
    """Run ``sup`` until virtual time ``until``, stop it; the supervision lines it wrote."""
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"):
        await run_until(sup, until)
    return _lines(caplog)


def _fields(
    classification: str, action: str, delay: float | None, **more: object
) -> dict[str, object]:
    return {
        "supervisor": "root",
        "actor": "w",
        "classification": classification,
        "action": action,
        "delay": delay,
        **more,
    }


@pytest.mark.parametrize(
    ("script", "restart", "expected"),
    [
        (
            ["crash"],
            Restart.PERMANENT,
            [
                (
                    "ERROR",
                    "child_exited",
                    _fields("abnormal", "restart", 1.0, error_type="Boom", restarts_in_window=1),
                    True,
                )
            ],
        ),
        (
            ["dep"],
            Restart.PERMANENT,
            [
                (
                    "WARNING",
                    "child_exited",
                    _fields(
                        "dependency",
                        "restart",
                        1.0,
                        error_type="DependencyUnavailable",
                        restarts_in_window=0,
                        error="w lost its dependency",
                    ),
                    False,
                )
            ],
        ),
        (
            ["return"],
            Restart.TRANSIENT,
            [
                (
                    "INFO",
                    "child_exited",
                    _fields("normal", "none", None, error_type=None, restarts_in_window=0),
                    False,
                )
            ],
        ),
        (
            ["crash", "crash"],
            Restart.PERMANENT,
            [
                (
                    "ERROR",
                    "child_exited",
                    _fields("abnormal", "restart", 1.0, error_type="Boom", restarts_in_window=1),
                    True,
                ),
                (
                    "ERROR",
                    "supervisor_gave_up",
                    _fields("abnormal", "escalate", None, error_type="Boom", restarts_in_window=2),
                    True,
                ),
            ],
        ),
        (
            ["return", "return"],
            Restart.PERMANENT,
            [
                (
                    "INFO",
                    "child_exited",
                    _fields("normal", "restart", 1.0, error_type=None, restarts_in_window=1),
                    False,
                ),
                (
                    "WARNING",
                    "supervisor_gave_up",
                    _fields(
                        "normal",
                        "escalate",
                        None,
                        error_type=None,
                        restarts_in_window=2,
                        error="",
                    ),
                    False,
                ),
            ],
        ),
    ],
    ids=["crash", "outage", "normal-return", "crash-gives-up", "returns-give-up"],
)
async def test_each_decision_is_one_line_at_its_level_with_its_fields(
    autojump_clock: trio.abc.Clock,
    caplog: pytest.LogCaptureFixture,
    script: list[Step],
    restart: Restart,
    expected: list[tuple[str, str, dict[str, object], bool]],
) -> None:
    worker = Scripted(Log(), "w", script, after=2.0)
    sup = Supervisor("root", [worker.spec(restart=restart)], intensity=1, period=60.0)
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"):
        try:
            await run_until(sup, 20.0)
        except Exception:  # the root gave up: RestartIntensityExceeded
            assert expected[-1][1] == "supervisor_gave_up"
    assert _lines(caplog) == expected


async def test_a_child_that_has_nothing_to_do_says_so_once(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    async def optional(*, task_status: trio.TaskStatus[None]) -> None:
        return  # returns without started(): OTP's ignore

    sup = Supervisor("root", [ChildSpec("w", optional, backoff=EXACT)])
    assert await _journal(caplog, sup, 5.0) == [
        ("INFO", "child_ignored", {"supervisor": "root", "actor": "w"}, False)
    ]


async def test_a_failing_event_callback_is_logged_with_its_supervisor_and_traceback(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: RestartEvent) -> None:
        raise RuntimeError("callback bug")

    worker = Scripted(Log(), "w", ["crash"], after=1.0)
    sup = Supervisor("root", [worker.spec()], on_event=broken)
    lines = await _journal(caplog, sup, 5.0)
    failed = [line for line in lines if line[1] == "supervisor_on_event_failed"]
    assert failed == [("ERROR", "supervisor_on_event_failed", {"supervisor": "root"}, True)]


async def test_each_event_reaches_the_history_and_the_callback_in_order(
    autojump_clock: trio.abc.Clock, tmp_path: object
) -> None:
    seen: list[RestartEvent] = []
    worker = Scripted(Log(), "w", ["crash", "dep", "return"], after=1.0)
    sup = Supervisor("root", [worker.spec()], on_event=seen.append, recent=2, intensity=10)
    await run_until(sup, 30.0)
    assert [(e.classification, e.delay) for e in seen] == [
        ("abnormal", 1.0),
        ("dependency", 2.0),
        ("normal", 4.0),
    ]
    assert sup.statistics().recent == tuple(seen[1:])


async def test_a_fatal_exit_is_an_error_with_its_traceback(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sup = Supervisor("root", [Raises(Log(), "w", SystemExit(3), after=1.0).spec()])
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"), pytest.raises(SystemExit):
        with trio.fail_after(100):
            await sup.run()
    assert _lines(caplog) == [
        (
            "ERROR",
            "supervisor_gave_up",
            _fields("fatal", "escalate", None, error_type="SystemExit", restarts_in_window=0),
            True,
        )
    ]


async def test_a_normal_return_carries_no_error_and_no_traceback(
    autojump_clock: trio.abc.Clock,
) -> None:
    worker = Scripted(Log(), "w", ["return"], after=1.0)
    sup = Supervisor("root", [worker.spec(restart=Restart.TRANSIENT)])
    await run_until(sup, 5.0)
    (event,) = sup.statistics().recent
    assert (event.error_type, event.message, event.traceback) == (None, "", "")


async def _stubborn(*, task_status: trio.TaskStatus[None]) -> None:
    """Ignores the stop request, and its cancellation for 100 s (a shielded wait)."""
    task_status.started()
    try:
        await trio.sleep_forever()
    finally:
        with trio.CancelScope(shield=True):
            await trio.sleep(100.0)


async def _fails_on_stop(*, task_status: trio.TaskStatus[None]) -> None:
    task_status.started()
    await current_child().wait_stop_requested()
    raise Boom("w failed to clean up")


async def test_a_stop_that_overruns_the_grace_then_is_given_up_says_both(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sup = Supervisor("root", [ChildSpec("w", _stubborn, shutdown=2.0)], cancel_timeout=0.5)
    grace = {"supervisor": "root", "actor": "w", "grace": 2.0}
    assert await _journal(caplog, sup, 1.0) == [
        ("WARNING", "child_shutdown_overrun", grace, False),
        ("ERROR", "child_stop_abandoned", {**grace, "cancel_timeout": 0.5}, False),
    ]
    last = sup.statistics().children[0].last_error
    assert last is not None
    assert (last.error_type, last.message) == (
        "StopTimeout",
        "did not end within 2 s of grace and 0.5 s after its cancellation",
    )


async def test_a_child_stopped_without_grace_is_cancelled_without_a_word(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Grace 0 (OTP's ``brutal_kill``): the cancel is the plan, not an overrun."""
    log = Log()
    sup = Supervisor("root", [Scripted(log, "w").spec(shutdown=0.0)])
    assert await _journal(caplog, sup, 1.0) == []
    assert log.after(1.0) == [(1.0, "w cancelled"), (1.0, "w down")]


async def test_an_error_raised_by_a_stopped_child_is_a_warning_with_its_traceback(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sup = Supervisor("root", [ChildSpec("w", _fails_on_stop, shutdown=2.0)])
    assert await _journal(caplog, sup, 1.0) == [
        ("WARNING", "child_shutdown_error", {"supervisor": "root", "actor": "w"}, True)
    ]


async def test_an_error_while_the_whole_tree_is_cancelled_is_still_logged(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody classifies it (the supervisor itself is being cancelled), so it is logged."""
    log = Log()
    quiet = Scripted(log, "quiet")  # cancelled cleanly: nothing to say
    sup = Supervisor("root", [quiet.spec(), FailsWhileCancelled(log, "w").spec()])
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(1.0)
            nursery.cancel_scope.cancel()
    assert "quiet cancelled" in log.texts()
    assert _lines(caplog) == [("WARNING", "child_error_while_cancelled", {"actor": "w"}, True)]


async def test_the_recent_events_are_the_last_fifty_by_default(
    autojump_clock: trio.abc.Clock,
) -> None:
    every_second = Backoff(min_delay=1.0, max_delay=1.0, random_factor=0.0, reset_after=1000.0)
    worker = Scripted(Log(), "w", ["dep"] * 100)  # outages: restarted, never counted
    sup = Supervisor("root", [worker.spec(backoff=every_second)])
    await run_until(sup, 59.5)  # one outage a second, at 0, 1, ..., 59
    recent = sup.statistics().recent
    assert [e.monotonic for e in recent] == [float(t) for t in range(10, 60)]
