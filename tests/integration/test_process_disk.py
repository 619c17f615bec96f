"""A full or read-only SD card under the real process (``wixprint run``).

The state folder is a small tmpfs that the test fills to the last byte, or remounts
read-only, while orders arrive. What the owner must see: the process stays up (systemd's
watchdog keeps getting its pings, nothing restarts), ``/health`` says *down* with the
reason, an alert mail arrives (straight from memory when the outbox cannot be written),
tickets already spooled go on printing, and once the disk takes writes again the orders that
waited in Wix are fetched and every order is printed exactly once, with no restart.

Real processes on the real clock, as in test_process_root; mounting needs root (the test
machines and CI run as root).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import trio

from tests.fakes.disk import fill_to_the_last_byte, small_tmpfs
from tests.fakes.fake_printer import FakePrinter
from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import API_KEY, SITE_ID, config_text, wait_for
from tests.integration.test_process_root import (
    START_LIMIT,
    Child,
    Notifications,
    child_env,
    open_notify_socket,
    open_shop,
    spawn,
)
from wixprint.sim.shop import FakeWixShop

LIMIT = 90.0
"""Seconds for one step to show (a printer backs off up to 30 s between tries)."""
_NUMBER = re.compile(r"#(\d{3,})")


def printed(printer: FakePrinter) -> list[str]:
    numbers = []
    for ticket in printer.tickets:
        found = _NUMBER.search(ticket.text)
        numbers.append(found.group(1) if found else "?")
    return numbers


def new_orders(shop: FakeWixShop, n: int) -> list[str]:
    return [str(shop.new_demo_order(datetime.now(UTC))["number"]) for _ in range(n)]


async def until(predicate: Callable[[], bool], limit: float = LIMIT) -> None:
    await wait_for(predicate, limit)


async def health_until(
    client: httpx.AsyncClient, predicate: Callable[[int, Any], bool], limit: float = LIMIT
) -> tuple[int, Any]:
    with trio.fail_after(limit):
        while True:
            response = await client.get("/health")
            if predicate(response.status_code, response.json()):
                return response.status_code, response.json()
            await trio.sleep(0.2)


def pings(notes: Notifications) -> int:
    return notes.lines().count("WATCHDOG=1")


@dataclass
class World:
    """What the service talks to, outliving any one process: Wix, the printer, the mail."""

    shop: FakeWixShop
    shop_url: str
    printer: FakePrinter
    printer_port: int
    smtp: FakeSmtpServer


@asynccontextmanager
async def open_world() -> AsyncIterator[World]:
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID)
    printer = FakePrinter(print_delay=0.05)
    with FakeSmtpServer() as smtp:
        async with open_shop(shop) as url, trio.open_nursery() as nursery:
            port = await nursery.start(printer.serve)
            yield World(shop, url, printer, port, smtp)
            nursery.cancel_scope.cancel()


@asynccontextmanager
async def running_service(
    tmp_path: Path, world: World
) -> AsyncIterator[tuple[Child, Notifications, httpx.AsyncClient]]:
    """``wixprint run`` until the block ends, then SIGTERM: it must stop with exit 0."""
    path = tmp_path / "config.toml"
    text = config_text(
        tmp_path, world.shop_url, {"kitchen": world.printer_port}, smtp_port=world.smtp.port
    )
    path.write_text(text)
    path.chmod(0o600)
    async with open_notify_socket() as (address, notes):
        env = child_env(NOTIFY_SOCKET=address, WATCHDOG_USEC="2000000")
        async with spawn(["run", "--config", str(path)], env) as child:
            await notes.wait_for("READY=1", START_LIMIT)
            web = await child.wait_event("web_listening", START_LIMIT)
            async with httpx.AsyncClient(base_url=web["url"]) as client:
                yield child, notes, client
            child.process.send_signal(signal.SIGTERM)
            assert await child.wait_exit(START_LIMIT) == 0


def storage_mails(smtp: FakeSmtpServer) -> list[str]:
    return [m.subject for m in smtp.messages if "Speicherkarte" in m.subject]


def accepted(child: Child) -> list[str]:
    return [e["order"] for e in child.events() if e["event"] == "order_accepted"]


async def test_a_full_disk_keeps_the_process_up_and_intake_resumes_when_space_is_freed(
    tmp_path: Path,
) -> None:
    with small_tmpfs(tmp_path / "state") as state:
        async with (
            open_world() as world,
            running_service(tmp_path, world) as (child, notes, client),
        ):
            shop, printer, smtp = world.shop, world.printer, world.smtp
            first = new_orders(shop, 2)
            await until(lambda: printed(printer) == first)
            assert (state / "disk-reserve").exists()

            # Paper runs out: two more orders are spooled and wait for paper.
            printer.paper_out = True
            held = new_orders(shop, 2)
            await until(lambda: set(accepted(child)) >= set(held))
            filler = fill_to_the_last_byte(state)
            late = new_orders(shop, 2)  # placed while the disk is full

            status, health = await health_until(client, lambda s, b: b["status"] == "down")
            assert status == 503
            assert "the disk is full" in health["checks"]["spool"]["reason"]
            assert "new orders wait in Wix" in health["checks"]["spool"]["reason"]
            await until(lambda: len(storage_mails(smtp)) == 1)
            assert "KRITISCH" in storage_mails(smtp)[0]
            assert not (state / "disk-reserve").exists()  # given up for the bookkeeping

            # Paper back: what was spooled prints although the disk is full.
            pings_before = pings(notes)
            printer.paper_out = False
            await until(lambda: printed(printer)[:4] == first + held)
            assert child.process.returncode is None
            assert pings(notes) > pings_before  # systemd's watchdog is content
            assert (await client.get("/health")).json()["status"] == "down"

            # Space freed: intake resumes by itself, no restart.
            filler.unlink()
            await health_until(client, lambda s, b: s == 200 and b["status"] == "ok")
            await until(lambda: sorted(printed(printer)) == sorted(first + held + late))
            await until(lambda: len(storage_mails(smtp)) == 2)  # resolved
            await trio.sleep(5)  # two more polls: nothing prints again
            assert sorted(printed(printer)) == sorted(first + held + late)
            assert not any("REPRINT" in t.text for t in printer.tickets)
            assert notes.lines().count("READY=1") == 1
            assert (state / "disk-reserve").exists()
            assert len(storage_mails(smtp)) == 2  # raised once, resolved once


async def test_a_card_gone_read_only_mails_directly_and_loses_nothing_spooled(
    tmp_path: Path,
) -> None:
    """The kernel remounts the card read-only after write errors (ext4 ``errors=remount-ro``,
    triggered through ext4's own ``trigger_fs_error``): nothing can be written any more,
    not even the outbox. The process stays up and says why, the alert is mailed straight
    from memory, and after the operator's reboot and fsck nothing spooled is lost."""
    with ext4_card(tmp_path / "card.img", tmp_path / "state") as card:
        async with open_world() as world:
            shop, printer, smtp = world.shop, world.printer, world.smtp
            async with running_service(tmp_path, world) as (child, notes, client):
                first = new_orders(shop, 2)
                await until(lambda: printed(printer) == first)
                printer.paper_out = True
                held = new_orders(shop, 2)
                await until(lambda: set(accepted(child)) >= set(held))

                card.fail()
                late = new_orders(shop, 2)  # placed while the card is read-only
                status, health = await health_until(client, lambda s, b: b["status"] == "down")
                assert status == 503
                reason = health["checks"]["spool"]["reason"]
                assert "read-only or failing SD card" in reason
                assert "SQLITE_IOERR" in reason
                # The outbox cannot take the alert: it is mailed straight from memory.
                await until(lambda: len(storage_mails(smtp)) == 1)
                logged = [e for e in child.events() if e["event"] == "alert_kept_in_memory"]
                assert "storage" in [e["key"] for e in logged]
                pings_before = pings(notes)
                await trio.sleep(3)
                assert child.process.returncode is None
                assert pings(notes) > pings_before
                assert set(accepted(child)).isdisjoint(late)

            # The operator reboots: fsck, mount; the paper is back.
            card.repair()
            printer.paper_out = False
            async with running_service(tmp_path, world) as (child, notes, client):
                await until(lambda: sorted(printed(printer)) == sorted(first + held + late))
                await trio.sleep(5)
            assert sorted(printed(printer)) == sorted(first + held + late)
            assert not any("REPRINT" in t.text for t in printer.tickets)


@dataclass
class Ext4Card:
    """An ext4 file system on a loop device, mounted as the state folder."""

    image: Path
    mountpoint: Path
    device: str = ""

    def mount(self) -> None:
        subprocess.run(
            ["mount", "-o", "errors=remount-ro", self.device, str(self.mountpoint)], check=True
        )

    def fail(self) -> None:
        """What the kernel does after a write error: the file system turns read-only."""
        name = os.path.basename(self.device)
        Path(f"/sys/fs/ext4/{name}/trigger_fs_error").write_text("test: card failing\n")
        assert " ro," in mount_options(self.mountpoint) or "emergency_ro" in mount_options(
            self.mountpoint
        )

    def repair(self) -> None:
        subprocess.run(["umount", str(self.mountpoint)], check=True)
        subprocess.run(["e2fsck", "-fy", self.device], capture_output=True, check=False)
        self.mount()


def mount_options(mountpoint: Path) -> str:
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if fields[1] == str(mountpoint):
            return f" {fields[3]},"
    return ""


@contextmanager
def ext4_card(image: Path, mountpoint: Path, size: str = "32M") -> Iterator[Ext4Card]:
    mountpoint.mkdir()
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    device = subprocess.run(
        ["losetup", "-f", "--show", str(image)], capture_output=True, text=True, check=True
    ).stdout.strip()
    card = Ext4Card(image, mountpoint, device)
    try:
        card.mount()
        yield card
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        subprocess.run(["losetup", "-d", device], check=False)
