"""What ``statistics()``, ``statistics_to_json`` and ``on_event`` show of a running tree.

Charter: see ``test_supervisor_core.py`` (virtual clock, exact times, absolute deadlines).
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import EXACT, Log, Scripted, statistics_at
from wixprint.errors import InjectedFault
from wixprint.supervisor import (
    ChildSpec,
    Restart,
    RestartEvent,
    Strategy,
    Supervisor,
    faults,
    statistics_to_json,
    supervisor_spec,
)


async def test_statistics_follow_a_crash_through_backoff_and_restart(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    steady = Scripted(log, "steady")
    crasher = Scripted(log, "crasher", ["crash", "crash"], after=3.0)
    sup = Supervisor(
        "root", [steady.spec(), crasher.spec(restart=Restart.TRANSIENT)], intensity=5, period=30
    )
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(2.0)
            running = sup.statistics()
            await trio.sleep(1.5)  # crashed at 3.0, restart due at 4.0
            in_backoff = sup.statistics()
            await trio.sleep(1.0)  # restarted at 4.0
            restarted = sup.statistics()
            await sup.stop()
    assert running.state == "running"
    assert [(c.name, c.state, c.uptime, c.restarts) for c in running.children] == [
        ("steady", "running", 2.0, 0),
        ("crasher", "running", 2.0, 0),
    ]
    crashed = in_backoff.children[1]
    assert (crashed.state, crashed.backoff_delay, crashed.uptime) == ("backoff", 1.0, None)
    assert crashed.restart is Restart.TRANSIENT
    assert crashed.kind == "worker"
    assert crashed.last_error is not None
    assert (crashed.last_error.error_type, crashed.last_error.message) == (
        "Boom",
        "crasher crashed",
    )
    assert in_backoff.restarts_in_window == 1
    back = restarted.children[1]
    assert (back.state, back.restarts, back.uptime, back.backoff_delay) == ("running", 1, 0.5, None)
    assert back.last_error == crashed.last_error
    (event,) = restarted.recent
    assert (event.supervisor, event.child, event.classification, event.action) == (
        "root",
        "crasher",
        "abnormal",
        "restart",
    )
    assert (event.delay, event.monotonic, event.restarts_in_window) == (1.0, 3.0, 1)
    assert event.wall > 0
    assert "crasher crashed" not in event.traceback  # frames only, no message or locals
    assert "in __call__" in event.traceback


async def test_statistics_to_json_is_plain_json_for_nested_trees(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    inner = Scripted(log, "inner", ["crash"], after=1.0)
    sub = Supervisor("sub", [inner.spec()], strategy=Strategy.REST_FOR_ONE)
    root = Supervisor("root", [supervisor_spec(sub), Scripted(log, "w").spec()])
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(root.run)
            await trio.sleep(1.5)
            data = statistics_to_json(root.statistics())
            await root.stop()
    parsed = json.loads(json.dumps(data))
    assert parsed == data
    assert parsed["strategy"] == "one_for_one"
    children = parsed["children"]
    sub_json = children[0]
    assert (sub_json["name"], sub_json["kind"], sub_json["restart"]) == (
        "sub",
        "supervisor",
        "permanent",
    )
    nested = sub_json["supervisor"]
    assert nested["strategy"] == "rest_for_one"
    assert nested["children"][0]["state"] == "backoff"
    assert nested["children"][0]["last_error"]["error_type"] == "Boom"
    assert nested["recent"][0]["action"] == "restart"
    assert children[1]["supervisor"] is None


async def test_the_recent_ring_buffer_is_bounded(autojump_clock: trio.abc.Clock) -> None:
    log = Log()
    crasher = Scripted(log, "c", ["return"] * 20)
    sup = Supervisor("root", [crasher.spec(backoff=EXACT)], intensity=100, period=1.0, recent=5)
    with trio.fail_after(1000):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(500)
            await sup.stop()
    assert len(sup.statistics().recent) == 5


async def test_a_failing_on_event_callback_is_logged_not_fatal(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[RestartEvent] = []

    def broken(event: RestartEvent) -> None:
        calls.append(event)
        raise RuntimeError("callback bug")

    log = Log()
    crasher = Scripted(log, "c", ["crash", "crash"])
    sup = Supervisor("root", [crasher.spec()], on_event=broken, intensity=5)
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(sup.run)
            await trio.sleep(10)
            assert sup.statistics().state == "running"
            await sup.stop()
    assert len(calls) == 2
    assert crasher.starts == 3
    assert [r.message for r in caplog.records].count("supervisor_on_event_failed") == 2


async def test_an_armed_fault_point_crashes_the_child_and_it_is_restarted(
    autojump_clock: trio.abc.Clock,
) -> None:
    printed: list[float] = []

    async def printer(*, task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        while True:
            await trio.sleep(1.0)
            faults.point("printer.before_send")
            printed.append(trio.current_time())

    sup = Supervisor("root", [ChildSpec("printer", printer, backoff=EXACT)])
    try:
        with faults.armed("printer.before_send", times=1, skip=1):
            with trio.fail_after(100):
                async with trio.open_nursery() as nursery:
                    await nursery.start(sup.run)
                    await trio.sleep(5.5)
                    await sup.stop()
    finally:
        faults.reset()
    # Sends at 1; the 2nd point hit (at 2) fires; restart at 3; sends again from 4.
    assert printed == [1.0, 4.0, 5.0]
    (event,) = sup.statistics().recent
    assert (event.error_type, event.message) == (
        "InjectedFault",
        str(InjectedFault("printer.before_send")),
    )


async def test_statistics_to_json_has_every_field_the_status_page_reads(
    autojump_clock: trio.abc.Clock,
) -> None:
    log = Log()
    steady = Scripted(log, "steady")
    crasher = Scripted(log, "crasher", ["crash", "crash"], after=1.0)
    sup = Supervisor("root", [steady.spec(), crasher.spec()], intensity=4, period=20.0)
    stats = await statistics_at(sup, 3.5)  # crashed at 1 and 3 (restarted at 2, due at 5)
    data = statistics_to_json(stats)
    error = data["children"][1]["last_error"]  # type: ignore[index]
    events = data["recent"]
    assert isinstance(events, list)
    assert data == {
        "name": "root",
        "strategy": "one_for_one",
        "intensity": 4,
        "period": 20.0,
        "state": "running",
        "restarts_in_window": 2,
        "children": [
            {
                "name": "steady",
                "kind": "worker",
                "restart": "permanent",
                "state": "running",
                "restarts": 0,
                "last_error": None,
                "backoff_delay": None,
                "uptime": 3.5,
                "supervisor": None,
            },
            {
                "name": "crasher",
                "kind": "worker",
                "restart": "permanent",
                "state": "backoff",
                "restarts": 1,
                "last_error": {
                    "error_type": "Boom",
                    "message": "crasher crashed",
                    "at": error["at"],
                },
                "backoff_delay": 2.0,
                "uptime": None,
                "supervisor": None,
            },
        ],
        "recent": [event.to_json() for event in stats.recent],
    }
    assert [(e["child"], e["delay"]) for e in events] == [("crasher", 1.0), ("crasher", 2.0)]


async def test_a_statistics_snapshot_cannot_be_altered(autojump_clock: trio.abc.Clock) -> None:
    """``statistics()`` hands out a snapshot: no reader may change what others see."""
    sup = Supervisor("root", [Scripted(Log(), "w").spec()])
    stats = await statistics_at(sup, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.state = "failed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.children[0].restarts = 7  # type: ignore[misc]


def test_a_supervisor_not_yet_run_shows_its_children_stopped() -> None:
    """Read before ``run()`` (and outside Trio: no clock), as a status page may."""
    log = Log()
    sub = Supervisor("sub", [Scripted(log, "printer").spec()])
    root = Supervisor("root", [Scripted(log, "fetcher").spec(), supervisor_spec(sub)])
    stats = root.statistics()
    assert stats.state == "idle"
    assert [(c.name, c.state, c.uptime, c.kind) for c in stats.children] == [
        ("fetcher", "stopped", None, "worker"),
        ("sub", "stopped", None, "supervisor"),
    ]
    nested = stats.children[1].supervisor
    assert nested is not None
    assert [(c.name, c.state) for c in nested.children] == [("printer", "stopped")]
