"""Restart history that survives process restarts.

systemd restarts wipe memory (supervision.md §6.4, step 5), so a small JSON file in the state
directory keeps the last restart events and one record per process start and exit. A process
record without an exit is a process that died without saying so (killed, power cut).

The event loop never touches the disk: reads and atomic writes (temporary file, fsync, rename,
fsync of the directory) run in a worker thread, one at a time under a lock. The file is
advisory: it must never stop the service from starting. Any damage at all (unreadable, not
UTF-8, not JSON, too deep, numbers out of range or not finite, wrong shapes) means an empty
history and one warning; a failed write is logged and retried on the next flush, never raised
into the service.
"""

from __future__ import annotations

import json
import logging
import math
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
        pid, exit_code = data.get("pid"), data.get("exit_code")
        exited_at, reason = data.get("exited_at"), data.get("reason", "")
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise TypeError("pid must be an integer")
        if exit_code is not None and (
            isinstance(exit_code, bool) or not isinstance(exit_code, int)
        ):
            raise TypeError("exit_code must be an integer or null")
        if not isinstance(reason, str):
            raise TypeError("reason must be a string")
        return cls(
            pid=pid,
            started_at=_finite(data.get("started_at"), "started_at"),
            exited_at=None if exited_at is None else _finite(exited_at, "exited_at"),
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
        """Serialises every read and write: a load racing a flush duplicated events."""

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
        async with self._lock:
            return await self._load_locked()

    async def _load_locked(self) -> HistorySnapshot:
        if not self._loaded:
            previous = await trio.to_thread.run_sync(_read, self.path)
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
            await self._load_locked()
            if not self._dirty:
                return
            self._dirty = False
            payload = {
                "version": _VERSION,
                "events": [event.to_json() for event in self._events],
                "processes": [asdict(process) for process in self._processes],
            }
            try:
                await trio.to_thread.run_sync(_write, self.path, payload)
            except (OSError, ValueError) as exc:  # ValueError: a number JSON cannot hold
                self._dirty = True
                logger.warning("history_write_failed", extra={"error": str(exc)})

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Load and write what is pending at once, then flush after each burst of changes;
        flush once more when cancelled.

        The first write carries this process's start record before anything else runs: a
        process killed a second after it started still leaves its trace.
        """
        await self.flush()
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
        data = path.read_bytes()
    except FileNotFoundError:
        return HistorySnapshot()
    except OSError as exc:
        logger.warning("history_unreadable", extra={"path": str(path), "error": str(exc)})
        return HistorySnapshot()
    try:
        return _parse(json.loads(data.decode("utf-8"), parse_constant=_no_constant))
    except Exception as exc:  # advisory: whatever is wrong with it, start afresh
        error = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("history_corrupt", extra={"path": str(path), "error": error})
        return HistorySnapshot()


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{key} must be finite")
    return float(value)


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
    """Temporary file, fsync, rename, fsync of the directory: after a power cut the file is
    the old one or the new one, and the rename itself is on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    with tmp.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
