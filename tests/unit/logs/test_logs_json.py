"""Logs: one JSON object per line, context keys, journald priorities, no secrets, no PII."""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import trio

from wixprint.logs import (
    ESCPOS_PICKLE_ENV,
    bind_context,
    configure_logging,
    escpos_env,
    get_logger,
    register_secrets,
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Our handler on a buffer; the root logger is restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging(level="DEBUG", stream=buffer, journal=False)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def lines(buffer: io.StringIO) -> list[str]:
    return buffer.getvalue().splitlines()


def records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines(buffer)]


def test_one_json_object_per_line_with_actor_and_context(stream: io.StringIO) -> None:
    log = get_logger("printer", printer="kitchen")
    log.info("job_claimed", job=17)
    log.warning("printer_offline\nsecond line")
    first, second = records(stream)
    assert first["event"] == "job_claimed"
    assert first["level"] == "info"
    assert first["actor"] == "printer"
    assert first["printer"] == "kitchen"
    assert first["job"] == 17
    assert first["ts"].endswith("Z")
    assert second["level"] == "warning"
    assert second["event"] == "printer_offline\nsecond line"
    assert len(lines(stream)) == 2


def test_bound_context_adds_order_and_job(stream: io.StringIO) -> None:
    bind_context(order="10042", job=3)
    get_logger("fetcher").info("order_spooled")
    (record,) = records(stream)
    assert (record["order"], record["job"], record["actor"]) == ("10042", 3, "fetcher")


async def test_context_stays_in_its_task(stream: io.StringIO) -> None:
    log = get_logger("printer")

    async def with_order() -> None:
        bind_context(order="1")
        log.info("inside")

    async def without() -> None:
        await trio.lowlevel.checkpoint()
        log.info("sibling")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(with_order)
        nursery.start_soon(without)
    log.info("parent")
    by_event = {r["event"]: r for r in records(stream)}
    assert by_event["inside"]["order"] == "1"
    assert "order" not in by_event["sibling"]
    assert "order" not in by_event["parent"]


def test_level_filters_lines() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    try:
        configure_logging(level="warning", stream=buffer, journal=False)
        log = get_logger("web")
        log.info("hidden")
        log.warning("shown")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert [r["event"] for r in records(buffer)] == ["shown"]


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging(level="LOUD", stream=io.StringIO())


def test_journal_prefix_only_when_journal_stream_is_set(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO
) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    journal = io.StringIO()
    configure_logging(level="DEBUG", stream=journal)
    log = get_logger("monitor")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.critical("c")
    prefixes = [line[:3] for line in lines(journal)]
    assert prefixes == ["<7>", "<6>", "<4>", "<3>", "<2>"]
    assert json.loads(lines(journal)[1][3:])["event"] == "i"

    monkeypatch.delenv("JOURNAL_STREAM")
    plain = io.StringIO()
    configure_logging(level="DEBUG", stream=plain)
    log.info("i")
    assert lines(plain)[0].startswith("{")


def test_reconfiguring_replaces_the_handler(stream: io.StringIO) -> None:
    second = io.StringIO()
    configure_logging(level="DEBUG", stream=second, journal=False)
    get_logger("spool").info("once")
    assert stream.getvalue() == ""
    assert len(lines(second)) == 1


def test_basic_config_handler_is_replaced(stream: io.StringIO) -> None:
    # What escpos's import-time logging.basicConfig() leaves behind.
    stray = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(stray))
    configure_logging(level="DEBUG", stream=stream, journal=False)
    get_logger("printer").info("x")
    assert stray.getvalue() == ""


def test_customer_data_and_secret_keys_never_appear(stream: io.StringIO) -> None:
    get_logger("fetcher").info(
        "order_received",
        order="10042",
        phone="+49 30 1234567",
        address={"street": "Hauptstr. 5", "city": "Berlin"},
        customer_email="anna@example.org",
        first_name="Anna",
        last_name="Schmidt",
        api_key="wix-key-abc",
        headers={"Authorization": "Bearer xyz-token-value"},
    )
    text = stream.getvalue()
    for value in (
        "1234567",
        "Hauptstr",
        "Berlin",
        "anna@",
        "Anna",
        "Schmidt",
        "wix-key-abc",
        "xyz",
    ):
        assert value not in text
    (record,) = records(stream)
    assert record["order"] == "10042"
    assert record["phone"] == "[redacted]"
    assert record["headers"] == "[redacted]"


def test_only_allow_listed_keys_keep_their_values(stream: io.StringIO) -> None:
    """The keys a deny-list of name parts let through (issue 17): now masked like any key
    not known to be safe, while the safe ones keep their values."""
    get_logger("intake").info(
        "order_parsed",
        order="10042",
        printer="kitchen",
        customer_name="Anna Schmidt",
        name="Anna",
        buyer_note="ring twice, Anna",
        note="Anna's note",
        instructions="3rd floor",
        fields=[{"name": "Anna", "note": "x", "field": "table"}],
    )
    (record,) = records(stream)
    assert "Anna" not in stream.getvalue()
    assert "floor" not in stream.getvalue()
    assert (record["order"], record["printer"]) == ("10042", "kitchen")
    for key in ("customer_name", "name", "buyer_note", "note", "instructions"):
        assert record[key] == "[redacted]", key
    assert record["fields"] == [{"name": "[redacted]", "note": "[redacted]", "field": "table"}]


