from __future__ import annotations

from pathlib import Path

import pytest

from wixprint.printing.probe import list_usb_printers
from wixprint.printing.protocol import printer_info_request
from wixprint.printing.scan import (
    FoundPrinter,
    parse_device_id,
    parse_info_reply,
    scan_targets,
    status_text,
)
from wixprint.vocabulary import PrinterStatus


def test_gs_i_request_and_reply() -> None:
    assert printer_info_request(67) == b"\x1d\x49\x43"
    assert parse_info_reply(b"\x5fTM-m30III\x00rest") == ("TM-m30III", 11)
    assert parse_info_reply(b"\x5fTM-m3") is None
    assert parse_info_reply(b"\x12\x5fEPSON\x00") == ("EPSON", 8)  # a stray status byte first
    assert parse_info_reply(b"\x12" * 80) == (None, 80)
    with pytest.raises(ValueError):
        printer_info_request(1)


def test_scan_targets_hosts_and_limits() -> None:
    assert scan_targets(["127.0.0.0/29"]) == [f"127.0.0.{i}" for i in range(1, 7)]
    assert scan_targets(["10.0.0.7", "10.0.0.6/31", "10.0.0.7/32"]) == ["10.0.0.7", "10.0.0.6"]
    assert len(scan_targets(["10.1.0.0/22"])) == 1022
    with pytest.raises(ValueError, match="more than a /22"):
        scan_targets(["10.1.0.0/21"])
    with pytest.raises(ValueError, match="only IPv4"):
        scan_targets(["fe80::/120"])


def test_status_words_worst_first() -> None:
    assert status_text(None) == "no status reply"
    assert status_text(PrinterStatus(online=False, paper="out", cover_open=True)) == "cover open"
    assert status_text(PrinterStatus(online=False, paper="out")) == "paper out"
    assert status_text(PrinterStatus(online=True, paper="near_end")) == "ready, paper near end"
    assert status_text(PrinterStatus(online=True, paper="ok")) == "ready"


def test_usb_printers_named_by_their_ieee_1284_id(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "lp0").touch()
    (dev / "lp1").touch()
    sys_class = tmp_path / "usbmisc"
    (sys_class / "lp0" / "device").mkdir(parents=True)
    (sys_class / "lp0" / "device" / "ieee1284_id").write_text(
        "MFG:EPSON;CMD:ESC/POS;MDL:TM-T88VI;CLS:PRINTER;"
    )
    found = list_usb_printers(dev, sys_class)
    assert [(p.where, p.manufacturer, p.model, p.profile.name) for p in found] == [
        (str(dev / "lp0"), "EPSON", "TM-T88VI", "TM-T88VI"),
        (str(dev / "lp1"), None, None, "generic-80mm"),
    ]
    assert parse_device_id("MANUFACTURER:Star;MODEL:TSP100;") == ("Star", "TSP100")


def test_where_shows_a_port_only_when_it_is_not_9100() -> None:
    assert FoundPrinter(host="10.0.0.5").where == "10.0.0.5"
    assert FoundPrinter(host="10.0.0.5", port=9101).where == "10.0.0.5:9101"
