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

from tests.unit.supervisor.supervisor_helpers import EXACT, Log, Raises, Scripted, Step, run_until
from wixprint.supervisor import ChildSpec, Restart, RestartEvent, Supervisor

_FIELDS = (
    "supervisor",
    "actor",
    "classification",
    "action",
    "delay",
    "error_type",
    "restarts_in_window",
    "error",
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
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"):
        await run_until(sup, 5.0)
    assert _lines(caplog) == [
        ("INFO", "child_ignored", {"supervisor": "root", "actor": "w"}, False)
    ]


async def test_a_failing_event_callback_is_logged_with_its_supervisor_and_traceback(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: RestartEvent) -> None:
        raise RuntimeError("callback bug")

    worker = Scripted(Log(), "w", ["crash"], after=1.0)
    sup = Supervisor("root", [worker.spec()], on_event=broken)
    with caplog.at_level(logging.INFO, logger="wixprint.supervisor"):
        await run_until(sup, 5.0)
    failed = [line for line in _lines(caplog) if line[1] == "supervisor_on_event_failed"]
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