def test_registered_secret_is_cut_from_messages(stream: io.StringIO) -> None:
    register_secrets(["s3cr3t-api-key-1"])
    get_logger("fetcher").error(
        "auth failed with key s3cr3t-api-key-1", detail=["s3cr3t-api-key-1"]
    )
    (record,) = records(stream)
    assert "s3cr3t-api-key-1" not in stream.getvalue()
    assert record["event"] == "auth failed with key [redacted]"


def test_secrets_passed_to_configure_are_registered() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    try:
        configure_logging(stream=buffer, secrets=["smtp-pw-7781"], journal=False)
        get_logger("alerter").warning("login smtp-pw-7781 refused")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "smtp-pw-7781" not in buffer.getvalue()


def _fail_with_secret() -> None:
    password = "local-pw-5522"  # a frame local that must never be logged
    raise RuntimeError(f"server said no to s3cr3t-token-2 ({len(password)})")


def test_traceback_is_inside_one_json_line_without_locals(stream: io.StringIO) -> None:
    register_secrets(["s3cr3t-token-2"])
    try:
        _fail_with_secret()
    except RuntimeError:
        get_logger("alerter").exception("send_failed")
    assert len(lines(stream)) == 1
    text = stream.getvalue()
    assert "s3cr3t-token-2" not in text
    assert "local-pw-5522" not in text
    (record,) = records(stream)
    (exc,) = record["exception"]
    assert all("locals" not in frame for frame in exc["frames"])
    assert exc["exc_type"] == "RuntimeError"
    assert exc["exc_value"].startswith("server said no to [redacted]")
    assert exc["frames"][-1]["name"] == "_fail_with_secret"


def test_stdlib_loggers_come_out_as_the_same_json(stream: io.StringIO) -> None:
    register_secrets(["s3cr3t-3"])
    logging.getLogger("hypercorn.error").warning(
        "Running on %s with %s", "http://127.0.0.1:8000", "s3cr3t-3", extra={"email": "a@b.c"}
    )
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("wixprint.supervisor").exception("child crashed")
    first, second = records(stream)
    assert first["logger"] == "hypercorn.error"
    assert first["level"] == "warning"
    assert first["event"] == "Running on http://127.0.0.1:8000 with [redacted]"
    assert first["email"] == "[redacted]"
    assert second["exception"][0]["exc_type"] == "ValueError"


def test_noisy_libraries_are_quieted(stream: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: GET https://www.wixapis.com")
    logging.getLogger("httpcore").debug("connect")
    logging.getLogger("hypercorn.access").info("GET /health 200")
    logging.getLogger("httpx").warning("retrying")
    assert [r["event"] for r in records(stream)] == ["retrying"]


def test_logger_made_before_configuration_still_writes_json(stream: io.StringIO) -> None:
    early = get_logger("intake")
    buffer = io.StringIO()
    configure_logging(level="DEBUG", stream=buffer, journal=False)
    early.info("late", phone="123")
    (record,) = records(buffer)
    assert (record["actor"], record["phone"]) == ("intake", "[redacted]")


def test_escpos_env_points_at_the_state_dir(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    escpos_env(tmp_path / "state", env)
    assert env[ESCPOS_PICKLE_ENV] == str(tmp_path / "state" / "cache")
    assert (tmp_path / "state" / "cache").is_dir()
    kept = {ESCPOS_PICKLE_ENV: "/elsewhere"}
    escpos_env(tmp_path / "other", kept)
    assert kept[ESCPOS_PICKLE_ENV] == "/elsewhere"
    assert not (tmp_path / "other").exists()


def test_a_pickle_cut_short_by_a_power_cut_is_dropped_so_escpos_imports_again(
    tmp_path: Path,
) -> None:
    """escpos writes its pickle without fsync; after a power cut (or a card turned read-only)
    it is empty, and importing escpos fails at every ticket until the file goes."""
    cache = tmp_path / "state" / "cache"
    cache.mkdir(parents=True)
    pickle_file = cache / f"{platform.python_version()}.capabilities.pickle"
    pickle_file.write_bytes(b"")
    code = "import escpos.printer"

    def import_escpos() -> subprocess.CompletedProcess[str]:
        env = {**os.environ, ESCPOS_PICKLE_ENV: str(cache)}
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
        )

    broken = import_escpos()
    assert broken.returncode != 0
    assert "EOFError" in broken.stderr

    escpos_env(tmp_path / "state", {})
    assert not pickle_file.exists()
    assert import_escpos().returncode == 0  # and escpos wrote a good one
    assert pickle_file.stat().st_size > 0
    escpos_env(tmp_path / "state", {})
    assert pickle_file.exists()  # a good pickle is kept
