"""``HistoryStore``: restart history that outlives the process.

Charter: see ``test_supervisor_core.py``. Files live under ``tmp_path``; tests that wait on
the flusher use ``thread_clock``, so virtual time only jumps once the writer thread is idle.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
import threading
from pathlib import Path

import pytest
import trio

from tests.unit.supervisor.supervisor_helpers import EXACT, Log, Scripted
from wixprint.supervisor import (
    Action,
    Classification,
    ErrorInfo,
    HistorySnapshot,
    HistoryStore,
    ProcessRecord,
    RestartEvent,
    Supervisor,
    _history,
)


def _event(child: str, wall: float) -> RestartEvent:
    return RestartEvent(
        supervisor="root",
        child=child,
        classification="abnormal",
        error_type="Boom",
        message=f"{child} crashed",
        traceback="x.py:1 in f",
        monotonic=12.5,
        wall=wall,
        action="restart",
        delay=0.05,
        restarts_in_window=1,
    )


async def test_history_survives_into_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "state" / "restart-history.json"
    first = HistoryStore(path)
    assert await first.load() == first.previous()
    assert first.previous().events == ()
    first.record_process_start()
    first.record(_event("printer", 1000.0))
    first.record(_event("fetcher", 1001.0))
    first.record_process_exit(70, "root supervisor gave up")
    await first.flush()

    second = HistoryStore(path)
    previous = await second.load()
    assert previous.events == (_event("printer", 1000.0), _event("fetcher", 1001.0))
    (process,) = previous.processes
    assert (process.exit_code, process.reason) == (70, "root supervisor gave up")
    assert process.exited_at is not None
    assert process.exited_at >= process.started_at

    second.record_process_start()  # this one is then "killed": no exit record
    second.record(_event("alerter", 1002.0))
    await second.flush()

    third = HistoryStore(path)
    seen = await third.load()
    assert [e.child for e in seen.events] == ["printer", "fetcher", "alerter"]
    assert [p.exit_code for p in seen.processes] == [70, None]
    assert not list(path.parent.glob("*.tmp"))


async def test_history_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path, max_events=3, max_processes=2)
    for i in range(4):
        store.record_process_start()
        store.record(_event(f"c{i}", float(i)))
    await store.flush()
    again = await HistoryStore(path).load()
    assert [e.child for e in again.events] == ["c1", "c2", "c3"]
    assert len(again.processes) == 2


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"events": {"a": 1}}',
        '{"events": [{"child": "x"}]}',
        '{"processes": [{"pid": "one", "started_at": 1}]}',
    ],
)
async def test_a_corrupt_file_starts_an_empty_history_with_a_warning(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.json"
    path.write_text(content, encoding="utf-8")
    store = HistoryStore(path)
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        previous = await store.load()
    assert previous.events == ()
    assert previous.processes == ()
    assert "history_corrupt" in [r.message for r in caplog.records]
    store.record(_event("printer", 5.0))
    await store.flush()
    assert [e.child for e in (await HistoryStore(path).load()).events] == ["printer"]


async def test_a_missing_file_is_an_empty_history(tmp_path: Path) -> None:
    previous = await HistoryStore(tmp_path / "nothing-yet.json").load()
    assert (previous.events, previous.processes) == ((), ())


async def test_the_flusher_writes_a_burst_once_and_flushes_on_cancel(
    tmp_path: Path, thread_clock: trio.abc.Clock
) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path, flush_delay=1.0)
    log = Log()
    crasher = Scripted(log, "crasher", ["crash", "crash"], after=10.0)
    sup = Supervisor("root", [crasher.spec(backoff=EXACT)], history=store, intensity=5)
    with trio.fail_after(100):
        async with trio.open_nursery() as nursery:
            await nursery.start(store.run)
            await nursery.start(sup.run)
            await trio.sleep(10.5)  # first crash at 10.0, written at 11.0
            assert not path.exists()
            await trio.sleep(1.0)
            on_disk = json.loads(path.read_text(encoding="utf-8"))
            assert [e["child"] for e in on_disk["events"]] == ["crasher"]
            await trio.sleep(10.0)  # second crash at 21.0
            await sup.stop()
            store.record_process_exit(0, "stopped")
            nursery.cancel_scope.cancel()
    final = await HistoryStore(path).load()
    assert [e.action for e in final.events] == ["restart", "restart"]
    assert final.events == sup.statistics().recent
    assert [p.reason for p in final.processes] == ["stopped"]


# -- the file is advisory: any damage is an empty history and one warning -------------------


def _valid_file(**overrides: object) -> str:
    event = {**_event("printer", 1000.0).to_json(), **overrides}
    return json.dumps({"version": 1, "events": [event], "processes": []})


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00 not utf-8 at all",
        _valid_file(restarts_in_window=1e999).encode(),  # json reads 1e999 as inf
        _valid_file(monotonic=float("nan")).encode(),  # Python's json writes and reads NaN
        _valid_file(delay=True).encode(),
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in the parser
        b'{"events": [], "processes": [{"pid": 1, "started_at": 1e400}]}',
        b'{"events": [], "processes": [{"pid": true, "started_at": 1.0}]}',
        b"",
        b"\x00" * 64,
    ],
    ids=[
        "invalid-utf8",
        "overflow",
        "nan",
        "bool-number",
        "deep-nesting",
        "infinite-time",
        "bool-pid",
        "empty",
        "zeros",
    ],
)
async def test_any_damage_is_an_empty_history_and_one_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged file used to stop every start (UnicodeDecodeError, OverflowError): the
    service exited and systemd restarted it into the same crash."""
    path = tmp_path / "history.json"
    path.write_bytes(content)
    store = HistoryStore(path)
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        previous = await store.load()
        await store.load()
    assert (previous.events, previous.processes) == ((), ())
    warnings = [r for r in caplog.records if r.name == "wixprint.supervisor"]
    assert [r.message for r in warnings] == ["history_corrupt"]
    store.record(_event("printer", 5.0))
    await store.flush()
    assert [e.child for e in (await HistoryStore(path).load()).events] == ["printer"]


