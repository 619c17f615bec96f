"""Printer transports (network, device, virtual) and the ESC/POS status protocol.

Import what you need from here; the submodules stay importable for the details.
"""

from __future__ import annotations

from wixprint.printing.base import Confirmation, ProofMode, StatusCallback, Transport
from wixprint.printing.capabilities import Capabilities, identify_printer
from wixprint.printing.decode import DecodedTicket, TicketDecoder, Tokenizer, decode_tickets
from wixprint.printing.device import DeviceTransport, DeviceTransportStatistics
from wixprint.printing.factory import make_transport, virtual_directory
from wixprint.printing.network import NetworkTransport, NetworkTransportStatistics
from wixprint.printing.profiles import PROFILES, PrinterProfile, TicketLength, resolve_profile
from wixprint.printing.protocol import (
    ProcessIdReply,
    ReplyParser,
    StatusByte,
    job_tag,
    parse_status,
    process_id_request,
    tag_owner,
)
from wixprint.printing.virtual import VirtualTransport, VirtualTransportStatistics, render_preview
from wixprint.vocabulary import UNKNOWN, PrinterStatus

__all__ = [
    "PROFILES",
    "UNKNOWN",
    "Capabilities",
    "Confirmation",
    "DecodedTicket",
    "DeviceTransport",
    "DeviceTransportStatistics",
    "NetworkTransport",
    "NetworkTransportStatistics",
    "PrinterProfile",
    "PrinterStatus",
    "ProcessIdReply",
    "ProofMode",
    "ReplyParser",
    "StatusByte",
    "StatusCallback",
    "TicketDecoder",
    "TicketLength",
    "Tokenizer",
    "Transport",
    "VirtualTransport",
    "VirtualTransportStatistics",
    "decode_tickets",
    "identify_printer",
    "job_tag",
    "make_transport",
    "parse_status",
    "process_id_request",
    "render_preview",
    "resolve_profile",
    "tag_owner",
    "virtual_directory",
]
