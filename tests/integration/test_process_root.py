"""``wixprint run`` as systemd runs it: a real process, a real notify socket, real signals.

What systemd and the operator rely on: a bad configuration exits 78 before anything starts
(systemd does not restart it); a good one sends ``READY=1`` once the tree is up, pings the
watchdog, and on SIGTERM or SIGINT sends ``STOPPING=1`` and exits 0 within the stop timeout;
a tree that cannot run exits 70 (systemd starts a fresh process) and says so in the restart
history. Logs are one JSON object per line.

These tests run on the real clock: the service is another process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from tests.integration.harness import VirtualWall, config_text, open_rig, virtual_now
from wixprint.app import ServiceOptions
from wixprint.cli import main
from wixprint.config import Config, load_config_text
from wixprint.runner import serve
from wixprint.sim.shop import FakeWixShop, serve_shop
from wixprint.supervisor import faults

API_KEY = "process-root-api-key-0123456789"
SITE_ID = "process-root-site"
ADMIN_TOKEN = "process-root-admin-token-9876"
STOP_TIMEOUT = 5.0
START_LIMIT = 30.0
"""Seconds a process gets to start (interpreter, imports, tree); generous for slow machines."""
CLI = [sys.executable, "-m", "wixprint.cli"]
OUR_ENV = ("WIXPRINT_", "NOTIFY_SOCKET", "WATCHDOG_", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY")


def service_config(tmp: Path, shop_url: str, *, extra: str = "") -> str:
    return f"""
[service]
state_dir = "{tmp / "state"}"
restaurant_name = "Gasthaus Prozess"
stop_timeout = {STOP_TIMEOUT}

[http]
host = "127.0.0.1"
port = 0
admin_token = "{ADMIN_TOKEN}"

[wix]
base_url = "{shop_url}"
site_id = "{SITE_ID}"
api_key = "{API_KEY}"
poll_interval = 1.0
not_before = "2025-01-01T00:00:00Z"

[connectivity]
internet_target = "{shop_url.removeprefix("http://")}"

[[printers]]
name = "kitchen"
transport = "virtual"
directory = "{tmp / "tickets"}"
receipts = ["kitchen", "driver", "customer"]
{extra}"""


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything systemd or an operator may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_ENV)}
    env.update(extra)
    return env


@dataclass
class Notifications:
    """Datagrams received on the notify socket, as lists of lines."""

    messages: list[list[str]] = field(default_factory=list)
    changed: trio.Event = field(default_factory=trio.Event)

    def lines(self) -> list[str]:
        return [line for message in self.messages for line in message]

    async def wait_for(self, line: str, limit: float) -> None:
        with trio.fail_after(limit):
            while line not in self.lines():
                await self.changed.wait()


@asynccontextmanager
async def open_notify_socket() -> AsyncIterator[tuple[str, Notifications]]:
    """Plays systemd's side: an abstract-namespace datagram socket and what arrives on it."""
    name = f"wixprint-root-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    await sock.bind("\0" + name)
    seen = Notifications()

    async def receive() -> None:
        while True:
            data = await sock.recv(4096)
            seen.messages.append(data.decode().split("\n"))
            seen.changed.set()
            seen.changed = trio.Event()

    with sock:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive)
            yield "@" + name, seen
            nursery.cancel_scope.cancel()


@dataclass
class Child:
    """A running ``wixprint`` process whose stdout lines are collected as they come."""

    process: trio.Process
    stdout: list[str] = field(default_factory=list)
    stderr: bytearray = field(default_factory=bytearray)
    changed: trio.Event = field(default_factory=trio.Event)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout]

    async def wait_event(self, name: str, limit: float) -> dict[str, Any]:
        with trio.fail_after(limit):
            while True:
                for event in self.events():
                    if event.get("event") == name:
                        return event
                await self.changed.wait()

    async def wait_exit(self, limit: float) -> int:
        with trio.fail_after(limit):
            return await self.process.wait()


@asynccontextmanager
async def spawn(args: list[str], env: dict[str, str]) -> AsyncIterator[Child]:
    process = await trio.lowlevel.open_process(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    child = Child(process)
    assert process.stdout is not None
    assert process.stderr is not None
    stdout, stderr = process.stdout, process.stderr

    async def pump_stdout() -> None:
        pending = b""
        async for chunk in stdout:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            child.stdout.extend(line.decode() for line in lines)
            child.changed.set()
            child.changed = trio.Event()

    async def pump_stderr() -> None:
        async for chunk in stderr:
            child.stderr.extend(chunk)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pump_stdout)
            nursery.start_soon(pump_stderr)
            yield child
            with trio.move_on_after(START_LIMIT):
                await process.wait()
            nursery.cancel_scope.cancel()
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


