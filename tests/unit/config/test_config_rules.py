"""Semantic rules: each bad value is refused with its key path; each good one is accepted."""

from __future__ import annotations

import pytest

from tests.unit.config.helpers import MINIMAL, problems_of
from wixprint.config import load_config_text

BAD = [
    ('[service]\ntimezone = "Europe/Berln"', "service.timezone: unknown time zone 'Europe/Berln'"),
    ('[service]\ntimezone = "../etc/passwd"', "service.timezone: unknown time zone"),
    ("[service]\nstop_timeout = 0", "service.stop_timeout: must be a positive"),
    ("[service]\nclock_skew_limit = 1", "service.clock_skew_limit: must be between 10 and 86400"),
    ("[http]\nport = 70000", "http.port: must be between 0 and 65535"),
    ("[http]\nport = -1", "http.port: must be between 0 and 65535"),
    ("[http]\npublic_port = 65536", "http.public_port: must be between 0 and 65535"),
    (
        '[http]\nport = 8000\npublic_host = "127.0.0.1"\npublic_port = 8000',
        "http.public_port: must differ from http.port",
    ),
    ("[http]\nmax_connections = 2", "http.max_connections: must be between 4 and 4096"),
    ("[http]\nmax_websockets = 40", "http.max_websockets: must be between 0 and 32"),
    ("[http]\nread_timeout = 0.5", "http.read_timeout: must be between 1 and 300"),
    ('[http]\nallowed_hosts = ["pi.lan:8000"]', "http.allowed_hosts[0]: not a host name"),
    (
        '[http]\nallowed_origins = ["pi.example.com"]',
        "http.allowed_origins[0]: expected scheme://host[:port]",
    ),
    (
        '[http]\nallowed_origins = ["https://pi.example.com/"]',
        "http.allowed_origins[0]: expected scheme://host[:port]",
    ),
    ("[wix]\npoll_interval = 0", "wix.poll_interval: must be a positive"),
    ("[wix]\npoll_interval = -5.0", "wix.poll_interval: must be a positive"),
    ("[wix]\npoll_interval = inf", "wix.poll_interval: must be a positive"),
    ("[wix]\nprint_statuses = []", "wix.print_statuses: must name at least one"),
    ('[wix]\nprint_statuses = ["APROVED"]', "wix.print_statuses[0]: unknown status 'APROVED'"),
    ('[wix]\nnot_before = "last tuesday"', "wix.not_before: not an ISO-8601 time"),
    ('[wix]\nbase_url = "wixapis.com"', "wix.base_url: must be an http:// or https:// URL"),
    ("[wix]\nrequest_timeout = 0", "wix.request_timeout: must be a positive"),
    ("[wix]\npage_limit = 500", "wix.page_limit: must be between 1 and 100"),
    ("[wix]\nprint_apps = []", "wix.print_apps: must name at least one kind or app id"),
    ('[wix]\nprint_apps = ["food"]', "wix.print_apps[0]: 'food' is neither a Wix app id nor"),
    ('[wix]\nprint_apps = ["other"]', "wix.print_apps[0]: 'other' is neither"),
    ('[layout]\nunknown = ["kitchen", "driver"]', "layout.unknown: no driver slip"),
    ("[layout]\ncopies = { kitchen = 6 }", "layout.copies.kitchen: must be between 1 and 5"),
    ("[layout]\ncopies = { kitchen = 0 }", "layout.copies.kitchen: must be between 1 and 5"),
    ("[layout]\ncopies = { bar = 2 }", "layout.copies.bar: not a receipt kind"),
    ('[alerts]\nquiet_hours = "22-06"', 'alerts.quiet_hours: expected "HH:MM-HH:MM"'),
    ('[alerts]\nquiet_hours = "24:00-06:00"', 'alerts.quiet_hours: expected "HH:MM-HH:MM"'),
    ('[alerts]\nquiet_hours = "06:00-06:00"', "alerts.quiet_hours: start and end must differ"),
    ("[alerts]\nrepeat_every = 0", "alerts.repeat_every: must be a positive"),
    ("[alerts]\nprinter_offline_after = -1", "alerts.printer_offline_after: must be between"),
    ('[smtp]\nhost = "127.0.0.1"', "smtp.sender: required when smtp.host is set"),
    ('[smtp]\nhost = "127.0.0.1"', "smtp.recipients: at least one recipient required"),
    (
        '[smtp]\nhost = "127.0.0.1"\nsender = "pi@example.com"\nrecipients = ["owner"]',
        "smtp.recipients[0]: not an e-mail address",
    ),
    (
        '[smtp]\nhost = "h"\nsender = "a@b"\nrecipients = ["c@d"]\nusername = "u"',
        "smtp.password: required when smtp.username is set",
    ),
    ("[smtp]\ntimeout = -1", "smtp.timeout: must be a positive"),
    (
        '[connectivity]\ninternet_target = "example.com"',
        'connectivity.internet_target: expected "host:port"',
    ),
    ("[connectivity]\nconfirm = 0", "connectivity.confirm: must be between 1 and 100"),
    ("[monitor]\ninterval = 0", "monitor.interval: must be a positive"),
]


