"""The real ``wixprint run`` as a child process, killed with SIGKILL and started again.

Real time is unavoidable here: the child has its own event loop and clock. The fakes (shop,
printers) run in the test's Trio loop on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import trio

STARTUP_LIMIT = 30.0
"""Seconds a fresh process may take until ``/health`` answers."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def integrity_check(path: Path) -> str:
    """``PRAGMA integrity_check`` of the spool file ("ok" when sound)."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("PRAGMA integrity_check").fetchone()
        return str(row[0])
    finally:
        conn.close()


def job_states(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
        return {str(state): int(n) for state, n in rows}
    finally:
        conn.close()


class ServiceProcess:
    """One ``wixprint run`` at a time: start, wait for health, kill, stop.

    Every start logs to its own file in ``log_dir``; exits the test did not cause are kept
    in :attr:`unexpected_exits` (a crash-looping service shows there).
    """

    def __init__(
        self,
        config_path: Path,
        log_dir: Path,
        http_port: int,
        env: Mapping[str, str],
        *,
        history: Path | None = None,
    ) -> None:
        self.config_path = config_path
        self.history = history
        """The restart history file: ``start`` waits until it lists the new process."""
        self.log_dir = log_dir
        self.http_port = http_port
        self.env = dict(env)
        self.proc: trio.Process | None = None
        self.starts = 0
        self.kills = 0
        self.unexpected_exits: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_tail(self, lines: int = 30) -> str:
        path = self.log_dir / f"run-{self.starts}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def start(self, client: httpx.AsyncClient) -> None:
        """Start a process and wait until ``/health`` answers (200 or 503)."""
        assert self.proc is None or self.proc.returncode is not None
        self.starts += 1
        log = (self.log_dir / f"run-{self.starts}.log").open("wb")
        try:
            self.proc = await trio.lowlevel.open_process(
                [sys.executable, "-m", "wixprint.cli", "run", "--config", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        finally:
            log.close()
        with trio.fail_after(STARTUP_LIMIT):
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"wixprint run exited {self.proc.returncode} at start:\n{self.log_tail()}"
                    )
                try:
                    await client.get(f"{self.url}/health")
                    break
                except httpx.HTTPError:
                    await trio.sleep(0.05)
            # The history is written a second after a change: a kill before that would leave
            # no trace of this process, and the test checks that kills show there.
            while self.history is not None and not self._recorded():
                if self.proc.poll() is not None:
                    return  # died at once: the caller sees the exit
                await trio.sleep(0.05)

    def _recorded(self) -> bool:
        """Whether the restart history on disk lists the running process."""
        assert self.history is not None
        assert self.proc is not None
        try:
            data = json.loads(self.history.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return any(p.get("pid") == self.proc.pid for p in data.get("processes", []))

    def note_exit(self) -> None:
        """Record it if the process ended without being asked to."""
        if self.proc is not None and self.proc.returncode is not None:
            self.unexpected_exits.append(self.proc.returncode)

    async def kill(self) -> None:
        """SIGKILL: no ``finally``, no flush, no goodbye."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
            self.kills += 1
        else:
            self.note_exit()
        await self.proc.wait()

    async def restart_if_exited(self, client: httpx.AsyncClient) -> None:
        """Start again after an exit nobody asked for, as systemd's ``Restart=`` does."""
        if self.proc is not None and self.proc.returncode is not None:
            self.note_exit()
            await self.start(client)

    async def terminate(self, limit: float = 30.0) -> int:
        """SIGTERM and wait for the exit code."""
        assert self.proc is not None
        self.proc.terminate()
        with trio.fail_after(limit):
            return await self.proc.wait()

    async def cleanup(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            with trio.CancelScope(shield=True):
                await self.proc.wait()

    async def recovery_status(self, client: httpx.AsyncClient) -> dict[str, Any]:
        response = await client.get(f"{self.url}/recovery/status")
        data: dict[str, Any] = response.json()
        return data

    async def queue_depth(self, client: httpx.AsyncClient) -> int | None:
        try:
            status = await self.recovery_status(client)
        except (httpx.HTTPError, ValueError):
            return None
        queues = status.get("queues") or {}
        return sum(int(q.get("depth", 0)) for q in queues.values())


def child_env(faults: str, seed: int) -> dict[str, str]:
    """The test's environment, minus anything that would point the child elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIXPRINT_")}
    if faults:
        env["WIXPRINT_FAULTS"] = faults
        env["WIXPRINT_FAULTS_SEED"] = str(seed)
    return env
