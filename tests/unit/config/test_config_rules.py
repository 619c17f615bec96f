"""Semantic rules: each bad value is refused with its key path; each good one is accepted."""

from __future__ import annotations

import tomllib

import pytest

from tests.unit.config.helpers import MINIMAL, problems_of
from wixprint.config import config_warnings, load_config_text

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
    ('[wix]\nautomation_token = "short"', "wix.automation_token: must be 16 to 200 characters"),
    (
        '[wix]\nautomation_token = "with a space in it, long enough"',
        "wix.automation_token: must be 16 to 200",
    ),
    ('[wix]\nwebhook_instance_ids = ["my-site"]', "wix.webhook_instance_ids[0]: not an instance"),
    (
        '[wix]\nrestaurants_app_only = true\nprint_apps = ["custom"]',
        "wix.restaurants_app_only: only orders with a Wix Restaurants item",
    ),
    ("[layout]\npreorder_lead = 0", "layout.preorder_lead: must be between"),
    ("[layout]\npreorder_lead = 20000", "layout.preorder_lead: must be between"),
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
    '[wix]\nautomation_token = "owner-push-0123456789abcdef"\nlocation_id = "Berlin Mitte"',
    '[wix]\nwebhook_instance_ids = ["bb30d95e-5d92-5f8f-917a-6fae43e5ae9d"]',
    "[layout]\npreorder_lead = 90\npreorder_notice = false",
]


@pytest.mark.parametrize("snippet", GOOD)
def test_good_value_is_accepted(snippet: str) -> None:
    """Accepted, and in effect: every key of the snippet reads back as written (money and
    times as TOML gives them; tables as mappings), and differs from the default, so a rule
    that silently replaced the value could not pass."""
    config = load_config_text(MINIMAL + snippet + "\n")
    default = load_config_text(MINIMAL)
    for section, values in tomllib.loads(snippet).items():
        for key, written in values.items():
            value = getattr(getattr(config, section), key)
            assert _plain(value) == written, f"{section}.{key}"
            assert _plain(getattr(getattr(default, section), key)) != written, f"{section}.{key}"


def _plain(value: object) -> object:
    """A config value as TOML would spell it: sequences as lists, structs as dicts."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__struct_fields__"):
        return {f: _plain(getattr(value, f)) for f in value.__struct_fields__}
    return value


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
        _printer('host = "h1"', name="kitchen")
        + _printer('host = "h2"', name="kitchen")
        + _printer('host = "h3"', name="")
        + _printer('host = "h4"', name="a/b")
    )
    assert problems_of(text) == [
        "printers[1].name: duplicate printer name 'kitchen'",
        "printers[2].name: must not be empty",
        "printers[3].name: no slashes, control characters or outer spaces",
    ]


def test_one_printer_is_one_entry() -> None:
    """Two entries on one printer would each clear and prove jobs unaware of the other."""
    text = (
        _printer('host = "192.168.1.50"', name="kitchen")
        + _printer('host = "192.168.1.50"\nport = 9101', name="bar")  # another port: fine
        + _printer('host = "192.168.1.50 "\nreceipts = ["driver"]', name="driver")
        + _printer('transport = "device"\ndevice = "/dev/usb/lp0"', name="a")
        + _printer('transport = "device"\ndevice = "/dev/usb/lp0"', name="b")
    )
    assert problems_of(text) == [
        "printers[2].host: the same printer as 'kitchen': one [[printers]] entry per printer "
        "(list every receipt kind it prints in its receipts)",
        "printers[4].device: the same printer as 'a': one [[printers]] entry per printer "
        "(list every receipt kind it prints in its receipts)",
    ]


def test_every_transport_with_its_target_is_accepted() -> None:
    config = load_config_text(
        _printer('host = "127.0.0.1"', name="a")
        + _printer('transport = "device"\ndevice = "/dev/usb/lp0"', name="b")
        + _printer('transport = "virtual"\nreceipts = ["driver", "customer"]', name="c")
    )
    assert [p.transport for p in config.printers] == ["network", "device", "virtual"]
    assert config.printers[2].receipts == ["driver", "customer"]


def test_a_printer_of_another_location_than_the_pis_is_refused() -> None:
    text = '[wix]\nlocation_id = "Mitte"\n' + _printer('host = "h"\nlocation = "Kreuzberg"')
    found = problems_of(text)
    assert any(line.startswith("printers[0].location: never prints") for line in found), found
    # An id and a name may name the same location: allowed.
    same = '[wix]\nlocation_id = "Mitte"\n' + _printer(
        'host = "h"\nlocation = "5a1c7e0b-3f3a-4c55-9d4e-8b7a6c5d4e3f"'
    )
    load_config_text(same)


def test_signed_webhooks_without_an_instance_list_warn() -> None:
    pem = "-----BEGIN PUBLIC KEY-----"
    config = load_config_text(MINIMAL)
    assert config_warnings(config) == []
    wix = config.wix.__class__(webhook_public_key=pem)
    warned = config_warnings(config.__class__(wix=wix))
    assert len(warned) == 1
    assert warned[0].startswith("wix.webhook_instance_ids: empty")