@pytest.mark.parametrize(("snippet", "expected"), BAD)
def test_bad_value_is_refused_with_its_key_path(snippet: str, expected: str) -> None:
    found = problems_of(MINIMAL + snippet + "\n")
    assert any(line.startswith(expected) for line in found), found


GOOD = [
    '[service]\ntimezone = "America/New_York"',
    "[http]\nport = 0",
    '[http]\nport = 0\npublic_host = "127.0.0.1"\npublic_port = 0',
    '[http]\nallowed_hosts = ["gasthaus-pi.lan", "pi"]\nallowed_origins = ["https://pi.example.com"]',
    '[http]\nallowed_origins = ["http://192.168.1.20:8000"]',
    '[wix]\nnot_before = "2024-05-01T10:00:00Z"',
    '[wix]\nnot_before = "2024-05-01T10:00:00+02:00"',
    '[wix]\nprint_statuses = ["APPROVED", "CANCELED"]',
    '[wix]\nprint_statuses = ["APPROVED", "PENDING"]',
    '[wix]\nprint_apps = ["restaurants", "gift_cards", "f9c07de2-5341-40c6-b096-8eb39de391fb"]',
    '[layout]\nunknown = ["kitchen"]',
    '[alerts]\nquiet_hours = "22:00-06:30"',
    "[alerts]\nprinter_offline_after = 0",
    "[layout]\ncopies = { kitchen = 2, driver = 1, customer = 5 }",
    '[smtp]\nhost = "127.0.0.1"\nsender = "pi@example.com"\nrecipients = ["owner@example.com"]',
    '[connectivity]\ninternet_target = "127.0.0.1:443"',
]


@pytest.mark.parametrize("snippet", GOOD)
def test_good_value_is_accepted(snippet: str) -> None:
    load_config_text(MINIMAL + snippet + "\n")


def _printer(body: str, name: str = "p") -> str:
    return f'[[printers]]\nname = "{name}"\n{body}\n'


PRINTER_BAD = [
    ('transport = "network"', 'printers[0].host: required when transport = "network"'),
    ('transport = "device"', 'printers[0].device: required when transport = "device"'),
    ('transport = "virtual"\nreceipts = []', "printers[0].receipts: must name at least one"),
    ('host = "h"\nport = 0', "printers[0].port: must be between 1 and 65535"),
    ('host = "h"\ncolumns = 5', "printers[0].columns: must be between 20 and 100"),
    ('host = "h"\ncodepage = "CP9999"', "printers[0].codepage: unknown code page 'CP9999'"),
    ('host = "h"\nconnect_timeout = 0', "printers[0].connect_timeout: must be a positive"),
    ('host = "h"\nsend_timeout = -1', "printers[0].send_timeout: must be a positive"),
    ('host = "h"\nreply_timeout = 0', "printers[0].reply_timeout: must be a positive"),
    ('host = "h"\nprobe_interval = 0', "printers[0].probe_interval: must be a positive"),
]


@pytest.mark.parametrize(("body", "expected"), PRINTER_BAD)
def test_bad_printer_is_refused(body: str, expected: str) -> None:
    found = problems_of(_printer(body))
    assert any(line.startswith(expected) for line in found), found


def test_printer_names_must_be_non_empty_and_unique() -> None:
    text = (
        _printer('host = "h"', name="kitchen")
        + _printer('host = "h"', name="kitchen")
        + _printer('host = "h"', name="")
        + _printer('host = "h"', name="a/b")
    )
    assert problems_of(text) == [
        "printers[1].name: duplicate printer name 'kitchen'",
        "printers[2].name: must not be empty",
        "printers[3].name: no slashes, control characters or outer spaces",
    ]


def test_every_transport_with_its_target_is_accepted() -> None:
    config = load_config_text(
        _printer('host = "127.0.0.1"', name="a")
        + _printer('transport = "device"\ndevice = "/dev/usb/lp0"', name="b")
        + _printer('transport = "virtual"\nreceipts = ["driver", "customer"]', name="c")
    )
    assert [p.transport for p in config.printers] == ["network", "device", "virtual"]
    assert config.printers[2].receipts == ["driver", "customer"]
