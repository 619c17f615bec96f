"""Build the transport a ``[[printers]]`` config entry asks for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wixprint.config import PrinterConfig
from wixprint.errors import ConfigError
from wixprint.printing.base import Transport
from wixprint.printing.device import DeviceTransport
from wixprint.printing.network import NetworkTransport
from wixprint.printing.virtual import VirtualTransport

__all__ = ["make_transport", "virtual_directory"]


def virtual_directory(printer: PrinterConfig, state_dir: Path) -> Path:
    """Where a virtual printer writes: its ``directory``, else ``<state_dir>/virtual/<name>``."""
    if printer.directory:
        return Path(printer.directory)
    return Path(state_dir) / "virtual" / printer.name


def make_transport(
    printer: PrinterConfig,
    *,
    state_dir: Path,
    echo: Callable[[str], None] | None = None,
) -> Transport:
    """A transport for *printer*; *echo* receives virtual printers' ticket previews.

    Raises:
        ConfigError: a network printer without ``host`` or a device printer without ``device``.
    """
    key = f"printers[{printer.name}]"
    if printer.transport == "network":
        if not printer.host:
            raise ConfigError([f'{key}.host: required for transport = "network"'])
        return NetworkTransport(
            printer.name,
            printer.host,
            printer.port,
            connect_timeout=printer.connect_timeout,
            send_timeout=printer.send_timeout,
            reply_timeout=printer.reply_timeout,
            status_timeout=printer.status_timeout,
            proof=printer.proof,
        )
    if printer.transport == "device":
        if not printer.device:
            raise ConfigError([f'{key}.device: required for transport = "device"'])
        return DeviceTransport(printer.name, printer.device, send_timeout=printer.send_timeout)
    return VirtualTransport(printer.name, virtual_directory(printer, state_dir), echo=echo)
