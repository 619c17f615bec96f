"""The virtual (folder) and device (character device) transports, and the factory."""

from __future__ import annotations

import os
import select
import tty
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.fake_printer import sample_ticket
from wixprint.config import PrinterConfig
from wixprint.errors import ConfigError, PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.printing.device import DeviceTransport
from wixprint.printing.factory import make_transport
from wixprint.printing.network import NetworkTransport
from wixprint.printing.protocol import clean_start, job_tag
from wixprint.printing.virtual import VirtualTransport
from wixprint.vocabulary import PrinterStatus


def _names(folder: Path, pattern: str = "*") -> list[str]:
    return sorted(p.name for p in folder.glob(pattern))


async def test_virtual_writes_bin_and_readable_preview(
    thread_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    shown: list[str] = []
    folder = tmp_path / "virtual" / "kitchen"
    transport = VirtualTransport("kitchen", folder, echo=shown.append)
    first, second = sample_ticket("Größe 5,00 €"), sample_ticket("zweites")
    statuses: list[PrinterStatus] = []
    with trio.fail_after(10):
        await transport.print_job(first, tag=job_tag(1), on_status=statuses.append)
        await transport.print_job(second, tag=b"a/b:", on_status=statuses.append)
    names = _names(folder)
    tag1 = job_tag(1).decode()
    assert names == [
        f"000001-{tag1}.bin",
        f"000001-{tag1}.txt",
        "000002-612f623a.bin",  # a tag that is not filename-safe is written in hex
        "000002-612f623a.txt",
    ]
    assert (folder / f"000001-{tag1}.bin").read_bytes() == first
    preview = (folder / f"000001-{tag1}.txt").read_text(encoding="utf-8")
    assert "Größe 5,00 €" in preview
    assert "[QR: order]" in preview
    assert " cut " in preview
    assert shown == [preview, (folder / "000002-612f623a.txt").read_text(encoding="utf-8")]
    assert statuses == [PrinterStatus(online=True, paper="ok")] * 2
    assert transport.statistics().printed == 2


async def test_virtual_numbering_continues_after_restart(
    thread_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    with trio.fail_after(10):
        await VirtualTransport("k", tmp_path).print_job(b"x", tag=b"AAAA", on_status=lambda s: None)
        await VirtualTransport("k", tmp_path).print_job(b"y", tag=b"AAAA", on_status=lambda s: None)
    assert _names(tmp_path, "*.bin") == ["000001-AAAA.bin", "000002-AAAA.bin"]


async def test_virtual_fault_states(thread_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    transport = VirtualTransport("k", tmp_path)
    out = PrinterStatus(online=False, paper="out")
    transport.set_status(out)
    assert await transport.probe() == out
    with pytest.raises(PrinterNotReady) as caught:
        await transport.print_job(b"x", tag=b"AAAA", on_status=lambda s: None)
    assert caught.value.status == out
    assert _names(tmp_path) == []
    transport.set_status(PrinterStatus(online=True, paper="near_end"))
    with trio.fail_after(10):
        await transport.print_job(b"x", tag=b"AAAA", on_status=lambda s: None)
    assert len(_names(tmp_path, "*.bin")) == 1


async def test_device_writes_each_job(thread_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    transport = DeviceTransport("bar", device)
    big = sample_ticket("one") + b"z" * 10_000  # several chunks
    with trio.fail_after(10):
        assert await transport.probe() == PrinterStatus(online=True, paper="unknown")
        await transport.print_job(big, tag=b"AAAA", on_status=lambda s: None)
        await transport.print_job(b"two", tag=b"AAAB", on_status=lambda s: None)
    clean = clean_start(clear=False)  # every job starts by completing any open payload
    assert device.read_bytes() == clean + big + clean + b"two"
    assert transport.statistics().written == 2


async def test_a_character_device_job_waits_for_the_device_to_take_its_end(
    thread_clock: trio.testing.MockClock,
) -> None:
    """usblp counts a non-blocking write as done while its transfer is in flight and kills it
    on close; a job on a character device therefore ends with one NUL written blocking, which
    usblp lets through only once the transfers before it completed. No user-space device
    kills transfers on close, so a pseudo-terminal (a character device) shows the ending."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        transport = DeviceTransport("bar", os.ttyname(slave))
        with trio.fail_after(10):
            assert await transport.print_job(b"ticket", tag=b"AAAA", on_status=_none) == "sent"
        expected = clean_start(clear=False) + b"ticket" + b"\0"
        assert _read_pty(master, len(expected)) == expected
    finally:
        os.close(master)
        os.close(slave)


def _read_pty(master: int, size: int) -> bytes:
    """What the pseudo-terminal passed on, up to ``size`` bytes: the kernel hands written bytes
    to the other side a moment later (a busy machine showed the ticket without its last byte
    in one read), so read until they are all there or nothing more comes for 5 s."""
    received = b""
    while len(received) < size and select.select([master], [], [], 5)[0]:
        received += os.read(master, size - len(received))
    return received


async def test_a_stuck_device_ends_at_the_deadline_and_never_blocks_probes(
    thread_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """A printer that stopped taking data (a FIFO nobody reads): the job ends at its
    deadline as an unknown outcome; probes answer meanwhile; nothing hangs a thread."""
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the printer, never reading
    try:
        transport = DeviceTransport("bar", fifo, send_timeout=30.0)
        probed: list[float] = []

        async def probes() -> None:
            for _ in range(3):
                await trio.sleep(5)
                assert await transport.probe() == PrinterStatus(online=True, paper="unknown")
                probed.append(trio.current_time())

        start = trio.current_time()
        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(probes)
                with pytest.raises(PrintOutcomeUnknown):
                    await transport.print_job(b"x" * 1_000_000, tag=b"AAAA", on_status=_none)
        assert trio.current_time() - start == pytest.approx(30.0, abs=1.0)
        assert len(probed) == 3
        assert probed[0] - start < 10  # not held up by the job
        assert transport.statistics().unknown_outcomes == 1
    finally:
        os.close(reader)


async def test_a_stuck_device_write_is_cancelled_at_once(
    thread_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        transport = DeviceTransport("bar", fifo, send_timeout=3600.0)
        start = trio.current_time()
        with trio.move_on_after(2) as scope:
            await transport.print_job(b"x" * 1_000_000, tag=b"AAAA", on_status=_none)
        assert scope.cancelled_caught
        assert trio.current_time() - start == pytest.approx(
            2.0, abs=0.5
        )  # a shutdown waits no more
    finally:
        os.close(reader)


def _none(status: PrinterStatus) -> None:
    return None


async def test_missing_device_is_offline(
    thread_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    missing = tmp_path / "usb" / "lp0"
    transport = DeviceTransport("bar", missing)
    with trio.fail_after(10):
        with pytest.raises(PrinterOffline):
            await transport.probe()
        with pytest.raises(PrinterOffline):
            await transport.print_job(b"x", tag=b"AAAA", on_status=lambda s: None)
    assert not missing.exists()  # never created as a regular file
    assert transport.statistics().offline == 1


def test_factory(tmp_path: Path) -> None:
    net = make_transport(
        PrinterConfig(name="kitchen", host="192.0.2.1", proof="status", reply_timeout=7.0),
        state_dir=tmp_path,
    )
    assert isinstance(net, NetworkTransport)
    assert (net.host, net.port, net.proof, net.reply_timeout) == ("192.0.2.1", 9100, "status", 7.0)
    dev = make_transport(
        PrinterConfig(name="bar", transport="device", device="/dev/usb/lp0"), state_dir=tmp_path
    )
    assert isinstance(dev, DeviceTransport)
    virtual = make_transport(PrinterConfig(name="demo", transport="virtual"), state_dir=tmp_path)
    assert isinstance(virtual, VirtualTransport)
    assert virtual.directory == tmp_path / "virtual" / "demo"
    explicit = make_transport(
        PrinterConfig(name="demo", transport="virtual", directory=str(tmp_path / "x")),
        state_dir=tmp_path,
    )
    assert isinstance(explicit, VirtualTransport)
    assert explicit.directory == tmp_path / "x"
    with pytest.raises(ConfigError, match="host"):
        make_transport(PrinterConfig(name="kitchen"), state_dir=tmp_path)
    with pytest.raises(ConfigError, match="device"):
        make_transport(PrinterConfig(name="bar", transport="device"), state_dir=tmp_path)
