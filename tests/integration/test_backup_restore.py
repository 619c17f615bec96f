"""``wixprint backup`` while the service takes orders, ``wixprint restore`` into a new state
directory, and a restore that refuses a damaged file.

The commands run as the operator runs them (``wixprint.cli.main``, in a worker thread with its
own event loop) against the whole service in-process on the virtual clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
import trio
import trio.testing

from tests.integration.harness import API_KEY, Rig, VirtualWall, config_text, open_rig, wait_for
from wixprint.cli import main
from wixprint.config import Config, load_config_text
from wixprint.receipts.routing import plan_targets
from wixprint.wix.parse import parse_order

SMTP_PASSWORD = "smtp-secret-password-42"
ADMIN_TOKEN = "test-admin"  # the harness's
SMTP_BLOCK = f'\n[smtp]\nusername = "pi"\npassword = "{SMTP_PASSWORD}"\n'


def write_config(rig: Rig, base: Path) -> tuple[Path, str]:
    """The harness config with its state under ``base``, as a file the commands read."""
    ports = {name: p.port for name, p in rig.printers.items()}
    text = config_text(base, rig.shop_url, ports, extra=SMTP_BLOCK)
    base.mkdir(parents=True, exist_ok=True)
    path = base / "config.toml"
    path.write_text(text)
    return path, text


async def wixprint(*args: str) -> int:
    """``wixprint ARGS`` in a worker thread (the commands run their own event loop)."""
    return await trio.to_thread.run_sync(main, list(args))


@asynccontextmanager
async def order_stream(rig: Rig, every: float = 1.0) -> AsyncIterator[None]:
    """New orders in the shop every ``every`` virtual seconds, until the block ends."""
    wall = VirtualWall()

    async def add_orders() -> None:
        while True:
            rig.shop.new_demo_order(datetime.fromtimestamp(wall(), UTC))
            await trio.sleep(every)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(add_orders)
        yield
        nursery.cancel_scope.cancel()


def make_backup(dest: Path) -> None:
    """A backup folder with an empty, current spool."""
    from wixprint.spool import open_spool

    async def create() -> None:
        async with open_spool(dest / "spool.sqlite3"):
            pass

    dest.mkdir(mode=0o700)
    trio.run(create)


def read_spool(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


Row = tuple[str, str, str, str]
"""(order number, receipt kind, printer, job state)"""


def check_consistent(spool: Path, config: Config) -> tuple[int, list[Row]]:
    """Integrity, and every order with exactly the jobs its routing asks for (an order and
    its jobs are one transaction). Returns the number of orders and every job."""
    tz = ZoneInfo(config.service.timezone)
    rows: list[Row] = []
    with contextlib.closing(read_spool(spool)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
        orders = conn.execute("SELECT order_id, number, raw_json FROM orders").fetchall()
        for order_id, number, raw in orders:
            order = parse_order(json.loads(raw), tz).order
            expected = sorted((t.kind, t.printer) for t in plan_targets(order, config))
            jobs = conn.execute(
                "SELECT kind, printer, state FROM jobs WHERE order_id = ? AND revision = 1",
                (order_id,),
            ).fetchall()
            assert sorted((kind, printer) for kind, printer, _ in jobs) == expected, number
            rows.extend((number, kind, printer, state) for kind, printer, state in jobs)
    return len(orders), rows


def ticket_numbers(rig: Rig, printer: str) -> list[str]:
    """The order number on each ticket (``#10231`` on kitchen and driver tickets,
    ``Bestellung 10231`` on customer receipts)."""
    found = [re.search(r"(?:#|Bestellung )(\d+)", t) for t in rig.tickets(printer)]
    return [m.group(1) for m in found if m]


async def test_online_backup_while_orders_stream_in_is_consistent_and_has_no_secrets(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        config_path, text = write_config(rig, tmp_path)
        await rig.start(text)
        assert rig.config is not None
        counts = []
        async with order_stream(rig):
            await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)
            for n in range(3):
                dest = tmp_path / f"backup-{n}"
                assert await wixprint("backup", str(dest), "--config", str(config_path)) == 0
                count, _ = await trio.to_thread.run_sync(
                    check_consistent, dest / "spool.sqlite3", rig.config
                )
                counts.append(count)
                await trio.sleep(2)
        # Taken while orders kept arriving: each backup saw more of them.
        assert counts[0] >= 3
        assert counts == sorted(set(counts))
        copy = (tmp_path / "backup-0" / "config.toml").read_text()
        for secret in (API_KEY, SMTP_PASSWORD, ADMIN_TOKEN):
            assert secret not in copy
        parsed = tomllib.loads(copy)
        assert "api_key" not in parsed["wix"]
        assert "password" not in parsed["smtp"]
        assert "admin_token" not in parsed["http"]
        assert parsed["smtp"]["username"] == "pi"  # only secrets are removed
        assert (tmp_path / "backup-0").stat().st_mode & 0o777 == 0o700  # customer data inside
        for name in ("spool.sqlite3", "config.toml"):
            assert (tmp_path / "backup-0" / name).stat().st_mode & 0o777 == 0o600


async def test_restore_into_a_fresh_state_dir_resumes_without_unmarked_reprints(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        config_path, text = write_config(rig, tmp_path)
        await rig.start(text)
        assert rig.config is not None
        rig.printers["counter"].unreachable = True  # its slips wait in the spool
        async with order_stream(rig):
            await wait_for(lambda: len(rig.tickets("kitchen")) >= 4)
        await wait_for(lambda: len(rig.tickets("kitchen")) == len(rig.shop.order_ids()))
        backup = tmp_path / "backup"
        assert await wixprint("backup", str(backup), "--config", str(config_path)) == 0
        await rig.stop()
        orders, jobs = await trio.to_thread.run_sync(
            check_consistent, backup / "spool.sqlite3", rig.config
        )
        assert orders == len(rig.shop.order_ids())
        states = {(printer, state) for _, _, printer, state in jobs}
        assert states == {("kitchen", "printed"), ("counter", "queued")}
        waiting = sorted(number for number, _, printer, _ in jobs if printer == "counter")
        kitchen_before = ticket_numbers(rig, "kitchen")
        assert rig.tickets("counter") == []

        # A new machine: an empty state directory, the backup restored into it.
        fresh_path, fresh_text = write_config(rig, tmp_path / "fresh")
        assert await wixprint("restore", str(backup), "--config", str(fresh_path)) == 0
        rig.printers["counter"].unreachable = False
        await rig.start(fresh_text)
        await wait_for(lambda: len(rig.tickets("counter")) >= len(waiting))
        await trio.sleep(20)  # several polls: the fetcher resumes from the restored mark
        # The kitchen printed each order once, before the restore and never again; the
        # counter's waiting slips came out once, with the REPRINT banner: the restored spool
        # cannot know whether the spool it replaced printed them after the backup.
        assert ticket_numbers(rig, "kitchen") == kitchen_before
        assert sorted(set(kitchen_before)) == sorted(kitchen_before)
        counter = ticket_numbers(rig, "counter")
        assert sorted(counter) == waiting
        assert all("REPRINT" in t for t in rig.tickets("counter"))
        fresh_db = tmp_path / "fresh" / "state" / "spool.sqlite3"
        await rig.stop()
        with contextlib.closing(read_spool(fresh_db)) as conn:
            final = dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"))
        assert final == {"printed": len(kitchen_before) + len(counter)}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not-a-spool"])
async def test_restore_refuses_a_damaged_backup_and_changes_nothing(
    tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    current = state / "spool.sqlite3"
    with contextlib.closing(sqlite3.connect(current)) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
        conn.execute("PRAGMA user_version = 2")
        conn.executemany("INSERT INTO jobs VALUES (?)", [(i,) for i in range(500)])
        conn.commit()
    before = current.read_bytes()
    backup = tmp_path / "backup"
    backup.mkdir()
    bad = backup / "spool.sqlite3"
    if damage == "garbage":
        bad.write_bytes(b"\x00garbage, not SQLite" * 200)
    elif damage == "truncated":
        bad.write_bytes(before[: len(before) // 2])
    else:
        with contextlib.closing(sqlite3.connect(bad)) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
            conn.commit()
    config = tmp_path / "config.toml"
    config.write_text(
        config_text(tmp_path, "http://127.0.0.1:9", {"kitchen": 9}).replace(
            'state_dir = "' + str(tmp_path / "state") + '"', f'state_dir = "{state}"'
        )
    )
    assert await wixprint("restore", str(backup), "--config", str(config)) == 1
    err = capsys.readouterr().err
    assert "cannot be restored" in err
    assert "nothing changed" in err
    assert current.read_bytes() == before
    assert sorted(p.name for p in state.iterdir()) == ["spool.sqlite3"]


async def test_restore_keeps_the_spool_it_replaces(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        config_path, text = write_config(rig, tmp_path)
        rig.shop.new_demo_order(datetime.fromtimestamp(VirtualWall()(), UTC))
        await rig.start(text)
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        backup = tmp_path / "backup"
        assert await wixprint("backup", str(backup), "--config", str(config_path)) == 0
        rig.shop.new_demo_order(datetime.fromtimestamp(VirtualWall()(), UTC))
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)
        await rig.stop()
    state = tmp_path / "state"
    assert await wixprint("restore", str(backup), "--config", str(config_path)) == 0
    with contextlib.closing(read_spool(state / "spool.sqlite3")) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (1,)
    with contextlib.closing(read_spool(state / "spool.sqlite3.before-restore")) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (2,)


def test_the_config_copy_loads_once_secrets_come_from_the_environment(tmp_path: Path) -> None:
    from wixprint.config.sanitise import sanitised_config

    text = config_text(tmp_path, "http://127.0.0.1:9", {"kitchen": 9}, extra=SMTP_BLOCK)
    stripped = sanitised_config(text)
    assert stripped is not None
    env = {"WIXPRINT_WIX_API_KEY": "from-the-environment"}
    config = load_config_text(stripped, env)
    assert config.wix.api_key == "from-the-environment"
    assert config.smtp.password == ""
    assert config.http.admin_token == ""
    # Everything else survives the rewrite exactly.
    original = load_config_text(text, env)
    assert msgspec.structs.replace(
        original, smtp=msgspec.structs.replace(original.smtp, password="")
    ) == msgspec.structs.replace(config, http=original.http)
    assert original.http.admin_token == ADMIN_TOKEN


SNEAKY = """
wix.api_key = "dotted-secret"
[smtp]
"password" = \"\"\"multi
line-secret\"\"\"
host = "127.0.0.1"
[http]
admin_token = 'literal-secret'
[layout]
copies = { kitchen = 2 }
[[printers]]
name = "kitchen"
host = "127.0.0.1"
"""


def test_no_spelling_of_a_secret_survives_the_backup(tmp_path: Path) -> None:
    from wixprint.config.sanitise import sanitised_config

    clean = sanitised_config(SNEAKY)
    assert clean is not None
    for secret in ("dotted-secret", "multi", "line-secret", "literal-secret"):
        assert secret not in clean
    parsed = tomllib.loads(clean)
    assert parsed["layout"]["copies"] == {"kitchen": 2}
    assert parsed["printers"][0]["name"] == "kitchen"
    assert sanitised_config("[wix\napi_key = 'broken-secret'") is None


async def test_backup_makes_an_existing_folder_private(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        config_path, text = write_config(rig, tmp_path)
        await rig.start(text)
        dest = tmp_path / "existing"
        dest.mkdir(mode=0o755)
        dest.chmod(0o755)
        assert await wixprint("backup", str(dest), "--config", str(config_path)) == 0
        assert dest.stat().st_mode & 0o777 == 0o700
        assert (dest / "spool.sqlite3").stat().st_mode & 0o777 == 0o600
        assert (dest / "config.toml").stat().st_mode & 0o777 == 0o600


async def test_restore_refuses_while_the_service_holds_the_spool(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        config_path, text = write_config(rig, tmp_path)
        await rig.start(text)
        backup = tmp_path / "backup"
        assert await wixprint("backup", str(backup), "--config", str(config_path)) == 0
        live = tmp_path / "state" / "spool.sqlite3"
        before = live.stat().st_ino
        assert await wixprint("restore", str(backup), "--config", str(config_path)) == 1
        assert live.stat().st_ino == before
        assert not live.with_name("spool.sqlite3.before-restore").exists()
        await rig.stop()
        assert await wixprint("restore", str(backup), "--config", str(config_path)) == 0
        assert live.stat().st_ino != before
        assert live.stat().st_mode & 0o777 == 0o600


def test_restore_gives_the_file_the_state_folders_owner(tmp_path: Path) -> None:
    """Run as root (as the README says), the restored spool must stay the service's."""
    state = tmp_path / "state"
    state.mkdir()
    make_backup(tmp_path / "backup")
    os.chown(state, 4321, 4321)
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nstate_dir = "{state}"\n')
    assert main(["restore", str(tmp_path / "backup"), "--config", str(config)]) == 0
    info = (state / "spool.sqlite3").stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (4321, 4321, 0o600)