@asynccontextmanager
async def open_shop(shop: FakeWixShop) -> AsyncIterator[str]:
    async with trio.open_nursery() as nursery:
        url = await nursery.start(partial(serve_shop, shop))
        yield url
        nursery.cancel_scope.cancel()


def new_shop(*, orders: bool = True) -> FakeWixShop:
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID)
    if orders:
        shop.load_fixture_orders()
    return shop


def history(tmp: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp / "state" / "restart-history.json").read_text())
    return data


def assert_json_log_lines(lines: list[str]) -> None:
    """One JSON object per line with the keys journald users filter on; no secret leaks."""
    assert lines
    for line in lines:
        assert line.startswith("{"), line
        record = json.loads(line)
        assert {"event", "level", "actor"} <= record.keys(), line
        assert API_KEY not in line
        assert ADMIN_TOKEN not in line


# -- a bad configuration: 78, nothing started ------------------------------------------------


async def test_a_broken_config_exits_78_naming_each_key_and_starts_nothing(
    tmp_path: Path,
) -> None:
    shop = new_shop()
    async with open_shop(shop) as url:
        path = tmp_path / "config.toml"
        broken = service_config(tmp_path, url).replace(
            "poll_interval = 1.0", 'poll_interval = "often"\ncolour = "blue"'
        )
        path.write_text(broken.replace("port = 0", "port = 99999"))
        async with spawn(["run", "--config", str(path)], child_env()) as child:
            code = await child.wait_exit(START_LIMIT)
        assert code == 78
        assert sorted(child.stderr.decode().splitlines()) == sorted(
            [
                f"{path}: wix.poll_interval: expected float, got str",
                f"{path}: unknown key 'wix.colour'",
                f"{path}: http.port: must be between 0 and 65535, got 99999",
            ]
        )
        assert child.stdout == []  # not one actor logged a line
        assert not (tmp_path / "state").exists()
        assert shop.statistics().requests == 0  # Wix was never asked


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "file not found"), ("[wix\nsite_id = 1", "invalid TOML")],
    ids=["missing", "invalid-toml"],
)
async def test_a_missing_or_unparsable_file_is_one_clear_line(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "config.toml"
    if content is not None:
        path.write_text(content)
    async with spawn(["run", "--config", str(path)], child_env()) as child:
        code = await child.wait_exit(START_LIMIT)
    assert code == 78
    lines = child.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: {expected}")
    assert child.stdout == []


async def test_malformed_fault_injection_settings_exit_78_before_starting(tmp_path: Path) -> None:
    shop = new_shop()
    async with open_shop(shop) as url:
        path = tmp_path / "config.toml"
        path.write_text(service_config(tmp_path, url))
        env = child_env(WIXPRINT_FAULTS="printer.nowhere=1.0")
        async with spawn(["run", "--config", str(path)], env) as child:
            code = await child.wait_exit(START_LIMIT)
        assert code == 78
        assert "printer.nowhere" in child.stderr.decode()
        assert not (tmp_path / "state").exists()


# -- a good configuration: READY, watchdog, a clean stop on SIGTERM or SIGINT -------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_ready_watchdog_then_a_signal_stops_it_cleanly_with_exit_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    shop = new_shop()
    async with open_shop(shop) as url, open_notify_socket() as (address, notes):
        path = tmp_path / "config.toml"
        path.write_text(service_config(tmp_path, url))
        env = child_env(NOTIFY_SOCKET=address, WATCHDOG_USEC="1000000")
        async with spawn(["run", "--config", str(path)], env) as child:
            await notes.wait_for("READY=1", START_LIMIT)
            ready = next(m for m in notes.messages if "READY=1" in m)
            assert any(line.startswith("STATUS=") for line in ready)
            # The orders in the shop come out of the (virtual) printer.
            await child.wait_event("ticket_printed", START_LIMIT)
            await notes.wait_for("WATCHDOG=1", 5.0)  # every 0.5 s while the loop lives
            assert "STOPPING=1" not in notes.lines()

            child.process.send_signal(signum)
            with trio.fail_after(STOP_TIMEOUT):
                code = await child.process.wait()
            await notes.wait_for("STOPPING=1", 1.0)
        assert code == 0
        assert child.stderr.decode() == ""
        assert_json_log_lines(child.stdout)
        stop = await child.wait_event("stop_requested", 0)
        assert (stop["signal"], stop["actor"]) == (signum.name, "root")
        processes = history(tmp_path)["processes"]
        assert [(p["pid"], p["exit_code"], p["reason"]) for p in processes] == [
            (child.process.pid, 0, "stopped")
        ]


# -- the tree cannot run: 70, recorded ------------------------------------------------------


async def test_a_spool_that_cannot_open_exits_70_and_the_history_says_so(tmp_path: Path) -> None:
    """The root cannot start its first child: the process ends 70 (systemd restarts it and,
    after the start limit, mails the owner), with the reason in the log and the history."""
    shop = new_shop(orders=False)
    async with open_shop(shop) as url, open_notify_socket() as (address, notes):
        path = tmp_path / "config.toml"
        path.write_text(service_config(tmp_path, url))
        (tmp_path / "state").mkdir()
        (tmp_path / "state" / "spool.sqlite3").write_bytes(b"this is not a database " * 100)
        async with spawn(["run", "--config", str(path)], child_env(NOTIFY_SOCKET=address)) as c:
            code = await c.wait_exit(START_LIMIT)
        assert code == 70
        assert "READY=1" not in notes.lines()  # systemd never thought it started
        failed = await c.wait_event("service_failed", 0)
        assert failed["level"] == "critical"
        assert failed["exception"][0]["exc_type"] == "SpoolError"
        assert_json_log_lines(c.stdout)
        [process] = history(tmp_path)["processes"]
        assert (process["exit_code"], process["reason"]) == (70, "service failed: SpoolError")


async def test_fault_points_armed_from_the_environment_crash_actors_in_the_real_process(
    tmp_path: Path,
) -> None:
    """``WIXPRINT_FAULTS`` reaches the real process: the fetcher crashes after each commit,
    its supervisor restarts it, and a SIGTERM still stops everything cleanly."""
    shop = new_shop()
    async with open_shop(shop) as url:
        path = tmp_path / "config.toml"
        path.write_text(service_config(tmp_path, url))
        env = child_env(WIXPRINT_FAULTS="spool.after_commit=1.0", WIXPRINT_FAULTS_SEED="1")
        async with spawn(["run", "--config", str(path)], env) as child:
            armed = await child.wait_event("fault_points_armed", START_LIMIT)
            assert armed["points"] == ["spool.after_commit"]
            crash = await child.wait_event("child_exited", START_LIMIT)
            assert (crash["actor"], crash["action"]) == ("fetcher", "restart")
            child.process.send_signal(signal.SIGTERM)
            code = await child.wait_exit(STOP_TIMEOUT)
        assert code == 0
        recorded = history(tmp_path)
        assert any(
            e["child"] == "fetcher" and e["error_type"] == "InjectedFault"
            for e in recorded["events"]
        )
        assert recorded["processes"][-1]["exit_code"] == 0


# -- a stalled device printer: the stop is not held up ---------------------------------------


async def test_a_printer_stuck_on_its_device_cannot_hold_up_the_stop(tmp_path: Path) -> None:
    """A device printer whose character device never takes data (here a FIFO nobody reads).
    Device calls used to block a worker thread that Trio cannot cancel, so the process hung
    after SIGTERM until the last-resort exit (70, ``stop_stuck``). The device is now opened
    non-blocking and written in cancellable chunks: the stop is an ordinary one.

    The FIFO has a reader that never reads and a pipe already full, so the service's open
    succeeds and its writes never complete (without a reader the open itself fails and the
    ticket is "printing" only for a moment between attempts)."""
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    never_reads = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    filler = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        while True:
            os.write(filler, bytes(4096))  # atomic: all of it, or BlockingIOError when full
    except BlockingIOError:
        pass
    try:
        await _stop_with_a_stuck_device(tmp_path, fifo)
    finally:
        os.close(filler)
        os.close(never_reads)


async def _stop_with_a_stuck_device(tmp_path: Path, fifo: Path) -> None:
    shop = new_shop()
    async with open_shop(shop) as url:
        path = tmp_path / "config.toml"
        text = service_config(tmp_path, url).replace(
            f'transport = "virtual"\ndirectory = "{tmp_path / "tickets"}"',
            f'transport = "device"\ndevice = "{fifo}"',
        )
        assert 'transport = "device"' in text
        path.write_text(text)
        async with spawn(["run", "--config", str(path)], child_env()) as child:
            web = await child.wait_event("web_listening", START_LIMIT)
            await wait_until_printing(web["url"])
            child.process.send_signal(signal.SIGTERM)
            with trio.fail_after(STOP_TIMEOUT + 5.0):
                code = await child.process.wait()
        assert code == 0
        processes = history(tmp_path)["processes"]
        assert [(p["exit_code"], p["reason"]) for p in processes] == [(0, "stopped")]


async def wait_until_printing(base_url: str) -> None:
    """Until some ticket is in the printer's hands (state ``printing``)."""
    with trio.fail_after(START_LIMIT):
        async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
            while True:
                orders = (await client.get("/orders")).json()["orders"]
                states = {t["state"] for o in orders for t in o["tickets"]}
                if "printing" in states:
                    return
                await trio.sleep(0.1)  # real time: the service is another process


# -- in-process: the command line's own answers ---------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("wixprint ")
    assert out.split()[1][0].isdigit()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_config_check_good_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(OUR_ENV):
            monkeypatch.delenv(name)
    good = tmp_path / "good.toml"
    good.write_text(service_config(tmp_path, "http://127.0.0.1:9"))
    good.chmod(0o640)  # else a warning on stderr
    assert main(["config", "check", str(good)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "ok"
    assert err == ""
    assert API_KEY not in out
    assert ADMIN_TOKEN not in out

    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("stop_timeout = 5.0", "stop_timeout = -1"))
    assert main(["config", "check", str(bad)]) == 78
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{bad}: service.stop_timeout: must be a positive number of seconds, got -1.0"
    ]
    assert not (tmp_path / "state").exists()


# -- in-process on the virtual clock: intensity exceeded all the way up -------------------


@pytest.fixture
def crash_loop_clock() -> trio.testing.MockClock:
    """``thread_clock`` with a shorter fuse: a crash loop sleeps hundreds of short backoffs,
    and loopback peers and SQLite usually answer within 10 ms."""
    return trio.testing.MockClock(autojump_threshold=0.01)


async def serve_within(config: Config, options: ServiceOptions, real_seconds: float) -> int:
    """``serve`` under a limit of real seconds, with a heartbeat every virtual half second.

    The autojumping clock cannot see worker threads: while SQLite works in one for more than
    its threshold (a loaded machine, an fsync), every task looks idle and the clock leaps to
    the next deadline. A virtual ``fail_after(600)`` was then often the only one, at start-up:
    600 virtual seconds passed in one leap and the test failed before the tree had started.
    The heartbeat bounds each leap to half a second (a backoff that elapses early is
    harmless); the limit on real time catches a tree that never gives up.
    """
    codes: list[int] = []
    async with trio.open_nursery() as nursery:

        async def heartbeat() -> None:
            began = time.monotonic()
            while time.monotonic() - began < real_seconds:  # noqa: ASYNC110 - real time
                await trio.sleep(0.5)
            raise AssertionError(f"serve did not return within {real_seconds:g} real seconds")

        nursery.start_soon(heartbeat)
        codes.append(await serve(config, options))
        nursery.cancel_scope.cancel()
    return codes[0]


async def test_crash_loops_exceed_intensity_up_the_tree_and_serve_returns_70(
    tmp_path: Path, crash_loop_clock: trio.testing.MockClock
) -> None:
    """printers give up, then services, then the root: 70, and the history file (what the
    next process and ``wixprint status`` read) holds the whole escalation.

    Two crash loops feed ``services`` (the fetcher after each commit of a new order, the
    printers supervisor giving up). Backoff waits do not age the intensity window (it runs on
    active time), so each level gives up after its eleventh quick crash, about a minute of
    backoff.
    """
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        rig.shop.load_fixture_orders()
        ports = {name: p.port for name, p in rig.printers.items()}
        config = load_config_text(config_text(tmp_path, rig.shop_url, ports))
        faults.arm_from_env(
            {
                "WIXPRINT_FAULTS": "spool.after_commit=1.0,printer.before_send=1.0",
                "WIXPRINT_FAULTS_SEED": "7",
            }
        )

        async def order_stream() -> None:
            # An order committed once costs a lookup the next time, never a commit: only
            # new orders keep the fetcher crashing after its commits.
            while True:
                await trio.sleep(2)
                rig.shop.new_demo_order(virtual_now())

        rig.nursery.start_soon(order_stream)
        try:
            options = ServiceOptions(wall=VirtualWall(), with_monitor=False)
            code = await serve_within(config, options, real_seconds=300)
        finally:
            faults.reset()
    assert code == 70
    recorded = history(tmp_path)
    escalations = {e["supervisor"] for e in recorded["events"] if e["action"] == "escalate"}
    assert escalations == {"printers", "services", "root"}
    [process] = recorded["processes"]
    assert (process["exit_code"], process["reason"]) == (70, "root supervisor gave up")
    # Nothing was printed: every attempt crashed before sending.
    assert all(not p.tickets for p in rig.printers.values())
