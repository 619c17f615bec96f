"""Running the service as systemd does: a real ``wixprint run`` process under a
``NOTIFY_SOCKET`` this process binds, and a ``GET /health`` probe in a process of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

__all__ = [
    "PROFILE_ENV",
    "NotifyListener",
    "Probe",
    "ProbeResult",
    "ServiceProcess",
    "free_port",
    "open_notify_listener",
    "open_probe",
    "open_service_process",
    "service_environ",
    "wixprint_command",
]


# -- systemd's notify socket ------------------------------------------------------------------


class NotifyListener:
    """The datagram socket systemd would bind for ``Type=notify``: records each message and
    the ``time.perf_counter()`` it arrived."""

    def __init__(self, sock: trio.socket.SocketType, path: Path) -> None:
        self.sock = sock
        self.path = path
        self.messages: list[tuple[float, str]] = []

    async def wait_for(self, line: str) -> float:
        """Wait for a datagram holding ``line``; its arrival time."""
        while True:
            data = await self.sock.recv(4096)
            arrived = time.perf_counter()
            text = data.decode("utf-8", "replace")
            self.messages.append((arrived, text))
            if line in text.splitlines():
                return arrived

    async def drain(self) -> list[str]:
        """Record the datagrams already waiting; the text of every message so far."""
        while True:
            with trio.move_on_after(0.05):
                data = await self.sock.recv(4096)
                self.messages.append((time.perf_counter(), data.decode("utf-8", "replace")))
                continue
            break
        return [text for _, text in self.messages]


@asynccontextmanager
async def open_notify_listener(directory: Path) -> AsyncIterator[NotifyListener]:
    path = directory / "notify.sock"
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        await sock.bind(str(path))
        yield NotifyListener(sock, path)
    finally:
        sock.close()
        path.unlink(missing_ok=True)


PROFILE_ENV = "BENCH_PROFILE_DIR"
"""Set to a folder to run the spawned service under cProfile (one ``.prof`` file per start)."""


def wixprint_command(config_path: Path) -> list[str]:
    """The console script next to this interpreter, as systemd's ``ExecStart`` runs it."""
    script = Path(sys.executable).parent / "wixprint"
    args = ["run", "--config", str(config_path)]
    profile_dir = os.environ.get(PROFILE_ENV)
    if profile_dir:
        out = Path(profile_dir) / f"wixprint-{time.time_ns()}.prof"
        return [sys.executable, "-m", "cProfile", "-o", str(out), str(script), *args]
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "wixprint.cli", *args]


def service_environ(notify: Path) -> dict[str, str]:
    """The environment of the systemd unit (unbuffered, 30 s watchdog) plus the notify socket.

    Bytecode writing is on whatever this environment says: the first start compiles what an
    installed package ships precompiled (the unit's ``PYTHONDONTWRITEBYTECODE`` then only
    keeps it from writing more).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIXPRINT_", "NOTIFY_"))}
    env.update({"PYTHONUNBUFFERED": "1", "NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "30000000"})
    for name in ("WATCHDOG_PID", "JOURNAL_STREAM", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for ``http.port``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """A running ``wixprint run``: its process, when it was spawned and became ready, and
    (after the context exits) how it stopped."""

    process: trio.Process
    notify: NotifyListener
    spawned_at: float
    ready_at: float = 0.0
    stop_s: float | None = None
    exit_code: int | None = None

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    @property
    def ready_s(self) -> float:
        return self.ready_at - self.spawned_at


@asynccontextmanager
async def open_service_process(
    config: Path, tmp: Path, *, ready_limit: float = 60.0, stop_limit: float = 60.0
) -> AsyncIterator[ServiceProcess]:
    """Spawn ``wixprint run --config config`` under a notify socket, yield it once READY=1,
    stop it with SIGTERM on exit (killed if it overstays ``stop_limit``). Its output goes to
    ``tmp/service.log``."""
    async with open_notify_listener(tmp) as notify:
        with (tmp / "service.log").open("ab") as out:
            spawned = time.perf_counter()
            process = await trio.lowlevel.open_process(
                wixprint_command(config),
                env=service_environ(notify.path),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            running = ServiceProcess(process, notify, spawned)
            try:
                with trio.fail_after(ready_limit):
                    running.ready_at = await notify.wait_for("READY=1")
                yield running
                stopping = time.perf_counter()
                process.send_signal(signal.SIGTERM)
                with trio.move_on_after(stop_limit):
                    running.exit_code = await process.wait()
                    running.stop_s = time.perf_counter() - stopping
            finally:
                if process.returncode is None:
                    process.kill()
                    with trio.CancelScope(shield=True):
                        await process.wait()


# -- the /health probe process ----------------------------------------------------------------


@dataclass
class ProbeResult:
    latencies: list[float]
    statuses: dict[str, int]
    errors: int
    started: list[float] = field(default_factory=list)
    """``time.perf_counter()`` at each answered request's start (the same clock here)."""

    def between(self, start: float, end: float) -> list[float]:
        """The latencies of the requests started in ``[start, end)``."""
        return [
            lat for t, lat in zip(self.started, self.latencies, strict=True) if start <= t < end
        ]


class Probe:
    """A running ``_probe.py``; ``finish`` stops it and returns what it measured."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process

    async def finish(self) -> ProbeResult:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        await self.process.stdin.aclose()
        chunks: list[bytes | bytearray] = []
        while chunk := await self.process.stdout.receive_some():
            chunks.append(chunk)
        await self.process.wait()
        data = json.loads(b"".join(chunks))
        return ProbeResult(
            [float(x) for x in data["latencies"]],
            {str(k): int(v) for k, v in data["statuses"].items()},
            int(data["errors"]),
            [float(x) for x in data.get("started", [])],
        )


@asynccontextmanager
async def open_probe(url: str, every: float, *, fresh: bool = False) -> AsyncIterator[Probe]:
    """Start asking ``GET url`` every ``every`` seconds from a process of its own (``fresh``:
    on a new connection each time)."""
    script = Path(__file__).with_name("_probe.py")
    process = await trio.lowlevel.open_process(
        [sys.executable, str(script), url, str(every), *(["fresh"] if fresh else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        yield Probe(process)
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