async def test_an_unreadable_path_is_an_empty_history_and_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.json"
    path.mkdir()  # a directory where the file should be
    store = HistoryStore(path)
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        previous = await store.load()
        store.record(_event("printer", 5.0))
        await store.flush()  # cannot replace a directory: logged, kept for the next try
    assert previous.events == ()
    assert [r.message for r in caplog.records] == ["history_unreadable", "history_write_failed"]


async def test_concurrent_loads_and_flushes_never_duplicate_events(
    tmp_path: Path, thread_clock: trio.abc.Clock
) -> None:
    """``load()`` used to run outside the lock: two at once both prepended the file."""
    path = tmp_path / "history.json"
    first = HistoryStore(path)
    first.record(_event("printer", 1.0))
    first.record(_event("fetcher", 2.0))
    await first.flush()

    store = HistoryStore(path)
    store.record(_event("alerter", 3.0))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.load)
            nursery.start_soon(store.flush)
            nursery.start_soon(store.load)
            nursery.start_soon(store.flush)
    expected = ["printer", "fetcher", "alerter"]
    assert [e.child for e in store.snapshot().events] == expected
    assert [e.child for e in (await HistoryStore(path).load()).events] == expected


async def test_the_directory_is_fsynced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename is durable only once the directory entry is on disk (a power cut right
    after ``os.replace`` could otherwise bring the old file back, or none)."""
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store = HistoryStore(tmp_path / "state" / "history.json")
    store.record(_event("printer", 1.0))
    await store.flush()
    assert calls == ["fsync file", "rename", "fsync dir"]


async def test_the_start_record_is_on_disk_before_the_flusher_reports_started(
    tmp_path: Path, thread_clock: trio.abc.Clock
) -> None:
    """It used to wait for the first flush delay: a process killed within a second of its
    start (a crash loop, a kill during start-up) left no trace at all."""
    path = tmp_path / "history.json"
    store = HistoryStore(path, flush_delay=60.0)
    store.record_process_start()
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(store.run)
            on_disk = json.loads(path.read_text(encoding="utf-8"))
            nursery.cancel_scope.cancel()
    assert [p["pid"] for p in on_disk["processes"]] == [os.getpid()]
    assert on_disk["processes"][0]["exit_code"] is None


# -- what a warning says, the bounds, the format, writes that fail -------------------------


def _process(**fields: object) -> bytes:
    record = {"pid": 1, "started_at": 1.0, **fields}
    return json.dumps({"events": [], "processes": [record]}).encode()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"[1, 2]", "TypeError: not a JSON object"),
        (b'{"events": {"a": 1}}', "TypeError: events and processes must be lists"),
        (b'{"events": [], "processes": {"a": 1}}', "TypeError: events and processes must be lists"),
        (b'{"events": [1]}', "TypeError: entries must be JSON objects"),
        (_valid_file(action="explode").encode(), "ValueError: unknown action 'explode'"),
        (_valid_file(error_type=5).encode(), "TypeError: error_type must be a string or null"),
        (_valid_file(child=5).encode(), "TypeError: child must be a string"),
        (_valid_file(monotonic="12:00").encode(), "TypeError: monotonic must be a number"),
        (
            _valid_file(delay=123.5).replace("123.5", "1e400").encode(),
            "ValueError: delay must be finite",
        ),
        (_process(pid="one"), "TypeError: pid must be an integer"),
        (_process(exit_code="0"), "TypeError: exit_code must be an integer or null"),
        (_process(reason=7), "TypeError: reason must be a string"),
        (_process(started_at="noon"), "TypeError: started_at must be a number"),
        (
            b'{"events": [], "processes": [{"pid": 1, "started_at": 1, "exited_at": 1e400}]}',
            "ValueError: exited_at must be finite",
        ),
        (
            b'{"events": [], "processes": [{"pid": 1, "started_at": NaN}]}',
            ("ValueError: NaN is not a number JSON allows"),
        ),
    ],
)
async def test_the_warning_names_the_file_and_what_is_wrong_with_it(
    tmp_path: Path, content: bytes, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        previous = await HistoryStore(path).load()
    assert previous == HistorySnapshot()
    (warning,) = caplog.records
    assert warning.message == "history_corrupt"
    assert (vars(warning)["path"], vars(warning)["error"]) == (str(path), error)


async def test_the_warning_about_a_damaged_file_is_cut_to_300_characters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The error may quote a value from the file: a huge one must not flood the journal."""
    path = tmp_path / "history.json"
    path.write_text(_valid_file(classification="x" * 1000), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        await HistoryStore(path).load()
    (warning,) = caplog.records
    assert vars(warning)["error"].startswith("ValueError: unknown classification 'xxx")
    assert len(vars(warning)["error"]) == 300


async def test_the_warnings_about_an_unusable_path_name_it_and_the_os_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.json"
    path.mkdir()
    store = HistoryStore(path)
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        await store.load()
        store.record(_event("printer", 5.0))
        await store.flush()
    unreadable, write_failed = caplog.records
    assert vars(unreadable)["path"] == str(path)
    assert vars(unreadable)["error"] == f"[Errno 21] Is a directory: '{path}'"
    assert vars(write_failed)["error"].startswith("[Errno 21] Is a directory")


async def test_a_failed_write_is_retried_by_the_next_flush(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.mkdir()  # the disk refuses the write for now
    store = HistoryStore(path)
    store.record(_event("printer", 5.0))
    await store.flush()
    path.rmdir()  # the disk is back
    await store.flush()
    assert [e.child for e in (await HistoryStore(path).load()).events] == ["printer"]


async def test_a_number_json_cannot_hold_never_destroys_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    store.record(_event("printer", 1.0))
    await store.flush()
    store.record(_event("fetcher", float("inf")))
    with caplog.at_level(logging.WARNING, logger="wixprint.supervisor"):
        await store.flush()
    assert [r.message for r in caplog.records] == ["history_write_failed"]
    assert [e.child for e in (await HistoryStore(path).load()).events] == ["printer"]


async def test_a_flush_without_changes_writes_nothing(tmp_path: Path) -> None:
    """An idle service must not wear the SD card with rewrites of the same history."""
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    store.record(_event("printer", 1.0))
    await store.flush()
    path.unlink()
    await store.flush()
    assert not path.exists()


async def test_the_file_states_its_format_version(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    store.record_process_start()
    await store.flush()
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert on_disk["version"] == 1
    (process,) = on_disk["processes"]
    assert (process["exited_at"], process["exit_code"], process["reason"]) == (None, None, "")


async def test_the_state_directory_is_created_with_its_parents(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "wixprint" / "history.json"
    store = HistoryStore(path)
    store.record(_event("printer", 1.0))
    await store.flush()
    assert [e.child for e in (await HistoryStore(path).load()).events] == ["printer"]


async def test_a_temporary_file_left_by_a_power_cut_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    (tmp_path / "history.json.tmp").write_text('{"half": ', encoding="utf-8")
    store = HistoryStore(path)
    store.record(_event("printer", 1.0))
    await store.flush()
    assert sorted(os.listdir(tmp_path)) == ["history.json"]


async def test_a_record_without_an_exit_reads_back_as_a_process_that_did_not_say(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(_process())
    (process,) = (await HistoryStore(path).load()).processes
    assert process == ProcessRecord(pid=1, started_at=1.0)
    assert (process.exited_at, process.exit_code, process.reason) == (None, None, "")


async def test_a_second_exit_record_of_one_process_replaces_the_first(tmp_path: Path) -> None:
    """The stop deadline records an exit; if the tree ends after all, the exit is recorded
    again: still one process, the last word kept."""
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    store.record_process_start()
    store.record_process_exit(70, "stop did not finish: a task would not end")
    store.record_process_exit(0, "stopped")
    await store.flush()
    processes = (await HistoryStore(path).load()).processes
    assert [(p.exit_code, p.reason) for p in processes] == [(0, "stopped")]


async def test_the_default_bounds_are_200_events_and_50_processes(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    for i in range(201):
        store.record(_event(f"c{i}", float(i)))
    for _ in range(51):
        store.record_process_start()
    await store.flush()
    again = await HistoryStore(path).load()
    assert (len(again.events), again.events[0].child) == (200, "c1")
    assert len(again.processes) == 50


@pytest.mark.parametrize(
    ("max_events", "max_processes", "refused"),
    [(0, 5, True), (5, 0, True), (0, 0, True), (1, 1, False)],
)
async def test_each_bound_must_keep_at_least_one_entry(
    tmp_path: Path, max_events: int, max_processes: int, refused: bool
) -> None:
    path = tmp_path / "history.json"
    if refused:
        with pytest.raises(ValueError, match=r"^max_events and max_processes must be >= 1$"):
            HistoryStore(path, max_events=max_events, max_processes=max_processes)
        return
    store = HistoryStore(path, max_events=max_events, max_processes=max_processes)
    store.record(_event("a", 1.0))
    store.record(_event("b", 2.0))
    store.record_process_start()
    store.record_process_start()
    await store.flush()
    again = await HistoryStore(path).load()
    assert ([e.child for e in again.events], len(again.processes)) == (["b"], 1)


async def test_before_loading_the_previous_history_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(_valid_file(), encoding="utf-8")
    store = HistoryStore(path)
    assert store.previous() == HistorySnapshot()
    assert (await store.load()).events == (_event("printer", 1000.0),)


def test_snapshots_handed_out_cannot_be_altered() -> None:
    snapshot = HistorySnapshot(processes=(ProcessRecord(pid=1, started_at=1.0),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.events = (_event("x", 1.0),)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.processes[0].reason = "rewritten"  # type: ignore[misc]


async def test_the_default_flush_delay_is_one_second(
    tmp_path: Path, thread_clock: trio.abc.Clock
) -> None:
    path = tmp_path / "history.json"
    store = HistoryStore(path)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(store.run)
            store.record(_event("printer", 1.0))
            started = trio.current_time()
            await trio.sleep(0.9)
            assert not path.exists()
            for _ in range(10):  # written at 1.0; the write itself may take a moment
                if path.exists():
                    break
                await trio.sleep(0.05)
            assert path.exists()
            assert trio.current_time() - started < 1.5
            nursery.cancel_scope.cancel()


async def test_the_last_flush_gives_up_after_5_s_on_a_stuck_disk(
    tmp_path: Path, autojump_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that hangs (a dying SD card) must not hold the stop of the service for ever."""
    release = threading.Event()
    real_write = _history._write

    def stuck_write(path: Path, payload: dict[str, object]) -> None:
        release.wait(30)
        real_write(path, payload)

    store = HistoryStore(tmp_path / "history.json")
    await store.load()  # read before any deadline: the clock jumps while a thread works
    async with trio.open_nursery() as nursery:
        with trio.fail_after(60):
            async with trio.open_nursery() as service:
                await service.start(store.run)
                monkeypatch.setattr(_history, "_write", stuck_write)
                store.record(_event("printer", 1.0))
                nursery.start_soon(store.flush)  # stuck in the disk, holding the file
                await trio.sleep(0.5)
                stopped_at = trio.current_time()
                service.cancel_scope.cancel()  # the service stops
            stop_took = trio.current_time() - stopped_at
        release.set()
    assert stop_took == 5.0


@pytest.mark.parametrize(
    ("classification", "action"),
    [
        ("normal", "restart"),
        ("abnormal", "escalate"),
        ("dependency", "restart"),
        ("shutdown", "restart"),
        ("fatal", "escalate"),
        ("abnormal", "none"),
    ],
)
async def test_every_kind_of_event_survives_the_trip_through_the_file(
    tmp_path: Path, classification: Classification, action: Action
) -> None:
    path = tmp_path / "history.json"
    event = dataclasses.replace(
        _event("printer", 1.0), classification=classification, action=action, error_type=None
    )
    store = HistoryStore(path)
    store.record(event)
    await store.flush()
    assert (await HistoryStore(path).load()).events == (event,)


def test_an_event_cannot_be_altered_once_made() -> None:
    """One event is shared by the ring buffer, the history file and the callback."""
    event = _event("printer", 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.action = "none"  # type: ignore[misc]
    error = ErrorInfo(error_type="Boom", message="printer crashed", at=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.message = ""  # type: ignore[misc]
