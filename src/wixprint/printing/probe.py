"""Printer discovery, the Trio shell: probe addresses on TCP 9100 and list USB printers.

Each probe is one short connection (a printer serves one client at a time, escpos.md §4):
connect within ``connect_timeout``, ask DLE EOT 1-4, then ``GS I 67`` and ``GS I 66``, each
within ``reply_timeout``, close. Nothing printable is sent. At most ``concurrency`` probes
run at once, so a /24 takes about a second and a /22 a few.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import ipaddress
import socket
import struct
from collections.abc import Sequence
from pathlib import Path

import trio

from wixprint.printing.protocol import dle_eot, is_status_byte, parse_status, printer_info_request
from wixprint.printing.scan import (
    GS_I_MANUFACTURER,
    GS_I_MODEL,
    PRINTER_PORT,
    FoundPrinter,
    parse_device_id,
    parse_info_reply,
)
from wixprint.vocabulary import PrinterStatus

__all__ = ["list_usb_printers", "local_networks", "probe_printer", "scan_printers"]

CONNECT_TIMEOUT = 0.8
REPLY_TIMEOUT = 0.5
CONCURRENCY = 64
_SIOCGIFADDR = 0x8915
_SIOCGIFNETMASK = 0x891B


async def _read_until(stream: trio.SocketStream, buf: bytearray, want: int) -> bool:
    """Receive into ``buf`` until it holds ``want`` bytes; False if the peer closed."""
    while len(buf) < want:
        data = await stream.receive_some(256)
        if not data:
            return False
        buf += data
    return True


async def _status(stream: trio.SocketStream) -> PrinterStatus | None:
    replies: list[int] = []
    for n in (1, 2, 3, 4):
        await stream.send_all(dle_eot(n))
        buf = bytearray()
        if not await _read_until(stream, buf, 1) or not is_status_byte(buf[0]):
            return None
        replies.append(buf[0])
    return parse_status(*replies)


async def _info(stream: trio.SocketStream, n: int) -> str | None:
    buf = bytearray()
    await stream.send_all(printer_info_request(n))
    while (reply := parse_info_reply(bytes(buf))) is None:
        if not await _read_until(stream, buf, len(buf) + 1):
            return None
    return reply[0]


async def _ask(stream: trio.SocketStream, reply_timeout: float) -> FoundPrinter:
    status = model = maker = None
    with trio.move_on_after(reply_timeout):
        status = await _status(stream)
    if status is not None:  # a silent peer is not worth two more waits
        with trio.move_on_after(reply_timeout):
            model = await _info(stream, GS_I_MODEL)
        with trio.move_on_after(reply_timeout):
            maker = await _info(stream, GS_I_MANUFACTURER)
    return FoundPrinter(model=model, manufacturer=maker, status=status)


async def probe_printer(
    host: str,
    port: int = PRINTER_PORT,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    reply_timeout: float = REPLY_TIMEOUT,
) -> FoundPrinter | None:
    """What answers on ``host:port``, or ``None`` when nothing accepts the connection."""
    stream: trio.SocketStream | None = None
    with trio.move_on_after(connect_timeout), contextlib.suppress(OSError):
        stream = await trio.open_tcp_stream(host, port)
    if stream is None:
        return None
    answer = FoundPrinter()
    async with stream:
        with contextlib.suppress(OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            answer = await _ask(stream, reply_timeout)
    return dataclasses.replace(answer, host=host, port=port)


async def scan_printers(
    hosts: Sequence[str],
    port: int = PRINTER_PORT,
    *,
    concurrency: int = CONCURRENCY,
    connect_timeout: float = CONNECT_TIMEOUT,
    reply_timeout: float = REPLY_TIMEOUT,
) -> list[FoundPrinter]:
    """Probe every host at once (at most ``concurrency`` in flight); answers in host order."""
    limiter = trio.CapacityLimiter(concurrency)
    found: dict[int, FoundPrinter] = {}

    async def one(index: int, host: str) -> None:
        async with limiter:
            printer = await probe_printer(
                host, port, connect_timeout=connect_timeout, reply_timeout=reply_timeout
            )
        if printer is not None:
            found[index] = printer

    async with trio.open_nursery() as nursery:
        for index, host in enumerate(hosts):
            nursery.start_soon(one, index, host)
    return [found[i] for i in sorted(found)]


def _ioctl_address(sock: socket.socket, request: int, name: str) -> str:
    packed = struct.pack("256s", name.encode()[:15])
    return socket.inet_ntoa(fcntl.ioctl(sock.fileno(), request, packed)[20:24])


def local_networks() -> list[str]:
    """This machine's IPv4 subnets (loopback aside), each narrowed to at most a /24.

    A wider LAN (a /16 at home routers is rare, but exists) is scanned around our own
    address: printers usually sit near the router's DHCP range.
    """
    networks: dict[str, None] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            try:
                address = _ioctl_address(sock, _SIOCGIFADDR, name)
                mask = _ioctl_address(sock, _SIOCGIFNETMASK, name)
            except OSError:  # no IPv4 address on this interface
                continue
            interface = ipaddress.IPv4Interface(f"{address}/{mask}")
            if interface.ip.is_loopback or interface.ip.is_link_local:
                continue
            network = interface.network
            if network.prefixlen < 24:
                network = ipaddress.IPv4Interface(f"{address}/24").network
            networks.setdefault(str(network))
    return list(networks)


def list_usb_printers(
    dev: Path = Path("/dev/usb"), sys_class: Path | None = None
) -> list[FoundPrinter]:
    """``/dev/usb/lp*`` devices, with make and model from the kernel's IEEE 1284 id."""
    sys_class = sys_class or Path("/sys/class/usbmisc")
    found = []
    for device in sorted(dev.glob("lp*")):
        maker = model = None
        with contextlib.suppress(OSError):
            text = (sys_class / device.name / "device" / "ieee1284_id").read_text(
                "ascii", "replace"
            )
            maker, model = parse_device_id(text)
        found.append(FoundPrinter(device=str(device), model=model, manufacturer=maker))
    return found
