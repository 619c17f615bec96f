"""The whole service stopping: within its budget, printers in parallel, and ``SystemExit``
from an actor ending in an ordered stop and an exit record.

In-process on the virtual clock (``thread_clock``: SQLite and sockets answer in real time).
What systemd relies on: a SIGTERM stop ends within ``service.stop_timeout`` (which fits the
unit's ``TimeoutStopSec``), even with every printer in the middle of a job.
"""

from __future__ import annotations

import contextlib
import json
import signal
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.transports import HangingTransport, RaisingTransport, StuckTransport
from tests.integration.harness import VirtualWall, config_text, open_rig
from wixprint.app import PRINTER_STOP_GRACE, ServiceOptions, create_service
from wixprint.config import ServiceConfig, load_config_text
from wixprint.printing.base import Transport
from wixprint.runner import EXIT_DEADLINE, serve
from wixprint.supervisor import ChildStatistics, SupervisorStatistics

PRINTERS = ("kitchen", "bar", "counter")


async def test_printers_mid_job_stop_in_parallel_within_the_stop_timeout(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """Three printers each waiting for the proof of a ticket: each gets its whole grace to
    collect it, at the same time. One after another they took 3 x 10 s, past the 20 s
    ``stop_timeout`` and towards systemd's SIGKILL."""
    async with open_rig(tmp_path, PRINTERS) as rig:
        ports = {name: p.port for name, p in rig.printers.items()}
        config = load_config_text(config_text(tmp_path, rig.shop_url, ports))
        hanging = {name: HangingTransport(name) for name in PRINTERS}
        transports: dict[str, Transport] = dict(hanging)
        options = ServiceOptions(
            wall=VirtualWall(), transports=transports, with_monitor=False, with_watchdog=False
        )
        service = create_service(config, options)
        await rig.nursery.start(service.run)
        rig.shop.load_fixture_orders()
        with trio.fail_after(120):
            for transport in hanging.values():
                await transport.job_started.wait()
        began = trio.current_time()
        with trio.fail_after(600):
            await service.stop()
        took = trio.current_time() - began
    assert PRINTER_STOP_GRACE <= took <= ServiceConfig().stop_timeout
    assert took < 2 * PRINTER_STOP_GRACE  # in parallel, not one after another
    stats = service.root.statistics()
    assert [find(stats, f"printer:{name}").state for name in PRINTERS] == ["stopped"] * 3


def find(stats: SupervisorStatistics, name: str) -> ChildStatistics:
    """The child called ``name`` anywhere in the tree."""
    for child in stats.children:
        if child.name == name:
            return child
        if child.supervisor is not None:
            with contextlib.suppress(KeyError):
                return find(child.supervisor, name)
    raise KeyError(name)


@pytest.mark.parametrize("count", [1, 4, 16])
async def test_the_whole_tree_can_always_stop_within_the_default_stop_timeout(
    tmp_path: Path, count: int
) -> None:
    """The worst case: every actor using its whole grace and its cancel deadline."""
    names = [f"p{i}" for i in range(count)]
    ports = {name: 9100 + i for i, name in enumerate(names)}  # one entry per printer
    text = config_text(tmp_path, "http://127.0.0.1:9", ports)
    config = load_config_text(text.replace("stop_timeout = 5.0\n", ""))
    assert config.service.stop_timeout == ServiceConfig().stop_timeout
    service = create_service(config, ServiceOptions())
    assert service.root.stop_budget() <= config.service.stop_timeout


async def test_system_exit_from_an_actor_is_an_ordered_stop_and_an_exit_record(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """``SystemExit`` used to cancel the whole tree at once and leave no exit record: the
    history said the process vanished, as if it had been killed."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.load_fixture_orders()
        config = load_config_text(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        transports: dict[str, Transport] = {"kitchen": RaisingTransport("kitchen", SystemExit(0))}
        options = ServiceOptions(wall=VirtualWall(), transports=transports, with_monitor=False)
        with trio.fail_after(600):
            code = await serve(config, options)
    assert code == 70
    recorded = json.loads((tmp_path / "state" / "restart-history.json").read_text())
    [process] = recorded["processes"]
    assert (process["exit_code"], process["reason"]) == (70, "service stopped by SystemExit")
    escalations = [
        (e["supervisor"], e["child"], e["classification"])
        for e in recorded["events"]
        if e["action"] == "escalate"
    ]
    assert escalations == [
        ("printers", "printer:kitchen", "fatal"),
        ("services", "printers", "fatal"),
        ("root", "services", "fatal"),
    ]


async def test_a_task_that_cannot_be_cancelled_ends_in_the_last_resort_exit(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """A printer job stuck in a worker thread Trio cannot abandon: after SIGTERM the stop
    gives up on it after ``EXIT_DEADLINE`` and exits 70, recorded, instead of hanging until
    systemd's SIGKILL."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.load_fixture_orders()
        config = load_config_text(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        stuck = StuckTransport("kitchen")
        exits: list[int] = []
        history_file = tmp_path / "state" / "restart-history.json"
        at_exit: list[object] = []

        def hard_exit(code: int) -> None:
            exits.append(code)
            at_exit.append(json.loads(history_file.read_text()))  # as os._exit would leave it
            stuck.release.set()  # what os._exit would end; here the test goes on

        transports: dict[str, Transport] = {"kitchen": stuck}
        options = ServiceOptions(
            wall=VirtualWall(), transports=transports, with_monitor=False, hard_exit=hard_exit
        )
        async with trio.open_nursery() as nursery:

            async def stop_when_stuck() -> None:
                await stuck.job_started.wait()
                signal.raise_signal(signal.SIGTERM)

            nursery.start_soon(stop_when_stuck)
            began = trio.current_time()
            with trio.fail_after(600):
                await serve(config, options)
            took = trio.current_time() - began
    assert exits == [70]
    assert took >= EXIT_DEADLINE
    [recorded] = at_exit
    assert isinstance(recorded, dict)
    assert [(p["exit_code"], p["reason"]) for p in recorded["processes"]] == [
        (70, "stop did not finish: a task would not end")
    ]
