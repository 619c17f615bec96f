"""Restart history that survives process restarts.

systemd restarts wipe memory (supervision.md §6.4, step 5), so a small JSON file in the state
directory keeps the last restart events and one record per process start and exit. A process
record without an exit is a process that died without saying so (killed, power cut).

The event loop never touches the disk: reads and atomic writes (temporary file, fsync, rename)
run in a worker thread behind a one-slot limiter. History is best-effort by design: a missing or
corrupt file starts an empty history, and a failed write is logged and retried on the next
flush, never raised into the service.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import final

import trio

from wixprint.supervisor._events import RestartEvent

__all__ = ["HistorySnapshot", "HistoryStore", "ProcessRecord"]

logger = logging.getLogger("wixprint.supervisor")

_VERSION = 1


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One process of the service: when it started and how it ended (if it could say)."""

    pid: int
    started_at: float
    exited_at: float | None = None
    exit_code: int | None = None
    reason: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ProcessRecord:
        pid, started_at = data.get("pid"), data.get("started_at")
        exited_at, exit_code = data.get("exited_at"), data.get("exit_code")
        reason = data.get("reason", "")
        if not isinstance(pid, int) or not isinstance(started_at, int | float):
            raise TypeError("a process record needs pid and started_at")
        if exited_at is not None and not isinstance(exited_at, int | float):
            raise TypeError("exited_at must be a number or null")
        if exit_code is not None and not isinstance(exit_code, int):
            raise TypeError("exit_code must be an integer or null")
        if not isinstance(reason, str):
            raise TypeError("reason must be a string")
        return cls(
            pid=pid,
            started_at=float(started_at),
            exited_at=None if exited_at is None else float(exited_at),
            exit_code=exit_code,
            reason=reason,
        )


@dataclass(frozen=True, slots=True)
class HistorySnapshot:
    """Restart events (oldest first) and process records (oldest first)."""

    events: tuple[RestartEvent, ...] = ()
    processes: tuple[ProcessRecord, ...] = ()


@final
class HistoryStore:
    """A bounded restart history in one JSON file.

    Args:
        path: the file, usually ``<state_dir>/restart-history.json``.
        max_events: restart events kept (oldest dropped first).
        max_processes: process records kept.
        flush_delay: seconds :meth:`run` waits after a change before writing, so a burst of
            restarts costs one write.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_events: int = 200,
        max_processes: int = 50,
        flush_delay: float = 1.0,
    ) -> None:
        if max_events < 1 or max_processes < 1:
            raise ValueError("max_events and max_processes must be >= 1")
        self.path = Path(path)
        self._flush_delay = flush_delay
        self._events: deque[RestartEvent] = deque(maxlen=max_events)
        self._processes: deque[ProcessRecord] = deque(maxlen=max_processes)
        self._current: ProcessRecord | None = None
        self._previous = HistorySnapshot()
        self._loaded = False
        self._dirty = False
        self._wakeup = trio.Event()
        self._lock = trio.Lock()
        self._limiter = trio.CapacityLimiter(1)

    # -- recording (synchronous, in memory) ----------------------------------------------------

    def record(self, event: RestartEvent) -> None:
        """Keep ``event``; it reaches the file on the next flush."""
        self._events.append(event)
        self._changed()

    def record_process_start(self) -> None:
        self._current = ProcessRecord(pid=os.getpid(), started_at=time.time())
        self._processes.append(self._current)
        self._changed()

    def record_process_exit(self, code: int, reason: str) -> None:
        """Close this process's record (opening one first if :meth:`record_process_start` was
        never called)."""
        if self._current is None:
            self.record_process_start()
        assert self._current is not None
        ended = replace(self._current, exited_at=time.time(), exit_code=code, reason=reason)
        self._processes = deque(
            (ended if p is self._current else p for p in self._processes),
            maxlen=self._processes.maxlen,
        )
        self._current = ended
        self._changed()

    def _changed(self) -> None:
        self._dirty = True
        self._wakeup.set()

    def previous(self) -> HistorySnapshot:
        """What earlier processes recorded, as :meth:`load` found it."""
        return self._previous

    def snapshot(self) -> HistorySnapshot:
        """Everything known now: earlier processes' history plus this one's."""
        return HistorySnapshot(events=tuple(self._events), processes=tuple(self._processes))

    # -- disk (worker thread) ------------------------------------------------------------------

    async def load(self) -> HistorySnapshot:
        """Read the file once; later calls return the same result."""
        if not self._loaded:
            previous = await trio.to_thread.run_sync(_read, self.path, limiter=self._limiter)
            self._loaded = True
            self._previous = previous
            self._events = deque((*previous.events, *self._events), maxlen=self._events.maxlen)
            self._processes = deque(
                (*previous.processes, *self._processes), maxlen=self._processes.maxlen
            )
        return self._previous

    async def flush(self) -> None:
        """Write the history now if it changed (atomically, in a worker thread)."""
        async with self._lock:
            await self.load()
            if not self._dirty:
                return
            self._dirty = False
            payload = {
                "version": _VERSION,
                "events": [event.to_json() for event in self._events],
                "processes": [asdict(process) for process in self._processes],
            }
            try:
                await trio.to_thread.run_sync(_write, self.path, payload, limiter=self._limiter)
            except OSError as exc:
                self._dirty = True
                logger.warning("history_write_failed", extra={"error": str(exc)})

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Load, then flush after each burst of changes; flush once more when cancelled."""
        await self.load()
        task_status.started()
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup = trio.Event()
                await trio.sleep(self._flush_delay)
                await self.flush()
        finally:
            with trio.move_on_after(5, shield=True):
                await self.flush()


def _read(path: Path) -> HistorySnapshot:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return HistorySnapshot()
    except OSError as exc:
        logger.warning("history_unreadable", extra={"path": str(path), "error": str(exc)})
        return HistorySnapshot()
    try:
        return _parse(json.loads(text))
    except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
        logger.warning("history_corrupt", extra={"path": str(path), "error": str(exc)})
        return HistorySnapshot()


def _parse(data: object) -> HistorySnapshot:
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    events = data.get("events", [])
    processes = data.get("processes", [])
    if not isinstance(events, list) or not isinstance(processes, list):
        raise TypeError("events and processes must be lists")
    return HistorySnapshot(
        events=tuple(RestartEvent.from_json(_mapping(e)) for e in events),
        processes=tuple(ProcessRecord.from_json(_mapping(p)) for p in processes),
    )


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise TypeError("entries must be JSON objects")
    return value


def _write(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as file:
        json.dump(payload, file, separators=(",", ":"))
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
